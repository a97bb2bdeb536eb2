"""The engine behind ``dfp.lfr``: the LFR's sums in linear memory, fast on a CPU and a GPU.

``low_power(x, y, grid)`` returns sum_i |y_low_i|^2 for every 1/delta of the grid (eqs. 3-4),
the same value as the dense definition ``dfp.spectral.lfr_reference`` within 1e-5 of the LFR.

The n x n kernel is never held: points are cut into tiles, each pair of tiles (i <= j) makes
one kernel block, and because the kernel is symmetric that block serves the rows of both tiles.
One matrix product with [Y, 1] gives the weighted sums and the row sums together, and one
product of augmented coordinates gives -|x_i - x_j|^2 / 2. Arithmetic is float32; each
tile's partial sums are added in float64 on the host (on a GPU, as float32 pairs on the
device), so memory is linear in n. Where float32 distances cannot resolve the data (points
far closer than its radius, as in collapsed layers), they are computed in float64 on the
host instead. The measurements behind each constant below are tabulated in
``benchmarks/README.md``.
"""

import math
import os
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
from keras import ops

from dfp._backend import compiled, on_accelerator

# Rows (and columns) per tile, at most. A 1024 x 1024 float32 kernel block is 4 MiB: it
# and its step factor stay in the last-level cache while every grid point is applied to it.
TILE = 1024
# The same on a GPU, where no block fits a cache worth tiling for, and what costs is the
# number of calls (each a few hundred kernel launches) and the sums that every call sends
# back to the host: 4 n^2 K (d_o + 1) / tile bytes in all, 8 GB at n = 60,000, K = 50 with
# tiles of 1,000. Larger tiles cut both, but a block's memory on the device grows as the
# tile squared: this is the size past which the time hardly falls and the memory soars.
ACCELERATOR_TILE = 8192
# Column tiles per compiled call. Their chains of (multiply, product, product) per grid
# point are independent, so TensorFlow's executor overlaps them, where one block's chain
# alone would run step after step.
CHAINS = 2
# On a uniform stretch of the grid, exp(-d2 (g + a) / 2) = exp(-d2 g / 2) * exp(-d2 a / 2):
# one multiply per grid point instead of an exp. Every ANCHOR points the weights are
# computed by an exp again, which bounds the rounding that repeated multiplies accumulate
# (at most ANCHOR float32 roundings of the step, a relative 4e-6 on a weight; it enters
# the LFR averaged over the neighbours, far below 1e-5).
ANCHOR = 64
# Grid points per compiled call: the call is unrolled, so this bounds its size, and grids
# of the same shape (the same uniform stretches) reuse one compiled call.
GROUP = 64
# distances="auto" computes distances in float64 where float32 ones are estimated to move
# the LFR by more than this, from this many sampled points' nearest neighbours.
EXACT_ABOVE = 1e-6
SAMPLE = 64


def tile_size(n):
    """The fewest tiles of at most TILE rows (ACCELERATOR_TILE on a GPU), as equal as can
    be (a multiple of 8 rows).

    n = 20,000 gets 20 tiles of 1,000 rather than 20 of 1,024 with 480 rows of padding
    (5 % more kernel entries).
    """
    most = ACCELERATOR_TILE if on_accelerator(keras.backend.backend()) else TILE
    tiles = math.ceil(n / most)
    return 8 * math.ceil(n / tiles / 8)


