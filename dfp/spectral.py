"""Low frequency ratio (LFR) and ratio density function (RDF): eqs. 1-6 of the paper.

For a data set {(x_i, y_i)} the paper smooths the targets with a row-normalised Gaussian
kernel (eq. 4, the point itself included)::

    y_low_i = sum_j G(x_i - x_j) y_j / sum_j G(x_i - x_j),   G(d) = exp(-|d|^2 / (2 delta))

and compares powers (eq. 3): LFR = sum_i |y_low_i|^2 / sum_i |y_i|^2. The RDF (eq. 6) is the
slope of the LFR against 1/delta between consecutive grid points.

The n x n kernel is never held: points are cut into tiles, each pair of tiles (i <= j) makes
one kernel block, and because the kernel is symmetric that block serves the rows of both tiles.
One matrix product with [Y, 1] gives the weighted sums and the row sums together, and one
product of augmented coordinates gives -|x_i - x_j|^2 / 2. Arithmetic is float32; each
tile's partial sums are added in float64 on the host (on a GPU, as float32 pairs on the
device), so memory is linear in n. Where float32 distances cannot resolve the data (points
far closer than its radius, as in collapsed layers), they are computed in float64 on the
host instead.
"""

import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
from keras import ops

# Rows (and columns) per tile, at most. A 1024 x 1024 float32 kernel block is 4 MiB: it
# and its step factor stay in the last-level cache while every grid point is applied to it.
_TILE = 1024
# The same on a GPU, where no block fits a cache worth tiling for, and what costs is the
# number of calls (each a few hundred kernel launches) and the sums that every call sends
# back to the host: 4 n^2 K (d_o + 1) / tile bytes in all, 8 GB at n = 60,000, K = 50 with
# tiles of 1,000. Measured there on an H200 (JAX): at most 2,048, 4,096, 8,192 or 16,384
# rows took 5.5, 3.7, 2.5 and 2.4 s, with 1.5, 1.4, 3.2 and 11.8 GB peak on the device.
_ACCELERATOR_TILE = 8192
# Column tiles per compiled call. Their chains of (multiply, product, product) per grid
# point are independent, so TensorFlow's executor overlaps them: measured about 10 %
# faster here than one block at a time.
_CHAINS = 2
# On a uniform stretch of the grid, exp(-d2 (g + a) / 2) = exp(-d2 g / 2) * exp(-d2 a / 2):
# one multiply per grid point instead of an exp. Every _ANCHOR points the weights are
# computed by an exp again, which bounds the rounding that repeated multiplies accumulate
# (at most _ANCHOR float32 roundings of the step, a relative 4e-6 on a weight; it enters
# the LFR averaged over the neighbours, far below 1e-5).
_ANCHOR = 64
# Grid points per compiled call: the call is unrolled, so this bounds its size, and grids
# of the same shape (the same uniform stretches) reuse one compiled call.
_GROUP = 64
# distances="auto" computes distances in float64 where float32 ones are estimated to move
# the LFR by more than this, from this many sampled points' nearest neighbours.
_EXACT_ABOVE = 1e-6
_SAMPLE = 64


def normalize_inputs(x):
    """Divide each input dimension by its maximum absolute value, as the paper does.

    Args:
        x: inputs, shape (n, d) or (n,).

    Returns:
        float64 array of shape (n, d), each column in [-1, 1]. A column that is zero
        everywhere is left as it is (it carries no distance information).
    """
    x = _as_points(x, "x")
    return x / _column_scale(x)


def _column_scale(x):
    """Each column's maximum absolute value (float64); 1 for a column that is zero everywhere."""
    scale = np.maximum(x.max(axis=0), -x.min(axis=0)).astype(np.float64)
    scale[scale == 0] = 1.0
    return scale


def lfr_floor(y):
    """The LFR's limit as 1/delta -> 0: every y_low_i is the mean of y.

    Args:
        y: targets, shape (n, d_o) or (n,).

    Returns:
        |mean y|^2 / mean |y|^2, a float.
    """
    y = _as_points(y, "y")
    power = _power(y)
    return float(np.sum(np.mean(y, axis=0) ** 2) * len(y) / power)


