"""Training: epochs to a designated loss, fast for full-batch runs of many thousand epochs."""

import contextlib
import dataclasses

import keras
import numpy as np
from keras import ops

from dfp._backend import PRECISIONS, dtype_policy, matmul_precision

__all__ = [
    "Diverged",
    "LOSSES",
    "LossRun",
    "OPTIMIZERS",
    "PRECISIONS",
    "Progress",
    "Snapshots",
    "Spectra",
    "StopAtLoss",
    "describe_epochs",
    "epochs_to_loss",
    "fit_with_spectra",
    "median_epochs",
    "paper_learning_rate",
    "spectra_of_snapshots",
    "train_deep_network",
    "train_resnet_variants",
    "train_to_loss",
]


@dataclasses.dataclass
class LossRun:
    """What ``train_to_loss`` measured.

    Attributes:
        epochs: the number of full-batch updates after which the training loss first fell
            below the threshold, or None when ``max_epochs`` updates did not get there.
        losses: the training loss before each update, losses[e] after e updates (float32).
    """

    epochs: int | None
    losses: np.ndarray


def train_to_loss(
    model, x, y, *, threshold, max_epochs, learning_rate=1e-3, chunk=1000, spectra=None
):
    """Full-batch Adam on the mean squared error until the loss falls below ``threshold``,
    in full float32 (TensorFloat-32 off).

    One epoch is one update on the whole set. The loss is evaluated before every update;
    training stops at the first epoch e whose loss is below the threshold, with exactly e
    updates applied. Under TensorFlow the updates run ``chunk`` at a time inside one
    compiled loop (measured here about 30x faster than ``model.fit`` per epoch, whose
    per-epoch overhead dominates a 201-point problem); other backends use
    ``model.train_on_batch``, which is slower but gives the same epochs.

    Args:
        model: a Keras model, trained in place.
        x, y: the training set, arrays of shape (n, d_in) and (n, d_out).
        threshold: the designated loss, positive.
        max_epochs: the most updates to apply.
        learning_rate: Adam's learning rate.
        chunk: updates per compiled call (TensorFlow).
        spectra: an optional ``Spectra`` callback, recorded at its epochs (the compiled
            chunks end exactly there) and at the end.

    Returns:
        A ``LossRun``.
    """
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"x and y must be 2-D with the same number of points, got {x.shape} and {y.shape}"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x or y contains NaN or inf")
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be positive, got {threshold}")
    if int(max_epochs) != max_epochs or max_epochs < 1:
        raise ValueError(f"max_epochs must be a positive integer, got {max_epochs}")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    optimizer.build(model.trainable_variables)
    if spectra is not None:
        spectra.set_model(model)
        spectra.on_train_begin()
    # Full float32 (TensorFloat-32 off), as every run without a precision parameter.
    with matmul_precision("float32"):
        if keras.backend.backend() == "tensorflow":
            run = _train_tensorflow(
                model, optimizer, x, y, float(threshold), int(max_epochs), int(chunk), spectra
            )
        else:
            run = _train_generic(model, optimizer, x, y, float(threshold), int(max_epochs), spectra)
    if spectra is not None:
        spectra.on_train_end()
    return run


def _mse(model, x, y):
    return ops.mean(ops.square(model(x, training=True) - y))


def _train_tensorflow(model, optimizer, x, y, threshold, max_epochs, chunk, spectra):
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def run(x, y, steps):
        losses = tf.TensorArray(tf.float32, size=steps)
        step = tf.constant(0)
        reached = tf.constant(False)
        while step < steps and not reached:
            with tf.GradientTape() as tape:
                loss = _mse(model, x, y)
            losses = losses.write(step, loss)
            reached = loss < threshold
            if not reached:
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply(grads, model.trainable_variables)
            step += 1
        return losses.stack()[:step], reached

    x, y = tf.constant(x), tf.constant(y)
    with _quiet_retracing():
        return _run_chunks(
            run, lambda: float(_mse(model, x, y)), threshold, x, y, max_epochs, chunk, spectra
        )


