import os
from pathlib import Path

import numpy as np
import pytest

import dfp
from dfp import data
from tests.conftest import SHARED_DATA as SHARED

needs_data = pytest.mark.skipif(
    not (Path(os.environ.get("DFP_DATA_DIR", SHARED)) / "mnist.npz").exists(),
    reason="real data: set DFP_DATA_DIR (CI uses ../shared/data)",
)


@pytest.fixture
def real_data(monkeypatch):
    monkeypatch.setenv("DFP_DATA_DIR", os.environ.get("DFP_DATA_DIR", str(SHARED)))


@needs_data
def test_mnist_reads_the_keras_layout_and_scales_pixels(real_data):
    x, y = data.mnist()
    assert x.shape == (60000, 784) and x.dtype == np.float32 and y.shape == (60000, 10)
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(y.sum(axis=1), 1.0)
    # The published mean pixel of the training set is 33.318 / 255.
    assert x.mean() * 255 == pytest.approx(33.318, abs=1e-3)


@needs_data
def test_mnist_subset_is_seeded(real_data):
    a, _ = data.mnist(1000, seed=1)
    b, _ = data.mnist(1000, seed=1)
    c, _ = data.mnist(1000, seed=2)
    assert a.shape == (1000, 784)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match="train_size"):
        data.mnist(0)


@needs_data
def test_cifar10_split_is_disjoint_seeded_and_scaled(real_data):
    (xt, yt), (xv, yv) = data.cifar10(400, 100, seed=0)
    assert xt.shape == (400, 32, 32, 3) and xv.shape == (100, 32, 32, 3) and yt.shape == (400, 10)
    assert xt.max() <= 1.0 and xt.min() >= 0.0
    flat = lambda a: {row.tobytes() for row in a.reshape(len(a), -1)}
    assert not flat(xt) & flat(xv)
    with pytest.raises(ValueError, match="50000"):
        data.cifar10(45000, 10000)


def test_missing_file_names_the_variable_and_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DFP_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="DFP_DATA_DIR") as error:
        data.mnist()
    assert "mnist.npz" in str(error.value)
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        data.cifar10()


def test_no_variable_and_no_network_is_a_clear_error(monkeypatch):
    import keras

    monkeypatch.delenv("DFP_DATA_DIR", raising=False)

    def offline():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(FileNotFoundError, match="set DFP_DATA_DIR to a folder holding mnist.npz"):
        data.mnist()


def test_cosines():
    x, y = dfp.data.cosines([3, 5], 201)
    assert x.shape == y.shape == (201, 1)
    np.testing.assert_allclose(y[:, 0], np.cos(3 * x[:, 0]) + np.cos(5 * x[:, 0]))
    with pytest.raises(ValueError, match="frequencies"):
        dfp.data.cosines([], 10)


def test_parity_covers_the_cube_once():
    x, y = dfp.data.parity(4)
    assert x.shape == (16, 4) and y.shape == (16, 1)
    assert len({tuple(row) for row in x}) == 16 and set(np.unique(x)) == {-1.0, 1.0}
    np.testing.assert_array_equal(y[:, 0], np.prod(x, axis=1))
    with pytest.raises(ValueError, match="dimension"):
        dfp.data.parity(0)


def _copy_with(folder, name, transform):
    """A data folder of the real files, ``name`` rewritten by ``transform`` (bytes -> bytes)."""
    source = Path(os.environ.get("DFP_DATA_DIR", SHARED))
    (folder / "cifar-10-batches-py").mkdir(parents=True)
    for known in data.KNOWN_FILES:
        target = folder / known
        content = (source / known).read_bytes()
        target.write_bytes(transform(content) if known == name else content)
    return folder


@needs_data
@pytest.mark.parametrize(
    "name, transform",
    [
        ("mnist.npz", lambda b: b[: len(b) // 2]),  # truncated
        ("mnist.npz", lambda b: b[:1000] + bytes([b[1000] ^ 1]) + b[1001:]),  # one bit flipped
        ("cifar-10-batches-py/data_batch_3", lambda b: b[:-1]),  # one byte short
    ],
    ids=["mnist-truncated", "mnist-bit-flip", "cifar-batch-truncated"],
)
def test_a_damaged_data_file_is_a_clear_error(tmp_path, monkeypatch, name, transform):
    folder = _copy_with(tmp_path / "data", name, transform)
    monkeypatch.setenv("DFP_DATA_DIR", str(folder))
    loader = data.mnist if name == "mnist.npz" else data.cifar10
    with pytest.raises(data.DataError) as error:
        loader()
    message = str(error.value)
    assert name in message and "not a known copy" in message and "DFP_DATA_DIR" in message


@needs_data
def test_the_real_files_are_known_copies():
    folder = Path(os.environ.get("DFP_DATA_DIR", SHARED))
    for name in data.KNOWN_FILES:
        assert data.verify(folder, name) in set(data.KNOWN_FILES[name].values())
