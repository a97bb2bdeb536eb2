"""The engine behind dfp.lfr (dfp._lfr_engine): every path it takes gives the reference's value."""

import numpy as np
import pytest

import dfp
from dfp import _backend, _checks
from dfp import _lfr_engine as engine
from tests._data_sets import collapsed_clusters, hidden_layer_like, one_hot_set
from tests._reference import dense_lfr


def test_auto_distances_keep_float32_for_ordinary_data_and_switch_for_collapsed(monkeypatch):
    calls = []
    float64 = engine.neg_half_float64
    monkeypatch.setattr(engine, "neg_half_float64", lambda *a: calls.append(1) or float64(*a))
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
    monkeypatch.setattr(engine, "TILE", rows)
    monkeypatch.setattr(engine, "ACCELERATOR_TILE", rows)


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
    monkeypatch.setattr(engine, "on_accelerator", lambda backend: where == "device")


@pytest.mark.parametrize("where", ["host", "device"])
@pytest.mark.parametrize("distances", ["float32", "float64"])
@pytest.mark.parametrize("chains", [1, 2, 3])
def test_every_block_path_agrees_with_dense(monkeypatch, chains, distances, where):
    # Four tiles of 64 (the last one padded), so that chains of column tiles start on and off
    # the diagonal and the last chain is short; several grid groups, so that later groups
    # reuse the first group's distances; short anchors inside uniform runs; a lone point.
    sums_on(monkeypatch, where)
    tiles_of_at_most(monkeypatch, 64)
    monkeypatch.setattr(engine, "CHAINS", chains)
    monkeypatch.setattr(engine, "GROUP", 7)
    monkeypatch.setattr(engine, "ANCHOR", 3)
    x, y = one_hot_set(n=230, d=4)
    grid = np.concatenate([np.linspace(0.1, 1.0, 10), [1.7], np.linspace(2.0, 5.0, 7)])
    assert engine.tile_size(230) == 64 and len(engine.grid_groups(grid)) == 3
    values = dfp.lfr(x, y, grid, distances=distances)
    np.testing.assert_allclose(values, dense_lfr(x, y, grid), atol=1e-5, rtol=0)


def assert_fewest_equal_tiles(n, most):
    """The fewest tiles of at most ``most`` rows, as equal as can be, each a multiple of 8."""
    tile = engine.tile_size(n)
    tiles = -(-n // tile)
    assert tile % 8 == 0 and tile <= max(most, 8), (n, tile)
    assert tiles == -(-n // most), f"n = {n}: {tiles} tiles of {tile}, but {-(-n // most)} would do"
    assert tiles * tile - n < 8 * tiles, f"n = {n}: {tiles * tile - n} rows of padding"


@pytest.mark.parametrize("n", [2, 150, 999, 1024, 1025, 5000, 20000, 60000, 123457])
@pytest.mark.parametrize("where", ["cpu", "gpu"])
def test_tiles_are_the_fewest_equal_ones_with_little_padding(monkeypatch, n, where):
    monkeypatch.setattr(engine, "on_accelerator", lambda backend: where == "gpu")
    assert_fewest_equal_tiles(n, engine.ACCELERATOR_TILE if where == "gpu" else engine.TILE)


def test_tiles_on_a_gpu_are_no_smaller_than_on_a_cpu(monkeypatch):
    # On a GPU the number of calls and the sums sent back per call cost, not the cache.
    assert engine.ACCELERATOR_TILE >= engine.TILE
    monkeypatch.setattr(engine, "on_accelerator", lambda backend: True)
    monkeypatch.setattr(engine, "ACCELERATOR_TILE", 64)
    x, y = one_hot_set(n=150, d=3)
    grid = np.linspace(0.2, 3.2, 16)
    np.testing.assert_allclose(dfp.lfr(x, y, grid), dense_lfr(x, y, grid), atol=1e-5, rtol=0)


def test_float32_inputs_are_used_without_a_float64_copy():
    # A layer's activations are float32; at n = 60,000, d = 784 a float64 copy is 376 MB.
    x, y = one_hot_set(n=400, d=30)
    x32 = x.astype(np.float32)
    assert np.shares_memory(_checks.data_set(x32, y, normalize=False, keep_float32=True)[0], x32)
    grid = np.geomspace(0.01, 5, 12)
    values = dfp.lfr(x32, y, grid)
    # The same float32 numbers given as float64 take the old path: promoted before centring.
    np.testing.assert_allclose(values, dfp.lfr(x32.astype(np.float64), y, grid), atol=1e-9, rtol=0)
    np.testing.assert_allclose(
        values, dense_lfr(x32.astype(np.float64), y, grid), atol=1e-5, rtol=0
    )


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

    two_sum = _backend.compiled(engine.two_sum)
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


def test_grid_groups_find_uniform_runs_and_cover_the_grid_once(monkeypatch):
    monkeypatch.setattr(engine, "GROUP", 10)
    grid = np.concatenate([np.linspace(1, 8, 8), [10.0, 25.0], np.linspace(30, 100, 8)])
    groups = engine.grid_groups(grid)
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
    x, y = dfp.data.sine(5, 400)
    grid = np.linspace(1, 2000, 300)  # several anchors and groups
    np.testing.assert_allclose(dfp.lfr(x, y, grid), dense_lfr(x, y, grid), atol=1e-5, rtol=0)