@contextlib.contextmanager
def _quiet_retracing():
    """Every new model compiles its own functions, and TensorFlow warns about "retracing"
    after a few models; that is expected here, so its logger is quietened meanwhile."""
    if keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def _run_chunks(run, evaluate, threshold, x, y, max_epochs, chunk, spectra):
    import tensorflow as tf

    history = []
    # After a chunk that did not reach the threshold, `done` losses were evaluated and
    # `done` updates applied: the model is at epoch `done`.
    done = 0
    while done < max_epochs:
        steps = min(chunk, max_epochs - done)
        if spectra is not None:
            upcoming = [e for e in spectra.epochs if e > done]
            if upcoming:
                steps = min(steps, upcoming[0] - done)
        losses, reached = run(x, y, tf.constant(steps))
        losses = losses.numpy()
        _check_finite(losses, done, np.concatenate(history) if history else ())
        history.append(losses)
        done += len(losses)
        if bool(reached):
            _at_epoch(spectra, done - 1)
            return LossRun(done - 1, np.concatenate(history))
        _at_epoch(spectra, done)
    # The loss after the last allowed update, which is not followed by another.
    final = evaluate()
    _check_finite(np.array([final]), max_epochs, np.concatenate(history))
    history.append(np.array([final], np.float32))
    return LossRun(max_epochs if final < threshold else None, np.concatenate(history))


def _at_epoch(spectra, epoch):
    # The model has had `epoch` updates: the same bookkeeping as fit's on_epoch_end.
    if spectra is not None:
        spectra.on_epoch_end(epoch - 1)


def _train_generic(model, optimizer, x, y, threshold, max_epochs, spectra):
    x, y = ops.convert_to_tensor(x), ops.convert_to_tensor(y)
    model.compile(optimizer=optimizer, loss="mse")
    losses = []
    for epoch in range(max_epochs + 1):
        loss = float(ops.convert_to_numpy(_mse(model, x, y)))
        losses.append(loss)
        _check_finite(np.array([loss]), epoch)
        if loss < threshold:
            return LossRun(epoch, np.asarray(losses, np.float32))
        if epoch < max_epochs:
            model.train_on_batch(x, y)
            _at_epoch(spectra, epoch + 1)
    return LossRun(None, np.asarray(losses, np.float32))


class Diverged(FloatingPointError):
    """The training loss became NaN or inf: the run diverged (its learning rate is too large
    for the network), a finding to report rather than a number to plot.

    Attributes:
        epoch: the epoch (counted from 1) whose loss was not finite.
        losses: the finite losses of the epochs before it.
        seconds: the training time up to it.
    """

    def __init__(self, epoch, loss, losses=(), seconds=0.0):
        super().__init__(f"the training loss became {loss} at epoch {epoch}")
        self.epoch, self.losses, self.seconds = int(epoch), np.asarray(losses, np.float64), seconds


def _check_finite(losses, first_epoch, history=(), seconds=0.0):
    bad = np.nonzero(~np.isfinite(losses))[0]
    if bad.size:
        earlier = [*history, *losses[: bad[0]]]
        raise Diverged(first_epoch + bad[0], losses[bad[0]], earlier, seconds)


class StopAtLoss(keras.callbacks.Callback):
    """Stops ``model.fit`` at the end of the first epoch whose training loss is below a threshold.

    Attributes:
        epoch: that epoch, counted from 1 (the number of epochs trained), or None.
    """

    def __init__(self, threshold):
        super().__init__()
        if not (np.isfinite(threshold) and threshold > 0):
            raise ValueError(f"threshold must be positive, got {threshold}")
        self.threshold = float(threshold)
        self.epoch = None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            raise ValueError("StopAtLoss needs the training loss in the epoch logs")
        if loss < self.threshold and self.epoch is None:
            self.epoch = epoch + 1
            self.model.stop_training = True


def epochs_to_loss(
    x, y, *, hidden_layers, width, activation, seeds, relative_threshold, max_epochs, learning_rate
):
    """Train one fresh network per seed to a designated error; the epochs each took.

    The designated error is ``relative_threshold * Var(y)``, so that targets of different
    size are held to the same relative accuracy.

    Args:
        x, y: the training set, (n, 1) arrays.
        hidden_layers, width, activation: the network (``dfp.models.mlp``).
        seeds: one run per seed; the seed fixes the initialisation.
        relative_threshold: the designated error as a fraction of Var(y).
        max_epochs: the cap; a run that does not get there reports None.
        learning_rate: Adam's learning rate.

    Returns:
        A list with, for each seed, the epochs (int) or None when capped.
    """
    from dfp.models import mlp

    threshold = float(relative_threshold) * float(np.var(y))
    epochs = []
    for seed in seeds:
        keras.utils.set_random_seed(int(seed))
        model = mlp(
            x.shape[1],
            hidden_layers,
            width,
            activation=activation,
            output_dim=y.shape[1],
            seed=seed,
        )
        run = train_to_loss(
            model, x, y, threshold=threshold, max_epochs=max_epochs, learning_rate=learning_rate
        )
        epochs.append(run.epochs)
    return epochs


