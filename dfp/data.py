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
