"""Low frequency ratio (LFR) and ratio density function (RDF): eqs. 1-6 of the paper.

For a data set {(x_i, y_i)} the paper smooths the targets with a row-normalised Gaussian
kernel (eq. 4, the point itself included)::

    y_low_i = sum_j G(x_i - x_j) y_j / sum_j G(x_i - x_j),   G(d) = exp(-|d|^2 / (2 delta))

and compares powers (eq. 3): LFR = sum_i |y_low_i|^2 / sum_i |y_i|^2. The RDF (eq. 6) is the
slope of the LFR against 1/delta between consecutive grid points.

The n x n kernel is never held: points are cut into tiles, each pair of tiles (i <= j) makes
one kernel block, and because the kernel is symmetric that block serves the rows of both tiles.
One matrix product with [Y, 1] gives the weighted sums and the row sums together. Arithmetic
is float32; each tile's partial sums are added in float64, so memory is linear in n.
"""

import functools
import math

import keras
import numpy as np
from keras import ops

# Rows (and columns) per tile. A 1024 x 1024 float32 kernel block is 4 MiB.
_TILE = 1024
# Consecutive points of a uniform stretch of the grid handled together: one exp for the
# first and one for the step, then a multiply per point (exp(a k) = exp(a)^k). Starting
# each chunk again from an exp bounds the rounding that repeated multiplies accumulate.
_CHUNK = 8


def normalize_inputs(x):
    """Divide each input dimension by its maximum absolute value, as the paper does.

    Args:
        x: inputs, shape (n, d) or (n,).

    Returns:
        float64 array of shape (n, d), each column in [-1, 1]. A column that is zero
        everywhere is left as it is (it carries no distance information).
    """
    x = _as_points(x, "x")
    scale = np.max(np.abs(x), axis=0)
    scale[scale == 0] = 1.0
    return x / scale


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


def lfr(x, y, inv_delta, *, normalize=True):
    """Low frequency ratio of the data set {(x_i, y_i)} for each 1/delta (eqs. 1-5).

    Args:
        x: inputs, shape (n, d) or (n,).
        y: targets, shape (n, d_o) or (n,).
        inv_delta: 1/delta values, a 1-D array of positive numbers (any order; a uniform
            stretch is computed faster).
        normalize: divide each input dimension by its maximum absolute value first (the
            paper's choice for S^[l]).

    Returns:
        float64 array with one LFR per entry of ``inv_delta``.

    Raises:
        ValueError: NaN or inf in x or y, different numbers of points, fewer than two
            points, y zero everywhere, or a grid that is empty, not 1-D or not positive.
    """
    x = _as_points(x, "x")
    y = _as_points(y, "y")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} points but y has {len(y)}: they must match")
    grid = _as_grid(inv_delta)
    power = _power(y)
    if normalize:
        x = normalize_inputs(x)
    sums = _smoothed_sums(x, y, grid)
    low = sums[..., :-1] / sums[..., -1:]
    return np.sum(low**2, axis=(1, 2)) / power


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


# --- validation -------------------------------------------------------------------------


def _as_points(a, name):
    a = np.asarray(a, dtype=np.float64)
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
    # Small sets get one tile rounded up to a multiple of 64, not a mostly-padded 1024.
    return min(_TILE, 64 * math.ceil(n / 64))


def _grid_plan(grid):
    """Split the grid into uniform chunks of _CHUNK points and single points.

    Returns (starts, steps, uniform_index, points, point_index): chunk c covers grid
    positions uniform_index[c] with values starts[c] + steps[c] * arange(_CHUNK).
    """
    starts, steps, uniform_index, single = [], [], [], []
    k = 0
    while k < len(grid):
        block = grid[k : k + _CHUNK]
        if len(block) == _CHUNK:
            diffs = np.diff(block)
            if np.all(diffs > 0) and np.ptp(diffs) <= 1e-9 * diffs.mean():
                starts.append(block[0])
                steps.append(diffs.mean())
                uniform_index.append(np.arange(k, k + _CHUNK))
                k += _CHUNK
                continue
        single.append(k)
        k += 1
    return (
        np.asarray(starts, np.float32),
        np.asarray(steps, np.float32),
        np.asarray(uniform_index, np.int64).reshape(-1, _CHUNK),
        grid[single].astype(np.float32),
        np.asarray(single, np.int64),
    )


