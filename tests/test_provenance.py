"""Provenance (dfp.provenance): what a result records about the code and machine."""

import shutil
import subprocess

from dfp import provenance
from dfp.provenance import current_provenance
from tests.notebooks import ROOT


def test_the_record_names_the_commit_code_packages_and_machine():
    record = current_provenance(ROOT)
    assert record["code"] == provenance.fingerprint(ROOT / "dfp")
    assert record["training_version"] == provenance.TRAINING_VERSION
    assert record["commit"] != "unknown"  # the repository is a git checkout
    assert {"keras", "numpy", "snakemake"} <= set(record["packages"])
    assert "cores" in record["hardware"] and isinstance(record["gpus"], list)


def test_outside_a_checkout_the_commit_is_unknown(tmp_path):
    (tmp_path / "dfp").symlink_to(ROOT / "dfp")
    assert current_provenance(tmp_path)["commit"] == "unknown"


def _checkout(tmp_path):
    """A one-commit git checkout holding dfp/ and a committed result."""
    shutil.copytree(ROOT / "dfp", tmp_path / "dfp", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "results" / "medium").mkdir(parents=True)
    (tmp_path / "results" / "medium" / "fig9.summary.json").write_text("{}\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    return tmp_path


def test_regenerating_a_committed_result_in_place_leaves_the_commit_clean(tmp_path):
    root = _checkout(tmp_path)
    (root / "results" / "medium" / "fig9.summary.json").write_text('{"new": 1}\n')
    assert "uncommitted" not in current_provenance(root)["commit"]


def test_a_changed_source_marks_the_commit_as_uncommitted_changes(tmp_path):
    root = _checkout(tmp_path)
    with open(root / "dfp" / "claims.py", "a") as source:
        source.write("# changed\n")
    assert current_provenance(root)["commit"].endswith(" + uncommitted changes")


def test_the_hardware_line_names_amx_where_the_cpu_has_it(tmp_path):
    with_amx = tmp_path / "amx"
    with_amx.write_text("model name\t: Xeon\nflags\t\t: fpu avx512_bf16 amx_tile amx_bf16\n")
    without = tmp_path / "plain"
    without.write_text("model name\t: EPYC\nflags\t\t: fpu avx2 avx512f\n")
    assert provenance._cpu_features(with_amx) == ["AMX", "AVX-512 BF16"]
    assert provenance._cpu_features(without) == []
    assert provenance._cpu_features(tmp_path / "missing") == []