def grid_groups(grid):
    """Cut the grid into groups of at most GROUP points, each a tuple of uniform runs.

    Returns a list of (positions, values, steps, lengths): the slice of grid positions the group
    covers (groups are consecutive), their 1/delta values, and for each run its step (0 for a single
    point) and length. The lengths are the group's static structure; values and steps are data.
    """
    runs = []  # [first position, length, step]
    k = 0
    while k < len(grid):
        length = 1
        if k + 1 < len(grid):
            step = grid[k + 1] - grid[k]
            while k + length < len(grid) and abs(
                (grid[k + length] - grid[k + length - 1]) - step
            ) <= 1e-9 * abs(step):
                length += 1
        runs.append([k, length, grid[k + 1] - grid[k] if length > 1 else 0.0])
        k += length
    groups, current, used = [], [], 0
    for first, length, step in runs:
        while length:
            take = min(length, GROUP - used)
            current.append((first, take, step if take > 1 else 0.0))
            first, length, used = first + take, length - take, used + take
            if used == GROUP:
                groups.append(current)
                current, used = [], 0
    if current:
        groups.append(current)
    out = []
    for group in groups:
        positions = slice(group[0][0], group[-1][0] + group[-1][1])
        out.append(
            (
                positions,
                grid[positions].astype(np.float32),
                np.asarray([s for _, _, s in group], np.float32),
                tuple(n for _, n, _ in group),
            )
        )
    return out


def low_power(x, y, grid, scale=None, distances="auto"):
    """For each 1/delta, sum_i |y_low_i|^2 (eqs. 3-4), float64 of shape (K,).

    x is divided by ``scale`` column by column first, when given; ``distances`` as in lfr.
    """
    # The grid is computed in increasing order, so that uniform runs step by a factor <= 1:
    # a decreasing run steps by exp(+a d^2 / 2), and weights that start below float32's
    # range stay 0 while the exact ones grow (the factor itself can overflow, too).
    order = np.argsort(grid, kind="stable")
    power = np.empty(len(grid))
    power[order] = sorted_low_power(x, y, grid[order], scale, distances)
    return power


def sorted_low_power(x, y, grid, scale, distances):
    """``low_power`` for an increasing grid."""
    n, d = x.shape
    tile = tile_size(n)
    padded = tile * math.ceil(n / tile)
    # Augmented coordinates make one GEMM give -|x_i - x_j|^2 / 2 directly, with no
    # elementwise passes after it: [x_i, -|x_i|^2/2, 1] . [x_j, 1, -|x_j|^2/2].
    # Distances do not change under a shift; centring shrinks |x|^2 and with it the
    # cancellation. The squares are those of the float32 coordinates the GEMM sees.
    on_device = on_accelerator(keras.backend.backend())
    shift = x.mean(axis=0, dtype=np.float64)
    inverse_scale = 1.0 / scale if scale is not None else np.ones(d)
    left = np.zeros((padded, d + 2), np.float32)

    def write_left(rows):
        block = ((x[rows] - shift) * inverse_scale).astype(np.float32)
        left[rows, :d] = block
        left[rows, d] = -np.sum(block.astype(np.float64) ** 2, axis=1) / 2
        left[rows, d + 1] = 1.0

    in_chunks(n, write_left, threads=on_device)
    # Padding rows: zero coordinates, and y = 0 *and* a 0 in the ones column, so they add
    # nothing anywhere.
    targets = np.zeros((padded, y.shape[1] + 1), np.float32)
    targets[:n, :-1] = y
    targets[:n, -1] = 1.0

    tiles = [slice(t, t + tile) for t in range(0, padded, tile)]
    # Each tile goes to the backend once, not once per pair; the right factor goes
    # transposed, (d + 2, tile), as the GEMM wants it. On a GPU the transposes are made
    # there, so that the device does not wait for the host to make them.
    if on_device:
        lefts = [ops.convert_to_tensor(left[rows]) for rows in tiles]
        rights = [compiled(right_factor)(left_tile) for left_tile in lefts]
    else:
        swap = np.r_[0:d, d + 1, d]  # [x, -|x|^2/2, 1] -> [x, 1, -|x|^2/2]
        rights = [
            ops.convert_to_tensor(np.ascontiguousarray(left[rows][:, swap].T)) for rows in tiles
        ]
    ys = [ops.convert_to_tensor(targets[rows]) for rows in tiles]
    if distances == "auto":
        error = float32_distance_error(left, rights, n, grid.max())
        distances = "float64" if error > EXACT_ABOVE else "float32"
    if distances == "float32" and not on_device:
        lefts = [ops.convert_to_tensor(left[rows]) for rows in tiles]
    elif distances == "float64":
        coords = np.zeros((padded, d))

        def write_coords(rows):
            coords[rows] = (x[rows] - shift) * inverse_scale

        in_chunks(n, write_coords, threads=on_device)
        squares = np.sum(coords**2, axis=1)
    groups = grid_groups(grid)
    sums = (DeviceSums if on_device else HostSums)(targets, ys, tiles, [g[0] for g in groups])
    # A call's sums are added only after the next call is sent: where the backend runs
    # asynchronously (JAX) the device computes the next blocks while the host copies and
    # adds these, or on a GPU sends their adds. On a synchronous backend the order of the
    # work is unchanged.
    pending = []
    for a, rows in enumerate(tiles):
        sums.start_row(a)
        for first in range(a, len(tiles), CHAINS):
            chain = range(first, min(first + CHAINS, len(tiles)))
            diagonals = tuple(a == b for b in chain)
            y_cols = [ys[b] for b in chain]
            for g, (positions, values, steps, lengths) in enumerate(groups):
                if g == 0 and distances == "float32":
                    # The distance GEMMs go into the same graph as the first group's sums,
                    # so that one block's GEMM overlaps the other block's grid points.
                    sums_fn = compiled(block_sums, diagonals=diagonals, lengths=lengths)
                    neg_halves, row_sums, col_sums = sums_fn(
                        lefts[a], [rights[b] for b in chain], ys[a], y_cols, values, steps
                    )
                else:
                    if g == 0:  # float64 distances, once per block, kept for later groups
                        neg_halves = [
                            ops.convert_to_tensor(neg_half_float64(coords, squares, rows, tiles[b]))
                            for b in chain
                        ]
                    sums_fn = compiled(kernel_sums, diagonals=diagonals, lengths=lengths)
                    row_sums, col_sums = sums_fn(neg_halves, ys[a], y_cols, values, steps)
                while pending:
                    sums.add(*pending.pop())
                pending.append((a, positions, chain, row_sums, col_sums))
        while pending:
            sums.add(*pending.pop())
        # Row tile a has now met every tile (earlier rows gave it their column sums): its
        # [sum_j G_ij y_j, sum_j G_ij] are complete, for its real rows (not the padding).
        sums.finish_row(a, n - rows.start)
    return sums.total()