def lfr(x, y, inv_delta, *, normalize=True, distances="auto"):
    """Low frequency ratio of the data set {(x_i, y_i)} for each 1/delta (eqs. 1-5).

    Args:
        x: inputs, shape (n, d) or (n,).
        y: targets, shape (n, d_o) or (n,).
        inv_delta: 1/delta values, a 1-D array of positive numbers (any order; a uniform
            stretch is computed faster).
        normalize: divide each input dimension by its maximum absolute value first (the
            paper's choice for S^[l]).
        distances: how squared distances are computed, as |a|^2 + |b|^2 - 2ab after
            centring. "float32": one float32 product per block, on the backend; its
            error is about 1e-7 (|a|^2 + |b|^2), too coarse for points much closer than
            the data's radius, as in layers collapsed into class clusters. "float64": in
            float64 on the host, whose error of about 1e-16 (|a|^2 + |b|^2) still gives
            points 1e5 times closer than the radius their distance to a relative 1e-6,
            at the cost of an n^2 d float64 product. "auto" (default): "float64" where
            a sample of nearest-neighbour distances says float32 could move the LFR by
            more than 1e-6 at the grid's largest 1/delta, else "float32".

    Returns:
        float64 array with one LFR per entry of ``inv_delta``, within 1e-5 of the exact
        value.

    Raises:
        ValueError: NaN or inf in x or y, different numbers of points, fewer than two
            points, y zero everywhere, a grid that is empty, not 1-D or not positive, or
            an unknown ``distances``.
    """
    # Float32 inputs (a layer's activations) are not copied to float64 (376 MB at
    # n = 60,000, d = 784): each chunk is promoted as it is centred.
    x, y = _data_set(x, y, normalize=False, keep_float32=True)
    grid = _as_grid(inv_delta)
    power = _power(y)
    if distances not in ("auto", "float32", "float64"):
        raise ValueError(f"unknown distances {distances!r}: use 'auto', 'float32' or 'float64'")
    # The normalisation is applied while the float32 coordinates are written (no n x d
    # float64 temporaries: at n = 60,000 each would be hundreds of MB).
    return _low_power(x, y, grid, _column_scale(x) if normalize else None, distances) / power


def lfr_dense(x, y, inv_delta, *, normalize=True):
    """The authors' method, for comparison only: float64, the whole n x n kernel per delta.

    Memory grows as n^2 (about 4 GB at n = 5,000 counting numpy's temporaries); use ``lfr``.
    Same arguments and result as ``lfr``.
    """
    x, y = _data_set(x, y, normalize)
    grid = _as_grid(inv_delta)
    power = _power(y)
    sq = np.sum(x**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0)
    np.fill_diagonal(d2, 0)
    out = np.empty(len(grid))
    for k, g in enumerate(grid):
        kernel = np.exp(-d2 * g / 2)
        low = kernel @ y / kernel.sum(axis=1, keepdims=True)
        out[k] = np.sum(low**2) / power
    return out


