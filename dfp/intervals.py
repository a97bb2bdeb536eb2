"""How far a curve's positions move with the finite set of analysis points: subsample intervals.

The LFR of n points (``dfp.spectral``) is measured on one sample of the data; another sample of
n points would put its half-way point and its RDF peak somewhat elsewhere. The intervals here
estimate that spread by resampling WITHOUT duplicates (a duplicated point would sit at distance
0 from its copy and weigh twice in every Gaussian sum):

1. ``subsamples``: ``repeats`` subsets of round(fraction · n) distinct indices, drawn once, so
   that every curve measured on the same n points (the layers of a network, the epochs of a
   training run) is resampled on the same subsets: their draws are paired.
2. ``position_draws``: each subset's half-way point and RDF peak for each (features, targets)
   pair, every subset keeping the full set's input normalisation (a subset of one point cloud).
3. ``interval``: the interval of the full set's position, centred on it on a log scale, its
   width the subsamples' spread turned into the standard error of the full set (the
   half-sampling rule).
"""

import math
import statistics
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from dfp._checks import as_grid, as_points, column_scale
from dfp.spectral import halfway_inv_delta, lfr, lfr_floor, peak_inv_delta

__all__ = [
    "RESAMPLE_FRACTION",
    "RESAMPLE_REPEATS",
    "interval",
    "position_draws",
    "subsamples",
]

# How many subsamples measure a position's spread: their standard deviation is then known to
# a relative error of about 1 / sqrt(2 (repeats - 1)), at repeats * fraction**2 full curves.
RESAMPLE_REPEATS = 20
# Each subsample holds this fraction of the points: one half, for which the half-sampling rule's
# factor sqrt(f / (1 - f)) is 1 (the spread of half-samples is the full set's standard error).
RESAMPLE_FRACTION = 0.5