class HostSums:
    """The blocks' sums, added in float64 on the host: on a CPU the backend's results are
    host memory already, and numpy's float64 adds cost little next to the blocks.

    Args (shared with ``DeviceSums``):
        targets: [y, 1] of every point, padded, float32 (padded n, d_o + 1).
        ys: the same, one backend tensor per tile.
        tiles: the tiles' row slices.
        groups: the grid positions each group of grid points covers, a list of slices.
    """

    def __init__(self, targets, ys, tiles, groups):
        self.targets, self.tiles = targets, tiles
        self.size = groups[-1].stop
        tile = tiles[0].stop - tiles[0].start
        # Float64 sums per tile in the layouts the blocks deliver them: a row tile's own
        # sums as (K, tile, d_o + 1), those its later column tiles receive as (K, d_o + 1,
        # tile), so that every add is contiguous; each tile is transposed once at the end.
        self.received = np.zeros((len(tiles), self.size, targets.shape[1], tile), np.float64)
        self.power = np.zeros(self.size)

    def start_row(self, a):
        # Each point's own term, weight exactly 1, is added here in float64 rather than in
        # the float32 products: next to a 1 in a float32 sum, the many tiny weights of its
        # neighbours lose their low bits (below half of 1.2e-7 they vanish), enough to move
        # the LFR near its top. Diagonal blocks carry a weight of 0 on the diagonal.
        self.own = np.repeat(
            self.targets[None, self.tiles[a]].astype(np.float64), self.size, axis=0
        )

    def add(self, a, positions, chain, row_sums, col_sums):
        """Add one call's sums: row tile a's, and those of the chain's column tiles."""
        for part in row_sums:
            self.own[positions] += ops.convert_to_numpy(part)
        for b, part in zip(chain, col_sums):
            if a != b:
                self.received[b, positions] += ops.convert_to_numpy(part)

    def finish_row(self, a, real):
        """Row tile a's share of sum_i |y_low_i|^2, from its first ``real`` rows."""
        sums = (self.own + self.received[a].transpose(0, 2, 1))[:, :real]
        self.power += np.sum((sums[..., :-1] / sums[..., -1:]) ** 2, axis=(1, 2))

    def total(self):
        """sum_i |y_low_i|^2 for each grid point, float64 (K,)."""
        return self.power