def median_epochs(epochs, cap):
    """Median over seeds, with capped runs (None) counted as ``cap``: a lower bound then."""
    values = [cap if e is None else e for e in epochs]
    if not values:
        raise ValueError("no runs to take a median of")
    return float(np.median(values))


def describe_epochs(label, epochs, cap):
    """'label: median m (e1, e2, >=cap)' for a claim's statistic."""
    runs = ", ".join(f">={cap}" if e is None else str(e) for e in epochs)
    median = median_epochs(epochs, cap)
    bound = ">=" if sum(e is None for e in epochs) * 2 >= len(epochs) else ""
    return f"{label}: median {bound}{median:.0f} ({runs})"


class _AtEpochs(keras.callbacks.Callback):
    """Calls ``_snapshot(epoch)`` at chosen epochs (0 = initialisation) and at the epoch at
    which training ends; between them it only compares an integer."""

    def __init__(self, epochs):
        super().__init__()
        epochs = sorted({int(e) for e in epochs})
        if not epochs or epochs[0] < 0:
            raise ValueError(f"epochs must be non-negative integers, got {epochs}")
        self.epochs, self.seconds, self._done, self._last_epoch = epochs, 0.0, set(), 0

    def on_train_begin(self, logs=None):
        if 0 in self.epochs:
            self._timed(0)

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch + 1
        if self._last_epoch in self.epochs and self._last_epoch not in self._done:
            self._timed(self._last_epoch)

    def on_train_end(self, logs=None):
        if self._last_epoch not in self._done:
            self._timed(self._last_epoch)

    def _timed(self, epoch):
        import time

        start = time.perf_counter()
        self._snapshot(epoch)
        self._done.add(epoch)
        self.seconds += time.perf_counter() - start

    # What a checkpoint keeps of the callback: the record so far and where it stands.
    _STATE = ("seconds",)

    def state(self):
        """The callback's record so far, for a checkpoint (``restore`` takes it back)."""
        kept = {name: getattr(self, name) for name in self._STATE}
        return dict(kept, done=sorted(self._done), last_epoch=self._last_epoch)

    def restore(self, state):
        """Continue from ``state()`` of an interrupted run: nothing recorded is recomputed."""
        for name in self._STATE:
            setattr(self, name, state[name])
        self._done, self._last_epoch = {int(e) for e in state["done"]}, int(state["last_epoch"])


