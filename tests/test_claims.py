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
    holds, reason = dfp.ordering([5.0, 3.0, 4.0, 1.0], tie=0.5, increasing=False, labels=["l1", "l2", "l3", "l4"])
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
    assert list(glued) == ["C3_holds", "C3_verdict", "C3_mark", "C3_statistic", "C3_summary", "C3_scale"]
    text = {name: bundle["application/papermill.record/text/plain"] for name, bundle in glued.items()}
    assert text["C3_verdict"] == "'reproduces'" and text["C3_mark"] == "'✓'" and text["C3_holds"] == "True"
    assert "C3 reproduces: peaks 1 < 2" in capsys.readouterr().out


def test_glue_claim_with_evidence_glues_a_sharp_panel(monkeypatch):
    from PIL import Image

    published = _published(monkeypatch)
    evidence = dict(xlabel="layer", labels=[1, 2, 3], series={"start": [1, 2, 3], "end": [3, 2, 1]}, ylabel="1/δ")
    parts = {1: True, 2: False, 3: True}
    dfp.glue_claim("C7", False, "x", summary="y", scale="tiny", parts=parts, evidence=evidence)
    glued = {kw["metadata"]["scrapbook"]["name"]: (obj, kw["metadata"]) for obj, kw in published}
    verdict = glued["C7_verdict"][0]["application/papermill.record/text/plain"]
    assert verdict == "'reproduces in part: (1) and (3) of three'"
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
        (False, {1: True, 2: True, 3: False, 4: True}, "reproduces in part: (1), (2) and (4) of four"),
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
    positions = dfp.curve_positions(grid, {"a": [0.0, 0.2, 0.8, 1.0], "b": [0.6, 0.7, 0.8, 0.9]}, {"a": 0.0, "b": 0.0})
    assert positions["a"] == (3.0, pytest.approx(2 + 2 * (0.5 - 0.2) / 0.6))
    assert np.isnan(positions["b"][1])  # already past half-way at the first point
    assert dfp.grid_step_at(grid, 5.0) == 4.0 and dfp.grid_step_at(grid, 0.5) == 1.0 and dfp.grid_step_at(grid, 9.0) == 4.0


def test_faster_toward_low_frequency_compares_moves_in_decades():
    grid = np.geomspace(0.01, 1.0, 101)  # a step of 0.02 decades
    holds, reason, moves = dfp.faster_toward_low_frequency(grid, [0.2, 0.2, 0.2], [0.2, 0.1, 0.05], labels="abc")
    assert holds and moves == pytest.approx([0.0, np.log10(2), np.log10(4)])
    holds, reason, _ = dfp.faster_toward_low_frequency(grid, [0.2, 0.2], [0.1, 0.2], labels="ab")
    assert not holds


def test_fewer_epochs_check_reports_every_seed_and_how_far_it_holds():
    runs = [[30, 40, None], [9, 12, 10], [8, 7, 11], [9, 9, 9]]
    holds, statistic, medians = dfp.fewer_epochs_check(runs, 50, increasing=False, labels=["1", "2", "3", "4"])
    # Medians 40, 10, 8, 9: falls from 1 to 3, then rises.
    assert not holds
    assert statistic.startswith("1: median 40 (30, 40, >=50); 2: median 10 (9, 12, 10)")
    assert statistic.endswith("medians decrease from 1 to 3)")
    holds, statistic, _ = dfp.fewer_epochs_check(runs[:3], 50, increasing=False, labels=["a", "b", "c"])
    assert holds and "from a to c" in statistic
    holds, _, _ = dfp.fewer_epochs_check(runs[:3], 50, increasing=True, labels=["a", "b", "c"])
    assert not holds


def test_glue_deep_frequency_summarises_both_epochs(monkeypatch):
    published = _published(monkeypatch)
    check = (False, "stat", {1: True, 2: False, 3: True}, ([0.1, 0.2, 0.4], [0.3, 0.2, 0.05]))
    dfp.glue_deep_frequency(
        "C7", check, labels=["l1", "l2", "l3"], ticks=[1, 2, 3], epochs=(0, 9), scale="tiny",
        xlabel="layer", note="; more",
    )
    glued = {kw["metadata"]["scrapbook"]["name"]: obj for obj, kw in published}
    text = {k: v.get("application/papermill.record/text/plain") for k, v in glued.items()}
    assert text["C7_summary"] == "'half-way 1/δ at epoch 0: l1 → l3: 0.1 → 0.4; at epoch 9: l1 → l3: 0.3 → 0.05'"
    assert text["C7_statistic"] == "'stat; more'" and "C7_panel" in glued
