"""The measure (dfp.spectral): the LFR and RDF of eqs. 3-6 against an independent reference;
and dfp.measure's intervals of the curve's positions, calibrated on many draws of one
distribution."""

import json

import numpy as np
import pytest

import dfp
from dfp import intervals
from dfp.measure import FORMAT, Measurement, measure
from tests._data_sets import collapsed_clusters, one_hot_set
from tests._reference import dense_lfr


@pytest.mark.parametrize("distances", ["auto", "float32", "float64"])
def test_matches_dense_float64_on_hidden_layer_like_data(distances):
    x, y = one_hot_set()
    # A uniform stretch (chunked, exp-then-multiply path) and geometric points (exp path).
    grid = np.concatenate([np.linspace(0.05, 0.4, 8), np.geomspace(0.5, 20, 5)])
    values = dfp.lfr(x, y, grid, distances=distances)
    np.testing.assert_allclose(values, dense_lfr(x, y, grid), atol=1e-5, rtol=0)


@pytest.mark.parametrize("distances", ["auto", "float32", "float64"])
def test_matches_dense_on_the_1d_toy_up_to_large_inv_delta(distances):
    x, y = dfp.data.sine(3, 1000)
    grid = np.linspace(10, 1000, 100)
    values = dfp.lfr(x, y, grid, distances=distances)
    np.testing.assert_allclose(values, dense_lfr(x, y, grid), atol=1e-5, rtol=0)


@pytest.mark.parametrize("scale", [1e-3, 1e-5])
def test_collapsed_clusters_match_dense_where_float32_distances_cannot(scale):
    # Within a cluster, float32 |a|^2 + |b|^2 - 2ab is noise (its error, ~1e-7 |x|^2, is
    # above the squared distances), which moved the LFR by up to 0.2 before distances were
    # computed in float64 for such data.
    x, y = collapsed_clusters(scale)
    grid = np.geomspace(0.05, 50 / scale**2, 40)
    reference = dense_lfr(x, y, grid)
    np.testing.assert_allclose(dfp.lfr(x, y, grid), reference, atol=1e-5, rtol=0)
    assert np.max(np.abs(dfp.lfr(x, y, grid, distances="float32") - reference)) > 1e-3


def test_limits_floor_and_one():
    x, y = one_hot_set(n=200)
    y = y + 0.3  # a non-zero mean makes the floor non-trivial
    low, high = dfp.lfr(x, y, [1e-9, 1e9])
    floor = np.sum(y.mean(axis=0) ** 2) / np.mean(np.sum(y**2, axis=1))
    assert low == pytest.approx(floor, abs=1e-5)  # the float32 bound of lfr's docstring
    assert dfp.lfr_floor(y) == pytest.approx(floor, rel=1e-12)
    assert high == pytest.approx(1.0, abs=1e-6)  # y itself is rounded to float32


def test_self_term_is_included():
    # Two points far apart: each is its own low-frequency part, so the LFR is exactly 1.
    assert dfp.lfr([0.0, 1.0], [1.0, -1.0], [1e4])[0] == pytest.approx(1.0, abs=1e-12)
    # Two points at distance 1 with 1/delta = 2: weights 1 and e^-1 on each row.
    w = np.exp(-1.0)
    expected = ((1 - w) / (1 + w)) ** 2
    got = dfp.lfr([0.0, 1.0], [1.0, -1.0], [2.0], normalize=False)[0]
    assert got == pytest.approx(expected, abs=1e-7)


def test_normalization_divides_each_dimension_by_its_max_abs():
    x, y = one_hot_set(n=120, d=3)
    scaled = x * np.array([10.0, 0.1, 3.0])
    grid = np.linspace(0.1, 2.0, 8)
    np.testing.assert_allclose(dfp.lfr(scaled, y, grid), dfp.lfr(x, y, grid), atol=1e-6)
    assert not np.allclose(
        dfp.lfr(scaled, y, grid, normalize=False), dfp.lfr(x, y, grid, normalize=False)
    )
    assert np.abs(dfp.normalize_inputs(scaled)).max(axis=0) == pytest.approx(np.ones(3))


