"""dfp.measure: arrays in, the LFR, RDF, half-way point and peak out, against lfr_reference."""

import dataclasses
import json

import numpy as np
import pytest

import dfp
from dfp import intervals
from dfp.measure import FORMAT, Measurement, measure
from tests._data_sets import one_hot_set

GRID = np.geomspace(0.05, 50.0, 24)


def _smooth(n=400, seed=1):
    """A smooth function of two inputs: its power sits at low frequency, well inside a grid."""
    r = np.random.default_rng(seed)
    x = r.uniform(-1, 1, size=(n, 2))
    y = np.sin(2 * x[:, 0]) + np.cos(x[:, 1])
    return x, y - y.mean()


def _halfway_from(grid, values, floor):
    """The first crossing of (floor + 1) / 2, interpolated linearly, written out here."""
    level = (floor + 1) / 2
    k = int(np.argmax(values >= level))
    assert 0 < k and values[k] >= level
    return grid[k - 1] + (level - values[k - 1]) * (grid[k] - grid[k - 1]) / (
        values[k] - values[k - 1]
    )


def test_agrees_with_lfr_reference_on_a_small_case():
    x, y = one_hot_set(n=200, d=5)
    m = measure(x, y, GRID, repeats=0)
    reference = dfp.lfr_reference(x, y, GRID)
    np.testing.assert_allclose(m.lfr, reference, atol=1e-5, rtol=0)
    # The RDF and the positions, computed independently from the reference curve.
    steps = np.diff(GRID)
    np.testing.assert_allclose(m.k0, (GRID[1:] + GRID[:-1]) / 2, rtol=1e-15)
    np.testing.assert_allclose(m.rdf * steps, np.diff(reference), atol=2e-5, rtol=0)
    floor = np.sum(y.mean(axis=0) ** 2) / np.mean(np.sum(y**2, axis=1))
    assert m.floor == pytest.approx(floor, rel=1e-12)
    assert m.halfway == pytest.approx(_halfway_from(GRID, reference, floor), rel=1e-3)
    assert m.peak == m.k0[np.argmax(np.diff(reference) / steps)]
    assert (m.n, m.d, m.normalize) == (200, 5, True)


def test_features_are_flattened_and_a_grid_is_proposed_from_the_data():
    x, y = one_hot_set(n=200, d=6)
    m = measure(x.reshape(200, 2, 3), y, grid_points=20, repeats=0)
    assert m.d == 6 and m.inv_delta.shape == (20,) and np.all(np.diff(m.inv_delta) > 0)
    np.testing.assert_allclose(m.lfr, dfp.lfr_reference(x, y, m.inv_delta), atol=1e-5, rtol=0)
    # The proposed grid runs from the floor to (nearly) 1, so it brackets the half-way point.
    assert m.lfr[0] - m.floor < 0.02 and m.lfr[-1] > 0.98 and np.isfinite(m.halfway)


def test_no_normalize_measures_the_raw_inputs():
    x, y = one_hot_set(n=200, d=5)
    m = measure(x, y, GRID, normalize=False, repeats=0)
    reference = dfp.lfr_reference(x, y, GRID, normalize=False)
    np.testing.assert_allclose(m.lfr, reference, atol=1e-5, rtol=0)
    assert not m.normalize and "raw inputs" in m.to_json()["inv_delta_unit"]


def test_integer_labels_need_classes():
    x, y = one_hot_set(n=200, d=5)
    labels = np.argmax(y, axis=1)
    with pytest.raises(ValueError, match="one-hot"):
        measure(x, labels, GRID, repeats=0)
    one_hot = measure(x, y, GRID, repeats=0)
    assert measure(x, labels, GRID, repeats=0, classes=4) == one_hot
    with pytest.raises(ValueError, match="labels must lie in 0 .. 2"):
        measure(x, labels, GRID, repeats=0, classes=3)


X, Y = one_hot_set(n=40, d=3)


