"""Figure panels shared by the notebooks."""

import matplotlib.pyplot as plt
import numpy as np

from dfp.spectral import rdf


def lfr_panel(ax, inv_delta, curves, *, title=None):
    """Plot LFR against 1/delta, one line per curve.

    Args:
        ax: a matplotlib Axes.
        inv_delta: the grid shared by all curves.
        curves: mapping from a legend label to LFR values on the grid.
        title: optional panel title.
    """
    for label, values in curves.items():
        ax.plot(inv_delta, values, label=str(label))
    ax.set_xlabel(r"$1/\delta$")
    ax.set_ylabel("LFR")
    if title:
        ax.set_title(title)
    ax.legend()


def rdf_panel(ax, inv_delta, curves, *, normalize=True, title=None):
    """Plot the RDF against 1/delta, one line per curve.

    Args:
        ax: a matplotlib Axes.
        inv_delta: the grid shared by all curves (strictly increasing).
        curves: mapping from a legend label to LFR values on the grid.
        normalize: divide each RDF by its own maximum, as the paper's Fig. 3(b) does.
        title: optional panel title.
    """
    for label, values in curves.items():
        midpoints, slopes = rdf(inv_delta, values)
        if normalize:
            top = np.max(slopes)
            if top <= 0:
                raise ValueError(f"RDF of {label!r} has no positive value to normalise by")
            slopes = slopes / top
        ax.plot(midpoints, slopes, label=str(label))
    ax.set_xlabel(r"$1/\delta$")
    ax.set_ylabel("RDF / max RDF" if normalize else "RDF")
    if title:
        ax.set_title(title)
    ax.legend()


def lfr_rdf_figure(inv_delta, curves, *, normalize_rdf=True):
    """Two panels side by side: (a) LFR, (b) RDF. Returns the Figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    lfr_panel(left, inv_delta, curves, title="(a) LFR")
    rdf_panel(right, inv_delta, curves, normalize=normalize_rdf, title="(b) RDF")
    return fig
