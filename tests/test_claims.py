import base64
import io
import re

import numpy as np
import pytest

import dfp


def test_strictly_ordered_values_hold():
    holds, reason = dfp.ordering([1.0, 2.0, 4.0], tie=0.5)
    assert holds and reason == "increasing"


def test_ties_neither_break_nor_make_the_ordering():
    holds, reason = dfp.ordering([1.0, 1.2, 3.0], tie=0.5)
    assert holds and "1 tie" in reason
    # Only ties: first and last too close.
    holds, reason = dfp.ordering([1.0, 1.3, 1.4], tie=0.5)
    assert not holds and "differ by no more than the tie" in reason


def test_a_step_the_wrong_way_breaks_it_and_names_where():
    holds, reason = dfp.ordering(
        [5.0, 3.0, 4.0, 1.0], tie=0.5, increasing=False, labels=["l1", "l2", "l3", "l4"]
    )
    assert not holds and "from l2 to l3" in reason


def test_decreasing():
    assert dfp.ordering([3.0, 2.0, 1.0], tie=0.1, increasing=False)[0]
    assert not dfp.ordering([3.0, 2.0, 1.0], tie=0.1, increasing=True)[0]


@pytest.mark.parametrize(
    "values, tie, message",
    [([1.0], 0.1, "at least two"), ([1.0, np.nan], 0.1, "NaN"), ([1.0, 2.0], -1.0, "tie")],
)
def test_ordering_bad_input(values, tie, message):
    with pytest.raises(ValueError, match=message):
        dfp.ordering(values, tie=tie)


def test_glue_claim_rejects_unknown_claims_and_non_bools():
    words = dict(summary="peaks 1 → 2", scale="tiny")
    with pytest.raises(ValueError, match="unknown claim"):
        dfp.glue_claim("C10", True, "x", **words)
    with pytest.raises(ValueError, match="must be a bool"):
        dfp.glue_claim("C3", 1, "x", **words)
    with pytest.raises(ValueError, match="statistic must be a non-empty"):
        dfp.glue_claim("C3", True, "", **words)
    with pytest.raises(ValueError, match="summary must be a non-empty"):
        dfp.glue_claim("C3", True, "x", summary="", scale="tiny")


def _published(monkeypatch):
    import myst_nb.ext.glue as glue_module

    # myst_nb.glue publishes through IPython's display; capture what it sends.
    published = []
    monkeypatch.setattr(glue_module, "ipy_display", lambda obj, **kw: published.append((obj, kw)))
    return published


def test_glue_claim_glues_the_verdict_in_words_beside_the_bool(capsys, monkeypatch):
    published = _published(monkeypatch)
    dfp.glue_claim("C3", np.bool_(True), "peaks 1 < 2", summary="peak 1 → 2", scale="tiny")
    glued = {kw["metadata"]["scrapbook"]["name"]: obj for obj, kw in published}
    assert list(glued) == [
        "C3_holds",
        "C3_verdict",
        "C3_mark",
        "C3_statistic",
        "C3_summary",
        "C3_scale",
    ]
    text = {
        name: bundle["application/papermill.record/text/plain"] for name, bundle in glued.items()
    }
    assert (
        text["C3_verdict"] == "'reproduces'"
        and text["C3_mark"] == "'✓'"
        and text["C3_holds"] == "True"
    )
    assert "C3 reproduces: peaks 1 < 2" in capsys.readouterr().out


def test_glue_claim_with_evidence_glues_a_sharp_panel(monkeypatch):
    from PIL import Image

    published = _published(monkeypatch)
    evidence = dict(
        xlabel="layer",
        labels=[1, 2, 3],
        series={"start": [1, 2, 3], "end": [3, 2, 1]},
        ylabel="1/δ",
    )
    parts = {1: True, 2: False, 3: True}
    dfp.glue_claim("C7", False, "x", summary="y", scale="tiny", parts=parts, evidence=evidence)
    glued = {kw["metadata"]["scrapbook"]["name"]: (obj, kw["metadata"]) for obj, kw in published}
    verdict = glued["C7_verdict"][0]["application/papermill.record/text/plain"]
    assert verdict == "'reproduces in part: (1) and (3) of three'"
    # The parts, for a sweep to collect (dfp.sweeps.glued_values reads them back).
    recorded = glued["C7_parts"][0]["application/papermill.record/text/plain"]
    assert recorded == "{1: True, 2: False, 3: True}"
    bundle, _ = glued["C7_panel"]
    html = bundle["application/papermill.record/text/html"]
    data, width = re.search(r'src="data:image/png;base64,([^"]+)" width="(\d+)"', html).groups()
    picture = Image.open(io.BytesIO(base64.b64decode(data)))
    # Twice the pixels of the width it is shown at, and its smallest font recorded.
    assert picture.width >= 2 * int(width) - 2
    assert float(picture.text[dfp.plots.FONT_KEY]) >= 8


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
    assert dfp.verdict(holds, parts)[0] == phrase


