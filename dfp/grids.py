"""Grids of 1/delta: one grid for the curves of a figure, and the width of a grid step.

A figure compares LFR curves on one grid, so the grid must run, for every curve, from where
its LFR still sits at its floor to where it has (nearly) reached 1. ``inv_delta_grid``
finds that range by probing the LFR itself; ``grid_step_at`` gives the width of one grid step
where a value lies (``dfp.claims.precision_control`` compares two runs' positions in steps).
"""

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from dfp._checks import as_grid, data_set
from dfp.spectral import lfr, lfr_floor

__all__ = ["SPACINGS", "grid_step_at", "inv_delta_grid"]

# How a proposed grid spaces its points between the range's ends.
SPACINGS = ("piecewise", "geometric", "uniform", "uniform_delta")


def inv_delta_grid(
    sets: Sequence[tuple[ArrayLike, ArrayLike]] | tuple[ArrayLike, ArrayLike],
    *,
    points: int = 40,
    top: float = 0.99,
    spacing: str = "piecewise",
    normalize: bool = True,
    seed: int = 0,
    pad_decades: float | tuple[float, float] = 0.0,
) -> np.ndarray:
    """Propose one 1/delta grid for several data sets, from a probe of their LFR.

    The grid runs from where every set's LFR still sits at its floor to where every set's LFR
    has reached ``top`` (or nearly its ceiling, when identical inputs carry different targets
    and the LFR cannot reach ``top``), so that curves compared in one figure share it. Probing
    the LFR itself, rather than a distance rule, also works when a layer has collapsed into
    tight class clusters, whose LFR rises in two steps decades apart.

    Args:
        sets: a list of (x, y) data sets, or a single (x, y) pair.
        points: the number of grid points.
        top: the LFR the grid must reach, below 1.
        spacing: "piecewise" (uniform within each decade: the fast exp-then-multiply path
            on each piece, and fine steps where 1/delta is small), "geometric", "uniform"
            (in 1/delta), or "uniform_delta" (uniform in delta, as the authors' lab's grids:
            dense at low frequency, sparse at high).
        normalize: as in ``lfr``; must match how the grid will be used.
        seed: seeds the subsample that sets the probe's starting scale.
        pad_decades: widen the range by this many decades at each end, or by (low, high)
            decades, for sets that will move (a grid fixed at initialisation for curves
            measured during training).

    Returns:
        A strictly increasing float64 array of ``points`` values of 1/delta, in units of
        1 / (squared distance of the inputs, normalised when ``normalize``).
    """
    if spacing not in SPACINGS:
        raise ValueError(f"unknown spacing {spacing!r}: use one of {SPACINGS}")
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
    if spacing == "uniform_delta":
        return 1.0 / np.linspace(1.0 / low, 1.0 / high, int(points))
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
    x, y = data_set(x, y, normalize)
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
        logs, values = (
            np.concatenate([more, logs]),
            np.concatenate([lfr(x, y, 10.0**more, normalize=False), values]),
        )
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
        logs, values = (
            np.concatenate([logs, more]),
            np.concatenate([values, lfr(x, y, 10.0**more, normalize=False)]),
        )
    else:
        raise ValueError(f"the LFR does not reach {goal:.4f} at any 1/delta probed")
    start = np.nonzero([near_floor(v) for v in values])[0][-1]
    end = np.nonzero(values >= goal)[0][0]
    if end <= start:
        raise ValueError("the LFR jumps from its floor to the top between two probes")
    return 10.0 ** logs[start], 10.0 ** logs[end]


def grid_step_at(inv_delta: ArrayLike, value: float) -> float:
    """The width of the grid interval that holds ``value`` (the nearest one outside the grid).

    On a non-uniform grid "one grid step" depends on where you are.

    Args:
        inv_delta: strictly increasing 1/delta grid, at least two points.
        value: a 1/delta.

    Returns:
        The interval's width.
    """
    grid = as_grid(inv_delta, increasing=True)
    k = int(np.clip(np.searchsorted(grid, value) - 1, 0, len(grid) - 2))
    return float(grid[k + 1] - grid[k])
