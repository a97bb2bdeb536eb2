"""The golden tiny run: a few seconds of every code path that can change a training run's
numbers, kept as data, so that a change that alters them without a new training version
fails the suite (``tests/test_golden.py``).

    DFP_DATA_DIR=../shared/data .venv/bin/python tests/golden/make_golden.py

writes ``tests/golden/tiny_runs.npz``. Run it only together with a bump of
``dfp.provenance.TRAINING_VERSION``: the file records the version it was made with.
"""

import sys
from pathlib import Path

import keras
import numpy as np

from dfp import callbacks, data, models, provenance, recipes, storage, training
from dfp.grids import inv_delta_grid
from dfp.spectral import lfr

GOLDEN = Path(__file__).with_name("tiny_runs.npz")


def measure():
    """The measure and its grid on a seeded synthetic set (the engine, eqs. 3-5)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (300, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 300)]
    grid = inv_delta_grid([(x, y)], points=12)
    return {"grid": np.asarray(grid), "lfr": np.asarray(lfr(x, y, grid))}


def full_batch():
    """Fig. 1's loop: full-batch Adam on cos(3x) + cos(5x), every epoch's loss (a threshold
    no run reaches, so the number of epochs is fixed)."""
    x, y = data.cosines([3, 5], 41)
    keras.utils.set_random_seed(0)
    model = models.mlp(1, 2, 16, activation="tanh", output_dim=1, seed=0)
    run = training.train_to_loss(model, x, y, threshold=1e-12, max_epochs=150)
    return {"losses": run.losses}


def minibatch():
    """Fig. 8's loop: minibatch Adam on MNIST with the spectra of two hidden layers."""
    x, y = data.mnist(256, seed=0)
    model = models.mlp(784, 2, 32, activation="tanh", output_dim=10, seed=0)
    spectra = callbacks.Spectra(x[:128], y[:128], [1, 2], [0, 2], grid_points=10)
    run = training.fit_with_spectra(
        model,
        x,
        y,
        loss="mse",
        learning_rate=1e-3,
        batch_size=64,
        max_epochs=2,
        stop_loss=None,
        spectra=spectra,
        seed=0,
    )
    return {"loss": run["loss"], "inv_delta": run["inv_delta"], "curves": run["curves"]}


def deep_network():
    """Fig. 9's recipe: a scaled residual tanh network under SGD."""
    run = recipes.train_deep_network(
        depth=5,
        residual="scaled",
        optimizer="sgd",
        learning_rate=0.05,
        width=16,
        train_size=200,
        analysis_size=100,
        snapshot_epoch=2,
        inv_delta_range=[0.01, 10.0],
        grid_points=10,
        seed=0,
    )
    return {"loss": run["loss"], "curves": run["curves"]}


def resnet():
    """Figs. 5-7's recipe: the smallest Resnet18 variant on CIFAR-10 for one epoch."""
    run = recipes.train_resnet_variant(
        variant=4,
        width=4,
        dense_units=8,
        train_size=128,
        validation_size=32,
        analysis_size=64,
        epochs=1,
        snapshot_epochs=[0, 1],
        inv_delta_range=[0.01, 10.0],
        grid_points=8,
        seed=0,
    )
    return {
        "loss": run["loss"],
        "val_accuracy": run["val_accuracy"],
        "labels": run["labels"]["curves"],
        "output": run["output"]["curves"],
    }


PARTS = {
    "measure": measure,
    "full_batch": full_batch,
    "minibatch": minibatch,
    "deep_network": deep_network,
    "resnet": resnet,
}


def compute():
    """{part: its numbers}, computed by the code as it is now."""
    return {name: part() for name, part in PARTS.items()}


if __name__ == "__main__":
    if keras.backend.backend() != "tensorflow":
        sys.exit("make the golden run on the TensorFlow backend, the one the tests check")
    storage.write_tree(
        GOLDEN,
        compute(),
        training_version=provenance.TRAINING_VERSION,
        backend=keras.backend.backend(),
        machine=provenance.machine(),
    )
    print(f"wrote {GOLDEN} (training version {provenance.TRAINING_VERSION})")
