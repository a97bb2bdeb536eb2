"""Finished training runs, kept on disk and keyed on what can change their numbers.

A run's key is its name, its configuration (the page's parameters that change the run), the
Keras backend and ``TRAINING_VERSION``, the version of the code that can change a run's numbers
(the networks, the data, the training loops, the spectra they record and the measure). Moving
or tidying that code keeps every cached run and every committed result; a change that alters a
number bumps the version, and a committed golden tiny run (``tests/golden/``,
``tests/test_golden.py``) fails the suite when the numbers change and the version was not bumped.

Each run is one ``.npz`` file written by ``dfp.storage.write_tree``: its arrays, and a JSON
record of everything else (the result's structure and numbers, the configuration, backend,
training version, dfp version and creation time). Loading it never executes code (no pickle).
``python -m dfp runs`` lists what is cached. Imports no Keras.
"""

import contextlib
import contextvars
import datetime
import hashlib
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dfp import __version__
from dfp.provenance import TRAINING_VERSION, machine
from dfp.storage import jsonable, read_tree, write_tree

__all__ = [
    "CACHE_DIR_VARIABLE",
    "TRAINING_VERSION",
    "cache_dir",
    "cached",
    "checkpoint_path",
    "keras_backend",
    "list_runs",
    "load_run",
    "print_runs",
    "run_key",
    "used_runs",
]

CACHE_DIR_VARIABLE = "DFP_CACHE_DIR"


def cache_dir() -> Path:
    """Where finished runs are kept: ``$DFP_CACHE_DIR``, else ``~/.cache/dfp/runs``.

    Returns:
        The folder (it may not exist yet).
    """
    value = os.environ.get(CACHE_DIR_VARIABLE)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "dfp" / "runs"


def keras_backend() -> str:
    """The Keras backend runs are trained on: Keras's own answer once Keras is loaded (a run is
    always computed after it is), else what Keras will choose ($KERAS_BACKEND, then its default
    TensorFlow), so that the book's machinery keys runs without loading Keras.

    Returns:
        The backend's name, e.g. "tensorflow" or "jax".
    """
    keras = sys.modules.get("keras")
    if keras is not None:
        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def run_key(name: str, config: dict) -> str:
    """The key of a run: its name, configuration, Keras backend and ``TRAINING_VERSION``.

    Args:
        name: the run's name.
        config: its configuration (JSON-serialisable; numpy values are fine).

    Returns:
        64 hex digits.
    """
    text = json.dumps(
        {
            "name": name,
            "config": config,
            "backend": keras_backend(),
            "training_version": TRAINING_VERSION,
        },
        sort_keys=True,
        default=jsonable,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def cached(name: str, config: dict, compute: Callable[[], Any]) -> Any:
    """compute(), run once per configuration and training code, then loaded from the cache.

    Figures that share a training run call this with the same name and configuration,
    so whichever runs first trains and the others load. The file is written to a
    temporary name and renamed into place, so an interrupted run leaves nothing that
    loads as finished. A file that cannot be read (truncated, corrupted, of another
    layout) is computed again, with a warning naming it.

    Args:
        name: the run's name, e.g. "fig8" (letters, digits, '-', '_').
        config: a JSON-serialisable dict (numbers, strings, lists; numpy values are fine).
        compute: a function of no arguments returning the result: nested dicts (keys
            str, int, float, bool or None), lists and tuples of numbers, strings, None
            and numpy arrays (not of objects).

    Returns:
        The result, from the cache or freshly computed.
    """
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"run name must be letters, digits, '-' or '_', got {name!r}")
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    key = run_key(name, config)
    path = cache_dir() / f"{name}-{key[:24]}.npz"
    # One process computes a run at a time: a second one (a parallel workflow job of a figure
    # that shares the run) waits for it and then loads its file.
    with _locked(path.with_name(f".{path.stem}.lock")):
        if path.exists():
            try:
                record, result = read_tree(path)
                if record.get("key") != key:
                    raise ValueError("it holds another run's key")
                _USED.append(_used(record, loaded=True))
                return result
            except Exception as error:  # anything unreadable is recomputed, never served
                warnings.warn(
                    f"the cached run {path} cannot be read ({type(error).__name__}: {error}); "
                    "computing it again",
                    stacklevel=2,
                )
        token = _CHECKPOINT.set([path.with_name(f".{path.stem}.checkpoint.npz"), 0])
        started = time.perf_counter()
        try:
            result = compute()
        finally:
            _CHECKPOINT.reset(token)
        seconds = time.perf_counter() - started
        record = {
            "name": name,
            "key": key,
            "config": json.loads(json.dumps(config, default=jsonable)),
            "backend": keras_backend(),
            "training_version": TRAINING_VERSION,
            "dfp_version": __version__,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            # Where and how long it was computed (this process's share, when it resumed).
            "machine": machine(),
            "seconds": seconds,
        }
        write_tree(path, result, **record)
        _USED.append(_used(record, loaded=False))
        # The finished run replaces its checkpoints (one per training loop it ran).
        for stale in path.parent.glob(f".{path.stem}.checkpoint*.npz"):
            stale.unlink(missing_ok=True)
    return result


