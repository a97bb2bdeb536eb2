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


def gemm_rate():
    """Best float32 GEMM rate of the active backend over a few square sizes, in flop/s."""
    from keras import ops

    best = 0.0
    for size in (1024, 2048, 4096):
        a = ops.convert_to_tensor(np.random.default_rng(0).normal(size=(size, size)).astype(np.float32))
        ops.convert_to_numpy(ops.matmul(a, a))  # warm up
        times = []
        for _ in range(5):
            start = time.perf_counter()
            ops.convert_to_numpy(ops.matmul(a, a))
            times.append(time.perf_counter() - start)
        best = max(best, 2 * size**3 / min(times))
    return best


def authors(n, d, d_o, K):
    """The authors' method: float64, the whole n x n kernel for each delta (dfp.lfr_dense)."""
    import dfp

    x, y = inputs(n, d, d_o)
    start = time.perf_counter()
    values = dfp.lfr_dense(x, y, grid_for(K))
    return {"seconds": time.perf_counter() - start, "lfr": values.tolist()}


def ours(n, d, d_o, K):
    import dfp

    x, y = inputs(n, d, d_o)
    grid = grid_for(K)
    dfp.lfr(x[:256], y[:256], grid)  # compile outside the timing
    if n > 1024:
        dfp.lfr(x[:2048], y[:2048], grid)
    before = rss_kib("VmRSS")
    seconds = []
    # The machine is shared and noisy: the best of a few runs (one for the largest size).
    for _ in range(3 if n <= 20000 else 1):
        start = time.perf_counter()
        values = dfp.lfr(x, y, grid)
        seconds.append(time.perf_counter() - start)
    return {
        "seconds": min(seconds),
        "extra_peak_mib": (rss_kib("VmHWM") - before) / 1024,
        "lfr": values.tolist(),
    }


def child(what, n, d, d_o, K):
    """Run one measurement in a fresh process; return its JSON."""
    code = (
        f"import json, sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
        f"import spectral as b; print(json.dumps(b.{what}({n}, {d}, {d_o}, {K})))"
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

    rate = gemm_rate()
    print(f"backend {keras.backend.backend()}; best float32 GEMM {rate / 1e9:.0f} Gflop/s")
    cases = [] if args.no_target else [("target", *CASES["target"])]
    cases += [(f"n={n}", n, args.dim, 10, args.K) for n in args.sizes]
    header = f"{'case':>8} {'n':>6} {'d':>4} {'K':>3} {'seconds':>8} {'roofline x':>10} {'extra MiB':>9} {'vs authors':>10}"
    print(header)
    for name, n, d, d_o, K in cases:
        result = child("ours", n, d, d_o, K)
        flops = 2 * n * n * d + K * (2 * n * n * d_o + n * n)
        ratio = result["seconds"] / (flops / rate)
        versus = ""
        if n == 5000:
            baseline = child("authors", n, d, d_o, K)
            error = np.max(np.abs(np.array(result["lfr"]) - baseline["lfr"]))
            versus = f"{baseline['seconds'] / result['seconds']:.1f}x (max |dLFR| {error:.1e})"
        print(
            f"{name:>8} {n:>6} {d:>4} {K:>3} {result['seconds']:>8.2f} {ratio:>10.2f} "
            f"{result['extra_peak_mib']:>9.0f} {versus:>10}",
            flush=True,
        )


if __name__ == "__main__":
    main()
