"""dfp.intervals: subsamples without duplicates, their positions, and intervals centred on the
full set's value."""

import math
import statistics

import numpy as np
import pytest

import dfp
from dfp.intervals import (
    RESAMPLE_FRACTION,
    RESAMPLE_REPEATS,
    interval,
    position_draws,
    subsamples,
)

GRID = np.geomspace(0.5, 5000, 30)


def _sine(n=80, seed=0, d=1):
    r = np.random.default_rng(seed)
    x = r.uniform(-1, 1, (n, d)) * np.arange(1, d + 1)  # columns of different scales
    return x, np.sin(3 * np.pi * x[:, 0]) + 0.2 * r.normal(size=n)


def test_subsamples_are_sorted_distinct_indices_from_the_seed():
    rows = subsamples(101)
    assert rows.shape == (RESAMPLE_REPEATS, round(RESAMPLE_FRACTION * 101))
    assert np.all(np.diff(rows, axis=1) > 0) and rows.min() >= 0 and rows.max() < 101
    np.testing.assert_array_equal(rows, subsamples(101, seed=0))
    assert not np.array_equal(rows, subsamples(101, seed=1))
    assert len({tuple(r) for r in rows}) == len(rows)  # different subsets
    assert subsamples(10, repeats=3, fraction=0.3).shape == (3, 3)


@pytest.mark.parametrize(
    ("n", "options", "message"),
    [
        (0, {}, "n must be a positive integer"),
        (2.5, {}, "n must be a positive integer"),
        (10, {"repeats": 1}, "repeats must be an integer >= 2"),
        (10, {"repeats": 2.5}, "repeats must be an integer >= 2"),
        (10, {"fraction": 0.0}, r"fraction must lie in \(0, 1\)"),
        (10, {"fraction": 1.0}, r"fraction must lie in \(0, 1\)"),
        (10, {"fraction": 0.1}, "a subsample needs between 2"),
        (10, {"fraction": 0.99}, "a subsample needs between 2"),
    ],
)
def test_subsamples_bad_arguments(n, options, message):
    with pytest.raises(ValueError, match=message):
        subsamples(n, **options)


def test_draws_keep_the_full_sets_normalisation_and_match_the_definition():
    x, y = _sine(d=2)
    labels = np.eye(2)[(x[:, 1] > 0).astype(int)]
    rows = subsamples(len(x), repeats=3, seed=4)
    outside = np.setdiff1d(np.arange(len(x)), rows[0])[0]
    x[outside, 0] = 2.0  # the full set's largest |x_0|, outside the first subset
    draws = position_draws([(x, y), (x.astype(np.float32), labels)], GRID, rows)
    assert draws["halfway"].shape == draws["peak"].shape == (2, 3)
    scale = np.abs(x).max(axis=0)
    for p, targets in enumerate((y, labels)):
        for r, subset in enumerate(rows):
            sub_y = targets[subset]
            values = dfp.lfr_reference(x[subset] / scale, sub_y, GRID, normalize=False)
            floor = dfp.lfr_floor(sub_y)
            halfway = dfp.spectral.halfway_inv_delta(GRID, values, floor)
            assert draws["halfway"][p, r] == pytest.approx(halfway, rel=1e-3)
            assert draws["peak"][p, r] == dfp.spectral.peak_inv_delta(GRID, values)
    # The subset's own normalisation would measure something else.
    own = dfp.lfr_reference(x[rows[0]], y[rows[0]], GRID)
    own_halfway = dfp.spectral.halfway_inv_delta(GRID, own, dfp.lfr_floor(y[rows[0]]))
    assert own_halfway < draws["halfway"][0, 0] / 2


def test_draws_are_nan_where_the_grid_misses_or_the_targets_vanish():
    x, y = _sine()
    rows = subsamples(len(x), repeats=4, seed=0)
    coarse = position_draws([(x, y)], [1e-4, 2e-4, 3e-4], rows)
    assert np.all(np.isnan(coarse["halfway"])) and np.all(np.isfinite(coarse["peak"]))
    sparse = np.zeros(len(x))
    sparse[rows[0][0]] = 1.0  # non-zero on one point only, which subsets 1..3 may miss
    draws = position_draws([(x, sparse)], GRID, rows)
    missed = [r for r, subset in enumerate(rows) if rows[0][0] not in subset]
    assert missed and np.all(np.isnan(draws["peak"][0, missed]))
    assert np.isfinite(draws["peak"][0, 0])


def test_draws_bad_arguments():
    x, y = _sine()
    rows = subsamples(len(x), repeats=2)
    with pytest.raises(ValueError, match="same n points"):
        position_draws([(x, y), (x[:-1], y[:-1])], GRID, rows)
    with pytest.raises(ValueError, match="features have 80 points but targets 79"):
        position_draws([(x, y[:-1])], GRID, rows)
    with pytest.raises(ValueError, match="subsets index point"):
        position_draws([(x[:30], y[:30])], GRID, rows)
    with pytest.raises(ValueError, match="2-D integer array"):
        position_draws([(x, y)], GRID, rows.astype(float))
    with pytest.raises(ValueError, match="distinct non-negative indices in increasing"):
        position_draws([(x, y)], GRID, rows[:, ::-1])
    with pytest.raises(ValueError, match="strictly increasing"):
        position_draws([(x, y)], GRID[::-1], rows)


def test_interval_is_centred_on_the_full_value_on_a_log_scale():
    draws = np.array([8.0, 9.0, 10.0, 11.0, np.nan])
    low, high = interval(12.0, draws, 0.5, 0.9)
    assert low < 12.0 < high and low * high == pytest.approx(12.0**2)
    z = statistics.NormalDist().inv_cdf(0.95)
    assert math.log(high / 12.0) == pytest.approx(z * np.std(np.log(draws[:4]), ddof=1))
    # The half-sampling rule: a subsample of fraction f spreads as sqrt((1 - f) / f) standard
    # errors of the full set.
    wide = interval(12.0, draws, 0.25, 0.9)
    assert math.log(wide[1] / 12.0) == pytest.approx(math.log(high / 12.0) / math.sqrt(3))
    assert interval(12.0, [5.0, 5.0, 5.0], 0.5, 0.9) == (12.0, 12.0)  # one grid interval


def test_interval_is_none_without_enough_draws_or_a_value():
    assert interval(math.nan, [1.0, 2.0], 0.5, 0.9) is None
    assert interval(1.0, [1.0, 2.0, np.nan, np.nan, np.nan], 0.5, 0.9) is None
    assert interval(1.0, [1.0, np.nan], 0.5, 0.9) is None
    assert interval(1.0, [], 0.5, 0.9) is None
    assert interval(1.0, [1.0, 2.0, np.nan, np.nan], 0.5, 0.9) is not None


@pytest.mark.parametrize(
    ("value", "draws", "fraction", "level", "message"),
    [
        (1.0, [1.0, 2.0], 1.0, 0.9, r"fraction must lie in \(0, 1\)"),
        (1.0, [1.0, 2.0], 0.5, 0.0, r"level must lie in \(0, 1\)"),
        (0.0, [1.0, 2.0], 0.5, 0.9, "must be positive and finite"),
        (math.inf, [1.0, 2.0], 0.5, 0.9, "must be positive and finite"),
        (1.0, [-1.0, 2.0], 0.5, 0.9, "draws must be positive"),
    ],
)
def test_interval_bad_arguments(value, draws, fraction, level, message):
    with pytest.raises(ValueError, match=message):
        interval(value, draws, fraction, level)
