"""The same configuration, run twice in fresh processes, gives identical results on one backend."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.notebooks import ROOT

pytestmark = pytest.mark.slow

# Fig. 8's training run with spectra, at tiny scale, on real MNIST images: the loss of every
# epoch and every LFR curve are saved, to be compared bit for bit.
RUN = """
import sys
import numpy as np
import dfp

x, y = dfp.data.mnist(400, seed=0)
model = dfp.models.mlp(784, 3, 32, activation="tanh", output_dim=10, seed=0)
spectra = dfp.callbacks.Spectra(x[:200], y[:200], [1, 2, 3], [0, 2], grid_points=12)
run = dfp.training.fit_with_spectra(
    model, x, y, loss="mse", learning_rate=1e-3, batch_size=64, max_epochs=3, stop_loss=None,
    spectra=spectra, seed=0,
)
arrays = {"loss": run["loss"], "inv_delta": run["inv_delta"]}
for epoch, layers in run["curves"].items():
    for layer, values in layers.items():
        arrays[f"lfr_{epoch}_{layer}"] = np.asarray(values)
        arrays[f"floor_{epoch}_{layer}"] = np.asarray(run["floors"][epoch][layer])
np.savez(sys.argv[1], **arrays)
"""


def run_once(path, cache):
    environment = {**os.environ, "DFP_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(path)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(path) as arrays:
        return dict(arrays)


def test_a_training_run_with_spectra_is_identical_in_two_fresh_processes(tmp_path):
    first = run_once(tmp_path / "first.npz", tmp_path / "cache-1")
    second = run_once(tmp_path / "second.npz", tmp_path / "cache-2")
    # Epochs 0 and 2 and the last (3), three layers each, an LFR curve and a floor per layer.
    assert sorted(first) == sorted(second) and len(first) == 2 + 3 * 3 * 2
    assert np.all(np.isfinite(first["loss"])) and first["loss"].shape == (3,)
    for name in first:
        np.testing.assert_array_equal(
            first[name], second[name], err_msg=f"{name} differs between runs"
        )