def rdf(inv_delta, lfr_values):
    """Ratio density function: the slope of the LFR between consecutive grid points (eq. 6).

    Args:
        inv_delta: strictly increasing 1/delta grid, at least two points (uniform or not).
        lfr_values: the LFR at each grid point.

    Returns:
        (midpoints, slopes): two float64 arrays of length len(inv_delta) - 1.
    """
    grid = _as_grid(inv_delta, increasing=True)
    values = np.asarray(lfr_values, dtype=np.float64)
    if values.shape != grid.shape:
        raise ValueError(
            f"lfr_values has shape {values.shape} but the grid has shape {grid.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("lfr_values contains NaN or inf")
    return (grid[1:] + grid[:-1]) / 2, np.diff(values) / np.diff(grid)


def peak_inv_delta(inv_delta, lfr_values):
    """The 1/delta where the RDF peaks: the midpoint of the steepest grid interval."""
    midpoints, slopes = rdf(inv_delta, lfr_values)
    return float(midpoints[np.argmax(slopes)])


def halfway_inv_delta(inv_delta, lfr_values, floor):
    """The 1/delta where the LFR first reaches half-way between its floor and 1.

    Args:
        inv_delta: strictly increasing 1/delta grid.
        lfr_values: the LFR at each grid point.
        floor: the LFR's limit at 1/delta -> 0 (see ``lfr_floor``).

    Returns:
        The crossing, interpolated linearly between grid points.

    Raises:
        ValueError: the grid starts above the crossing or ends below it.
    """
    grid = _as_grid(inv_delta, increasing=True)
    values = np.asarray(lfr_values, dtype=np.float64)
    rdf(grid, values)  # the same shape and finiteness checks
    target = (float(floor) + 1.0) / 2.0
    above = np.nonzero(values >= target)[0]
    if len(above) == 0:
        raise ValueError(
            f"the LFR never reaches {target:.4f} on this grid (max {values.max():.4f}): "
            "extend the grid to larger 1/delta"
        )
    k = above[0]
    if k == 0:
        raise ValueError(
            f"the LFR is already {values[0]:.4f} >= {target:.4f} at the first grid point: "
            "start the grid at smaller 1/delta"
        )
    fraction = (target - values[k - 1]) / (values[k] - values[k - 1])
    return float(grid[k - 1] + fraction * (grid[k] - grid[k - 1]))


def inv_delta_grid(sets, *, points=40, top=0.99, spacing="piecewise", normalize=True, seed=0, pad_decades=0.0):
    """Propose one 1/delta grid for several data sets, from a probe of their LFR.

    The grid runs from where every set's LFR still sits at its floor to where every set's
    LFR has reached ``top`` (or nearly its ceiling, when identical inputs carry different
    targets and the LFR cannot reach ``top``), so that curves compared in one figure share it. Probing the LFR itself,
    rather than a distance rule, also works when a layer has collapsed into tight class
    clusters, whose LFR rises in two steps decades apart.

    Args:
        sets: a list of (x, y) data sets, or a single (x, y) pair.
        points: the number of grid points.
        top: the LFR the grid must reach, below 1.
        spacing: "piecewise" (uniform within each decade: the fast exp-then-multiply path
            on each piece, and fine steps where 1/delta is small), "geometric", or "uniform".
        normalize: as in ``lfr``; must match how the grid will be used.
        seed: seeds the subsample that sets the probe's starting scale.
        pad_decades: widen the range by this many decades at each end, or by (low, high)
            decades, for sets that will move (a grid fixed at initialisation for curves
            measured during training).

    Returns:
        A strictly increasing float64 array of ``points`` values of 1/delta.
    """
    if spacing not in ("piecewise", "geometric", "uniform"):
        raise ValueError(f"unknown spacing {spacing!r}: use 'piecewise', 'geometric' or 'uniform'")
    if int(points) != points or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points}")
    if not 0 < top < 1:
        raise ValueError(f"top must lie in (0, 1), got {top}")
    if isinstance(sets, tuple) and len(sets) == 2 and not isinstance(sets[0], tuple):
        sets = [sets]
    if len(sets) == 0:
        raise ValueError("inv_delta_grid needs at least one (x, y) set")
    lows, highs = [], []
    for x, y in sets:
        low, high = _probe_range(x, y, top, normalize, seed)
        lows.append(low)
        highs.append(high)
    pad_low, pad_high = np.broadcast_to(np.asarray(pad_decades, dtype=np.float64), (2,))
    if not (np.isfinite(pad_low) and np.isfinite(pad_high) and pad_low >= 0 and pad_high >= 0):
        raise ValueError(f"pad_decades must be non-negative, got {pad_decades}")
    low, high = min(lows) / 10.0**pad_low, max(highs) * 10.0**pad_high
    if spacing == "geometric":
        return np.geomspace(low, high, int(points))
    if spacing == "uniform":
        return np.linspace(low, high, int(points))
    # One uniform piece per decade, points shared out by the pieces' widths in log scale.
    edges = np.geomspace(low, high, max(1, math.ceil(np.log10(high / low))) + 1)
    counts = np.full(len(edges) - 1, int(points) // (len(edges) - 1))
    counts[: int(points) - counts.sum()] += 1
    pieces = [
        np.linspace(a, b, c + 1)[1:] if i else np.linspace(a, b, c)
        for i, (a, b, c) in enumerate(zip(edges[:-1], edges[1:], counts))
    ]
    return np.concatenate(pieces)


_PROBE_PER_DECADE = 4
_PROBE_MAX_DECADES = 16


def _lfr_ceiling(x, y):
    """The LFR as 1/delta -> infinity: each point averages the targets of its exact copies."""
    _, group = np.unique(x, axis=0, return_inverse=True)
    group = group.reshape(-1)
    totals = np.zeros((group.max() + 1, y.shape[1]))
    np.add.at(totals, group, y)
    means = totals / np.bincount(group)[:, None]
    return float(np.sum(means[group] ** 2) / np.sum(y**2))


def _probe_range(x, y, top, normalize, seed):
    """The 1/delta range from the LFR's floor to ``top`` (or its plateau), probed geometrically."""
    x, y = _data_set(x, y, normalize)
    floor = lfr_floor(y)
    # Start from the median pairwise squared distance of a subsample: 1/delta ~ 1/median
    # is where the filter starts to separate typical pairs.
    sub = x[np.random.default_rng(seed).permutation(len(x))[:500]]
    sq = np.sum(sub**2, axis=1)
    d2 = (sq[:, None] + sq[None, :] - 2 * sub @ sub.T)[np.triu_indices(len(sub), 1)]
    positive = d2[d2 > 1e-12 * np.max(sq)]
    if positive.size == 0:
        raise ValueError("all inputs coincide: the LFR does not depend on 1/delta")
    step = 1.0 / _PROBE_PER_DECADE
    logs = np.arange(-1.0, 2.0 + step / 2, step) - np.log10(np.median(positive))
    values = lfr(x, y, 10.0**logs, normalize=False)
    near_floor = lambda v: v - floor <= 0.01 * (1 - floor)
    for _ in range(_PROBE_MAX_DECADES):
        if near_floor(values[0]):
            break
        more = logs[0] - step * np.arange(_PROBE_PER_DECADE * 2, 0, -1)
        logs, values = np.concatenate([more, logs]), np.concatenate([lfr(x, y, 10.0**more, normalize=False), values])
    else:
        raise ValueError("the LFR does not come down to its floor at any 1/delta probed")
    # The LFR's value at 1/delta -> infinity is known exactly (only identical inputs still
    # average their targets), so an intermediate plateau, as between the two rises of
    # collapsed clusters, is never taken for the end.
    ceiling = _lfr_ceiling(x, y)
    goal = top if ceiling >= top + 1e-9 else ceiling - 0.01 * (ceiling - floor)
    for _ in range(_PROBE_MAX_DECADES):
        if values[-1] >= goal:
            break
        more = logs[-1] + step * np.arange(1, _PROBE_PER_DECADE * 2 + 1)
        logs, values = np.concatenate([logs, more]), np.concatenate([values, lfr(x, y, 10.0**more, normalize=False)])
    else:
        raise ValueError(f"the LFR does not reach {goal:.4f} at any 1/delta probed")
    start = np.nonzero([near_floor(v) for v in values])[0][-1]
    end = np.nonzero(values >= goal)[0][0]
    if end <= start:
        raise ValueError("the LFR jumps from its floor to the top between two probes")
    return 10.0 ** logs[start], 10.0 ** logs[end]


def grid_step_at(inv_delta, value):
    """The width of the grid interval that holds ``value`` (the nearest one outside the grid).

    On a non-uniform grid "one grid step" depends on where you are; orderings of curve
    positions use this as their tie.
    """
    grid = _as_grid(inv_delta, increasing=True)
    k = int(np.clip(np.searchsorted(grid, value) - 1, 0, len(grid) - 2))
    return float(grid[k + 1] - grid[k])


# --- validation -------------------------------------------------------------------------


def _as_points(a, name, keep_float32=False):
    a = np.asarray(a)
    if not (keep_float32 and a.dtype == np.float32):
        a = a.astype(np.float64, copy=False)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} must have shape (n,) or (n, d), got {a.shape}")
    if a.shape[0] < 2:
        raise ValueError(f"{name} has {a.shape[0]} points: the LFR needs at least two")
    if a.shape[1] == 0:
        raise ValueError(f"{name} has no dimensions")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def _data_set(x, y, normalize, keep_float32=False):
    """Validated float64 (n, d) inputs (float32 ones kept as they are, with ``keep_float32``),
    normalised if asked, and float64 (n, d_o) targets."""
    x = _as_points(x, "x", keep_float32)
    y = _as_points(y, "y")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} points but y has {len(y)}: they must match")
    return (normalize_inputs(x) if normalize else x), y


