import shutil

from dfp import runs


def test_code_fingerprint_changes_with_any_source_file(tmp_path, monkeypatch):
    copy = tmp_path / "dfp"
    shutil.copytree(runs._PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(runs, "_PACKAGE", copy)
    before = runs.code_fingerprint()
    assert before == runs.code_fingerprint()
    (copy / "spectral.py").write_text((copy / "spectral.py").read_text() + "\n# changed\n")
    assert runs.code_fingerprint() != before