def _smoothed_sums(x, y, grid):
    """For each 1/delta and each i: [sum_j G_ij y_j, sum_j G_ij], float64 (K, n, d_o + 1)."""
    n, d = x.shape
    tile = _tile_size(n)
    padded = tile * math.ceil(n / tile)
    # Distances do not change under a shift; centring shrinks |x|^2 and with it the
    # cancellation in |a|^2 + |b|^2 - 2ab.
    x = x - x.mean(axis=0)
    xs = np.zeros((padded, d), np.float32)
    xs[:n] = x
    # Padding rows have y = 0 *and* a 0 in the ones column, so they add nothing anywhere.
    ys = np.zeros((padded, y.shape[1] + 1), np.float32)
    ys[:n, :-1] = y
    ys[:n, -1] = 1.0
    squares = np.sum(xs.astype(np.float64) ** 2, axis=1).astype(np.float32)

    starts, steps, uniform_index, points, point_index = _grid_plan(grid)
    plan = (starts, steps, points)
    sums = np.zeros((len(grid), padded, ys.shape[1]), np.float64)
    tiles = [slice(t, t + tile) for t in range(0, padded, tile)]
    for a, rows in enumerate(tiles):
        for cols in tiles[a:]:
            diagonal = rows == cols
            kernel = _kernel(diagonal, len(starts) > 0, len(points) > 0)
            for_rows, for_cols = kernel(
                xs[rows], xs[cols], squares[rows], squares[cols], ys[rows], ys[cols], *plan
            )
            _scatter(sums[:, rows], for_rows, uniform_index, point_index)
            if not diagonal:
                _scatter(sums[:, cols], for_cols, uniform_index, point_index)
    return sums[:, :n]


def _scatter(target, parts, uniform_index, point_index):
    # Add a tile's float32 partial sums into the float64 totals, back in grid order.
    chunked, single = parts
    if chunked is not None:
        chunked = ops.convert_to_numpy(chunked)
        target[uniform_index.reshape(-1)] += chunked.reshape((-1,) + chunked.shape[2:])
    if single is not None:
        target[point_index] += ops.convert_to_numpy(single)


@functools.cache
def _kernel(diagonal, has_chunks, has_points):
    fn = functools.partial(
        _tile_pair, diagonal=diagonal, has_chunks=has_chunks, has_points=has_points
    )
    return _compile(fn)


def _tile_pair(xi, xj, sqi, sqj, yi, yj, starts, steps, points, *, diagonal, has_chunks, has_points):
    """Kernel block of tiles i and j and its sums for every grid point.

    Returns ((for_rows_chunks, for_rows_points), (for_cols_chunks, for_cols_points)):
    for_rows = G y_j summed over the tile's columns, for_cols = G^T y_i (None on the diagonal,
    where the block is symmetric and for_rows already covers it).
    """
    d2 = (
        ops.expand_dims(sqi, 1)
        + ops.expand_dims(sqj, 0)
        - 2.0 * ops.matmul(xi, ops.transpose(xj))
    )
    d2 = ops.maximum(d2, 0.0)
    if diagonal:
        # Exactly zero self-distance, so each row keeps its self weight of exactly 1.
        d2 = ops.where(ops.eye(ops.shape(d2)[0], dtype="bool"), 0.0, d2)
    neg_half = -0.5 * d2
    yi_t = ops.transpose(yi)

    def sums(weights):
        for_rows = ops.matmul(weights, yj)
        # (y_i^T G)^T rather than G^T y_i: transposes a thin matrix, not the block.
        for_cols = None if diagonal else ops.transpose(ops.matmul(yi_t, weights))
        return for_rows, for_cols

    def chunk(params):
        weights = ops.exp(neg_half * params[0])
        step = ops.exp(neg_half * params[1])
        out = []
        for c in range(_CHUNK):
            if c:
                weights = weights * step
            out.append(sums(weights))
        return _stack_pairs(out, diagonal)

    def point(value):
        return _stack_pairs([sums(ops.exp(neg_half * value))], diagonal, squeeze=True)

    rows_chunks = cols_chunks = rows_points = cols_points = None
    if has_chunks:
        rows_chunks, cols_chunks = ops.map(chunk, ops.stack([starts, steps], axis=1))
    if has_points:
        rows_points, cols_points = ops.map(point, points)
    return (rows_chunks, rows_points), (cols_chunks, cols_points)


def _stack_pairs(pairs, diagonal, squeeze=False):
    rows = ops.stack([p[0] for p in pairs])
    # ops.map needs a tensor in every output slot; the diagonal's unused one is a scalar.
    cols = ops.zeros(()) if diagonal else ops.stack([p[1] for p in pairs])
    if squeeze:
        rows = rows[0]
        cols = cols if diagonal else cols[0]
    return rows, cols


def _compile(fn):
    """Compile fn for the active Keras backend, with full float32 matmul precision."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # TensorFloat-32 (on by default on Ampere+ GPUs) keeps 10 mantissa bits, which
        # wrecks |a|^2 + |b|^2 - 2ab. TensorFlow has only this global switch.
        tf.config.experimental.enable_tensor_float_32_execution(False)
        return tf.function(fn, reduce_retracing=True)
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