def test_verdict_rejects_a_bool_that_contradicts_its_parts():
    with pytest.raises(ValueError, match="contradicts"):
        dfp.verdict(True, {1: True, 2: False})
    with pytest.raises(ValueError, match="contradicts"):
        dfp.verdict(False, {1: True, 2: True})


def test_span_gives_the_first_and_last_value():
    assert dfp.span("median epochs", ["1 layers", "6 layers"], [38000, 640]) == (
        "median epochs, 1 layers → 6 layers: 3.8e+04 → 640"
    )
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        dfp.span("x", "abc", [1, 2])
    assert dfp.span("", ["L=20", "L=80"], [0.01, None], missing="diverged") == (
        "L=20 → L=80: 0.01 → diverged"
    )


def test_longest_ordered_prefix_says_which_part_holds():
    assert dfp.longest_ordered_prefix([9.0, 5.0, 3.0, 3.5, 2.0], tie=0, increasing=False) == 3
    assert dfp.longest_ordered_prefix([1.0, 2.0, 3.0], tie=0) == 3
    assert dfp.longest_ordered_prefix([3.0, 2.0], tie=0) == 1


def test_ordered_on_grid_uses_the_local_grid_step_as_the_tie():
    grid = np.concatenate([np.linspace(0.1, 1.0, 10), np.linspace(2.0, 10.0, 9)])
    # 0.35 and 0.42 are closer than the local step 0.1: a tie; 3.0 vs 3.5 too (step 1).
    assert dfp.ordered_on_grid(grid, [0.35, 0.42, 3.0], increasing=True, labels="abc")[0]
    holds, reason = dfp.ordered_on_grid(grid, [3.0, 3.5], increasing=True, labels="ab")
    assert not holds and "tie 1" in reason
    holds, reason = dfp.ordered_on_grid(grid, [0.3, np.nan], increasing=True, labels="ab")
    assert not holds and "undecided" in reason and "b" in reason


def test_curve_positions_and_grid_step():
    grid = np.array([1.0, 2.0, 4.0, 8.0])
    positions = dfp.curve_positions(
        grid, {"a": [0.0, 0.2, 0.8, 1.0], "b": [0.6, 0.7, 0.8, 0.9]}, {"a": 0.0, "b": 0.0}
    )
    assert positions["a"] == (3.0, pytest.approx(2 + 2 * (0.5 - 0.2) / 0.6))
    assert np.isnan(positions["b"][1])  # already past half-way at the first point
    assert (
        dfp.grid_step_at(grid, 5.0) == 4.0
        and dfp.grid_step_at(grid, 0.5) == 1.0
        and dfp.grid_step_at(grid, 9.0) == 4.0
    )


def test_faster_toward_low_frequency_compares_moves_in_decades():
    grid = np.geomspace(0.01, 1.0, 101)  # a step of 0.02 decades
    holds, reason, moves = dfp.faster_toward_low_frequency(
        grid, [0.2, 0.2, 0.2], [0.2, 0.1, 0.05], labels="abc"
    )
    assert holds and moves == pytest.approx([0.0, np.log10(2), np.log10(4)])
    holds, reason, _ = dfp.faster_toward_low_frequency(grid, [0.2, 0.2], [0.1, 0.2], labels="ab")
    assert not holds


def test_fewer_epochs_check_reports_every_seed_and_how_far_it_holds():
    runs = [[30, 40, None], [9, 12, 10], [8, 7, 11], [9, 9, 9]]
    holds, statistic, medians = dfp.fewer_epochs_check(
        runs, 50, increasing=False, labels=["1", "2", "3", "4"]
    )
    # Medians 40, 10, 8, 9: falls from 1 to 3, then rises.
    assert not holds
    assert statistic.startswith("1: median 40 (30, 40, >=50); 2: median 10 (9, 12, 10)")
    assert statistic.endswith("medians decrease from 1 to 3)")
    holds, statistic, _ = dfp.fewer_epochs_check(
        runs[:3], 50, increasing=False, labels=["a", "b", "c"]
    )
    assert holds and "from a to c" in statistic
    holds, _, _ = dfp.fewer_epochs_check(runs[:3], 50, increasing=True, labels=["a", "b", "c"])
    assert not holds


