"""Storage (dfp.storage): trees of arrays and JSON, written atomically, read back exactly, and
a damaged or foreign file refused with its name."""

import json
import zipfile

import numpy as np
import pytest

from dfp import runs, storage


def a_tree():
    return {
        "loss": np.array([1.0, 0.5, np.nan]),
        "curves": {0: {-3: np.linspace(0, 1, 5, dtype=np.float32)}, 12: {-3: np.ones(5)}},
        "labels": {"seconds": 1.5, "stopped": True, "epochs": None},
        "pair": (1, "a"),
        "list": [np.int64(3), 2.5],
    }


def assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b) and all(type(k) is type(l) for k, l in zip(a, b))
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_a_tree_comes_back_exactly_with_its_fields(tmp_path):
    path = storage.write_tree(tmp_path / "t.npz", a_tree(), name="demo", config={"a": 1})
    fields, tree = storage.read_tree(path)
    assert fields == {"name": "demo", "config": {"a": 1}}
    # np.int64 comes back as an int: the record holds numbers, not numpy scalars.
    expected = a_tree()
    expected["list"][0] = 3
    assert_same(tree, expected)
    assert storage.read_tree(path, tree=False)[1] is None
    with zipfile.ZipFile(path) as archive:  # arrays and a JSON record: nothing to unpickle
        assert all(name.endswith(".npy") for name in archive.namelist())


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other format"])
def test_a_damaged_or_foreign_file_is_refused_naming_it(tmp_path, damage, monkeypatch):
    path = storage.write_tree(tmp_path / "t.npz", a_tree())
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"\x80\x04 not a tree")
    else:
        with monkeypatch.context() as patch:
            patch.setattr(storage, "FORMAT", 2)
            storage.write_tree(path, a_tree())
    with pytest.raises(storage.StorageError, match="t.npz"):
        storage.read_tree(path)


def test_objects_cannot_be_stored_and_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(TypeError, match="objects"):
        storage.write_tree(tmp_path / "t.npz", {"x": np.array([object()])})
    with pytest.raises(TypeError, match="function"):
        storage.write_tree(tmp_path / "t.npz", {"f": lambda: None})
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_keeps_the_old_file(tmp_path):
    path = storage.write_json(tmp_path / "s.json", {"a": 1})

    def interrupted(file):
        file.write(b'{"a": ')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        storage.atomic_write(path, interrupted)
    assert json.loads(path.read_text()) == {"a": 1} and list(tmp_path.iterdir()) == [path]


def test_json_takes_numpy_values_and_a_broken_file_names_itself(tmp_path):
    path = storage.write_json(tmp_path / "s.json", {"x": np.arange(2), "y": np.float32(0.5)})
    assert storage.read_json(path) == {"x": [0, 1], "y": 0.5}
    path.write_text('{"x": [0, ')
    with pytest.raises(storage.StorageError, match="s.json is not valid JSON"):
        storage.read_json(path)


def test_a_corrupted_checkpoint_is_ignored_with_a_warning(tmp_path):
    path = tmp_path / "bad.checkpoint.npz"
    path.write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="cannot be read"):
        assert storage.read_checkpoint(path) is None
    assert storage.read_checkpoint(tmp_path / "none.npz") is None
    storage.write_checkpoint(path, {"epoch": 3, "weights": [np.ones(2)]})
    assert storage.read_checkpoint(path)["epoch"] == 3
    assert runs.checkpoint_path() is None  # outside a cached run
