"""The LFR benchmark runs end to end on the JAX backend, the one a GPU machine has."""

import json
import os
import subprocess
import sys

import pytest

from tests.notebooks import ROOT


@pytest.mark.slow  # a Python under JAX: imports, compiles and times the engine
def test_spectral_benchmark_runs_under_jax_and_reports_each_size(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(ROOT))
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "spectral.py"),
        "--json",
        str(tmp_path / "out.json"),
    ]
    command += [
        "--no-layer-case",
        "--sizes",
        "700",
        "--dim",
        "20",
        "--K",
        "5",
        "--gemm-sizes",
        "256",
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["backend"] == "jax" and report["device"] == "cpu" and report["gemm_flops"] > 0
    (case,) = report["cases"]
    assert (case["n"], case["d"], case["K"]) == (700, 20, 5)
    assert case["seconds"] > 0 and 0 < case["roofline_ratio"] <= case["roofline_ratio_median"]
    # The time inside the engine's compiled calls is part of its run's.
    breakdown = case["breakdown"]
    assert 0 < breakdown["in_calls"] <= breakdown["seconds"]
    assert breakdown["off"] > 0 and breakdown["diagonal"] > 0 and breakdown["tile"] % 8 == 0
