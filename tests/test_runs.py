import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from dfp import runs, storage
from tests.notebooks import ROOT
from tests.test_storage import a_tree, assert_same


def test_the_key_holds_the_training_version_not_the_bytes_of_the_code(monkeypatch):
    # Moving or tidying code keeps every run; a new training version trains again.
    key = runs.run_key("demo", {"a": 1})
    assert key == runs.run_key("demo", {"a": 1})
    assert key != runs.run_key("demo", {"a": 2}) and key != runs.run_key("other", {"a": 1})
    monkeypatch.setattr(runs, "TRAINING_VERSION", runs.TRAINING_VERSION + 1)
    assert runs.run_key("demo", {"a": 1}) != key


def test_the_key_names_the_backend_keras_would_use_without_loading_keras():
    code = (
        "import sys; from dfp import runs; b = runs.keras_backend(); "
        "assert 'keras' not in sys.modules, 'keyed by loading keras'; print(b)"
    )
    for backend in ("jax", "torch"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "KERAS_BACKEND": backend},
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == backend


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DFP_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_a_run_is_computed_once_then_loaded_as_it_was(cache):
    calls = []
    compute = lambda: calls.append(1) or a_tree()
    first = runs.cached("demo", {"a": 1}, compute)
    loaded = runs.cached("demo", {"a": 1}, compute)
    assert len(calls) == 1
    # np.int64 comes back as an int: the record holds numbers, not numpy scalars.
    expected = a_tree()
    expected["list"][0] = 3
    assert_same(loaded, expected)
    assert first is not loaded
    runs.cached("demo", {"a": 2}, compute)  # another configuration trains again
    assert len(calls) == 2


