"""The training loops: full-batch to a designated loss (fast for runs of many thousand
epochs), and resumable minibatch ``model.fit`` recording spectra callbacks on the way."""

import contextlib
import dataclasses
import sys
import time
from typing import Any

import keras
import numpy as np
from keras import ops
from numpy.typing import ArrayLike

from dfp._backend import PRECISIONS, dtype_policy, matmul_precision
from dfp._vocabulary import LOSSES, OPTIMIZERS
from dfp.runs import checkpoint_path
from dfp.storage import read_checkpoint, write_checkpoint

__all__ = [
    "DIVERGENCE_FACTOR",
    "Diverged",
    "diverges",
    "LOSSES",
    "LossRun",
    "OPTIMIZERS",
    "PRECISIONS",
    "Progress",
    "StopAtLoss",
    "fit_with_spectra",
    "paper_learning_rate",
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
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    *,
    threshold: float,
    max_epochs: int,
    learning_rate: float = 1e-3,
    chunk: int = 1000,
    spectra: keras.callbacks.Callback | None = None,
) -> LossRun:
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

    Raises:
        Diverged: a loss was NaN or inf or above ``DIVERGENCE_FACTOR`` times the first one.
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
    import tensorflow as tf  # deferred: only on the TensorFlow backend

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
    import tensorflow as tf  # deferred: only on the TensorFlow backend

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def _run_chunks(run, evaluate, threshold, x, y, max_epochs, chunk, spectra):
    import tensorflow as tf  # deferred: only on the TensorFlow backend

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
        earlier = np.concatenate(history) if history else np.zeros(0, np.float32)
        initial = earlier[0] if len(earlier) else losses[0]
        _check_diverged(losses, done, earlier, initial=initial)
        history.append(losses)
        done += len(losses)
        if bool(reached):
            _at_epoch(spectra, done - 1)
            return LossRun(done - 1, np.concatenate(history))
        _at_epoch(spectra, done)
    # The loss after the last allowed update, which is not followed by another.
    final = evaluate()
    earlier = np.concatenate(history)
    _check_diverged(np.array([final]), max_epochs, earlier, initial=earlier[0])
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
        _check_diverged(np.array([loss]), epoch, losses[:-1], initial=losses[0])
        if loss < threshold:
            return LossRun(epoch, np.asarray(losses, np.float32))
        if epoch < max_epochs:
            model.train_on_batch(x, y)
            _at_epoch(spectra, epoch + 1)
    return LossRun(None, np.asarray(losses, np.float32))


# A run diverges when its training loss leaves its finite range: NaN or inf, or above
# DIVERGENCE_FACTOR times its initial loss, the loss at epoch 0 (on the training set, before
# any update). A loss that grew a thousandfold is not coming back at that learning rate, and
# a curve up there would only squash the others' scale.
DIVERGENCE_FACTOR = 1000.0


class Diverged(FloatingPointError):
    """The training loss left its finite range: NaN or inf, or above ``DIVERGENCE_FACTOR``
    times its initial (epoch-0) value. The run diverged (its learning rate is too large for
    the network), a finding to report rather than a number to plot.

    Attributes:
        epoch: the epoch (counted from 1; 0 only for a full-batch run whose first loss is
            already NaN or inf) whose loss left the range.
        loss: that loss (NaN, inf or a finite number above the limit).
        initial: the epoch-0 loss the limit is relative to, or None where it is not known.
        losses: the losses of the epochs before it (all within range).
        seconds: the training time up to it.
    """

    def __init__(
        self,
        epoch: int,
        loss: float,
        losses: ArrayLike = (),
        seconds: float = 0.0,
        *,
        initial: float | None = None,
    ) -> None:
        if np.isfinite(loss):
            why = f"above {DIVERGENCE_FACTOR:g} × its initial {initial:.4g}"
        else:
            why = "not finite"
        super().__init__(f"the training loss became {loss:.4g} at epoch {epoch} ({why})")
        self.epoch, self.loss, self.seconds = int(epoch), float(loss), seconds
        self.initial = None if initial is None else float(initial)
        self.losses = np.asarray(losses, np.float64)


def diverges(losses: ArrayLike, initial: float | None) -> np.ndarray:
    """Which losses are out of a run's finite range (the rule of ``Diverged``).

    Args:
        losses: training losses.
        initial: the run's epoch-0 loss; None (or not finite) checks only NaN and inf.

    Returns:
        A boolean array, True where a loss is NaN, inf or above ``DIVERGENCE_FACTOR`` times
        ``initial``.
    """
    losses = np.asarray(losses, np.float64)
    out = ~np.isfinite(losses)
    if initial is not None and np.isfinite(initial):
        with np.errstate(invalid="ignore"):
            out |= losses > DIVERGENCE_FACTOR * float(initial)
    return out


def _check_diverged(losses, first_epoch, history=(), seconds=0.0, *, initial=None):
    bad = np.nonzero(diverges(losses, initial))[0]
    if bad.size:
        earlier = [*history, *losses[: bad[0]]]
        raise Diverged(first_epoch + bad[0], losses[bad[0]], earlier, seconds, initial=initial)


