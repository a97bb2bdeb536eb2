"""The claims of the paper, each checked by one function that returns a ``dfp.verdicts.Check``.

C1 and C2 (Figs. 1(a), 1(b)): fewer epochs to a designated error (``fewer_epochs_check``); C3
(Fig. 3): the RDF peak of sin(k pi x) moves right with k (``rdf_peaks_check``); C4 (Fig. 5):
deeper Resnet18 variants train faster and validate better (``accuracy_check``); C5-C7 (Figs. 6-8):
the deep frequency principle (``deep_frequency_check``, ``resnet_deep_frequency_check``); C8 and
C9 (Fig. 9): very deep networks with and without residual connections
(``very_deep_speed_check``, ``very_deep_frequency_check``); and the parity function of the
Discussion (``parity_check``). Every comparison is decided by the one rule of ``dfp.verdicts``;
``dfp.page.glue_claim`` glues the result into the notebook, so the book's text and the report
quote what was measured. Imports no Keras, no plotting and no notebook machinery.
"""

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from dfp._vocabulary import CLAIMS
from dfp.grids import grid_step_at
from dfp.spectral import halfway_inv_delta
from dfp.verdicts import (
    Check,
    curve_positions,
    describe_epochs,
    epochs_to,
    grid_tie,
    longest_ordered_prefix,
    median_epochs,
    ordered_on_grid,
    ordering,
    same_on_grid,
    span,
)

__all__ = [
    "CLAIMS",
    "SAME_SPEED_RATIO",
    "Check",
    "accuracy_check",
    "deep_frequency_check",
    "faster_toward_low_frequency",
    "fewer_epochs_check",
    "parity_check",
    "precision_control",
    "rdf_peaks_check",
    "resnet_deep_frequency_check",
    "very_deep_frequency_check",
    "very_deep_speed_check",
]


def faster_toward_low_frequency(
    inv_delta: ArrayLike, before: ArrayLike, after: ArrayLike, *, labels: Sequence
) -> tuple[bool, str, np.ndarray]:
    """Does a deeper layer (or variant) move toward low frequency more?

    The move of each curve is log10(before / after) of its half-way 1/delta: how many
    decades it shifted toward low frequency. The moves must increase along ``labels``; the
    tie is one grid step at the positions involved, in decades.

    Args:
        inv_delta: the grid the positions were measured on.
        before, after: the half-way 1/delta of each curve at the earlier and the later time.
        labels: the curves' names, in the order of the claim.

    Returns:
        (holds, reason, moves): moves in decades, one per label.
    """
    before, after = np.asarray(before, np.float64), np.asarray(after, np.float64)
    if np.any(np.isnan(before)) or np.any(np.isnan(after)):
        return (
            False,
            "undecided: the grid does not bracket every half-way point",
            np.full(len(before), np.nan),
        )
    moves = np.log10(before / after)
    # One grid step where a curve sits, in decades: the same tie as everywhere else.
    tie = max(np.log10(1 + grid_tie(inv_delta, [v]) / v) for v in np.concatenate([before, after]))
    holds, reason = ordering(moves, tie=tie, increasing=True, labels=labels)
    return holds, reason, moves


