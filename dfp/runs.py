"""Finished training runs, kept on disk and keyed on what can change them.

A run's key is its name, its configuration (read from the notebook's own parameters cell,
``configuration``), the Keras backend and the fingerprint of the ``dfp`` modules that can
change a run (``TRAINING_MODULES``): a fix to a plot or a claim's wording serves the same
runs, a change to the engine or the training loop trains again.

Each run is one ``.npz`` file: its arrays, and a JSON record of everything else (the result's
structure and numbers, the configuration, backend, code fingerprint, dfp version and
creation time). Loading it never executes code (no pickle). ``python -m dfp runs`` lists
what is cached.
"""

import contextlib
import contextvars
import datetime
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dfp.provenance import TRAINING_MODULES, fingerprint, machine

__all__ = [
    "CACHE_DIR_VARIABLE",
    "TRAINING_MODULES",
    "cache_dir",
    "cached",
    "checkpoint_path",
    "code_fingerprint",
    "configuration",
    "list_runs",
    "load_run",
    "print_runs",
    "read_checkpoint",
    "run_key",
    "used_runs",
    "write_checkpoint",
]

_PACKAGE = Path(__file__).resolve().parent

# The layout of a cache file; a file of another layout is recomputed.
FORMAT = 1

CACHE_DIR_VARIABLE = "DFP_CACHE_DIR"


def code_fingerprint(modules: tuple[str, ...] | None = None) -> str:
    """SHA-256 of ``dfp`` source files (path and bytes), as a hex string
    (``dfp.provenance.fingerprint`` of this package).

    Args:
        modules: module names (e.g. ``TRAINING_MODULES``); None for every source file of
            the package (what an executed notebook depends on).

    Returns:
        The hex digest: anything computed by that code is valid only for this value.
    """
    return fingerprint(_PACKAGE, modules)


def cache_dir() -> Path:
    """Where finished runs are kept: ``$DFP_CACHE_DIR``, else ``~/.cache/dfp/runs``."""
    value = os.environ.get(CACHE_DIR_VARIABLE)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "dfp" / "runs"


def configuration(namespace: dict, notebook: str, *, exclude: tuple[str, ...] = ()) -> dict:
    """A notebook's configuration: the value of every name in its parameters cell.

    The names come from the notebook's cell tagged ``parameters`` and the values from
    ``namespace`` (its ``globals()``, papermill's injected values included), so a
    parameter added to the cell is in the key of every run without a second list.

    Args:
        namespace: the notebook's ``globals()``.
        notebook: its name, e.g. "fig8".
        exclude: parameters that do not change the run being keyed (e.g. the list of
            depths of a figure that caches each depth on its own). Leaving one in only
            retrains more often; it never serves a stale run.

    Returns:
        {parameter: value}, in the cell's order.
    """
    from dfp.parameters import notebook_parameters

    names = list(notebook_parameters(notebook))
    unknown = sorted(set(exclude) - set(names))
    if unknown:
        raise ValueError(f"{notebook} has no parameters {unknown}; its parameters: {names}")
    return {name: namespace[name] for name in names if name not in exclude}


def run_key(name: str, config: dict) -> str:
    """The key of a run: its name, configuration, Keras backend and the training code."""
    import keras

    text = json.dumps(
        {
            "name": name,
            "config": config,
            "backend": keras.backend.backend(),
            "code": code_fingerprint(TRAINING_MODULES),
        },
        sort_keys=True,
        default=_jsonable,
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
                record, result = _load(path)
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
        arrays = {}
        record = {
            "format": FORMAT,
            "name": name,
            "key": key,
            "config": json.loads(json.dumps(config, default=_jsonable)),
            "backend": _backend(),
            "code": code_fingerprint(TRAINING_MODULES),
            "dfp_version": _version(),
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            # Where and how long it was computed (this process's share, when it resumed).
            "machine": machine(),
            "seconds": seconds,
            "result": _encode(result, arrays),
        }
        _write(path, record, arrays)
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
    (``dfp.show_parameters``), so a result loaded from runs trained elsewhere names where."""
    return [dict(entry) for entry in _USED]


# [checkpoint file, training loops started] of the run being computed inside ``cached``.
_CHECKPOINT = contextvars.ContextVar("dfp_checkpoint", default=None)


def checkpoint_path() -> Path | None:
    """Where the run being computed now keeps its checkpoint, or None outside ``cached``.

    ``dfp.training``'s loops save their state there and, started again after an
    interruption, continue from it; ``cached`` deletes it once the run's result is written.
    A compute function that runs several training loops gets one file per loop
    (``.<run>.checkpoint.npz``, then ``.checkpoint-2.npz``, ...), in the order they start.
    """
    current = _CHECKPOINT.get()
    if current is None:
        return None
    current[1] += 1
    path, count = current
    return path if count == 1 else path.with_name(path.name.replace(".npz", f"-{count}.npz"))


def write_checkpoint(path: Path, state: dict) -> None:
    """Write a training loop's state (a tree of numbers, strings, lists, dicts and arrays,
    as ``cached`` results) to ``path`` atomically: a reader sees the old file or the new one."""
    arrays = {}
    record = {"format": FORMAT, "checkpoint": True, "result": _encode(state, arrays)}
    _write(Path(path), record, arrays)


def read_checkpoint(path: Path) -> dict | None:
    """The state ``write_checkpoint`` wrote, or None when there is none; an unreadable file
    (truncated, of another layout) is ignored with a warning, and the loop starts over."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return _load(path)[1]
    except Exception as error:
        warnings.warn(
            f"the checkpoint {path} cannot be read ({type(error).__name__}: {error}); "
            "starting the run from its beginning",
            stacklevel=2,
        )
        return None


