"""Each claim's check (dfp.claims) on synthetic data whose answer is known.

LFR curves are logistic on a geometric grid, lfr = floor + (1 - floor) / (1 + (h / 1/δ)^s),
so their half-way point is h; their subsample draws scatter around h with a known spread on a
log scale. Every check is shown to hold on a clear effect in the claim's direction, to fail on
a clear effect against it, to be "not resolved" on a null effect with wide intervals, and to
fail on values the same within the smallest effect with tight intervals; reversing the order
of its inputs flips it.
"""

import json
import math

import numpy as np
import pytest

from dfp import claims, verdicts

GRID = np.geomspace(1e-2, 1e4, 601)  # one hundred points a decade
FLOOR = 0.1
REPEATS = 20
# Spreads of the subsample draws on a log scale: intervals that resolve a factor of two
# (TIGHT), intervals wider than every effect (WIDE), and intervals tight enough to call a
# factor of 1.02 the same where sameness is asked (SAME, well inside the smallest ratio of
# 1.1; an order of equal values with it is resolved the same, one of 1.02 steps is resolved).
TIGHT, WIDE, SAME = 0.02, 1.0, 0.003
DEPTHS = [20, 60, 80]


def lfr_curve(halfway, floor=FLOOR, steepness=4.0):
    """A logistic LFR curve on GRID rising from ``floor`` to 1, half-way at ``halfway``."""
    return floor + (1 - floor) / (1 + (halfway / GRID) ** steepness)


def draws_around(position, spread, seed):
    """``REPEATS`` subsample positions around ``position``, log-normal with sd ``spread``."""
    rng = np.random.default_rng(seed)
    return position * np.exp(rng.normal(0.0, spread, REPEATS))


def test_the_synthetic_curves_are_half_way_where_they_are_built():
    position = verdicts.position(GRID, lfr_curve(7.0), FLOOR)
    assert position.value == pytest.approx(7.0, rel=1e-3)


# --- C1, C2: epochs over seeds ---------------------------------------------------------------

FASTER = [[40, 45, 50], [20, 22, 25], [10, 11, 12]]  # each setting's seeds all below the last's


def fewer_epochs(runs, increasing=False, cap=100, **kwargs):
    labels = [str(i + 1) for i in range(len(runs))]
    return claims.fewer_epochs_check(
        runs, cap, increasing=increasing, labels=labels, xlabel="hidden layers", **kwargs
    )


@pytest.mark.parametrize(
    "runs, outcome",
    [
        (FASTER, "holds"),
        (FASTER[::-1], "fails"),
        ([[10, 40, 90], [15, 35, 80], [12, 50, 70]], "not resolved"),
        ([[100, 101, 102], [100, 102, 103], [101, 102, 104]], "fails"),  # the same
    ],
    ids=["clear-effect", "against", "null-wide", "same"],
)
def test_fewer_epochs_check_decides_each_step_against_the_seeds(runs, outcome):
    check = fewer_epochs(runs)
    assert check.outcome == outcome and check.parts is None


def test_fewer_epochs_check_statistic_names_every_seed_and_step():
    check = fewer_epochs([[40, 45, None], *FASTER[1:]], cap=60)
    assert check.statistic.startswith("epochs to the error by seed (1: 40, 45, >=60; 2: 20")
    assert "1 → 2: lower (×" in check.statistic and "2 → 3: lower (×" in check.statistic
    assert check.values["medians"] == [45.0, 22.0, 11.0]
    assert check.summary.startswith("median epochs, 1 → 3: 45 → 11 (×0.2")
    assert check.effects[0]["label"] == "1 → 3, epochs" and check.effects[0]["outcome"] == "holds"


def test_fewer_epochs_check_in_the_other_direction_fails():
    assert fewer_epochs(FASTER, increasing=False).outcome == "holds"
    assert fewer_epochs(FASTER, increasing=True).outcome == "fails"


def test_fewer_epochs_check_counts_a_capped_run_as_the_cap():
    # Capped at 30, the first setting's seeds are 30, 30, 30: above the second's 20-25.
    assert fewer_epochs([[None, None, None], [20, 22, 25]], cap=30).outcome == "holds"
    # Capped at 21, they are no slower than the second's: the step is not resolved.
    assert fewer_epochs([[None, None, None], [20, 22, 25]], cap=21).outcome == "not resolved"


# --- C3: RDF peaks by frequency --------------------------------------------------------------


def rdf_peaks(positions, spread, seed=0):
    curves = [lfr_curve(p) for p in positions]
    draws = {
        "peak": [draws_around(p, spread, seed + i) for i, p in enumerate(positions)],
        "halfway": [draws_around(p, spread, seed + 10 + i) for i, p in enumerate(positions)],
    }
    labels = [2 * (i + 1) for i in range(len(positions))]
    return claims.rdf_peaks_check(GRID, curves, [FLOOR] * len(curves), labels=labels, draws=draws)


