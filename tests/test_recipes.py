import numpy as np

from dfp import recipes


def test_a_diverging_fig9_network_is_recorded_with_its_epoch_and_the_losses_before_it():
    # SGD at 1e3 on a 4-layer residual network: finite losses for 3 epochs, NaN or inf at 4.
    run = recipes.train_deep_network(
        depth=4,
        residual="plain",
        optimizer="sgd",
        learning_rates={"sgd": 1e3},
        width=16,
        train_size=300,
        analysis_size=200,
        snapshot_epoch=6,
        inv_delta_range=[1e-3, 1e4],
        grid_points=30,
        seed=0,
    )
    assert run["diverged_epoch"] == 4
    assert run["epochs"] == len(run["loss"]) == 3 and np.all(np.isfinite(run["loss"]))
    assert sorted(run["curves"]) == [0]  # the snapshot at epoch 6 was never reached
    # A rate it trains at: no divergence, and the snapshot is there.
    trained = recipes.train_deep_network(
        depth=4,
        residual="plain",
        optimizer="sgd",
        learning_rates={"sgd": 0.1},
        width=16,
        train_size=300,
        analysis_size=200,
        snapshot_epoch=2,
        inv_delta_range=[1e-3, 1e4],
        grid_points=30,
        seed=0,
    )
    assert trained["diverged_epoch"] is None and sorted(trained["curves"]) == [0, 2]
