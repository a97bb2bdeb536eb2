"""Verdicts: how every claim's comparisons are decided and said, one rule for all of them.

A claim's check (``dfp.claims``) returns a ``Check``: the verdict (``holds``, and ``parts`` for
a claim made of parts), every number behind it (``statistic``), the two or three numbers that
decide it (``summary``), a small figure of them (``evidence``, keyword arguments of
``dfp.plots.evidence_figure``) and the named numbers a notebook may want (``values``). This
module holds that type, the orderings every check decides with (two positions closer than one
grid step are a tie), where a curve sits (its RDF peak and half-way point), epochs to a
threshold over seeds, and the verdict in words. Imports no Keras, no plotting and no notebook
machinery.
"""

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from dfp.grids import grid_step_at
from dfp.spectral import halfway_inv_delta, peak_inv_delta

__all__ = [
    "MARKS",
    "Check",
    "curve_positions",
    "decided_by",
    "describe_epochs",
    "epochs_to",
    "grid_tie",
    "longest_ordered_prefix",
    "median_epochs",
    "ordered_on_grid",
    "ordering",
    "same_on_grid",
    "span",
    "verdict",
]


@dataclasses.dataclass(frozen=True)
class Check:
    """What a claim's check found: the verdict and the numbers behind it.

    Attributes:
        holds: whether the whole claim holds.
        statistic: every number behind the verdict, in one short paragraph (the figure page).
        summary: the two or three numbers that decide it, in one line (the report).
        parts: {part number: bool} for a claim made of parts (e.g. C7's three), or None.
        evidence: keyword arguments of ``dfp.plots.evidence_figure`` (xlabel, labels, series,
            ylabel, log): a small figure of the deciding numbers; None for none.
        values: the named numbers behind the verdict (e.g. "halfway", "peaks", "medians"),
            for a notebook that shows them further.

    Raises:
        ValueError: ``holds`` is not a bool, a text is empty, or ``parts`` contradict ``holds``.
    """

    holds: bool
    statistic: str
    summary: str
    parts: dict[int, bool] | None = None
    evidence: dict | None = None
    values: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.holds, (bool, np.bool_)):
            raise ValueError(f"holds must be a bool, got {type(self.holds).__name__}")
        object.__setattr__(self, "holds", bool(self.holds))
        for name in ("statistic", "summary"):
            text = getattr(self, name)
            if not isinstance(text, str) or not text:
                raise ValueError(f"{name} must be a non-empty string")
        verdict(self.holds, self.parts)  # parts that contradict holds raise here