@pytest.mark.parametrize(
    "positions, spread, outcome",
    [
        ([1.0, 10.0, 100.0], TIGHT, "holds"),
        ([100.0, 10.0, 1.0], TIGHT, "fails"),
        ([10.0, 10.5, 11.0], WIDE, "not resolved"),
        ([10.0, 10.0, 10.0], SAME, "fails"),
    ],
    ids=["clear-effect", "against", "null-wide", "same"],
)
def test_rdf_peaks_check_decides_each_step_against_the_subsamples(positions, spread, outcome):
    assert rdf_peaks(positions, spread).outcome == outcome


def test_rdf_peaks_check_statistic_names_every_step_and_both_positions():
    check = rdf_peaks([1.0, 10.0, 100.0], TIGHT)
    assert check.statistic.startswith("RDF peak 1/δ by k: 2: ")
    assert "k=2 → k=4: higher (×" in check.statistic and "k=4 → k=6: higher (×" in check.statistic
    assert "half-way 1/δ: " in check.statistic
    assert check.values["halfway"] == pytest.approx([1.0, 10.0, 100.0], rel=1e-3)
    peaks = check.values["peaks"]
    assert peaks[0] < peaks[1] < peaks[2]
    assert check.summary.startswith(f"RDF peak 1/δ, k=2 → k=6: {peaks[0]:.3g} [")
    assert list(check.evidence["series"]) == ["RDF peak", "half-way"]


def test_rdf_peaks_check_with_the_curves_reversed_fails():
    curves = [lfr_curve(p) for p in (1.0, 10.0)]
    assert claims.rdf_peaks_check(GRID, curves, [FLOOR] * 2, labels=[2, 4]).outcome == "holds"
    reversed_ = claims.rdf_peaks_check(GRID, curves[::-1], [FLOOR] * 2, labels=[2, 4])
    assert reversed_.outcome == "fails"


# --- C5, C6, C7: the deep frequency principle ------------------------------------------------

LAYERS = ["layer 1", "layer 2", "layer 3"]
# Shallow to deep: at the start deeper sits higher; by the middle deeper has moved further
# toward low frequency (by 0.1, 0.48 and 1 decades); at the end deeper sits lower.
FIRST, MIDDLE, LAST = [10.0, 30.0, 100.0], [8.0, 10.0, 10.0], [5.0, 3.0, 1.0]


def deep_frequency(first, middle, last, spread=TIGHT, epochs=(0, 50, 100), with_draws=None):
    """``deep_frequency_check`` on curves half-way at the given points at each snapshot."""
    positions = [first, middle, last]
    with_draws = range(len(epochs)) if with_draws is None else with_draws
    return claims.deep_frequency_check(
        GRID,
        list(epochs),
        [[lfr_curve(h) for h in hs] for hs in positions],
        [[FLOOR] * len(hs) for hs in positions],
        [
            [draws_around(h, spread, 10 * i + j) for j, h in enumerate(hs)]
            if i in with_draws
            else None
            for i, hs in enumerate(positions)
        ],
        labels=LAYERS,
        xlabel="hidden layer",
    )


@pytest.mark.parametrize(
    "first, middle, last, spread, parts",
    [
        (FIRST, MIDDLE, LAST, TIGHT, ("holds", "holds", "holds")),
        (FIRST[::-1], MIDDLE[::-1], LAST[::-1], TIGHT, ("fails", "fails", "fails")),
        (
            [10.0, 11.0, 12.0],
            [9.0, 9.5, 10.0],
            [8.0, 7.5, 7.0],
            WIDE,
            ("not resolved",) * 3,
        ),
        (
            [10.0, 10.0, 10.0],
            [9.0, 9.0, 9.0],  # every layer moves by the same decades
            [5.0, 5.0, 5.0],
            SAME,
            ("fails", "fails", "fails"),
        ),
    ],
    ids=["clear-effect", "against", "null-wide", "same"],
)
def test_deep_frequency_check_decides_each_part_against_the_subsamples(
    first, middle, last, spread, parts
):
    check = deep_frequency(first, middle, last, spread)
    assert check.parts == dict(zip((1, 2, 3), parts))
    assert check.outcome == verdicts.combine(check.parts)


def test_deep_frequency_check_part_2_can_fail_while_1_and_3_hold():
    # The deepest layer ends lowest, but by the middle snapshot it has moved least:
    # log10(100 / 80) = 0.1 decades against the middle layer's 1.
    check = deep_frequency(FIRST, [5.0, 3.0, 80.0], LAST)
    assert check.parts == {1: "holds", 2: "fails", 3: "holds"}
    assert check.outcome == "in part"
    assert check.verdict() == ("reproduces in part: (1) and (3) of three", "◐")
    assert "layer 2 → layer 3: lower (" in check.statistic.split("(2) fails")[1]


def test_deep_frequency_check_measures_moves_in_decades_and_names_every_step():
    check = deep_frequency(FIRST, MIDDLE, LAST)
    expected = [math.log10(f / m) for f, m in zip(FIRST, MIDDLE)]
    assert check.values["moves"] == pytest.approx(expected, abs=1e-3)
    assert check.values["epochs"] == (0, 50, 100)
    first, middle, last = check.values["halfway"]
    assert first == pytest.approx(FIRST, rel=1e-3) and last == pytest.approx(LAST, rel=1e-3)
    statistic = check.statistic
    for part in ("(1) holds", "(2) holds", "(3) holds"):
        assert statistic.count(f"{part}: layer 1 → layer 2: ") == 1
    assert statistic.count("layer 2 → layer 3: ") == 3
    assert "at epoch 0: " in statistic and "by epoch 50 (decades)" in statistic
    assert check.summary.startswith("half-way 1/δ at epoch 0: layer 1 → layer 3: 10 [")
    assert [effect["outcome"] for effect in check.effects] == ["holds", "holds"]


