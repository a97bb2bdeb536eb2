"""Each claim's check (dfp.claims) on synthetic curves and timings whose answer is known."""

import numpy as np
import pytest

import dfp
from dfp import claims


def test_faster_toward_low_frequency_compares_moves_in_decades():
    grid = np.geomspace(0.01, 1.0, 101)  # a step of 0.02 decades
    holds, reason, moves = claims.faster_toward_low_frequency(
        grid, [0.2, 0.2, 0.2], [0.2, 0.1, 0.05], labels="abc"
    )
    assert holds and moves == pytest.approx([0.0, np.log10(2), np.log10(4)])
    holds, reason, _ = claims.faster_toward_low_frequency(grid, [0.2, 0.2], [0.1, 0.2], labels="ab")
    assert not holds


def test_fewer_epochs_check_reports_every_seed_and_how_far_it_holds():
    runs = [[30, 40, None], [9, 12, 10], [8, 7, 11], [9, 9, 9]]
    check = claims.fewer_epochs_check(
        runs, 50, increasing=False, labels=["1", "2", "3", "4"], xlabel="hidden layers"
    )
    # Medians 40, 10, 8, 9: falls from 1 to 3, then rises.
    assert not check.holds and check.parts is None
    assert check.statistic.startswith("1: median 40 (30, 40, >=50); 2: median 10 (9, 12, 10)")
    assert check.statistic.endswith("medians decrease from 1 to 3)")
    assert check.values["medians"] == [40.0, 10.0, 8.0, 9.0]
    assert check.summary == "median epochs, 1 → 4: 40 → 9"
    assert check.evidence == dict(
        xlabel="hidden layers",
        labels=["1", "2", "3", "4"],
        series={"median epochs": [40.0, 10.0, 8.0, 9.0]},
        ylabel="epochs to the error",
        log=True,
    )
    check = claims.fewer_epochs_check(
        runs[:3], 50, increasing=False, labels=["a", "b", "c"], xlabel="k", ticks=[1, 2, 3]
    )
    assert check.holds and "from a to c" in check.statistic
    assert check.evidence["labels"] == [1, 2, 3] and check.evidence["xlabel"] == "k"
    check = claims.fewer_epochs_check(
        runs[:3], 50, increasing=True, labels=["a", "b", "c"], xlabel="k"
    )
    assert not check.holds


def logistic_curve(grid, halfway, floor=0.1):
    """An LFR-like curve rising from ``floor`` to 1, half-way at ``halfway``."""
    rise = 1 / (1 + (halfway / grid) ** 4)
    return floor + (1 - floor) * rise


GRID = np.geomspace(1e-2, 1e4, 121)


def curves_at(halfways, floor=0.1):
    return [logistic_curve(GRID, h, floor) for h in halfways], [floor] * len(halfways)


def test_rdf_peaks_check_c3():
    grid = np.linspace(1.0, 400.0, 400)
    x = np.linspace(-1, 1, 400)
    rising = [dfp.lfr(x, np.sin(k * np.pi * x), grid) for k in (2, 4)]
    floors = [0.0, 0.0]
    check = claims.rdf_peaks_check(grid, rising, floors, labels=[2, 4])
    peaks, halfway = check.values["peaks"], check.values["halfway"]
    assert check.holds and peaks[0] < peaks[1] and "RDF peak 1/δ by k: 2:" in check.statistic
    assert check.summary == f"RDF peak 1/δ, k=2 → k=4: {peaks[0]:.3g} → {peaks[1]:.3g}"
    assert check.evidence["labels"] == [2, 4]
    assert check.evidence["series"] == {"RDF peak": peaks, "half-way": halfway}
    assert not claims.rdf_peaks_check(grid, rising[::-1], floors, labels=[4, 2]).holds


def test_accuracy_check_c4():
    labels = ["Resnet18-4", "Resnet18-1"]
    shallow, deep = [0.2, 0.4, 0.6], [0.4, 0.6, 0.8]
    check = claims.accuracy_check(
        [shallow, deep],
        [[0.3, 0.4, 0.45], [0.3, 0.5, 0.55]],
        threshold=0.5,
        labels=labels,
        ticks=[4, 1],
    )
    assert check.holds and check.parts == {1: True, 2: True}
    assert check.values == {"reached": [3, 2], "validation": [0.45, 0.55]}
    assert check.summary == (
        "epochs to 0.5: 3 → 2; validation accuracy, Resnet18-4 → Resnet18-1: 0.45 → 0.55"
    )
    assert check.evidence == dict(
        xlabel="variant, shallow to deep",
        labels=[4, 1],
        ylabel="final accuracy",
        series={"training": [0.6, 0.8], "validation": [0.45, 0.55]},
    )
    # Deeper slower: (1) fails; deeper validates worse: (2) fails.
    check = claims.accuracy_check(
        [deep, shallow], [[0.3, 0.5, 0.55], [0.3, 0.4, 0.45]], threshold=0.5, labels=labels
    )
    assert not check.holds and check.parts == {1: False, 2: False}
    # A variant that never gets there counts as one epoch more than were trained.
    check = claims.accuracy_check(
        [[0.1, 0.2, 0.3], deep], [[0.3, 0.4, 0.45], [0.3, 0.5, 0.55]], threshold=0.5, labels=labels
    )
    assert check.parts[1] and check.values["reached"] == [None, 2] and ">3" in check.statistic
    assert check.summary.startswith("epochs to 0.5: >3 → 2; ")


