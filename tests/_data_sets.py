"""Data sets the measure, engine and grid tests share."""

import numpy as np


def one_hot_set(n=300, d=5, classes=4, seed=0):
    r = np.random.default_rng(seed)
    return r.normal(size=(n, d)) * r.uniform(0.5, 3, size=d), np.eye(classes)[
        r.integers(0, classes, n)
    ]


def collapsed_clusters(scale, n=600, d=20, classes=10, mislabelled=0.1, seed=3):
    """Tight class clusters, as in a collapsed layer, with some points mislabelled inside them.

    Nearest-neighbour distances are about ``scale`` times the distances between clusters.
    """
    r = np.random.default_rng(seed)
    labels = r.integers(0, classes, n)
    x = r.normal(size=(classes, d))[labels] + scale * r.normal(size=(n, d))
    noisy = np.where(r.uniform(size=n) < mislabelled, r.integers(0, classes, n), labels)
    return x, np.eye(classes)[noisy]


def hidden_layer_like(n=1500, d=100, seed=0):
    r = np.random.default_rng(seed)
    return np.tanh(r.normal(size=(n, d)) * 0.5), np.eye(10)[r.integers(0, 10, n)]
