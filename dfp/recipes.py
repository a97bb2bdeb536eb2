"""The experiment recipes that the notebooks and the GPU run (``workflow/h200/paper_run.py``)
share: epochs to a designated loss over seeds, the Resnet18 variants of Figs. 5-7 and the deep
networks of Fig. 9.

A recipe trains; it does not cache. A page gets every trained network one way, visibly:
``run = dfp.runs.cached(name, config, lambda: recipe(**config))``, loaded when a run of the
same configuration and training version exists (another figure's, or the GPU run's).
"""

import time
from collections.abc import Iterable, Sequence
from typing import Any

import keras
import numpy as np

from dfp._backend import dtype_policy, matmul_precision
from dfp._hessian import sharpness
from dfp.callbacks import Spectra
from dfp.data import cifar10, mnist
from dfp.models import RESIDUAL_FORM_NAMES, effective_target, mlp, resnet18_variant
from dfp.parameters import SHARED
from dfp.spectral import lfr, lfr_floor
from dfp.training import (
    Diverged,
    Progress,
    _at_policy,
    _fit_epochs,
    _quiet_retracing,
    fit_with_spectra,
    paper_learning_rate,
    train_to_loss,
)

__all__ = [
    "deep_network",
    "deep_network_stability_bound",
    "epochs_to_loss",
    "resnet18_configs",
    "resnet18_control_configs",
    "resnet_initial_spectra",
    "sgd_stability_bound",
    "train_deep_network",
    "train_resnet_variant",
]

# The minibatch size of every Resnet18 run, the paper's.
RESNET_BATCH_SIZE = 256


def resnet18_configs(params: dict) -> dict[int, dict]:
    """The configuration of each Resnet18 variant's run, shared by Figs. 5, 6 and 7.

    Args:
        params: a page's parameters holding the shared run's (``dfp.parameters.SHARED``):
            ``variants`` and what each variant is trained with.

    Returns:
        {variant: the arguments of ``train_resnet_variant``}, which are also its run's key,
        so the three figures and the GPU run train and load the same runs.
    """
    # Which variants run, and the control's runs, are not part of a variant's configuration.
    shared = [n for n in SHARED["resnet18"]["parameters"] if n not in ("variants", "control")]
    config = {name: params[name] for name in shared}
    config.update(
        snapshot_epochs=list(config["snapshot_epochs"]),
        inv_delta_range=list(config["inv_delta_range"]),
        batch_size=RESNET_BATCH_SIZE,
    )
    return {int(v): dict(config, variant=int(v)) for v in params["variants"]}


def resnet18_control_configs(params: dict) -> dict[str, dict]:
    """The precision control's runs: the ``control`` variant at the run's precision, and in
    float32 at the run's seed and the next (``dfp.claims.precision_control`` compares them).

    Args:
        params: a page's parameters holding the shared Resnet18 run's, ``control`` included.

    Returns:
        {"other": ..., "float32": ..., "float32, next seed": ...}, each the arguments of
        ``train_resnet_variant`` (and its run's key); {} when ``control`` is 0 or the run
        trains in float32 (nothing to control).
    """
    variant = params["control"]
    if not variant or params["precision"] == "float32":
        return {}
    other = resnet18_configs(dict(params, variants=[variant]))[variant]
    reference = dict(other, precision="float32")
    return {
        "other": other,
        "float32": reference,
        "float32, next seed": dict(reference, seed=reference["seed"] + 1),
    }


def epochs_to_loss(
    x: np.ndarray,
    y: np.ndarray,
    *,
    hidden_layers: int,
    width: int,
    activation: str,
    seeds: Iterable[int],
    relative_threshold: float,
    max_epochs: int,
    learning_rate: float,
) -> list[int | None]:
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


def train_resnet_variant(
    *,
    variant: int,
    width: int,
    dense_units: int,
    train_size: int,
    validation_size: int,
    analysis_size: int,
    epochs: int,
    snapshot_epochs: list,
    inv_delta_range: list,
    grid_points: int,
    seed: int,
    precision: str = "float32",
    batch_size: int = RESNET_BATCH_SIZE,
) -> dict:
    """One Resnet18 variant on CIFAR-10, the training behind Figs. 5, 6 and 7.

    Adam, cross-entropy, the paper's schedule scaled to ``epochs``; the spectra of its last
    hidden layer recorded at ``snapshot_epochs``. ``resnet18_configs`` gives the arguments.

    Args:
        variant: which of 1 ... 4 (Resnet18-1 is the deepest).
        width, dense_units: the model (``dfp.models.resnet18_variant``).
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
        dict(accuracy, val_accuracy, loss, seconds, precision, inv_delta, labels, output):
        per-epoch accuracies, and the spectra of S^[-3] = {(f^[-3], y)} ("labels") and of
        {(f^[-3], f^[-1])} ("output"), each {"curves": {epoch: lfr}, "floors": {epoch: floor}}.
    """
    inv_delta = np.geomspace(*inv_delta_range, int(grid_points))
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
        history, seconds, _ = _fit_epochs(
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
            # Each snapshot's subsample half-way points and peaks, for the intervals.
            "draws": {e: d[-3] for e, d in callback.draws.items()},
            "resample": callback.record()["resample"],
            "seconds": callback.seconds,
        }
    return result


