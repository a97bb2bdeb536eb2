"""Speed and memory of dfp.lfr, as ratios against baselines measured in the same run.

    .venv/bin/python benchmarks/spectral.py                 # n = 5,000, 20,000, 60,000
    .venv/bin/python benchmarks/spectral.py --sizes 5000    # a quick look
    KERAS_BACKEND=jax python benchmarks/spectral.py --no-layer-case --sizes 60000 --K 50   # a GPU

Prints, for each size: seconds, the ratio to the roofline (the flops of the computation, 2 n^2 d + K
(2 n^2 d_o + n^2), at this machine's best float32 GEMM rate measured in this run), the extra peak
resident memory, and at n = 5,000 the speed-up over the authors' method (float64, one dense n x n
kernel per delta), each side's best of three runs. Each measurement runs in a fresh process, so that
memory peaks do not mix. Works on any Keras backend (KERAS_BACKEND); on a GPU the roofline is the
card's float32 rate (TensorFloat-32 off, as in dfp.lfr), and the extra memory is the host's, with
the device's peak printed after it where the backend reports it (JAX).

Under each row, where the time goes, from one more run and a microbenchmark in the same
process: the seconds spent inside the engine's compiled calls (the rest is the host's
Python and numpy work), and the cost of one grid point on one kernel block off the diagonal
(a multiply and two thin products with [Y, 1]) and on it (one product fewer), which puts
the grid steps' share of the run in seconds.
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
    "layer": (20000, 500, 10, 40),
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


def device_name():
    """The device the backend computes on, in words: "cpu", or "gpu (its model)"."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        device = jax.devices()[0]
        return "cpu" if device.platform == "cpu" else f"{device.platform} ({device.device_kind})"
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return (
                "gpu ("
                + tf.config.experimental.get_device_details(gpus[0]).get("device_name", "?")
                + ")"
            )
    return "cpu"


def device_peak_mib():
    """Peak memory in use on the accelerator so far where the backend reports it (JAX), or None."""
    import keras

    if keras.backend.backend() != "jax" or device_name() == "cpu":
        return None
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return stats["peak_bytes_in_use"] / 2**20 if "peak_bytes_in_use" in stats else None


def gemm_rate(sizes=None, repeats=5):
    """Best float32 GEMM rate of the active backend over a few square sizes: (flop/s, size).

    sizes: default 1,024 to 4,096, and 8,192 too on an accelerator (which needs it to
    reach its peak).
    """
    from keras import ops

    from dfp import _backend, _lfr_engine

    if sizes is None:
        sizes = (1024, 2048, 4096) if device_name() == "cpu" else (1024, 2048, 4096, 8192)
    # The engine's own compiled product, so with its precision settings: on recent GPUs a
    # plain product may use TensorFloat-32 (10 mantissa bits), and the roofline would be
    # that of another number format.
    product = _backend.compiled(_lfr_engine.gram)
    best = (0.0, None)
    for size in sizes:
        a = ops.convert_to_tensor(
            np.random.default_rng(0).normal(size=(size, size)).astype(np.float32)
        )
        # One element back to the host waits for the product (JAX dispatches
        # asynchronously) without timing a copy of the whole result off a GPU.
        ops.convert_to_numpy(product(a, a)[0, 0])  # warm up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            ops.convert_to_numpy(product(a, a)[0, 0])
            times.append(time.perf_counter() - start)
        best = max(best, (2 * size**3 / min(times), size))
    return best


def authors(n, d, d_o, K, repeats=3):
    """The authors' method: float64, the whole n x n kernel for each delta (dfp.lfr_reference).

    Timed as ours is, the best of three runs: their first run in a process is also their
    slowest (5.7 s here at n = 5,000 against 3.9-4.0 s for the next ones), and ours is timed
    after a warm-up.
    """
    import dfp

    x, y = inputs(n, d, d_o)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        values = dfp.lfr_reference(x, y, grid_for(K))
        times.append(time.perf_counter() - start)
    return {"seconds": min(times), "first_seconds": times[0], "lfr": values.tolist()}


class CallTimer:
    """Seconds spent inside the engine's compiled calls, while ``active``.

    Wraps every function the engine compiles (``dfp._backend``). While active, each call waits for
    its results (JAX returns before the device has finished), so that the time is the call's work.
    """

    def __init__(self):
        from dfp import _backend

        self.active, self.seconds = False, 0.0
        compile_ = _backend.compile_for_backend

        def compile_timed(fn, xla=False):
            compiled = compile_(fn, xla)

            def call(*args):
                if not self.active:
                    return compiled(*args)
                start = time.perf_counter()
                out = compiled(*args)
                wait(out)
                self.seconds += time.perf_counter() - start
                return out

            return call

        _backend.compile_for_backend = compile_timed
        _backend.CACHE.clear()