def test_glue_deep_frequency_summarises_both_epochs(monkeypatch):
    published = _published(monkeypatch)
    check = (False, "stat", {1: True, 2: False, 3: True}, ([0.1, 0.2, 0.4], [0.3, 0.2, 0.05]))
    dfp.glue_deep_frequency(
        "C7",
        check,
        labels=["l1", "l2", "l3"],
        ticks=[1, 2, 3],
        epochs=(0, 9),
        scale="tiny",
        xlabel="layer",
        note="; more",
    )
    glued = {kw["metadata"]["scrapbook"]["name"]: obj for obj, kw in published}
    text = {k: v.get("application/papermill.record/text/plain") for k, v in glued.items()}
    assert (
        text["C7_summary"]
        == "'half-way 1/δ at epoch 0: l1 → l3: 0.1 → 0.4; at epoch 9: l1 → l3: 0.3 → 0.05'"
    )
    assert text["C7_statistic"] == "'stat; more'" and "C7_panel" in glued


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
    assert dfp.grid_tie(uniform, [2.5, 7.5]) == pytest.approx(1.0)
    assert dfp.grid_tie(GRID, [1.0, 100.0]) == pytest.approx(dfp.grid_step_at(GRID, 100.0))


def test_same_on_grid_holds_within_one_step_only():
    grid = np.linspace(1.0, 10.0, 10)
    assert dfp.same_on_grid(grid, [3.2, 3.9, 4.1])[0]
    holds, reason = dfp.same_on_grid(grid, [3.2, 4.5])
    assert not holds and "spread 1.3" in reason
    assert not dfp.same_on_grid(grid, [3.2, np.nan])[0]


def test_rdf_peaks_check_c3():
    grid = np.linspace(1.0, 400.0, 400)
    x = np.linspace(-1, 1, 400)
    rising = [dfp.lfr(x, np.sin(k * np.pi * x), grid) for k in (2, 4)]
    floors = [0.0, 0.0]
    holds, statistic, peaks, halfway = dfp.rdf_peaks_check(grid, rising, floors, labels=[2, 4])
    assert holds and peaks[0] < peaks[1] and "RDF peak 1/δ by k: 2:" in statistic
    holds, _, _, _ = dfp.rdf_peaks_check(grid, rising[::-1], floors, labels=[4, 2])
    assert not holds


def test_epochs_to_counts_from_one():
    assert dfp.epochs_to([0.1, 0.4, 0.6, 0.7], 0.5) == 3
    assert dfp.epochs_to([0.1, 0.4], 0.5) is None


def test_accuracy_check_c4():
    labels = ["Resnet18-4", "Resnet18-1"]
    shallow, deep = [0.2, 0.4, 0.6], [0.4, 0.6, 0.8]
    holds, statistic, parts, (reached, validation) = dfp.accuracy_check(
        [shallow, deep], [[0.3, 0.4, 0.45], [0.3, 0.5, 0.55]], threshold=0.5, labels=labels
    )
    assert (
        holds and parts == {1: True, 2: True} and reached == [3, 2] and validation == [0.45, 0.55]
    )
    # Deeper slower: (1) fails; deeper validates worse: (2) fails.
    holds, _, parts, _ = dfp.accuracy_check(
        [deep, shallow], [[0.3, 0.5, 0.55], [0.3, 0.4, 0.45]], threshold=0.5, labels=labels
    )
    assert not holds and parts == {1: False, 2: False}
    # A variant that never gets there counts as one epoch more than were trained.
    holds, statistic, parts, (reached, _) = dfp.accuracy_check(
        [[0.1, 0.2, 0.3], deep], [[0.3, 0.4, 0.45], [0.3, 0.5, 0.55]], threshold=0.5, labels=labels
    )
    assert parts[1] and reached == [None, 2] and ">3" in statistic


def test_very_deep_speed_check_c8():
    depths = [20, 60, 80]
    holds, statistic, parts = dfp.very_deep_speed_check(
        [0.01, 0.05, 0.09], [0.010, 0.011, 0.012], depths=depths, epoch=267
    )
    assert holds and parts == {1: True, 2: True} and "1.25x" in statistic
    # Plain deeper networks as fast as the shallow one; residual ones apart by 2x.
    holds, _, parts = dfp.very_deep_speed_check(
        [0.01, 0.011, 0.009], [0.01, 0.02, 0.012], depths=depths, epoch=267
    )
    assert not holds and parts == {1: False, 2: False}
    with pytest.raises(ValueError, match="NaN"):
        dfp.very_deep_speed_check([0.01, np.nan, 0.1], [0.1, 0.1, 0.1], depths=depths, epoch=1)
    # A diverged network (None) never counts for the claim: its part fails, and says why.
    holds, statistic, parts = dfp.very_deep_speed_check(
        [0.01, 0.05, 0.09], [None, 0.011, None], depths=depths, epoch=267
    )
    assert not holds and parts == {1: True, 2: False}
    assert "not evaluated: L=20, L=80 diverged" in statistic and "diverged, 0.011" in statistic
    with pytest.raises(ValueError, match="2 plain values"):
        dfp.very_deep_speed_check([0.01, 0.05], [0.1, 0.1, 0.1], depths=depths, epoch=1)