class Spectra(_AtEpochs):
    """At chosen epochs, the LFR curve of S^[l] = {(f^[l](x_i), y_i)} for chosen layers.

    Keeps the curves, never the activations. Epoch 0 is the initialisation; the epoch at
    which training ends is always recorded too. Between chosen epochs the callback does
    nothing but compare an integer, so its cost is the snapshots alone (``seconds``).

    Args:
        x, y: the analysis set (inputs and the targets of the effective target function).
        layers: layer indices l (negative as in eq. 10), e.g. [1, 2, 3, 4, 5] or [-3].
        epochs: the epochs to record (0 = initialisation).
        inv_delta: the 1/delta grid shared by every curve, or "auto": chosen at the first
            snapshot by ``inv_delta_grid`` over all recorded layers, widened by
            ``pad_decades`` on each side because trained layers move.
        targets: "labels" for {(f^[l], y)}, or "output" for {(f^[l], f^[-1])} (Fig. 7).
        grid_points, spacing, pad_decades: for inv_delta="auto" (see ``inv_delta_grid``).
            The default pads one decade below (training moves effective targets to low
            frequency) and a third of a decade above.
        batch_size: for the forward pass over the analysis set.

    Attributes:
        curves: {epoch: {layer: LFR array on inv_delta}}.
        floors: {epoch: {layer: LFR floor}} (the targets' |mean|^2 / mean |.|^2).
        inv_delta: the grid.
        seconds: time spent in snapshots.
    """

    def __init__(
        self,
        x,
        y,
        layers,
        epochs,
        inv_delta="auto",
        *,
        targets="labels",
        grid_points=60,
        spacing="geometric",
        pad_decades=(1.0, 0.3),
        batch_size=1024,
    ):
        super().__init__(epochs)
        if targets not in ("labels", "output"):
            raise ValueError(f"targets must be 'labels' or 'output', got {targets!r}")
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} points but y has {len(y)}")
        if not isinstance(inv_delta, str):
            from dfp._checks import as_grid

            inv_delta = as_grid(inv_delta, increasing=True)
        elif inv_delta != "auto":
            raise ValueError(f"inv_delta must be a grid or 'auto', got {inv_delta!r}")
        self.x, self.y = np.asarray(x, np.float32), np.asarray(y, np.float32)
        self.layers, self.targets = list(layers), targets
        self.inv_delta, self.grid_points, self.pad_decades = inv_delta, grid_points, pad_decades
        self.spacing = spacing
        self.batch_size = batch_size
        self.curves, self.floors = {}, {}

    _STATE = ("seconds", "curves", "floors", "inv_delta")

    def record(self):
        """What ``fit_with_spectra`` returns of it: inv_delta, curves, floors, spectra_seconds."""
        return {
            "inv_delta": self.inv_delta,
            "curves": self.curves,
            "floors": self.floors,
            "spectra_seconds": self.seconds,
        }

    def _snapshot(self, epoch):
        from dfp.grids import inv_delta_grid
        from dfp.models import effective_target
        from dfp.spectral import lfr, lfr_floor

        wanted = self.layers + ([-1] if self.targets == "output" else [])
        # The spectra are always of float32 activations, with TensorFloat-32 off, whatever
        # the precision the network trains at.
        with _quiet_retracing(), matmul_precision("float32"):
            pairs = effective_target(
                _float32(self.model), self.x, self.y, wanted, batch_size=self.batch_size
            )
        if self.targets == "output":  # {(f^[l](x_i), f^[-1](x_i))}: the learning component's
            output = pairs.pop()[0]
            pairs = [(inputs, output) for inputs, _ in pairs]
        if isinstance(self.inv_delta, str):
            self.inv_delta = inv_delta_grid(
                pairs, points=self.grid_points, spacing=self.spacing, pad_decades=self.pad_decades
            )
        with matmul_precision("float32"):
            self.curves[epoch] = {
                l: lfr(f, t, self.inv_delta) for l, (f, t) in zip(self.layers, pairs)
            }
        self.floors[epoch] = {l: lfr_floor(t) for l, (_, t) in zip(self.layers, pairs)}


class Snapshots(_AtEpochs):
    """At chosen epochs, a copy of the model's weights, so that the trained network can be
    analysed afterwards on any 1/delta grid (``spectra_of_snapshots``) without training again.

    Args:
        epochs: the epochs to record (0 = initialisation); the last epoch is always recorded.

    Attributes:
        weights: {epoch: list of float32 arrays, as ``model.get_weights()``}.
    """

    def __init__(self, epochs):
        super().__init__(epochs)
        self.weights = {}

    _STATE = ("seconds", "weights")

    def record(self):
        """What ``fit_with_spectra`` returns of it: weights, spectra_seconds."""
        return {"weights": self.weights, "spectra_seconds": self.seconds}

    def _snapshot(self, epoch):
        self.weights[epoch] = [np.array(w, np.float32) for w in self.model.get_weights()]


def spectra_of_snapshots(model, weights, x, y, layers, **grid):
    """The ``Spectra`` of a finished run, from its ``Snapshots``: the curves a ``Spectra``
    callback would have recorded during training, on the grid given by ``grid``.

    Args:
        model: a model of the run's architecture (its weights are overwritten).
        weights: ``Snapshots.weights`` ({epoch: weights}).
        x, y: the analysis set.
        layers: layer indices l.
        **grid: ``Spectra``'s grid arguments (inv_delta, grid_points, spacing, pad_decades)
            and targets; with inv_delta="auto" the grid is proposed at the first epoch, as
            during training.

    Returns:
        ``Spectra.record()``: inv_delta, curves, floors, spectra_seconds.
    """
    if not weights:
        raise ValueError("no snapshots to analyse")
    spectra = Spectra(x, y, layers, sorted(weights), **grid)
    spectra.set_model(model)
    for epoch in sorted(weights):
        model.set_weights(weights[epoch])
        spectra._timed(epoch)
    return spectra.record()


