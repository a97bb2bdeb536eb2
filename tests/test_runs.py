import pickle
import shutil

import pytest

from dfp import runs


def test_code_fingerprint_changes_with_any_source_file(tmp_path, monkeypatch):
    copy = tmp_path / "dfp"
    shutil.copytree(runs._PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(runs, "_PACKAGE", copy)
    before = runs.code_fingerprint()
    assert before == runs.code_fingerprint()
    (copy / "spectral.py").write_text((copy / "spectral.py").read_text() + "\n# changed\n")
    assert runs.code_fingerprint() != before



@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DFP_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_a_run_is_computed_once_then_loaded(cache):
    calls = []
    compute = lambda: calls.append(1) or {"value": 42}
    assert runs.cached("demo", {"a": 1}, compute) == {"value": 42}
    assert runs.cached("demo", {"a": 1}, compute) == {"value": 42}
    assert len(calls) == 1
    runs.cached("demo", {"a": 2}, compute)  # another configuration trains again
    assert len(calls) == 2


def test_a_change_to_dfp_trains_again(cache, monkeypatch):
    calls = []
    compute = lambda: calls.append(1) or 1
    runs.cached("demo", {"a": 1}, compute)
    monkeypatch.setattr(runs, "code_fingerprint", lambda: "other code")
    runs.cached("demo", {"a": 1}, compute)
    assert len(calls) == 2


def test_an_interrupted_run_leaves_nothing_that_loads(cache):
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runs.cached("demo", {"a": 1}, interrupted)
    assert list(cache.iterdir()) == []


def test_a_failed_write_leaves_no_partial_file(cache):
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        runs.cached("demo", {"a": 1}, lambda: (lambda: None))  # a lambda cannot be pickled
    assert [p.name for p in cache.iterdir()] == []


def test_bad_names_and_configs(cache):
    with pytest.raises(ValueError, match="run name"):
        runs.cached("../escape", {}, lambda: 1)
    with pytest.raises(ValueError, match="dict"):
        runs.cached("demo", [1], lambda: 1)
    with pytest.raises(TypeError, match="not object"):
        runs.cached("demo", {"a": object()}, lambda: 1)