class DeviceSums:
    """The blocks' sums, added on the device, each as a float32 pair hi + lo (about 48 bits).

    On a GPU, copying every call's sums to the host and adding them there would take most
    of the run's time, the device waiting on the host. Here they stay on the device, added
    by ``two_sum``, which keeps in ``lo`` what each float32 add rounds off, so that however
    many tiles there are, a row's sums are rounded once (in ``row_norms``), not once per add
    next to its own term's 1. Each row tile sends back only its points' |y_low_i|^2,
    (K, tile), summed in float64 on the host.
    Arguments and methods as ``HostSums``.
    """

    def __init__(self, targets, ys, tiles, groups):
        self.ys, self.groups = ys, groups
        self.received = {}  # (column tile, group's first position) -> (hi, lo)
        self.norms = []  # (positions, |y_low_i|^2 on the device, real rows)
        self.two_sum = compiled(two_sum)
        self.row_norms = compiled(row_norms)

    def start_row(self, a):
        self.own = {}
        for positions in self.groups:
            size = positions.stop - positions.start
            hi = ops.broadcast_to(self.ys[a][None], (size, *self.ys[a].shape))
            self.own[positions.start] = (hi, ops.zeros_like(hi))

    def add(self, a, positions, chain, row_sums, col_sums):
        for part in row_sums:
            self.own[positions.start] = self.two_sum(*self.own[positions.start], part)
        for b, part in zip(chain, col_sums):
            if a != b:
                key = (b, positions.start)
                if key in self.received:
                    self.received[key] = self.two_sum(*self.received[key], part)
                else:
                    self.received[key] = (part, ops.zeros_like(part))

    def finish_row(self, a, real):
        for positions in self.groups:
            own = self.own[positions.start]
            # The first row tile receives nothing: no tile comes before it.
            received = self.received.pop((a, positions.start), None)
            if received is None:
                zeros = ops.zeros_like(ops.transpose(own[0], (0, 2, 1)))
                received = (zeros, zeros)
            self.norms.append((positions, self.row_norms(*own, *received), real))

    def total(self):
        # Copied back only now, so that the device never waits for the host.
        power = np.zeros(self.groups[-1].stop)
        for positions, norms, real in self.norms:
            norms = ops.convert_to_numpy(norms)[:, :real]
            power[positions] += np.sum(norms.astype(np.float64), axis=1)
        return power


def two_sum(hi, lo, part):
    """(hi, lo) + part, with hi + lo a float32 pair: Knuth's TwoSum puts the rounding error
    of hi + part, exactly, into lo. It relies on the compiler not reassociating float adds,
    which would simplify the error term away: test_two_sum_keeps_what_float32_rounds_off
    checks that under whichever backend and device run the tests."""
    total = hi + part
    part_seen = total - hi
    error = (hi - (total - part_seen)) + (part - part_seen)
    return total, lo + error


def row_norms(own_hi, own_lo, received_hi, received_lo):
    """|y_low_i|^2 for each grid point and row from a row tile's sums, (K, tile).

    own: (K, tile, d_o + 1) pairs; received: (K, d_o + 1, tile) pairs. Padding rows give NaN
    (0 / 0); the caller drops them.
    """
    received_hi, received_lo = (ops.transpose(a, (0, 2, 1)) for a in (received_hi, received_lo))
    hi, lo = two_sum(own_hi, own_lo + received_lo, received_hi)
    sums = hi + lo
    return ops.sum((sums[..., :-1] / sums[..., -1:]) ** 2, axis=-1)


