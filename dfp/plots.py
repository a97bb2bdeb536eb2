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


def rdf_panel(ax, inv_delta, curves, *, normalize=True, title=None, log_x=False, legend=True):
    """Plot the RDF against 1/delta, one line per curve.

    Args:
        ax: a matplotlib Axes.
        inv_delta: the grid shared by all curves (strictly increasing).
        curves: mapping from a legend label to LFR values on the grid.
        normalize: divide each RDF by its own maximum, as the paper's Fig. 3(b) does.
        title: optional panel title.
        log_x: a logarithmic 1/delta axis (for grids that span decades).
        legend: draw the legend.
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
    if log_x:
        ax.set_xscale("log")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend()


def lfr_rdf_figure(inv_delta, curves, *, normalize_rdf=True):
    """Two panels side by side: (a) LFR, (b) RDF. Returns the Figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    lfr_panel(left, inv_delta, curves, title="(a) LFR")
    rdf_panel(right, inv_delta, curves, normalize=normalize_rdf, title="(b) RDF")
    return fig


def epochs_panel(ax, labels, epochs, cap, *, xlabel, title=None):
    """Epochs to the designated error: every seed as a dot, the median as a line.

    Args:
        ax: a matplotlib Axes.
        labels: one x-axis label per setting (e.g. hidden layers, or the target).
        epochs: per setting, a list with each seed's epochs (None when it hit the cap).
        cap: the epoch cap; capped runs are drawn at the cap as open triangles.
        xlabel: the x-axis title.
        title: optional panel title.
    """
    positions = np.arange(len(labels))
    medians = []
    for position, runs in zip(positions, epochs):
        reached = [e for e in runs if e is not None]
        capped = len(runs) - len(reached)
        ax.scatter([position] * len(reached), reached, color="tab:blue", alpha=0.6, s=18)
        if capped:
            ax.scatter([position] * capped, [cap] * capped, marker="^", facecolors="none", edgecolors="tab:red", s=40)
        medians.append(np.median([cap if e is None else e for e in runs]))
    ax.plot(positions, medians, color="tab:blue", label="median over seeds")
    ax.axhline(cap, color="tab:red", linestyle=":", linewidth=1, label=f"cap ({cap} epochs)")
    ax.set_xticks(positions, [str(l) for l in labels])
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("epochs to the designated error")
    if title:
        ax.set_title(title)
    ax.legend()


def rdf_snapshots_figure(inv_delta, curves, layers, *, end_epoch=None, columns=4, label="layer {}"):
    """One panel per recorded epoch, one normalised RDF per layer in each (Fig. 8's layout).

    Args:
        inv_delta: the grid shared by all curves.
        curves: {epoch: {layer: LFR values}} as recorded by ``dfp.training.Spectra``.
        layers: the layers to draw, in order.
        end_epoch: the epoch at which training ended, marked "(end)" in its title.
        columns: panels per row.
        label: legend text for a layer, "{}" standing for its index.

    Returns:
        The Figure.
    """
    epochs = sorted(curves)
    rows = int(np.ceil(len(epochs) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.6 * rows), constrained_layout=True, squeeze=False)
    for panel, (ax, epoch) in enumerate(zip(axes.flat, epochs)):
        title = f"({chr(ord('a') + panel)}) epoch {epoch}" + (" (end)" if epoch == end_epoch else "")
        rdf_panel(
            ax, inv_delta, {label.format(l): curves[epoch][l] for l in layers},
            normalize=True, log_x=True, legend=panel == 0, title=title,
        )
    for ax in list(axes.flat)[len(epochs):]:
        ax.set_visible(False)
    return fig