class Progress(keras.callbacks.Callback):
    """One line on stderr every ``every`` epochs: the epoch, the loss, the time per epoch and
    about how long is left. Visible in a terminal and in the workflow's log beside each
    executed notebook (papermill copies the kernel's stderr there); removed from the
    rendered book, which drops stderr.

    Args:
        every: epochs between lines.
        label: the line's prefix.
        epochs: the run's length (for the time left), if known.
    """

    def __init__(self, every=10, label="", epochs=None):
        super().__init__()
        self.every, self.label, self.total = int(every), label, epochs
        self._start, self._first = None, None

    def on_epoch_end(self, epoch, logs=None):
        import sys
        import time

        now = time.perf_counter()
        if self._start is None:  # the first epoch of this process (a resumed run's included)
            self._start, self._first = now, epoch
            return
        if (epoch + 1) % self.every:
            return
        per_epoch = (now - self._start) / (epoch - self._first)
        logs = logs or {}
        loss = logs.get("loss", float("nan"))
        line = f"{self.label} epoch {epoch + 1}"
        if self.total:
            left = (self.total - epoch - 1) * per_epoch
            line += f"/{self.total}"
        line += f": loss {loss:.5f}"
        if "val_accuracy" in logs:
            line += f", validation accuracy {logs['val_accuracy']:.4f}"
        line += f"; {per_epoch:.1f} s/epoch"
        if self.total:
            line += f", at most {left / 60:.0f} min left"
        print(line, file=sys.stderr, flush=True)


# A run checkpoints at the end of an epoch once this many seconds have passed since its last
# checkpoint (and at its end), so that an interrupted run loses at most about this much.
CHECKPOINT_SECONDS = 120.0


def _at_policy(model, policy):
    """A copy of ``model`` computing under the Keras dtype ``policy``, its output layer in
    float32 (a softmax in bfloat16 loses the small probabilities), holding model's weights."""
    last = model.layers[-1].name

    def clone(layer):
        config = layer.get_config()
        config["dtype"] = "float32" if layer.name == last else policy
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


# The float32 twin of each network trained at a lower precision, reused by its snapshots.
_TWINS = {}


def _float32(model):
    """``model`` if it computes in float32, else its float32 twin holding its weights now."""
    if all(layer.compute_dtype == "float32" for layer in model.layers):
        return model
    twin = _TWINS.get(id(model))
    if twin is None or twin[0]() is not model:
        import weakref

        twin = _TWINS[id(model)] = (weakref.ref(model), _at_policy(model, "float32"))
    twin[1].set_weights(model.get_weights())
    return twin[1]


def _fit_epochs(
    model,
    x,
    y,
    *,
    epochs,
    batch_size,
    seed,
    callbacks,
    stop=None,
    learning_rate=None,
    validation_data=None,
    progress=None,
):
    """``model.fit`` one epoch at a time, resumable: the loop behind every minibatch run.

    Each epoch sees the training set in the order ``permutation(seed, epoch)``, so a run
    resumed from a checkpoint takes exactly the steps an uninterrupted one takes. Inside
    ``dfp.runs.cached`` the run checkpoints (the model, the optimizer, the history and each
    callback's record) to ``dfp.runs.checkpoint_path()``, atomically, every
    ``CHECKPOINT_SECONDS``; started again, it continues from its last checkpoint.

    Args:
        model: a compiled Keras model.
        x, y: the training set.
        epochs: the most epochs.
        batch_size: minibatch size.
        seed: of the epochs' orders.
        callbacks: ``Spectra`` or ``Snapshots`` callbacks (at their epochs and at the end).
        stop: a ``StopAtLoss``, or None.
        learning_rate: None, or a function of the epoch (counted from 1) giving its rate.
        validation_data: (x, y) evaluated after each epoch (val_* in the history).
        progress: a ``Progress``, or None.

    Returns:
        (history {metric: list per epoch}, seconds of training over all resumptions).
    """
    import time

    from dfp.runs import checkpoint_path, read_checkpoint, write_checkpoint

    checkpoint = checkpoint_path()
    state = read_checkpoint(checkpoint) if checkpoint is not None else None
    for callback in [*callbacks, *([stop] if stop else [])]:
        callback.set_model(model)
    if state is None:
        epoch, history, seconds = 0, {}, 0.0
        for callback in callbacks:
            callback.on_train_begin()
    else:
        epoch, history, seconds = int(state["epoch"]), state["history"], float(state["seconds"])
        model.set_weights(state["weights"])
        model.optimizer.build(model.trainable_variables)
        for variable, value in zip(model.optimizer.variables, state["optimizer"], strict=True):
            variable.assign(value)
        for callback, kept in zip(callbacks, state["callbacks"], strict=True):
            callback.restore(kept)
        if stop is not None:
            stop.epoch = state["stop"]
        print(f"{progress.label if progress else ''} resumed after epoch {epoch}", flush=True)
    saved = time.perf_counter()
    finished = stop is not None and stop.epoch is not None
    while epoch < epochs and not finished:
        started = time.perf_counter()
        if learning_rate is not None:
            model.optimizer.learning_rate = learning_rate(epoch + 1)
        order = np.random.default_rng([int(seed), epoch]).permutation(len(x))
        logs = model.fit(
            x[order],
            y[order],
            batch_size=batch_size,
            epochs=1,
            verbose=0,
            shuffle=False,
            validation_data=validation_data,
        ).history
        logs = {key: float(values[-1]) for key, values in logs.items()}
        elapsed = seconds + time.perf_counter() - started
        _check_finite(np.array([logs["loss"]]), epoch + 1, history.get("loss", []), elapsed)
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        seconds += time.perf_counter() - started
        epoch += 1
        for callback in [*callbacks, *([stop] if stop else []), *([progress] if progress else [])]:
            callback.on_epoch_end(epoch - 1, logs)
        finished = stop is not None and stop.epoch is not None
        now = time.perf_counter()
        if checkpoint is not None and (now - saved >= CHECKPOINT_SECONDS or finished):
            write_checkpoint(
                checkpoint,
                {
                    "epoch": epoch,
                    "history": history,
                    "seconds": seconds,
                    "weights": model.get_weights(),
                    "optimizer": [np.array(v.numpy()) for v in model.optimizer.variables],
                    "callbacks": [callback.state() for callback in callbacks],
                    "stop": None if stop is None else stop.epoch,
                },
            )
            saved = now
    for callback in callbacks:
        callback.on_train_end()
    return history, seconds