@pytest.mark.parametrize(
    ("features", "targets", "options", "message"),
    [
        (X, Y[:39], {}, "features have 40 points but targets have 39"),
        (X[:3], Y[:3], {}, "at least 4 points"),
        (np.where(np.arange(40)[:, None] == 7, np.nan, X), Y, {}, "features contain NaN or inf"),
        (X, np.where(np.arange(40)[:, None] == 2, np.inf, Y), {}, "targets contain NaN or inf"),
        (X, np.zeros((40, 2)), {}, "zero everywhere"),
        (X, Y[:, :, None], {}, r"shape \(n,\) or \(n, d_o\)"),
        (np.array(["a"] * 40), Y, {}, "real numbers"),
        (X, Y, {"inv_delta": [1.0, 3.0, 2.0]}, "strictly increasing"),
        (X, Y, {"inv_delta": [0.0, 1.0]}, "positive"),
        (X, Y, {"inv_delta": [-1.0, 1.0]}, "positive"),
        (X, Y, {"inv_delta": [1.0]}, "at least two"),
        (X, Y, {"fraction": 0.0}, r"fraction must lie in \(0, 1\)"),
        (X, Y, {"fraction": 1.0}, r"fraction must lie in \(0, 1\)"),
        (X, Y, {"fraction": 0.01}, "a subsample needs between 2"),
        (X, Y, {"repeats": -1}, "repeats must be an integer >= 0"),
        (X, Y, {"level": 1.0}, r"level must lie in \(0, 1\)"),
        (X, Y, {"grid_points": 1}, "grid_points must be an integer >= 2"),
    ],
)
def test_bad_input_is_a_clear_error(features, targets, options, message):
    with pytest.raises(ValueError, match=message):
        measure(features, targets, **options)


def test_intervals_bracket_the_subsamples_and_here_the_full_set():
    x, y = _smooth()
    m = measure(x, y, repeats=12, fraction=0.5, level=0.9, seed=3)
    assert m.resampling == {"repeats": 12, "fraction": 0.5, "level": 0.9, "seed": 3}
    for value, interval, samples in (
        (m.halfway, m.halfway_interval, m.halfway_samples),
        (m.peak, m.peak_interval, m.peak_samples),
    ):
        assert samples.shape == (12,) and np.all(np.isfinite(samples))
        low, high = interval
        # Centred on the full set (the subsamples give the spread, not the centre).
        assert low <= value <= high
        assert (low, high) == pytest.approx(intervals.interval(value, samples, 0.5, 0.9))
    # The same seed draws the same subsamples.
    again = measure(x, y, m.inv_delta, repeats=12, fraction=0.5, level=0.9, seed=3)
    np.testing.assert_allclose(again.halfway_samples, m.halfway_samples, rtol=1e-12)


def test_no_repeats_no_intervals():
    x, y = one_hot_set(n=200, d=5)
    m = measure(x, y, GRID, repeats=0)
    assert m.halfway_interval is None and m.peak_interval is None
    assert m.resampling == {} and m.halfway_samples.shape == (0,)


def test_a_grid_that_misses_the_half_way_point_gives_nan_and_no_interval():
    x, y = one_hot_set(n=200, d=5)
    m = measure(x, y, [1e-4, 2e-4, 3e-4], repeats=4)
    assert np.isnan(m.halfway) and m.halfway_interval is None
    assert np.all(np.isnan(m.halfway_samples)) and m.peak_interval is not None
    record = m.to_json()
    assert record["halfway"] is None and record["halfway_samples"] == [None] * 4
    assert Measurement.from_json(json.loads(json.dumps(record, allow_nan=False))) == m


def test_json_round_trip_and_format():
    x, y = one_hot_set(n=200, d=5)
    m = measure(x, y, GRID, repeats=4, seed=1)
    text = json.dumps(m.to_json(), allow_nan=False)
    record = json.loads(text)
    assert record["format"] == FORMAT == "dfp.measurement/2"
    assert len(record["inv_delta"]) == len(record["lfr"]) == 24
    assert len(record["k0"]) == len(record["rdf"]) == 23
    assert all(isinstance(v, float) for v in record["lfr"] + record["rdf"])
    assert isinstance(record["n"], int) and isinstance(record["normalize"], bool)
    back = Measurement.from_json(record)
    assert back == m
    np.testing.assert_array_equal(back.lfr, m.lfr)
    assert back.halfway_interval == m.halfway_interval and back.resampling == m.resampling
    with pytest.raises(ValueError, match="format is 'something/2'"):
        Measurement.from_json({**record, "format": "something/2"})
    with pytest.raises(ValueError, match="format is None"):
        Measurement.from_json({k: v for k, v in record.items() if k != "format"})
    with pytest.raises(ValueError, match="lacks lfr"):
        Measurement.from_json({k: v for k, v in record.items() if k != "lfr"})
    with pytest.raises(ValueError, match="JSON object"):
        Measurement.from_json([record])


def test_a_measurement_is_frozen():
    x, y = one_hot_set(n=200, d=5)
    m = measure(x, y, GRID, repeats=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.halfway = 1.0
    with pytest.raises(ValueError, match="read-only"):
        m.lfr[0] = 1.0
