"""Results keyed on configuration and code, so that a change to ``dfp`` is never served stale."""

import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np

_PACKAGE = Path(__file__).resolve().parent


def code_fingerprint():
    """SHA-256 of every ``dfp`` source file (path and bytes), as a hex string.

    Anything computed by ``dfp`` (an executed notebook, a cached training run) is valid only
    for the code that computed it; this is the key that says which code that was.
    """
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


CACHE_DIR_VARIABLE = "DFP_CACHE_DIR"


def cache_dir():
    """Where finished runs are kept: ``$DFP_CACHE_DIR``, else ``~/.cache/dfp/runs``."""
    value = os.environ.get(CACHE_DIR_VARIABLE)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "dfp" / "runs"


def run_key(name, config):
    """The key of a run: its name, configuration, Keras backend and the dfp code."""
    import keras

    text = json.dumps(
        {"name": name, "config": config, "backend": keras.backend.backend(), "code": code_fingerprint()},
        sort_keys=True,
        default=_jsonable,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def cached(name, config, compute):
    """compute(), run once per configuration and dfp code, then loaded from the cache.

    Figures that share a training run call this with the same name and configuration,
    so whichever runs first trains and the others load. A change to the configuration or
    to any dfp source file gives a new key, so a stale result is never served. The file is
    written to a temporary name and renamed into place, so an interrupted run leaves
    nothing that loads as finished.

    Args:
        name: the run's name, e.g. "fig8" (letters, digits, '-', '_').
        config: a JSON-serialisable dict (numbers, strings, lists; numpy values are fine).
        compute: a function of no arguments returning a picklable result.

    Returns:
        The result, from the cache or freshly computed.
    """
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"run name must be letters, digits, '-' or '_', got {name!r}")
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    path = cache_dir() / f"{name}-{run_key(name, config)[:24]}.pkl"
    if path.exists():
        with open(path, "rb") as file:
            return pickle.load(file)
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "wb") as file:
            pickle.dump(result, file, protocol=pickle.HIGHEST_PROTOCOL)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return result


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"run configs hold numbers, strings and lists, not {type(value).__name__}")