def test_deep_frequency_check_with_the_layers_reversed_fails():
    holds = deep_frequency(FIRST, MIDDLE, LAST)
    reversed_ = deep_frequency(FIRST[::-1], MIDDLE[::-1], LAST[::-1])
    assert holds.outcome == "holds" and reversed_.outcome == "fails"


def test_deep_frequency_check_reads_part_2_at_the_snapshot_with_draws_nearest_half_way():
    epochs = (0, 20, 50, 100)
    positions = [FIRST, MIDDLE, [4.0, 4.0, 4.0], LAST]
    # Epoch 50 has no draws: part (2) is read at epoch 20, the nearest one that has.
    check = claims.deep_frequency_check(
        GRID,
        list(epochs),
        [[lfr_curve(h) for h in hs] for hs in positions],
        [[FLOOR] * 3] * 4,
        [
            None if epoch == 50 else [draws_around(h, TIGHT, j) for j, h in enumerate(hs)]
            for epoch, hs in zip(epochs, positions)
        ],
        labels=LAYERS,
        xlabel="hidden layer",
    )
    assert check.values["epochs"] == (0, 20, 100)
    assert "by epoch 20 (decades)" in check.statistic and check.outcome == "holds"


def test_intermediate_epoch_is_the_snapshot_nearest_half_the_last_among_those_with_draws():
    epochs = [0, 10, 40, 50, 100]
    assert claims.intermediate_epoch(epochs) == 50
    assert claims.intermediate_epoch(epochs, candidates=[0, 10, 40, 100]) == 40
    assert claims.intermediate_epoch([0, 40, 60, 100]) == 40  # a tie: the earlier
    with pytest.raises(ValueError, match="between the first and the last"):
        claims.intermediate_epoch([0, 100])


def test_deep_frequency_check_without_a_middle_snapshot_leaves_part_2_not_resolved():
    check = claims.deep_frequency_check(
        GRID,
        [0, 100],
        [[lfr_curve(h) for h in FIRST], [lfr_curve(h) for h in LAST]],
        [[FLOOR] * 3] * 2,
        None,
        labels=LAYERS,
        xlabel="hidden layer",
    )
    assert check.parts == {1: "holds", 2: "not resolved", 3: "holds"}


def test_snapshots_turns_recorded_spectra_into_the_check_s_arguments():
    layers = [1, 2, 3]
    epochs = [0, 50, 100]
    spectra = {
        "curves": {
            e: {l: lfr_curve(h) for l, h in zip(layers, hs)}
            for e, hs in zip(epochs, (FIRST, MIDDLE, LAST))
        },
        "floors": {e: {l: FLOOR for l in layers} for e in epochs},
        "draws": {
            e: {l: {"halfway": draws_around(h, TIGHT, l)} for l, h in zip(layers, hs)}
            for e, hs in zip(epochs[::2], (FIRST, LAST))
        },
        "resample": {"fraction": 0.5},
    }
    arguments = claims.snapshots(spectra, layers)
    assert arguments["epochs"] == epochs and arguments["draws"][1] is None
    assert arguments["fraction"] == 0.5 and len(arguments["curves"][2]) == 3
    check = claims.deep_frequency_check(GRID, **arguments, labels=LAYERS, xlabel="layer")
    assert check.parts[1] == check.parts[3] == "holds"


def test_resnet_deep_frequency_check_orders_variants_shallow_to_deep():
    def run(halfways):
        spectra = {
            "curves": {e: lfr_curve(h) for e, h in zip((0, 8, 16), halfways)},
            "floors": {e: FLOOR for e in (0, 8, 16)},
            "draws": {
                e: {"halfway": draws_around(h, TIGHT, e)} for e, h in zip((0, 8, 16), halfways)
            },
        }
        return {"inv_delta": GRID, "labels": spectra, "output": spectra}

    # Resnet18-4 is the shallowest: it starts lowest, moves least and ends highest.
    runs = {1: run([100.0, 10.0, 1.0]), 2: run([30.0, 10.0, 3.0]), 4: run([10.0, 8.0, 5.0])}
    check = claims.resnet_deep_frequency_check(runs, targets="labels")
    assert check.outcome == "holds" and check.values["order"] == [4, 2, 1]
    assert check.summary.startswith("half-way 1/δ at epoch 0: Resnet18-4 → Resnet18-1: ")
    assert check.evidence["labels"] == [4, 2, 1]
    swapped = {1: runs[4], 2: runs[2], 4: runs[1]}
    assert claims.resnet_deep_frequency_check(swapped, targets="output").outcome == "fails"
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