OPTIMIZERS = {"adam": "Adam", "sgd": "SGD"}

# The losses a network with a linear output f^[L] is trained on: "mse" is Keras's (the mean
# over outputs, the paper's), "cross_entropy" is softmax cross-entropy on f^[L] as logits.
LOSSES = ("mse", "cross_entropy")


def _loss(name):
    if name == "mse":
        return "mse"
    if name == "cross_entropy":
        return keras.losses.CategoricalCrossentropy(from_logits=True)
    raise ValueError(f"unknown loss {name!r}; use one of {LOSSES}")


def fit_with_spectra(
    model,
    x,
    y,
    *,
    loss,
    learning_rate,
    batch_size,
    max_epochs,
    stop_loss,
    spectra,
    seed,
    label="",
    optimizer="adam",
    precision="float32",
):
    """``model.fit`` with Adam (or plain SGD) until the training loss < ``stop_loss`` (or
    ``max_epochs``), recording ``spectra`` (a ``Spectra`` callback) on the way.

    Resumable inside ``dfp.runs.cached`` (see ``_fit_epochs``): an interrupted run continues
    from its last checkpoint and gives the result of an uninterrupted one.

    Args:
        model: a Keras model (built by ``dfp.models``); it ends holding the trained weights.
        x, y: training set.
        loss: one of ``LOSSES``: "mse" (the mean over outputs, as Keras defines it) or
            "cross_entropy" (softmax cross-entropy, the model's linear output as logits).
        learning_rate, batch_size: Adam's learning rate and the minibatch size.
        max_epochs: the most epochs to train.
        stop_loss: stop at the end of the first epoch whose training loss is below it
            (None: train ``max_epochs``).
        spectra: a ``Spectra`` callback, or ``Snapshots`` to analyse later.
        seed: seeds the epochs' orders (and anything Keras draws at random).
        label: prefix of the progress lines (stderr).
        optimizer: "adam" or "sgd" (plain, no momentum).
        precision: one of ``PRECISIONS``: "float32" (TensorFloat-32 off), "tf32" or "bf16"
            (mixed bfloat16). The spectra are of float32 activations in every case.

    Returns:
        A dict: loss (per epoch), epochs (trained), stopped (bool), seconds (all training),
        precision, and the callback's ``record()`` (inv_delta, curves, floors, or weights;
        and spectra_seconds, the snapshots' share of the seconds).
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; use one of {sorted(OPTIMIZERS)}")
    policy = dtype_policy(precision)
    keras.utils.set_random_seed(int(seed))
    trained = model if policy == "float32" else _at_policy(model, policy)
    trained.compile(
        optimizer=getattr(keras.optimizers, OPTIMIZERS[optimizer])(learning_rate=learning_rate),
        loss=_loss(loss),
    )
    stop = None if stop_loss is None else StopAtLoss(stop_loss)
    with matmul_precision(precision):
        history, seconds = _fit_epochs(
            trained,
            np.asarray(x),
            np.asarray(y),
            epochs=int(max_epochs),
            batch_size=batch_size,
            seed=seed,
            callbacks=[spectra],
            stop=stop,
            progress=Progress(every=10, label=label, epochs=int(max_epochs)),
        )
    if trained is not model:
        model.set_weights(trained.get_weights())
    losses = np.asarray(history["loss"], np.float64)
    return {
        "loss": losses,
        "epochs": len(losses),
        "stopped": stop is not None and stop.epoch is not None,
        "seconds": seconds,
        "precision": precision,
        **spectra.record(),
    }


def paper_learning_rate(epoch, epochs):
    """The paper's Resnet18 schedule, scaled to ``epochs``: 1e-3, then 1e-4, then 1e-5.

    The paper trains 80 epochs: 1e-3 for epochs 1-40, 1e-4 for 41-60, 1e-5 for 61-80. A run
    of E epochs keeps the 2:1:1 proportion: 1e-3 up to E/2, 1e-4 up to 3E/4, then 1e-5.

    Args:
        epoch: the epoch, counted from 1.
        epochs: E, the run's length.
    """
    if int(epochs) != epochs or epochs < 1 or not 1 <= epoch <= epochs:
        raise ValueError(f"epoch must lie in 1 ... epochs, got epoch={epoch}, epochs={epochs}")
    if epoch <= epochs * 40 / 80:
        return 1e-3
    if epoch <= epochs * 60 / 80:
        return 1e-4
    return 1e-5


def train_resnet_variants(
    *,
    variants,
    width,
    dense_units,
    train_size,
    validation_size,
    analysis_size,
    epochs,
    snapshot_epochs,
    inv_delta_range,
    grid_points,
    seed,
    precision="float32",
    batch_size=256,
):
    """The one training run behind Figs. 5, 6 and 7: every Resnet18 variant on CIFAR-10.

    Each variant is trained (Adam, cross-entropy, the paper's schedule scaled to ``epochs``)
    once per configuration and training code, through ``dfp.runs.cached``, so whichever
    figure runs first trains and the others load. The arguments are the shared parameters
    of the three notebooks (``dfp.parameters.SHARED``).

    Args:
        variants: which of 1 ... 4.
        width, dense_units: the models (``dfp.models.resnet18_variant``).
        train_size, validation_size: the seeded split of the 50,000 CIFAR-10 training images.
        analysis_size: training images on which the RDFs are measured.
        epochs: epochs to train.
        snapshot_epochs: epochs at which the spectra are recorded (0 = initialisation).
        inv_delta_range, grid_points: the geometric 1/delta grid shared by every curve.
        seed: for the split, the initialisation and the epochs' orders.
        precision: one of ``PRECISIONS`` (float32, tf32, bf16); the spectra are always of
            float32 activations with TensorFloat-32 off.
        batch_size: 256, as in the paper.

    Returns:
        {variant: dict(accuracy, val_accuracy, loss, seconds, precision, inv_delta, labels,
        output)}:
        per-epoch accuracies, and the spectra of S^[-3] = {(f^[-3], y)} ("labels") and of
        {(f^[-3], f^[-1])} ("output"), each {"curves": {epoch: lfr}, "floors": {epoch: floor}}.
    """
    from dfp.data import cifar10
    from dfp.models import resnet18_variant
    from dfp.runs import cached

    inv_delta = np.geomspace(*inv_delta_range, int(grid_points))
    config = dict(
        width=width,
        dense_units=dense_units,
        train_size=train_size,
        validation_size=validation_size,
        analysis_size=analysis_size,
        epochs=epochs,
        snapshot_epochs=list(snapshot_epochs),
        inv_delta_range=list(inv_delta_range),
        grid_points=grid_points,
        batch_size=batch_size,
        seed=seed,
        precision=precision,
    )

    def train(variant):
        (x, y), validation = cifar10(train_size, validation_size, seed=seed)
        analysis = np.random.default_rng(seed).permutation(len(x))[:analysis_size]
        keras.utils.set_random_seed(int(seed))
        model = resnet18_variant(variant, width=width, dense_units=dense_units, seed=seed)
        if dtype_policy(precision) != "float32":
            model = _at_policy(model, dtype_policy(precision))
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        spectra = {
            targets: Spectra(
                x[analysis],
                y[analysis],
                [-3],
                snapshot_epochs,
                inv_delta=inv_delta,
                targets=targets,
            )
            for targets in ("labels", "output")
        }
        with matmul_precision(precision):
            history, seconds = _fit_epochs(
                model,
                x,
                y,
                epochs=int(epochs),
                batch_size=batch_size,
                seed=seed,
                callbacks=list(spectra.values()),
                learning_rate=lambda epoch: paper_learning_rate(epoch, epochs),
                validation_data=validation,
                progress=Progress(every=1, label=f"Resnet18-{variant}", epochs=int(epochs)),
            )
        result = {key: np.asarray(history[key]) for key in ("accuracy", "val_accuracy", "loss")}
        result.update(seconds=seconds, precision=precision, inv_delta=np.asarray(inv_delta))
        for targets, callback in spectra.items():
            result[targets] = {
                "curves": {e: c[-3] for e, c in callback.curves.items()},
                "floors": {e: f[-3] for e, f in callback.floors.items()},
                "seconds": callback.seconds,
            }
        return result

    return {v: cached("resnet18", dict(config, variant=v), lambda v=v: train(v)) for v in variants}


def train_deep_network(
    *,
    depth,
    residual,
    optimizer,
    learning_rates,
    width,
    train_size,
    analysis_size,
    snapshot_epoch,
    inv_delta_range,
    grid_points,
    seed,
    precision="float32",
    batch_size=256,
):
    """One network of Fig. 9: a very deep tanh MLP on MNIST, with the RDF of S^[-3].

    The arguments are Fig. 9's parameters for one network (its configuration as
    ``dfp.runs.configuration`` keys it, the swept lists replaced by ``depth``, ``residual``
    and ``optimizer``), so ``train_deep_network(**config)`` is the run that the notebook and
    the GPU run (``workflow/h200/paper_run.py fig9``) cache under the same key.

    Args:
        depth: L, the number of Dense layers: 784 → ``width`` (tanh), L-2 hidden
            Dense(``width``, tanh), a linear output of 10.
        residual: None (no residual connections) or a form of ``dfp.models.mlp``'s
            ``residual`` ("plain": h + tanh(W h + b); "scaled": divided by sqrt(L-2)).
        optimizer: "adam" or "sgd".
        learning_rates: {optimizer: learning rate}.
        width: units per hidden layer.
        train_size: MNIST training images (seeded subset), mean squared error on one-hot labels.
        analysis_size: of those, the images the RDFs are measured on.
        snapshot_epoch: the epoch trained to; the spectra are at 0 and there.
        inv_delta_range, grid_points: the geometric 1/delta grid.
        seed: for the subset, the initialisation and the epochs' orders.
        precision: one of ``PRECISIONS``; the spectra are always float32.
        batch_size: 256.

    Returns:
        ``fit_with_spectra``'s result: loss per epoch, seconds, and the curves and floors of
        layer -3 at epochs 0 and ``snapshot_epoch``; and ``diverged_epoch``: None, or the
        epoch whose loss was NaN or inf. A network that diverges is a result, not an error:
        its losses stop before that epoch and its curves are those recorded before it.
    """
    from dfp.data import mnist
    from dfp.models import mlp

    x, y = mnist(train_size, seed=seed)
    analysis = np.random.default_rng(seed).permutation(len(x))[:analysis_size]
    keras.utils.set_random_seed(seed)
    model = mlp(
        784, depth - 1, width, activation="tanh", output_dim=10, residual=residual, seed=seed
    )
    inv_delta = np.geomspace(*inv_delta_range, int(grid_points))
    spectra = Spectra(x[analysis], y[analysis], [-3], [0, snapshot_epoch], inv_delta=inv_delta)
    form = "plain" if residual is None else f"residual ({residual})"
    try:
        run = fit_with_spectra(
            model,
            x,
            y,
            loss="mse",
            learning_rate=learning_rates[optimizer],
            batch_size=batch_size,
            max_epochs=snapshot_epoch,
            stop_loss=None,
            spectra=spectra,
            seed=seed,
            label=f"fig9 L={depth} {form} {optimizer}",
            optimizer=optimizer,
            precision=precision,
        )
    except Diverged as diverged:  # a result of its own: this network does not train at this rate
        return {
            "loss": diverged.losses,
            "epochs": len(diverged.losses),
            "stopped": False,
            "seconds": diverged.seconds,
            "precision": precision,
            "diverged_epoch": diverged.epoch,
            **spectra.record(),
        }
    return {**run, "diverged_epoch": None}