def _as_grid(inv_delta, increasing=False):
    grid = np.asarray(inv_delta, dtype=np.float64)
    if grid.ndim != 1:
        raise ValueError(f"the 1/delta grid must be 1-D, got shape {grid.shape}")
    if grid.size == 0:
        raise ValueError("the 1/delta grid is empty")
    if not np.all(np.isfinite(grid)):
        raise ValueError("the 1/delta grid contains NaN or inf")
    if np.any(grid <= 0):
        raise ValueError(f"1/delta must be positive, got min {grid.min()}")
    if increasing:
        if grid.size < 2:
            raise ValueError("the RDF needs a grid of at least two points")
        if np.any(np.diff(grid) <= 0):
            raise ValueError("the 1/delta grid must be strictly increasing")
    return grid


def _power(y):
    power = float(np.sum(y**2))
    if power == 0:
        raise ValueError("y is zero everywhere: the LFR (a power ratio) is undefined")
    return power


# --- the blocked engine -----------------------------------------------------------------


def _tile_size(n):
    """The fewest tiles of at most _TILE rows (_ACCELERATOR_TILE on a GPU), as equal as can
    be (a multiple of 8 rows).

    n = 20,000 gets 20 tiles of 1,000 rather than 20 of 1,024 with 480 rows of padding
    (5 % more kernel entries).
    """
    most = _ACCELERATOR_TILE if _on_accelerator(keras.backend.backend()) else _TILE
    tiles = math.ceil(n / most)
    return 8 * math.ceil(n / tiles / 8)


