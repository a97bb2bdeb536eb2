"""The one rule every claim is decided by (dfp.verdicts): orderings with ties of one grid step,
curve positions, epochs over seeds, the Check a claim returns and the verdict in words."""

import dataclasses

import numpy as np
import pytest

from dfp import grids, verdicts
from dfp.verdicts import Check


def test_strictly_ordered_values_hold():
    holds, reason = verdicts.ordering([1.0, 2.0, 4.0], tie=0.5)
    assert holds and reason == "increasing"


def test_ties_neither_break_nor_make_the_ordering():
    holds, reason = verdicts.ordering([1.0, 1.2, 3.0], tie=0.5)
    assert holds and "1 tie" in reason
    # Only ties: first and last too close.
    holds, reason = verdicts.ordering([1.0, 1.3, 1.4], tie=0.5)
    assert not holds and "differ by no more than the tie" in reason


def test_a_step_the_wrong_way_breaks_it_and_names_where():
    holds, reason = verdicts.ordering(
        [5.0, 3.0, 4.0, 1.0], tie=0.5, increasing=False, labels=["l1", "l2", "l3", "l4"]
    )
    assert not holds and "from l2 to l3" in reason


def test_decreasing():
    assert verdicts.ordering([3.0, 2.0, 1.0], tie=0.1, increasing=False)[0]
    assert not verdicts.ordering([3.0, 2.0, 1.0], tie=0.1, increasing=True)[0]


@pytest.mark.parametrize(
    "values, tie, message",
    [([1.0], 0.1, "at least two"), ([1.0, np.nan], 0.1, "NaN"), ([1.0, 2.0], -1.0, "tie")],
)
def test_ordering_bad_input(values, tie, message):
    with pytest.raises(ValueError, match=message):
        verdicts.ordering(values, tie=tie)


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
    check = verdicts.decided_by({"adam": adam, "sgd": sgd}, "adam")
    assert check.holds and check.parts == {1: True, 2: True}
    assert check.summary == "adam numbers" and check.statistic == "adam: a; sgd: b"
    check = verdicts.decided_by({"adam": adam, "sgd": sgd}, "sgd")
    assert not check.holds and check.summary == "sgd numbers"
    with pytest.raises(ValueError, match="not one of the settings"):
        verdicts.decided_by({"adam": adam}, "sgd")


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
    assert verdicts.verdict(holds, parts)[0] == phrase


def test_verdict_rejects_a_bool_that_contradicts_its_parts():
    with pytest.raises(ValueError, match="contradicts"):
        verdicts.verdict(True, {1: True, 2: False})
    with pytest.raises(ValueError, match="contradicts"):
        verdicts.verdict(False, {1: True, 2: True})


def test_span_gives_the_first_and_last_value():
    assert verdicts.span("median epochs", ["1 layers", "6 layers"], [38000, 640]) == (
        "median epochs, 1 layers → 6 layers: 3.8e+04 → 640"
    )
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        verdicts.span("x", "abc", [1, 2])
    assert verdicts.span("", ["L=20", "L=80"], [0.01, None], missing="diverged") == (
        "L=20 → L=80: 0.01 → diverged"
    )


def test_longest_ordered_prefix_says_which_part_holds():
    assert verdicts.longest_ordered_prefix([9.0, 5.0, 3.0, 3.5, 2.0], tie=0, increasing=False) == 3
    assert verdicts.longest_ordered_prefix([1.0, 2.0, 3.0], tie=0) == 3
    assert verdicts.longest_ordered_prefix([3.0, 2.0], tie=0) == 1


def test_ordered_on_grid_uses_the_local_grid_step_as_the_tie():
    grid = np.concatenate([np.linspace(0.1, 1.0, 10), np.linspace(2.0, 10.0, 9)])
    # 0.35 and 0.42 are closer than the local step 0.1: a tie; 3.0 vs 3.5 too (step 1).
    assert verdicts.ordered_on_grid(grid, [0.35, 0.42, 3.0], increasing=True, labels="abc")[0]
    holds, reason = verdicts.ordered_on_grid(grid, [3.0, 3.5], increasing=True, labels="ab")
    assert not holds and "tie 1" in reason
    holds, reason = verdicts.ordered_on_grid(grid, [0.3, np.nan], increasing=True, labels="ab")
    assert not holds and "undecided" in reason and "b" in reason


def test_curve_positions_and_grid_step():
    grid = np.array([1.0, 2.0, 4.0, 8.0])
    positions = verdicts.curve_positions(
        grid, {"a": [0.0, 0.2, 0.8, 1.0], "b": [0.6, 0.7, 0.8, 0.9]}, {"a": 0.0, "b": 0.0}
    )
    assert positions["a"] == (3.0, pytest.approx(2 + 2 * (0.5 - 0.2) / 0.6))
    assert np.isnan(positions["b"][1])  # already past half-way at the first point
    assert (
        grids.grid_step_at(grid, 5.0) == 4.0
        and grids.grid_step_at(grid, 0.5) == 1.0
        and grids.grid_step_at(grid, 9.0) == 4.0
    )


def test_median_and_description_of_epochs_count_a_capped_run_as_the_cap():
    assert verdicts.median_epochs([10, None, 30], cap=100) == 30
    assert verdicts.describe_epochs("d", [10, None, 30], 100) == "d: median 30 (10, >=100, 30)"
    # Half the runs or more capped: the median is a lower bound.
    assert (
        verdicts.describe_epochs("d", [None, None, 30], 100) == "d: median >=100 (>=100, >=100, 30)"
    )
    with pytest.raises(ValueError, match="no runs"):
        verdicts.median_epochs([], cap=100)


def test_grid_tie_is_one_grid_step_where_the_values_lie():
    uniform = np.linspace(1.0, 10.0, 10)
    assert verdicts.grid_tie(uniform, [2.5, 7.5]) == pytest.approx(1.0)
    geometric = np.geomspace(1e-2, 1e4, 121)
    step = grids.grid_step_at(geometric, 100.0)
    assert verdicts.grid_tie(geometric, [1.0, 100.0]) == pytest.approx(step)


def test_same_on_grid_holds_within_one_step_only():
    grid = np.linspace(1.0, 10.0, 10)
    assert verdicts.same_on_grid(grid, [3.2, 3.9, 4.1])[0]
    holds, reason = verdicts.same_on_grid(grid, [3.2, 4.5])
    assert not holds and "spread 1.3" in reason
    assert not verdicts.same_on_grid(grid, [3.2, np.nan])[0]


def test_epochs_to_counts_from_one():
    assert verdicts.epochs_to([0.1, 0.4, 0.6, 0.7], 0.5) == 3
    assert verdicts.epochs_to([0.1, 0.4], 0.5) is None