def test_the_precision_control_sets_the_precision_against_a_second_seed():
    reference = _resnet_run(0.0, "float32")
    seed = _resnet_run(2.0, "float32")  # a seed moves each position by 2 (1/δ): 2 grid steps
    within = claims.precision_control(reference, _resnet_run(1.5, "bf16"), seed)
    assert not within["agrees"] and within["within_seed"]
    assert within["steps"] == pytest.approx(1.5, abs=0.05)
    assert within["seed_steps"] == pytest.approx(2.0, abs=0.05)
    assert within["halfway"]["labels"][5] == pytest.approx((4.0, 5.5, 6.0), abs=0.05)
    assert within["val_accuracy"] == pytest.approx((0.5, 0.65, 0.7))
    beyond = claims.precision_control(reference, _resnet_run(3.0, "bf16"), seed)
    assert beyond["within_seed"] is False
    # The accuracies count too: a precision that moves the validation accuracy further
    # than the seed is not within the seed's variation, however close its spectra.
    moved = _resnet_run(0.5, "bf16")
    moved["val_accuracy"] = np.array([0.3, 0.9])
    assert claims.precision_control(reference, moved, seed)["within_seed"] is False
    assert claims.precision_control(reference, moved)["within_seed"] is None
    text = claims.precision_control_text(within, 4)
    assert text.startswith("Resnet18-4 trained in float32 and bf16, and float32 at the next seed")
    assert "1.5 grid steps between the precisions and 2 between the seeds" in text
    assert "no further than a change of seed" in text
    assert "further than a change of seed does" in claims.precision_control_text(beyond, 4)
    alone = claims.precision_control_text(claims.precision_control(reference, moved), 4)
    assert "between the seeds" not in alone and "moves no position by a grid step" in alone


# --- C4: training speed and validation accuracy ----------------------------------------------

VARIANTS = ["Resnet18-4", "Resnet18-1"]
# The best accuracy both reach is 0.8, so the thresholds are 0.4, 0.56 and 0.72: the shallow
# variant reaches them at epochs 4, 6 and 8, the deep one at 2, 3 and 4.
SHALLOW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
DEEP = [0.3, 0.5, 0.7, 0.8, 0.8, 0.82, 0.84, 0.85]
SIZE = 4000  # validation images


def accuracy(curves, validation, size=SIZE, labels=VARIANTS):
    return claims.accuracy_check(
        curves, [[0.1, v] for v in validation], validation_size=size, labels=labels
    )


def test_accuracy_check_counts_epochs_to_each_fraction_of_the_best_accuracy():
    check = accuracy([SHALLOW, DEEP], [0.70, 0.75])
    assert check.values["thresholds"] == pytest.approx([0.4, 0.56, 0.72])
    assert check.values["reached"] == [[4, 2], [6, 3], [8, 4]]
    assert check.values["validation"] == [0.70, 0.75]
    assert check.parts == {1: "holds", 2: "holds"} and check.outcome == "holds"
    assert check.statistic.count("Resnet18-4 → Resnet18-1: lower (×0.5") == 3
    assert "Resnet18-4 → Resnet18-1: higher (+0.05" in check.statistic
    assert "on 4,000 images" in check.statistic
    assert check.summary == (
        "epochs to 0.56: 6 [5, 6] → 3 [2, 3]; "
        "validation accuracy, Resnet18-4 → Resnet18-1: 0.7 → 0.75"
    )


def test_accuracy_check_with_the_variants_reversed_fails():
    check = accuracy([DEEP, SHALLOW], [0.75, 0.70], labels=VARIANTS[::-1])
    assert check.parts == {1: "fails", 2: "fails"} and check.outcome == "fails"


@pytest.mark.parametrize(
    "validation, size, part",
    [
        ((0.800, 0.803), 4000, "not resolved"),  # 0.003 on 4,000 images: within the noise
        ((0.800, 0.850), 4000, "holds"),
        ((0.850, 0.800), 4000, "fails"),
        ((0.800, 0.801), 100_000, "fails"),  # the same within 0.01 on 100,000 images
    ],
    ids=["0.003-of-4000", "0.05-of-4000", "against", "same"],
)
def test_accuracy_check_compares_validation_accuracies_against_the_binomial_noise(
    validation, size, part
):
    assert accuracy([SHALLOW, DEEP], validation, size=size).parts[2] == part


def test_accuracy_check_a_fluctuating_curve_whose_range_covers_the_other_is_not_resolved():
    # The shallow variant first passes 0.4 at epoch 2, but stays above it only from epoch 5.
    fluctuating = [0.1, 0.5, 0.2, 0.3, 0.45, 0.6, 0.7, 0.8]
    check = accuracy([fluctuating, DEEP], [0.70, 0.75])
    assert check.parts[1] == "not resolved"
    assert "to 0.400: 2 [1, 5], 2 [1, 2] (not resolved" in check.statistic


def test_accuracy_check_identical_curves_early_in_training_are_not_resolved():
    """Crossing at the same early epoch: an epoch's accuracy is measured at its end, so the
    crossing lies somewhere within that epoch, too coarse to call the two the same."""
    assert accuracy([SHALLOW, SHALLOW], [0.7, 0.75]).parts == {1: "not resolved", 2: "holds"}


# --- C8: very deep networks' speed -----------------------------------------------------------


def loss_curve(tau, epochs=100):
    """A training loss falling as exp(-t / tau): below 0.1 of its first value from epoch
    ceil(tau ln 10) + 1 (13, 25 and 48 for tau 5, 10 and 20)."""
    return np.exp(-np.arange(epochs) / tau)