@functools.cache
def _on_accelerator(backend):
    """Whether the Keras backend computes on a GPU (or another accelerator), not the CPU."""
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def _grid_groups(grid):
    """Cut the grid into groups of at most _GROUP points, each a tuple of uniform runs.

    Returns a list of (positions, values, steps, lengths): the slice of grid positions the
    group covers (groups are consecutive), their 1/delta values, and for each run its step (0 for a single point) and
    length. The lengths are the group's static structure; values and steps are data.
    """
    runs = []  # [first position, length, step]
    k = 0
    while k < len(grid):
        length = 1
        if k + 1 < len(grid):
            step = grid[k + 1] - grid[k]
            while (
                k + length < len(grid)
                and abs((grid[k + length] - grid[k + length - 1]) - step) <= 1e-9 * abs(step)
            ):
                length += 1
        runs.append([k, length, grid[k + 1] - grid[k] if length > 1 else 0.0])
        k += length
    groups, current, used = [], [], 0
    for first, length, step in runs:
        while length:
            take = min(length, _GROUP - used)
            current.append((first, take, step if take > 1 else 0.0))
            first, length, used = first + take, length - take, used + take
            if used == _GROUP:
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


def _low_power(x, y, grid, scale=None, distances="auto"):
    """For each 1/delta, sum_i |y_low_i|^2 (eqs. 3-4), float64 of shape (K,).

    x is divided by ``scale`` column by column first, when given; ``distances`` as in lfr.
    """
    # The grid is computed in increasing order, so that uniform runs step by a factor <= 1:
    # a decreasing run steps by exp(+a d^2 / 2), and weights that start below float32's
    # range stay 0 while the exact ones grow (the factor itself can overflow, too).
    order = np.argsort(grid, kind="stable")
    power = np.empty(len(grid))
    power[order] = _sorted_low_power(x, y, grid[order], scale, distances)
    return power


