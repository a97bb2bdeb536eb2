import dataclasses

import numpy as np
import pytest

import dfp
from dfp import claims, grids
from dfp.claims import Check


def test_strictly_ordered_values_hold():
    holds, reason = claims.ordering([1.0, 2.0, 4.0], tie=0.5)
    assert holds and reason == "increasing"


def test_ties_neither_break_nor_make_the_ordering():
    holds, reason = claims.ordering([1.0, 1.2, 3.0], tie=0.5)
    assert holds and "1 tie" in reason
    # Only ties: first and last too close.
    holds, reason = claims.ordering([1.0, 1.3, 1.4], tie=0.5)
    assert not holds and "differ by no more than the tie" in reason


def test_a_step_the_wrong_way_breaks_it_and_names_where():
    holds, reason = claims.ordering(
        [5.0, 3.0, 4.0, 1.0], tie=0.5, increasing=False, labels=["l1", "l2", "l3", "l4"]
    )
    assert not holds and "from l2 to l3" in reason


def test_decreasing():
    assert claims.ordering([3.0, 2.0, 1.0], tie=0.1, increasing=False)[0]
    assert not claims.ordering([3.0, 2.0, 1.0], tie=0.1, increasing=True)[0]


@pytest.mark.parametrize(
    "values, tie, message",
    [([1.0], 0.1, "at least two"), ([1.0, np.nan], 0.1, "NaN"), ([1.0, 2.0], -1.0, "tie")],
)
def test_ordering_bad_input(values, tie, message):
    with pytest.raises(ValueError, match=message):
        claims.ordering(values, tie=tie)


def test_a_check_holds_a_bool_and_non_empty_texts():
    check = Check(holds=np.bool_(True), statistic="peaks 1 < 2", summary="peak 1 → 2")
    assert check.holds is True and check.parts is None and check.evidence is None
    assert check.values == {}
    with pytest.raises(ValueError, match="must be a bool"):
        Check(holds=1, statistic="x", summary="y")
    with pytest.raises(ValueError, match="statistic must be a non-empty"):
        Check(holds=True, statistic="", summary="y")
    with pytest.raises(ValueError, match="summary must be a non-empty"):
        Check(holds=True, statistic="x", summary="")
    with pytest.raises(ValueError, match="contradicts"):
        Check(holds=True, statistic="x", summary="y", parts={1: True, 2: False})
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.holds = False


def test_decided_by_takes_one_setting_s_verdict_and_every_statistic():
    adam = Check(holds=True, statistic="a", summary="adam numbers", parts={1: True, 2: True})
    sgd = Check(holds=False, statistic="b", summary="sgd numbers", parts={1: False, 2: False})
    check = claims.decided_by({"adam": adam, "sgd": sgd}, "adam")
    assert check.holds and check.parts == {1: True, 2: True}
    assert check.summary == "adam numbers" and check.statistic == "adam: a; sgd: b"
    check = claims.decided_by({"adam": adam, "sgd": sgd}, "sgd")
    assert not check.holds and check.summary == "sgd numbers"
    with pytest.raises(ValueError, match="not one of the settings"):
        claims.decided_by({"adam": adam}, "sgd")


@pytest.mark.parametrize(
    "holds, parts, phrase",
    [
        (True, None, "reproduces"),
        (False, None, "does not reproduce"),
        (True, {1: True, 2: True, 3: True}, "reproduces"),
        (False, {1: False, 2: False, 3: False}, "does not reproduce"),
        (False, {1: False, 2: True, 3: True}, "reproduces in part: (2) and (3) of three"),
        (False, {1: True, 2: False}, "reproduces in part: (1) of two"),
        (
            False,
            {1: True, 2: True, 3: False, 4: True},
            "reproduces in part: (1), (2) and (4) of four",
        ),
    ],
)
def test_verdict_in_words(holds, parts, phrase):
    assert claims.verdict(holds, parts)[0] == phrase


def test_verdict_rejects_a_bool_that_contradicts_its_parts():
    with pytest.raises(ValueError, match="contradicts"):
        claims.verdict(True, {1: True, 2: False})
    with pytest.raises(ValueError, match="contradicts"):
        claims.verdict(False, {1: True, 2: True})


def test_span_gives_the_first_and_last_value():
    assert claims.span("median epochs", ["1 layers", "6 layers"], [38000, 640]) == (
        "median epochs, 1 layers → 6 layers: 3.8e+04 → 640"
    )
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        claims.span("x", "abc", [1, 2])
    assert claims.span("", ["L=20", "L=80"], [0.01, None], missing="diverged") == (
        "L=20 → L=80: 0.01 → diverged"
    )