def test_constant_input_dimension_is_not_an_error():
    x, y = one_hot_set(n=80, d=2)
    x = np.column_stack([x, np.zeros(80), np.full(80, 5.0)])
    grid = [0.5, 1.0]
    np.testing.assert_allclose(dfp.lfr(x, y, grid), dense_lfr(x, y, grid), atol=1e-5)


def test_rdf_is_the_slope_between_consecutive_points_on_any_grid():
    grid = np.array([1.0, 2.0, 4.0, 8.0])
    values = np.array([0.1, 0.3, 0.7, 0.9])
    mid, slope = dfp.rdf(grid, values)
    np.testing.assert_allclose(mid, [1.5, 3.0, 6.0])
    np.testing.assert_allclose(slope, [0.2, 0.2, 0.05])
    assert dfp.spectral.peak_inv_delta(grid, [0.1, 0.2, 0.9, 0.95]) == 3.0
    assert dfp.spectral.halfway_inv_delta(grid, values, floor=0.0) == pytest.approx(3.0)


def test_rdf_peak_of_sin_k_pi_x_moves_right_with_k():
    grid = np.linspace(1, 300, 300)
    peak = dfp.spectral.peak_inv_delta
    peaks = [peak(grid, dfp.lfr(*dfp.data.sine(k, 500), grid)) for k in (1, 3, 5)]
    assert peaks[0] < peaks[1] < peaks[2]
    # Smoothing sin(k pi x) keeps a power fraction exp(-k^2 pi^2 delta): for k = 5 the
    # RDF peaks near k^2 pi^2 / 2 = 123 (boundaries matter only for small k).
    assert 90 < peaks[2] < 140


@pytest.mark.parametrize(
    "x, y, grid, message",
    [
        ([0.0, np.nan, 1.0], [1.0, 2.0, 3.0], [1.0], "x contains NaN"),
        ([0.0, 1.0, 2.0], [1.0, np.inf, 3.0], [1.0], "y contains NaN or inf"),
        ([0.0, 1.0, 2.0], [1.0, 2.0], [1.0], "x has 3 points but y has 2"),
        ([], [], [1.0], "x has 0 points"),
        ([1.0], [1.0], [1.0], "x has 1 points"),
        ([0.0, 1.0], [1.0, 2.0], [], "grid is empty"),
        ([0.0, 1.0], [1.0, 2.0], [1.0, 0.0], "1/delta must be positive"),
        ([0.0, 1.0], [1.0, 2.0], [[1.0, 2.0]], "must be 1-D"),
        ([0.0, 1.0], [1.0, 2.0], [1.0, np.nan], "grid contains NaN"),
        ([0.0, 1.0], [0.0, 0.0], [1.0], "y is zero everywhere"),
        (np.zeros((2, 2, 2)), [1.0, 2.0], [1.0], "must have shape"),
    ],
)
def test_bad_input_is_a_clear_error(x, y, grid, message):
    with pytest.raises(ValueError, match=message):
        dfp.lfr(x, y, grid)


def test_unknown_distances_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown distances 'float16'"):
        dfp.lfr([0.0, 1.0], [1.0, 2.0], [1.0], distances="float16")


