"""Data sets of the paper: 1-D targets (MNIST and CIFAR-10 come with their figures)."""

import numpy as np


def sine(k, num_points=1000, x_range=(-1.0, 1.0)):
    """Samples of sin(k pi x) on a uniform grid, the target of Fig. 3.

    Args:
        k: frequency; sin(k pi x) has k/2 periods per unit of x.
        num_points: number of samples, at least 2.
        x_range: (low, high) of the uniform grid, low < high.

    Returns:
        (x, y): two float64 arrays of shape (num_points,).
    """
    if not np.isfinite(k):
        raise ValueError(f"k must be finite, got {k}")
    if int(num_points) != num_points or num_points < 2:
        raise ValueError(f"num_points must be an integer >= 2, got {num_points}")
    low, high = (float(v) for v in x_range)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"x_range must be finite with low < high, got {x_range}")
    x = np.linspace(low, high, int(num_points))
    return x, np.sin(k * np.pi * x)


def cosines(frequencies, num_points=201, x_range=(-np.pi, np.pi)):
    """Samples of sum_k cos(k x) on a uniform grid: the 1-D targets of Fig. 1.

    Args:
        frequencies: the k's, e.g. [3, 5] for cos(3x) + cos(5x) (Fig. 1a).
        num_points: number of samples, at least 2.
        x_range: (low, high) of the uniform grid, low < high.

    Returns:
        (x, y): float64 arrays of shape (num_points, 1), ready as network inputs/targets.
    """
    frequencies = np.atleast_1d(np.asarray(frequencies, dtype=np.float64))
    if frequencies.size == 0 or not np.all(np.isfinite(frequencies)):
        raise ValueError(f"frequencies must be a non-empty list of finite numbers, got {frequencies}")
    x, _ = sine(0, num_points, x_range)
    y = np.sum(np.cos(frequencies[:, None] * x[None, :]), axis=0)
    return x[:, None], y[:, None]