def test_very_deep_speed_check_c8():
    depths = [20, 60, 80]
    check = claims.very_deep_speed_check(
        [0.01, 0.05, 0.09], [0.010, 0.011, 0.012], depths=depths, epoch=267
    )
    assert check.holds and check.parts == {1: True, 2: True} and "1.25x" in check.statistic
    assert check.values == {"plain": [0.01, 0.05, 0.09], "residual": [0.010, 0.011, 0.012]}
    assert (
        check.summary == "loss: plain L=20 → L=80: 0.01 → 0.09; residual L=20 → L=80: 0.01 → 0.012"
    )
    assert list(check.evidence["series"]) == ["plain", "residual"]
    # Plain deeper networks as fast as the shallow one; residual ones apart by 2x.
    check = claims.very_deep_speed_check(
        [0.01, 0.011, 0.009], [0.01, 0.02, 0.012], depths=depths, epoch=267
    )
    assert not check.holds and check.parts == {1: False, 2: False}
    with pytest.raises(ValueError, match="NaN"):
        claims.very_deep_speed_check([0.01, np.nan, 0.1], [0.1, 0.1, 0.1], depths=depths, epoch=1)
    # A diverged network (None) never counts for the claim: its part fails, and says why.
    check = claims.very_deep_speed_check(
        [0.01, 0.05, 0.09],
        [None, 0.011, None],
        depths=depths,
        epoch=267,
        optimizer="adam",
        residual_form="scaled",
    )
    assert not check.holds and check.parts == {1: True, 2: False}
    assert "not evaluated: L=20, L=80 diverged" in check.statistic
    assert "diverged, 0.011" in check.statistic
    # The summary names the optimiser and says "diverged"; the panel leaves a gap.
    assert check.summary.startswith("adam, loss: plain ")
    assert check.summary.endswith("; residual L=20 → L=80: diverged → diverged")
    assert check.evidence["xlabel"] == "layers L" and check.evidence["labels"] == depths
    residual = check.evidence["series"]["residual (scaled)"]
    assert np.isnan(residual[0]) and residual[1] == 0.011 and np.isnan(residual[2])
    with pytest.raises(ValueError, match="2 plain values"):
        claims.very_deep_speed_check([0.01, 0.05], [0.1, 0.1, 0.1], depths=depths, epoch=1)


def test_very_deep_frequency_check_c9():
    depths = [20, 60, 80]
    check = claims.very_deep_frequency_check(
        GRID, [1.0, 10.0, 100.0], [5.0, 5.05, 5.1], depths=depths, epoch=267, optimizer="sgd"
    )
    assert check.holds and check.parts == {1: True, 2: True}
    assert check.summary == (
        "sgd, half-way 1/δ: plain L=20 → L=80: 1 → 100; residual L=20 → L=80: 5 → 5.1"
    )
    assert check.evidence["ylabel"] == "half-way 1/δ" and check.evidence["log"]
    check = claims.very_deep_frequency_check(
        GRID, [100.0, 10.0, 1.0], [5.0, 50.0, 5.0], depths=depths, epoch=267
    )
    assert not check.holds and check.parts == {1: False, 2: False}
    check = claims.very_deep_frequency_check(
        GRID, [1.0, 10.0, 100.0], [5.0, None, 5.1], depths=depths, epoch=267
    )
    assert not check.holds and check.parts == {1: True, 2: False}
    assert "not evaluated: L=60 diverged" in check.statistic
    assert check.values["residual"] == [5.0, None, 5.1]
    # A half-way point the grid does not bracket is undecided, not "diverged".
    check = claims.very_deep_frequency_check(
        GRID, [1.0, np.nan, 100.0], [5.0, 5.05, 5.1], depths=depths, epoch=267
    )
    assert check.parts[1] is False and "undecided" in check.statistic
    assert "diverged" not in check.statistic


