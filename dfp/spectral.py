"""The paper's measure of frequency: the LFR and the RDF (eqs. 3-6), in reading order.

For a data set {(x_i, y_i)}_{i=1}^n (a hidden layer's effective target S^[l], eq. 11, or a
function sampled at points) the low frequency part of y is y smoothed by a Gaussian of
variance delta in x, normalised over each row, the point itself included (eqs. 4, 5)::

    y_low_i = sum_j G(x_i - x_j) y_j / C_i,   C_i = sum_j G(x_i - x_j)          (4)
    G(x_i - x_j) = exp(-|x_i - x_j|^2 / (2 delta))                              (5)

The Fourier transform of G is a Gaussian of variance 1/delta, so y_low keeps the frequencies
within about 1/delta. The low frequency ratio is the power that survives the filter::

    LFR(1/delta) = sum_i |y_low_i|^2 / sum_i |y_i|^2                             (3)

It rises from its floor ``|mean y|^2 / mean |y|^2`` (every y_low_i the mean) at 1/delta -> 0 to
1 as the filter keeps every frequency. The ratio density function is its derivative in
1/delta, taken as the slope between consecutive grid points; where it peaks is where the
power of the function sits in frequency::

    RDF(1/delta) = d LFR / d(1/delta)                                            (6)

``lfr_reference`` is eqs. 3-5 written out; ``lfr`` computes the same value in linear memory.
Inputs are divided by their largest absolute value per dimension first, as in the paper.
"""

import numpy as np
from numpy.typing import ArrayLike

from dfp._checks import as_grid, as_points, column_scale, data_set, power_of

__all__ = [
    "halfway_inv_delta",
    "lfr",
    "lfr_floor",
    "lfr_reference",
    "normalize_inputs",
    "peak_inv_delta",
    "rdf",
]


def lfr_reference(
    x: ArrayLike, y: ArrayLike, inv_delta: ArrayLike, *, normalize: bool = True
) -> np.ndarray:
    """The LFR by its definition, eqs. 3-5: float64, the whole n x n kernel per 1/delta.

    Memory grows as n^2 (several n x n float64 arrays at once): use ``lfr`` for real data
    sets; this is the definition it is tested against. Same arguments, result and errors as
    ``lfr``.

    Args:
        x, y: inputs (n, d) or (n,) and targets (n, d_o) or (n,).
        inv_delta: 1/delta values, a 1-D array of positive numbers, in units of
            1 / (squared distance of the inputs, normalised when ``normalize``).
        normalize: divide each input dimension by its maximum absolute value first.

    Returns:
        float64 array with one LFR per entry of ``inv_delta``.
    """
    x, y = data_set(x, y, normalize)
    grid = as_grid(inv_delta)
    power = power_of(y)  # sum_i |y_i|^2, the denominator of eq. 3
    squares = np.sum(x**2, axis=1)
    squared_distances = np.maximum(squares[:, None] + squares[None, :] - 2 * x @ x.T, 0)
    np.fill_diagonal(squared_distances, 0)  # |x_i - x_j|^2
    out = np.empty(len(grid))
    for k, g in enumerate(grid):
        kernel = np.exp(-squared_distances * g / 2)  # G(x_i - x_j), eq. 5, at 1/delta = g
        low = kernel @ y / kernel.sum(axis=1, keepdims=True)  # y_low_i / C_i, eq. 4
        out[k] = np.sum(low**2) / power  # eq. 3
    return out