def deep_frequency_check(
    inv_delta: ArrayLike,
    start: tuple,
    end: tuple,
    *,
    labels: Sequence,
    epochs: tuple[int, int],
    xlabel: str,
    ticks: Sequence | None = None,
) -> Check:
    """The three parts of the deep frequency principle (C5, C6, C7), in order of depth.

    (1) at ``epochs[0]`` the half-way 1/delta increases with depth (deeper sits at higher
    frequency); (2) the move toward low frequency from ``epochs[0]`` to ``epochs[1]``, in
    decades, increases with depth; (3) at ``epochs[1]`` the half-way 1/delta decreases with
    depth. Ties are one grid step, as everywhere.

    Args:
        inv_delta: the grid shared by every curve.
        start, end: (curves, floors) at the two epochs, each a list ordered from the
            shallowest to the deepest layer (or variant).
        labels: names in the same order, for the statistic and the summary.
        epochs: the two epochs.
        xlabel: the evidence panel's x axis title (e.g. "hidden layer").
        ticks: short names on the panel's x axis (default: ``labels``).

    Returns:
        A ``Check`` with parts {1, 2, 3}; the summary gives the half-way 1/delta of the
        shallowest and the deepest at both epochs; values: "halfway" and "peaks" (each
        (at epochs[0], at epochs[1]), one per curve) and "moves" (decades, one per curve).
    """
    halfway = []
    peaks = []
    for curves, floors in (start, end):
        positions = curve_positions(inv_delta, dict(enumerate(curves)), dict(enumerate(floors)))
        halfway.append([positions[i][1] for i in range(len(curves))])
        peaks.append([positions[i][0] for i in range(len(curves))])
    first, last = epochs
    part1 = ordered_on_grid(inv_delta, halfway[0], increasing=True, labels=labels)
    part3 = ordered_on_grid(inv_delta, halfway[1], increasing=False, labels=labels)
    part2_holds, part2_reason, moves = faster_toward_low_frequency(
        inv_delta, halfway[0], halfway[1], labels=labels
    )
    listing = lambda values, digits=3: ", ".join(f"{v:.{digits}g}" for v in values)
    statistic = (
        f"half-way 1/δ ({', '.join(map(str, labels))}) at epoch {first}: {listing(halfway[0])} "
        f"[(1) {part1[1]}]; at epoch {last}: {listing(halfway[1])} [(3) {part3[1]}]; "
        f"move toward low frequency (decades): {listing(moves, 2)} [(2) {part2_reason}]; "
        f"RDF peaks at epoch {first}: {listing(peaks[0])}, at epoch {last}: {listing(peaks[1])}"
    )
    parts = {1: bool(part1[0]), 2: bool(part2_holds), 3: bool(part3[0])}
    return Check(
        holds=all(parts.values()),
        statistic=statistic,
        summary=(
            f"half-way 1/δ at epoch {first}: {span('', labels, halfway[0])}; "
            f"at epoch {last}: {span('', labels, halfway[1])}"
        ),
        parts=parts,
        evidence=dict(
            xlabel=xlabel,
            labels=labels if ticks is None else ticks,
            ylabel="half-way 1/δ",
            log=True,
            series={f"epoch {first}": halfway[0], f"epoch {last}": halfway[1]},
        ),
        values={"halfway": (halfway[0], halfway[1]), "peaks": (peaks[0], peaks[1]), "moves": moves},
    )


def resnet_deep_frequency_check(runs: dict, *, targets: str) -> Check:
    """C5 (Fig. 6) or C6 (Fig. 7): ``deep_frequency_check`` on the Resnet18 variants.

    Depth runs from the variant with the highest number (the shallowest) to Resnet18-1;
    the epochs compared are the first and the last snapshot.

    Args:
        runs: what ``dfp.recipes.train_resnet_variants`` returned.
        targets: "labels" for S^[-3] = {(f^[-3], y)} (C5), "output" for the learning
            component's function {(f^[-3], f^[-1])} (C6).

    Returns:
        ``deep_frequency_check``'s ``Check``, its statistic followed by the floors at the last
        snapshot, its values also holding "order" (the variants, shallow to deep) and
        "epochs" (the two epochs compared).
    """
    if targets not in ("labels", "output"):
        raise ValueError(f"targets must be 'labels' or 'output', got {targets!r}")
    order = sorted(runs, reverse=True)
    spectra = {v: runs[v][targets] for v in order}
    snapshots = sorted(spectra[order[0]]["curves"])
    first, last = snapshots[0], snapshots[-1]
    check = deep_frequency_check(
        runs[order[0]]["inv_delta"],
        (
            [spectra[v]["curves"][first] for v in order],
            [spectra[v]["floors"][first] for v in order],
        ),
        ([spectra[v]["curves"][last] for v in order], [spectra[v]["floors"][last] for v in order]),
        labels=[f"Resnet18-{v}" for v in order],
        epochs=(first, last),
        xlabel="variant, shallow to deep",
        ticks=order,
    )
    floors = ", ".join(f"{spectra[v]['floors'][last]:.3f}" for v in order)
    return dataclasses.replace(
        check,
        statistic=check.statistic + f"; floors at epoch {last}: " + floors,
        values={**check.values, "order": order, "epochs": (first, last)},
    )