def resnet_initial_spectra(
    *,
    variant: int,
    width: int,
    dense_units: int,
    head: str,
    analysis_size: int,
    inv_delta_range: Sequence[float],
    grid_points: int,
    seed: int,
) -> dict[str, Any]:
    """One Resnet18 variant at initialisation: the LFR curves of S^[-3] before any training.

    Part (1) of C5 and C6 compares the variants at epoch 0, so it needs no training: this is
    the epoch-0 snapshot of ``train_resnet_variant`` for any seed, width and head. The
    analysis images are those a training run of the paper's split would measure: the
    seed's 40,000/10,000 split of the CIFAR-10 training images, then ``analysis_size`` of
    its training part drawn with the same seed.

    Args:
        variant, width, dense_units, head: the network (``dfp.models.resnet18_variant``).
        analysis_size: images on which the curves are measured.
        inv_delta_range, grid_points: the geometric 1/delta grid.
        seed: the split, the analysis images and the initialisation.

    Returns:
        dict(inv_delta, seconds, and for "labels" (S^[-3] = {(f^[-3], y)}, C5) and "output"
        ({(f^[-3], f^[-1])}, C6) each {"curve", "floor"}).
    """
    start = time.perf_counter()
    inv_delta = np.geomspace(*inv_delta_range, int(grid_points))
    (x, y), _ = cifar10(40000, 10000, seed=seed)
    analysis = np.random.default_rng(seed).permutation(len(x))[:analysis_size]
    x, y = x[analysis], y[analysis]
    keras.utils.set_random_seed(int(seed))
    model = resnet18_variant(variant, width=width, dense_units=dense_units, head=head, seed=seed)
    with _quiet_retracing(), matmul_precision("float32"):
        (features, _), (output, _) = effective_target(model, x, y, [-3, -1], batch_size=256)
    result = {"inv_delta": inv_delta}
    for targets, values in (("labels", y), ("output", output)):
        with matmul_precision("float32"):
            curve = lfr(features, values, inv_delta)
        result[targets] = {"curve": curve, "floor": lfr_floor(values)}
    result["seconds"] = time.perf_counter() - start
    return result


def deep_network(depth: int, residual: str | None, width: int, seed: int) -> keras.Model:
    """One network of Fig. 9 at initialisation, as ``train_deep_network`` builds it.

    Args:
        depth: L, the number of Dense layers: 784 → ``width`` (tanh), L-2 hidden
            Dense(``width``, tanh), a linear output of 10.
        residual: one of ``dfp.models.RESIDUAL_FORMS``: None, "unscaled" or "scaled".
        width: units per hidden layer.
        seed: of the initialisation.

    Returns:
        The ``keras.Model`` (``dfp.models.mlp``), its weights drawn from ``seed``.
    """
    keras.utils.set_random_seed(int(seed))
    return mlp(
        784, depth - 1, width, activation="tanh", output_dim=10, residual=residual, seed=seed
    )


def sgd_stability_bound(
    model: keras.Model, x: np.ndarray, y: np.ndarray, *, iterations: int = 30
) -> float:
    """The learning rate above which plain gradient descent on the MSE is unstable at
    ``model``'s present weights: 2 / the loss's sharpness.

    The loss is Keras's mean squared error, the mean over the n points and the d_out
    outputs; its sharpness is the largest eigenvalue of its Hessian in all trainable weights,
    found by power iteration on Hessian-vector products (``iterations`` of them). Gradient
    descent with rate eta multiplies the error along the top eigenvector by
    (1 - eta * sharpness) each step, so it grows once eta exceeds 2 / sharpness. Minibatch
    SGD sees each batch's curvature, which fluctuates around the full batch's, so a rate
    should stay well below the bound.

    A cheaper bound, from the output layer's weights alone (the loss is quadratic in them,
    with largest curvature 2 sigma_max([h, 1])^2 / (n d_out)), is only an upper limit: by
    Cauchy interlacing the full sharpness is at least that curvature, and for the unscaled
    residual networks of Fig. 9 it is about ten times larger (measured: an 80-layer network
    of width 128 on 10,000 MNIST images diverges with SGD at 0.002, below that limit of
    0.0046, and trains at 0.0003).

    Args:
        model: a Keras model (its trainable weights are the Hessian's variables).
        x: the points, (n, d_in), the full batch.
        y: their targets, (n, d_out).
        iterations: power iterations.

    Returns:
        2 / sharpness, a float (inf for a loss with no positive curvature).
    """
    y = np.asarray(y)
    if y.ndim != 2 or len(y) != len(x) or len(x) == 0:
        raise ValueError(
            f"x and y must hold the same number (>= 1) of points, y 2-D; got {len(x)} points "
            f"and y of shape {y.shape}"
        )
    d_out = int(model.outputs[0].shape[-1])
    if y.shape[1] != d_out:
        raise ValueError(f"y has {y.shape[1]} outputs but the model has {d_out}")
    with matmul_precision("float32"):
        largest = sharpness(model, x, y, iterations=iterations)
    return 2.0 / largest if largest > 0 else float("inf")


