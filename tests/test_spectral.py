import numpy as np
import pytest

import dfp
from dfp import spectral
from tests._reference import dense_lfr

rng = np.random.default_rng(0)


def one_hot_set(n=300, d=5, classes=4, seed=0):
    r = np.random.default_rng(seed)
    return r.normal(size=(n, d)) * r.uniform(0.5, 3, size=d), np.eye(classes)[r.integers(0, classes, n)]


@pytest.mark.parametrize("distances", ["auto", "float32", "float64"])
def test_matches_dense_float64_on_hidden_layer_like_data(distances):
    x, y = one_hot_set()
    # A uniform stretch (chunked, exp-then-multiply path) and geometric points (exp path).
    grid = np.concatenate([np.linspace(0.05, 0.4, 8), np.geomspace(0.5, 20, 5)])
    values = dfp.lfr(x, y, grid, distances=distances)
    np.testing.assert_allclose(values, dense_lfr(x, y, grid), atol=1e-5, rtol=0)


@pytest.mark.parametrize("distances", ["auto", "float32", "float64"])
def test_matches_dense_on_the_1d_toy_up_to_large_inv_delta(distances):
    x, y = dfp.sine(3, 1000)
    grid = np.linspace(10, 1000, 100)
    values = dfp.lfr(x, y, grid, distances=distances)
    np.testing.assert_allclose(values, dense_lfr(x, y, grid), atol=1e-5, rtol=0)


def collapsed_clusters(scale, n=600, d=20, classes=10, mislabelled=0.1, seed=3):
    """Tight class clusters, as in a collapsed layer, with some points mislabelled inside them.

    Nearest-neighbour distances are about ``scale`` times the distances between clusters.
    """
    r = np.random.default_rng(seed)
    labels = r.integers(0, classes, n)
    x = r.normal(size=(classes, d))[labels] + scale * r.normal(size=(n, d))
    noisy = np.where(r.uniform(size=n) < mislabelled, r.integers(0, classes, n), labels)
    return x, np.eye(classes)[noisy]


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


def test_auto_distances_keep_float32_for_ordinary_data_and_switch_for_collapsed(monkeypatch):
    calls = []
    float64 = spectral._neg_half_float64
    monkeypatch.setattr(spectral, "_neg_half_float64", lambda *a: calls.append(1) or float64(*a))
    x, y = one_hot_set()
    dfp.lfr(x, y, np.geomspace(0.05, 20, 10))
    assert not calls, "ordinary data took the float64 path"
    x, y = collapsed_clusters(1e-4)
    dfp.lfr(x, y, [0.1, 1.0])  # the clusters' insides are not resolved yet at 1/delta = 1
    assert not calls, "float64 distances where no grid point resolves the clusters' insides"
    dfp.lfr(x, y, [0.1, 1e8])
    assert calls, "collapsed clusters at large 1/delta took the float32 path"


def tiles_of_at_most(monkeypatch, rows):
    """Cap the tiles at ``rows`` on a CPU and on a GPU alike: these tests run on either."""
    monkeypatch.setattr(spectral, "_TILE", rows)
    monkeypatch.setattr(spectral, "_ACCELERATOR_TILE", rows)


def test_tiling_and_padding_do_not_change_the_result(monkeypatch):
    # 150 points in tiles of 64: three tiles, the last one padded, off-diagonal blocks used.
    x, y = one_hot_set(n=150, d=3)
    grid = np.linspace(0.2, 3.2, 16)
    whole = dfp.lfr(x, y, grid)
    tiles_of_at_most(monkeypatch, 64)
    tiled = dfp.lfr(x, y, grid)
    np.testing.assert_allclose(tiled, whole, atol=1e-6, rtol=0)
    np.testing.assert_allclose(tiled, dense_lfr(x, y, grid), atol=1e-5, rtol=0)


def sums_on(monkeypatch, where):
    """Add the blocks' sums on the host in float64 (a CPU) or on the device in float32 pairs
    (a GPU), whatever this machine is."""
    monkeypatch.setattr(spectral, "_on_accelerator", lambda backend: where == "device")


@pytest.mark.parametrize("where", ["host", "device"])
@pytest.mark.parametrize("distances", ["float32", "float64"])
@pytest.mark.parametrize("chains", [1, 2, 3])
def test_every_block_path_agrees_with_dense(monkeypatch, chains, distances, where):
    # Four tiles of 64 (the last one padded), so that chains of column tiles start on and off
    # the diagonal and the last chain is short; several grid groups, so that later groups
    # reuse the first group's distances; short anchors inside uniform runs; a lone point.
    sums_on(monkeypatch, where)
    tiles_of_at_most(monkeypatch, 64)
    monkeypatch.setattr(spectral, "_CHAINS", chains)
    monkeypatch.setattr(spectral, "_GROUP", 7)
    monkeypatch.setattr(spectral, "_ANCHOR", 3)
    x, y = one_hot_set(n=230, d=4)
    grid = np.concatenate([np.linspace(0.1, 1.0, 10), [1.7], np.linspace(2.0, 5.0, 7)])
    assert spectral._tile_size(230) == 64 and len(spectral._grid_groups(grid)) == 3
    values = dfp.lfr(x, y, grid, distances=distances)
    np.testing.assert_allclose(values, dense_lfr(x, y, grid), atol=1e-5, rtol=0)


