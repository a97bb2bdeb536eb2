"""An independent reference for the LFR: the paper's formula, dense and in float64."""

import numpy as np


def dense_lfr(x, y, inv_delta, normalize=True):
    """Eqs. 3-5 with the full n x n kernel, written from the paper, not from dfp."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    y = np.asarray(y, np.float64).reshape(len(y), -1)
    if normalize:
        top = np.abs(x).max(axis=0)
        x = x / np.where(top == 0, 1.0, top)
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=-1)
    out = []
    for g in np.atleast_1d(inv_delta):
        kernel = np.exp(-d2 * g / 2.0)
        low = kernel @ y / kernel.sum(axis=1, keepdims=True)
        out.append((low**2).sum() / (y**2).sum())
    return np.array(out)
