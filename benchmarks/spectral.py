"""Speed and memory of dfp.lfr, as ratios against baselines measured in the same run.

    .venv/bin/python benchmarks/spectral.py                 # n = 5,000, 20,000, 60,000
    .venv/bin/python benchmarks/spectral.py --sizes 5000    # a quick look

Prints, for each size: seconds, the ratio to the roofline (the flops of the computation,
2 n^2 d + K (2 n^2 d_o + n^2), at this machine's best float32 GEMM rate measured in this
run), the extra peak resident memory, and at n = 5,000 the speed-up over the authors'
method (float64, one dense n x n kernel per delta). Each measurement runs in a fresh
process, so that memory peaks do not mix. Works on any Keras backend (KERAS_BACKEND).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

CASES = {
    # name: (n, d, d_o, K)
    "target": (20000, 500, 10, 40),
}


def inputs(n, d, d_o, seed=0):
    """Hidden-layer-like inputs (tanh of a random projection) and one-hot labels."""
    r = np.random.default_rng(seed)
    x = np.tanh(r.normal(size=(n, d)).astype(np.float32) * 0.5)
    y = np.eye(d_o, dtype=np.float32)[r.integers(0, d_o, n)]
    return x, y


def grid_for(K):
    # A uniform grid (the exp-then-multiply path) over the range where 500-800 dimensional
    # normalised hidden layers turn over.
    return np.linspace(0.005, 0.2, K)


def rss_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def gemm_rate(sizes=(1024, 2048, 4096), repeats=5):
    """Best float32 GEMM rate of the active backend over a few square sizes: (flop/s, size)."""
    from keras import ops

    best = (0.0, None)
    for size in sizes:
        a = ops.convert_to_tensor(np.random.default_rng(0).normal(size=(size, size)).astype(np.float32))
        ops.convert_to_numpy(ops.matmul(a, a))  # warm up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            ops.convert_to_numpy(ops.matmul(a, a))
            times.append(time.perf_counter() - start)
        best = max(best, (2 * size**3 / min(times), size))
    return best


def authors(n, d, d_o, K):
    """The authors' method: float64, the whole n x n kernel for each delta (dfp.lfr_dense)."""
    import dfp

    x, y = inputs(n, d, d_o)
    start = time.perf_counter()
    values = dfp.lfr_dense(x, y, grid_for(K))
    return {"seconds": time.perf_counter() - start, "lfr": values.tolist()}


def ours(n, d, d_o, K, gemm_size):
    """Time dfp.lfr; before each timed run, measure the GEMM rate again.

    The machine is shared and its speed drifts over seconds, so each run is paired with the
    baseline measured just before it, and the ratio is taken per pair.
    """
    import dfp
    from dfp import spectral

    x, y = inputs(n, d, d_o)
    grid = grid_for(K)
    # Compile outside the timing: four tiles of the size n gets meet every kind of block
    # group the full run meets (diagonal or not, a full chain or the last one alone).
    warm = min(n, 4 * spectral._tile_size(n))
    dfp.lfr(x[:warm], y[:warm], grid)
    runs, extra = [], []
    for _ in range(3 if n <= 20000 else 1):
        rate, _ = gemm_rate(sizes=(gemm_size,), repeats=3)
        # Reset the peak (Linux: 5 > clear_refs) so that the GEMM's buffers do not count.
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        before = rss_kib("VmRSS")
        start = time.perf_counter()
        values = dfp.lfr(x, y, grid)
        runs.append((time.perf_counter() - start, rate))
        extra.append((rss_kib("VmHWM") - before) / 1024)
    return {"runs": runs, "extra_peak_mib": max(extra), "lfr": values.tolist()}


def child(what, *args):
    """Run one measurement in a fresh process; return its JSON."""
    code = (
        f"import json, sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
        f"import spectral as b; print(json.dumps(b.{what}{tuple(args)!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000, 20000, 60000])
    parser.add_argument("--dim", type=int, default=784)
    parser.add_argument("--K", type=int, default=40)
    parser.add_argument("--no-target", action="store_true", help="skip n=20,000, d=500")
    args = parser.parse_args()

    import keras

    rate, gemm_size = gemm_rate()
    print(f"backend {keras.backend.backend()}; best float32 GEMM {rate / 1e9:.0f} Gflop/s (size {gemm_size})")
    print("roofline x: seconds / (flops / GEMM rate), the rate re-measured just before each run;")
    print("best and median of the runs (the machine is shared: its speed drifts)")
    cases = [] if args.no_target else [("target", *CASES["target"])]
    cases += [(f"n={n}", n, args.dim, 10, args.K) for n in args.sizes]
    header = (
        f"{'case':>8} {'n':>6} {'d':>4} {'K':>3} {'seconds':>8} {'roofline x':>10} {'median':>6} "
        f"{'extra MiB':>9} {'vs authors':>10}"
    )
    print(header)
    for name, n, d, d_o, K in cases:
        result = child("ours", n, d, d_o, K, gemm_size)
        flops = 2 * n * n * d + K * (2 * n * n * d_o + n * n)
        seconds = min(t for t, _ in result["runs"])
        ratios = [t / (flops / r) for t, r in result["runs"]]
        versus = ""
        if n == 5000:
            baseline = child("authors", n, d, d_o, K)
            error = np.max(np.abs(np.array(result["lfr"]) - baseline["lfr"]))
            versus = f"{baseline['seconds'] / seconds:.1f}x (max |dLFR| {error:.1e})"
        print(
            f"{name:>8} {n:>6} {d:>4} {K:>3} {seconds:>8.2f} {min(ratios):>10.2f} {np.median(ratios):>6.2f} "
            f"{result['extra_peak_mib']:>9.0f} {versus:>10}",
            flush=True,
        )


if __name__ == "__main__":
    main()