def wait(out):
    """Wait until the backend has computed ``out`` (a nest of tensors).

    JAX returns before its results are computed, on any device; TensorFlow and PyTorch do so
    on a GPU, where copying one element of each result to the host waits for it. On a CPU,
    TensorFlow and PyTorch have computed the results when the call returns.
    """
    import keras
    from keras import ops

    from dfp import _backend

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        jax.block_until_ready(out)
    elif _backend.on_accelerator(backend):
        for leaf in keras.tree.flatten(out):
            ops.convert_to_numpy(ops.reshape(leaf, (-1,))[:1])


def grid_point_cost(tile, d_o, K, repeats=5):
    """Seconds per grid point on one tile x tile kernel block: the engine's own compiled sums
    for two blocks at once (as it calls them), timed with K grid points and with 1, the
    difference divided by K - 1 and by 2.

    Off the diagonal a grid point is a multiply and two thin products with [Y, 1], on it a
    multiply and one product. How a step divides between them is not measured: within one
    call the two blocks' work overlaps, so the difference of the two costs is not one
    product's; a chain of multiplies timed alone is fused into one pass by XLA; and one
    block per call is bound by each step's latency (on this CPU a step then takes about as long
    as two blocks' steps do).

    Returns (seconds per grid point on a block off the diagonal, on the diagonal); NaN for
    K < 2, where there are no grid steps.
    """
    if K < 2:
        return (float("nan"),) * 2
    from keras import ops

    from dfp import _backend, _lfr_engine

    r = np.random.default_rng(1)
    # -d^2/2 as for inputs() at d = 784 after normalisation (-125 to -175; at d = 500, -75 to
    # -113): every weight of the grid stays a normal float32, as in the engine's runs
    # (subnormals would be slower).
    neg_halves = [
        ops.convert_to_tensor(-125 - 50 * r.random((tile, tile), dtype=np.float32))
        for _ in range(2)
    ]
    ys = [ops.convert_to_tensor(r.random((tile, d_o + 1), dtype=np.float32)) for _ in range(2)]
    grid = grid_for(K).astype(np.float32)

    def best(fn, *args):
        wait(fn(*args))  # compile
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            wait(fn(*args))
            times.append(time.perf_counter() - start)
        return min(times)

    def per_block(diagonal):
        seconds = []
        for length in (K, 1):
            fn = _backend.compiled(
                _lfr_engine.kernel_sums, diagonals=(diagonal, diagonal), lengths=(length,)
            )
            step = np.float32(grid[1] - grid[0]) if length > 1 else np.float32(0.0)
            seconds.append(
                best(fn, neg_halves, ys[0], ys, grid[:length], np.array([step], np.float32))
            )
        return (seconds[0] - seconds[1]) / (K - 1) / 2

    return per_block(False), per_block(True)


def ours(n, d, d_o, K, gemm_size):
    """Time dfp.lfr; before each timed run, measure the GEMM rate again.

    The machine is shared and its speed drifts over seconds, so each run is paired with the
    baseline measured just before it, and the ratio is taken per pair. After the timed runs,
    one more run measures the time inside the engine's compiled calls (the rest is the
    host's), and ``grid_point_cost`` the cost of one grid point on one kernel block.
    """
    import dfp
    from dfp import _lfr_engine

    timer = CallTimer()
    x, y = inputs(n, d, d_o)
    grid = grid_for(K)
    # Compile outside the timing: four tiles of the size n gets meet every kind of block
    # group the full run meets (diagonal or not, a full chain or the last one alone).
    warm = min(n, 4 * _lfr_engine.tile_size(n))
    dfp.lfr(x[:warm], y[:warm], grid)
    runs, extra = [], []
    for _ in range(3 if n <= 20000 else 1):
        rate, _ = gemm_rate(sizes=(gemm_size,), repeats=3)
        reset = reset_peak()
        before = rss_kib("VmRSS")
        start = time.perf_counter()
        values = dfp.lfr(x, y, grid)
        runs.append((time.perf_counter() - start, rate))
        extra.append((rss_kib("VmHWM") - before) / 1024 if reset else float("nan"))
    peak = device_peak_mib()
    timer.active = True
    start = time.perf_counter()
    dfp.lfr(x, y, grid)
    breakdown = {"seconds": time.perf_counter() - start, "in_calls": timer.seconds}
    timer.active = False
    tile = _lfr_engine.tile_size(n)
    breakdown["tile"] = tile
    breakdown["off"], breakdown["diagonal"] = grid_point_cost(tile, d_o, K)
    return {
        "runs": runs,
        "extra_peak_mib": max(extra),
        "device_peak_mib": peak,
        "lfr": values.tolist(),
        "breakdown": breakdown,
    }