def test_longest_ordered_prefix_says_which_part_holds():
    assert claims.longest_ordered_prefix([9.0, 5.0, 3.0, 3.5, 2.0], tie=0, increasing=False) == 3
    assert claims.longest_ordered_prefix([1.0, 2.0, 3.0], tie=0) == 3
    assert claims.longest_ordered_prefix([3.0, 2.0], tie=0) == 1


def test_ordered_on_grid_uses_the_local_grid_step_as_the_tie():
    grid = np.concatenate([np.linspace(0.1, 1.0, 10), np.linspace(2.0, 10.0, 9)])
    # 0.35 and 0.42 are closer than the local step 0.1: a tie; 3.0 vs 3.5 too (step 1).
    assert claims.ordered_on_grid(grid, [0.35, 0.42, 3.0], increasing=True, labels="abc")[0]
    holds, reason = claims.ordered_on_grid(grid, [3.0, 3.5], increasing=True, labels="ab")
    assert not holds and "tie 1" in reason
    holds, reason = claims.ordered_on_grid(grid, [0.3, np.nan], increasing=True, labels="ab")
    assert not holds and "undecided" in reason and "b" in reason


def test_curve_positions_and_grid_step():
    grid = np.array([1.0, 2.0, 4.0, 8.0])
    positions = claims.curve_positions(
        grid, {"a": [0.0, 0.2, 0.8, 1.0], "b": [0.6, 0.7, 0.8, 0.9]}, {"a": 0.0, "b": 0.0}
    )
    assert positions["a"] == (3.0, pytest.approx(2 + 2 * (0.5 - 0.2) / 0.6))
    assert np.isnan(positions["b"][1])  # already past half-way at the first point
    assert (
        grids.grid_step_at(grid, 5.0) == 4.0
        and grids.grid_step_at(grid, 0.5) == 1.0
        and grids.grid_step_at(grid, 9.0) == 4.0
    )


def test_faster_toward_low_frequency_compares_moves_in_decades():
    grid = np.geomspace(0.01, 1.0, 101)  # a step of 0.02 decades
    holds, reason, moves = claims.faster_toward_low_frequency(
        grid, [0.2, 0.2, 0.2], [0.2, 0.1, 0.05], labels="abc"
    )
    assert holds and moves == pytest.approx([0.0, np.log10(2), np.log10(4)])
    holds, reason, _ = claims.faster_toward_low_frequency(grid, [0.2, 0.2], [0.1, 0.2], labels="ab")
    assert not holds


def test_median_and_description_of_epochs_count_a_capped_run_as_the_cap():
    assert claims.median_epochs([10, None, 30], cap=100) == 30
    assert claims.describe_epochs("d", [10, None, 30], 100) == "d: median 30 (10, >=100, 30)"
    # Half the runs or more capped: the median is a lower bound.
    assert (
        claims.describe_epochs("d", [None, None, 30], 100) == "d: median >=100 (>=100, >=100, 30)"
    )
    with pytest.raises(ValueError, match="no runs"):
        claims.median_epochs([], cap=100)


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


# --- one rule per claim, each with a passing and a failing case --------------------------


def logistic_curve(grid, halfway, floor=0.1):
    """An LFR-like curve rising from ``floor`` to 1, half-way at ``halfway``."""
    rise = 1 / (1 + (halfway / grid) ** 4)
    return floor + (1 - floor) * rise


GRID = np.geomspace(1e-2, 1e4, 121)


def curves_at(halfways, floor=0.1):
    return [logistic_curve(GRID, h, floor) for h in halfways], [floor] * len(halfways)


def test_grid_tie_is_one_grid_step_where_the_values_lie():
    uniform = np.linspace(1.0, 10.0, 10)
    assert claims.grid_tie(uniform, [2.5, 7.5]) == pytest.approx(1.0)
    assert claims.grid_tie(GRID, [1.0, 100.0]) == pytest.approx(grids.grid_step_at(GRID, 100.0))


def test_same_on_grid_holds_within_one_step_only():
    grid = np.linspace(1.0, 10.0, 10)
    assert claims.same_on_grid(grid, [3.2, 3.9, 4.1])[0]
    holds, reason = claims.same_on_grid(grid, [3.2, 4.5])
    assert not holds and "spread 1.3" in reason
    assert not claims.same_on_grid(grid, [3.2, np.nan])[0]


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


def test_epochs_to_counts_from_one():
    assert claims.epochs_to([0.1, 0.4, 0.6, 0.7], 0.5) == 3
    assert claims.epochs_to([0.1, 0.4], 0.5) is None


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