def dipping(tau, epochs=100):
    """A loss that dips below the designated loss at epoch 3, then stays there late."""
    curve = loss_curve(tau, epochs)
    curve[2] = 0.05
    return curve


def speed(no_residual, residual, **kwargs):
    return claims.very_deep_speed_check(no_residual, residual, depths=DEPTHS, **kwargs)


SLOWER = [loss_curve(tau) for tau in (5, 10, 20)]
ALIKE = [loss_curve(tau) for tau in (10, 10.2, 10.4)]  # every one below 0.1 at epoch 25


@pytest.mark.parametrize(
    "no_residual, residual, parts",
    [
        (SLOWER, ALIKE, ("holds", "holds")),
        (SLOWER[::-1], SLOWER, ("fails", "fails")),
        (
            [dipping(20), loss_curve(10), dipping(20)],
            [loss_curve(10), dipping(20), loss_curve(10)],
            ("not resolved", "not resolved"),
        ),
        (ALIKE, ALIKE, ("fails", "holds")),  # no residual: the same speed, against (1)
    ],
    ids=["clear-effect", "against", "null-wide", "same"],
)
def test_very_deep_speed_check_decides_each_part_against_the_ranges(no_residual, residual, parts):
    check = speed(no_residual, residual)
    assert check.parts == {1: parts[0], 2: parts[1]}
    assert check.outcome == verdicts.combine(check.parts)


def test_very_deep_speed_check_counts_epochs_to_the_designated_loss_and_names_every_step():
    check = speed(SLOWER, ALIKE, optimizer="adam", residual_form="scaled")
    assert check.values == {"none": [13, 25, 48], "residual": [25, 25, 25]}
    statistic = check.statistic
    assert statistic.startswith(
        "epochs to 0.1× the first loss by L=20/60/80: no residual 13 [12, 13], "
    )
    assert "L=20 → L=60: higher (×" in statistic and "L=60 → L=80: higher (×" in statistic
    # (2) compares every consecutive pair and the ends.
    assert "(2) holds: L=20 → L=60: same (×1" in statistic and "L=20 → L=80: same" in statistic
    assert check.summary.startswith("adam: epochs to 0.1× the first loss: no residual L=20")
    assert "scaled residual (1/√(L−2)) L=20 → L=80: 25 [24, 25] → 25 [24, 25]" in check.summary


def test_very_deep_speed_check_with_the_depths_reversed_fails():
    assert speed(SLOWER, ALIKE).parts[1] == "holds"
    assert speed(SLOWER[::-1], ALIKE).parts[1] == "fails"


def test_very_deep_speed_check_a_network_that_never_reaches_the_loss_is_slower():
    never = np.full(100, 1.0)
    check = speed([loss_curve(5), loss_curve(10), never], ALIKE)
    assert check.parts[1] == "holds" and check.values["none"] == [13, 25, math.inf]
    assert "no residual 13 [12, 13], 25 [24, 25], >100 ((1) holds" in check.statistic
    # The other way round, the one that never gets there fails the order.
    assert speed([never, loss_curve(5), loss_curve(10)], ALIKE).parts[1] == "fails"


def test_very_deep_speed_check_a_diverged_network_fails_its_part_not_evaluated():
    check = speed(SLOWER, [ALIKE[0], None, ALIKE[2]], residual_form="unscaled")
    assert check.parts == {1: "holds", 2: "fails"} and check.outcome == "in part"
    assert "(2) fails: not evaluated: L=60 diverged" in check.statistic
    assert check.values["residual"] == [25, None, 25]
    assert "L=20 → L=80: 25 [24, 25] → 25 [24, 25]" in check.summary
    assert "25 [24, 25], diverged, 25 [24, 25]" in check.statistic
    assert check.evidence["series"]["no residual"] == [13, 25, 48]
    assert np.isnan(check.evidence["series"]["unscaled residual"][1])  # the panel leaves a gap
    assert [effect["label"].split()[0] for effect in check.effects] == ["(1)"]


def test_very_deep_speed_check_refuses_nan_and_mismatched_curves():
    with pytest.raises(ValueError, match="NaN"):
        speed([loss_curve(5), np.array([1.0, np.nan, 0.01]), loss_curve(20)], ALIKE)
    with pytest.raises(ValueError, match="one loss curve each"):
        speed(SLOWER[:2], ALIKE)


# --- C9: very deep networks' frequency -------------------------------------------------------


def records(positions, spread, seed=0):
    return [
        {"curve": lfr_curve(h), "floor": FLOOR, "draws": draws_around(h, spread, seed + i)}
        for i, h in enumerate(positions)
    ]


def very_deep_frequency(no_residual, residual, **kwargs):
    return claims.very_deep_frequency_check(
        GRID, no_residual, residual, depths=DEPTHS, epoch=267, **kwargs
    )


