"""Figures of the book: one style, colour by depth, and PNGs sharp on a 2x screen.

Every figure is made at the book's text width (``TEXT_WIDTH`` inches, shown at
``SCREEN_DPI`` CSS px per inch, so at its natural size on a laptop), in one style (``STYLE``:
no text below 8 pt), and shown by ``show``, which renders a PNG at twice the screen's
resolution and records in it the figure's width and its smallest font, so that the browser
test can check what a reader sees. Depth is coloured the same everywhere: ``depth_colors``,
light for the shallowest, dark for the deepest.
"""

import base64
import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, Image, display
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.typing import ColorType
from numpy.typing import ArrayLike

from dfp.spectral import rdf

__all__ = [
    "STYLE",
    "TEXT_WIDTH",
    "depth_colors",
    "epochs_figure",
    "epochs_panel",
    "evidence_figure",
    "image",
    "inline_image",
    "lfr_panel",
    "lfr_rdf_figure",
    "png",
    "rdf_panel",
    "rdf_snapshots_figure",
    "show",
    "sweep_heatmap",
    "smallest_font",
    "subplots",
    "use_style",
]


# CSS px per inch at which a figure is shown (the browser's reference pixel).
SCREEN_DPI = 96
# The PNG's resolution: two device pixels per CSS px, sharp on a 2x (retina) screen.
PNG_DPI = 2 * SCREEN_DPI
# Inches: the book's text column at a laptop's width (about 690 CSS px at 1280 px).
TEXT_WIDTH = 7.0
# The house style: every text at least 8 pt, so at least 10 CSS px at the natural size.
STYLE = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.title_fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "lines.linewidth": 1.6,
    "figure.dpi": SCREEN_DPI,
}
# The colour map of depth, from the shallowest (light) to the deepest (dark) in each figure.
DEPTH_COLORMAP = "viridis"
# Metadata keys written into every PNG made by ``png``.
WIDTH_KEY = "dfp-figure-width-in"
FONT_KEY = "dfp-smallest-font-pt"


def use_style() -> None:
    """Apply ``STYLE`` to matplotlib (done by ``subplots``; idempotent).

    Returns:
        None; ``matplotlib.rcParams`` is updated.
    """
    matplotlib.rcParams.update(STYLE)


def subplots(
    rows: int = 1, columns: int = 1, *, height: float, width: float = TEXT_WIDTH, **options: Any
) -> tuple[Figure, Any]:
    """``plt.subplots`` in the house style, at the book's text width.

    Args:
        rows, columns: the grid of panels.
        height: the figure's height in inches.
        width: its width in inches (default: the text width).
        **options: passed on to ``plt.subplots`` (e.g. ``sharex``).

    Returns:
        (figure, axes) as ``plt.subplots`` returns them.
    """
    use_style()
    options.setdefault("constrained_layout", True)
    return plt.subplots(rows, columns, figsize=(width, height), **options)


def depth_colors(count: int) -> list[ColorType]:
    """``count`` colours from the shallowest to the deepest, the same map on every page.

    Args:
        count: how many colours (a positive integer).

    Returns:
        A list of ``count`` RGBA tuples, light (shallowest) to dark (deepest).
    """
    if int(count) != count or count < 1:
        raise ValueError(f"count must be a positive integer, got {count}")
    return [matplotlib.colormaps[DEPTH_COLORMAP](v) for v in np.linspace(0.85, 0.0, int(count))]


def smallest_font(figure: Figure) -> float:
    """The smallest font size, in points, of any visible non-empty text in ``figure``.

    Args:
        figure: a matplotlib Figure (drawn to lay out its text).

    Returns:
        The size in points, ``inf`` when the figure shows no text.
    """
    figure.canvas.draw()
    sizes = [
        text.get_fontsize()
        for text in figure.findobj(matplotlib.text.Text)
        if text.get_visible() and text.get_text().strip() and _shown(text)
    ]
    return min(sizes) if sizes else float("inf")