def _sorted_low_power(x, y, grid, scale, distances):
    """``_low_power`` for an increasing grid."""
    n, d = x.shape
    tile = _tile_size(n)
    padded = tile * math.ceil(n / tile)
    # Augmented coordinates make one GEMM give -|x_i - x_j|^2 / 2 directly, with no
    # elementwise passes after it: [x_i, -|x_i|^2/2, 1] . [x_j, 1, -|x_j|^2/2].
    # Distances do not change under a shift; centring shrinks |x|^2 and with it the
    # cancellation. The squares are those of the float32 coordinates the GEMM sees.
    on_device = _on_accelerator(keras.backend.backend())
    shift = x.mean(axis=0, dtype=np.float64)
    inverse_scale = 1.0 / scale if scale is not None else np.ones(d)
    left = np.zeros((padded, d + 2), np.float32)

    def write_left(rows):
        block = ((x[rows] - shift) * inverse_scale).astype(np.float32)
        left[rows, :d] = block
        left[rows, d] = -np.sum(block.astype(np.float64) ** 2, axis=1) / 2
        left[rows, d + 1] = 1.0

    _in_chunks(n, write_left, threads=on_device)
    # Padding rows: zero coordinates, and y = 0 *and* a 0 in the ones column, so they add
    # nothing anywhere.
    targets = np.zeros((padded, y.shape[1] + 1), np.float32)
    targets[:n, :-1] = y
    targets[:n, -1] = 1.0

    tiles = [slice(t, t + tile) for t in range(0, padded, tile)]
    # Each tile goes to the backend once, not once per pair; the right factor goes
    # transposed, (d + 2, tile), as the GEMM wants it. On a GPU the transposes are made
    # there (on this CPU's host they take 0.1-0.5 s at n = 60,000).
    if on_device:
        lefts = [ops.convert_to_tensor(left[rows]) for rows in tiles]
        rights = [_compiled(_right_factor)(left_tile) for left_tile in lefts]
    else:
        swap = np.r_[0:d, d + 1, d]  # [x, -|x|^2/2, 1] -> [x, 1, -|x|^2/2]
        rights = [ops.convert_to_tensor(np.ascontiguousarray(left[rows][:, swap].T)) for rows in tiles]
    ys = [ops.convert_to_tensor(targets[rows]) for rows in tiles]
    if distances == "auto":
        error = _float32_distance_error(left, rights, n, grid.max())
        distances = "float64" if error > _EXACT_ABOVE else "float32"
    if distances == "float32" and not on_device:
        lefts = [ops.convert_to_tensor(left[rows]) for rows in tiles]
    elif distances == "float64":
        coords = np.zeros((padded, d))

        def write_coords(rows):
            coords[rows] = (x[rows] - shift) * inverse_scale

        _in_chunks(n, write_coords, threads=on_device)
        squares = np.sum(coords**2, axis=1)
    groups = _grid_groups(grid)
    sums = (_DeviceSums if on_device else _HostSums)(targets, ys, tiles, [g[0] for g in groups])
    # A call's sums are added only after the next call is sent: where the backend runs
    # asynchronously (JAX) the device computes the next blocks while the host copies and
    # adds these, or on a GPU sends their adds. On a synchronous backend the order of the
    # work is unchanged.
    pending = []
    for a, rows in enumerate(tiles):
        sums.start_row(a)
        for first in range(a, len(tiles), _CHAINS):
            chain = range(first, min(first + _CHAINS, len(tiles)))
            diagonals = tuple(a == b for b in chain)
            y_cols = [ys[b] for b in chain]
            for g, (positions, values, steps, lengths) in enumerate(groups):
                if g == 0 and distances == "float32":
                    # The distance GEMMs go into the same graph as the first group's sums,
                    # so that one block's GEMM overlaps the other block's grid points.
                    sums_fn = _compiled(_block_sums, diagonals=diagonals, lengths=lengths)
                    neg_halves, row_sums, col_sums = sums_fn(
                        lefts[a], [rights[b] for b in chain], ys[a], y_cols, values, steps
                    )
                else:
                    if g == 0:  # float64 distances, once per block, kept for later groups
                        neg_halves = [
                            ops.convert_to_tensor(_neg_half_float64(coords, squares, rows, tiles[b]))
                            for b in chain
                        ]
                    sums_fn = _compiled(_kernel_sums, diagonals=diagonals, lengths=lengths)
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


