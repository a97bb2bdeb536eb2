"""Grids of 1/delta (dfp.grids): they cover every curve from its floor to its top."""

import numpy as np
import pytest

import dfp
from dfp import _lfr_engine as engine
from dfp import grids
from tests._data_sets import collapsed_clusters, hidden_layer_like
from tests._reference import dense_lfr


def assert_covers(grid, x, y, top=0.99):
    values = dfp.lfr(x, y, grid)
    floor = dfp.lfr_floor(y)
    assert values[0] - floor <= 0.01 * (1 - floor) + 1e-6, "grid starts above the floor"
    assert values[-1] >= top, f"grid ends at LFR {values[-1]:.4f} < {top}"


@pytest.mark.parametrize("spacing", ["piecewise", "geometric", "uniform"])
def test_inv_delta_grid_covers_floor_to_top(spacing):
    x, y = hidden_layer_like()
    grid = dfp.inv_delta_grid((x, y), points=30, spacing=spacing)
    assert grid.shape == (30,) and np.all(np.diff(grid) > 0)
    assert_covers(grid, x, y)


def test_inv_delta_grid_is_shared_by_several_sets():
    a, b = hidden_layer_like(seed=1), hidden_layer_like(d=20, seed=2)
    grid = dfp.inv_delta_grid([a, b])
    assert_covers(grid, *a)
    assert_covers(grid, *b)


@pytest.mark.parametrize("scale", [1e-3, 1e-5])
def test_inv_delta_grid_handles_collapsed_class_clusters(scale):
    # Nearest-neighbour distances 1e3 and 1e5 times smaller than those between clusters,
    # and a tenth of the points mislabelled inside their cluster, so the LFR rises in two
    # steps decades apart. At 1e-5 float32 distances never resolve the second step.
    x, y = collapsed_clusters(scale, n=1000, d=50)
    grid = dfp.inv_delta_grid((x, y), points=60)
    assert grid[-1] / grid[0] > 0.1 / scale**2, "the grid must span both steps"
    assert_covers(grid, x, y)


def test_piecewise_grid_is_uniform_within_each_decade():
    x, y = dfp.data.sine(5, 500)
    grid = dfp.inv_delta_grid((x, y), points=40)
    structure = [lengths for _, _, _, lengths in engine.grid_groups(grid)]
    runs = [n for lengths in structure for n in lengths]
    assert len(runs) <= 8 and max(runs) >= 5, f"expected a few uniform pieces, got {runs}"


def test_inv_delta_grid_bad_input():
    x, y = hidden_layer_like(n=50, d=3)
    with pytest.raises(ValueError, match="unknown spacing"):
        dfp.inv_delta_grid((x, y), spacing="log")
    with pytest.raises(ValueError, match="points"):
        dfp.inv_delta_grid((x, y), points=1)
    with pytest.raises(ValueError, match="top"):
        dfp.inv_delta_grid((x, y), top=1.0)
    with pytest.raises(ValueError, match="at least one"):
        dfp.inv_delta_grid([])
    with pytest.raises(ValueError, match="coincide"):
        dfp.inv_delta_grid((np.ones((20, 3)), y[:20]))


def test_grid_stops_below_an_unreachable_top_when_copies_disagree():
    x, y = hidden_layer_like(n=300, d=5)
    x = np.concatenate([x, x[:100]])  # 100 exact copies with other labels
    y = np.concatenate([y, np.roll(y[:100], 1, axis=1)])
    grid = dfp.inv_delta_grid((x, y), points=20)
    values = dfp.lfr(x, y, grid)
    ceiling = grids._lfr_ceiling(x, y)
    assert ceiling < 0.99
    assert values[-1] >= ceiling - 0.01 * (ceiling - dfp.lfr_floor(y)) - 1e-5
    # The ceiling is the dense float64 LFR at a 1/delta that filters out every other point.
    assert dense_lfr(x, y, [1e12])[0] == pytest.approx(ceiling, abs=1e-12)


def test_pad_decades_widens_each_end():
    x, y = hidden_layer_like(n=300, d=10)
    plain = dfp.inv_delta_grid((x, y), spacing="geometric")
    padded = dfp.inv_delta_grid((x, y), spacing="geometric", pad_decades=(1.0, 0.5))
    assert padded[0] == pytest.approx(plain[0] / 10) and padded[-1] == pytest.approx(
        plain[-1] * 10**0.5
    )
    with pytest.raises(ValueError, match="pad_decades"):
        dfp.inv_delta_grid((x, y), pad_decades=-1)


def test_a_grid_uniform_in_delta_as_the_authors_lab_uses():
    x, y = dfp.data.sine(2, 300)
    grid = dfp.inv_delta_grid((x, y), points=20, spacing="uniform_delta")
    delta = 1.0 / grid
    assert np.all(np.diff(grid) > 0)
    np.testing.assert_allclose(np.diff(delta), np.diff(delta)[0], rtol=1e-9)
    geometric = dfp.inv_delta_grid((x, y), points=20, spacing="geometric")
    np.testing.assert_allclose(grid[[0, -1]], geometric[[0, -1]])  # the same range
