"""Data sets of the paper: MNIST, CIFAR-10 and the 1-D targets.

Real data is read from the folder named by the environment variable ``DFP_DATA_DIR``, in
the Keras datasets layout (``mnist.npz``, ``cifar-10-batches-py/``), each file checked against
its known hashes (``KNOWN_FILES``) before it is read; without it, through ``keras.datasets``
(which downloads once, checks the archive's hash and caches under ``~/.keras/datasets``).
"""

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "DATA_DIR_VARIABLE",
    "DataError",
    "KNOWN_FILES",
    "cifar10",
    "cosines",
    "mnist",
    "parity",
    "sine",
    "verify",
]


DATA_DIR_VARIABLE = "DFP_DATA_DIR"

# Every file read from DFP_DATA_DIR is checked against the copies known to be right, by
# SHA-256 (or, for the official CIFAR-10 batches, the MD5 that torchvision publishes for them).
# The rebuilt copies are those of the project's shared data folder (its SHA256SUMS).
KNOWN_FILES = {
    "mnist.npz": {
        "sha256:731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1": "the published Keras mnist.npz",  # noqa: E501
        "sha256:06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64": "the rebuilt copy",  # noqa: E501
    },
    "cifar-10-batches-py/data_batch_1": {
        "sha256:8b12085098cd567bc726ee85c868509a8378a1ee44f4244160942a392b709791": "the rebuilt copy",  # noqa: E501
        "md5:c99cafc152244af753f735de768cd75f": "the official archive",
    },
    "cifar-10-batches-py/data_batch_2": {
        "sha256:eb26d009e7666c869d8bdcc2d9970bedc73cee080cbe82affc045833013200ac": "the rebuilt copy",  # noqa: E501
        "md5:d4bba439e000b95fd0a9bffe97cbabec": "the official archive",
    },
    "cifar-10-batches-py/data_batch_3": {
        "sha256:d8704d056e7a388e74eee6c8e837fbfdebca04e80caf5703dbf090cbf61aeb9d": "the rebuilt copy",  # noqa: E501
        "md5:54ebc095f3ab1f0389bbae665268c751": "the official archive",
    },
    "cifar-10-batches-py/data_batch_4": {
        "sha256:71ad9c1bd9222e40c488a99c0d2ec2a7a18512f8633adb4eceb9628e59c4c34c": "the rebuilt copy",  # noqa: E501
        "md5:634d18415352ddfa80567beed471001a": "the official archive",
    },
    "cifar-10-batches-py/data_batch_5": {
        "sha256:fd8bec1e0e99992f2344f528324d096bdac82eccd3393147522553b04f0bd0d0": "the rebuilt copy",  # noqa: E501
        "md5:482c414d41f54cd18b22e5b47cb7c3cb": "the official archive",
    },
}


class DataError(ValueError):
    """A data file that is not one of the known copies: truncated, corrupted or foreign."""


_VERIFIED = {}


def verify(folder: Path | str, name: str) -> str:
    """Check ``folder / name`` against its known hashes, once per file version and process.

    Args:
        folder: the data folder (``DFP_DATA_DIR``).
        name: the file's path in the Keras datasets layout, a key of ``KNOWN_FILES``.

    Returns:
        Which known copy it is, e.g. "the rebuilt copy".

    Raises:
        DataError: naming the file, its size and hash, and how to re-supply it.
    """
    path = Path(folder) / name
    status = path.stat()
    stamp = (str(path.resolve()), status.st_size, status.st_mtime_ns)
    if stamp in _VERIFIED:
        return _VERIFIED[stamp]
    digests = {"sha256": hashlib.sha256(), "md5": hashlib.md5()}
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            for digest in digests.values():
                digest.update(block)
    found = {f"{kind}:{digest.hexdigest()}" for kind, digest in digests.items()}
    known = KNOWN_FILES[name]
    match = next((known[key] for key in known if key in found), None)
    if match is None:
        raise DataError(
            f"{path} ({status.st_size:,} bytes, SHA-256 {digests['sha256'].hexdigest()}) "
            "is not a known "
            f"copy of {name}: it is truncated, corrupted or another file. Copy it again from the "
            f"original, or unset {DATA_DIR_VARIABLE} to download it through keras.datasets, which "
            "checks the archive it downloads."
        )
    _VERIFIED[stamp] = match
    return match


