"""The claims of the paper, each checked by one function that returns a ``dfp.verdicts.Check``.

C1 and C2 (Figs. 1(a), 1(b)): fewer epochs to a designated error (``fewer_epochs_check``); C3
(Fig. 3): the RDF peak of sin(k pi x) moves right with k (``rdf_peaks_check``); C4 (Fig. 5):
deeper Resnet18 variants train faster and validate better (``accuracy_check``); C5-C7 (Figs. 6-8):
the deep frequency principle (``deep_frequency_check``, ``resnet_deep_frequency_check``); C8 and
C9 (Fig. 9): very deep networks with and without residual connections
(``very_deep_speed_check``, ``very_deep_frequency_check``); and the parity function of the
Discussion (``parity_check``).

Every comparison is decided against its uncertainty by the one rule of ``dfp.verdicts``
(``RULE``: the interval level and the smallest effects): a part holds when it is resolved in
the stated direction, fails when it is resolved against it (or resolved the same within the
smallest effect), and is not resolved at this scale otherwise. Each check takes the small
arrays it reads (curves, subsample draws, epochs per seed, accuracies, losses) and records
them in its ``Check.inputs``, so ``redecide`` decides a committed result again under a changed
rule without training. ``dfp.page.glue_claim`` glues the result into the notebook. Imports no
Keras, no plotting and no notebook machinery.
"""

import dataclasses
import functools
import inspect
import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from dfp._vocabulary import CLAIMS, RESIDUAL_FORM_NAMES
from dfp.grids import grid_step_at
from dfp.spectral import halfway_inv_delta
from dfp.verdicts import (
    RULE,
    Check,
    Estimate,
    Part,
    Rule,
    alike,
    combine,
    compare,
    crossing,
    decided_by,
    interval,
    ordered,
    position,
    proportion,
    seeds,
    show,
    span,
)

__all__ = [
    "CLAIMS",
    "DESIGNATED_LOSS",
    "TRAINING_FRACTIONS",
    "Check",
    "accuracy_check",
    "check_fields",
    "curve_records",
    "decisive_epochs",
    "deep_frequency_check",
    "fewer_epochs_check",
    "initial_conclusion",
    "initial_frequency_check",
    "intermediate_epoch",
    "parity_check",
    "precision_control",
    "precision_control_text",
    "rdf_peaks_check",
    "redecide",
    "resnet_deep_frequency_check",
    "snapshots",
    "trajectory",
    "very_deep_frequency_check",
    "very_deep_speed_check",
]

# C4: the training accuracies whose epochs are compared, as fractions of the best accuracy
# that every variant reaches.
TRAINING_FRACTIONS = (0.5, 0.7, 0.9)
# C8: a network's speed is the epochs it takes to bring its training loss below this
# fraction of its first recorded loss (the paper: "epochs needed to reach a designated error").
DESIGNATED_LOSS = 0.1

_CHECKS = {}


def _encode(value):
    """A check's argument as JSON: arrays and tuples as lists, estimates tagged, inf/NaN as
    strings."""
    if isinstance(value, Estimate):
        return {"estimate": value.to_json()}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_encode(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else str(float(value))
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"a check's argument must be JSON-like, not {type(value).__name__}")


