"""Training: epochs to a designated loss, fast for full-batch runs of many thousand epochs."""

import dataclasses

import keras
import numpy as np
from keras import ops


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


def train_to_loss(model, x, y, *, threshold, max_epochs, learning_rate=1e-3, chunk=1000):
    """Full-batch Adam on the mean squared error until the loss falls below ``threshold``.

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

    Returns:
        A ``LossRun``.
    """
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be 2-D with the same number of points, got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x or y contains NaN or inf")
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be positive, got {threshold}")
    if int(max_epochs) != max_epochs or max_epochs < 1:
        raise ValueError(f"max_epochs must be a positive integer, got {max_epochs}")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    optimizer.build(model.trainable_variables)
    if keras.backend.backend() == "tensorflow":
        return _train_tensorflow(model, optimizer, x, y, float(threshold), int(max_epochs), int(chunk))
    return _train_generic(model, optimizer, x, y, float(threshold), int(max_epochs))


def _mse(model, x, y):
    return ops.mean(ops.square(model(x, training=True) - y))


def _train_tensorflow(model, optimizer, x, y, threshold, max_epochs, chunk):
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
    # Every model needs its own compiled loop; TensorFlow would warn about "retracing"
    # after a few models, which is expected here, so its logger is quietened meanwhile.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        return _run_chunks(run, x, y, max_epochs, chunk)
    finally:
        logger.setLevel(level)


def _run_chunks(run, x, y, max_epochs, chunk):
    import tensorflow as tf

    history = []
    done = 0
    # max_epochs updates need max_epochs + 1 loss evaluations (the last one checks the result).
    while done <= max_epochs:
        steps = min(chunk, max_epochs + 1 - done)
        losses, reached = run(x, y, tf.constant(steps))
        losses = losses.numpy()
        _check_finite(losses, done)
        history.append(losses)
        done += len(losses)
        if bool(reached):
            return LossRun(done - 1, np.concatenate(history))
    return LossRun(None, np.concatenate(history))


def _train_generic(model, optimizer, x, y, threshold, max_epochs):
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
    return LossRun(None, np.asarray(losses, np.float32))


def _check_finite(losses, first_epoch):
    bad = np.nonzero(~np.isfinite(losses))[0]
    if bad.size:
        raise FloatingPointError(f"the training loss became {losses[bad[0]]} at epoch {first_epoch + bad[0]}")


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


def epochs_to_loss(x, y, *, hidden_layers, width, activation, seeds, relative_threshold, max_epochs, learning_rate):
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
        model = mlp(x.shape[1], hidden_layers, width, activation=activation, output_dim=y.shape[1], seed=seed)
        run = train_to_loss(model, x, y, threshold=threshold, max_epochs=max_epochs, learning_rate=learning_rate)
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
