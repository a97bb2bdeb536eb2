"""The one rule: estimates, their intervals, comparisons, parts and verdicts, and its calibration
on synthetic data with known noise."""

import json
import math

import numpy as np
import pytest

from dfp import verdicts
from dfp.verdicts import (
    RULE,
    Check,
    Estimate,
    Rule,
    alike,
    combine,
    compare,
    crossing,
    interval,
    ordered,
    position,
    proportion,
    seeds,
    span,
    verdict,
)


def subsample_estimate(value, spread, rng, *, repeats=20, pairing=None, noise=None):
    """A position measured on n points, and on half-samples: the half-samples scatter around
    it with the spread of the full estimate (sqrt(f/(1-f)) = 1 for f = 1/2)."""
    noise = rng.normal(0, spread, repeats) if noise is None else noise
    return Estimate(value, "subsamples", tuple(value * np.exp(noise)), pairing=pairing)


# --- Estimates and intervals -----------------------------------------------------------------


def test_subsample_interval_is_centred_on_the_full_set_and_scales_with_the_spread():
    rng = np.random.default_rng(0)
    draws = 2.0 * np.exp(rng.normal(0, 0.1, 400))
    estimate = Estimate(3.0, "subsamples", tuple(draws))  # subsamples biased low: ignored
    low, high = interval(estimate)
    assert low < 3.0 < high
    assert math.log(high / 3.0) == pytest.approx(1.645 * 0.1, rel=0.1)
    quarter = Estimate(3.0, "subsamples", tuple(draws), fraction=0.25)
    assert math.log(quarter.value / interval(quarter)[0]) == pytest.approx(
        math.log(3.0 / low) * math.sqrt(1 / 3), rel=1e-6
    )


def test_an_estimate_with_too_few_finite_draws_has_no_interval():
    estimate = Estimate(1.0, "subsamples", (1.0, math.nan, math.nan, math.nan))
    assert all(math.isnan(v) for v in interval(estimate))
    assert compare(estimate, Estimate(5.0, "subsamples", (5.0, 5.1))).outcome == "not resolved"


def test_seeds_take_the_median_and_count_a_capped_run_as_the_cap():
    estimate = seeds([10, None, 30], cap=100)
    assert estimate.value == 30 and estimate.draws == (10, 100, 30)
    with pytest.raises(ValueError, match="cap"):
        seeds([10, None])