class _HostSums:
    """The blocks' sums, added in float64 on the host: on a CPU the backend's results are
    host memory already, and numpy's float64 adds cost little next to the blocks.

    Args (shared with ``_DeviceSums``):
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
        # neighbours lose their low bits (below half of 1.2e-7 they vanish), which moved
        # the LFR by 5e-6 near its top. Diagonal blocks carry a weight of 0 on the diagonal.
        self.own = np.repeat(self.targets[None, self.tiles[a]].astype(np.float64), self.size, axis=0)

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


class _DeviceSums:
    """The blocks' sums, added on the device, each as a float32 pair hi + lo (about 48 bits).

    On a GPU, copying every call's sums to the host and adding them there took most of the
    time (n = 60,000, K = 50 on an H200: 1.0 s of copies and waits and 0.57 s of adds in
    2.5 s; 1.14 s in all with this class, against 1.79 s without it in the same process).
    Here they stay on the device, added by ``_two_sum``, which keeps in ``lo`` what each
    float32 add rounds off, so that however many tiles there are, a row's sums are rounded
    once (in ``_row_norms``), not once per add next to its own term's 1. Each row tile
    sends back only its points' |y_low_i|^2, (K, tile), summed in float64 on the host.
    Arguments and methods as ``_HostSums``.
    """

    def __init__(self, targets, ys, tiles, groups):
        self.ys, self.groups = ys, groups
        self.received = {}  # (column tile, group's first position) -> (hi, lo)
        self.norms = []  # (positions, |y_low_i|^2 on the device, real rows)
        self.two_sum = _compiled(_two_sum)
        self.row_norms = _compiled(_row_norms)

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


def _two_sum(hi, lo, part):
    """(hi, lo) + part, with hi + lo a float32 pair: Knuth's TwoSum puts the rounding error
    of hi + part, exactly, into lo. It relies on the compiler not reassociating float adds,
    which would simplify the error term away: test_two_sum_keeps_what_float32_rounds_off
    checks that, and passed under TensorFlow and JAX on a CPU and JAX on an H200."""
    total = hi + part
    part_seen = total - hi
    error = (hi - (total - part_seen)) + (part - part_seen)
    return total, lo + error


def _row_norms(own_hi, own_lo, received_hi, received_lo):
    """|y_low_i|^2 for each grid point and row from a row tile's sums, (K, tile).

    own: (K, tile, d_o + 1) pairs; received: (K, d_o + 1, tile) pairs. Padding rows give NaN
    (0 / 0); the caller drops them.
    """
    received_hi, received_lo = (ops.transpose(a, (0, 2, 1)) for a in (received_hi, received_lo))
    hi, lo = _two_sum(own_hi, own_lo + received_lo, received_hi)
    sums = hi + lo
    return ops.sum((sums[..., :-1] / sums[..., -1:]) ** 2, axis=-1)


def _right_factor(left):
    """A tile's right factor from its left one: [x, -|x|^2/2, 1] -> [x, 1, -|x|^2/2]^T."""
    return ops.transpose(ops.concatenate([left[:, :-2], left[:, -1:], left[:, -2:-1]], axis=1))