def load_run(path: str | Path) -> tuple[dict, Any]:
    """A cached run's file: (its record without the result, the result).

    Raises:
        ValueError: a file of another layout; OSError or ValueError for one that is
            truncated or corrupted.
    """
    record, result = _load(Path(path))
    return {k: v for k, v in record.items() if k != "result"}, result


def list_runs(directory: Path | None = None) -> list[dict]:
    """What the cache holds: one dict per file (path, size in bytes and its record, without
    the result), oldest first; a file that cannot be read is listed with its error."""
    directory = cache_dir() if directory is None else Path(directory)
    entries = []
    for path in sorted(directory.glob("*.npz")):
        entry = {"path": path, "size": path.stat().st_size}
        try:
            record, _ = _load(path, result=False)
            entry.update({k: v for k, v in record.items() if k != "result"})
        except Exception as error:
            entry["error"] = f"{type(error).__name__}: {error}"
        entries.append(entry)
    return sorted(entries, key=lambda e: e.get("created", ""))


@contextlib.contextmanager
def _locked(path):
    """An exclusive lock on ``path`` (created) while the block runs; none where the system
    has no ``fcntl`` (Windows), where parallel jobs may then compute a run twice."""
    try:
        import fcntl
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


# --- the file format ----------------------------------------------------------------------


def _write(path, record, arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    meta = np.frombuffer(json.dumps(record, allow_nan=True).encode(), dtype=np.uint8)
    try:
        with open(partial, "wb") as file:
            np.savez(file, __record__=meta, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _load(path, result=True):
    with np.load(path, allow_pickle=False) as data:
        record = json.loads(bytes(data["__record__"]).decode())
        if record.get("format") != FORMAT:
            raise ValueError(f"format {record.get('format')!r}, this dfp reads {FORMAT}")
        value = _decode(record["result"], data) if result else None
    return record, value


_SCALARS = (str, int, float, bool, type(None))


def _encode(value, arrays):
    """A JSON tree for ``value``; its arrays go into ``arrays`` under the names it refers to."""
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("a cached run cannot hold arrays of Python objects")
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"array": name}
    if isinstance(value, np.generic):
        return _encode(value.item(), arrays)
    if isinstance(value, _SCALARS):
        return {"value": value}
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, _SCALARS + (np.integer,)):
                raise TypeError(
                    f"a cached run's dict keys are numbers or strings, not {type(k).__name__}"
                )
        return {"dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(v, arrays) for v in value]}
    raise TypeError(
        f"a cached run holds numbers, strings, arrays, lists and dicts, not {type(value).__name__}"
    )


def _decode(tree, data):
    ((kind, value),) = tree.items()
    if kind == "array":
        return data[value]
    if kind == "value":
        return value
    if kind == "dict":
        return {_decode(k, data): _decode(v, data) for k, v in value}
    if kind == "list":
        return [_decode(v, data) for v in value]
    if kind == "tuple":
        return tuple(_decode(v, data) for v in value)
    raise ValueError(f"unknown entry {kind!r}")


def _backend():
    import keras

    return keras.backend.backend()


def _version():
    import dfp

    return dfp.__version__


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"run configs hold numbers, strings and lists, not {type(value).__name__}")


def print_runs(directory: str | Path | None = None) -> None:
    """Print a line per cached run (``python -m dfp runs``), then the total size."""
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
            f"code {entry['code'][:12]}  {config}"
        )
    print(f"total {sum(e['size'] for e in entries) / 1e6:.2f} MB")
