"""Checks of the inputs every measure shares: a clear error for anything that is not data."""

import numpy as np


def as_points(a, name, keep_float32=False):
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


def data_set(x, y, normalize, keep_float32=False):
    """Validated float64 (n, d) inputs (float32 ones kept as they are, with ``keep_float32``),
    normalised if asked, and float64 (n, d_o) targets."""
    x = as_points(x, "x", keep_float32)
    y = as_points(y, "y")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} points but y has {len(y)}: they must match")
    return (x / column_scale(x) if normalize else x), y


def as_grid(inv_delta, increasing=False):
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


def power_of(y):
    power = float(np.sum(y**2))
    if power == 0:
        raise ValueError("y is zero everywhere: the LFR (a power ratio) is undefined")
    return power


def column_scale(x):
    """Each column's maximum absolute value (float64); 1 for a column that is zero everywhere."""
    scale = np.maximum(x.max(axis=0), -x.min(axis=0)).astype(np.float64)
    scale[scale == 0] = 1.0
    return scale
