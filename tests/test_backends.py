"""dfp runs on the JAX backend too (a GPU machine may have JAX but no TensorFlow)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests._reference import dense_lfr
from tests.notebooks import ROOT

# Each test starts a Python under JAX (imports and compiles: seconds each): not in the fast loop.
pytestmark = pytest.mark.slow

SCRIPT = """
import json, sys
import numpy as np
import pytest
import keras, dfp
r = np.random.default_rng(1)
x = r.normal(size=(300, 6)); y = np.eye(5)[r.integers(0, 5, 300)]
grid = np.concatenate([np.linspace(0.05, 0.4, 8), [0.7, 2.0]])
x1, y1 = dfp.data.sine(4, 1000); grid1 = np.linspace(10, 1000, 24)
x2 = np.repeat(r.normal(size=(5, 8)), 60, axis=0) + 1e-4 * r.normal(size=(300, 8))
grid2 = np.geomspace(0.1, 1e10, 12)
print(json.dumps({"backend": keras.backend.backend(),
                  "hd": dfp.lfr(x, y, grid).tolist(), "toy": dfp.lfr(x1, y1, grid1).tolist(),
                  "collapsed": dfp.lfr(x2, y, grid2).tolist()}))
"""


def test_lfr_under_jax_matches_the_dense_reference():
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax"
    r = np.random.default_rng(1)
    x = r.normal(size=(300, 6))
    y = np.eye(5)[r.integers(0, 5, 300)]
    grid = np.concatenate([np.linspace(0.05, 0.4, 8), [0.7, 2.0]])
    np.testing.assert_allclose(result["hd"], dense_lfr(x, y, grid), atol=1e-5, rtol=0)
    x1 = np.linspace(-1, 1, 1000)
    grid1 = np.linspace(10, 1000, 24)
    np.testing.assert_allclose(
        result["toy"], dense_lfr(x1, np.sin(4 * np.pi * x1), grid1), atol=1e-5, rtol=0
    )
    # Clusters 1e4 times tighter than their spacing: the float64-distance path.
    x2 = np.repeat(r.normal(size=(5, 8)), 60, axis=0) + 1e-4 * r.normal(size=(300, 8))
    grid2 = np.geomspace(0.1, 1e10, 12)
    np.testing.assert_allclose(result["collapsed"], dense_lfr(x2, y, grid2), atol=1e-5, rtol=0)


def test_device_side_sums_under_jax_match_the_dense_reference():
    # On a GPU the blocks' sums are added on the device as float32 pairs, compiled by XLA;
    # the same tests as under TensorFlow, with that path forced on this CPU.
    env = dict(os.environ, KERAS_BACKEND="jax")
    selected = "device or two_sum"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_engine.py",
            "-k",
            selected,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and " failed" not in done.stdout, done.stdout[-1000:]


TRAINING = """
import json
import keras, numpy as np, dfp
from dfp import callbacks, data, models, training
x, y = data.cosines([1], 41)
keras.utils.set_random_seed(0)
model = models.mlp(1, 1, 8, seed=0)
spectra = callbacks.Spectra(x, y, [1], [0, 3], inv_delta=[1.0, 10.0])
run = training.train_to_loss(
    model, x, y, threshold=0.2, max_epochs=500, learning_rate=1e-2, spectra=spectra
)
mse = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
result = {"backend": keras.backend.backend(), "epochs": run.epochs, "losses": run.losses.tolist()}
print(json.dumps({**result, "snapshots": sorted(spectra.curves), "mse": mse}))
"""


def test_training_to_a_loss_under_jax_stops_at_the_first_epoch_below_it():
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", TRAINING], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax" and result["epochs"] is not None
    losses = result["losses"]
    assert len(losses) == result["epochs"] + 1 and losses[-1] < 0.2 <= min(losses[:-1])
    assert result["mse"] == pytest.approx(losses[-1], rel=1e-4)
    assert result["snapshots"] == [0, 3, result["epochs"]]


MEMORY = """
import json, functools
import jax, jax.numpy as jnp
from dfp import _lfr_engine as engine
tile = 256
def temp_bytes(K):
    sums = functools.partial(engine.kernel_sums, diagonals=(True, False), lengths=(K,))
    blocks, y = [jnp.zeros((tile, tile))] * 2, jnp.zeros((tile, 3))
    args = (blocks, y, [y] * 2, jnp.zeros(K), jnp.zeros(1))
    return jax.jit(sums).lower(*args).compile().memory_analysis().temp_size_in_bytes
print(json.dumps({"few": temp_bytes(4), "many": temp_bytes(48), "block": 4 * tile * tile}))
"""


def test_kernel_sums_under_jax_keep_few_blocks_alive_however_many_grid_points():
    # XLA would run the whole chain of step multiplies first and hold every grid point's
    # weights (K blocks: 16 GB at n = 60,000, K = 50 on a GPU) unless each step waits.
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", MEMORY], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["many"] - result["few"] < 4 * result["block"], result
