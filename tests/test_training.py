import keras
import numpy as np
import pytest

import dfp
from dfp import _backend, callbacks, data, models, parameters, runs, storage, training


def small_problem():
    x, y = data.cosines([1], 41)
    return x.astype(np.float32), y.astype(np.float32)


def mse(model, x, y):
    return float(np.mean((model.predict(x, verbose=0) - y) ** 2))


def test_stops_at_the_first_epoch_below_the_threshold_with_exactly_that_many_updates():
    x, y = small_problem()
    keras.utils.set_random_seed(0)
    model = models.mlp(1, 2, 16, seed=0)
    run = training.train_to_loss(
        model, x, y, threshold=0.05, max_epochs=3000, learning_rate=1e-2, chunk=8
    )
    assert run.epochs is not None and run.epochs > 8, "the run should cross chunk boundaries"
    assert len(run.losses) == run.epochs + 1
    assert run.losses[-1] < 0.05 <= run.losses[:-1].min()
    # The model is left exactly where the threshold was first crossed.
    assert mse(model, x, y) == pytest.approx(float(run.losses[-1]), rel=1e-4)


def test_the_same_epochs_as_a_plain_step_by_step_loop():
    # An independent reference: one train_on_batch per epoch with the same seed.
    x, y = small_problem()
    keras.utils.set_random_seed(1)
    fast = training.train_to_loss(
        models.mlp(1, 1, 8, seed=1),
        x,
        y,
        threshold=0.2,
        max_epochs=500,
        learning_rate=1e-2,
        chunk=50,
    )
    keras.utils.set_random_seed(1)
    reference = models.mlp(1, 1, 8, seed=1)
    reference.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    epoch = 0
    while mse(reference, x, y) >= 0.2:
        reference.train_on_batch(x, y)
        epoch += 1
        assert epoch <= 500
    assert fast.epochs == epoch


def test_cap_reports_none_and_applies_exactly_max_epochs_updates():
    x, y = small_problem()
    model = models.mlp(1, 1, 4, seed=0)
    run = training.train_to_loss(model, x, y, threshold=1e-12, max_epochs=30, chunk=7)
    assert run.epochs is None and len(run.losses) == 31
    assert mse(model, x, y) == pytest.approx(float(run.losses[-1]), rel=1e-4)
    # The same 30 updates one at a time give the same model.
    reference = models.mlp(1, 1, 4, seed=0)
    training.train_to_loss(reference, x, y, threshold=1e-12, max_epochs=30, chunk=1)
    np.testing.assert_allclose(reference.get_weights()[0], model.get_weights()[0], atol=1e-6)


def test_diverging_training_is_an_error_not_a_number():
    x, y = small_problem()
    with pytest.raises(FloatingPointError, match="epoch"):
        training.train_to_loss(
            models.mlp(1, 1, 4, seed=0),
            x,
            y * 1e30,
            threshold=1e-3,
            max_epochs=50,
            learning_rate=1e3,
        )


def test_a_loss_out_of_its_finite_range_is_nan_inf_or_a_thousandfold_its_initial_one():
    assert training.DIVERGENCE_FACTOR == 1000
    losses = [0.5, 400.0, 501.0, np.nan, np.inf]
    assert training.diverges(losses, 0.5).tolist() == [False, False, True, True, True]
    assert training.diverges(losses, None).tolist() == [False, False, False, True, True]
    assert training.diverges(losses, np.nan).tolist() == [False, False, False, True, True]


def test_a_full_batch_run_whose_loss_grows_a_thousandfold_has_diverged():
    # Adam at 1e3: finite losses, but far above the initial one within a few updates.
    x, y = small_problem()
    with pytest.raises(training.Diverged) as caught:
        training.train_to_loss(
            models.mlp(1, 1, 4, seed=0), x, y, threshold=1e-6, max_epochs=50, learning_rate=1e3
        )
    diverged = caught.value
    assert np.isfinite(diverged.loss) and diverged.loss > 1000 * diverged.initial
    assert diverged.initial == diverged.losses[0]  # the loss at epoch 0, before any update
    assert len(diverged.losses) == diverged.epoch  # the losses of epochs 0 ... epoch - 1
    assert np.all(diverged.losses <= 1000 * diverged.initial)
    assert "above 1000 × its initial" in str(diverged)