class StopAtLoss(keras.callbacks.Callback):
    """Stops ``model.fit`` at the end of the first epoch whose training loss is below a threshold.

    Attributes:
        epoch: that epoch, counted from 1 (the number of epochs trained), or None.
    """

    def __init__(self, threshold: float) -> None:
        super().__init__()
        if not (np.isfinite(threshold) and threshold > 0):
            raise ValueError(f"threshold must be positive, got {threshold}")
        self.threshold = float(threshold)
        self.epoch = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Stop training once the epoch's loss is below the threshold.

        Args:
            epoch: the epoch, counted from 0 (Keras's convention).
            logs: the epoch's logs, holding "loss".

        Returns:
            None; sets ``self.epoch`` and ``model.stop_training`` the first time.
        """
        loss = (logs or {}).get("loss")
        if loss is None:
            raise ValueError("StopAtLoss needs the training loss in the epoch logs")
        if loss < self.threshold and self.epoch is None:
            self.epoch = epoch + 1
            self.model.stop_training = True


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

    def __init__(self, every: int = 10, label: str = "", epochs: int | None = None) -> None:
        super().__init__()
        self.every, self.label, self.total = int(every), label, epochs
        self._start, self._first = None, None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Print the progress line when ``epoch + 1`` is a multiple of ``every``.

        Args:
            epoch: the epoch, counted from 0 (Keras's convention).
            logs: the epoch's logs ("loss", and "val_accuracy" if any).

        Returns:
            None; the line goes to stderr.
        """
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
        (history {metric: list per epoch}, seconds of training over all resumptions, the
        initial loss: on the training set at epoch 0, before any update, the reference of the
        divergence rule).

    Raises:
        Diverged: an epoch's training loss left its finite range (see ``Diverged``).
    """
    checkpoint = checkpoint_path()
    state = read_checkpoint(checkpoint) if checkpoint is not None else None
    for callback in [*callbacks, *([stop] if stop else [])]:
        callback.set_model(model)
    if state is None:
        epoch, history, seconds = 0, {}, 0.0
        initial = _initial_loss(model, x, y, batch_size)
        for callback in callbacks:
            callback.on_train_begin()
    else:
        epoch, history, seconds = int(state["epoch"]), state["history"], float(state["seconds"])
        initial = state.get("initial_loss")  # None in a checkpoint from before the rule
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
        _check_diverged(
            np.array([logs["loss"]]),
            epoch + 1,
            history.get("loss", []),
            elapsed,
            initial=initial,
        )
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
                    "initial_loss": initial,
                    "weights": model.get_weights(),
                    "optimizer": [np.array(v.numpy()) for v in model.optimizer.variables],
                    "callbacks": [callback.state() for callback in callbacks],
                    "stop": None if stop is None else stop.epoch,
                },
            )
            saved = now
    for callback in callbacks:
        callback.on_train_end()
    return history, seconds, initial


def _initial_loss(model, x, y, batch_size):
    """The compiled loss of ``model`` on the training set, before any update (epoch 0)."""
    logs = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    return float(logs["loss"])


def _loss(name):
    if name == "mse":
        return "mse"
    if name == "cross_entropy":
        return keras.losses.CategoricalCrossentropy(from_logits=True)
    raise ValueError(f"unknown loss {name!r}; use one of {LOSSES}")


def fit_with_spectra(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    *,
    loss: str,
    learning_rate: float,
    batch_size: int,
    max_epochs: int,
    stop_loss: float | None,
    spectra: keras.callbacks.Callback,
    seed: int,
    label: str = "",
    optimizer: str = "adam",
    precision: str = "float32",
) -> dict[str, Any]:
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
        A dict: loss (per epoch), epochs (trained), stopped (bool), seconds (the training
        epochs), initial_loss (epoch 0's, before any update), precision, and the callback's
        ``record()`` (inv_delta, curves, floors, or weights; and spectra_seconds, the time of
        the snapshots, not counted in seconds).

    Raises:
        Diverged: the training loss became NaN or inf or rose above ``DIVERGENCE_FACTOR``
            times ``initial_loss``; it holds the losses before that epoch.
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
        history, seconds, initial = _fit_epochs(
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
        "initial_loss": initial,
        "precision": precision,
        **spectra.record(),
    }


def paper_learning_rate(epoch: int, epochs: int) -> float:
    """The paper's Resnet18 schedule, scaled to ``epochs``: 1e-3, then 1e-4, then 1e-5.

    The paper trains 80 epochs: 1e-3 for epochs 1-40, 1e-4 for 41-60, 1e-5 for 61-80. A run
    of E epochs keeps the 2:1:1 proportion: 1e-3 up to E/2, 1e-4 up to 3E/4, then 1e-5.

    Args:
        epoch: the epoch, counted from 1.
        epochs: E, the run's length.

    Returns:
        The learning rate of that epoch.
    """
    if int(epochs) != epochs or epochs < 1 or not 1 <= epoch <= epochs:
        raise ValueError(f"epoch must lie in 1 ... epochs, got epoch={epoch}, epochs={epochs}")
    if epoch <= epochs * 40 / 80:
        return 1e-3
    if epoch <= epochs * 60 / 80:
        return 1e-4
    return 1e-5