def precision_control(reference: dict, other: dict) -> dict:
    """Whether a lower training precision changes what a Resnet18 run shows: one variant
    trained twice on the same data and seed, in float32 and at another precision (bf16).

    The positions that decide C5 and C6 are the half-way points of the RDFs at each
    snapshot; the two runs agree when every pair is closer than one grid step (the tie of
    every ordering here), so an ordering decided by the float32 run is decided alike.

    Args:
        reference: one variant's result from ``dfp.recipes.train_resnet_variants`` in float32.
        other: the same variant's at the other precision (same configuration otherwise).

    Returns:
        {agrees (bool), steps (largest difference of half-way points, in grid steps),
        halfway {targets: {epoch: (reference, other)}}, accuracy (final training accuracy,
        both), val_accuracy (final validation accuracy, both), precisions}.
    """
    grid = np.asarray(reference["inv_delta"])
    if not np.array_equal(grid, np.asarray(other["inv_delta"])):
        raise ValueError("the two runs' spectra are on different grids: not comparable")
    halfway, steps = {}, 0.0
    for targets in ("labels", "output"):
        halfway[targets] = {}
        for epoch in sorted(reference[targets]["curves"]):
            pair = []
            for run in (reference, other):
                curve = run[targets]["curves"][epoch]
                floor = run[targets]["floors"][epoch]
                try:
                    pair.append(halfway_inv_delta(grid, curve, floor))
                except ValueError:
                    pair.append(float("nan"))
            halfway[targets][epoch] = tuple(pair)
            if np.all(np.isfinite(pair)):
                tie = grid_step_at(grid, min(pair))
                steps = max(steps, abs(pair[1] - pair[0]) / tie)
            elif np.isfinite(pair).any():  # one run's curve left the grid, the other's not
                steps = float("inf")
    return {
        "agrees": bool(steps < 1.0),
        "steps": float(steps),
        "halfway": halfway,
        "accuracy": (float(reference["accuracy"][-1]), float(other["accuracy"][-1])),
        "val_accuracy": (float(reference["val_accuracy"][-1]), float(other["val_accuracy"][-1])),
        "precisions": (reference.get("precision", "float32"), other.get("precision")),
    }


def fewer_epochs_check(
    runs: Sequence,
    cap: int,
    *,
    increasing: bool,
    labels: Sequence,
    xlabel: str,
    ticks: Sequence | None = None,
) -> Check:
    """Do the median epochs to a loss over seeds follow an order (Figs. 1a, 1b)?

    Args:
        runs: for each setting, the epochs each seed took (None: capped at ``cap``).
        cap: the epoch cap; a capped run counts as the cap, a lower bound.
        increasing: the order the claim states, from the first setting to the last.
        labels: one name per setting, for the statistic and the summary.
        xlabel: the evidence panel's x axis title (e.g. "hidden layers").
        ticks: short names of the settings on the panel's x axis (default: ``labels``).

    Returns:
        A ``Check``: any step against the order breaks it (no ties); the statistic lists
        every seed, the reason, and how far from the first setting the order holds; values:
        "medians", the median epochs of each setting.
    """
    medians = [median_epochs(epochs, cap) for epochs in runs]
    holds, reason = ordering(medians, tie=0, increasing=increasing, labels=labels)
    held = longest_ordered_prefix(medians, tie=0, increasing=increasing)
    word = "increase" if increasing else "decrease"
    statistic = "; ".join(
        describe_epochs(label, epochs, cap) for label, epochs in zip(labels, runs)
    )
    return Check(
        holds=holds,
        statistic=(
            f"{statistic} ({reason}; medians {word} from {labels[0]} to {labels[held - 1]})"
        ),
        summary=span("median epochs", labels, medians),
        evidence=dict(
            xlabel=xlabel,
            labels=labels if ticks is None else ticks,
            series={"median epochs": medians},
            ylabel="epochs to the error",
            log=True,
        ),
        values={"medians": medians},
    )


