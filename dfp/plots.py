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
import matplotlib.ticker
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
    "forest_figure",
    "image",
    "inline_image",
    "lfr_panel",
    "lfr_rdf_figure",
    "png",
    "RDF_LINEAR_LABEL",
    "RDF_LOG_LABEL",
    "rdf_density",
    "rdf_label",
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
    log_x: bool = False,
    positions: Mapping[Any, Mapping[str, Any]] | None = None,
) -> None:
    """Plot LFR against 1/delta, one line per curve.

    Args:
        ax: a matplotlib Axes.
        inv_delta: the grid shared by all curves.
        curves: mapping from a legend label to LFR values on the grid.
        title: optional panel title.
        colors: one colour per curve (default: matplotlib's cycle).
        log_x: a logarithmic 1/delta axis.
        positions: optional {curve label: {"halfway": h, "halfway_interval": [a, b] or None}}:
            each curve's half-way point drawn on it (at the LFR's half-way level, read off
            the curve at h) with its interval as a horizontal bar; a NaN or None h is left out.

    Returns:
        None; the lines are drawn on ``ax``.
    """
    grid = np.asarray(inv_delta, dtype=np.float64)
    drawn = {}
    for index, (label, values) in enumerate(curves.items()):
        (line,) = ax.plot(
            grid, values, label=str(label), color=None if colors is None else colors[index]
        )
        drawn[str(label)] = (grid, np.asarray(values, dtype=np.float64), line.get_color())
    _mark_halfway(ax, drawn, positions)
    ax.set_xlabel(r"$1/\delta$")
    ax.set_ylabel("LFR")
    if log_x:
        ax.set_xscale("log")
    if title:
        ax.set_title(title)
    ax.legend()


# The y-axis titles of an RDF panel: what is drawn depends on the 1/delta axis.
RDF_LOG_LABEL = "RDF per log unit, dLFR/d ln(1/δ)"
RDF_LINEAR_LABEL = "RDF, dLFR/d(1/δ)"