def lfr(
    x: ArrayLike,
    y: ArrayLike,
    inv_delta: ArrayLike,
    *,
    normalize: bool = True,
    distances: str = "auto",
) -> np.ndarray:
    """The LFR of eqs. 3-5, the same value as ``lfr_reference`` within 1e-5, in linear memory.

    The kernel is applied block by block and never held whole (``dfp._lfr_engine``), so
    n = 60,000 points fit where the reference needs n^2 memory.

    Args:
        x: inputs, shape (n, d) or (n,).
        y: targets, shape (n, d_o) or (n,).
        inv_delta: 1/delta values, a 1-D array of positive numbers (any order; a uniform
            stretch is computed faster), in units of 1 / (squared distance of the inputs,
            normalised when ``normalize``): delta is the variance of the Gaussian filter.
        normalize: divide each input dimension by its maximum absolute value first (the
            paper's choice for S^[l]).
        distances: how squared distances are computed, as ``|a|^2 + |b|^2 - 2ab`` after
            centring. "float32": one float32 product per block, on the backend; its
            error is about ``1e-7 (|a|^2 + |b|^2)``, too coarse for points much closer than
            the data's radius, as in layers collapsed into class clusters. "float64": in
            float64 on the host, whose error of about ``1e-16 (|a|^2 + |b|^2)`` still gives
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
    x, y = data_set(x, y, normalize=False, keep_float32=True)
    grid = as_grid(inv_delta)
    power = power_of(y)
    if distances not in ("auto", "float32", "float64"):
        raise ValueError(f"unknown distances {distances!r}: use 'auto', 'float32' or 'float64'")
    # The normalisation is applied while the float32 coordinates are written (no n x d
    # float64 temporaries: at n = 60,000 each would be hundreds of MB).
    # The definition, the RDF and the curve positions need numpy only; the engine loads Keras.
    from dfp._lfr_engine import low_power  # deferred: Keras and its backend, on first use

    return low_power(x, y, grid, column_scale(x) if normalize else None, distances) / power


def lfr_floor(y: ArrayLike) -> float:
    """The LFR's limit as 1/delta -> 0: every y_low_i is the mean of y.

    Args:
        y: targets, shape (n, d_o) or (n,).

    Returns:
        ``|mean y|^2 / mean |y|^2``, a float.
    """
    y = as_points(y, "y")
    power = power_of(y)
    return float(np.sum(np.mean(y, axis=0) ** 2) * len(y) / power)


def normalize_inputs(x: ArrayLike) -> np.ndarray:
    """Divide each input dimension by its maximum absolute value, as the paper does.

    Args:
        x: inputs, shape (n, d) or (n,).

    Returns:
        float64 array of shape (n, d), each column in [-1, 1]. A column that is zero
        everywhere is left as it is (it carries no distance information).
    """
    x = as_points(x, "x")
    return x / column_scale(x)


def rdf(inv_delta: ArrayLike, lfr_values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Ratio density function: the slope of the LFR between consecutive grid points (eq. 6).

    Args:
        inv_delta: strictly increasing 1/delta grid, at least two points (uniform or not).
        lfr_values: the LFR at each grid point.

    Returns:
        The midpoints of consecutive grid values and the LFR's slope between them,
        (midpoints, slopes), two float64 arrays of length len(inv_delta) - 1.
    """
    grid = as_grid(inv_delta, increasing=True)
    values = np.asarray(lfr_values, dtype=np.float64)
    if values.shape != grid.shape:
        raise ValueError(f"lfr_values has shape {values.shape} but the grid has shape {grid.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("lfr_values contains NaN or inf")
    return (grid[1:] + grid[:-1]) / 2, np.diff(values) / np.diff(grid)


def peak_inv_delta(inv_delta: ArrayLike, lfr_values: ArrayLike) -> float:
    """The 1/delta where the RDF peaks: the midpoint of the steepest grid interval.

    Args:
        inv_delta: strictly increasing 1/delta grid, at least two points.
        lfr_values: the LFR at each grid point.

    Returns:
        The midpoint of the interval where the RDF is largest.
    """
    midpoints, slopes = rdf(inv_delta, lfr_values)
    return float(midpoints[np.argmax(slopes)])


def halfway_inv_delta(inv_delta: ArrayLike, lfr_values: ArrayLike, floor: float) -> float:
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
    grid = as_grid(inv_delta, increasing=True)
    values = np.asarray(lfr_values, dtype=np.float64)
    rdf(grid, values)  # the same shape and finiteness checks
    level = (float(floor) + 1.0) / 2.0
    above = np.nonzero(values >= level)[0]
    if len(above) == 0:
        raise ValueError(
            f"the LFR never reaches {level:.4f} on this grid (max {values.max():.4f}): "
            "extend the grid to larger 1/delta"
        )
    k = above[0]
    if k == 0:
        raise ValueError(
            f"the LFR is already {values[0]:.4f} >= {level:.4f} at the first grid point: "
            "start the grid at smaller 1/delta"
        )
    fraction = (level - values[k - 1]) / (values[k] - values[k - 1])
    return float(grid[k - 1] + fraction * (grid[k] - grid[k - 1]))