def ordering(
    values: ArrayLike, *, tie: float, increasing: bool = True, labels: Sequence | None = None
) -> tuple[bool, str]:
    """Decide whether values are ordered, by the rule every figure shares.

    Consecutive values closer than ``tie`` (one grid step) are a tie, which neither breaks
    nor makes the ordering; a consecutive pair that goes the wrong way by more than ``tie``
    breaks it; and the first and last must differ by more than ``tie`` in the stated
    direction.

    Args:
        values: one number per item, in the order of the claim (e.g. by depth or by k).
        tie: non-negative tolerance, usually one grid step.
        increasing: the stated direction.
        labels: names of the items for the explanation (default: their positions).

    Returns:
        (holds, reason): a bool and a sentence that says why.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size < 2:
        raise ValueError(f"an ordering needs at least two values, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("ordering values contain NaN or inf")
    if not (np.isfinite(tie) and tie >= 0):
        raise ValueError(f"tie must be a finite non-negative number, got {tie}")
    labels = [str(i) for i in range(values.size)] if labels is None else [str(l) for l in labels]
    if len(labels) != values.size:
        raise ValueError(f"{len(labels)} labels for {values.size} values")
    sign = 1.0 if increasing else -1.0
    word = "increasing" if increasing else "decreasing"
    steps = sign * np.diff(values)
    wrong = np.nonzero(steps < -tie)[0]
    if wrong.size:
        k = wrong[0]
        return False, (
            f"not {word}: from {labels[k]} to {labels[k + 1]} it goes "
            f"{values[k]:.4g} -> {values[k + 1]:.4g}"
        )
    if sign * (values[-1] - values[0]) <= tie:
        return False, (
            f"not {word}: {labels[0]} and {labels[-1]} differ by no more than the tie "
            f"{tie:.4g} ({values[0]:.4g} vs {values[-1]:.4g})"
        )
    ties = int(np.sum(np.abs(steps) <= tie))
    return True, f"{word}" + (f" ({ties} tie{'s' * (ties != 1)} within {tie:.4g})" if ties else "")


def curve_positions(inv_delta: ArrayLike, curves: dict, floors: dict) -> dict:
    """Where each LFR curve sits: its RDF peak and its half-way point, both as 1/delta.

    Args:
        inv_delta: the grid shared by the curves.
        curves: {label: LFR values on the grid}.
        floors: {label: the LFR floor of that curve's targets}.

    Returns:
        {label: (peak, halfway)}; halfway is NaN where the grid does not bracket it.
    """
    positions = {}
    for label, values in curves.items():
        try:
            halfway = halfway_inv_delta(inv_delta, values, floors[label])
        except ValueError:
            halfway = float("nan")
        positions[label] = (peak_inv_delta(inv_delta, values), halfway)
    return positions


def grid_tie(inv_delta: ArrayLike, values: ArrayLike) -> float:
    """The tie of every comparison of curve positions: one grid step where they lie.

    On a non-uniform grid it is the widest grid interval holding any of the values (on a
    uniform grid, simply its step). Two positions closer than this cannot be told apart
    by the grid they were measured on.

    Args:
        inv_delta: the grid the positions were measured on.
        values: the positions (1/delta).

    Returns:
        The widest grid interval holding any of ``values``.
    """
    return max(grid_step_at(inv_delta, v) for v in values)


def ordered_on_grid(
    inv_delta: ArrayLike, values: ArrayLike, *, increasing: bool, labels: Sequence
) -> tuple[bool, str]:
    """``ordering`` of curve positions, the tie being ``grid_tie``.

    A NaN (a position the grid does not bracket) leaves the ordering undecided: False.

    Args:
        inv_delta: the grid the positions were measured on.
        values: one position per item, in the order of the claim.
        increasing: the stated direction.
        labels: names of the items for the explanation.

    Returns:
        (holds, reason), as ``ordering``.
    """
    values = np.asarray(values, dtype=np.float64)
    if np.any(np.isnan(values)):
        missing = [str(l) for l, v in zip(labels, values) if np.isnan(v)]
        return (
            False,
            f"undecided: the grid does not bracket the half-way point of {', '.join(missing)}",
        )
    return ordering(values, tie=grid_tie(inv_delta, values), increasing=increasing, labels=labels)


def same_on_grid(inv_delta: ArrayLike, values: ArrayLike) -> tuple[bool, str]:
    """Do curve positions all lie within one tie (``grid_tie``) of each other?

    Args:
        inv_delta: the grid the positions were measured on.
        values: at least two positions.

    Returns:
        (holds, reason); a NaN (a position the grid does not bracket) is undecided: False.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        raise ValueError(f"a comparison needs at least two values, got {values.size}")
    if np.any(np.isnan(values)):
        return False, "undecided (a half-way point outside the grid)"
    tie = grid_tie(inv_delta, values)
    spread = float(values.max() - values.min())
    return bool(spread <= tie), f"spread {spread:.3g} vs one grid step {tie:.3g}"


def longest_ordered_prefix(values: ArrayLike, *, tie: float, increasing: bool = True) -> int:
    """How many leading values are ordered by the rule of ``ordering`` (at least 1).

    For a verdict that holds only partly: "decreasing from 1 to 4 layers, then not".

    Args:
        values: one number per item, in the order of the claim.
        tie: as for ``ordering``.
        increasing: the stated direction.

    Returns:
        The length of the longest ordered prefix.
    """
    values = np.asarray(values, dtype=np.float64)
    for end in range(values.size, 1, -1):
        if ordering(values[:end], tie=tie, increasing=increasing)[0]:
            return end
    return 1


def median_epochs(epochs: Sequence[int | None], cap: int) -> float:
    """Median over seeds, with capped runs (None) counted as ``cap``: a lower bound then.

    Args:
        epochs: the epochs each seed took to the loss; None for a run stopped by the cap.
        cap: the epoch cap.

    Returns:
        The median, a float.
    """
    values = [cap if e is None else e for e in epochs]
    if not values:
        raise ValueError("no runs to take a median of")
    return float(np.median(values))


def describe_epochs(label: str, epochs: Sequence[int | None], cap: int) -> str:
    """One setting's epochs to the loss, for a claim's statistic.

    Args:
        label: the setting's name.
        epochs: the epochs each seed took; None for a run stopped by the cap.
        cap: the epoch cap.

    Returns:
        "label: median m (e1, e2, >=cap)"; the median reads ">=m" when half the runs or more
        were capped.
    """
    runs = ", ".join(f">={cap}" if e is None else str(e) for e in epochs)
    median = median_epochs(epochs, cap)
    bound = ">=" if sum(e is None for e in epochs) * 2 >= len(epochs) else ""
    return f"{label}: median {bound}{median:.0f} ({runs})"


def epochs_to(accuracy: ArrayLike, threshold: float) -> int | None:
    """The first epoch (counting from 1) whose accuracy reaches ``threshold``.

    Args:
        accuracy: the accuracy of every epoch, in order.
        threshold: the accuracy to reach.

    Returns:
        The epoch, or None if no epoch reaches it.
    """
    reached = np.nonzero(np.asarray(accuracy) >= threshold)[0]
    return int(reached[0]) + 1 if reached.size else None


def span(
    name: str, labels: Sequence, values: Sequence, *, digits: int = 3, missing: str = "none"
) -> str:
    """A claim's deciding numbers in one line: "name, first → last: v_first → v_last".

    Args:
        name: what the values are (e.g. "median epochs"); "" for none.
        labels: the settings, in the claim's order.
        values: one number per setting; None for a setting without one.
        digits: significant digits.
        missing: the word in place of a None (e.g. "diverged").

    Returns:
        e.g. "median epochs, 1 → 6 layers: 3.8e+04 → 640".
    """
    values = list(values)
    if len(values) != len(labels) or not values:
        raise ValueError(f"{len(values)} values for {len(labels)} labels")
    prefix = f"{name}, " if name else ""
    first, last = (missing if v is None else f"{v:.{digits}g}" for v in (values[0], values[-1]))
    return f"{prefix}{labels[0]} → {labels[-1]}: {first} → {last}"


_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


# The mark beside each verdict in the report.
MARKS = {"reproduces": "✓", "does not reproduce": "✗", "in part": "◐"}


def verdict(holds: bool, parts: dict | None = None) -> tuple[str, str]:
    """The verdict in words: "reproduces", "does not reproduce" or "reproduces in part: ...".

    Args:
        holds: whether the whole claim holds.
        parts: {part number: bool} for a claim made of parts (e.g. C7's three), or None.

    Returns:
        (phrase, mark): e.g. ("reproduces in part: (2) and (3) of three", "◐").
    """
    if parts and not holds and any(parts.values()) and not all(parts.values()):
        held = [f"({k})" for k, v in parts.items() if v]
        listed = held[0] if len(held) == 1 else ", ".join(held[:-1]) + " and " + held[-1]
        return (
            f"reproduces in part: {listed} of {_NUMBER_WORDS.get(len(parts), len(parts))}",
            MARKS["in part"],
        )
    if parts and bool(holds) != all(parts.values()):
        raise ValueError(f"holds={holds} contradicts the parts {parts}")
    phrase = "reproduces" if holds else "does not reproduce"
    return phrase, MARKS[phrase]


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
    return dataclasses.replace(checks[name], statistic=statistic)
