"""The experiment recipes that the notebooks and the GPU run (``workflow/h200/paper_run.py``)
share: epochs to a designated loss over seeds, the Resnet18 variants of Figs. 5-7 and the deep
networks of Fig. 9.

A recipe trains; it does not cache. A page gets every trained network one way, visibly:
``run = dfp.runs.cached(name, config, lambda: recipe(**config))``, loaded when a run of the
same configuration and training version exists (another figure's, or the GPU run's).
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from dfp._backend import dtype_policy, matmul_precision
from dfp.callbacks import Spectra
from dfp.data import cifar10, mnist
from dfp.models import mlp, resnet18_variant
from dfp.parameters import SHARED
from dfp.training import (
    Diverged,
    Progress,
    _at_policy,
    _fit_epochs,
    fit_with_spectra,
    paper_learning_rate,
    train_to_loss,
)

__all__ = [
    "epochs_to_loss",
    "resnet18_configs",
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
    shared = [name for name in SHARED["resnet18"]["parameters"] if name != "variants"]
    config = {name: params[name] for name in shared}
    config.update(
        snapshot_epochs=list(config["snapshot_epochs"]),
        inv_delta_range=list(config["inv_delta_range"]),
        batch_size=RESNET_BATCH_SIZE,
    )
    return {int(v): dict(config, variant=int(v)) for v in params["variants"]}


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


def train_deep_network(
    *,
    depth: int,
    residual: str | None,
    optimizer: str,
    learning_rates: Mapping[str, float],
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