def mnist(train_size: int | None = None, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST training images as the paper feeds them to a fully connected network.

    Args:
        train_size: how many of the 60,000 training images to keep (None: all), chosen
            at random with ``seed``.
        seed: seeds the choice of the subset.

    Returns:
        (x, y): x float32 (n, 784) pixels / 255 in [0, 1]; y float32 (n, 10) one-hot labels.
    """
    folder = _data_dir()
    if folder is not None:
        path = folder / "mnist.npz"
        if not path.exists():
            raise FileNotFoundError(_missing(path, "MNIST", "mnist.npz with keys x_train, y_train"))
        verify(folder, "mnist.npz")
        with np.load(path, allow_pickle=False) as data:
            images, labels = data["x_train"], data["y_train"]
    else:
        images, labels = _download("mnist")
    # Pick the subset first: converting all 60,000 images to float32 would cost 188 MB.
    images, labels = _subset(images, labels, train_size, seed)
    return images.reshape(len(images), -1).astype(np.float32) / 255.0, _one_hot(labels, 10)


def cifar10(
    train_size: int = 40000, validation_size: int = 10000, *, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The 50,000 CIFAR-10 training images, split at random into training and validation.

    Args:
        train_size, validation_size: sizes of the two disjoint parts (at most 50,000 together).
        seed: seeds the split.

    Returns:
        ((x_train, y_train), (x_validation, y_validation)): x float32 (n, 32, 32, 3) pixels
        / 255, y float32 (n, 10) one-hot labels.
    """
    folder = _data_dir()
    if folder is not None:
        batches = folder / "cifar-10-batches-py"
        paths = [batches / f"data_batch_{i}" for i in range(1, 6)]
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise FileNotFoundError(
                _missing(
                    missing[0], "CIFAR-10", "cifar-10-batches-py/data_batch_1 ... data_batch_5"
                )
            )
        images, labels = [], []
        for path in paths:
            verify(folder, f"cifar-10-batches-py/{path.name}")
            with open(path, "rb") as file:
                batch = pickle.load(file, encoding="bytes")
            images.append(
                np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            )
            labels.append(np.asarray(batch[b"labels"]))
        images, labels = np.concatenate(images), np.concatenate(labels)
    else:
        images, labels = _download("cifar10")
    for name, size in (("train_size", train_size), ("validation_size", validation_size)):
        if int(size) != size or size < 1:
            raise ValueError(f"{name} must be a positive integer, got {size}")
    if train_size + validation_size > len(images):
        raise ValueError(
            f"train_size + validation_size = {train_size + validation_size} > {len(images)} images"
        )
    order = np.random.default_rng(seed).permutation(len(images))
    labels = labels.reshape(-1)

    def part(indices):
        # Only the chosen images are converted to float32 (all 50,000 would be 600 MB).
        return images[indices].astype(np.float32) / 255.0, _one_hot(labels[indices], 10)

    return part(order[:train_size]), part(order[train_size : train_size + validation_size])


def _data_dir():
    value = os.environ.get(DATA_DIR_VARIABLE)
    if not value:
        return None
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{DATA_DIR_VARIABLE}={value} is not a folder")
    return folder


def _missing(path, name, layout):
    return (
        f"{name} not found: {path} does not exist. Put {layout} (the Keras datasets layout) "
        f"in the folder that {DATA_DIR_VARIABLE} names, or unset {DATA_DIR_VARIABLE} to "
        "download through keras.datasets."
    )


def _download(name):
    import keras  # deferred: Keras only to download a file the data folder lacks

    loader = getattr(keras.datasets, name)
    try:
        (images, labels), _ = loader.load_data()
    except Exception as error:  # no network, a proxy, a corrupt cache ...
        expected = "mnist.npz" if name == "mnist" else "cifar-10-batches-py/"
        raise FileNotFoundError(
            f"could not download {name} through keras.datasets ({type(error).__name__}: {error}). "
            f"Without network access, set {DATA_DIR_VARIABLE} to a folder holding {expected} "
            "in the Keras datasets layout."
        ) from error
    return images, labels


def _one_hot(labels, classes):
    labels = np.asarray(labels).astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in 0 ... {classes - 1}")
    return np.eye(classes, dtype=np.float32)[labels]


def _subset(x, y, size, seed):
    if size is None:
        return x, y
    if int(size) != size or not 1 <= size <= len(x):
        raise ValueError(f"train_size must be an integer in 1 ... {len(x)}, got {size}")
    pick = np.sort(np.random.default_rng(seed).permutation(len(x))[: int(size)])
    return x[pick], y[pick]


def sine(
    k: float, num_points: int = 1000, x_range: tuple[float, float] = (-1.0, 1.0)
) -> tuple[np.ndarray, np.ndarray]:
    """Samples of sin(k pi x) on a uniform grid, the target of Fig. 3.

    Args:
        k: frequency; sin(k pi x) has k/2 periods per unit of x.
        num_points: number of samples, at least 2.
        x_range: (low, high) of the uniform grid, low < high.

    Returns:
        (x, y): two float64 arrays of shape (num_points,).
    """
    if not np.isfinite(k):
        raise ValueError(f"k must be finite, got {k}")
    if int(num_points) != num_points or num_points < 2:
        raise ValueError(f"num_points must be an integer >= 2, got {num_points}")
    low, high = (float(v) for v in x_range)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"x_range must be finite with low < high, got {x_range}")
    x = np.linspace(low, high, int(num_points))
    return x, np.sin(k * np.pi * x)