# The images of a Fig. 9 network's training set on which its sharpness at initialisation is
# measured (the first of its seeded subset): the Hessian of the mean over 2,000 images is
# that of the full set's loss up to sampling, at a fifth of the cost of 10,000.
STABILITY_SAMPLE = 2000


def deep_network_stability_bound(
    *, depth: int, residual: str | None, width: int, train_size: int, seed: int
) -> float:
    """``sgd_stability_bound`` of one network of Fig. 9 at initialisation, on the first
    ``STABILITY_SAMPLE`` images of its training set.

    Args:
        depth, residual, width, seed: the network (``deep_network``).
        train_size: the MNIST training images (the seeded subset ``train_deep_network``
            trains on).

    Returns:
        The learning rate above which full-batch gradient descent is unstable at
        initialisation.
    """
    x, y = mnist(train_size, seed=seed)
    sample = slice(0, STABILITY_SAMPLE)
    return sgd_stability_bound(deep_network(depth, residual, width, seed), x[sample], y[sample])


def train_deep_network(
    *,
    depth: int,
    residual: str | None,
    optimizer: str,
    learning_rate: float,
    width: int,
    train_size: int,
    analysis_size: int,
    snapshot_epoch: int,
    inv_delta_range: Sequence[float],
    grid_points: int,
    seed: int,
    precision: str = "float32",
    batch_size: int = 256,
) -> dict[str, Any]:
    """One network of Fig. 9: a very deep tanh MLP on MNIST, with the RDF of S^[-3].

    The arguments are Fig. 9's parameters for one network (its configuration as
    ``dfp.runs.configuration`` keys it, the swept lists replaced by ``depth``, ``residual``
    and one training setting, ``optimizer`` and ``learning_rate``), so
    ``train_deep_network(**config)`` is the run that the notebook and the GPU run
    (``workflow/h200/paper_run.py fig9``) cache under the same key.

    Args:
        depth: L, the number of Dense layers: 784 → ``width`` (tanh), L-2 hidden
            Dense(``width``, tanh), a linear output of 10.
        residual: one of ``dfp.models.RESIDUAL_FORMS``: None (no residual), "unscaled"
            (h + tanh(W h + b)) or "scaled" (the branch divided by sqrt(L-2)).
        optimizer: "adam" or "sgd".
        learning_rate: the optimizer's learning rate (step size).
        width: units per hidden layer.
        train_size: MNIST training images (seeded subset), mean squared error on one-hot labels.
        analysis_size: of those, the images the RDFs are measured on.
        snapshot_epoch: the epoch trained to; the spectra are at 0 and there.
        inv_delta_range, grid_points: the geometric 1/delta grid.
        seed: for the subset, the initialisation and the epochs' orders.
        precision: one of ``PRECISIONS``; the spectra are always float32.
        batch_size: 256.

    Returns:
        ``fit_with_spectra``'s result: loss per epoch, seconds, initial_loss (epoch 0's), and
        the curves and floors of layer -3 at epochs 0 and ``snapshot_epoch``; and
        ``diverged_epoch`` and ``diverged_loss``: None, or the first epoch whose training loss
        left its finite range (NaN, inf, or above ``dfp.training.DIVERGENCE_FACTOR`` times
        initial_loss) and that loss. A network that diverges is a result, not an error: its
        losses stop before that epoch and its curves are those recorded before it.
    """
    x, y = mnist(train_size, seed=seed)
    analysis = np.random.default_rng(seed).permutation(len(x))[:analysis_size]
    model = deep_network(depth, residual, width, seed)
    inv_delta = np.geomspace(*inv_delta_range, int(grid_points))
    spectra = Spectra(x[analysis], y[analysis], [-3], [0, snapshot_epoch], inv_delta=inv_delta)
    try:
        run = fit_with_spectra(
            model,
            x,
            y,
            loss="mse",
            learning_rate=learning_rate,
            batch_size=batch_size,
            max_epochs=snapshot_epoch,
            stop_loss=None,
            spectra=spectra,
            seed=seed,
            label=f"fig9 L={depth} {RESIDUAL_FORM_NAMES[residual]} {optimizer} {learning_rate:g}",
            optimizer=optimizer,
            precision=precision,
        )
    except Diverged as diverged:  # a result of its own: this network does not train at this rate
        return {
            "loss": diverged.losses,
            "epochs": len(diverged.losses),
            "stopped": False,
            "seconds": diverged.seconds,
            "initial_loss": diverged.initial,
            "precision": precision,
            "diverged_epoch": diverged.epoch,
            "diverged_loss": diverged.loss,
            **spectra.record(),
        }
    return {**run, "diverged_epoch": None, "diverged_loss": None}