# Every run ``cached`` served in this process, computed or loaded, in order (``used_runs``).
_USED = []


def _used(record, loaded):
    machine = record.get("machine") or {}
    return {
        "run": record["name"],
        "key": record["key"][:24],
        "created": record.get("created"),
        "backend": record.get("backend"),
        "hardware": machine.get("hardware"),
        "gpus": machine.get("gpus", []),
        "seconds": record.get("seconds"),
        "loaded": loaded,
    }


def used_runs() -> list[dict]:
    """The runs ``cached`` has served in this process, in order: for each, its name, key
    (24 hex digits), when and on which machine (hardware, GPUs) and backend it was computed,
    in how many seconds, and whether this process loaded it or computed it. A page lists them
    (``dfp.page.show_parameters``), so a result loaded from runs trained elsewhere names
    where.

    Returns:
        A list of dicts (run, key, created, backend, hardware, gpus, seconds, loaded), copies.
    """
    return [dict(entry) for entry in _USED]


# [checkpoint file, training loops started] of the run being computed inside ``cached``.
_CHECKPOINT = contextvars.ContextVar("dfp_checkpoint", default=None)


def checkpoint_path() -> Path | None:
    """Where the run being computed now keeps its checkpoint, or None outside ``cached``.

    ``dfp.training``'s loops save their state there and, started again after an
    interruption, continue from it; ``cached`` deletes it once the run's result is written.
    A compute function that runs several training loops gets one file per loop
    (``.<run>.checkpoint.npz``, then ``.checkpoint-2.npz``, ...), in the order they start.

    Returns:
        The checkpoint file of the training loop that asks, or None outside ``cached``.
    """
    current = _CHECKPOINT.get()
    if current is None:
        return None
    current[1] += 1
    path, count = current
    return path if count == 1 else path.with_name(path.name.replace(".npz", f"-{count}.npz"))


def load_run(path: str | Path) -> tuple[dict, Any]:
    """A cached run's file: (its record without the result, the result).

    Args:
        path: the run's ``.npz`` file.

    Returns:
        (its record: key, configuration, backend, ...; the result).

    Raises:
        ValueError: a file of another layout; OSError or ValueError for one that is
            truncated or corrupted.
    """
    return read_tree(path)


def list_runs(directory: str | Path | None = None) -> list[dict]:
    """What the cache holds: one dict per file (path, size in bytes and its record, without
    the result), oldest first; a file that cannot be read is listed with its error.

    Args:
        directory: the cache folder (default: ``cache_dir()``).

    Returns:
        A list of dicts: path, size, and the record's fields or "error".
    """
    directory = cache_dir() if directory is None else Path(directory)
    entries = []
    for path in sorted(directory.glob("*.npz")):
        entry = {"path": path, "size": path.stat().st_size}
        try:
            record, _ = read_tree(path, tree=False)
            entry.update(record)
        except Exception as error:
            entry["error"] = f"{type(error).__name__}: {error}"
        entries.append(entry)
    return sorted(entries, key=lambda e: e.get("created", ""))


@contextlib.contextmanager
def _locked(path):
    """An exclusive lock on ``path`` (created) while the block runs; none where the system
    has no ``fcntl`` (Windows), where parallel jobs may then compute a run twice."""
    try:
        import fcntl  # deferred: absent on Windows, where runs go unlocked
    except ImportError:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def print_runs(directory: str | Path | None = None) -> None:
    """Print a line per cached run (``python -m dfp runs``), then the total size.

    Args:
        directory: the cache folder (default: ``cache_dir()``).

    Returns:
        None; the lines go to stdout.
    """
    directory = cache_dir() if directory is None else Path(directory)
    entries = list_runs(directory)
    print(f"{len(entries)} cached runs in {directory}")
    for entry in entries:
        size = f"{entry['size'] / 1e6:.2f} MB"
        if "error" in entry:
            print(f"  {entry['path'].name}  {size}  unreadable: {entry['error']}")
            continue
        config = ", ".join(f"{k}={v}" for k, v in entry["config"].items())
        print(
            f"  {entry['path'].name}  {size}  {entry['created']}  {entry['backend']}  "
            f"training v{entry.get('training_version', '?')}  {config}"
        )
    print(f"total {sum(e['size'] for e in entries) / 1e6:.2f} MB")