def test_a_minibatch_run_diverges_against_its_epoch_0_loss_and_keeps_the_losses_before():
    x, y = classification_problem()
    model = models.mlp(6, 2, 16, activation="tanh", output_dim=3, seed=0)
    initial = mse(model, x, y)
    with pytest.raises(training.Diverged) as caught:
        training.fit_with_spectra(
            model, x, y, loss="mse", learning_rate=1e3, batch_size=32, max_epochs=20,
            stop_loss=None, spectra=callbacks.Snapshots([0]), seed=0,
        )  # fmt: skip
    diverged = caught.value
    assert diverged.initial == pytest.approx(initial, rel=1e-5)
    assert diverged.epoch >= 1 and len(diverged.losses) == diverged.epoch - 1
    assert not np.isfinite(diverged.loss) or diverged.loss > 1000 * initial
    # A run that trains reports its epoch-0 loss.
    run = training.fit_with_spectra(
        models.mlp(6, 2, 16, activation="tanh", output_dim=3, seed=0), x, y, loss="mse",
        learning_rate=1e-3, batch_size=32, max_epochs=1, stop_loss=None,
        spectra=callbacks.Snapshots([0]), seed=0,
    )  # fmt: skip
    assert run["initial_loss"] == pytest.approx(initial, rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(threshold=0.0, max_epochs=5), "threshold"),
        (dict(threshold=0.1, max_epochs=0), "max_epochs"),
    ],
)
def test_bad_arguments(kwargs, message):
    x, y = small_problem()
    with pytest.raises(ValueError, match=message):
        training.train_to_loss(models.mlp(1, 1, 4), x, y, **kwargs)
    with pytest.raises(ValueError, match="same number"):
        training.train_to_loss(models.mlp(1, 1, 4), x, y[:5], threshold=0.1, max_epochs=5)