def test_parity_check():
    layers = [1, 2, 3]
    curves, floors = curves_at([100.0, 10.0, 1.0])
    check = claims.parity_check(
        GRID, dict(zip(layers, curves)), dict(zip(layers, floors)), layers=layers, epoch=50
    )
    halfway = check.values["halfway"]
    assert check.holds and halfway[0] > halfway[1] > halfway[2]
    assert check.summary == (
        f"half-way 1/δ at epoch 50: layer 1 → layer 3: {halfway[0]:.3g} → {halfway[2]:.3g}"
    )
    assert check.evidence["labels"] == layers and check.evidence["series"] == {"epoch 50": halfway}
    curves, floors = curves_at([100.0, 10.0, 50.0])
    check = claims.parity_check(
        GRID, dict(zip(layers, curves)), dict(zip(layers, floors)), layers=layers, epoch=50
    )
    assert not check.holds and "decreasing over layers 1-2 only" in check.statistic


def test_deep_frequency_check_parts_c5_c6_c7():
    labels = ["shallow", "middle", "deep"]
    # At the start deeper sits higher; deeper moves more; at the end deeper sits lower.
    start, end = curves_at([10.0, 30.0, 100.0]), curves_at([5.0, 3.0, 1.0])
    check = claims.deep_frequency_check(
        GRID, start, end, labels=labels, epochs=(0, 9), xlabel="layer", ticks=[1, 2, 3]
    )
    assert check.holds and check.parts == {1: True, 2: True, 3: True}
    # The summary gives the shallowest and the deepest at both epochs.
    first, last = check.values["halfway"]
    assert check.summary == (
        f"half-way 1/δ at epoch 0: shallow → deep: {first[0]:.3g} → {first[-1]:.3g}; "
        f"at epoch 9: shallow → deep: {last[0]:.3g} → {last[-1]:.3g}"
    )
    assert check.evidence == dict(
        xlabel="layer",
        labels=[1, 2, 3],
        ylabel="half-way 1/δ",
        log=True,
        series={"epoch 0": first, "epoch 9": last},
    )
    assert len(check.values["peaks"][0]) == 3 and len(check.values["moves"]) == 3
    check = claims.deep_frequency_check(
        GRID, end, start, labels=labels, epochs=(0, 9), xlabel="layer"
    )
    assert not check.holds and check.parts == {1: False, 2: False, 3: False}
    assert check.evidence["labels"] == labels


def test_resnet_deep_frequency_check_orders_variants_shallow_to_deep():
    def run(start, end):
        curves, floors = zip(curves_at([start]), curves_at([end]))
        spectra = {"curves": {0: curves[0][0], 12: curves[1][0]}, "floors": {0: 0.1, 12: 0.1}}
        return {"inv_delta": GRID, "labels": spectra, "output": spectra}

    # Resnet18-4 is the shallowest: it starts lowest and moves least.
    runs = {1: run(100.0, 1.0), 2: run(30.0, 3.0), 4: run(10.0, 5.0)}
    check = claims.resnet_deep_frequency_check(runs, targets="labels")
    assert check.holds and check.values["order"] == [4, 2, 1]
    assert check.values["epochs"] == (0, 12) and "floors at epoch 12" in check.statistic
    assert check.summary.startswith("half-way 1/δ at epoch 0: Resnet18-4 → Resnet18-1: ")
    assert check.evidence["labels"] == [4, 2, 1]
    assert check.evidence["xlabel"] == "variant, shallow to deep"
    runs = {1: run(10.0, 5.0), 2: run(30.0, 3.0), 4: run(100.0, 1.0)}
    assert not claims.resnet_deep_frequency_check(runs, targets="output").holds
    with pytest.raises(ValueError, match="targets"):
        claims.resnet_deep_frequency_check(runs, targets="inputs")


def _resnet_run(shift, precision):
    """A made-up Resnet18 result whose RDFs sit ``shift`` (in 1/δ) to the right."""
    grid = np.linspace(1.0, 10.0, 10)
    curve = lambda centre: 0.1 + 0.9 / (1 + np.exp(-(grid - centre) * 3))  # noqa: E731
    spectra = {
        "curves": {0: curve(6.0 + shift), 5: curve(4.0 + shift)},
        "floors": {0: 0.1, 5: 0.1},
    }
    return {
        "inv_delta": grid,
        "labels": spectra,
        "output": spectra,
        "accuracy": np.array([0.3, 0.6]),
        "val_accuracy": np.array([0.3, 0.5 + shift / 10]),
        "precision": precision,
    }


def test_the_precision_control_agrees_within_a_grid_step_and_not_beyond():
    close = claims.precision_control(_resnet_run(0.0, "float32"), _resnet_run(0.4, "bf16"))
    assert close["agrees"] and 0.3 < close["steps"] < 0.5
    assert close["precisions"] == ("float32", "bf16")
    assert set(close["halfway"]["labels"]) == {0, 5}
    far = claims.precision_control(_resnet_run(0.0, "float32"), _resnet_run(1.5, "bf16"))
    assert not far["agrees"] and far["steps"] > 1.0
    other = _resnet_run(0.0, "bf16")
    other["inv_delta"] = other["inv_delta"] * 2
    with pytest.raises(ValueError, match="different grids"):
        claims.precision_control(_resnet_run(0.0, "float32"), other)
