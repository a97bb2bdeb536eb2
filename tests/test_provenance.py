"""Provenance (dfp.provenance): what a result records about the code and machine."""

import dfp
from tests.notebooks import ROOT


def test_the_record_names_the_commit_code_packages_and_machine():
    record = dfp.current_provenance(ROOT)
    assert record["code"] == dfp.runs.code_fingerprint()
    assert record["training_code"] == dfp.runs.code_fingerprint(dfp.runs.TRAINING_MODULES)
    assert record["commit"] != "unknown"  # the repository is a git checkout
    assert {"keras", "numpy", "snakemake"} <= set(record["packages"])
    assert "cores" in record["hardware"] and isinstance(record["gpus"], list)


def test_outside_a_checkout_the_commit_is_unknown(tmp_path):
    (tmp_path / "dfp").symlink_to(ROOT / "dfp")
    assert dfp.current_provenance(tmp_path)["commit"] == "unknown"