def test_stop_at_loss_callback_stops_fit_and_records_the_epoch():
    x, y = small_problem()
    keras.utils.set_random_seed(0)
    model = models.mlp(1, 2, 16, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    stop = training.StopAtLoss(0.1)
    history = model.fit(x, y, epochs=2000, batch_size=len(x), verbose=0, callbacks=[stop])
    losses = history.history["loss"]
    assert stop.epoch == len(losses) < 2000
    assert losses[-1] < 0.1 <= min(losses[:-1])


def test_cross_entropy_trains_on_logits():
    r = np.random.default_rng(3)
    x = r.normal(size=(64, 4)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[(x[:, 0] > 0).astype(int)]
    keras.utils.set_random_seed(0)
    run = training.fit_with_spectra(
        models.mlp(4, 1, 16, output_dim=2, seed=0),
        x,
        y,
        loss="cross_entropy",
        learning_rate=1e-2,
        batch_size=64,
        max_epochs=30,
        stop_loss=None,
        spectra=callbacks.Snapshots([0]),
        seed=0,
    )
    assert run["loss"][0] > run["loss"][-1]
    assert run["loss"][0] == pytest.approx(np.log(2), abs=0.5)  # softmax of small logits
    with pytest.raises(ValueError, match="mse"):
        training.fit_with_spectra(
            models.mlp(4, 1, 4, output_dim=2),
            x,
            y,
            loss="hinge",
            learning_rate=1e-2,
            batch_size=8,
            max_epochs=1,
            stop_loss=None,
            spectra=callbacks.Snapshots([0]),
            seed=0,
        )


def test_train_to_loss_records_spectra_at_exact_epochs():
    x, y = small_problem()
    keras.utils.set_random_seed(0)
    model = models.mlp(1, 2, 8, seed=0)
    grid = [1.0, 10.0, 100.0]
    initial = models.features(model, [1, 2]).predict(x, verbose=0)
    spectra = callbacks.Spectra(x, y, [1, 2], [0, 3, 7], inv_delta=grid)
    run = training.train_to_loss(
        model, x, y, threshold=1e-12, max_epochs=9, chunk=4, spectra=spectra
    )
    assert run.epochs is None and sorted(spectra.curves) == [0, 3, 7, 9]
    np.testing.assert_allclose(spectra.curves[0][2], dfp.lfr(initial[1], y, grid), atol=1e-6)
    final = models.features(model, [2]).predict(x, verbose=0)
    np.testing.assert_allclose(spectra.curves[9][2], dfp.lfr(final, y, grid), atol=1e-6)
    # Epoch 3 is the model after exactly three updates: replay them.
    keras.utils.set_random_seed(0)
    replay = models.mlp(1, 2, 8, seed=0)
    training.train_to_loss(replay, x, y, threshold=1e-12, max_epochs=3)
    after3 = models.features(replay, [2]).predict(x, verbose=0)
    np.testing.assert_allclose(spectra.curves[3][2], dfp.lfr(after3, y, grid), atol=1e-6)


def test_paper_learning_rate_schedule_and_its_scaling():
    rates = [training.paper_learning_rate(e, 80) for e in range(1, 81)]
    assert rates[:40] == [1e-3] * 40 and rates[40:60] == [1e-4] * 20 and rates[60:] == [1e-5] * 20
    assert [training.paper_learning_rate(e, 12) for e in range(1, 13)] == [1e-3] * 6 + [
        1e-4
    ] * 3 + [1e-5] * 3
    with pytest.raises(ValueError, match="epoch"):
        training.paper_learning_rate(0, 12)


def classification_problem(n=240, d=6, classes=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x, np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]


class Interrupted(Exception):
    pass


def interrupting(callback, at):
    """``callback``, made to stop the process (an exception) when it reaches epoch ``at``."""
    snapshot = callback._snapshot

    def stop_or_snapshot(epoch):
        if epoch == at:
            raise Interrupted
        snapshot(epoch)

    callback._snapshot = stop_or_snapshot
    return callback


def test_an_interrupted_run_resumes_from_its_checkpoint_with_the_uninterrupted_result(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("DFP_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(training, "CHECKPOINT_SECONDS", 0.0)  # a checkpoint every epoch
    x, y = classification_problem()

    def run(recorder):
        model = models.mlp(6, 2, 16, activation="tanh", output_dim=3, seed=0)
        return training.fit_with_spectra(
            model,
            x,
            y,
            loss="mse",
            learning_rate=1e-3,
            batch_size=32,
            max_epochs=6,
            stop_loss=None,
            spectra=recorder,
            seed=0,
        )

    def spectra():
        return callbacks.Spectra(x, y, [1, 2], [0, 2, 4, 6], grid_points=12)

    whole = runs.cached("whole", {}, lambda: run(spectra()))
    with pytest.raises(Interrupted):
        runs.cached("resumed", {}, lambda: run(interrupting(spectra(), at=4)))
    (checkpoint,) = tmp_path.glob(".resumed-*.checkpoint.npz")
    assert storage.read_checkpoint(checkpoint)["epoch"] == 3  # epoch 4 never finished
    resumed = runs.cached("resumed", {}, lambda: run(spectra()))
    assert not checkpoint.exists()  # the finished run replaced it
    np.testing.assert_array_equal(resumed["loss"], whole["loss"])
    assert sorted(resumed["curves"]) == [0, 2, 4, 6]
    for epoch in whole["curves"]:
        for layer in (1, 2):
            np.testing.assert_array_equal(
                resumed["curves"][epoch][layer], whole["curves"][epoch][layer]
            )
    np.testing.assert_array_equal(resumed["inv_delta"], whole["inv_delta"])


def test_bf16_trains_in_mixed_precision_and_measures_spectra_in_float32():
    x, y = classification_problem()
    model = models.mlp(6, 2, 16, activation="tanh", output_dim=3, seed=0)
    spectra = callbacks.Spectra(x, y, [1, 2], [0, 3], grid_points=12)
    run = training.fit_with_spectra(
        model,
        x,
        y,
        loss="mse",
        learning_rate=1e-2,
        batch_size=32,
        max_epochs=3,
        stop_loss=None,
        spectra=spectra,
        seed=0,
        precision="bf16",
    )
    assert run["precision"] == "bf16" and run["loss"][-1] < run["loss"][0]
    assert model.dtype_policy.name == "float32"  # the caller's model, holding the trained weights
    pairs = models.effective_target(model, x, y, [1, 2])
    for layer, (features, targets) in zip((1, 2), pairs):
        expected = dfp.lfr(features, targets, spectra.inv_delta)
        np.testing.assert_allclose(run["curves"][3][layer], expected, atol=1e-6)
    # In bfloat16 the same layer's outputs would differ by far more than that.
    mixed = training._at_policy(model, "mixed_bfloat16")
    assert (
        mixed.layers[1].compute_dtype == "bfloat16" and mixed.layers[-1].compute_dtype == "float32"
    )


def test_a_precision_is_one_of_three_and_tf32_is_switched_back():
    assert all(parameters.RULES["precision"](p) for p in _backend.PRECISIONS)
    assert not parameters.RULES["precision"]("float16")
    with pytest.raises(ValueError, match="unknown training precision 'fp8'"):
        training.fit_with_spectra(
            models.mlp(6, 1, 4, output_dim=3),
            *classification_problem(),
            loss="mse",
            learning_rate=1e-3,
            batch_size=32,
            max_epochs=1,
            stop_loss=None,
            spectra=callbacks.Snapshots([0]),
            seed=0,
            precision="fp8",
        )
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        before = tf.config.experimental.tensor_float_32_execution_enabled()
        with _backend.matmul_precision("tf32"):
            assert tf.config.experimental.tensor_float_32_execution_enabled()
            with _backend.matmul_precision("float32"):  # a snapshot inside a tf32 run
                assert not tf.config.experimental.tensor_float_32_execution_enabled()
            assert tf.config.experimental.tensor_float_32_execution_enabled()
        assert tf.config.experimental.tensor_float_32_execution_enabled() == before


def test_a_minibatch_run_stops_at_the_end_of_the_first_epoch_below_its_stop_loss():
    x, y = classification_problem()
    spectra = callbacks.Snapshots([0])
    run = training.fit_with_spectra(
        models.mlp(6, 2, 16, activation="tanh", output_dim=3, seed=0), x, y, loss="mse",
        learning_rate=1e-2, batch_size=32, max_epochs=200, stop_loss=0.15, spectra=spectra,
        seed=0,
    )  # fmt: skip
    assert run["stopped"] and run["epochs"] < 200
    assert run["loss"][-1] < 0.15 <= run["loss"][:-1].min()
    assert sorted(run["weights"]) == [0, run["epochs"]]  # the end is recorded