@pytest.mark.parametrize(
    "no_residual, residual, parts",
    [
        (records([1, 10, 100], TIGHT), records([5, 5.1, 5.2], SAME), ("holds", "holds")),
        (records([100, 10, 1], TIGHT), records([5, 50, 5], TIGHT), ("fails", "fails")),
        (
            records([10, 10.5, 11], WIDE),
            records([5, 5.5, 6], WIDE),
            ("not resolved", "not resolved"),
        ),
        (records([5, 5, 5], SAME), records([5, 5.1, 5.2], SAME), ("fails", "holds")),
    ],
    ids=["clear-effect", "against", "null-wide", "same"],
)
def test_very_deep_frequency_check_decides_each_part_against_the_subsamples(
    no_residual, residual, parts
):
    check = very_deep_frequency(no_residual, residual)
    assert check.parts == {1: parts[0], 2: parts[1]}


def test_very_deep_frequency_check_names_every_step():
    check = very_deep_frequency(
        records([1, 10, 100], TIGHT), records([5, 5.1, 5.2], SAME), optimizer="sgd"
    )
    statistic = check.statistic
    assert statistic.startswith("half-way 1/δ of S[-3] at epoch 267 by L=20/60/80: no residual 1 [")
    assert "(1) holds: L=20 → L=60: higher (×10" in statistic
    assert "L=60 → L=80: higher (×10" in statistic
    assert "(2) holds: L=20 → L=60: same (×1.02" in statistic and "L=20 → L=80: same" in statistic
    assert check.summary.startswith("sgd: half-way 1/δ: no residual L=20 → L=80: 1 [")
    assert check.values["none"] == pytest.approx([1, 10, 100], rel=1e-3)


def test_very_deep_frequency_check_with_the_depths_reversed_fails():
    assert very_deep_frequency(records([1, 10, 100], TIGHT), records([5] * 3, SAME)).parts[1] == (
        "holds"
    )
    reversed_ = very_deep_frequency(records([100, 10, 1], TIGHT), records([5] * 3, SAME))
    assert reversed_.parts[1] == "fails"


def test_very_deep_frequency_check_a_diverged_network_fails_its_part_not_evaluated():
    residual = records([5, 5.1, 5.2], SAME)
    residual[1] = None
    check = very_deep_frequency(records([1, 10, 100], TIGHT), residual)
    assert check.parts == {1: "holds", 2: "fails"}
    assert "(2) fails: not evaluated: L=60 diverged" in check.statistic
    assert check.values["residual"][1] is None


# --- Parity ----------------------------------------------------------------------------------


def parity(positions, spread, seed=0, layers=(1, 2, 3)):
    return claims.parity_check(
        GRID,
        [lfr_curve(h) for h in positions],
        [FLOOR] * len(positions),
        [draws_around(h, spread, seed + i) for i, h in enumerate(positions)],
        layers=list(layers),
        epoch=50,
    )


@pytest.mark.parametrize(
    "positions, spread, outcome",
    [
        ([100.0, 10.0, 1.0], TIGHT, "holds"),
        ([1.0, 10.0, 100.0], TIGHT, "fails"),
        ([10.0, 10.5, 11.0], WIDE, "not resolved"),
        ([10.0, 10.2, 10.4], SAME, "fails"),
    ],
    ids=["clear-effect", "against", "null-wide", "same"],
)
def test_parity_check_decides_each_step_against_the_subsamples(positions, spread, outcome):
    assert parity(positions, spread).outcome == outcome


def test_parity_check_statistic_names_every_step():
    check = parity([100.0, 10.0, 1.0], TIGHT)
    assert check.statistic.startswith("half-way 1/δ at epoch 50 by layer 1-3, with 90% intervals")
    assert "layer 1 → layer 2: lower (×0.1" in check.statistic
    assert "layer 2 → layer 3: lower (×0.1" in check.statistic
    assert check.summary.startswith("half-way 1/δ at epoch 50: layer 1 → layer 3: 100 [")
    assert check.values["halfway"] == pytest.approx([100.0, 10.0, 1.0], rel=1e-3)


def test_parity_check_with_the_layers_reversed_fails():
    assert parity([100.0, 10.0, 1.0], TIGHT).outcome == "holds"
    assert parity([1.0, 10.0, 100.0], TIGHT).outcome == "fails"


def test_a_step_whose_interval_is_not_measured_is_not_resolved():
    # Most of the middle layer's subsamples did not bracket its half-way point.
    check = claims.parity_check(
        GRID,
        [lfr_curve(h) for h in (100.0, 10.0, 1.0)],
        [FLOOR] * 3,
        [draws_around(100.0, TIGHT, 0), np.full(REPEATS, np.nan), draws_around(1.0, TIGHT, 2)],
        layers=[1, 2, 3],
        epoch=50,
    )
    assert check.outcome == "not resolved"


# --- Part (1) of C5, C6 over seeds, at initialisation -----------------------------------------

INIT_VARIANTS = ["Resnet18-4", "Resnet18-3", "Resnet18-2"]


def initial(halfway_by_variant):
    """``initial_frequency_check`` on curves half-way at the given points, one row per variant."""
    return claims.initial_frequency_check(
        GRID,
        [[lfr_curve(h) for h in row] for row in halfway_by_variant],
        [[FLOOR] * len(row) for row in halfway_by_variant],
        labels=INIT_VARIANTS,
        seeds_used=list(range(len(halfway_by_variant[0]))),
        xlabel="variant",
    )