def reset_peak():
    """Reset the resident-memory peak (Linux: 5 > clear_refs), so that the GEMM's buffers do
    not count; False where the kernel does not allow it (the extra peak is then not known)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


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
    parser.add_argument(
        "--no-layer-case", action="store_true", help="skip the case n=20,000, d=500"
    )
    parser.add_argument("--json", metavar="PATH", help="also write every number measured to PATH")
    parser.add_argument("--gemm-sizes", type=int, nargs="*", help="square sizes for the GEMM rate")
    args = parser.parse_args()

    import keras

    rate, gemm_size = gemm_rate(sizes=args.gemm_sizes)
    print(
        f"backend {keras.backend.backend()} on {device_name()}; "
        f"best float32 GEMM {rate / 1e9:.0f} Gflop/s (size {gemm_size})"
    )
    print("roofline x: seconds / (flops / GEMM rate), the rate re-measured just before each run;")
    print("best and median of the runs (the machine is shared: its speed drifts)")
    cases = [] if args.no_layer_case else [("layer", *CASES["layer"])]
    cases += [(f"n={n}", n, args.dim, 10, args.K) for n in args.sizes]
    header = (
        f"{'case':>8} {'n':>6} {'d':>4} {'K':>3} {'seconds':>8} {'roofline x':>10} {'median':>6} "
        f"{'extra MiB':>9} {'vs authors':>10}"
    )
    print(header)
    report = {
        "backend": keras.backend.backend(),
        "device": device_name(),
        "gemm_flops": rate,
        "gemm_size": gemm_size,
        "cases": [],
    }
    for name, n, d, d_o, K in cases:
        result = child("ours", n, d, d_o, K, gemm_size)
        flops = 2 * n * n * d + K * (2 * n * n * d_o + n * n)
        seconds = min(t for t, _ in result["runs"])
        ratios = [t / (flops / r) for t, r in result["runs"]]
        versus = ""
        case = {
            "name": name,
            "n": n,
            "d": d,
            "d_o": d_o,
            "K": K,
            "seconds": seconds,
            "roofline_ratio": min(ratios),
            "roofline_ratio_median": float(np.median(ratios)),
            "extra_peak_mib": result["extra_peak_mib"],
            "device_peak_mib": result["device_peak_mib"],
            "breakdown": result["breakdown"],
        }
        report["cases"].append(case)
        if n == 5000:
            baseline = child("authors", n, d, d_o, K)
            error = np.max(np.abs(np.array(result["lfr"]) - baseline["lfr"]))
            case.update(
                authors_seconds=baseline["seconds"],
                speedup=baseline["seconds"] / seconds,
                max_lfr_difference=float(error),
            )
            versus = (
                f"{baseline['seconds'] / seconds:.1f}x (their first run alone "
                f"{baseline['first_seconds'] / seconds:.1f}x; max |dLFR| {error:.1e})"
            )
        print(
            f"{name:>8} {n:>6} {d:>4} {K:>3} {seconds:>8.3f} {min(ratios):>10.2f} "
            f"{np.median(ratios):>6.2f} "
            f"{result['extra_peak_mib']:>9.0f} {versus:>10}"
            + (
                f" device peak {result['device_peak_mib']:.0f} MiB"
                if result["device_peak_mib"]
                else ""
            ),
            flush=True,
        )
        b = result["breakdown"]
        tiles = -(-n // b["tile"])
        # The engine's blocks: tiles on the diagonal and tiles (tiles - 1) / 2 off it, each
        # with K - 1 grid steps after its first grid point.
        steps = (
            (K - 1) * (tiles * b["diagonal"] + tiles * (tiles - 1) / 2 * b["off"]) if K > 1 else 0.0
        )
        print(
            f"{'':>8} one more run: {b['seconds']:.4g} s, {b['in_calls']:.4g} s of it in the "
            "engine's compiled calls;"
            f" a grid point on a {b['tile']}^2 block: {b['off'] * 1e3:.3f} ms off the diagonal,"
            f" {b['diagonal'] * 1e3:.3f} ms on it; {K - 1} grid steps: {steps:.4g} s",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as file:
            json.dump(report, file, indent=1)


if __name__ == "__main__":
    main()