def cosines(
    frequencies: ArrayLike, num_points: int = 201, x_range: tuple[float, float] = (-np.pi, np.pi)
) -> tuple[np.ndarray, np.ndarray]:
    """Samples of sum_k cos(k x) on a uniform grid: the 1-D targets of Fig. 1.

    Args:
        frequencies: the k's, e.g. [3, 5] for cos(3x) + cos(5x) (Fig. 1a).
        num_points: number of samples, at least 2.
        x_range: (low, high) of the uniform grid, low < high.

    Returns:
        (x, y): float64 arrays of shape (num_points, 1), ready as network inputs/targets.
    """
    frequencies = np.atleast_1d(np.asarray(frequencies, dtype=np.float64))
    if frequencies.size == 0 or not np.all(np.isfinite(frequencies)):
        raise ValueError(
            f"frequencies must be a non-empty list of finite numbers, got {frequencies}"
        )
    x, _ = sine(0, num_points, x_range)
    y = np.sum(np.cos(frequencies[:, None] * x[None, :]), axis=0)
    return x[:, None], y[:, None]


def parity(dimension: int) -> tuple[np.ndarray, np.ndarray]:
    """The parity function on every point of {-1, 1}^d: y = x_1 x_2 ... x_d.

    Args:
        dimension: d, from 1 to 20 (2^d points).

    Returns:
        (x, y): float32 arrays of shape (2^d, d) and (2^d, 1).
    """
    if int(dimension) != dimension or not 1 <= dimension <= 20:
        raise ValueError(f"dimension must be an integer in 1 ... 20, got {dimension}")
    d = int(dimension)
    bits = (np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1
    x = (1 - 2 * bits).astype(np.float32)
    return x, np.prod(x, axis=1, keepdims=True)