def rdf_peaks_check(
    inv_delta: ArrayLike, curves: Sequence, floors: Sequence, *, labels: Sequence
) -> Check:
    """C3 (Fig. 3): does the RDF peak move to larger 1/delta as k in sin(k pi x) grows?

    Args:
        inv_delta: the grid shared by the curves.
        curves: one LFR curve per k, in increasing k.
        floors: each curve's LFR floor.
        labels: the k values.

    Returns:
        A ``Check``: the peaks must increase with k, ties within ``grid_tie``; the
        half-way points are reported beside them as a second measure. Values: "peaks" and
        "halfway", one per k.
    """
    positions = curve_positions(inv_delta, dict(enumerate(curves)), dict(enumerate(floors)))
    peaks = [positions[i][0] for i in range(len(curves))]
    halfway = [positions[i][1] for i in range(len(curves))]
    holds, reason = ordered_on_grid(inv_delta, peaks, increasing=True, labels=labels)
    statistic = (
        "RDF peak 1/δ by k: "
        + ", ".join(f"{k}: {p:.1f}" for k, p in zip(labels, peaks))
        + f" ({reason}; grid step {grid_tie(inv_delta, peaks):.2f}); half-way 1/δ: "
        + ", ".join(f"{h:.1f}" for h in halfway)
    )
    return Check(
        holds=bool(holds),
        statistic=statistic,
        summary=span("RDF peak 1/δ", [f"k={k}" for k in labels], peaks),
        evidence=dict(
            xlabel="k in sin(kπx)",
            labels=labels,
            ylabel="1/δ",
            series={"RDF peak": peaks, "half-way": halfway},
        ),
        values={"peaks": peaks, "halfway": halfway},
    )


def accuracy_check(
    accuracies: Sequence,
    validation_accuracies: Sequence,
    *,
    threshold: float,
    labels: Sequence,
    ticks: Sequence | None = None,
    xlabel: str = "variant, shallow to deep",
) -> Check:
    """C4 (Fig. 5): do deeper variants train faster and validate better?

    (1) the epochs to the training accuracy ``threshold`` decrease with depth, a variant
    that never gets there counting as one epoch more than were trained; (2) the final
    validation accuracy increases with depth. No ties: any step the wrong way breaks it.

    Args:
        accuracies, validation_accuracies: per variant, shallow to deep, the accuracy of
            every epoch.
        threshold: the training accuracy to reach.
        labels: the variants' names, shallow to deep.
        ticks: their short names on the evidence panel's x axis (default: ``labels``).
        xlabel: the panel's x axis title.

    Returns:
        A ``Check`` with parts {1, 2}; values: "reached" (epochs to the threshold, None
        where never) and "validation" (final validation accuracies).
    """
    if len(accuracies) != len(labels) or len(validation_accuracies) != len(labels):
        raise ValueError(
            f"{len(accuracies)} and {len(validation_accuracies)} runs for {len(labels)} labels"
        )
    epochs = len(accuracies[0])
    reached = [epochs_to(a, threshold) for a in accuracies]
    validation = [float(v[-1]) for v in validation_accuracies]
    faster, faster_reason = ordering(
        [epochs + 1 if e is None else e for e in reached], tie=0, increasing=False, labels=labels
    )
    better, better_reason = ordering(validation, tie=0, increasing=True, labels=labels)
    shown = [f">{epochs}" if e is None else str(e) for e in reached]
    statistic = (
        f"epochs to training accuracy {threshold} ({', '.join(labels)}): {', '.join(shown)} "
        f"[(1) {faster_reason}]; final validation accuracy: "
        f"{', '.join(f'{v:.3f}' for v in validation)} [(2) {better_reason}]"
    )
    parts = {1: bool(faster), 2: bool(better)}
    return Check(
        holds=all(parts.values()),
        statistic=statistic,
        summary=(
            f"epochs to {threshold}: {shown[0]} → {shown[-1]}; "
            + span("validation accuracy", labels, validation)
        ),
        parts=parts,
        evidence=dict(
            xlabel=xlabel,
            labels=labels if ticks is None else ticks,
            ylabel="final accuracy",
            series={
                "training": [float(a[-1]) for a in accuracies],
                "validation": validation,
            },
        ),
        values={"reached": reached, "validation": validation},
    )


# Two training losses differ (one network learns faster) when one is more than this many
# times the other (C8).
SAME_SPEED_RATIO = 1.25


def _diverged(values, depths, name, digits):
    """Fig. 9's numbers by depth, None for a network that diverged: (the labels of the
    diverged ones, the values as floats with NaN in their place, the words of each value)."""
    values = list(values)
    if len(values) != len(depths):
        raise ValueError(f"{len(values)} {name} values for depths {list(depths)}")
    diverged = [f"L={d}" for d, v in zip(depths, values) if v is None]
    numbers = np.array([np.nan if v is None else v for v in values], np.float64)
    words = ["diverged" if v is None else f"{v:.{digits}g}" for v in values]
    return diverged, numbers, ", ".join(words)