def _in_chunks(n, fill, threads=False, rows=1024):
    """Call ``fill(slice)`` for each chunk of ``rows`` of n points.

    Chunks keep the float64 temporaries small (n x d float64 is hundreds of MB at n = 60,000).
    With ``threads``, the chunks run on up to 8 cores (numpy releases the GIL in its array
    loops). The engine asks for that on a GPU, whose host cores are otherwise idle. On this
    2-core CPU under TensorFlow, threads competed with TensorFlow's own: preparing the
    coordinates took 24-31 ms instead of 7 ms at n = 5,000, the same at n = 20,000, and
    58 ms instead of 127 ms at n = 60,000, so the CPU path fills the chunks in turn.
    """
    chunks = [slice(c, min(c + rows, n)) for c in range(0, n, rows)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(len(chunks), cores, 8) if threads else 1
    if workers == 1:
        for chunk in chunks:
            fill(chunk)
        return
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(fill, chunks):  # re-raises a chunk's exception here
            pass


def _neg_half_float64(coords, squares, rows, cols):
    """-|x_i - x_j|^2 / 2 for a block, from float64 centred coordinates, as float32.

    Clamped at 0, with an exact 0 where i == j. The float32 result keeps each distance to
    a relative 6e-8, however small it is against |x|^2.
    """
    block = coords[rows] @ coords[cols].T - squares[rows, None] / 2 - squares[None, cols] / 2
    np.minimum(block, 0.0, out=block)
    if rows == cols:
        np.fill_diagonal(block, 0.0)
    return block.astype(np.float32)


def _float32_distance_error(left, rights, n, top, seed=0):
    """An estimate of how far float32 distances could move the LFR at 1/delta = ``top``.

    For a sample of points, the error of each float32 squared distance is taken as
    2^-23 (|x_i|^2 + |x_j|^2) (measured: a quarter of that typically, 4.5 times it at
    most). It moves the weight exp(-u), u = top d^2 / 2, by a relative u times the
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
    sample = np.random.default_rng(seed).choice(n, min(n, _SAMPLE), replace=False)
    probe = ops.convert_to_tensor(left[sample])
    # Compiled like the engine's own products, so with TensorFloat-32 off: an eager product
    # on a recent GPU may use it (JAX's documented default), and its distances would not be
    # the engine's.
    product = _compiled(_product)
    d2 = -2.0 * np.concatenate([ops.convert_to_numpy(product(probe, r)) for r in rights], axis=1)[:, :n]
    d2[np.arange(len(sample)), sample] = np.inf  # a point is not its own neighbour
    squares = -2.0 * left[:n, d]
    error = 2.0**-23 * (squares[sample, None] + squares[None, :])
    # Below its error a float32 distance is noise; the true one may be anything down to 0.
    resolved = np.maximum(d2, error)
    u = np.minimum(top * resolved / 2, 1.0)
    return float(np.mean(np.max(error / resolved * u * np.exp(-u), axis=1)))


def _product(left, right):
    return ops.matmul(left, right)


def _block_sums(left, rights, yi, yjs, values, steps, *, diagonals, lengths):
    """``_kernel_sums`` from the tiles' augmented coordinates; also returns the blocks' -d^2/2."""
    grams = [ops.matmul(left, right_t) for right_t in rights]
    return _kernel_sums(grams, yi, yjs, values, steps, diagonals=diagonals, lengths=lengths, raw=True)


def _kernel_sums(neg_halves, yi, yjs, values, steps, *, diagonals, lengths, raw=False):
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
                if i % _ANCHOR == 0:
                    first = raw and k == 0
                    stepping = length > 1 and i == 0
                    start = _compiled(_start, xla=True, clamp=first, diagonal=diagonal, stepping=stepping)
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
                    # floats: 16 GB on an H200 at n = 60,000, K = 50 (3.2 GB with the
                    # factor), and on this CPU the blocks fell out of cache (4x slower at
                    # n = 5,000). XLA fuses the factor into the multiply; TensorFlow's
                    # executor would not, and frees each weights once used anyway.
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


def _start(neg_half, value, step, *, clamp, diagonal, stepping):
    """A run's first weights exp(value * neg_half) and, when ``stepping``, its step factor.

    With ``clamp``, neg_half is the raw product of augmented coordinates: it is clamped to
    <= 0 (the expansion's rounding can make it slightly positive) and returned first. On a
    ``diagonal`` block the weights' diagonal is 0: each point's own weight of exactly 1 is
    added after the products (``_HostSums``, ``_DeviceSums``), and multiplying by the step
    keeps it 0. Compiled by XLA under TensorFlow, which makes these elementwise passes one
    (about 0.6 ms less per 1,000 x 1,000 block here).
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


_CACHE = {}


def _compiled(fn, xla=False, **static):
    """fn with its static arguments bound, compiled once per backend and static values."""
    key = (keras.backend.backend(), fn.__name__, xla, tuple(sorted(static.items())))
    if key not in _CACHE:
        _CACHE[key] = _compile(functools.partial(fn, **static), xla)
    return _CACHE[key]


def _compile(fn, xla=False):
    """Compile fn for the active Keras backend, with full float32 matmul precision.

    xla: under TensorFlow, compile with XLA. It fuses elementwise passes into one (used for
    the clamp and exps that start each run), but its CPU matrix products were measured
    1.3-2x slower than TensorFlow's own (oneDNN) for the thin products of the kernel sums,
    so the sums themselves are a plain TensorFlow graph. JAX always compiles with XLA.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # TensorFloat-32 (on by default on Ampere+ GPUs) keeps 10 mantissa bits, which
        # wrecks |a|^2 + |b|^2 - 2ab. TensorFlow has only this global switch.
        tf.config.experimental.enable_tensor_float_32_execution(False)
        return tf.function(fn, reduce_retracing=True, jit_compile=xla)
    if backend == "jax":
        import jax

        compiled = jax.jit(fn)

        def call(*args):
            with jax.default_matmul_precision("highest"):
                return compiled(*args)

        return call
    if backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
    return fn