def right_factor(left):
    """A tile's right factor from its left one: [x, -|x|^2/2, 1] -> [x, 1, -|x|^2/2]^T."""
    return ops.transpose(ops.concatenate([left[:, :-2], left[:, -1:], left[:, -2:-1]], axis=1))


def in_chunks(n, fill, threads=False, rows=1024):
    """Call ``fill(slice)`` for each chunk of ``rows`` of n points.

    Chunks keep the float64 temporaries small (n x d float64 is hundreds of MB at n = 60,000).
    With ``threads``, the chunks run on up to 8 cores (numpy releases the GIL in its array
    loops). The engine asks for that on a GPU, whose host cores are otherwise idle. On a
    CPU the threads would compete with the backend's own for the same cores, so the CPU
    path fills the chunks in turn.
    """
    chunks = [slice(c, min(c + rows, n)) for c in range(0, n, rows)]
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    workers = min(len(chunks), cores, 8) if threads else 1
    if workers == 1:
        for chunk in chunks:
            fill(chunk)
        return
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(fill, chunks):  # re-raises a chunk's exception here
            pass


def neg_half_float64(coords, squares, rows, cols):
    """-|x_i - x_j|^2 / 2 for a block, from float64 centred coordinates, as float32.

    Clamped at 0, with an exact 0 where i == j. The float32 result keeps each distance to
    a relative 6e-8, however small it is against |x|^2.
    """
    block = coords[rows] @ coords[cols].T - squares[rows, None] / 2 - squares[None, cols] / 2
    np.minimum(block, 0.0, out=block)
    if rows == cols:
        np.fill_diagonal(block, 0.0)
    return block.astype(np.float32)


def float32_distance_error(left, rights, n, top, seed=0):
    """An estimate of how far float32 distances could move the LFR at 1/delta = ``top``.

    For a sample of points, the error of each float32 squared distance is taken as
    2^-23 (|x_i|^2 + |x_j|^2), a generous allowance for the typical error rather than its
    worst case. It moves the weight exp(-u), u = top d^2 / 2, by a relative u times the
    distance's relative error; u exp(-u) is at most 1/e, so at the grid's top a pair
    contributes error / d^2 * min(u, 1) exp(-min(u, 1)). Each sampled point's worst pair
    is averaged: the LFR is an average over points, and a point's weights sum to at least
    its own 1.

    Args:
        left: float32 augmented coordinates [x, -|x|^2/2, 1], padded, (padded n, d + 2).
        rights: the engine's right factors, one per tile: the sample's distances are the
            very float32 ones the engine would use.
        n: the number of real points.
        top: the largest 1/delta of the grid.

    Returns:
        The estimate, a float.
    """
    d = left.shape[1] - 2
    sample = np.random.default_rng(seed).choice(n, min(n, SAMPLE), replace=False)
    probe = ops.convert_to_tensor(left[sample])
    # Compiled like the engine's own products, so with TensorFloat-32 off: an eager product
    # on a recent GPU may use it (JAX's documented default), and its distances would not be
    # the engine's.
    product = compiled(gram)
    d2 = (
        -2.0
        * np.concatenate([ops.convert_to_numpy(product(probe, r)) for r in rights], axis=1)[:, :n]
    )
    d2[np.arange(len(sample)), sample] = np.inf  # a point is not its own neighbour
    squares = -2.0 * left[:n, d]
    error = 2.0**-23 * (squares[sample, None] + squares[None, :])
    # Below its error a float32 distance is noise; the true one may be anything down to 0.
    resolved = np.maximum(d2, error)
    u = np.minimum(top * resolved / 2, 1.0)
    return float(np.mean(np.max(error / resolved * u * np.exp(-u), axis=1)))


def gram(left, right):
    return ops.matmul(left, right)


def block_sums(left, rights, yi, yjs, values, steps, *, diagonals, lengths):
    """``kernel_sums`` from the tiles' augmented coordinates; also returns the blocks' -d^2/2."""
    grams = [ops.matmul(left, right_t) for right_t in rights]
    return kernel_sums(
        grams, yi, yjs, values, steps, diagonals=diagonals, lengths=lengths, raw=True
    )


