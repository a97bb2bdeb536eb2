"""Storage: how dfp keeps what it computed on disk, written once for the run cache, committed
results, sweep summaries, checkpoints and the GPU run.

Two formats, both written atomically (a temporary file in the same folder, flushed, then
renamed into place, so a reader sees the old file or the new one, never half of one):

- **JSON** (``write_json``/``read_json``): a summary a person reads and commits.
- **A tree with arrays** (``write_tree``/``read_tree``): one ``.npz`` file holding the
  tree's arrays and a JSON record of everything else (its structure, numbers and strings,
  and any fields the caller adds). Loading it never executes code (no pickle), and a file
  of another layout is an error, never a silently wrong value.

Pure numpy; no Keras.
"""

import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "FORMAT",
    "StorageError",
    "atomic_write",
    "jsonable",
    "read_checkpoint",
    "read_json",
    "read_tree",
    "write_checkpoint",
    "write_json",
    "write_tree",
]

# The layout of a tree file; a file of another layout is refused.
FORMAT = 1

_SCALARS = (str, int, float, bool, type(None))


class StorageError(ValueError):
    """A file that is not what it should be: truncated, corrupted or of another layout."""


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write a file atomically: ``write(file)`` fills a temporary file beside ``path``,
    which is flushed to disk and renamed over ``path``.

    Args:
        path: the file to write (its folder is created).
        write: a function of one binary file object.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def jsonable(value: Any) -> Any:
    """``json.dumps``'s ``default``: numpy arrays and scalars as lists and numbers.

    Args:
        value: what ``json`` cannot write itself.

    Returns:
        A list (an array) or a Python number (a numpy scalar).

    Raises:
        TypeError: any other value.
    """
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"JSON holds numbers, strings, lists and dicts, not {type(value).__name__}")


def write_json(path: str | Path, record: dict) -> Path:
    """Write ``record`` as indented JSON (numpy values converted), atomically.

    Args:
        path: the file.
        record: a dict of numbers, strings, lists, dicts and numpy values.

    Returns:
        The path written.
    """
    text = json.dumps(record, indent=1, default=jsonable) + "\n"
    return atomic_write(path, lambda file: file.write(text.encode()))


def read_json(path: str | Path) -> Any:
    """The JSON in ``path``.

    Args:
        path: the file.

    Returns:
        The value it holds.

    Raises:
        StorageError: naming the file, when it is not valid JSON (truncated, corrupted).
    """
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise StorageError(f"{path} is not valid JSON ({error})") from error


def write_tree(path: str | Path, tree: Any, **fields: Any) -> Path:
    """Write a tree of values and arrays to one ``.npz`` file, atomically.

    Args:
        path: the file.
        tree: nested dicts (keys str, int, float, bool or None), lists and tuples of
            numbers, strings, None and numpy arrays (not of objects).
        **fields: JSON-serialisable fields kept beside the tree in the file's record
            (e.g. a run's key and configuration), read back by ``read_tree``.

    Returns:
        The path written.
    """
    arrays = {}
    record = {**fields, "format": FORMAT, "result": _encode(tree, arrays)}
    meta = np.frombuffer(json.dumps(record, allow_nan=True).encode(), dtype=np.uint8)
    return atomic_write(path, lambda file: np.savez(file, __record__=meta, **arrays))


def read_tree(path: str | Path, *, tree: bool = True) -> tuple[dict, Any]:
    """A file ``write_tree`` wrote: (its record's fields, the tree).

    Args:
        path: the file.
        tree: False to read the fields only (the tree comes back as None).

    Returns:
        (the fields written beside the tree, the tree or None).

    Raises:
        StorageError: a file of another layout, or one that cannot be read (truncated,
            corrupted), naming it.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            record = json.loads(bytes(data["__record__"]).decode())
            if record.get("format") != FORMAT:
                raise StorageError(
                    f"{path} has layout {record.get('format')!r}; this dfp reads {FORMAT}"
                )
            value = _decode(record["result"], data) if tree else None
    except StorageError:
        raise
    except Exception as error:  # zip, JSON or key errors: all mean a damaged file
        raise StorageError(f"{path} cannot be read ({type(error).__name__}: {error})") from error
    return {k: v for k, v in record.items() if k not in ("format", "result")}, value


def write_checkpoint(path: str | Path, state: dict) -> None:
    """Write a training loop's state (a tree, as ``write_tree``) atomically.

    Args:
        path: the checkpoint file.
        state: the loop's state (a tree of numbers, strings, arrays, lists and dicts).

    Returns:
        None; the file is written.
    """
    write_tree(path, state, checkpoint=True)


def read_checkpoint(path: str | Path) -> dict | None:
    """The state ``write_checkpoint`` wrote, or None when there is none; an unreadable file
    (truncated, of another layout) is ignored with a warning, and the loop starts over.

    Args:
        path: the checkpoint file.

    Returns:
        The state, or None (no file, or an unreadable one).
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        return read_tree(path)[1]
    except StorageError as error:
        warnings.warn(f"{error}; starting the run from its beginning", stacklevel=2)
        return None


def _encode(value, arrays):
    """A JSON tree for ``value``; its arrays go into ``arrays`` under the names it refers to."""
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("a stored tree cannot hold arrays of Python objects")
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
                    f"a stored tree's dict keys are numbers or strings, not {type(k).__name__}"
                )
        return {"dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(v, arrays) for v in value]}
    raise TypeError(
        f"a stored tree holds numbers, strings, arrays, lists and dicts, not {type(value).__name__}"
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
    raise StorageError(f"unknown entry {kind!r}")