def _shown(artist):
    """False for text hidden because an ancestor axis or legend is invisible."""
    axes = artist.axes
    return axes is None or axes.get_visible()


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes at ``PNG_DPI``, with its width and smallest font recorded.

    Args:
        figure: a matplotlib Figure.

    Returns:
        The PNG file's bytes.
    """
    metadata = {WIDTH_KEY: f"{figure.get_figwidth():.4f}", FONT_KEY: f"{smallest_font(figure):.3f}"}
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata=metadata)
    return buffer.getvalue()


def _rendered(figure):
    """(PNG bytes, width in CSS px at the natural size); the figure is closed."""
    data = png(figure)
    width = int(round(figure.get_figwidth() * SCREEN_DPI))
    plt.close(figure)
    return data, width


def image(figure: Figure) -> Image:
    """The figure as an IPython Image shown at its natural size; the figure is closed.

    Args:
        figure: a matplotlib Figure.

    Returns:
        An ``IPython.display.Image`` of its PNG.
    """
    data, width = _rendered(figure)
    return Image(data=data, format="png", width=width)


def inline_image(figure: Figure, *, alt: str = "figure") -> HTML:
    """The figure as HTML holding its PNG as a data URI, shown at its natural size.

    For a figure pasted into another page (the report's panels): MyST-NB does not copy the
    image files of outputs glued across pages, but HTML needs no file.

    Args:
        figure: a matplotlib Figure (closed).
        alt: the image's alternative text.

    Returns:
        An ``IPython.display.HTML`` ``<img>``.
    """
    data, width = _rendered(figure)
    data = base64.b64encode(data).decode("ascii")
    return HTML(
        f'<img src="data:image/png;base64,{data}" width="{width}" alt="{html.escape(alt)}">'
    )


def show(figure: Figure) -> None:
    """Display the figure in the notebook as ``image`` makes it (instead of ``plt.show``).

    Args:
        figure: a matplotlib Figure (closed).

    Returns:
        None; the image is displayed.
    """
    display(image(figure))


def lfr_panel(
    ax: Axes,
    inv_delta: ArrayLike,
    curves: Mapping[Any, ArrayLike],
    *,
    title: str | None = None,
    colors: Sequence[ColorType] | None = None,
) -> None:
    """Plot LFR against 1/delta, one line per curve.

    Args:
        ax: a matplotlib Axes.
        inv_delta: the grid shared by all curves.
        curves: mapping from a legend label to LFR values on the grid.
        title: optional panel title.
        colors: one colour per curve (default: matplotlib's cycle).

    Returns:
        None; the lines are drawn on ``ax``.
    """
    for index, (label, values) in enumerate(curves.items()):
        ax.plot(
            inv_delta, values, label=str(label), color=None if colors is None else colors[index]
        )
    ax.set_xlabel(r"$1/\delta$")
    ax.set_ylabel("LFR")
    if title:
        ax.set_title(title)
    ax.legend()


def rdf_panel(
    ax: Axes,
    inv_delta: ArrayLike,
    curves: Mapping[Any, ArrayLike],
    *,
    normalize: bool = True,
    title: str | None = None,
    log_x: bool = False,
    legend: bool = True,
    colors: Sequence[ColorType] | None = None,
    styles: Sequence[str] | None = None,
) -> None:
    """Plot the RDF against 1/delta, one line per curve.

    Args:
        ax: a matplotlib Axes.
        inv_delta: the grid shared by all curves (strictly increasing).
        curves: mapping from a legend label to LFR values on the grid.
        normalize: divide each RDF by its own maximum, as the paper's Fig. 3(b) does.
        title: optional panel title.
        log_x: a logarithmic 1/delta axis (for grids that span decades).
        legend: draw the legend.
        colors: one colour per curve (default: matplotlib's cycle).
        styles: one line style per curve (default: solid).

    Returns:
        None; the lines are drawn on ``ax``.
    """
    for index, (label, values) in enumerate(curves.items()):
        midpoints, slopes = rdf(inv_delta, values)
        if normalize:
            top = np.max(slopes)
            if top <= 0:
                raise ValueError(f"RDF of {label!r} has no positive value to normalise by")
            slopes = slopes / top
        ax.plot(
            midpoints,
            slopes,
            label=str(label),
            color=None if colors is None else colors[index],
            linestyle="-" if styles is None else styles[index],
        )
    ax.set_xlabel(r"$1/\delta$")
    ax.set_ylabel("RDF / max RDF" if normalize else "RDF")
    if log_x:
        ax.set_xscale("log")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend()


def lfr_rdf_figure(
    inv_delta: ArrayLike,
    curves: Mapping[Any, ArrayLike],
    *,
    normalize_rdf: bool = True,
    colors: Sequence[ColorType] | None = None,
) -> Figure:
    """Two panels side by side: (a) LFR, (b) RDF. Returns the Figure.

    Args:
        inv_delta: the grid shared by all curves (strictly increasing).
        curves: mapping from a legend label to LFR values on the grid.
        normalize_rdf: divide each RDF by its own maximum.
        colors: one colour per curve (default: matplotlib's cycle).

    Returns:
        The Figure.
    """
    fig, (left, right) = subplots(1, 2, height=3.2)
    lfr_panel(left, inv_delta, curves, title="(a) LFR", colors=colors)
    rdf_panel(right, inv_delta, curves, normalize=normalize_rdf, title="(b) RDF", colors=colors)
    return fig


def epochs_panel(
    ax: Axes,
    labels: Sequence[Any],
    epochs: Sequence[Sequence[int | None]],
    cap: int,
    *,
    xlabel: str,
    title: str | None = None,
) -> None:
    """Epochs to the designated error: every seed as a dot, the median as a line.

    Args:
        ax: a matplotlib Axes.
        labels: one x-axis label per setting (e.g. hidden layers, or the target).
        epochs: per setting, a list with each seed's epochs (None when it hit the cap).
        cap: the epoch cap; capped runs are drawn at the cap as open triangles.
        xlabel: the x-axis title.
        title: optional panel title.

    Returns:
        None; the points and lines are drawn on ``ax``.
    """
    positions = np.arange(len(labels))
    medians = []
    for position, runs in zip(positions, epochs):
        reached = [e for e in runs if e is not None]
        capped = len(runs) - len(reached)
        ax.scatter([position] * len(reached), reached, color="tab:blue", alpha=0.6, s=18)
        if capped:
            ax.scatter(
                [position] * capped,
                [cap] * capped,
                marker="^",
                facecolors="none",
                edgecolors="tab:red",
                s=40,
            )
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


def epochs_figure(
    labels: Sequence[Any],
    epochs: Sequence[Sequence[int | None]],
    cap: int,
    *,
    xlabel: str,
    title: str | None = None,
) -> Figure:
    """One ``epochs_panel`` at the text width. Returns the Figure.

    Args:
        labels, epochs, cap, xlabel, title: as for ``epochs_panel``.

    Returns:
        The Figure.
    """
    fig, ax = subplots(height=3.2)
    epochs_panel(ax, labels, epochs, cap, xlabel=xlabel, title=title)
    return fig


def rdf_snapshots_figure(
    inv_delta: ArrayLike,
    curves: Mapping[int, Mapping[int, ArrayLike]],
    layers: Sequence[int],
    *,
    end_epoch: int | None = None,
    columns: int = 2,
    label: str = "layer {}",
) -> Figure:
    """One panel per recorded epoch, one normalised RDF per layer in each (Fig. 8's layout).

    Args:
        inv_delta: the grid shared by all curves.
        curves: {epoch: {layer: LFR values}} as recorded by ``dfp.callbacks.Spectra``.
        layers: the layers to draw, from the shallowest to the deepest (coloured so).
        end_epoch: the epoch at which training ended, marked "(end)" in its title.
        columns: panels per row.
        label: legend text for a layer, "{}" standing for its index.

    Returns:
        The Figure.
    """
    epochs = sorted(curves)
    rows = int(np.ceil(len(epochs) / columns))
    fig, axes = subplots(rows, columns, height=2.5 * rows, squeeze=False, sharex=True)
    colors = depth_colors(len(layers))
    for panel, (ax, epoch) in enumerate(zip(axes.flat, epochs)):
        title = f"({chr(ord('a') + panel)}) epoch {epoch}" + (
            " (end)" if epoch == end_epoch else ""
        )
        rdf_panel(
            ax,
            inv_delta,
            {label.format(l): curves[epoch][l] for l in layers},
            normalize=True,
            log_x=True,
            legend=panel == 0,
            title=title,
            colors=colors,
        )
        if panel < len(epochs) - columns:
            ax.set_xlabel("")
    for ax in list(axes.flat)[len(epochs) :]:
        ax.set_visible(False)
    return fig


def evidence_figure(
    xlabel: str,
    labels: Sequence[Any],
    series: Mapping[str, ArrayLike],
    *,
    ylabel: str,
    log: bool = False,
    title: str | None = None,
) -> Figure:
    """A small panel of the numbers that decide a claim, against depth (or k).

    Args:
        xlabel: what the x axis orders (e.g. "hidden layers").
        labels: one tick label per position, in the claim's order.
        series: {name: one value per label}; NaN leaves a gap.
        ylabel: what the values are.
        log: a logarithmic y axis.
        title: optional panel title (e.g. the claim's name).

    Returns:
        The Figure, a third of the text width wide.
    """
    fig, ax = subplots(height=2.0, width=TEXT_WIDTH / 2.6)
    positions = np.arange(len(labels))
    colors = depth_colors(max(len(series), 1)) if len(series) > 1 else ["black"]
    for color, (name, values) in zip(colors, series.items()):
        values = np.asarray(values, dtype=np.float64)
        if values.shape != positions.shape:
            raise ValueError(f"series {name!r} has {values.size} values for {len(labels)} labels")
        ax.plot(positions, values, "o-", color=color, label=str(name), markersize=4)
    ax.set_xticks(positions, [str(l) for l in labels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(series) > 1:
        ax.legend()
    return fig


def sweep_heatmap(
    scores: Sequence[tuple[Mapping[str, Any], float]],
    axes: Sequence[str],
    *,
    claim: str,
    cmap: str = "RdYlGn",
) -> Figure:
    """How much of a claim holds over a sweep's one or two axes.

    Each cell is the mean share of the claim that holds (``dfp.sweeps.sweep_scores``) over
    the points with those axis values (the other grid keys, seeds for example, pooled),
    written in the cell.

    Args:
        scores: [(grid values, share in [0, 1])] for every point.
        axes: one or two grid keys: x, then y.
        claim: the claim's name, for the title and colour bar.
        cmap: a diverging colormap (red: nothing holds, green: all of it).

    Returns:
        The Figure.
    """
    if not 1 <= len(axes) <= 2:
        raise ValueError(f"a heatmap has one or two axes, got {axes}")
    if not scores:
        raise ValueError("no points to draw")
    x_key, y_key = axes[0], axes[1] if len(axes) == 2 else None

    def values(key):
        seen = []
        for grid, _ in scores:
            if grid[key] not in seen:
                seen.append(grid[key])
        return seen

    xs = values(x_key)
    ys = values(y_key) if y_key else [None]
    cells = np.full((len(ys), len(xs)), np.nan)
    counts = np.zeros_like(cells)
    for grid, share in scores:
        row = ys.index(grid[y_key]) if y_key else 0
        column = xs.index(grid[x_key])
        cells[row, column] = np.nansum([cells[row, column] * counts[row, column], share])
        counts[row, column] += 1
        cells[row, column] /= counts[row, column]
    fig, ax = subplots(
        height=0.6 + 0.45 * len(ys) + 0.6, width=min(TEXT_WIDTH, 1.5 + 0.8 * len(xs))
    )
    image = ax.imshow(cells, cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for row in range(len(ys)):
        for column in range(len(xs)):
            if not np.isnan(cells[row, column]):
                ax.text(
                    column, row, f"{cells[row, column]:.2f}", ha="center", va="center", fontsize=8
                )
    ax.set_xticks(range(len(xs)), [str(x) for x in xs])
    ax.set_xlabel(x_key)
    if y_key:
        ax.set_yticks(range(len(ys)), [str(y) for y in ys])
        ax.set_ylabel(y_key)
    else:
        ax.set_yticks([])
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(f"share of {claim} that holds")
    ax.set_title(f"{claim}: mean share that holds, {int(counts.max())} point(s) per cell")
    return fig
