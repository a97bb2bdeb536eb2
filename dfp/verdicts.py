"""Verdicts: how every claim's comparisons are decided against their uncertainty, one rule for all.

Every number a verdict reads is an ``Estimate``: a value and what its uncertainty is made of
(``kind``):

- ``"subsamples"``: a curve position (half-way point, RDF peak) measured on n analysis points,
  with the same position measured on subsamples of a fraction of them, drawn without
  duplicates (``dfp.intervals``). Estimates whose draws share ``pairing`` were measured on the
  same subsamples, so their difference is read draw by draw.
- ``"seeds"``: one value per seed (e.g. epochs to an error); the value is their median.
- ``"binomial"``: a proportion of ``trials`` (e.g. a validation accuracy).
- ``"range"``: one run's value known to lie in [low, high] (e.g. the epochs a fluctuating
  loss takes to get below a level, from its first crossing to the last); ``"exact"``: none.

``compare(a, b)`` decides one step, b against a, from the interval of their difference at
``RULE.level``: **"higher"** or **"lower"** when it excludes no change, else **"same"** when
the whole interval lies within the smallest effect (``RULE.smallest_ratio`` for positive
quantities compared as ratios, ``RULE.smallest_difference`` for proportions), else **"not
resolved"**. An order is a question of direction; "no difference" (``alike``) one of
equivalence: there a resolved difference smaller than the smallest effect counts as none.
A claim part is built from steps (``ordered``,
``alike``) and ``"holds"``, ``"fails"`` or is ``"not resolved"``; a claim combines its parts
(``combine``) and is said in words by ``verdict``. A claim's check (``dfp.claims``) returns a
``Check``. This module imports no Keras, no plotting and no notebook machinery.
"""

import dataclasses
import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from dfp.spectral import halfway_inv_delta, peak_inv_delta

__all__ = [
    "LEVEL",
    "MARKS",
    "OUTCOMES",
    "RULE",
    "SMALLEST_DIFFERENCE",
    "SMALLEST_RATIO",
    "Check",
    "Estimate",
    "Part",
    "Rule",
    "Step",
    "alike",
    "combine",
    "compare",
    "crossing",
    "decided_by",
    "difference",
    "interval",
    "ordered",
    "position",
    "proportion",
    "seeds",
    "show",
    "span",
    "verdict",
]

# The rule every comparison of every claim is decided by, named once.
LEVEL = 0.9  # two-sided level of every interval: a step is resolved at 5% error each side
SMALLEST_RATIO = 1.1  # two positive quantities within this factor are "the same"
SMALLEST_DIFFERENCE = 0.01  # two proportions (accuracies) within this are "the same"


@dataclasses.dataclass(frozen=True)
class Rule:
    """The parameters of the one rule: interval level and smallest effects.

    Attributes:
        level: two-sided level of every interval, in (0, 1).
        smallest_ratio: positive quantities within this factor (> 1) of each other are the same.
        smallest_difference: proportions within this (> 0) of each other are the same.
    """

    level: float = LEVEL
    smallest_ratio: float = SMALLEST_RATIO
    smallest_difference: float = SMALLEST_DIFFERENCE

    def __post_init__(self):
        if not 0 < self.level < 1:
            raise ValueError(f"level must lie in (0, 1), got {self.level}")
        if not self.smallest_ratio > 1:
            raise ValueError(f"smallest_ratio must exceed 1, got {self.smallest_ratio}")
        if not self.smallest_difference > 0:
            raise ValueError(
                f"smallest_difference must be positive, got {self.smallest_difference}"
            )


RULE = Rule()