def test_tiles_are_equal_and_padding_small(monkeypatch):
    monkeypatch.setattr(spectral, "_on_accelerator", lambda backend: False)  # the CPU's tiles
    assert spectral._tile_size(20000) == 1000  # 20 tiles of 1,000, not 20 of 1,024
    assert spectral._tile_size(1024) == 1024
    assert spectral._tile_size(1025) == 520  # two tiles
    assert spectral._tile_size(150) == 152  # one tile, a multiple of 8
    for n in (2, 999, 5000, 60000, 123457):
        tile = spectral._tile_size(n)
        tiles = -(-n // tile)
        assert tile <= spectral._TILE and tile % 8 == 0 and tiles * tile - n < 8 * tiles


def test_tiles_on_a_gpu_are_larger(monkeypatch):
    # On a GPU the number of calls and the sums sent back per call cost, not the cache.
    monkeypatch.setattr(spectral, "_on_accelerator", lambda backend: True)
    assert spectral._tile_size(60000) == 7504  # 8 tiles, not 59 of 1,024
    assert spectral._tile_size(5000) == 5000
    monkeypatch.setattr(spectral, "_ACCELERATOR_TILE", 64)
    x, y = one_hot_set(n=150, d=3)
    grid = np.linspace(0.2, 3.2, 16)
    np.testing.assert_allclose(dfp.lfr(x, y, grid), dense_lfr(x, y, grid), atol=1e-5, rtol=0)


def test_float32_inputs_are_used_without_a_float64_copy():
    # A layer's activations are float32; at n = 60,000, d = 784 a float64 copy is 376 MB.
    x, y = one_hot_set(n=400, d=30)
    x32 = x.astype(np.float32)
    assert np.shares_memory(spectral._data_set(x32, y, normalize=False, keep_float32=True)[0], x32)
    grid = np.geomspace(0.01, 5, 12)
    values = dfp.lfr(x32, y, grid)
    # The same float32 numbers given as float64 take the old path: promoted before centring.
    np.testing.assert_allclose(values, dfp.lfr(x32.astype(np.float64), y, grid), atol=1e-9, rtol=0)
    np.testing.assert_allclose(values, dense_lfr(x32.astype(np.float64), y, grid), atol=1e-5, rtol=0)


def test_grid_order_is_kept():
    x, y = one_hot_set(n=100)
    grid = np.array([3.0, 0.1, 1.0])
    np.testing.assert_allclose(dfp.lfr(x, y, grid), dense_lfr(x, y, grid), atol=1e-5, rtol=0)


def test_a_decreasing_grid_matches_dense_in_high_dimensions():
    # Stepping down a uniform run multiplies by exp(+a d^2 / 2): weights that start below
    # float32's range stayed 0 while the exact ones grew (the LFR was off by 0.9).
    x, y = hidden_layer_like(n=300, d=200)
    grid = np.linspace(4.0, 0.05, 30)
    np.testing.assert_allclose(dfp.lfr(x, y, grid), dense_lfr(x, y, grid), atol=1e-5, rtol=0)


@pytest.mark.parametrize("where", ["host", "device"])
def test_many_tiny_weights_are_not_lost_next_to_the_self_weight(monkeypatch, where):
    # Near the LFR's top each point's neighbours have weights far below float32's 1.2e-7
    # resolution at 1; summed next to the self weight 1 in float32 they lost their low bits
    # (2.3e-6 off here, 5e-6 at n = 5,000 in 784 dimensions). The self term is now added
    # after the products: in float64 on the host, or as a float32 pair on the device.
    sums_on(monkeypatch, where)
    tiles_of_at_most(monkeypatch, 256)
    x, y = hidden_layer_like(n=1500, d=100)
    grid = np.geomspace(0.05, 2, 30)
    np.testing.assert_allclose(dfp.lfr(x, y, grid), dense_lfr(x, y, grid), atol=5e-7, rtol=0)


def test_two_sum_keeps_what_float32_rounds_off():
    # The device adds the blocks' sums as float32 pairs (hi, lo). Compiled by the backend,
    # (hi + part) - hi must not be simplified to part, or lo stays 0 and every add rounds.
    from keras import ops

    two_sum = spectral._compiled(spectral._two_sum)
    hi = ops.ones((3,))
    lo = ops.zeros((3,))
    part = ops.convert_to_tensor(np.array([1e-8, 3e-9, -2e-8], np.float32))
    for _ in range(1000):
        hi, lo = two_sum(hi, lo, part)
    total = ops.convert_to_numpy(hi).astype(np.float64) + ops.convert_to_numpy(lo)
    exact = 1.0 + 1000 * np.array([1e-8, 3e-9, -2e-8], np.float32).astype(np.float64)
    assert np.all(ops.convert_to_numpy(hi) == np.float32(1.0))  # float32 alone loses them all
    # lo's own float32 rounding leaves about 1e-10 (2^-24 of lo, 1,000 times).
    np.testing.assert_allclose(total, exact, rtol=1e-9, atol=0)


def test_limits_floor_and_one():
    x, y = one_hot_set(n=200)
    y = y + 0.3  # a non-zero mean makes the floor non-trivial
    low, high = dfp.lfr(x, y, [1e-9, 1e9])
    floor = np.sum(y.mean(axis=0) ** 2) / np.mean(np.sum(y**2, axis=1))
    assert low == pytest.approx(floor, abs=1e-5)  # the float32 bound of issue 3
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
    assert not np.allclose(dfp.lfr(scaled, y, grid, normalize=False), dfp.lfr(x, y, grid, normalize=False))
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
    assert dfp.peak_inv_delta(grid, [0.1, 0.2, 0.9, 0.95]) == 3.0
    assert dfp.halfway_inv_delta(grid, values, floor=0.0) == pytest.approx(3.0)


def test_rdf_peak_of_sin_k_pi_x_moves_right_with_k():
    grid = np.linspace(1, 300, 300)
    peaks = [dfp.peak_inv_delta(grid, dfp.lfr(*dfp.sine(k, 500), grid)) for k in (1, 3, 5)]
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
        dfp.halfway_inv_delta([1.0, 2.0], [0.1, 0.2], floor=0.0)
    with pytest.raises(ValueError, match="already"):
        dfp.halfway_inv_delta([1.0, 2.0], [0.8, 0.9], floor=0.0)


def test_grid_groups_find_uniform_runs_and_cover_the_grid_once(monkeypatch):
    monkeypatch.setattr(spectral, "_GROUP", 10)
    grid = np.concatenate([np.linspace(1, 8, 8), [10.0, 25.0], np.linspace(30, 100, 8)])
    groups = spectral._grid_groups(grid)
    # Runs: 1..8 (step 1), then 10, 25 (step 15), then 30..100 (step 10).
    structure = [lengths for _, _, _, lengths in groups]
    assert structure == [(8, 2), (8,)]
    steps = [list(s) for _, _, s, _ in groups]
    np.testing.assert_allclose(steps[0], [1.0, 15.0])
    np.testing.assert_allclose(steps[1], [10.0])
    covered = np.concatenate([np.arange(len(grid))[positions] for positions, _, _, _ in groups])
    np.testing.assert_array_equal(covered, np.arange(len(grid)))
    for positions, values, _, _ in groups:
        np.testing.assert_allclose(values, grid[positions])


def test_anchoring_bounds_the_error_of_long_uniform_runs():
    x, y = dfp.sine(5, 400)
    grid = np.linspace(1, 2000, 300)  # several anchors and groups
    np.testing.assert_allclose(dfp.lfr(x, y, grid), dense_lfr(x, y, grid), atol=1e-5, rtol=0)


def test_sine_bad_input():
    with pytest.raises(ValueError, match="num_points"):
        dfp.sine(1, 1)
    with pytest.raises(ValueError, match="x_range"):
        dfp.sine(1, 10, (1.0, -1.0))


def hidden_layer_like(n=1500, d=100, seed=0):
    r = np.random.default_rng(seed)
    return np.tanh(r.normal(size=(n, d)) * 0.5), np.eye(10)[r.integers(0, 10, n)]


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
    x, y = dfp.sine(5, 500)
    grid = dfp.inv_delta_grid((x, y), points=40)
    structure = [lengths for _, _, _, lengths in spectral._grid_groups(grid)]
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
    ceiling = spectral._lfr_ceiling(x, y)
    assert ceiling < 0.99
    assert values[-1] >= ceiling - 0.01 * (ceiling - dfp.lfr_floor(y)) - 1e-5
    # The ceiling is the dense float64 LFR at a 1/delta that filters out every other point.
    assert dense_lfr(x, y, [1e12])[0] == pytest.approx(ceiling, abs=1e-12)


def test_pad_decades_widens_each_end():
    x, y = hidden_layer_like(n=300, d=10)
    plain = dfp.inv_delta_grid((x, y), spacing="geometric")
    padded = dfp.inv_delta_grid((x, y), spacing="geometric", pad_decades=(1.0, 0.5))
    assert padded[0] == pytest.approx(plain[0] / 10) and padded[-1] == pytest.approx(plain[-1] * 10**0.5)
    with pytest.raises(ValueError, match="pad_decades"):
        dfp.inv_delta_grid((x, y), pad_decades=-1)


def test_the_authors_dense_method_agrees_with_the_reference():
    x, y = one_hot_set(n=200)
    grid = np.linspace(0.05, 2.0, 7)
    np.testing.assert_allclose(dfp.lfr_dense(x, y, grid), dense_lfr(x, y, grid), atol=1e-12)
