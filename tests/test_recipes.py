import keras
import numpy as np
import pytest

from dfp import models, recipes, training

TINY = dict(
    depth=4,
    residual="unscaled",
    width=16,
    train_size=300,
    analysis_size=200,
    inv_delta_range=[1e-3, 1e4],
    grid_points=30,
    seed=0,
)


def test_a_diverging_fig9_network_is_recorded_with_its_epoch_and_the_losses_before_it():
    # SGD at 1e3 on a 4-layer unscaled residual network: NaN, inf or a thousandfold the
    # initial loss in its first epoch.
    run = recipes.train_deep_network(**TINY, optimizer="sgd", learning_rate=1e3, snapshot_epoch=6)
    assert run["diverged_epoch"] == 1 and run["epochs"] == len(run["loss"]) == 0
    assert sorted(run["curves"]) == [0]  # the snapshot at epoch 6 was never reached
    # SGD at 3, above this network's stability bound at initialisation (about 1.8): two
    # finite epochs, then a finite loss above DIVERGENCE_FACTOR times the epoch-0 loss.
    bound = recipes.deep_network_stability_bound(
        depth=4, residual="unscaled", width=16, train_size=300, seed=0
    )
    assert bound < 3.0
    run = recipes.train_deep_network(**TINY, optimizer="sgd", learning_rate=3.0, snapshot_epoch=6)
    assert run["diverged_epoch"] == 3 and run["epochs"] == len(run["loss"]) == 2
    assert np.isfinite(run["diverged_loss"])
    assert run["diverged_loss"] > training.DIVERGENCE_FACTOR * run["initial_loss"]
    assert np.all(run["loss"] <= training.DIVERGENCE_FACTOR * run["initial_loss"])
    assert sorted(run["curves"]) == [0]
    # A rate below the bound: it trains, no divergence, and the snapshot is there.
    trained = recipes.train_deep_network(
        **TINY, optimizer="sgd", learning_rate=0.1, snapshot_epoch=2
    )
    assert trained["diverged_epoch"] is None and trained["diverged_loss"] is None
    assert sorted(trained["curves"]) == [0, 2]


def test_the_unscaled_residual_form_is_no_longer_called_plain():
    with pytest.raises(ValueError, match="now called 'unscaled'"):
        recipes.deep_network(4, "plain", 16, 0)


def test_the_sgd_stability_bound_is_2_over_the_largest_eigenvalue_of_the_full_hessian():
    # The independent reference: the Hessian of the loss (the mean over points and outputs)
    # in every weight, by central second differences of a float64 network, its largest
    # eigenvalue by numpy; the bound must be 2 over it.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 2)), rng.normal(size=(20, 2))
    policy = keras.config.dtype_policy()  # a global policy overrides floatx: set both
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        model = models.mlp(2, 1, 3, output_dim=2, residual=None, seed=0)
        shapes = [w.shape for w in model.get_weights()]
        theta = np.concatenate([w.ravel() for w in model.get_weights()])
        cuts = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]

        def loss(t):
            model.set_weights([w.reshape(s) for w, s in zip(np.split(t, cuts), shapes)])
            return float(np.mean((np.asarray(model(x)) - y) ** 2))

        step = np.eye(len(theta)) * 1e-4
        hessian = np.array(
            [
                [
                    loss(theta + a + b)
                    - loss(theta + a - b)
                    - loss(theta - a + b)
                    + loss(theta - a - b)
                    for b in step
                ]
                for a in step
            ]
        ) / (4e-8)
        loss(theta)  # the weights back
        largest = np.linalg.eigvalsh((hessian + hessian.T) / 2)[-1]
        bound = recipes.sgd_stability_bound(model, x, y, iterations=100)
    finally:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy(policy)
    assert all(v.dtype == "float64" for v in model.trainable_variables)
    assert bound == pytest.approx(2 / largest, rel=1e-4)
    with pytest.raises(ValueError, match="outputs"):
        recipes.sgd_stability_bound(model, x, y[:, :1])


INITIAL = dict(
    variant=4,
    width=4,
    dense_units=16,
    analysis_size=60,
    inv_delta_range=[1e-2, 1e6],
    grid_points=25,
    seed=0,
)


def test_the_initial_spectra_are_the_networks_at_epoch_0_for_each_head():
    from dfp.data import cifar10
    from dfp.spectral import lfr, lfr_floor

    pooled = recipes.resnet_initial_spectra(head="pool", **INITIAL)
    again = recipes.resnet_initial_spectra(head="pool", **INITIAL)
    flat = recipes.resnet_initial_spectra(head="flatten", **INITIAL)
    for targets in ("labels", "output"):
        assert pooled[targets]["curve"].shape == (INITIAL["grid_points"],)
        np.testing.assert_array_equal(pooled[targets]["curve"], again[targets]["curve"])
        assert not np.allclose(pooled[targets]["curve"], flat[targets]["curve"])
    # The same network built by hand, on the same images, gives the same curve of S[-3].
    (x, y), _ = cifar10(40000, 10000, seed=0)
    x, y = (a[np.random.default_rng(0).permutation(len(x))[:60]] for a in (x, y))
    keras.utils.set_random_seed(0)
    model = models.resnet18_variant(4, width=4, dense_units=16, head="pool", seed=0)
    features, _ = models.effective_target(model, x, y, -3)
    np.testing.assert_allclose(
        pooled["labels"]["curve"], lfr(features, y, pooled["inv_delta"]), rtol=1e-6
    )
    assert pooled["labels"]["floor"] == pytest.approx(lfr_floor(y))


def test_the_precision_control_trains_the_control_variant_in_float32_at_two_seeds():
    from dfp.parameters import SHARED, notebook_parameters

    params = notebook_parameters("fig5")
    assert set(SHARED["resnet18"]["parameters"]) <= set(params)
    params.update(precision="bf16", control=4, seed=3)
    runs = recipes.resnet18_configs(params)
    control = recipes.resnet18_control_configs(params)
    assert control["other"] == runs[4]  # the variant's own run: loaded, not trained again
    assert "control" not in runs[4] and "variants" not in runs[4]
    assert control["float32"] == dict(runs[4], precision="float32")
    assert control["float32, next seed"] == dict(runs[4], precision="float32", seed=4)
    assert recipes.resnet18_control_configs(dict(params, control=0)) == {}
    assert recipes.resnet18_control_configs(dict(params, precision="float32")) == {}