def test_crossing_gives_the_range_from_first_crossing_to_staying_below():
    # Crossed during epoch 3: after the end of epoch 2.
    assert (crossing([5, 4, 3, 2], 3.5).low, crossing([5, 4, 3, 2], 3.5).high) == (2, 3)
    jumpy = crossing([5, 2, 6, 2, 1], 3)
    assert (jumpy.value, jumpy.low, jumpy.high) == (2, 1, 4)
    # Two runs that both cross in their first epoch cannot be told apart; 3 and 5 can.
    assert compare(crossing([5, 1], 2), crossing([1, 1], 2)).outcome == "not resolved"
    assert compare(crossing([5, 4, 1], 2), crossing([5, 4, 4, 4, 1], 2)).outcome == "higher"
    never = crossing([5, 4], 1)
    assert never.value == math.inf and never.low == 2
    assert crossing([1, 2, 3], 2.5, below=False).value == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(value=1.0, kind="weird"), "kind"),
        (dict(value=1.0, kind="subsamples", draws=(1.0,)), "at least 2 draws"),
        (dict(value=1.5, kind="binomial", trials=10), "proportion"),
        (dict(value=5.0, kind="range", low=6.0, high=7.0), "low <= value <= high"),
    ],
)
def test_estimates_refuse_what_they_cannot_be(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Estimate(**kwargs)


def test_an_estimate_survives_json_with_inf_and_nan():
    for estimate in (
        crossing([5, 4], 1),
        Estimate(math.nan, "subsamples", (math.nan, 1.0, 2.0), pairing="a"),
        proportion(0.8, 100),
        seeds([1, 2, 3]),
    ):
        again = Estimate.from_json(json.loads(json.dumps(estimate.to_json())))
        assert json.dumps(again.to_json()) == json.dumps(estimate.to_json())


def test_a_rule_refuses_impossible_parameters():
    for kwargs in (dict(level=1.0), dict(smallest_ratio=0.9), dict(smallest_difference=0)):
        with pytest.raises(ValueError):
            Rule(**kwargs)


# --- One comparison --------------------------------------------------------------------------


def test_paired_draws_resolve_a_difference_their_shared_noise_would_hide():
    rng = np.random.default_rng(1)
    shared = rng.normal(0, 0.3, 20)  # the same subsamples move both positions alike
    a = subsample_estimate(1.0, 0, rng, pairing="s", noise=shared)
    b = subsample_estimate(1.3, 0, rng, pairing="s", noise=shared + rng.normal(0, 0.02, 20))
    assert compare(a, b).outcome == "higher"
    unpaired = subsample_estimate(1.3, 0, rng, pairing="t", noise=shared)
    assert compare(a, unpaired).outcome == "not resolved"


def test_a_resolved_direction_comes_first_and_same_needs_no_direction_within_the_effect():
    rng = np.random.default_rng(2)
    a = subsample_estimate(1.0, 0.005, rng)
    assert compare(a, subsample_estimate(1.02, 0.005, rng)).outcome == "higher"
    level = subsample_estimate(1.0, 0.005, rng)
    step = compare(a, level)
    assert step.outcome == "same" and step.equivalent and not step.different
    assert compare(a, level, smallest=0.0001).outcome == "not resolved"
    assert compare(a, subsample_estimate(1.5, 0.005, rng)).different


def test_seed_comparisons_use_the_exact_rank_interval():
    fast, slow = seeds([100, 110, 120, 105, 115]), seeds([200, 220, 210, 230, 205])
    step = compare(fast, slow)
    assert step.outcome == "higher" and math.exp(step.difference) == pytest.approx(1.87, rel=0.05)
    assert compare(slow, fast).outcome == "lower"
    # Two seeds each cannot reach a 90% interval: never resolved, whatever the values.
    assert compare(seeds([1, 2]), seeds([1000, 2000])).outcome == "not resolved"
    # Three each can, at exactly 1/20 each side.
    assert compare(seeds([1, 2, 3]), seeds([1000, 2000, 3000])).outcome == "higher"


def test_proportions_are_compared_as_differences_against_binomial_noise():
    assert compare(proportion(0.800, 4000), proportion(0.803, 4000), log=False).outcome == (
        "not resolved"
    )
    assert compare(proportion(0.80, 4000), proportion(0.85, 4000), log=False).outcome == "higher"
    with pytest.raises(ValueError, match="log=False"):
        compare(proportion(0.8, 10), proportion(0.9, 10))


def test_ranges_compare_conservatively_and_not_reached_is_slower():
    reached, never = crossing([5, 2, 1], 3), crossing([5, 4, 4], 3)
    assert compare(reached, never).outcome == "higher"
    assert compare(never, crossing([5, 4, 4], 3)).outcome == "not resolved"


def test_a_position_the_grid_does_not_bracket_is_not_resolved():
    grid = np.geomspace(1, 10, 20)
    flat = position(grid, np.full(20, 0.2), 0.2)  # never rises
    assert math.isnan(flat.value)
    assert compare(flat, Estimate(3.0)).outcome == "not resolved"


# --- Parts and verdicts ----------------------------------------------------------------------


def exact(*values):
    return [Estimate(v) for v in values]


def test_ordered_holds_fails_or_is_not_resolved():
    assert ordered(exact(1, 2, 4), increasing=True).outcome == "holds"
    assert ordered(exact(1, 2, 4), increasing=False).outcome == "fails"
    assert ordered(exact(1, 1, 4), increasing=True).outcome == "fails"  # a step the same
    assert ordered(exact(1, 1.01, 4), increasing=True).outcome == "holds"  # small, resolved
    rng = np.random.default_rng(3)
    noisy = [subsample_estimate(v, 0.5, rng) for v in (1, 1.2, 1.4)]
    part = ordered(noisy, increasing=True, labels=["a", "b", "c"])
    assert part.outcome == "not resolved" and "a → b" in part.reason and "b → c" in part.reason


def test_alike_holds_only_when_every_comparison_is_resolved_the_same():
    assert alike(exact(1, 1.02, 1.01)).outcome == "holds"  # resolved, but within the effect
    assert alike(exact(1, 1.02, 2)).outcome == "fails"
    assert alike(exact(1, 1.02, 1.12)).outcome == "fails"  # the ends differ by more than 1.1


@pytest.mark.parametrize(
    "parts, outcome, phrase, mark",
    [
        ({1: "holds", 2: "holds"}, "holds", "reproduces", "✓"),
        ({1: "fails", 2: "fails"}, "fails", "does not reproduce", "✗"),
        (
            {1: "holds", 2: "fails", 3: "holds"},
            "in part",
            "reproduces in part: (1) and (3) of three",
            "◐",
        ),
        (
            {1: "holds", 2: "not resolved", 3: "fails"},
            "in part",
            "reproduces in part: (1) of three; (2) not resolved",
            "◐",
        ),
        ({1: "fails", 2: "not resolved"}, "fails", "does not reproduce; (2) not resolved", "✗"),
        ({1: "not resolved", 2: "not resolved"}, "not resolved", "not resolved at this scale", "?"),
    ],
)
def test_parts_combine_into_one_verdict(parts, outcome, phrase, mark):
    assert combine(parts) == outcome
    assert verdict(outcome, parts) == (phrase, mark)


def test_a_check_refuses_an_outcome_its_parts_contradict():
    with pytest.raises(ValueError, match="contradicts"):
        Check("holds", "s", "t", parts={1: "holds", 2: "fails"})
    with pytest.raises(ValueError, match="parts"):
        Check("in part", "s", "t")
    with pytest.raises(ValueError, match="non-empty"):
        Check("holds", "", "t")
    check = Check("not resolved", "s", "t")
    assert not check.holds and check.verdict() == ("not resolved at this scale", "?")


def test_decided_by_takes_one_setting_s_verdict_and_every_statistic():
    checks = {"adam": Check("holds", "a1", "sa"), "sgd": Check("fails", "s1", "ss")}
    chosen = verdicts.decided_by(checks, "sgd")
    assert chosen.outcome == "fails" and chosen.statistic == "adam: a1; sgd: s1"
    with pytest.raises(ValueError, match="not one of"):
        verdicts.decided_by(checks, "rmsprop")


def test_span_shows_estimates_with_their_intervals():
    text = span("median epochs", ["3 layers", "7 layers"], [seeds([1, 2, 3]), 4.0])
    assert text == "median epochs, 3 layers → 7 layers: 2 [1, 3] → 4"


# --- Calibration: the rule on synthetic data with known noise --------------------------------


def draw_positions(rng, truths, spread, repeats=20):
    """Positions of curves measured on the same analysis points: each full-set value is off
    its truth by a shared and an own error of standard deviation ``spread``, and the
    half-samples scatter around the full-set value by the same law (f = 1/2)."""
    estimates = []
    shared_full, shared_draws = rng.normal(0, spread, 1), rng.normal(0, spread, repeats)
    for truth in truths:
        full = truth * math.exp(shared_full[0] + rng.normal(0, spread))
        draws = full * np.exp(shared_draws + rng.normal(0, spread, repeats))
        estimates.append(Estimate(full, "subsamples", tuple(draws), pairing="s"))
    return estimates


def outcome_rates(rng, truths, spread, *, increasing=True, trials=400):
    counts = {"holds": 0, "fails": 0, "not resolved": 0}
    for _ in range(trials):
        counts[ordered(draw_positions(rng, truths, spread), increasing=increasing).outcome] += 1
    return {k: v / trials for k, v in counts.items()}


def test_calibration_a_null_effect_rarely_holds():
    """No effect, noise as large as the smallest effect: the claim holds at most at the
    one-sided false rate of one step (5%), and is mostly not resolved."""
    rates = outcome_rates(np.random.default_rng(10), [1.0, 1.0], spread=0.06)
    assert rates["holds"] <= 0.08
    assert rates["not resolved"] >= 0.6


def test_calibration_a_precise_null_effect_is_resolved_the_same():
    rates = outcome_rates(np.random.default_rng(11), [1.0, 1.0, 1.0], spread=0.005)
    assert rates["fails"] >= 0.95  # resolved the same: the claimed order is absent


def test_calibration_a_real_effect_of_stated_size_is_resolved():
    """A factor 1.5 per step with 5% noise per position is resolved in nearly every draw, and
    the same data read against the claim's direction fail, never hold."""
    rng = np.random.default_rng(12)
    assert outcome_rates(rng, [1.0, 1.5, 2.25], spread=0.05)["holds"] >= 0.95
    inverted = outcome_rates(rng, [1.0, 1.5, 2.25], spread=0.05, increasing=False)
    assert inverted["holds"] == 0 and inverted["fails"] >= 0.95


def test_calibration_seed_intervals_cover_at_their_level():
    """Two settings with no difference, five seeds each with lognormal epochs: a step is
    resolved (either way) in at most about 10% of draws, and a true factor of 2 is resolved
    higher in most."""
    rng = np.random.default_rng(13)
    null = [
        compare(seeds(np.exp(rng.normal(6, 0.3, 5))), seeds(np.exp(rng.normal(6, 0.3, 5))))
        for _ in range(500)
    ]
    resolved = sum(s.outcome in ("higher", "lower") for s in null) / len(null)
    assert resolved <= 0.12
    real = [
        compare(
            seeds(np.exp(rng.normal(6, 0.3, 5))), seeds(np.exp(rng.normal(6 + math.log(2), 0.3, 5)))
        )
        for _ in range(200)
    ]
    assert sum(s.outcome == "higher" for s in real) / len(real) >= 0.8


def test_calibration_binomial_comparisons_hold_their_false_rate():
    rng = np.random.default_rng(14)
    n, p = 4000, 0.8
    steps = [
        compare(
            proportion(rng.binomial(n, p) / n, n), proportion(rng.binomial(n, p) / n, n), log=False
        )
        for _ in range(1000)
    ]
    assert sum(s.outcome in ("higher", "lower") for s in steps) / len(steps) <= 0.13


def test_the_rule_is_named_once():
    assert RULE == Rule(verdicts.LEVEL, verdicts.SMALLEST_RATIO, verdicts.SMALLEST_DIFFERENCE)
