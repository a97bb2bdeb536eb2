import keras
import numpy as np
import pytest

import dfp
from dfp import callbacks, models, training


def test_spectra_records_chosen_epochs_initialisation_and_end_on_one_grid():
    r = np.random.default_rng(0)
    x = r.normal(size=(200, 6)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[r.integers(0, 3, 200)]
    keras.utils.set_random_seed(0)
    model = models.mlp(6, 3, 12, output_dim=3, seed=0)
    spectra = callbacks.Spectra(x[:100], y[:100], [1, -2], [0, 2], grid_points=12)
    run = training.fit_with_spectra(
        model,
        x,
        y,
        loss="mse",
        learning_rate=1e-2,
        batch_size=50,
        max_epochs=5,
        stop_loss=None,
        spectra=spectra,
        seed=0,
    )
    assert run["epochs"] == 5 and not run["stopped"]
    assert sorted(run["curves"]) == [0, 2, 5]  # chosen, plus the end
    assert set(run["curves"][0]) == {1, -2}
    assert run["inv_delta"].shape == (12,)
    # The curves are the LFR of the layer's outputs, per-dimension normalised, on that grid.
    hidden = models.features(model, [-2]).predict(x[:100], verbose=0)
    np.testing.assert_allclose(
        run["curves"][5][-2], dfp.lfr(hidden, y[:100], run["inv_delta"]), atol=1e-6
    )
    assert run["floors"][5][-2] == pytest.approx(dfp.lfr_floor(y[:100]))
    # Both timed, separately (how they compare depends on the machine, not on the code).
    assert run["spectra_seconds"] > 0 and run["seconds"] > 0


def test_spectra_of_kept_snapshots_are_the_spectra_recorded_in_training():
    """Fig. 8 keeps weights and analyses them afterwards: the same curves, grid and floors."""
    r = np.random.default_rng(2)
    x = r.normal(size=(120, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[r.integers(0, 3, 120)]
    options = dict(loss="mse", learning_rate=1e-2, batch_size=40, max_epochs=4, stop_loss=None)
    live = callbacks.Spectra(x[:60], y[:60], [1, 2], [0, 2], grid_points=10)
    keras.utils.set_random_seed(0)
    recorded = training.fit_with_spectra(
        models.mlp(5, 2, 10, output_dim=3, seed=0), x, y, spectra=live, seed=0, **options
    )
    keras.utils.set_random_seed(0)
    kept = training.fit_with_spectra(
        models.mlp(5, 2, 10, output_dim=3, seed=0),
        x,
        y,
        spectra=callbacks.Snapshots([0, 2]),
        seed=0,
        **options,
    )
    assert sorted(kept["weights"]) == [0, 2, 4]  # chosen, plus the end
    assert all(w.dtype == np.float32 for w in kept["weights"][4])
    np.testing.assert_allclose(kept["loss"], recorded["loss"], rtol=1e-6)
    later = callbacks.spectra_of_snapshots(
        models.mlp(5, 2, 10, output_dim=3, seed=0),
        kept["weights"],
        x[:60],
        y[:60],
        [1, 2],
        grid_points=10,
    )
    np.testing.assert_allclose(later["inv_delta"], recorded["inv_delta"], rtol=1e-6)
    for epoch in (0, 2, 4):
        for layer in (1, 2):
            np.testing.assert_allclose(
                later["curves"][epoch][layer], recorded["curves"][epoch][layer], atol=1e-5
            )
            assert later["floors"][epoch][layer] == pytest.approx(recorded["floors"][epoch][layer])
    with pytest.raises(ValueError, match="no snapshots"):
        callbacks.spectra_of_snapshots(models.mlp(5, 2, 10, output_dim=3), {}, x, y, [1])


def test_spectra_of_the_learning_component_uses_the_network_output():
    r = np.random.default_rng(1)
    x = r.normal(size=(80, 4)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[r.integers(0, 2, 80)]
    model = models.mlp(4, 2, 8, output_dim=2, seed=0)
    spectra = callbacks.Spectra(x, y, [-3], [0], targets="output", inv_delta=[0.5, 1.0, 2.0])
    spectra.set_model(model)
    spectra.on_train_begin()
    f3, out = models.features(model, [-3, -1]).predict(x, verbose=0)
    np.testing.assert_allclose(spectra.curves[0][-3], dfp.lfr(f3, out, [0.5, 1.0, 2.0]), atol=1e-6)


def test_spectra_bad_arguments():
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    with pytest.raises(ValueError, match="targets"):
        callbacks.Spectra(x, y, [1], [0], targets="logits")
    with pytest.raises(ValueError, match="points"):
        callbacks.Spectra(x, y[:3], [1], [0])
    with pytest.raises(ValueError, match="epochs"):
        callbacks.Spectra(x, y, [1], [-1])
    with pytest.raises(ValueError, match="'auto'"):
        callbacks.Spectra(x, y, [1], [0], inv_delta="fine")


def _tiny_spectra(**options):
    """A Spectra of two layers of a tiny network at epochs 0 and 1, and the network."""
    r = np.random.default_rng(3)
    x = r.normal(size=(60, 4)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[r.integers(0, 2, 60)]
    keras.utils.set_random_seed(0)
    model = models.mlp(4, 2, 8, output_dim=2, seed=0)
    spectra = callbacks.Spectra(x, y, [1, 2], [0, 1], grid_points=10, **options)
    run = training.fit_with_spectra(
        model,
        x,
        y,
        loss="mse",
        learning_rate=1e-2,
        batch_size=30,
        max_epochs=2,
        stop_loss=None,
        spectra=spectra,
        seed=0,
    )
    return spectra, run, model, x, y


def test_spectra_draws_positions_on_the_same_subsets_at_every_epoch_and_layer(monkeypatch):
    used = []
    original = callbacks.position_draws

    def spy(pairs, inv_delta, subsets, **kwargs):
        used.append((len(pairs), np.array(subsets)))
        return original(pairs, inv_delta, subsets, **kwargs)

    monkeypatch.setattr(callbacks, "position_draws", spy)
    spectra, run, model, x, y = _tiny_spectra(repeats=3, fraction=0.5, seed=7)
    assert sorted(run["draws"]) == [0, 1, 2]  # every recorded epoch
    assert run["resample"] == {"repeats": 3, "fraction": 0.5, "seed": 7}
    for epoch in (0, 1, 2):
        assert set(run["draws"][epoch]) == {1, 2}
        for layer in (1, 2):
            for position in ("halfway", "peak"):
                assert run["draws"][epoch][layer][position].shape == (3,)
            assert np.all(np.isfinite(run["draws"][epoch][layer]["peak"]))
    # One call per epoch, for both layers at once, always on the subsets drawn in __init__.
    expected = dfp.intervals.subsamples(60, repeats=3, fraction=0.5, seed=7)
    assert len(used) == 3
    for pairs, subsets in used:
        assert pairs == 2
        np.testing.assert_array_equal(subsets, expected)
    np.testing.assert_array_equal(spectra.subsets, expected)
    # The draws are those of the recorded curves' (features, targets), here at the end.
    hidden = models.features(model, [2]).predict(x, verbose=0)
    again = dfp.intervals.position_draws([(hidden, y)], run["inv_delta"], expected)
    np.testing.assert_allclose(run["draws"][2][2]["peak"], again["peak"][0], rtol=1e-6)
    np.testing.assert_allclose(run["draws"][2][2]["halfway"], again["halfway"][0], rtol=1e-4)
    # A checkpoint keeps them.
    assert spectra.state()["draws"] is spectra.draws


def test_spectra_resample_epochs_limit_the_draws_and_no_repeats_give_none():
    _, run, *_ = _tiny_spectra(repeats=2, resample_epochs=[1, 5])
    assert sorted(run["draws"]) == [1]
    spectra, run, *_ = _tiny_spectra(repeats=0)
    assert run["draws"] == {} and spectra.subsets is None
    assert run["resample"]["repeats"] == 0
    # The curves do not depend on the draws.
    _, with_draws, *_ = _tiny_spectra(repeats=2)
    for epoch in (0, 1, 2):
        np.testing.assert_array_equal(run["curves"][epoch][2], with_draws["curves"][epoch][2])


def test_spectra_of_snapshots_pass_the_resampling_options():
    r = np.random.default_rng(4)
    x = r.normal(size=(40, 3)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[r.integers(0, 2, 40)]
    model = models.mlp(3, 1, 6, output_dim=2, seed=0)
    later = callbacks.spectra_of_snapshots(
        model,
        {0: model.get_weights()},
        x,
        y,
        [1],
        grid_points=8,
        repeats=2,
        fraction=0.4,
        seed=5,
    )
    assert later["resample"] == {"repeats": 2, "fraction": 0.4, "seed": 5}
    assert later["draws"][0][1]["halfway"].shape == (2,)


def test_spectra_bad_resampling_arguments():
    x, y = np.zeros((10, 2)), np.zeros((10, 1))
    with pytest.raises(ValueError, match="repeats must be an integer >= 0"):
        callbacks.Spectra(x, y, [1], [0], repeats=-1)
    with pytest.raises(ValueError, match="repeats must be an integer >= 2"):
        callbacks.Spectra(x, y, [1], [0], repeats=1)
    with pytest.raises(ValueError, match=r"fraction must lie in \(0, 1\)"):
        callbacks.Spectra(x, y, [1], [0], fraction=1.5)
    with pytest.raises(ValueError, match="resample_epochs must be non-negative"):
        callbacks.Spectra(x, y, [1], [0], resample_epochs=[-1])
    with pytest.raises(ValueError, match="seed must be an integer"):
        callbacks.Spectra(x, y, [1], [0], seed=None)