def test_rdf_bad_input():
    with pytest.raises(ValueError, match="strictly increasing"):
        dfp.rdf([1.0, 1.0, 2.0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="shape"):
        dfp.rdf([1.0, 2.0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="at least two"):
        dfp.rdf([1.0], [0.1])
    with pytest.raises(ValueError, match="NaN"):
        dfp.rdf([1.0, 2.0], [0.1, np.nan])


def test_halfway_needs_a_grid_that_brackets_it():
    with pytest.raises(ValueError, match="never reaches"):
        dfp.spectral.halfway_inv_delta([1.0, 2.0], [0.1, 0.2], floor=0.0)
    with pytest.raises(ValueError, match="already"):
        dfp.spectral.halfway_inv_delta([1.0, 2.0], [0.8, 0.9], floor=0.0)


def test_sine_bad_input():
    with pytest.raises(ValueError, match="num_points"):
        dfp.data.sine(1, 1)
    with pytest.raises(ValueError, match="x_range"):
        dfp.data.sine(1, 10, (1.0, -1.0))


def test_the_definition_agrees_with_the_independent_reference():
    x, y = one_hot_set(n=200)
    grid = np.linspace(0.05, 2.0, 7)
    np.testing.assert_allclose(dfp.lfr_reference(x, y, grid), dense_lfr(x, y, grid), atol=1e-12)
    np.testing.assert_allclose(
        dfp.lfr_reference(x, y, grid, normalize=False),
        dense_lfr(x, y, grid, normalize=False),
        atol=1e-12,
    )


def _sine_set(seed, n=200, noise=0.3):
    """n points of sin(3 pi x) plus noise, x uniform in [-1, 1]: one draw of one distribution."""
    r = np.random.default_rng(seed)
    x = r.uniform(-1, 1, n)
    return x, np.sin(3 * np.pi * x) + noise * r.normal(size=n)


SINE_GRID = np.geomspace(3, 3000, 40)


def test_measure_intervals_are_centred_on_the_full_set():
    x, y = _sine_set(0)
    m = measure(x, y, SINE_GRID, repeats=12, fraction=0.5, level=0.9, seed=3)
    assert m.resampling == {"repeats": 12, "fraction": 0.5, "level": 0.9, "seed": 3}
    for value, span, samples in (
        (m.halfway, m.halfway_interval, m.halfway_samples),
        (m.peak, m.peak_interval, m.peak_samples),
    ):
        assert samples.shape == (12,) and np.all(np.isfinite(samples))
        assert span == pytest.approx(intervals.interval(value, samples, 0.5, 0.9), rel=1e-12)
        assert span[0] <= value <= span[1]
    # Sparser subsamples rise at larger distances: their half-way points sit lower in 1/delta.
    assert np.median(m.halfway_samples) < m.halfway
    # The same seed draws the same subsamples, those of dfp.intervals.subsamples.
    again = measure(x, y, SINE_GRID, repeats=12, fraction=0.5, level=0.9, seed=3)
    np.testing.assert_array_equal(again.halfway_samples, m.halfway_samples)
    rows = intervals.subsamples(len(x), repeats=12, fraction=0.5, seed=3)
    draws = intervals.position_draws([(x, y)], SINE_GRID, rows)
    np.testing.assert_allclose(draws["halfway"][0], m.halfway_samples, rtol=1e-12)
    with pytest.raises(ValueError, match="repeats must be 0 .* or at least 2"):
        measure(x, y, SINE_GRID, repeats=1)


def test_measure_intervals_cover_the_typical_half_way_point_at_their_level():
    """Calibration: 100 independent data sets of one distribution; each set's 90% interval of
    its half-way point covers the median over the sets about 90% of the time."""
    values, spans = [], []
    for seed in range(100):
        x, y = _sine_set(1000 + seed)
        m = measure(x, y, SINE_GRID, repeats=20, fraction=0.5, level=0.9, seed=seed)
        values.append(m.halfway)
        spans.append(m.halfway_interval)
    typical = np.median(values)
    covered = np.mean([low <= typical <= high for low, high in spans])
    assert 0.75 <= covered <= 0.99, f"the 90% intervals cover the median {covered:.0%} of the time"


def test_json_format_2_and_format_1_records_read_with_centred_intervals():
    x, y = _sine_set(2, n=120)
    m = measure(x, y, SINE_GRID, repeats=6, seed=1)
    record = json.loads(json.dumps(m.to_json(), allow_nan=False))
    assert record["format"] == FORMAT == "dfp.measurement/2"
    assert Measurement.from_json(record) == m
    # A /1 record held quantiles of the subsamples: read back, its intervals are recomputed.
    old = {**record, "format": "dfp.measurement/1"}
    quantiles = np.quantile(m.halfway_samples, [0.05, 0.95]).tolist()
    old["halfway_interval"] = old["peak_interval"] = quantiles
    assert Measurement.from_json(old) == m
    with pytest.raises(ValueError, match="lacks the halfway_samples"):
        Measurement.from_json({k: v for k, v in old.items() if k != "halfway_samples"})
    # Without resampling the two formats say the same.
    bare = measure(x, y, SINE_GRID, repeats=0)
    bare_record = {**bare.to_json(), "format": "dfp.measurement/1"}
    del bare_record["halfway_samples"], bare_record["peak_samples"]
    assert Measurement.from_json(bare_record) == bare
    with pytest.raises(ValueError, match="format is 'dfp.measurement/3'"):
        Measurement.from_json({**record, "format": "dfp.measurement/3"})