def test_two_processes_asking_for_one_run_at_once_compute_it_once(cache):
    """Parallel workflow jobs of figures that share a run (Figs. 5-7): one trains, one loads."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    calls = context.Queue()
    jobs = [context.Process(target=_slow_run, args=(str(cache), calls)) for _ in range(2)]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join(timeout=120)
        assert job.exitcode == 0
    results = [calls.get(timeout=10) for _ in range(3)]
    assert sorted(r[0] for r in results) == ["computed", "result", "result"]
    assert results.count(("result", 42)) == 2


def _slow_run(directory, calls):
    import time
    from pathlib import Path

    os.environ[runs.CACHE_DIR_VARIABLE] = directory
    arrived = Path(directory) / f"arrived-{os.getpid()}"
    arrived.touch()

    def compute():
        # The run is computed until the other process has asked for it too, so the two ask
        # at once however fast the machine (a condition, with a timeout, not a race).
        calls.put(("computed", None))
        deadline = time.monotonic() + 60
        while len(list(Path(directory).glob("arrived-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        return {"answer": 42}

    calls.put(("result", runs.cached("shared", {"a": 1}, compute)["answer"]))


def test_a_cache_file_records_its_configuration_and_provenance_and_is_listed(cache):
    runs.cached("demo", {"a": 1, "grid": np.array([1.0, 2.0])}, lambda: {"x": np.zeros(3)})
    (entry,) = runs.list_runs()
    assert entry["name"] == "demo" and entry["config"] == {"a": 1, "grid": [1.0, 2.0]}
    assert entry["backend"] in ("tensorflow", "jax", "torch")
    assert entry["training_version"] == runs.TRAINING_VERSION
    assert entry["created"].startswith("20") and entry["size"] > 0
    listed = subprocess.run(
        [sys.executable, "-m", "dfp", "runs", str(cache)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert "1 cached runs" in listed.stdout and "demo-" in listed.stdout and "a=1" in listed.stdout


def test_loading_never_unpickles(cache):
    runs.cached("demo", {"a": 1}, lambda: {"x": np.zeros(3)})
    (path,) = cache.glob("*.npz")
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            assert name.endswith(".npy")
    with pytest.raises(TypeError, match="objects"):
        runs.cached("demo", {"a": 2}, lambda: {"x": np.array([object()])})


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other format", "other key"])
def test_an_unreadable_cache_file_is_recomputed_with_a_warning(cache, damage, monkeypatch):
    calls = []
    compute = lambda: calls.append(1) or {"x": np.arange(4)}
    runs.cached("demo", {"a": 1}, compute)
    (path,) = cache.glob("*.npz")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"\x80\x04 not a cache file")
    else:
        record, tree = storage.read_tree(path)
        if damage == "other format":
            with monkeypatch.context() as patch:
                patch.setattr(storage, "FORMAT", 999)
                storage.write_tree(path, tree, **record)
        else:
            storage.write_tree(path, tree, **dict(record, key="x"))
    with pytest.warns(UserWarning, match=f"{path.name}.*computing it again"):
        result = runs.cached("demo", {"a": 1}, compute)
    np.testing.assert_array_equal(result["x"], np.arange(4))
    assert len(calls) == 2
    assert runs.cached("demo", {"a": 1}, compute)["x"].tolist() == [0, 1, 2, 3] and len(calls) == 2


def test_a_change_to_training_code_trains_again(cache, monkeypatch):
    calls = []
    compute = lambda: calls.append(1) or 1
    runs.cached("demo", {"a": 1}, compute)
    monkeypatch.setattr(runs, "TRAINING_VERSION", runs.TRAINING_VERSION + 1)
    runs.cached("demo", {"a": 1}, compute)
    assert len(calls) == 2


def test_an_interrupted_run_leaves_nothing_that_loads(cache):
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runs.cached("demo", {"a": 1}, interrupted)
    assert files(cache) == []


def test_a_result_that_cannot_be_stored_leaves_no_partial_file(cache):
    with pytest.raises(TypeError, match="not function"):
        runs.cached("demo", {"a": 1}, lambda: {"f": lambda: None})
    assert files(cache) == []


def files(cache):
    """The cache folder's files but the (empty) lock files that parallel processes share."""
    names = [p.name for p in cache.iterdir()]
    locks = [n for n in names if n.startswith(".") and n.endswith(".lock")]
    assert all((cache / n).stat().st_size == 0 for n in locks)
    return sorted(set(names) - set(locks))


def test_bad_names_and_configs(cache):
    with pytest.raises(ValueError, match="run name"):
        runs.cached("../escape", {}, lambda: 1)
    with pytest.raises(ValueError, match="dict"):
        runs.cached("demo", [1], lambda: 1)
    with pytest.raises(TypeError, match="not object"):
        runs.cached("demo", {"a": object()}, lambda: 1)


def test_the_record_is_json(cache):
    runs.cached("demo", {"a": 1}, lambda: {"x": 1.0})
    (path,) = cache.glob("*.npz")
    with np.load(path, allow_pickle=False) as data:
        record = json.loads(bytes(data["__record__"]).decode())
    assert record["format"] == storage.FORMAT and record["result"] == {
        "dict": [[{"value": "x"}, {"value": 1.0}]]
    }


def test_a_page_knows_which_runs_it_used_where_they_were_computed(tmp_path, monkeypatch):
    monkeypatch.setenv("DFP_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(runs, "_USED", [])
    runs.cached("used", {"a": 1}, lambda: {"x": np.arange(3)})
    runs.cached("used", {"a": 1}, lambda: pytest.fail("computed twice"))
    first, second = runs.used_runs()
    assert (first["loaded"], second["loaded"]) == (False, True)
    assert first["key"] == second["key"] and first["hardware"] and "cores" in first["hardware"]
    assert first["seconds"] is not None and first["backend"] == second["backend"]
    (path,) = tmp_path.glob("used-*.npz")
    record, result = runs.load_run(path)
    assert record["machine"]["hardware"] == first["hardware"] and "result" not in record
    np.testing.assert_array_equal(result["x"], np.arange(3))