def test_very_deep_frequency_check_c9():
    depths = [20, 60, 80]
    holds, statistic, parts = dfp.very_deep_frequency_check(
        GRID, [1.0, 10.0, 100.0], [5.0, 5.05, 5.1], depths=depths, epoch=267
    )
    assert holds and parts == {1: True, 2: True}
    holds, _, parts = dfp.very_deep_frequency_check(
        GRID, [100.0, 10.0, 1.0], [5.0, 50.0, 5.0], depths=depths, epoch=267
    )
    assert not holds and parts == {1: False, 2: False}
    holds, statistic, parts = dfp.very_deep_frequency_check(
        GRID, [1.0, 10.0, 100.0], [5.0, None, 5.1], depths=depths, epoch=267
    )
    assert not holds and parts == {1: True, 2: False}
    assert "not evaluated: L=60 diverged" in statistic
    # A half-way point the grid does not bracket is undecided, not "diverged".
    _, statistic, parts = dfp.very_deep_frequency_check(
        GRID, [1.0, np.nan, 100.0], [5.0, 5.05, 5.1], depths=depths, epoch=267
    )
    assert parts[1] is False and "undecided" in statistic and "diverged" not in statistic


def test_parity_check():
    layers = [1, 2, 3]
    curves, floors = curves_at([100.0, 10.0, 1.0])
    holds, statistic, halfway = dfp.parity_check(
        GRID, dict(zip(layers, curves)), dict(zip(layers, floors)), layers=layers, epoch=50
    )
    assert holds and halfway[0] > halfway[1] > halfway[2]
    curves, floors = curves_at([100.0, 10.0, 50.0])
    holds, statistic, _ = dfp.parity_check(
        GRID, dict(zip(layers, curves)), dict(zip(layers, floors)), layers=layers, epoch=50
    )
    assert not holds and "decreasing over layers 1-2 only" in statistic


def test_deep_frequency_check_parts_c5_c6_c7():
    labels = ["shallow", "middle", "deep"]
    # At the start deeper sits higher; deeper moves more; at the end deeper sits lower.
    start, end = curves_at([10.0, 30.0, 100.0]), curves_at([5.0, 3.0, 1.0])
    holds, _, parts, _ = dfp.deep_frequency_check(GRID, start, end, labels=labels, epochs=(0, 9))
    assert holds and parts == {1: True, 2: True, 3: True}
    holds, _, parts, _ = dfp.deep_frequency_check(GRID, end, start, labels=labels, epochs=(0, 9))
    assert not holds and parts == {1: False, 2: False, 3: False}


def test_resnet_deep_frequency_check_orders_variants_shallow_to_deep():
    def run(start, end):
        curves, floors = zip(curves_at([start]), curves_at([end]))
        spectra = {"curves": {0: curves[0][0], 12: curves[1][0]}, "floors": {0: 0.1, 12: 0.1}}
        return {"inv_delta": GRID, "labels": spectra, "output": spectra}

    # Resnet18-4 is the shallowest: it starts lowest and moves least.
    runs = {1: run(100.0, 1.0), 2: run(30.0, 3.0), 4: run(10.0, 5.0)}
    (holds, statistic, parts, _), order, epochs = dfp.resnet_deep_frequency_check(
        runs, targets="labels"
    )
    assert holds and order == [4, 2, 1] and epochs == (0, 12) and "floors at epoch 12" in statistic
    runs = {1: run(10.0, 5.0), 2: run(30.0, 3.0), 4: run(100.0, 1.0)}
    (holds, _, parts, _), _, _ = dfp.resnet_deep_frequency_check(runs, targets="output")
    assert not holds
    with pytest.raises(ValueError, match="targets"):
        dfp.resnet_deep_frequency_check(runs, targets="inputs")


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
    close = dfp.precision_control(_resnet_run(0.0, "float32"), _resnet_run(0.4, "bf16"))
    assert close["agrees"] and 0.3 < close["steps"] < 0.5
    assert close["precisions"] == ("float32", "bf16")
    assert set(close["halfway"]["labels"]) == {0, 5}
    far = dfp.precision_control(_resnet_run(0.0, "float32"), _resnet_run(1.5, "bf16"))
    assert not far["agrees"] and far["steps"] > 1.0
    other = _resnet_run(0.0, "bf16")
    other["inv_delta"] = other["inv_delta"] * 2
    with pytest.raises(ValueError, match="different grids"):
        dfp.precision_control(_resnet_run(0.0, "float32"), other)