def subsamples(
    n: int,
    *,
    repeats: int = RESAMPLE_REPEATS,
    fraction: float = RESAMPLE_FRACTION,
    seed: int | None = 0,
) -> np.ndarray:
    """``repeats`` subsets of round(fraction · n) distinct indices of n points.

    Args:
        n: the number of points.
        repeats: how many subsets, at least 2 (a spread needs two).
        fraction: each subset holds round(fraction * n) points, in (0, 1).
        seed: seeds ``numpy.random.default_rng`` (None: fresh entropy).

    Returns:
        int64 array of shape (repeats, round(fraction * n)), each row sorted distinct indices
        in 0 .. n - 1.

    Raises:
        ValueError: n not a positive integer, repeats not an integer >= 2, fraction outside
            (0, 1), or subsets that would hold fewer than 2 points or all n.
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer (the number of points), got {n}")
    if isinstance(repeats, bool) or int(repeats) != repeats or repeats < 2:
        raise ValueError(f"repeats must be an integer >= 2 (a spread needs two), got {repeats}")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    n, size = int(n), round(fraction * n)
    if not 2 <= size < n:
        raise ValueError(
            f"fraction = {fraction} of n = {n} points is {size}: a subsample needs between 2 "
            f"and n - 1 = {n - 1} points; choose another fraction"
        )
    rng = np.random.default_rng(seed)
    rows = [np.sort(rng.choice(n, size=size, replace=False)) for _ in range(int(repeats))]
    return np.asarray(rows, dtype=np.int64)


def _halfway(grid, values, floor):
    """``halfway_inv_delta``, NaN where the grid does not bracket the half-way level."""
    try:
        return halfway_inv_delta(grid, values, floor)
    except ValueError:
        return math.nan


def _subsets(subsets):
    subsets = np.asarray(subsets)
    if subsets.ndim != 2 or not np.issubdtype(subsets.dtype, np.integer):
        raise ValueError(
            f"subsets must be a 2-D integer array (repeats, size), as subsamples draws them, "
            f"got shape {subsets.shape} and dtype {subsets.dtype}"
        )
    if subsets.shape[1] < 2 or np.any(subsets < 0) or np.any(np.diff(subsets, axis=1) <= 0):
        raise ValueError(
            "subsets must be rows of at least 2 distinct non-negative indices in increasing "
            "order, as subsamples draws them"
        )
    return subsets


def position_draws(
    pairs: Sequence[tuple[ArrayLike, ArrayLike]],
    inv_delta: ArrayLike,
    subsets: ArrayLike,
    *,
    normalize: bool = True,
) -> dict[str, np.ndarray]:
    """Each subset's half-way point and RDF peak, for each (features, targets) pair.

    Each pair's features are normalised over all n points first (each dimension divided by its
    largest ``|value|``, as ``dfp.spectral.normalize_inputs`` does), then indexed, and the
    subset's LFR is ``dfp.spectral.lfr(..., normalize=False)``: every subset keeps the full
    set's normalisation. Its floor is ``dfp.spectral.lfr_floor`` of the subset's targets.

    Cost: the kernel sums are quadratic in the number of points, so one draw costs about
    fraction**2 times the full curve, and all of them about ``repeats * fraction**2`` times one
    full curve per pair.

    Args:
        pairs: (features (n, ...), targets (n,) or (n, d_o)) on the SAME n points, e.g. the
            layers of one network on one analysis set.
        inv_delta: the 1/δ grid, positive and strictly increasing, at least two values.
        subsets: what ``subsamples`` returned, indices into the n points.
        normalize: divide each input dimension by its largest ``|value|`` over all n points
            (the paper's choice, and ``lfr``'s default).

    Returns:
        {"halfway": float64 array (len(pairs), repeats), NaN where the grid does not bracket
        the half-way point; "peak": float64 array (len(pairs), repeats)}. A subset on which
        the targets are zero everywhere (a sparse target) gives NaN in both.

    Raises:
        ValueError: a grid that is not positive and strictly increasing, pairs on different
            numbers of points, NaN or inf in them, or subsets that are not rows of distinct
            increasing indices below n.
    """
    grid = as_grid(inv_delta, increasing=True)
    subsets = _subsets(subsets)
    pairs = list(pairs)
    halfway = np.full((len(pairs), len(subsets)), math.nan)
    peak = np.full((len(pairs), len(subsets)), math.nan)
    sizes = set()
    for p, (features, targets) in enumerate(pairs):
        x = np.asarray(features)
        x = as_points(x.reshape(len(x), -1), "features", keep_float32=True)
        y = as_points(targets, "targets")
        if len(x) != len(y):
            raise ValueError(f"pair {p}: features have {len(x)} points but targets {len(y)}")
        sizes.add(len(x))
        if len(sizes) > 1:
            raise ValueError(f"the pairs must be on the same n points, got n = {sorted(sizes)}")
        if subsets.size and subsets.max() >= len(x):
            raise ValueError(
                f"subsets index point {subsets.max()} but the pairs have {len(x)} points"
            )
        # The full set's scale, not the subset's: each subset is part of one point cloud.
        scale = column_scale(x) if normalize else None
        for r, rows in enumerate(subsets):
            sub_y = y[rows]
            if not np.any(sub_y):
                continue
            sub_x = x[rows] / scale if normalize else x[rows]
            if x.dtype == np.float32:  # as lfr writes the normalised coordinates (half the memory)
                sub_x = sub_x.astype(np.float32)
            values = lfr(sub_x, sub_y, grid, normalize=False)
            halfway[p, r] = _halfway(grid, values, lfr_floor(sub_y))
            peak[p, r] = peak_inv_delta(grid, values)
    return {"halfway": halfway, "peak": peak}


def interval(
    value: float, draws: ArrayLike, fraction: float, level: float
) -> tuple[float, float] | None:
    """The ``level`` interval of a positive full-set position, from its subsamples' draws.

    ``exp(log(value) ± z · sd(log draws) · sqrt(fraction / (1 - fraction)))``, with
    ``z = NormalDist().inv_cdf((1 + level) / 2)`` and the sample standard deviation of the
    finite draws.

    Why centred on the full set, and why that factor: a subsample of fraction f sees its
    neighbours farther apart (its points are sparser), so its LFR rises at larger distances and
    its positions are biased, lower in 1/δ than the full set's. The subsamples therefore give
    the SPREAD of the position, not its centre: the centre is the full-set value. The spread of
    f-subsamples (drawn without duplicates) around the full set is, for a mean, a fraction
    (1 - f) / f of the full set's own variance, so the factor sqrt(f / (1 - f)) turns it into
    the standard error of the full-set value (the half-sampling rule: the factor is 1 for
    f = 1/2). Positions are positive and spread multiplicatively (1/δ spans decades), so the
    interval is taken on a log scale and always contains ``value``. A position that takes grid
    values only (the peak) gets a zero width when every draw falls in the same grid interval:
    the grid's spacing bounds its resolution.

    Args:
        value: the full-set position (NaN: not measured, no interval).
        draws: the subsamples' positions (``position_draws``), NaN where not measured.
        fraction: the subsamples' fraction of the points, in (0, 1).
        level: the interval's coverage, in (0, 1).

    Returns:
        (low, high) with low <= value <= high, or None when ``value`` is NaN or fewer than
        half the draws (or fewer than 2) are finite.

    Raises:
        ValueError: ``fraction`` or ``level`` outside (0, 1), or a value or draw that is not
            positive.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    value = float(value)
    if math.isnan(value):
        return None
    if not 0 < value < math.inf:
        raise ValueError(f"the position must be positive and finite (a 1/δ), got {value}")
    draws = np.asarray(draws, dtype=np.float64).reshape(-1)
    finite = draws[np.isfinite(draws)]
    if len(finite) < 2 or 2 * len(finite) < len(draws):
        return None
    if np.any(finite <= 0):
        raise ValueError(f"the draws must be positive (1/δ values), got min {finite.min()}")
    z = statistics.NormalDist().inv_cdf((1 + level) / 2)
    half_width = z * float(np.std(np.log(finite), ddof=1)) * math.sqrt(fraction / (1 - fraction))
    return value * math.exp(-half_width), value * math.exp(half_width)