WIDE_SEEDS = [[1.0, 5.0, 2.0, 9.0, 3.0], [4.0, 1.5, 8.0, 2.5, 6.0], [2.0, 7.0, 1.2, 5.0, 3.5]]
HIGHER = [[1.0, 1.2, 1.1, 0.9, 1.05], [3.0, 3.5, 2.8, 3.2, 3.1], [9.0, 10.0, 8.5, 11.0, 9.5]]


@pytest.mark.parametrize(
    "rows, outcome, reversed_",
    [
        (HIGHER, "holds", "fails"),
        (HIGHER[::-1], "fails", "holds"),
        (WIDE_SEEDS, "not resolved", "not resolved"),
        ([[5.0, 5.01, 5.02, 5.03, 5.04]] * 3, "fails", "fails"),  # the same
    ],
    ids=["clear-effect", "reversed", "null-wide", "same"],
)
def test_initial_frequency_check_decides_each_step_over_the_seeds(rows, outcome, reversed_):
    check = initial(rows)
    assert (check.outcome, check.values["reversed"]) == (outcome, reversed_)


def test_initial_frequency_check_names_every_seed_and_says_when_the_order_is_reversed():
    check = initial(HIGHER[::-1])
    assert "by seed (0, 1, 2, 3, 4): Resnet18-4: 9, 10, 8.5, 11, 9.5;" in check.statistic
    assert "Resnet18-4 → Resnet18-3: lower (×0." in check.statistic
    assert check.statistic.endswith("the order is reversed")
    assert check.values["medians"] == pytest.approx([9.5, 3.1, 1.05], rel=1e-3)


def test_initial_frequency_check_refuses_a_half_way_point_outside_the_grid():
    with pytest.raises(ValueError, match="Resnet18-3: the grid does not bracket .* seed.s. .2."):
        claims.initial_frequency_check(
            GRID,
            [[lfr_curve(1.0)] * 3, [lfr_curve(1.0), lfr_curve(1.0), np.full(GRID.size, FLOOR)]],
            [[FLOOR] * 3] * 2,
            labels=INIT_VARIANTS[:2],
            seeds_used=[0, 1, 2],
            xlabel="variant",
        )


def test_initial_conclusion_says_whether_the_head_decides():
    up, down = initial(HIGHER), initial(HIGHER[::-1])
    wide = initial(WIDE_SEEDS)
    assert claims.initial_conclusion({"a": down, "b": down}).startswith(
        "with every head the order is reversed"
    )
    assert claims.initial_conclusion({"a": up, "b": up}).startswith("with every head every step")
    assert claims.initial_conclusion({"a": up, "b": down}) == (
        "the order depends on the head: it holds with [a]; it is reversed with [b] (every "
        "step resolved deeper lower)"
    )
    same = initial([[5.0, 5.01, 5.02, 5.03, 5.04]] * 3)
    assert claims.initial_conclusion({"a": down, "b": wide, "c": same}) == (
        "no head gives the order: it is reversed with [a] (every step resolved deeper lower); "
        "it does not hold with [c] (a step resolved the same or lower); it is not resolved "
        "with [b]"
    )


# --- Deciding again from the recorded inputs -------------------------------------------------


def _with_missing(draws):
    """Draws of which one subsample did not bracket the point and one left the grid."""
    draws = np.array(draws)
    draws[0], draws[1] = np.nan, np.inf
    return draws


def _every_check():
    """One check of every kind, their inputs holding NaN, inf and None where they can."""
    peaks = claims.rdf_peaks_check(
        GRID,
        [lfr_curve(h) for h in (1.0, 10.0)],
        [FLOOR, FLOOR],
        labels=[2, 4],
        draws={
            "peak": [_with_missing(draws_around(h, TIGHT, i)) for i, h in enumerate((1, 10))],
            "halfway": [draws_around(h, TIGHT, 7 + i) for i, h in enumerate((1, 10))],
        },
    )
    c7 = claims.deep_frequency_check(
        GRID,
        [0, 50, 100],
        [[lfr_curve(h) for h in hs] for hs in (FIRST, [5.0, 3.0, 80.0], LAST)],
        [[FLOOR] * 3] * 3,
        [
            [_with_missing(draws_around(h, TIGHT, 10 * i + j)) for j, h in enumerate(hs)]
            for i, hs in enumerate((FIRST, [5.0, 3.0, 80.0], LAST))
        ],
        labels=LAYERS,
        xlabel="hidden layer",
        ticks=[1, 2, 3],
    )
    c9_records = records([1, 10, 100], TIGHT)
    c9_records[0]["draws"] = _with_missing(c9_records[0]["draws"])
    return {
        "fewer_epochs_check": fewer_epochs([[None, 45, 50], *FASTER[1:]], cap=60),
        "rdf_peaks_check": peaks,
        "deep_frequency_check": c7,
        "accuracy_check": accuracy([SHALLOW, DEEP], [0.70, 0.703]),
        "very_deep_speed_check": speed(
            [loss_curve(5), loss_curve(10), np.full(100, 1.0)], [ALIKE[0], None, ALIKE[2]]
        ),
        "very_deep_frequency_check": very_deep_frequency(
            c9_records, [None, *records([5, 5.1], SAME)]
        ),
        "initial_frequency_check": initial(HIGHER),
        "parity_check": claims.parity_check(
            GRID,
            [lfr_curve(h) for h in (100.0, 10.0, 1.0)],
            [FLOOR] * 3,
            [_with_missing(draws_around(h, TIGHT, i)) for i, h in enumerate((100.0, 10.0, 1.0))],
            layers=[1, 2, 3],
            epoch=50,
        ),
    }