def kernel_sums(neg_halves, yi, yjs, values, steps, *, diagonals, lengths, raw=False):
    """The sums of a row tile's kernel blocks with a few column tiles, for a group of grid points.

    Args:
        neg_halves: for each column tile, -|x_i - x_j|^2 / 2, shape (tile, tile); with
            ``raw``, the product of the augmented coordinates, not yet clamped.
        yi, yjs: [y, 1] of the row tile and of each column tile, shape (tile, d_o + 1).
        values, steps: the group's 1/delta values and each uniform run's step.
        diagonals: static, for each column tile whether it is the row tile itself.
        lengths: static, the lengths of the group's uniform runs.
        raw: static, see neg_halves.

    Returns (for_rows, for_cols), one entry per column tile, and with ``raw`` first the
    clamped neg_halves: for_rows[b][k] = G_k y_j, shape (K, tile, d_o + 1), and
    for_cols[b][k] = y_i^T G_k, shape (K, d_o + 1, tile), the sums for the column tile's
    rows (a thin matrix times the block, so the block is never transposed). A diagonal
    block is symmetric: its for_rows covers both and its for_cols is a dummy.
    """
    yi_t = ops.transpose(yi)
    ordered = keras.backend.backend() == "jax"
    clamped, for_rows, for_cols = [], [], []
    for neg_half, yj, diagonal in zip(neg_halves, yjs, diagonals):
        rows, cols = [], []
        k = 0
        for run, length in enumerate(lengths):
            for i in range(length):
                if i % ANCHOR == 0:
                    first = raw and k == 0
                    stepping = length > 1 and i == 0
                    start = compiled(
                        start_run, xla=True, clamp=first, diagonal=diagonal, stepping=stepping
                    )
                    started = start(neg_half, values[k], steps[run])
                    if first:
                        neg_half, *started = started
                    weights = started[0]
                    if stepping:
                        step = started[1]
                elif ordered:
                    # The factor 1 + 0 x (a sum of the last grid point) makes each step wait
                    # for the last products. XLA otherwise schedules the whole chain of
                    # multiplies first and keeps every grid point's weights alive, K tile^2
                    # floats, which multiplies the device's peak memory on a GPU and on a
                    # CPU pushes the blocks out of cache. XLA fuses the factor into the
                    # multiply; TensorFlow's executor would not, and frees each weights once
                    # used anyway.
                    weights = weights * (step * (1.0 + 0.0 * rows[-1][0, 0]))
                else:
                    weights = weights * step
                rows.append(ops.matmul(weights, yj))
                if not diagonal:
                    cols.append(ops.matmul(yi_t, weights))
                k += 1
        clamped.append(neg_half)
        for_rows.append(ops.stack(rows))
        for_cols.append(ops.stack(cols) if cols else ops.zeros(()))
    return (clamped, for_rows, for_cols) if raw else (for_rows, for_cols)


def start_run(neg_half, value, step, *, clamp, diagonal, stepping):
    """A run's first weights exp(value * neg_half) and, when ``stepping``, its step factor.

    With ``clamp``, neg_half is the raw product of augmented coordinates: it is clamped to
    <= 0 (the expansion's rounding can make it slightly positive) and returned first. On a
    ``diagonal`` block the weights' diagonal is 0: each point's own weight of exactly 1 is
    added after the products (``HostSums``, ``DeviceSums``), and multiplying by the step
    keeps it 0. Compiled by XLA under TensorFlow, which makes these elementwise passes one,
    reading the block once instead of once per pass.
    """
    out = []
    if clamp:
        neg_half = ops.minimum(neg_half, 0.0)
        out.append(neg_half)
    weights = ops.exp(neg_half * value)
    if diagonal:
        weights = ops.where(ops.eye(ops.shape(neg_half)[0], dtype="bool"), 0.0, weights)
    out.append(weights)
    if stepping:
        out.append(ops.exp(neg_half * step))
    return tuple(out)