def _by_depth(quantity, values, depths, optimizer, residual_form):
    """Fig. 9's summary and evidence: {"plain": by depth, "residual": by depth}, None for a
    network that diverged, as the summary (first and last depth of each) and the panel."""
    labels = [f"L={d}" for d in depths]
    prefix = f"{optimizer}, " if optimizer else ""
    residual = f"residual ({residual_form})" if residual_form else "residual"
    return dict(
        summary=(
            f"{prefix}{quantity}: plain "
            + span("", labels, values["plain"], missing="diverged")
            + "; residual "
            + span("", labels, values["residual"], missing="diverged")
        ),
        evidence=dict(
            xlabel="layers L",
            labels=depths,
            ylabel=quantity,
            log=True,
            series={  # a diverged network leaves a gap
                name: [np.nan if v is None else v for v in values[key]]
                for key, name in (("plain", "plain"), ("residual", residual))
            },
        ),
    )


def very_deep_speed_check(
    plain: Sequence,
    residual: Sequence,
    *,
    depths: Sequence[int],
    epoch: int,
    ratio: float = SAME_SPEED_RATIO,
    optimizer: str | None = None,
    residual_form: str | None = None,
) -> Check:
    """C8 (Fig. 9a): without residual connections very deep networks learn slower; with them,
    at about the same speed.

    (1) every plain network deeper than the first has a loss above ``ratio`` times the
    first's; (2) the residual networks' losses lie within a factor ``ratio`` of each other.
    A network that diverged (None) never counts for the claim: its part is not evaluated,
    and fails, with the statistic saying which diverged.

    Args:
        plain, residual: the training loss at ``epoch`` by depth, shallow to deep; None for
            a network whose training diverged.
        depths: the numbers of layers.
        epoch: the epoch of the losses, for the statistic.
        ratio: the factor by which two losses differ.
        optimizer: the optimiser they were trained with, named first in the summary.
        residual_form: the residual networks' form, named in the evidence panel's legend.

    Returns:
        A ``Check`` with parts {1, 2}; values: "plain" and "residual", the losses as given.
    """
    if len(depths) < 2:
        raise ValueError(f"C8 compares at least two depths, got {list(depths)}")
    given = [v for v in [*plain, *residual] if v is not None]
    losses = {"plain": list(plain), "residual": list(residual)}
    plain_diverged, plain, plain_words = _diverged(plain, depths, "plain", 4)
    residual_diverged, residual, residual_words = _diverged(residual, depths, "residual", 4)
    if not np.all(np.isfinite(np.asarray(given, np.float64))):
        raise ValueError("the losses contain NaN or inf; pass None for a diverged network")
    yes_no = {True: "yes", False: "no"}

    def part(diverged, holds, text):
        if diverged:
            return False, f"not evaluated: {', '.join(diverged)} diverged"
        return holds, f"{text}: {yes_no[holds]}"

    slower, slower_text = part(
        plain_diverged,
        bool(np.all(plain[1:] > ratio * plain[0])),
        f"deeper slower by more than {ratio:g}x",
    )
    spread = "" if residual_diverged else f"max/min {residual.max() / residual.min():.2f}, "
    same, same_text = part(
        residual_diverged,
        bool(residual.max() <= ratio * residual.min()),
        f"same speed within {ratio:g}x",
    )
    statistic = (
        f"loss at epoch {epoch} by L={'/'.join(map(str, depths))}: plain "
        f"{plain_words} ((1) {slower_text}), residual "
        f"{residual_words} ({spread}(2) {same_text})"
    )
    parts = {1: slower, 2: same}
    return Check(
        holds=all(parts.values()),
        statistic=statistic,
        parts=parts,
        values=losses,
        **_by_depth("loss", losses, depths, optimizer, residual_form),
    )