EVERY_CHECK = _every_check()


@pytest.mark.parametrize("name", list(EVERY_CHECK))
def test_redecide_from_the_json_inputs_gives_the_same_check(name):
    check = EVERY_CHECK[name]
    assert check.inputs["check"] == name
    text = json.dumps(check.inputs, allow_nan=False)  # inf and NaN travel as strings
    again = claims.redecide(json.loads(text))
    assert (again.outcome, again.statistic, again.summary) == (
        check.outcome,
        check.statistic,
        check.summary,
    )
    assert again.parts == check.parts and again.effects == check.effects
    assert json.dumps(again.inputs, allow_nan=False) == text


def test_the_recorded_inputs_keep_inf_nan_and_none():
    text = json.dumps([check.inputs for check in EVERY_CHECK.values()])
    assert '"nan"' in text and '"inf"' in text and "null" in text
    speed_check = EVERY_CHECK["very_deep_speed_check"]
    assert speed_check.parts == {1: "holds", 2: "fails"}
    assert speed_check.values["none"][-1] == math.inf
    assert EVERY_CHECK["deep_frequency_check"].outcome == "in part"


def test_redecide_under_a_stricter_rule_leaves_a_just_resolved_step_not_resolved():
    strict = verdicts.Rule(level=0.999)
    # Three seeds each, every one apart: resolved at 90%, beyond what three seeds can show
    # at 99.9%.
    check = fewer_epochs(FASTER[:2])
    assert check.outcome == "holds"
    assert claims.redecide(check.inputs, rule=strict).outcome == "not resolved"
    # Two layers whose ratio of half-way points, 0.78, lies 2.5 standard errors below one.
    noise = np.random.default_rng(3).normal(size=REPEATS)
    noise = (noise - noise.mean()) / noise.std(ddof=1)
    check = claims.parity_check(
        GRID,
        [lfr_curve(10.0), lfr_curve(7.8)],
        [FLOOR, FLOOR],
        [10.0 * np.ones(REPEATS), 7.8 * np.exp(0.1 * noise)],  # paired: the ratio's sd is 0.1
        layers=[1, 2],
        epoch=50,
    )
    assert check.outcome == "holds"
    again = claims.redecide(json.loads(json.dumps(check.inputs)), rule=strict)
    assert again.outcome == "not resolved" and "layer 1 → layer 2: not resolved" in again.statistic


def test_redecide_refuses_an_unknown_check():
    with pytest.raises(ValueError, match="unknown check 'faster_check'"):
        claims.redecide({"check": "faster_check", "arguments": {}})


def test_a_claim_decided_by_one_of_several_settings_decides_again_alike():
    settings = {"sgd": fewer_epochs(FASTER), "adam": fewer_epochs(FASTER[::-1])}
    check = verdicts.decided_by(settings, "sgd")
    again = claims.redecide(json.loads(json.dumps(check.inputs)))
    assert again.statistic == check.statistic


def test_fig9_checks_without_a_residual_form_keep_both_series_apart():
    check = speed(SLOWER, ALIKE)
    assert len(check.evidence["series"]) == 2


def test_the_statistic_names_a_stricter_level_as_it_is():
    check = fewer_epochs(FASTER, rule=verdicts.Rule(level=0.999))
    assert "99.9% interval" in check.statistic


def test_curve_records_list_every_curve_a_check_read_with_its_intervals():
    rng = np.random.default_rng(5)
    grid = np.geomspace(0.01, 100, 60)
    halfway = [1.0, 10.0]
    curves = [FLOOR + (1 - FLOOR) / (1 + (h / grid) ** 2) for h in halfway]
    draws = {
        "halfway": [h * np.exp(rng.normal(0, 0.05, 20)) for h in halfway],
        "peak": [h * np.exp(rng.normal(0, 0.05, 20)) for h in halfway],
    }
    check = claims.rdf_peaks_check(grid, curves, [FLOOR] * 2, labels=[1, 2], draws=draws)
    records = claims.curve_records(json.loads(json.dumps(check.inputs)))
    assert [r["curve"] for r in records] == ["k=1", "k=2"]
    for record, h in zip(records, halfway):
        assert record["epoch"] is None
        assert record["halfway"] == pytest.approx(h, rel=0.05)
        low, high = record["halfway_interval"]
        assert low < record["halfway"] < high
        assert record["peak_interval"] is not None
    no_draws = claims.rdf_peaks_check(grid, curves, [FLOOR] * 2, labels=[1, 2])
    assert claims.curve_records(no_draws.inputs)[0]["halfway_interval"] is None
    timing = claims.fewer_epochs_check(
        [[1, 2, 3], [4, 5, 6]], 10, increasing=True, labels="ab", xlabel="x"
    )
    assert claims.curve_records(timing.inputs) is None