def _decode(value):
    if isinstance(value, Mapping):
        if set(value) == {"estimate"}:
            return Estimate.from_json(value["estimate"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if value in ("inf", "-inf", "nan"):
        return float(value)
    return value


def _recorded(check):
    """Registers a check and records its arguments in the ``Check`` it returns (``inputs``)."""
    signature = inspect.signature(check)

    @functools.wraps(check)
    def recorded(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        arguments = {k: v for k, v in bound.arguments.items() if k != "rule"}
        result = check(*args, **kwargs)
        return dataclasses.replace(
            result, inputs={"check": check.__name__, "arguments": _encode(arguments)}
        )

    _CHECKS[check.__name__] = recorded
    return recorded


def check_fields(check: Check) -> dict:
    """What a summary keeps of a decided claim: its verdict and the numbers behind it.

    Args:
        check: a claim's ``Check``.

    Returns:
        {"outcome", "holds", "verdict", "mark", "statistic", "summary", "parts" (string
        keys), "effects"}.
    """
    phrase, mark = check.verdict()
    return {
        "outcome": check.outcome,
        "holds": check.holds,
        "verdict": phrase,
        "mark": mark,
        "statistic": check.statistic,
        "summary": check.summary,
        "parts": None if check.parts is None else {str(k): v for k, v in check.parts.items()},
        "effects": check.effects,
    }


def _curve_record(epoch, label, inv_delta, curve, floor, halfway_draws, peak_draws, fraction, rule):
    """One curve's entry of a figure's summary: where it sits, with its intervals."""
    record = {"epoch": None if epoch is None else int(epoch), "curve": str(label)}
    for which, draws in (("halfway", halfway_draws), ("peak", peak_draws)):
        estimate = position(inv_delta, curve, floor, draws, which=which, fraction=fraction)
        low, high = interval(estimate, rule=rule)
        value = estimate.value
        record[which] = value if math.isfinite(value) else None
        bounds = [low, high] if draws is not None and math.isfinite(low) else None
        record[f"{which}_interval"] = bounds
    return {
        k: record[k]
        for k in ("epoch", "curve", "peak", "halfway", "halfway_interval", "peak_interval")
    }


def curve_records(inputs: Mapping, *, rule: Rule = RULE) -> list[dict] | None:
    """Every curve a check read, as a figure's summary lists it, from the check's inputs.

    Args:
        inputs: a ``Check.inputs`` (as a result keeps it).
        rule: the rule whose level the intervals take.

    Returns:
        [{"epoch", "curve", "peak", "halfway", "halfway_interval", "peak_interval"}] (an
        interval is None where the check had no draws for it; epoch None for curves of no
        training, Fig. 3's), or None for a check that reads no curves.
    """
    name, a = inputs.get("check"), _decode(dict(inputs.get("arguments", {})))
    if name == "decided_by":
        return curve_records(a["checks"][a["name"]], rule=rule)
    grid, fraction = a.get("inv_delta"), a.get("fraction", 0.5)
    record = lambda *args: _curve_record(*args, fraction, rule)
    if name == "deep_frequency_check":
        draws = a.get("draws") or [None] * len(a["epochs"])
        return [
            record(epoch, label, grid, curve, floor, None if d is None else d[j], None)
            for epoch, curves, floors, d in zip(a["epochs"], a["curves"], a["floors"], draws)
            for j, (label, curve, floor) in enumerate(zip(a["labels"], curves, floors))
        ]
    if name == "rdf_peaks_check":
        draws = a.get("draws") or {}
        pick = lambda key, i: None if draws.get(key) is None else draws[key][i]
        return [
            record(None, f"k={k}", grid, curve, floor, pick("halfway", i), pick("peak", i))
            for i, (k, curve, floor) in enumerate(zip(a["labels"], a["curves"], a["floors"]))
        ]
    if name == "initial_frequency_check":
        return [
            record(0, f"{label}, seed {seed}", grid, curve, floor, None, None)
            for label, curves, floors in zip(a["labels"], a["curves"], a["floors"])
            for seed, curve, floor in zip(a["seeds_used"], curves, floors)
        ]
    if name == "parity_check":
        draws = a.get("draws") or [None] * len(a["layers"])
        return [
            record(a["epoch"], f"layer {l}", grid, curve, floor, d, None)
            for l, curve, floor, d in zip(a["layers"], a["curves"], a["floors"], draws)
        ]
    if name == "very_deep_frequency_check":
        found = []
        for key, form in (("no_residual", None), ("residual", a.get("residual_form"))):
            for depth, r in zip(a["depths"], a[key]):
                if r is not None:
                    form_label = (
                        _form_name(None)
                        if key == "no_residual"
                        else _form_name(form)
                        if form
                        else "residual"
                    )
                    label = f"L={depth}, {form_label}"
                    found.append(
                        record(
                            a["epoch"], label, grid, r["curve"], r["floor"], r.get("draws"), None
                        )
                    )
        return found
    return None


def redecide(inputs: Mapping, *, rule: Rule = RULE) -> Check:
    """Decide a claim again from the inputs its check recorded (``Check.inputs``).

    Args:
        inputs: {"check": name, "arguments": JSON}, as a committed result keeps them.
        rule: the rule to decide it by (default: the current one).

    Returns:
        The ``Check`` the named check returns today on those arguments.
    """
    name = inputs.get("check")
    if name == "decided_by":  # one claim checked in several settings, decided by one
        arguments = inputs["arguments"]
        checks = {s: redecide(i, rule=rule) for s, i in arguments["checks"].items()}
        return decided_by(checks, arguments["name"])
    if name not in _CHECKS:
        raise ValueError(f"unknown check {name!r}; the checks are {sorted(_CHECKS)}")
    arguments = _decode(dict(inputs["arguments"]))
    return _CHECKS[name](**arguments, rule=rule)


def _effect(label, step, outcome):
    """A deciding effect for the report's summary figure."""
    transform = math.exp if step.log else (lambda v: v)
    value = lambda v: None if math.isnan(v) else (transform(v) if math.isfinite(v) else None)
    return {
        "label": label,
        "effect": value(step.difference),
        "low": value(step.low) if step.low != -math.inf else 0.0 if step.log else None,
        "high": value(step.high),
        "ratio": step.log,
        "outcome": outcome,
    }


def _percent(level):
    """A level in percent, as many digits as it has (0.9: "90%", 0.999: "99.9%")."""
    return f"{100 * level:.4g}%"


def _first_to_last(estimates, labels, log=True, rule=RULE):
    return compare(estimates[0], estimates[-1], log=log, rule=rule)


def _with_intervals(estimates, log=True, rule=RULE):
    """The evidence panel's values and intervals of a series of estimates."""
    values = [np.nan if e is None or not math.isfinite(e.value) else e.value for e in estimates]
    intervals = [None if e is None else interval(e, log=log, rule=rule) for e in estimates]
    intervals = [
        None if i is None or not all(np.isfinite(i)) else (float(i[0]), float(i[1]))
        for i in intervals
    ]
    return values, intervals


def _evidence(xlabel, labels, ticks, ylabel, series, rule=RULE):
    """The evidence panel of estimates on a log scale: {series name: one estimate per label},
    each drawn with its interval; ``ticks`` short names for ``labels`` (None: the labels)."""
    drawn = {name: _with_intervals(estimates, rule=rule) for name, estimates in series.items()}
    return dict(
        xlabel=xlabel,
        labels=labels if ticks is None else ticks,
        ylabel=ylabel,
        log=True,
        series={name: values for name, (values, _) in drawn.items()},
        intervals={name: intervals for name, (_, intervals) in drawn.items()},
    )


# --- C1, C2: epochs over seeds ---------------------------------------------------------------


@_recorded
def fewer_epochs_check(
    runs: Sequence,
    cap: int,
    *,
    increasing: bool,
    labels: Sequence,
    xlabel: str,
    ticks: Sequence | None = None,
    rule: Rule = RULE,
) -> Check:
    """Do the epochs to a loss over seeds follow an order (Figs. 1a, 1b)?

    Each consecutive pair of settings is compared by the Hodges-Lehmann ratio of their
    epochs over seeds, with the distribution-free interval of the exact Mann-Whitney test;
    a capped run counts as the cap (a lower bound).

    Args:
        runs: for each setting, the epochs each seed took (None: capped at ``cap``).
        cap: the epoch cap.
        increasing: the order the claim states, from the first setting to the last.
        labels: one name per setting, for the statistic and the summary.
        xlabel: the evidence panel's x axis title (e.g. "hidden layers").
        ticks: short names of the settings on the panel's x axis (default: ``labels``).
        rule: the rule.

    Returns:
        A ``Check`` of one part; values: "medians", the median epochs of each setting.
    """
    estimates = [seeds(epochs, cap=cap) for epochs in runs]
    part = ordered(estimates, increasing=increasing, labels=labels, rule=rule)
    seeds_listed = "; ".join(
        f"{label}: {', '.join(f'>={cap}' if e is None else str(e) for e in epochs)}"
        for label, epochs in zip(labels, runs)
    )
    medians = [e.value for e in estimates]
    end = _first_to_last(estimates, labels, rule=rule)
    return Check(
        outcome=part.outcome,
        statistic=(
            f"epochs to the error by seed ({seeds_listed}); ratio of each setting to the one "
            f"before, with its {_percent(rule.level)} interval: {part.reason}"
        ),
        summary=span("median epochs", labels, medians) + f" (×{math.exp(end.difference):.3g})",
        evidence=_evidence(
            xlabel,
            labels,
            ticks,
            "epochs to the error (range over seeds)",
            {"median epochs": estimates},
            rule,
        ),
        values={"medians": medians},
        effects=[_effect(f"{labels[0]} → {labels[-1]}, epochs", end, part.outcome)],
    )


# --- C3: RDF peaks by frequency --------------------------------------------------------------


def _positions(inv_delta, curves, floors, draws, which, fraction, pairing):
    """Estimates of one position of each curve, with their draws where given."""
    if draws is not None and len(draws) != len(curves):
        raise ValueError(f"{len(draws)} sets of draws for {len(curves)} curves")
    return [
        position(
            inv_delta,
            curve,
            floor,
            None if draws is None or draws[i] is None else draws[i],
            which=which,
            fraction=fraction,
            pairing=pairing,
        )
        for i, (curve, floor) in enumerate(zip(curves, floors))
    ]


@_recorded
def rdf_peaks_check(
    inv_delta: ArrayLike,
    curves: Sequence,
    floors: Sequence,
    *,
    labels: Sequence,
    draws: Mapping | None = None,
    fraction: float = 0.5,
    rule: Rule = RULE,
) -> Check:
    """C3 (Fig. 3): does the RDF peak move to larger 1/delta as k in sin(k pi x) grows?

    Args:
        inv_delta: the grid shared by the curves.
        curves: one LFR curve per k, in increasing k.
        floors: each curve's LFR floor.
        labels: the k values.
        draws: {"peak": [...], "halfway": [...]}, each one array of subsample positions per
            curve (``dfp.intervals.position_draws``, the same subsamples for every curve), or
            None for no intervals.
        fraction: the fraction of the points each subsample holds.
        rule: the rule.

    Returns:
        A ``Check`` of one part: the peaks must increase with k, step by step; the half-way
        points are reported beside them as a second measure. Values: "peaks", "halfway".
    """
    draws = draws or {}
    peaks = _positions(inv_delta, curves, floors, draws.get("peak"), "peak", fraction, "k")
    halfway = _positions(inv_delta, curves, floors, draws.get("halfway"), "halfway", fraction, "k")
    part = ordered(peaks, increasing=True, labels=[f"k={k}" for k in labels], rule=rule)
    values, intervals = _with_intervals(peaks, rule=rule)
    halfway_values, halfway_intervals = _with_intervals(halfway, rule=rule)
    statistic = (
        "RDF peak 1/δ by k: "
        + ", ".join(f"{k}: {show(p)}" for k, p in zip(labels, peaks))
        + f" ({part.reason}); half-way 1/δ: "
        + ", ".join(show(h) for h in halfway)
    )
    end = _first_to_last(peaks, labels, rule=rule)
    return Check(
        outcome=part.outcome,
        statistic=statistic,
        summary=span("RDF peak 1/δ", [f"k={k}" for k in labels], peaks),
        evidence=dict(
            xlabel="k in sin(kπx)",
            labels=labels,
            ylabel="1/δ",
            series={"RDF peak": values, "half-way": halfway_values},
            intervals={"RDF peak": intervals, "half-way": halfway_intervals},
        ),
        values={"peaks": [p.value for p in peaks], "halfway": [h.value for h in halfway]},
        effects=[_effect(f"k={labels[0]} → k={labels[-1]}, RDF peak", end, part.outcome)],
    )


# --- C5, C6, C7: the deep frequency principle ------------------------------------------------


def intermediate_epoch(epochs: Sequence[int], candidates: Sequence[int] | None = None) -> int:
    """The snapshot part (2) of C5-C7 is read at: the one nearest the middle of the run,
    half-way between the first snapshot and the last.

    Args:
        epochs: the snapshot epochs, ascending (at least three).
        candidates: the epochs that may be chosen (e.g. those with subsample draws); default
            every snapshot but the first and the last.

    Returns:
        The epoch; ties go to the earlier one.
    """
    epochs = sorted(int(e) for e in epochs)
    if len(epochs) < 3:
        raise ValueError(f"part (2) needs a snapshot between the first and the last: {epochs}")
    inner = [e for e in epochs[1:-1] if candidates is None or e in candidates] or epochs[1:-1]
    middle = (epochs[0] + epochs[-1]) / 2
    return min(inner, key=lambda e: (abs(e - middle), e))


def snapshots(spectra: Mapping, layers: Sequence) -> dict:
    """``deep_frequency_check``'s per-snapshot arguments from one network's spectra.

    Args:
        spectra: what ``dfp.callbacks.Spectra.record()`` (or ``spectra_of_snapshots``)
            returned: curves, floors and, where resampled, draws, by epoch and layer.
        layers: the layers compared, shallow to deep.

    Returns:
        {"epochs", "curves", "floors", "draws", "fraction"}: keyword arguments of
        ``deep_frequency_check``.
    """
    epochs = sorted(spectra["curves"])
    draws = spectra.get("draws") or {}
    return dict(
        epochs=epochs,
        curves=[[spectra["curves"][e][l] for l in layers] for e in epochs],
        floors=[[spectra["floors"][e][l] for l in layers] for e in epochs],
        draws=[[draws[e][l]["halfway"] for l in layers] if e in draws else None for e in epochs],
        fraction=(spectra.get("resample") or {}).get("fraction", 0.5),
    )


def trajectory(spectra: Mapping, layers: Sequence, *, rule: Rule = RULE) -> dict:
    """Each layer's half-way point at every snapshot, with its interval where resampled.

    Args:
        spectra: as for ``snapshots``.
        layers: the layers, shallow to deep.
        rule: the rule whose level the intervals take.

    Returns:
        {"epochs": [...], "halfway": {layer: [value per epoch]}, "intervals": {layer:
        [(low, high) or None per epoch]}}: ``dfp.plots.trajectory_figure``'s arguments.
    """
    arguments = snapshots(spectra, layers)
    halfway, intervals = {l: [] for l in layers}, {l: [] for l in layers}
    for curves, floors, draws in zip(arguments["curves"], arguments["floors"], arguments["draws"]):
        estimates = _positions(
            spectra["inv_delta"], curves, floors, draws, "halfway", arguments["fraction"], None
        )
        values, bars = _with_intervals(estimates, rule=rule)
        for layer, value, bar in zip(layers, values, bars):
            halfway[layer].append(value)
            intervals[layer].append(bar)
    return {"epochs": arguments["epochs"], "halfway": halfway, "intervals": intervals}


def decisive_epochs(epochs: Sequence[int]) -> list[int]:
    """The snapshots ``deep_frequency_check`` reads: the first, the intermediate one (when
    there are three or more) and the last; the ones that need subsample draws.

    Args:
        epochs: the snapshot epochs.

    Returns:
        Those epochs, ascending.
    """
    epochs = sorted(int(e) for e in epochs)
    if not epochs:
        raise ValueError("no snapshots")
    middle = {intermediate_epoch(epochs)} if len(epochs) >= 3 else set()
    return sorted({epochs[0], epochs[-1]} | middle)


def _moves(before, after):
    """Each curve's move toward low frequency, in decades (log10 before/after), as estimates:
    draw by draw where both have paired draws."""
    moves = []
    for a, b in zip(before, after):
        value = math.log10(a.value / b.value) if a.value > 0 and b.value > 0 else float("nan")
        if a.kind == b.kind == "subsamples" and len(a.draws) == len(b.draws):
            with np.errstate(divide="ignore", invalid="ignore"):
                draws = np.log10(np.asarray(a.draws) / np.asarray(b.draws))
            moves.append(
                Estimate(value, "subsamples", tuple(draws), fraction=a.fraction, pairing=a.pairing)
            )
        else:
            moves.append(Estimate(value))
    return moves


@_recorded
def deep_frequency_check(
    inv_delta: ArrayLike,
    epochs: Sequence[int],
    curves: Sequence,
    floors: Sequence,
    draws: Sequence | None = None,
    *,
    labels: Sequence,
    xlabel: str,
    ticks: Sequence | None = None,
    fraction: float = 0.5,
    rule: Rule = RULE,
) -> Check:
    """The three parts of the deep frequency principle (C5, C6, C7), in order of depth.

    (1) at the first snapshot the half-way 1/delta increases with depth (deeper sits at higher
    frequency); (2) by the intermediate snapshot (``intermediate_epoch``) a deeper layer has
    moved further toward low frequency (log10 of its half-way point then over at the first
    snapshot, in decades), tested on its own so it can fail while (1) and (3) hold; (3) at the
    last snapshot the half-way 1/delta decreases with depth. Every step is decided by
    ``dfp.verdicts.ordered`` against the subsample intervals (the draws of one snapshot and
    of one layer share their subsamples, so the comparisons are paired).

    Args:
        inv_delta: the grid shared by every curve.
        epochs: the snapshot epochs, ascending.
        curves, floors: per snapshot, one LFR curve (and floor) per layer, shallow to deep.
        draws: per snapshot, one array of subsample half-way points per layer, or None for a
            snapshot without them; None for no intervals at all.
        labels: the layers' (or variants') names, shallow to deep.
        xlabel: the evidence panel's x axis title (e.g. "hidden layer").
        ticks: short names on the panel's x axis (default: ``labels``).
        fraction: the fraction of the points each subsample holds.
        rule: the rule.

    Returns:
        A ``Check`` with parts {1, 2, 3}; values: "halfway" (first, intermediate, last: one
        value per layer), "moves" (decades by the intermediate snapshot), "epochs".
    """
    epochs = [int(e) for e in epochs]
    if not (len(curves) == len(floors) == len(epochs)):
        raise ValueError(f"{len(curves)} curves and {len(floors)} floors for {len(epochs)} epochs")
    draws = draws if draws is not None else [None] * len(epochs)
    with_draws = [e for e, d in zip(epochs, draws) if d is not None]
    first, last = 0, len(epochs) - 1
    middle = epochs.index(intermediate_epoch(epochs, with_draws)) if len(epochs) >= 3 else None
    at = {
        i: _positions(inv_delta, curves[i], floors[i], draws[i], "halfway", fraction, "analysis")
        for i in {first, last} | ({middle} if middle is not None else set())
    }
    part1 = ordered(at[first], increasing=True, labels=labels, rule=rule)
    part3 = ordered(at[last], increasing=False, labels=labels, rule=rule)
    if middle is None:
        moves = [Estimate(float("nan"))] * len(labels)
        part2 = Part("not resolved", "no snapshot between the first and the last")
    else:
        moves = _moves(at[first], at[middle])
        part2 = ordered(
            moves,
            increasing=True,
            labels=labels,
            log=False,
            smallest=math.log10(rule.smallest_ratio),
            rule=rule,
        )
    listing = lambda estimates: ", ".join(show(e) for e in estimates)
    mid_epoch = epochs[middle] if middle is not None else None
    statistic = (
        f"half-way 1/δ ({', '.join(map(str, labels))}) with {_percent(rule.level)} intervals, at "
        f"epoch {epochs[first]}: {listing(at[first])} [(1) {part1.outcome}: {part1.reason}]; "
        f"at epoch {epochs[last]}: {listing(at[last])} [(3) {part3.outcome}: {part3.reason}]; "
        f"move toward low frequency by epoch {mid_epoch} (decades): "
        f"{', '.join(show(m, log=False) for m in moves)} [(2) {part2.outcome}: {part2.reason}]"
    )
    parts = {1: part1.outcome, 2: part2.outcome, 3: part3.outcome}
    effects = [
        _effect(
            f"(1) epoch {epochs[first]}, half-way",
            _first_to_last(at[first], labels, rule=rule),
            part1.outcome,
        ),
        _effect(
            f"(3) epoch {epochs[last]}, half-way",
            _first_to_last(at[last], labels, rule=rule),
            part3.outcome,
        ),
    ]
    return Check(
        outcome=combine(parts),
        statistic=statistic,
        summary=(
            f"half-way 1/δ at epoch {epochs[first]}: {span('', labels, at[first])}; "
            f"at epoch {epochs[last]}: {span('', labels, at[last])}"
        ),
        parts=parts,
        evidence=_evidence(
            xlabel,
            labels,
            ticks,
            "half-way 1/δ",
            {f"epoch {epochs[first]}": at[first], f"epoch {epochs[last]}": at[last]},
            rule,
        ),
        values={
            "halfway": tuple([e.value for e in at[i]] for i in sorted(at)),
            "moves": [m.value for m in moves],
            "epochs": (epochs[first], mid_epoch, epochs[last]),
        },
        effects=effects,
    )


def resnet_deep_frequency_check(runs: dict, *, targets: str, rule: Rule = RULE) -> Check:
    """C5 (Fig. 6) or C6 (Fig. 7): ``deep_frequency_check`` on the Resnet18 variants.

    Depth runs from the variant with the highest number (the shallowest) to Resnet18-1.

    Args:
        runs: {variant: what ``dfp.recipes.train_resnet_variant`` returned}.
        targets: "labels" for S^[-3] = {(f^[-3], y)} (C5), "output" for the learning
            component's function {(f^[-3], f^[-1])} (C6).
        rule: the rule.

    Returns:
        ``deep_frequency_check``'s ``Check``, its values also holding "order" (the variants,
        shallow to deep).
    """
    if targets not in ("labels", "output"):
        raise ValueError(f"targets must be 'labels' or 'output', got {targets!r}")
    order = sorted(runs, reverse=True)
    spectra = {v: runs[v][targets] for v in order}
    epochs = sorted(spectra[order[0]]["curves"])

    def draws_at(epoch):
        found = [spectra[v].get("draws", {}).get(epoch) for v in order]
        return None if any(d is None for d in found) else [d["halfway"] for d in found]

    check = deep_frequency_check(
        runs[order[0]]["inv_delta"],
        epochs,
        [[spectra[v]["curves"][e] for v in order] for e in epochs],
        [[spectra[v]["floors"][e] for v in order] for e in epochs],
        [draws_at(e) for e in epochs],
        labels=[f"Resnet18-{v}" for v in order],
        xlabel="variant, shallow to deep",
        ticks=order,
        fraction=spectra[order[0]].get("resample", {}).get("fraction", 0.5),
        rule=rule,
    )
    return dataclasses.replace(check, values={**check.values, "order": order})


@_recorded
def initial_frequency_check(
    inv_delta: ArrayLike,
    curves: Sequence,
    floors: Sequence,
    *,
    labels: Sequence,
    seeds_used: Sequence[int],
    xlabel: str,
    ticks: Sequence | None = None,
    rule: Rule = RULE,
) -> Check:
    """Part (1) of C5 or C6 over seeds: at initialisation a deeper variant sits higher.

    Each variant's half-way 1/delta is measured once per seed (a seed draws the network's
    weights and the analysis images, so the spread over seeds holds both); each step from a
    variant to the next deeper one is decided by ``dfp.verdicts.ordered`` on the
    Hodges-Lehmann ratio of their seeds with the exact Mann-Whitney interval. The reverse
    order is tested the same way, so the statistic says whether the claim's order is
    reversed (every step resolved the other way), mixed, or not resolved.

    Args:
        inv_delta: the grid shared by every curve.
        curves, floors: per variant (shallow to deep), one LFR curve (and floor) per seed.
        labels: the variants' names, shallow to deep.
        seeds_used: the seeds, in the order of each variant's curves.
        xlabel: the evidence panel's x axis title.
        ticks: short names on the panel's x axis (default: ``labels``).
        rule: the rule.

    Returns:
        A ``Check`` of one part; values: "halfway" (per variant, one value per seed),
        "medians", "reversed" (the outcome of the reverse order).

    Raises:
        ValueError: curves and floors that do not match, or a half-way point the grid does not
            bracket (widen the grid).
    """
    if len(curves) != len(floors) or len(curves) != len(labels):
        raise ValueError(
            f"{len(curves)} variants of curves, {len(floors)} of floors, {len(labels)} labels"
        )
    halfway = []
    for label, variant_curves, variant_floors in zip(labels, curves, floors):
        if len(variant_curves) != len(seeds_used) or len(variant_floors) != len(seeds_used):
            raise ValueError(f"{label}: one curve and one floor per seed ({len(seeds_used)})")
        values = [
            position(inv_delta, curve, floor).value
            for curve, floor in zip(variant_curves, variant_floors)
        ]
        outside = [s for s, v in zip(seeds_used, values) if not math.isfinite(v)]
        if outside:
            raise ValueError(
                f"{label}: the grid does not bracket the half-way point at seed(s) {outside}; "
                "widen inv_delta_range"
            )
        halfway.append(values)
    estimates = [seeds(values) for values in halfway]
    part = ordered(estimates, increasing=True, labels=labels, rule=rule)
    reverse = ordered(estimates, increasing=False, labels=labels, rule=rule)
    medians = [e.value for e in estimates]
    end = _first_to_last(estimates, labels, rule=rule)
    by_seed = "; ".join(
        f"{label}: {', '.join(f'{v:.3g}' for v in row)}" for label, row in zip(labels, halfway)
    )
    reversal = {
        "holds": "every step is resolved the other way (deeper lower): the order is reversed",
        "fails": "no step is resolved the other way throughout",
        "not resolved": "the reverse order is not resolved either",
    }[reverse.outcome]
    return Check(
        outcome=part.outcome,
        statistic=(
            f"half-way 1/δ at initialisation by seed ({', '.join(map(str, seeds_used))}): "
            f"{by_seed}; ratio of each variant to the shallower one before it, with its "
            f"{_percent(rule.level)} interval over seeds: {part.reason}; {reversal}"
        ),
        summary=span("median half-way 1/δ", labels, medians)
        + f" (×{math.exp(end.difference):.3g})",
        evidence=_evidence(
            xlabel,
            labels,
            ticks,
            "half-way 1/δ at initialisation",
            {"median over seeds": estimates},
            rule,
        ),
        values={"halfway": halfway, "medians": medians, "reversed": reverse.outcome},
        effects=[_effect(f"{labels[0]} → {labels[-1]}, half-way", end, part.outcome)],
    )


def initial_conclusion(checks: Mapping[str, Check]) -> str:
    """One sentence on part (1) over several architectural choices (``initial_frequency_check``
    of each): whether the paper's order holds, is reversed, or depends on the choice.

    Args:
        checks: {choice's name (e.g. "pool, 1024"): its check}, the deciding choice first.

    Returns:
        The sentence.
    """
    if not checks:
        raise ValueError("no checks to conclude from")
    group = {}
    for name, c in checks.items():
        if c.outcome == "holds":
            key = "holds"
        elif c.values.get("reversed") == "holds":
            key = "reversed"
        else:
            key = c.outcome  # "fails": some step the same or against; or "not resolved"
        group.setdefault(key, []).append(f"[{name}]")
    if set(group) == {"reversed"}:
        return (
            "with every head the order is reversed (every step resolved deeper lower): the "
            "claim does not reproduce, and the choice of head does not decide it"
        )
    if set(group) == {"holds"}:
        return "with every head every step is resolved deeper higher: the claim reproduces"
    words = {
        "holds": "it holds with {}",
        "reversed": "it is reversed with {} (every step resolved deeper lower)",
        "fails": "it does not hold with {} (a step resolved the same or lower)",
        "not resolved": "it is not resolved with {}",
    }
    said = [words[key].format(", ".join(group[key])) for key in words if key in group]
    lead = "the order depends on the head: " if "holds" in group else "no head gives the order: "
    return lead + "; ".join(said)


def precision_control(reference: dict, other: dict, second_seed: dict | None = None) -> dict:
    """Whether a lower training precision changes what a Resnet18 run shows: one variant
    trained twice on the same data and seed, in float32 and at another precision (bf16), and
    optionally once more in float32 at another seed, the difference a seed makes.

    The positions that decide C5 and C6 are the half-way points of the RDFs at each
    snapshot; the two precisions agree when every pair is closer than one grid step, so an
    ordering decided by the float32 run is decided alike. With ``second_seed``, the
    precision's differences are also set against the seed's: the precision stays within the
    seed's variation when no half-way point and neither final accuracy (training,
    validation) moves further between the precisions than between the two float32 seeds.
    One pair of each: an indication of size, not an interval.

    Args:
        reference: one variant's result from ``dfp.recipes.train_resnet_variant`` in float32.
        other: the same variant's at the other precision (same configuration otherwise).
        second_seed: the same variant's in float32 at another seed, or None.

    Returns:
        {agrees (bool), steps (largest difference of half-way points between the precisions,
        in grid steps), seed_steps (the same between the seeds; None without
        ``second_seed``), within_seed (bool, or None without it), halfway {targets: {epoch:
        (reference, other[, second_seed])}}, accuracy and val_accuracy (final, in that
        order), precisions}.

    Raises:
        ValueError: the runs' spectra are on different grids.
    """
    runs = [reference, other] + ([second_seed] if second_seed is not None else [])
    grid = np.asarray(reference["inv_delta"])
    if not all(np.array_equal(grid, np.asarray(run["inv_delta"])) for run in runs[1:]):
        raise ValueError("the runs' spectra are on different grids: not comparable")
    halfway, steps = {}, [0.0, 0.0]  # between the precisions; between the seeds
    for targets in ("labels", "output"):
        halfway[targets] = {}
        for epoch in sorted(reference[targets]["curves"]):
            points = []
            for run in runs:
                curve = run[targets]["curves"][epoch]
                floor = run[targets]["floors"][epoch]
                try:
                    points.append(halfway_inv_delta(grid, curve, floor))
                except ValueError:
                    points.append(float("nan"))
            halfway[targets][epoch] = tuple(points)
            for k, point in enumerate(points[1:]):
                pair = [points[0], point]
                if np.all(np.isfinite(pair)):
                    tie = grid_step_at(grid, min(pair))
                    steps[k] = max(steps[k], abs(pair[1] - pair[0]) / tie)
                elif np.isfinite(pair).any():  # one run's curve left the grid, the other's not
                    steps[k] = float("inf")
    accuracy = tuple(float(run["accuracy"][-1]) for run in runs)
    val_accuracy = tuple(float(run["val_accuracy"][-1]) for run in runs)
    within = None
    if second_seed is not None:
        within = bool(
            steps[0] <= steps[1]
            and all(abs(a[1] - a[0]) <= abs(a[2] - a[0]) for a in (accuracy, val_accuracy))
        )
    return {
        "agrees": bool(steps[0] < 1.0),
        "steps": float(steps[0]),
        "seed_steps": float(steps[1]) if second_seed is not None else None,
        "within_seed": within,
        "halfway": halfway,
        "accuracy": accuracy,
        "val_accuracy": val_accuracy,
        "precisions": (reference.get("precision", "float32"), other.get("precision")),
    }


def precision_control_text(control: dict, variant: int) -> str:
    """A page's sentence on a precision control (``precision_control``).

    Args:
        control: its result.
        variant: the Resnet18 variant it trained.

    Returns:
        What was trained, the final accuracies, the largest difference of half-way points
        in grid steps, and what follows.
    """
    precision = control["precisions"][1]
    seeded = control["seed_steps"] is not None
    runs = f"float32 and {precision}" + (", and float32 at the next seed" if seeded else "")
    accuracy = lambda values: ", ".join(f"{v:.3f}" for v in values)  # noqa: E731
    text = (
        f"Resnet18-{variant} trained in {runs}: final training accuracy "
        f"{accuracy(control['accuracy'])}, validation accuracy "
        f"{accuracy(control['val_accuracy'])}; the half-way points differ by at most "
        f"{control['steps']:.2g} grid steps between the precisions"
    )
    if seeded:
        text += f" and {control['seed_steps']:.2g} between the seeds"
    if control["agrees"]:
        text += f": {precision} moves no position by a grid step"
    elif seeded and control["within_seed"]:
        text += f": {precision} moves the run no further than a change of seed does"
    else:
        text += f": {precision} moves the run " + (
            "further than a change of seed does" if seeded else "by more than a grid step"
        )
    if seeded:
        text += " (one run of each: a size, not an interval)"
    return text + "."


# --- C4: Resnet18 variants' training speed and validation accuracy ---------------------------


def _decide_all(parts):
    """One part from several (e.g. one per threshold): holds if all hold, fails if any fails."""
    outcomes = [p.outcome for p in parts]
    if all(o == "holds" for o in outcomes):
        return "holds"
    return "fails" if "fails" in outcomes else "not resolved"


@_recorded
def accuracy_check(
    accuracies: Sequence,
    validation_accuracies: Sequence,
    *,
    validation_size: int,
    labels: Sequence,
    fractions: Sequence[float] = TRAINING_FRACTIONS,
    ticks: Sequence | None = None,
    xlabel: str = "variant, shallow to deep",
    rule: Rule = RULE,
) -> Check:
    """C4 (Fig. 5): do deeper variants train faster and validate better?

    (1) the epochs to each of several training accuracies (``fractions`` of the best
    accuracy every variant reaches) decrease with depth; one run's epochs to an accuracy is
    the range from its first crossing to the epoch after which it stays above. It holds when
    it holds at every accuracy, fails when it fails at any. (2) the final validation accuracy
    increases with depth, each step compared against the binomial uncertainty of accuracies
    on ``validation_size`` images.

    Args:
        accuracies, validation_accuracies: per variant, shallow to deep, the accuracy of
            every epoch.
        validation_size: the number of validation images.
        labels: the variants' names, shallow to deep.
        fractions: the training accuracies compared, as fractions of the best every variant
            reaches.
        ticks: their short names on the evidence panel's x axis (default: ``labels``).
        xlabel: the panel's x axis title.
        rule: the rule.

    Returns:
        A ``Check`` with parts {1, 2}; values: "thresholds", "reached" (per threshold, the
        epochs of each variant, None where never) and "validation".
    """
    if len(accuracies) != len(labels) or len(validation_accuracies) != len(labels):
        raise ValueError(
            f"{len(accuracies)} and {len(validation_accuracies)} runs for {len(labels)} labels"
        )
    best = min(float(np.max(a)) for a in accuracies)
    thresholds = [f * best for f in fractions]
    reached = [[crossing(a, t, below=False) for a in accuracies] for t in thresholds]
    faster = [ordered(r, increasing=False, labels=labels, rule=rule) for r in reached]
    validation = [proportion(float(v[-1]), validation_size) for v in validation_accuracies]
    better = ordered(validation, increasing=True, labels=labels, log=False, rule=rule)
    parts = {1: _decide_all(faster), 2: better.outcome}
    per_threshold = "; ".join(
        f"to {t:.3f}: {', '.join(show(e) for e in r)} ({p.outcome}: {p.reason})"
        for t, r, p in zip(thresholds, reached, faster)
    )
    statistic = (
        f"epochs to training accuracy ({', '.join(labels)}), as ranges [first crossing, "
        f"stays above] {per_threshold} [(1) {parts[1]}]; final validation accuracy on "
        f"{validation_size:,} images: {', '.join(show(v, log=False) for v in validation)} "
        f"[(2) {better.outcome}: {better.reason}]"
    )
    middle = len(thresholds) // 2
    values, intervals = _with_intervals(validation, log=False, rule=rule)
    return Check(
        outcome=combine(parts),
        statistic=statistic,
        summary=(
            f"epochs to {thresholds[middle]:.2f}: {show(reached[middle][0])} → "
            f"{show(reached[middle][-1])}; "
            + span("validation accuracy", labels, [v.value for v in validation])
        ),
        parts=parts,
        evidence=dict(
            xlabel=xlabel,
            labels=labels if ticks is None else ticks,
            ylabel="final accuracy",
            series={"training": [float(a[-1]) for a in accuracies], "validation": values},
            intervals={"validation": intervals},
        ),
        values={
            "thresholds": thresholds,
            "reached": [[None if math.isinf(e.value) else e.value for e in r] for r in reached],
            "validation": [v.value for v in validation],
        },
        effects=[
            _effect(
                f"(1) epochs to {thresholds[middle]:.2f}",
                _first_to_last(reached[middle], labels, rule=rule),
                parts[1],
            ),
            _effect(
                "(2) validation accuracy",
                _first_to_last(validation, labels, log=False, rule=rule),
                parts[2],
            ),
        ],
    )


# --- C8, C9: very deep networks --------------------------------------------------------------


def _form_name(form):
    return RESIDUAL_FORM_NAMES.get(form, str(form))


def _diverged(items, depths):
    return [f"L={d}" for d, v in zip(depths, items) if v is None]


def _not_evaluated(diverged):
    return Part("fails", f"not evaluated: {', '.join(diverged)} diverged")


def _fig9_evidence(quantity, estimates, depths, residual_form, log=True, rule=RULE):
    """Fig. 9's evidence panel: one series per form, a diverged network a gap."""
    series, intervals = {}, {}
    residual_name = _form_name(residual_form) if residual_form else "residual"
    for key, name in (("none", _form_name(None)), ("residual", residual_name)):
        values, bars = _with_intervals(estimates[key], log=log, rule=rule)
        series[name], intervals[name] = values, bars
    return dict(
        xlabel="layers L",
        labels=list(depths),
        ylabel=quantity,
        log=True,
        series=series,
        intervals=intervals,
    )


def _very_deep_check(
    estimates, *, depths, heading, quantity, effect, optimizer, residual_form, rule
):
    """C8's and C9's shared form, on one estimate per network: (1) without residual
    connections it increases with depth; (2) with them it is the same at every depth. A part
    with a diverged network (None) is not evaluated, and fails.

    Args:
        estimates: {"none": [...], "residual": [...]}, one ``Estimate`` (or None) per depth.
        depths: the numbers of layers.
        heading: what the statistic opens with (the quantity and when it was measured).
        quantity: the quantity's name in the summary and on the evidence panel.
        effect: the word that ends the deciding effects' labels.
        optimizer, residual_form, rule: as for the checks.

    Returns:
        The ``Check``; values: "none" and "residual", the estimates' values.
    """
    labels = [f"L={d}" for d in depths]
    diverged = {key: _diverged(values, depths) for key, values in estimates.items()}
    found = {
        "none": _not_evaluated(diverged["none"])
        if diverged["none"]
        else ordered(estimates["none"], increasing=True, labels=labels, rule=rule),
        "residual": _not_evaluated(diverged["residual"])
        if diverged["residual"]
        else alike(estimates["residual"], labels=labels, rule=rule),
    }
    words = lambda values: ", ".join(show(v, missing="diverged") for v in values)
    prefix = f"{optimizer}: " if optimizer else ""
    statistic = (
        f"{heading} by L={'/'.join(map(str, depths))}: "
        f"{_form_name(None)} {words(estimates['none'])} ((1) {found['none'].outcome}: "
        f"{found['none'].reason}), {_form_name(residual_form)} {words(estimates['residual'])} "
        f"((2) {found['residual'].outcome}: {found['residual'].reason})"
    )
    parts = {1: found["none"].outcome, 2: found["residual"].outcome}
    effects = [
        _effect(
            f"{name} {_form_name(None if key == 'none' else residual_form)}, {effect}",
            _first_to_last(estimates[key], labels, rule=rule),
            found[key].outcome,
        )
        for key, name in (("none", "(1)"), ("residual", "(2)"))
        if not diverged[key]
    ]
    return Check(
        outcome=combine(parts),
        statistic=statistic,
        summary=(
            f"{prefix}{quantity}: {_form_name(None)} "
            + span("", labels, estimates["none"], missing="diverged")
            + f"; {_form_name(residual_form)} "
            + span("", labels, estimates["residual"], missing="diverged")
        ),
        parts=parts,
        evidence=_fig9_evidence(quantity, estimates, depths, residual_form, rule=rule),
        values={
            key: [None if e is None else e.value for e in values]
            for key, values in estimates.items()
        },
        effects=effects,
    )


@_recorded
def very_deep_speed_check(
    no_residual: Sequence,
    residual: Sequence,
    *,
    depths: Sequence[int],
    designated: float = DESIGNATED_LOSS,
    optimizer: str | None = None,
    residual_form: str | None = None,
    rule: Rule = RULE,
) -> Check:
    """C8 (Fig. 9a): without residual connections very deep networks learn slower; with them,
    at about the same speed.

    A network's speed is the epochs it takes to bring its training loss below ``designated``
    times its first recorded loss, as the range from the first crossing to the epoch after
    which it stays below (a loss that jumps back widens it); a network that never gets there
    is slower than every one that does. (1) without residual connections, the epochs increase
    with depth; (2) with them, they are the same at every depth (within the smallest effect).
    A network that diverged (None) never counts: its part fails, not evaluated.

    Args:
        no_residual, residual: the training loss of every epoch, by depth (shallow to deep);
            None for a network whose training diverged.
        depths: the numbers of layers.
        designated: the loss to reach, as a fraction of the first recorded loss.
        optimizer: the training setting, named first in the summary.
        residual_form: the residual networks' form ("unscaled" or "scaled").
        rule: the rule.

    Returns:
        A ``Check`` with parts {1, 2}; values: "none" and "residual", the epochs (inf where
        never reached, None where diverged).
    """
    if len(depths) < 2 or len(no_residual) != len(depths) or len(residual) != len(depths):
        raise ValueError(
            f"C8 compares at least two depths, one loss curve each: {len(no_residual)} and "
            f"{len(residual)} curves for depths {list(depths)}"
        )
    for curve in [*no_residual, *residual]:
        if curve is not None and not np.all(np.isfinite(np.asarray(curve, np.float64))):
            raise ValueError("a loss curve contains NaN or inf; pass None for a diverged network")
    epochs = {
        key: [None if c is None else crossing(c, designated * float(c[0])) for c in curves]
        for key, curves in (("none", no_residual), ("residual", residual))
    }
    return _very_deep_check(
        epochs,
        depths=depths,
        heading=f"epochs to {designated:g}× the first loss",
        quantity=f"epochs to {designated:g}× the first loss",
        effect="epochs",
        optimizer=optimizer,
        residual_form=residual_form,
        rule=rule,
    )


@_recorded
def very_deep_frequency_check(
    inv_delta: ArrayLike,
    no_residual: Sequence,
    residual: Sequence,
    *,
    depths: Sequence[int],
    epoch: int,
    fraction: float = 0.5,
    optimizer: str | None = None,
    residual_form: str | None = None,
    rule: Rule = RULE,
) -> Check:
    """C9 (Fig. 9b): without residual connections a deeper network's effective target has more
    high-frequency power; with them, depth makes almost no difference.

    (1) the half-way 1/delta of S^[-3] without residual connections increases with depth;
    (2) with them, it is the same at every depth (within the smallest effect). A network that
    diverged before the snapshot (None) has no curve: its part fails, not evaluated.

    Args:
        inv_delta: the grid shared by the curves.
        no_residual, residual: by depth, shallow to deep, {"curve", "floor", "draws"} of
            S^[-3] at the snapshot (draws: subsample half-way points, or None); None for a
            network whose training diverged before the snapshot.
        depths: the numbers of layers.
        epoch: the snapshot's epoch, for the statistic.
        fraction: the fraction of the points each subsample holds.
        optimizer: the training setting, named first in the summary.
        residual_form: the residual networks' form ("unscaled" or "scaled").
        rule: the rule.

    Returns:
        A ``Check`` with parts {1, 2}; values: "none" and "residual", the half-way points.
    """
    halfway = {
        key: [
            None
            if r is None
            else position(
                inv_delta,
                r["curve"],
                r["floor"],
                r.get("draws"),
                fraction=fraction,
                pairing="analysis",
            )
            for r in records
        ]
        for key, records in (("none", no_residual), ("residual", residual))
    }
    return _very_deep_check(
        halfway,
        depths=depths,
        heading=f"half-way 1/δ of S[-3] at epoch {epoch}",
        quantity="half-way 1/δ",
        effect="half-way",
        optimizer=optimizer,
        residual_form=residual_form,
        rule=rule,
    )


# --- Parity ----------------------------------------------------------------------------------


@_recorded
def parity_check(
    inv_delta: ArrayLike,
    curves: Sequence,
    floors: Sequence,
    draws: Sequence | None = None,
    *,
    layers: Sequence[int],
    epoch: int,
    fraction: float = 0.5,
    rule: Rule = RULE,
) -> Check:
    """Parity (Sec. 5): at the end of training, do deeper hidden layers sit at lower frequency?

    The half-way 1/delta must decrease over the hidden layers, step by step, against the
    subsample intervals; the statistic gives every step.

    Args:
        inv_delta: the grid shared by the curves.
        curves, floors: one LFR curve (and floor) per hidden layer in ``layers``, at ``epoch``.
        draws: one array of subsample half-way points per layer, or None.
        layers: the hidden layers compared, shallow to deep.
        epoch: the epoch of the curves.
        fraction: the fraction of the points each subsample holds.
        rule: the rule.

    Returns:
        A ``Check`` of one part; values: "halfway" and "peaks", by layer.
    """
    if not len(curves) == len(floors) == len(layers):
        raise ValueError(f"{len(curves)} curves, {len(floors)} floors for layers {list(layers)}")
    halfway = _positions(inv_delta, curves, floors, draws, "halfway", fraction, "analysis")
    peaks = _positions(inv_delta, curves, floors, None, "peak", fraction, None)
    labels = [f"layer {l}" for l in layers]
    part = ordered(halfway, increasing=False, labels=labels, rule=rule)
    values, intervals = _with_intervals(halfway, rule=rule)
    statistic = (
        f"half-way 1/δ at epoch {epoch} by layer {layers[0]}-{layers[-1]}, with "
        f"{_percent(rule.level)} intervals: {', '.join(show(h) for h in halfway)} ({part.reason}); "
        f"RDF peaks: {', '.join(f'{p.value:.3g}' for p in peaks)}"
    )
    return Check(
        outcome=part.outcome,
        statistic=statistic,
        summary=f"half-way 1/δ at epoch {epoch}: " + span("", labels, halfway),
        evidence=dict(
            xlabel="hidden layer",
            labels=list(layers),
            ylabel="half-way 1/δ",
            log=True,
            series={f"epoch {epoch}": values},
            intervals={f"epoch {epoch}": intervals},
        ),
        values={"halfway": [h.value for h in halfway], "peaks": [p.value for p in peaks]},
        effects=[
            _effect(
                f"{labels[0]} → {labels[-1]}, half-way",
                _first_to_last(halfway, labels, rule=rule),
                part.outcome,
            )
        ],
    )