KINDS = ("subsamples", "seeds", "binomial", "range", "exact")


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A measured number and what its uncertainty is made of (see the module's docstring).

    Attributes:
        value: the estimate (NaN: not measured, e.g. a half-way point the grid does not
            bracket; inf: not reached, e.g. a loss never reached).
        kind: one of ``KINDS``.
        draws: "subsamples": the value on each subsample (NaN where not measured); "seeds": the
            value of each seed.
        fraction: "subsamples": the fraction of the points each subsample holds.
        pairing: "subsamples": estimates with the same pairing were measured on the same
            subsamples (compared draw by draw); None for unpaired.
        trials: "binomial": the number of trials.
        low, high: "range": the range the value lies in.
    """

    value: float
    kind: str = "exact"
    draws: tuple = ()
    fraction: float = 0.5
    pairing: str | None = None
    trials: int = 0
    low: float | None = None
    high: float | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "draws", tuple(float(d) for d in self.draws))
        if self.kind == "subsamples" and (len(self.draws) < 2 or not 0 < self.fraction < 1):
            raise ValueError(
                f"a subsample estimate needs at least 2 draws and a fraction in (0, 1), got "
                f"{len(self.draws)} draws and fraction {self.fraction}"
            )
        if self.kind == "seeds" and not self.draws:
            raise ValueError("a seeds estimate needs the value of each seed (draws)")
        if self.kind == "binomial" and not (self.trials >= 1 and 0 <= self.value <= 1):
            raise ValueError(
                f"a binomial estimate needs trials >= 1 and a proportion in [0, 1], got "
                f"{self.value} of {self.trials}"
            )
        if self.kind == "range":
            if self.low is None or self.high is None or not self.low <= self.value <= self.high:
                raise ValueError(
                    f"a range estimate needs low <= value <= high, got {self.low}, {self.value}, "
                    f"{self.high}"
                )

    def to_json(self) -> dict:
        """The estimate as JSON (``from_json`` reads it back; inf and NaN as strings)."""
        record = {"value": _number_out(self.value), "kind": self.kind}
        if self.draws:
            record["draws"] = [_number_out(d) for d in self.draws]
        if self.kind == "subsamples":
            record.update(fraction=self.fraction, pairing=self.pairing)
        if self.kind == "binomial":
            record["trials"] = self.trials
        if self.kind == "range":
            record.update(low=_number_out(self.low), high=_number_out(self.high))
        return record

    @classmethod
    def from_json(cls, record: Mapping) -> "Estimate":
        """Read back what ``to_json`` wrote."""
        fields = dict(record)
        for name in ("value", "low", "high"):
            if fields.get(name) is not None:
                fields[name] = _number_in(fields[name])
        fields["draws"] = tuple(_number_in(d) for d in fields.get("draws", ()))
        return cls(**fields)


def _number_out(value):
    value = float(value)
    return value if math.isfinite(value) else str(value)


def _number_in(value):
    return float(value)  # float("inf"), float("nan") read the strings back


# --- Estimates of each kind ------------------------------------------------------------------


def position(
    inv_delta: ArrayLike,
    curve: ArrayLike,
    floor: float,
    draws: ArrayLike | None = None,
    *,
    which: str = "halfway",
    fraction: float = 0.5,
    pairing: str | None = None,
) -> Estimate:
    """Where an LFR curve sits (its half-way point or RDF peak), with its subsample draws.

    Args:
        inv_delta: the grid of the curve.
        curve: the LFR on the grid, from all the analysis points.
        floor: the curve's LFR floor.
        draws: the same position on each subsample (``dfp.intervals.position_draws``), or
            None for an estimate without uncertainty ("exact").
        which: "halfway" or "peak".
        fraction: the fraction of the points each subsample holds.
        pairing: a name shared by positions measured on the same subsamples.

    Returns:
        An ``Estimate``; its value is NaN where the grid does not bracket the half-way point.
    """
    if which == "halfway":
        try:
            value = halfway_inv_delta(inv_delta, curve, floor)
        except ValueError:
            value = float("nan")
    elif which == "peak":
        value = peak_inv_delta(inv_delta, curve)
    else:
        raise ValueError(f"which must be 'halfway' or 'peak', got {which!r}")
    if draws is None:
        return Estimate(value)
    return Estimate(value, "subsamples", tuple(draws), fraction=fraction, pairing=pairing)


def seeds(values: Sequence[float | None], *, cap: float | None = None) -> Estimate:
    """One value per seed (e.g. epochs to an error); None for a run stopped by ``cap``.

    A capped run counts as ``cap``: a lower bound, so a setting whose runs were capped is
    compared as if it were no slower than the cap.

    Args:
        values: the value of each seed.
        cap: what a None stands for.

    Returns:
        An ``Estimate`` of kind "seeds", its value the median.
    """
    if any(v is None for v in values) and cap is None:
        raise ValueError("a None (capped run) needs the cap it stands for")
    numbers = [float(cap if v is None else v) for v in values]
    if not numbers or not all(math.isfinite(v) for v in numbers):
        raise ValueError(f"seeds need finite values, got {list(values)}")
    return Estimate(float(np.median(numbers)), "seeds", tuple(numbers))


def proportion(value: float, trials: int) -> Estimate:
    """A proportion of ``trials`` (e.g. a validation accuracy on ``trials`` images).

    Returns:
        An ``Estimate`` of kind "binomial".
    """
    return Estimate(float(value), "binomial", trials=int(trials))


def crossing(values: ArrayLike, level: float, *, below: bool = True) -> Estimate:
    """The epoch (counting from 1) at which one run's curve gets past ``level``, with its range.

    A fluctuating curve may cross the level, come back and cross again: the range runs from
    the first crossing to the epoch after which it stays past the level. An epoch's value is
    measured at its end, so a first crossing at epoch e happened after epoch e - 1: the range
    starts there (two runs that both cross in their first epoch cannot be told apart). A
    curve that never gets there is "not reached": value and high inf, low the curve's last
    epoch.

    Args:
        values: the curve, one value per epoch (e.g. the training loss).
        level: the level to get past.
        below: True for getting below (a loss), False for getting above (an accuracy).

    Returns:
        An ``Estimate`` of kind "range" (the value is the first crossing).
    """
    values = np.asarray(values, np.float64)
    if values.ndim != 1 or not values.size:
        raise ValueError(f"a curve needs at least one value, got shape {values.shape}")
    past = values <= level if below else values >= level
    past &= np.isfinite(values)
    if not past.any():
        return Estimate(math.inf, "range", low=values.size, high=math.inf)
    first = int(np.argmax(past)) + 1
    if past[-1]:
        not_past = np.nonzero(~past)[0]
        stays = int(not_past[-1]) + 2 if not_past.size else 1  # the epoch after the last miss
        return Estimate(first, "range", low=first - 1, high=max(first, stays))
    return Estimate(first, "range", low=first - 1, high=math.inf)  # past once, not at the end


# --- Intervals and comparisons ---------------------------------------------------------------


def _z(rule):
    return NormalDist().inv_cdf((1 + rule.level) / 2)


def _scale(values, log):
    values = np.asarray(values, np.float64)
    if not log:
        return values
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf (a range from 0)
        return np.where(values >= 0, np.log(np.where(values >= 0, values, 1.0)), np.nan)


def _unscale(value, log):
    return float(np.exp(value)) if log else float(value)


def _subsample_sd(draws, fraction):
    finite = draws[np.isfinite(draws)]
    if finite.size < max(2, (draws.size + 1) // 2):
        return None
    return float(np.std(finite, ddof=1)) * math.sqrt(fraction / (1 - fraction))


def interval(estimate: Estimate, *, log: bool = True, rule: Rule = RULE) -> tuple[float, float]:
    """The interval of one estimate at ``rule.level``.

    Subsamples: the full-set value ± z standard errors, the standard error being the spread
    of the draws scaled by sqrt(f / (1 - f)) (on a log scale with ``log``). Seeds: the range
    over seeds. Binomial: the normal interval, clipped to [0, 1]. Range: the range.

    Returns:
        (low, high); (NaN, NaN) where the estimate was not measured.
    """
    if not math.isfinite(estimate.value) and estimate.kind != "range":
        return (float("nan"), float("nan"))
    if estimate.kind == "subsamples":
        sd = _subsample_sd(_scale(estimate.draws, log), estimate.fraction)
        if sd is None:
            return (float("nan"), float("nan"))
        centre = _scale([estimate.value], log)[0]
        half = _z(rule) * sd
        return (_unscale(centre - half, log), _unscale(centre + half, log))
    if estimate.kind == "seeds":
        return (min(estimate.draws), max(estimate.draws))
    if estimate.kind == "binomial":
        p, n = estimate.value, estimate.trials
        half = _z(rule) * math.sqrt(p * (1 - p) / n)
        return (max(0.0, p - half), min(1.0, p + half))
    if estimate.kind == "range":
        return (float(estimate.low), float(estimate.high))
    return (estimate.value, estimate.value)


def _rank_shift_interval(a, b, level):
    """Hodges-Lehmann shift of b over a with its distribution-free interval from the exact
    Mann-Whitney distribution: (shift, low, high); infinite bounds where the level cannot be
    reached with so few values."""
    differences = np.sort(np.subtract.outer(b, a).ravel())
    n, m = len(a), len(b)
    # counts[u]: the orderings of n + m values giving Mann-Whitney U = u under no effect.
    counts = np.zeros((n + 1, m + 1, n * m + 1))
    counts[0, :, 0] = counts[:, 0, 0] = 1
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            counts[i, j, j:] += counts[i - 1, j, : n * m + 1 - j]
            counts[i, j] += counts[i, j - 1]
    cdf = np.cumsum(counts[n, m]) / counts[n, m].sum()
    alpha = (1 - level) / 2
    k = int(np.sum(cdf <= alpha + 1e-12))  # P(U <= k - 1) <= alpha: the k-th smallest difference
    shift = float(np.median(differences))
    if k < 1:
        return shift, -math.inf, math.inf
    return shift, float(differences[k - 1]), float(differences[n * m - k])


def difference(
    a: Estimate, b: Estimate, *, log: bool = True, rule: Rule = RULE
) -> tuple[float, float, float]:
    """b minus a (on a log scale with ``log``: the log of their ratio), with its interval.

    Paired subsamples (same ``pairing``, same number of draws): the full-set difference ± z
    standard errors of the draw-by-draw differences; unpaired subsamples: the two standard
    errors combined. Seeds: the Hodges-Lehmann shift with the distribution-free interval of
    the exact Mann-Whitney test. Two proportions: the normal interval of their difference.
    Anything else (a range, an exact value, two kinds mixed): the interval of b minus the
    interval of a, a conservative bound.

    Returns:
        (difference, low, high); NaNs where either was not measured.
    """
    if a.kind == "binomial" or b.kind == "binomial":
        if log:
            raise ValueError("proportions are compared by their difference: pass log=False")
    nan = (float("nan"),) * 3
    if math.isnan(a.value) or math.isnan(b.value):
        return nan
    z = _z(rule)
    if a.kind == b.kind == "subsamples":
        da, db = _scale(a.draws, log), _scale(b.draws, log)
        centre = float(_scale([b.value], log)[0] - _scale([a.value], log)[0])
        if a.pairing is not None and a.pairing == b.pairing and da.size == db.size:
            with np.errstate(invalid="ignore"):  # an inf draw's difference is NaN: dropped
                sd = _subsample_sd(db - da, a.fraction)
        else:
            sds = [_subsample_sd(da, a.fraction), _subsample_sd(db, b.fraction)]
            sd = None if None in sds else math.hypot(*sds)
        if sd is None or not math.isfinite(centre):
            return nan
        return centre, centre - z * sd, centre + z * sd
    if a.kind == b.kind == "seeds":
        return _rank_shift_interval(_scale(a.draws, log), _scale(b.draws, log), rule.level)
    if a.kind == b.kind == "binomial":
        half = z * math.sqrt(
            a.value * (1 - a.value) / a.trials + b.value * (1 - b.value) / b.trials
        )
        centre = b.value - a.value
        return centre, centre - half, centre + half
    (alo, ahi), (blo, bhi) = interval(a, log=log, rule=rule), interval(b, log=log, rule=rule)
    if any(math.isnan(v) for v in (alo, ahi, blo, bhi)):
        return nan
    ga, gb = _scale([a.value, alo, ahi], log), _scale([b.value, blo, bhi], log)
    with np.errstate(invalid="ignore"):
        centre = float(gb[0] - ga[0])
    return centre, float(gb[1] - ga[2]), float(gb[2] - ga[1])


@dataclasses.dataclass(frozen=True)
class Step:
    """One comparison, b against a: "higher", "lower", "same" or "not resolved".

    Attributes:
        outcome: the outcome.
        difference, low, high: b minus a and its interval (log of the ratio for ratios).
        log: whether the difference is of logs (a ratio).
        smallest: the smallest effect it was decided with, on the same scale.
    """

    outcome: str
    difference: float
    low: float
    high: float
    log: bool
    smallest: float = 0.0

    @property
    def equivalent(self) -> bool:
        """Whether the whole interval lies within the smallest effect: no difference that
        matters (it may still resolve a direction, a smaller one)."""
        return -self.smallest <= self.low and self.high <= self.smallest

    @property
    def different(self) -> bool:
        """Whether the whole interval lies beyond the smallest effect, on one side."""
        return self.low > self.smallest or self.high < -self.smallest

    def words(self, outcome: str | None = None) -> str:
        """E.g. "lower (×0.61, 0.55-0.68)", with ``outcome`` in place of the step's own."""
        outcome = outcome or self.outcome
        if math.isnan(self.difference) or math.isnan(self.low) or math.isnan(self.high):
            return f"{outcome} (no interval: a value not measured, or neither reached)"
        if self.log:
            show = lambda v: (
                "inf" if v == math.inf else "0" if v == -math.inf else f"{math.exp(v):.3g}"
            )
            return f"{outcome} (×{show(self.difference)}, {show(self.low)}-{show(self.high)})"
        return f"{outcome} ({self.difference:+.3g}, {self.low:+.3g} to {self.high:+.3g})"


def compare(
    a: Estimate,
    b: Estimate,
    *,
    log: bool = True,
    smallest: float | None = None,
    rule: Rule = RULE,
) -> Step:
    """Decide one step, b against a, against the interval of their difference.

    "higher" or "lower" when the interval excludes no change (a direction is resolved);
    else "same" when the whole interval lies within the smallest effect (no difference
    that matters, and no direction); else "not resolved".

    Args:
        a, b: the two estimates.
        log: compare as a ratio (positive quantities) or as a difference (proportions).
        smallest: the smallest effect on the compared scale; default ln(rule.smallest_ratio)
            for ratios and rule.smallest_difference for differences.
        rule: the rule.

    Returns:
        A ``Step``.
    """
    if smallest is None:
        smallest = math.log(rule.smallest_ratio) if log else rule.smallest_difference
    centre, low, high = difference(a, b, log=log, rule=rule)
    if math.isnan(low) or math.isnan(high):
        outcome = "not resolved"
    elif low > 0:
        outcome = "higher"
    elif high < 0:
        outcome = "lower"
    elif -smallest <= low and high <= smallest:
        outcome = "same"
    else:
        outcome = "not resolved"
    return Step(outcome, centre, low, high, log, smallest)


OUTCOMES = ("holds", "fails", "not resolved")


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of a claim: its outcome ("holds", "fails", "not resolved"), why, and its steps.

    Attributes:
        outcome: one of ``OUTCOMES``.
        reason: a short sentence with the deciding steps.
        steps: the consecutive comparisons it was built from.
    """

    outcome: str
    reason: str
    steps: tuple = ()

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")


def _labels(labels, count):
    labels = [str(i) for i in range(count)] if labels is None else [str(l) for l in labels]
    if len(labels) != count:
        raise ValueError(f"{len(labels)} labels for {count} estimates")
    return labels


def _steps(estimates, labels, log, smallest, rule):
    if len(estimates) < 2:
        raise ValueError(f"a comparison needs at least two estimates, got {len(estimates)}")
    return [
        compare(a, b, log=log, smallest=smallest, rule=rule)
        for a, b in zip(estimates[:-1], estimates[1:])
    ]


def ordered(
    estimates: Sequence[Estimate],
    *,
    increasing: bool,
    labels: Sequence | None = None,
    log: bool = True,
    smallest: float | None = None,
    rule: Rule = RULE,
) -> Part:
    """Does the claim's order hold from one estimate to the next?

    Holds when every consecutive step is resolved in the stated direction (its interval
    excludes no change); fails when any step is resolved against it, or resolved the same
    (no direction, and no difference beyond the smallest effect); else not resolved, the
    reason saying which steps are.

    Args:
        estimates: one per item, in the order of the claim (e.g. by depth).
        increasing: the stated direction.
        labels: the items' names for the reason.
        log, smallest, rule: as for ``compare``.

    Returns:
        A ``Part``.
    """
    labels = _labels(labels, len(estimates))
    steps = _steps(estimates, labels, log, smallest, rule)
    want = "higher" if increasing else "lower"
    said = [f"{labels[i]} → {labels[i + 1]}: {s.words()}" for i, s in enumerate(steps)]
    against = [i for i, s in enumerate(steps) if s.outcome not in (want, "not resolved")]
    if against:
        outcome = "fails"
    elif all(s.outcome == want for s in steps):
        outcome = "holds"
    else:
        outcome = "not resolved"
    return Part(outcome, "; ".join(said), tuple(steps))


def alike(
    estimates: Sequence[Estimate],
    *,
    labels: Sequence | None = None,
    log: bool = True,
    smallest: float | None = None,
    rule: Rule = RULE,
) -> Part:
    """Do the estimates make no difference (each consecutive pair and the ends the same)?

    A question of equivalence, not of direction: holds when the interval of every one of
    those comparisons lies within the smallest effect (a resolved but smaller difference
    counts as the same); fails when any lies wholly beyond it; else not resolved.

    Returns:
        A ``Part``.
    """
    labels = _labels(labels, len(estimates))
    steps = _steps(estimates, labels, log, smallest, rule)
    pairs = [(labels[i], labels[i + 1]) for i in range(len(steps))]
    if len(estimates) > 2:
        steps.append(compare(estimates[0], estimates[-1], log=log, smallest=smallest, rule=rule))
        pairs.append((labels[0], labels[-1]))
    said = [  # as sameness reads them: within the smallest effect is the same
        f"{x} → {y}: {s.words('same' if s.equivalent else None)}" for (x, y), s in zip(pairs, steps)
    ]
    measured = all(not (math.isnan(s.low) or math.isnan(s.high)) for s in steps)
    if any(s.different for s in steps):
        outcome = "fails"
    elif measured and all(s.equivalent for s in steps):
        outcome = "holds"
    else:
        outcome = "not resolved"
    return Part(outcome, "; ".join(said), tuple(steps))


def combine(parts: Mapping[int, str]) -> str:
    """A claim's outcome from its parts' outcomes.

    Returns:
        "holds" (every part holds), "in part" (some hold, not all), "fails" (none holds, some
        fail) or "not resolved" (none resolved).
    """
    outcomes = list(parts.values())
    if not outcomes or any(o not in OUTCOMES for o in outcomes):
        raise ValueError(f"parts must be {{part: one of {OUTCOMES}}}, got {dict(parts)}")
    if all(o == "holds" for o in outcomes):
        return "holds"
    if "holds" in outcomes:
        return "in part"
    if "fails" in outcomes:
        return "fails"
    return "not resolved"


@dataclasses.dataclass(frozen=True)
class Check:
    """What a claim's check found: the outcome and the numbers behind it.

    Attributes:
        outcome: "holds", "fails", "not resolved", or "in part" (a claim of parts).
        statistic: every number behind the verdict, in one short paragraph (the figure page).
        summary: the two or three numbers that decide it, in one line (the report).
        parts: {part number: outcome} for a claim made of parts (e.g. C7's three), or None;
            the outcome must then be ``combine(parts)``.
        evidence: keyword arguments of ``dfp.plots.evidence_figure`` (xlabel, labels, series,
            intervals, ylabel, log): a small figure of the deciding numbers; None for none.
        values: the named numbers behind the verdict, for a notebook that shows them further.
        effects: the deciding effects, one per part, for the report's summary figure:
            [{"label", "effect", "low", "high", "outcome"}] as ratios (or differences).
        inputs: {"check": the check function's name, "arguments": its arguments as JSON},
            from which ``dfp.claims.redecide`` decides it again without training.

    Raises:
        ValueError: an unknown outcome, an empty text, or parts that contradict the outcome.
    """

    outcome: str
    statistic: str
    summary: str
    parts: dict[int, str] | None = None
    evidence: dict | None = None
    values: dict = dataclasses.field(default_factory=dict)
    effects: list = dataclasses.field(default_factory=list)
    inputs: dict | None = None

    def __post_init__(self):
        if self.outcome not in (*OUTCOMES, "in part"):
            raise ValueError(
                f"outcome must be one of {(*OUTCOMES, 'in part')}, got {self.outcome!r}"
            )
        for name in ("statistic", "summary"):
            text = getattr(self, name)
            if not isinstance(text, str) or not text:
                raise ValueError(f"{name} must be a non-empty string")
        if self.parts is not None:
            parts = {int(k): str(v) for k, v in self.parts.items()}
            object.__setattr__(self, "parts", parts)
            if combine(parts) != self.outcome:
                raise ValueError(f"outcome {self.outcome!r} contradicts the parts {parts}")
        elif self.outcome == "in part":
            raise ValueError("only a claim made of parts holds in part")

    @property
    def holds(self) -> bool:
        """Whether the whole claim holds."""
        return self.outcome == "holds"

    def verdict(self) -> tuple[str, str]:
        """``verdict(self.outcome, self.parts)``."""
        return verdict(self.outcome, self.parts)


_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}

# The mark beside each verdict in the report.
MARKS = {"reproduces": "✓", "does not reproduce": "✗", "in part": "◐", "not resolved": "?"}


def _listing(keys):
    held = [f"({k})" for k in keys]
    return held[0] if len(held) == 1 else ", ".join(held[:-1]) + " and " + held[-1]


def verdict(outcome: str, parts: Mapping[int, str] | None = None) -> tuple[str, str]:
    """The verdict in words and its mark.

    Args:
        outcome: a ``Check``'s outcome.
        parts: {part: outcome} for a claim made of parts, or None.

    Returns:
        (phrase, mark), e.g. ("reproduces", "✓"), ("not resolved at this scale", "?"),
        ("reproduces in part: (1) and (3) of three; (2) not resolved", "◐").
    """
    if parts is not None and combine(parts) != outcome:
        raise ValueError(f"outcome {outcome!r} contradicts the parts {dict(parts)}")
    unresolved = [k for k, v in (parts or {}).items() if v == "not resolved"]
    tail = (
        f"; {_listing(unresolved)} not resolved" if unresolved and outcome != "not resolved" else ""
    )
    if outcome == "holds":
        return "reproduces", MARKS["reproduces"]
    if outcome == "fails":
        return "does not reproduce" + tail, MARKS["does not reproduce"]
    if outcome == "not resolved":
        return "not resolved at this scale", MARKS["not resolved"]
    if outcome == "in part":
        held = [k for k, v in parts.items() if v == "holds"]
        count = _NUMBER_WORDS.get(len(parts), str(len(parts)))
        return f"reproduces in part: {_listing(held)} of {count}{tail}", MARKS["in part"]
    raise ValueError(f"unknown outcome {outcome!r}")


# --- Helpers the checks share ----------------------------------------------------------------


def span(
    name: str, labels: Sequence, values: Sequence, *, digits: int = 3, missing: str = "none"
) -> str:
    """A claim's deciding numbers in one line: "name, first → last: v_first → v_last".

    Args:
        name: what the values are (e.g. "median epochs"); "" for none.
        labels: the settings, in the claim's order.
        values: one number (or ``Estimate``, shown with its interval) per setting; None for a
            setting without one.
        digits: significant digits.
        missing: the word in place of a None (e.g. "diverged").

    Returns:
        e.g. "median epochs, 1 → 6 layers: 3.8e+04 [3.1e+04, 4e+04] → 640 [610, 700]".
    """
    values = list(values)
    if len(values) != len(labels) or not values:
        raise ValueError(f"{len(values)} values for {len(labels)} labels")
    prefix = f"{name}, " if name else ""
    first, last = (show(v, digits=digits, missing=missing) for v in (values[0], values[-1]))
    return f"{prefix}{labels[0]} → {labels[-1]}: {first} → {last}"


def show(value, *, digits: int = 3, missing: str = "none", log: bool = True) -> str:
    """A number, or an ``Estimate`` with its interval ("0.25 [0.23, 0.27]").

    Args:
        value: a number, an ``Estimate`` or None.
        digits: significant digits.
        missing: the word in place of a None.
        log: how a subsample interval is formed (see ``interval``).

    Returns:
        The text.
    """
    if value is None:
        return missing
    if not isinstance(value, Estimate):
        return f"{value:.{digits}g}"
    if math.isnan(value.value):
        return "not measured"
    if value.kind == "range" and value.value == math.inf:
        return f">{value.low:.{digits}g}"
    low, high = interval(value, log=log)
    text = f"{value.value:.{digits}g}"
    if value.kind != "exact" and not (low == high == value.value):
        high_text = "∞" if high == math.inf else f"{high:.{digits}g}"
        text += f" [{low:.{digits}g}, {high_text}]"
    return text


def decided_by(checks: Mapping[str, Check], name: str) -> Check:
    """One claim checked in several settings (e.g. under each optimiser), decided by one.

    Args:
        checks: {setting: its ``Check``}, in the order their statistics are listed.
        name: the setting whose verdict, summary and evidence the claim takes.

    Returns:
        The check of ``name``, its statistic every setting's: "setting: statistic; ...".
    """
    if name not in checks:
        raise ValueError(f"{name!r} is not one of the settings {list(checks)}")
    statistic = "; ".join(f"{setting}: {check.statistic}" for setting, check in checks.items())
    inputs = None
    if all(check.inputs is not None for check in checks.values()):
        inputs = {
            "check": "decided_by",
            "arguments": {"checks": {s: c.inputs for s, c in checks.items()}, "name": name},
        }
    return dataclasses.replace(checks[name], statistic=statistic, inputs=inputs)