def rdf_density(
    inv_delta: ArrayLike, lfr_values: ArrayLike, *, log_x: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The density an RDF panel draws: per log unit on a log axis, the RDF on a linear one.

    On a logarithmic 1/delta axis equal widths are equal ratios of 1/delta, so the density
    that shows where the LFR rises is dLFR / d ln(1/delta) = (1/delta) dLFR/d(1/delta);
    drawing dLFR/d(1/delta) there would make a small rise at low 1/delta look like the main
    peak.

    Args:
        inv_delta: strictly increasing 1/delta grid, at least two points.
        lfr_values: the LFR at each grid point.
        log_x: whether the panel's 1/delta axis is logarithmic.

    Returns:
        (k0, density): the midpoints of consecutive grid values (``dfp.spectral.rdf``) and
        k0 times the RDF (log axis) or the RDF (linear axis) there.
    """
    midpoints, slopes = rdf(inv_delta, lfr_values)
    return midpoints, midpoints * slopes if log_x else slopes


def rdf_label(*, log_x: bool, normalize: bool) -> str:
    """The y-axis title of an RDF panel, saying which density it shows.

    Args:
        log_x: whether the 1/delta axis is logarithmic (``RDF_LOG_LABEL``, else
            ``RDF_LINEAR_LABEL``).
        normalize: whether each curve is divided by its own maximum.

    Returns:
        The title.
    """
    label = RDF_LOG_LABEL if log_x else RDF_LINEAR_LABEL
    return label + ("\n÷ its maximum" if normalize else "")


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
    positions: Mapping[Any, Mapping[str, Any]] | None = None,
) -> None:
    """Plot the RDF against 1/delta, one line per curve.

    On a logarithmic axis (``log_x``) each line is the density per log unit,
    dLFR/d ln(1/delta), on a linear one the RDF itself (see ``rdf_density``); the y-axis
    title says which.

    Args:
        ax: a matplotlib Axes.
        inv_delta: the grid shared by all curves (strictly increasing).
        curves: mapping from a legend label to LFR values on the grid.
        normalize: divide each RDF by its own maximum, as the paper's Fig. 3(b) does.
        title: optional panel title.
        log_x: a logarithmic 1/delta axis (for grids that span decades), and the density
            per log unit drawn on it.
        legend: draw the legend.
        colors: one colour per curve (default: matplotlib's cycle).
        styles: one line style per curve (default: solid).
        positions: optional {curve label: {"halfway": h, "halfway_interval": [a, b] or None}}:
            each curve's half-way point marked on its line with its interval as a horizontal
            bar; a NaN or None h is left out.

    Returns:
        None; the lines are drawn on ``ax``.
    """
    drawn = {}
    for index, (label, values) in enumerate(curves.items()):
        midpoints, density = rdf_density(inv_delta, values, log_x=log_x)
        if normalize:
            top = np.max(density)
            if top <= 0:
                raise ValueError(f"RDF of {label!r} has no positive value to normalise by")
            density = density / top
        (line,) = ax.plot(
            midpoints,
            density,
            label=str(label),
            color=None if colors is None else colors[index],
            linestyle="-" if styles is None else styles[index],
        )
        drawn[str(label)] = (midpoints, density, line.get_color())
    _mark_halfway(ax, drawn, positions)
    ax.set_xlabel(r"$1/\delta$")
    ax.set_ylabel(rdf_label(log_x=log_x, normalize=normalize))
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
    log_x: bool = False,
    positions: Mapping[Any, Mapping[str, Any]] | None = None,
) -> Figure:
    """Two panels side by side: (a) LFR, (b) RDF. Returns the Figure.

    Args:
        inv_delta: the grid shared by all curves (strictly increasing).
        curves: mapping from a legend label to LFR values on the grid.
        normalize_rdf: divide each RDF by its own maximum.
        colors: one colour per curve (default: matplotlib's cycle).
        log_x: logarithmic 1/delta axes; the RDF panel then shows the density per log unit.
        positions: optional {curve label: {"halfway": h, "halfway_interval": [a, b] or None}}:
            each curve's half-way point and interval, drawn on the LFR panel (see
            ``lfr_panel``).

    Returns:
        The Figure.
    """
    fig, (left, right) = subplots(1, 2, height=3.2)
    lfr_panel(
        left, inv_delta, curves, title="(a) LFR", colors=colors, log_x=log_x, positions=positions
    )
    rdf_panel(
        right,
        inv_delta,
        curves,
        normalize=normalize_rdf,
        title="(b) RDF" + (" per log unit" if log_x else ""),
        colors=colors,
        log_x=log_x,
    )
    return fig


def _interval(value, what):
    """(low, high) as floats from a pair, or None for None or a pair with a NaN."""
    if value is None:
        return None
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a pair (low, high) or None, got {value!r}") from None
    if np.isnan(low) or np.isnan(high):
        return None
    if low > high:
        raise ValueError(f"{what} is inverted: low {low:g} > high {high:g}")
    return low, high


def _mark_halfway(ax, drawn, positions):
    """Mark each curve's half-way point on its drawn line, with its interval as a bar.

    Args:
        ax: the Axes the lines are on.
        drawn: {label: (x, y, colour)} of the lines drawn.
        positions: {label: {"halfway": h, "halfway_interval": [a, b] or None}}, or None.
    """
    if not positions:
        return
    unknown = [str(key) for key in positions if str(key) not in drawn]
    if unknown:
        raise ValueError(f"positions name curves {unknown} not drawn; the curves are {list(drawn)}")
    legend = "half-way point (bar: interval)"
    for key, position in positions.items():
        label = str(key)
        if not isinstance(position, Mapping) or "halfway" not in position:
            raise ValueError(
                f"positions[{label!r}] must be a mapping with a 'halfway' value (and optionally "
                f"'halfway_interval'), got {position!r}"
            )
        halfway = np.nan if position["halfway"] is None else float(position["halfway"])
        interval = _interval(
            position.get("halfway_interval"), f"positions[{label!r}]['halfway_interval']"
        )
        if np.isnan(halfway):
            continue
        x, y, color = drawn[label]
        level = float(np.interp(halfway, x, y))
        if interval is not None:
            ax.hlines([level], interval[0], interval[1], color=color, linewidth=2.5, alpha=0.6)
        ax.plot([halfway], [level], "D", color=color, markersize=4, label=legend)
        legend = "_nolegend_"


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
    positions: Mapping[int, Mapping[int, Mapping[str, Any]]] | None = None,
) -> Figure:
    """One panel per recorded epoch, one normalised RDF per layer in each (Fig. 8's layout).

    The 1/delta axis is logarithmic, so each line is the density per log unit,
    dLFR/d ln(1/delta) (see ``rdf_density``), divided by its maximum.

    Args:
        inv_delta: the grid shared by all curves.
        curves: {epoch: {layer: LFR values}} as recorded by ``dfp.callbacks.Spectra``.
        layers: the layers to draw, from the shallowest to the deepest (coloured so).
        end_epoch: the epoch at which training ended, marked "(end)" in its title.
        columns: panels per row.
        label: legend text for a layer, "{}" standing for its index.
        positions: optional {epoch: {layer: {"halfway": h, "halfway_interval": [a, b] or
            None}}}: each layer's half-way point marked on its line, with its interval as a
            horizontal bar (see ``rdf_panel``); epochs and layers left out are not marked.

    Returns:
        The Figure.
    """
    epochs = sorted(curves)
    positions = positions or {}
    unknown = [epoch for epoch in positions if epoch not in curves]
    if unknown:
        raise ValueError(f"positions name epochs {unknown} not recorded; the epochs are {epochs}")
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
            positions={label.format(l): p for l, p in positions.get(epoch, {}).items()},
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
    intervals: Mapping[str, Sequence[tuple[float, float] | None]] | None = None,
) -> Figure:
    """A small panel of the numbers that decide a claim, against depth (or k).

    Args:
        xlabel: what the x axis orders (e.g. "hidden layers").
        labels: one tick label per position, in the claim's order.
        series: {name: one value per label}; NaN leaves a gap.
        ylabel: what the values are.
        log: a logarithmic y axis.
        title: optional panel title (e.g. the claim's name).
        intervals: optional {series name: one (low, high) or None per label}: each value's
            interval, drawn as a vertical bar through its point; None or a NaN bound leaves
            no bar.

    Returns:
        The Figure, a third of the text width wide.

    Raises:
        ValueError: a series or an interval list does not match the labels, an interval
            names an unknown series, or an interval is inverted (low > high).
    """
    intervals = intervals or {}
    unknown = [name for name in intervals if name not in series]
    if unknown:
        raise ValueError(f"intervals name series {unknown}; the series are {list(series)}")
    fig, ax = subplots(height=2.0, width=TEXT_WIDTH / 2.6)
    positions = np.arange(len(labels))
    colors = depth_colors(max(len(series), 1)) if len(series) > 1 else ["black"]
    barred = False
    for color, (name, values) in zip(colors, series.items()):
        values = np.asarray(values, dtype=np.float64)
        if values.shape != positions.shape:
            raise ValueError(f"series {name!r} has {values.size} values for {len(labels)} labels")
        ax.plot(positions, values, "o-", color=color, label=str(name), markersize=4)
        if name in intervals:
            label = f"{name} interval" if len(series) > 1 else "interval"
            barred |= _interval_bars(ax, positions, intervals[name], name, color, label=label)
    ax.set_xticks(positions, [str(l) for l in labels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(series) > 1 or barred:
        ax.legend()
    return fig


def _interval_bars(ax, positions, bounds, name, color, *, label):
    """Vertical bars from low to high at each position with an interval (a LineCollection).

    Returns:
        Whether any bar was drawn.
    """
    if len(bounds) != len(positions):
        raise ValueError(
            f"intervals of {name!r} has {len(bounds)} entries for {len(positions)} labels"
        )
    pairs = [
        _interval(bound, f"intervals[{name!r}][{index}]") for index, bound in enumerate(bounds)
    ]
    kept = [(x, pair) for x, pair in zip(positions, pairs) if pair is not None]
    if kept:
        ax.vlines(
            [x for x, _ in kept],
            [pair[0] for _, pair in kept],
            [pair[1] for _, pair in kept],
            color=color,
            linewidth=2.5,
            alpha=0.5,
            label=label,
        )
    return bool(kept)


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


# How the forest figure draws each scale of run (marker, colour), and marks each outcome.
FOREST_SCALES = {
    "paper": ("o", "black"),
    "medium": ("s", "tab:blue"),
    "quick": ("^", "tab:orange"),
}
FOREST_OUTCOMES = {
    "holds": ("✓", "tab:green"),
    "fails": ("✗", "tab:red"),
    "not resolved": ("?", "0.4"),
}


def _forest_row(index, row):
    """One checked forest row: (claim, label, scale, effect, (low, high) or None, outcome)."""
    what = f"rows[{index}]"
    if not isinstance(row, Mapping):
        raise ValueError(f"{what} must be a mapping, got {type(row).__name__}")
    missing = [key for key in ("claim", "label", "scale", "effect", "outcome") if key not in row]
    if missing:
        raise ValueError(f"{what} lacks {missing}")
    if row["scale"] not in FOREST_SCALES:
        raise ValueError(f"{what}: scale {row['scale']!r} is not one of {list(FOREST_SCALES)}")
    if row["outcome"] not in FOREST_OUTCOMES:
        raise ValueError(
            f"{what}: outcome {row['outcome']!r} is not one of {list(FOREST_OUTCOMES)}"
        )
    effect = row["effect"]
    if effect is None:
        return None
    effect = float(effect)
    if not (np.isfinite(effect) and effect > 0):
        raise ValueError(f"{what}: effect must be a positive finite ratio, got {effect!r}")
    low, high = row.get("low"), row.get("high")
    interval = None
    if low is not None and high is not None:
        interval = _interval((low, high), f"{what} (low, high)")
        if interval is not None and interval[0] <= 0:
            raise ValueError(f"{what}: low must be a positive ratio, got {interval[0]!r}")
    elif (low is None) != (high is None):
        raise ValueError(f"{what}: give both low and high, or neither")
    return row["claim"], row["label"], row["scale"], effect, interval, row["outcome"]


def forest_figure(rows: Sequence[Mapping[str, Any]], *, smallest_ratio: float = 1.1) -> Figure:
    """The report's forest plot: each comparison's ratio and interval, one line per row.

    Rows go from the top down in the given order, each a point at its effect with its
    interval as a bar, on a log axis of the ratio, marked and coloured by the scale of run;
    a vertical line marks 1 and a shaded band [1/smallest_ratio, smallest_ratio] the ratios
    "same within the smallest effect". The claim and label name each row on the left, its
    outcome is marked on the right (✓ holds, ✗ fails, ? not resolved). Rows without an effect
    are not drawn; the x-axis title names them.

    Args:
        rows: [{"claim": "C1", "label": "3 → 7 layers, epochs", "scale": "paper" | "medium" |
            "quick", "effect": ratio > 0 or None, "low": ratio or None, "high": ratio or None,
            "outcome": "holds" | "fails" | "not resolved"}].
        smallest_ratio: the smallest effect that counts, a ratio above 1.

    Returns:
        The Figure, at the text width.

    Raises:
        ValueError: no rows, a row lacks a key or has an unknown scale or outcome, a ratio is
            not positive, an interval is inverted (low > high), or smallest_ratio <= 1.
    """
    smallest_ratio = float(smallest_ratio)
    if not (np.isfinite(smallest_ratio) and smallest_ratio > 1):
        raise ValueError(f"smallest_ratio must be a finite ratio above 1, got {smallest_ratio}")
    if not rows:
        raise ValueError("a forest figure needs at least one row")
    checked = [_forest_row(index, row) for index, row in enumerate(rows)]
    drawn = [row for row in checked if row is not None]
    skipped = [f"{row['claim']} {row['label']}" for row, c in zip(rows, checked) if c is None]
    fig, ax = subplots(height=1.3 + 0.32 * max(len(drawn), 1))
    band = ax.axvspan(
        1 / smallest_ratio,
        smallest_ratio,
        color="0.5",
        alpha=0.15,
        linewidth=0,
        label="same within the smallest effect",
    )
    ax.axvline(1, color="0.3", linewidth=1)
    handles = {}
    for y, (_, _, scale, effect, interval, outcome) in enumerate(drawn):
        marker, color = FOREST_SCALES[scale]
        if interval is not None:
            ax.hlines([y], interval[0], interval[1], color=color, linewidth=2)
        (handles[scale],) = ax.plot([effect], [y], marker, color=color, markersize=5, label=scale)
        mark, mark_color = FOREST_OUTCOMES[outcome]
        ax.text(
            1.01,
            y,
            mark,
            transform=ax.get_yaxis_transform(),
            color=mark_color,
            ha="left",
            va="center",
            fontsize=11,
            fontweight="bold",
        )
    ax.set_xscale("log")
    ratios = [smallest_ratio, 1 / smallest_ratio] + [
        value for row in drawn for value in (row[3], *(row[4] or ()))
    ]
    ax.set_xlim(min(ratios) / 1.15, max(ratios) * 1.15)
    ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_ylim(len(drawn) - 0.5, -0.5)  # the first row at the top
    ax.set_yticks(range(len(drawn)), [f"{claim}  {label}" for claim, label, *_ in drawn])
    ax.grid(False, axis="y")
    xlabel = "ratio (log axis); point: effect, bar: interval"
    if skipped:
        xlabel += "\nnot drawn, no effect: " + "; ".join(skipped)
    ax.set_xlabel(xlabel)
    ax.set_title("✓ holds   ✗ fails   ? not resolved", loc="right")
    order = [handles[scale] for scale in FOREST_SCALES if scale in handles]
    fig.legend(handles=[*order, band], loc="outside upper left", ncol=len(order) + 1)
    if not drawn:
        ax.text(0.5, 0.5, "no row has an effect", transform=ax.transAxes, ha="center")
    return fig


def spread_epochs(epochs: Sequence[int], count: int, *, keep: Sequence[int] = ()) -> list[int]:
    """About ``count`` of the recorded epochs, spread over the run, for a figure of panels.

    Args:
        epochs: the recorded epochs.
        count: how many to pick (at least 2): the first, the last and evenly spaced others.
        keep: epochs always included (e.g. those a verdict reads).

    Returns:
        The picked epochs, ascending.
    """
    epochs = sorted(int(e) for e in epochs)
    if count < 2:
        raise ValueError(f"count must be at least 2, got {count}")
    if len(epochs) <= count:
        return epochs
    picked = {epochs[round(i)] for i in np.linspace(0, len(epochs) - 1, count)}
    return sorted(picked | {int(e) for e in keep if e in epochs})


def trajectory_figure(
    epochs: Sequence[int],
    halfway: Mapping[Any, Sequence[float]],
    *,
    intervals: Mapping[Any, Sequence[tuple[float, float] | None]] | None = None,
    label: str = "layer {}",
    title: str | None = None,
) -> Figure:
    """The half-way point of each curve against the epoch: the whole trajectory in one panel.

    Args:
        epochs: the snapshot epochs.
        halfway: {layer: the half-way 1/delta at each epoch (NaN where not measured)}.
        intervals: {layer: (low, high) or None at each epoch}: drawn as bars where given.
        label: legend text for a layer, "{}" standing for its key.
        title: the panel's title.

    Returns:
        The Figure.
    """
    fig, ax = subplots(height=3.2)
    colors = depth_colors(len(halfway))
    for color, (layer, values) in zip(colors, halfway.items()):
        values = np.asarray(values, np.float64)
        if values.shape != (len(epochs),):
            raise ValueError(f"{len(values)} half-way points of {layer!r} for {len(epochs)} epochs")
        ax.plot(epochs, values, "o-", color=color, markersize=3, label=label.format(layer))
        bars = (intervals or {}).get(layer)
        if bars is not None:
            for epoch, bar in zip(epochs, bars):
                if bar is not None and all(np.isfinite(bar)):
                    if bar[0] > bar[1]:
                        raise ValueError(f"an interval of {layer!r} has low > high: {bar}")
                    ax.plot([epoch, epoch], bar, color=color, linewidth=2.5, alpha=0.6)
    ax.set(
        yscale="log",
        xlabel="epoch",
        ylabel="half-way 1/δ",
        title=title or "half-way point of each layer's LFR, through training",
    )
    ax.legend(fontsize="small")
    return fig
