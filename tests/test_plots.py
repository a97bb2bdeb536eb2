"""Figures (dfp.plots): what RDF panels draw, intervals where verdicts read them, the forest."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection

from dfp import plots
from dfp.spectral import rdf

GRID = np.geomspace(0.1, 1000.0, 81)
SCALE = 20.0


def _lfr(grid=GRID, scale=SCALE):
    """A known LFR curve: a logistic rise in ln(1/delta) from 0.1 to 1, centred at ``scale``."""
    return 0.1 + 0.9 / (1 + (scale / grid) ** 2)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _line(ax, label):
    return next(line for line in ax.get_lines() if line.get_label() == label)


def test_a_log_axis_rdf_panel_draws_the_density_per_log_unit():
    values = _lfr()
    figure, ax = plots.subplots(height=2.5)
    plots.rdf_panel(ax, GRID, {"curve": values}, normalize=False, log_x=True)
    x, y = _line(ax, "curve").get_data()
    midpoints, slopes = rdf(GRID, values)
    np.testing.assert_allclose(x, midpoints)
    np.testing.assert_allclose(y, midpoints * slopes)
    # ... which is d LFR / d ln(1/delta), the derivative of the logistic in ln(1/delta):
    exact = 2 * 0.9 * (SCALE / x) ** 2 / (1 + (SCALE / x) ** 2) ** 2
    np.testing.assert_allclose(y, exact, rtol=0.02, atol=1e-3)
    assert ax.get_xscale() == "log"
    assert ax.get_ylabel() == plots.RDF_LOG_LABEL
    # The per-log density peaks where the curve rises fastest in ln(1/delta); the plain
    # slope would peak at a lower 1/delta.
    assert x[np.argmax(y)] == pytest.approx(SCALE, rel=0.1)
    assert midpoints[np.argmax(slopes)] < 0.8 * SCALE


def test_a_linear_axis_rdf_panel_draws_the_rdf_and_normalised_by_its_maximum():
    grid = np.linspace(1.0, 100.0, 50)
    values = _lfr(grid)
    figure, ax = plots.subplots(height=2.5)
    plots.rdf_panel(ax, grid, {"curve": values}, normalize=True)
    x, y = _line(ax, "curve").get_data()
    midpoints, slopes = rdf(grid, values)
    np.testing.assert_allclose(x, midpoints)
    np.testing.assert_allclose(y, slopes / slopes.max())
    assert ax.get_xscale() == "linear"
    assert ax.get_ylabel().startswith(plots.RDF_LINEAR_LABEL)
    assert "maximum" in ax.get_ylabel()


def test_snapshots_and_lfr_rdf_figures_draw_the_per_log_density_and_say_so():
    values = _lfr()
    per_log = rdf(GRID, values)[0] * rdf(GRID, values)[1]
    figure = plots.rdf_snapshots_figure(GRID, {0: {1: values}, 3: {1: values}}, [1])
    for ax in figure.axes[:2]:
        np.testing.assert_allclose(_line(ax, "layer 1").get_ydata(), per_log / per_log.max())
        assert ax.get_ylabel().startswith(plots.RDF_LOG_LABEL)
    figure = plots.lfr_rdf_figure(GRID, {"a": values}, log_x=True)
    right = figure.axes[1]
    np.testing.assert_allclose(_line(right, "a").get_ydata(), per_log / per_log.max())
    assert right.get_ylabel().startswith(plots.RDF_LOG_LABEL)
    assert (
        plots.lfr_rdf_figure(GRID, {"a": values})
        .axes[1]
        .get_ylabel()
        .startswith(plots.RDF_LINEAR_LABEL)
    )


def _bars(ax):
    return [c for c in ax.collections if isinstance(c, LineCollection)]


def test_evidence_intervals_are_drawn_as_bars_and_gaps_stay_gaps():
    figure = plots.evidence_figure(
        "layer",
        [1, 2, 3, 4],
        {"start": [1.0, 2.0, np.nan, 4.0], "end": [3.0, 2.0, 1.0, 0.5]},
        ylabel="1/δ",
        intervals={"start": [(0.5, 1.5), None, (2.0, 3.0), (np.nan, 5.0)]},
    )
    (bars,) = _bars(figure.axes[0])
    segments = [np.asarray(s) for s in bars.get_segments()]
    assert [s.tolist() for s in segments] == [[[0, 0.5], [0, 1.5]], [[2, 2.0], [2, 3.0]]]
    assert "start interval" in [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert plots.smallest_font(figure) >= 8


def test_evidence_intervals_are_checked():
    series = {"start": [1.0, 2.0]}
    with pytest.raises(ValueError, match="inverted: low 3 > high 2"):
        plots.evidence_figure("x", [1, 2], series, ylabel="y", intervals={"start": [(3, 2), None]})
    with pytest.raises(ValueError, match="has 1 entries for 2 labels"):
        plots.evidence_figure("x", [1, 2], series, ylabel="y", intervals={"start": [None]})
    with pytest.raises(ValueError, match="intervals name series"):
        plots.evidence_figure("x", [1, 2], series, ylabel="y", intervals={"end": [None, None]})
    # Without intervals the panel is as before: no bars, no legend for one series.
    figure = plots.evidence_figure("x", [1, 2], series, ylabel="y")
    assert not _bars(figure.axes[0]) and figure.axes[0].get_legend() is None


def test_half_way_points_are_marked_with_their_intervals():
    values = _lfr()
    level = (0.1 + 1) / 2
    figure = plots.lfr_rdf_figure(
        GRID,
        {"a": values, "b": _lfr(scale=60.0)},
        log_x=True,
        positions={
            "a": {"halfway": SCALE, "halfway_interval": [15.0, 28.0]},
            "b": {"halfway": None},
        },
    )
    left = figure.axes[0]
    (bar,) = _bars(left)
    np.testing.assert_allclose(bar.get_segments()[0][:, 0], [15.0, 28.0])
    np.testing.assert_allclose(bar.get_segments()[0][:, 1], level, atol=0.01)
    marker = _line(left, "half-way point (bar: interval)")
    assert marker.get_xdata()[0] == SCALE
    figure = plots.rdf_snapshots_figure(
        GRID, {0: {1: values}, 3: {1: values}}, [1], positions={3: {1: {"halfway": SCALE}}}
    )
    assert len(figure.axes[1].get_lines()) == 2 and len(figure.axes[0].get_lines()) == 1
    with pytest.raises(ValueError, match="inverted"):
        plots.lfr_rdf_figure(
            GRID, {"a": values}, positions={"a": {"halfway": 20, "halfway_interval": [30, 10]}}
        )
    with pytest.raises(ValueError, match="not drawn"):
        plots.lfr_rdf_figure(GRID, {"a": values}, positions={"z": {"halfway": 20}})


def _row(claim, label, scale, effect, low, high, outcome="holds"):
    return dict(
        claim=claim, label=label, scale=scale, effect=effect, low=low, high=high, outcome=outcome
    )


ROWS = [
    _row("C1", "3 → 7 layers, epochs", "paper", 1.8, 1.3, 2.6),
    _row("C3", "k=1 → 5, RDF peak", "medium", 0.7, 0.5, 0.95, "fails"),
    _row("C7", "layer 1 → 4", "quick", None, None, None, "not resolved"),
    _row("C8", "SGD vs Adam", "quick", 1.02, 0.9, 1.2, "not resolved"),
]


def test_forest_rows_appear_in_order_with_their_intervals():
    figure = plots.forest_figure(ROWS, smallest_ratio=1.1)
    ax = figure.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["C1  3 → 7 layers, epochs", "C3  k=1 → 5, RDF peak", "C8  SGD vs Adam"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # the first row at the top
    intervals = sorted(
        (float(s[0, 1]), float(s[0, 0]), float(s[1, 0]))
        for bars in _bars(ax)
        for s in bars.get_segments()
    )
    assert intervals == [(0.0, 1.3, 2.6), (1.0, 0.5, 0.95), (2.0, 0.9, 1.2)]
    points = sorted(
        (float(line.get_ydata()[0]), float(line.get_xdata()[0]))
        for line in ax.get_lines()
        if line.get_label() in plots.FOREST_SCALES
    )
    assert points == [(0.0, 1.8), (1.0, 0.7), (2.0, 1.02)]
    assert ax.get_xscale() == "log"
    marks = [t.get_text() for t in ax.texts]
    assert marks == ["✓", "✗", "?"]
    assert "C7 layer 1 → 4" in ax.get_xlabel()  # the skipped row is named
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "same within the smallest effect" in legend
    assert plots.smallest_font(figure) >= 8


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(low=2.0, high=1.5), "inverted: low 2 > high 1.5"),
        (dict(effect=0.0), "effect must be a positive finite ratio"),
        (dict(effect=-1.0), "effect must be a positive finite ratio"),
        (dict(low=-0.5), "low must be a positive ratio"),
        (dict(scale="huge"), "scale 'huge' is not one of"),
        (dict(outcome="maybe"), "outcome 'maybe' is not one of"),
        (dict(high=None), "give both low and high"),
    ],
)
def test_forest_rejects_bad_rows(change, message):
    with pytest.raises(ValueError, match=message):
        plots.forest_figure([{**ROWS[0], **change}])


def test_forest_rejects_a_smallest_ratio_not_above_one_and_no_rows():
    with pytest.raises(ValueError, match="smallest_ratio must be a finite ratio above 1"):
        plots.forest_figure(ROWS, smallest_ratio=0.9)
    with pytest.raises(ValueError, match="at least one row"):
        plots.forest_figure([])