def very_deep_frequency_check(
    inv_delta: ArrayLike,
    plain: Sequence,
    residual: Sequence,
    *,
    depths: Sequence[int],
    epoch: int,
    optimizer: str | None = None,
    residual_form: str | None = None,
) -> Check:
    """C9 (Fig. 9b): without residual connections a deeper network's effective target has more
    high-frequency power; with them, depth makes almost no difference.

    (1) the plain networks' half-way 1/delta increases with depth, ties within
    ``grid_tie``; (2) the residual networks' half-way points lie within one ``grid_tie``.
    A network that diverged before the snapshot (None) has no curve: its part is not
    evaluated, and fails.

    Args:
        inv_delta: the grid shared by the curves.
        plain, residual: the half-way 1/delta of S^[-3] by depth, shallow to deep; None for
            a network whose training diverged before the snapshot.
        depths: the numbers of layers.
        epoch: the snapshot's epoch, for the statistic.
        optimizer: the optimiser they were trained with, named first in the summary.
        residual_form: the residual networks' form, named in the evidence panel's legend.

    Returns:
        A ``Check`` with parts {1, 2}; values: "plain" and "residual", the half-way points
        as given.
    """
    labels = [f"L={d}" for d in depths]
    halfway = {"plain": list(plain), "residual": list(residual)}
    plain_diverged, plain, plain_words = _diverged(plain, depths, "plain", 3)
    residual_diverged, residual, residual_words = _diverged(residual, depths, "residual", 3)
    if plain_diverged:
        more_high, more_reason = False, f"not evaluated: {', '.join(plain_diverged)} diverged"
    else:
        more_high, more_reason = ordered_on_grid(inv_delta, plain, increasing=True, labels=labels)
    if residual_diverged:
        same = False
        same_reason = f"(2) not evaluated: {', '.join(residual_diverged)} diverged"
    else:
        same, spread = same_on_grid(inv_delta, residual)
        same_reason = f"{spread}; (2) no difference: {'yes' if same else 'no'}"
    statistic = (
        f"half-way 1/δ of S[-3] at epoch {epoch} by L={'/'.join(map(str, depths))}: plain "
        f"{plain_words} ((1) {more_reason}), residual {residual_words} ({same_reason})"
    )
    parts = {1: bool(more_high), 2: bool(same)}
    return Check(
        holds=all(parts.values()),
        statistic=statistic,
        parts=parts,
        values=halfway,
        **_by_depth("half-way 1/δ", halfway, depths, optimizer, residual_form),
    )


def parity_check(
    inv_delta: ArrayLike, curves: dict, floors: dict, *, layers: Sequence[int], epoch: int
) -> Check:
    """Parity (Sec. 5): at the end of training, do deeper hidden layers sit at lower frequency?

    The half-way 1/delta must decrease over the hidden layers, ties within ``grid_tie``;
    where it holds only over the first layers, the statistic says how far.

    Args:
        inv_delta: the grid shared by the curves.
        curves, floors: {layer: LFR curve}, {layer: floor} at ``epoch``; layer 0 (the
            input), when present, is reported but not compared.
        layers: the hidden layers compared, shallow to deep.
        epoch: the epoch of the curves.

    Returns:
        A ``Check``; values: "halfway" and "peaks", by layer in the order of ``layers``.
    """
    positions = curve_positions(inv_delta, curves, floors)
    halfway = [positions[l][1] for l in layers]
    holds, reason = ordered_on_grid(
        inv_delta, halfway, increasing=False, labels=[f"layer {l}" for l in layers]
    )
    statistic = (
        f"half-way 1/δ at epoch {epoch} by layer {layers[0]}-{layers[-1]}: "
        f"{', '.join(f'{v:.3g}' for v in halfway)} ({reason}); RDF peaks: "
        f"{', '.join(f'{positions[l][0]:.3g}' for l in layers)}"
    )
    if 0 in positions and 0 not in layers:
        statistic += f"; the input (layer 0): half-way {positions[0][1]:.3g}"
    if not holds and not np.any(np.isnan(halfway)):
        held = longest_ordered_prefix(halfway, tie=grid_tie(inv_delta, halfway), increasing=False)
        statistic += f"; decreasing over layers {layers[0]}-{layers[held - 1]} only"
    return Check(
        holds=bool(holds),
        statistic=statistic,
        summary=f"half-way 1/δ at epoch {epoch}: "
        + span("", [f"layer {l}" for l in layers], halfway),
        evidence=dict(
            xlabel="hidden layer",
            labels=layers,
            ylabel="half-way 1/δ",
            log=True,
            series={f"epoch {epoch}": halfway},
        ),
        values={"halfway": halfway, "peaks": [positions[l][0] for l in layers]},
    )
