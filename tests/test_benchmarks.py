"""The LFR benchmark runs end to end on the JAX backend, the one a GPU machine has."""

import os
import re
import subprocess
import sys

from tests.notebooks import ROOT


def test_spectral_benchmark_runs_under_jax_and_prints_a_row_per_size():
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(ROOT))
    command = [sys.executable, str(ROOT / "benchmarks" / "spectral.py")]
    command += ["--no-target", "--sizes", "700", "--dim", "20", "--K", "5", "--gemm-sizes", "256"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    header = done.stdout.splitlines()[0]
    assert header.startswith("backend jax on cpu;"), header
    rows = [line.split() for line in done.stdout.splitlines() if line.strip().startswith("n=")]
    assert len(rows) == 1, done.stdout
    name, n, d, K, seconds, ratio, median, extra = rows[0][:8]
    assert (n, d, K) == ("700", "20", "5")
    assert float(seconds) > 0 and 0 < float(ratio) <= float(median)
    assert re.fullmatch(r"-?\d+", extra), extra
    # The breakdown after the row: the time inside the engine's compiled calls is part of its run's.
    breakdown = re.search(r"one more run: ([\d.]+) s, ([\d.]+) s of it in the engine's compiled calls", done.stdout)
    assert breakdown, done.stdout
    assert 0 < float(breakdown[2]) <= float(breakdown[1])
    assert re.search(r"[\d.]+ ms off the diagonal, [\d.]+ ms on it; 4 grid steps: ", done.stdout), done.stdout
