"""The claims contract: how a figure notebook checks a claim of the paper and reports it.

Every claim checked (names from ``../shared/paper/FACTS.md``) is glued into the notebook as
``<claim>_holds`` (a bool) and ``<claim>_statistic`` (a short string with the numbers behind
the verdict), so the book's text and the report page quote what was measured.
"""

import numpy as np

CLAIMS = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "parity")


def ordering(values, *, tie, increasing=True, labels=None):
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


def curve_positions(inv_delta, curves, floors):
    """Where each LFR curve sits: its RDF peak and its half-way point, both as 1/delta.

    Args:
        inv_delta: the grid shared by the curves.
        curves: {label: LFR values on the grid}.
        floors: {label: the LFR floor of that curve's targets}.

    Returns:
        {label: (peak, halfway)}; halfway is NaN where the grid does not bracket it.
    """
    from dfp.spectral import halfway_inv_delta, peak_inv_delta

    positions = {}
    for label, values in curves.items():
        try:
            halfway = halfway_inv_delta(inv_delta, values, floors[label])
        except ValueError:
            halfway = float("nan")
        positions[label] = (peak_inv_delta(inv_delta, values), halfway)
    return positions


def ordered_on_grid(inv_delta, values, *, increasing, labels):
    """``ordering`` of curve positions, the tie being one grid step where they lie.

    On a non-uniform grid the tie is the widest grid interval holding any of the values.
    A NaN (a position the grid does not bracket) leaves the ordering undecided: False.
    """
    from dfp.spectral import grid_step_at

    values = np.asarray(values, dtype=np.float64)
    if np.any(np.isnan(values)):
        missing = [str(l) for l, v in zip(labels, values) if np.isnan(v)]
        return False, f"undecided: the grid does not bracket the half-way point of {', '.join(missing)}"
    tie = max(grid_step_at(inv_delta, v) for v in values)
    return ordering(values, tie=tie, increasing=increasing, labels=labels)


def faster_toward_low_frequency(inv_delta, before, after, *, labels):
    """Does a deeper layer (or variant) move toward low frequency more?

    The move of each curve is log10(before / after) of its half-way 1/delta: how many
    decades it shifted toward low frequency. The moves must increase along ``labels``; the
    tie is one grid step at the positions involved, in decades.

    Returns:
        (holds, reason, moves): moves in decades, one per label.
    """
    from dfp.spectral import grid_step_at

    before, after = np.asarray(before, np.float64), np.asarray(after, np.float64)
    if np.any(np.isnan(before)) or np.any(np.isnan(after)):
        return False, "undecided: the grid does not bracket every half-way point", np.full(len(before), np.nan)
    moves = np.log10(before / after)
    tie = max(np.log10(1 + grid_step_at(inv_delta, v) / v) for v in np.concatenate([before, after]))
    holds, reason = ordering(moves, tie=tie, increasing=True, labels=labels)
    return holds, reason, moves


def deep_frequency_check(inv_delta, start, end, *, labels, epochs):
    """The three parts of the deep frequency principle (C5, C6, C7), in order of depth.

    (1) at ``epochs[0]`` the half-way 1/delta increases with depth (deeper sits at higher
    frequency); (2) the move toward low frequency from ``epochs[0]`` to ``epochs[1]``, in
    decades, increases with depth; (3) at ``epochs[1]`` the half-way 1/delta decreases with
    depth. Ties are one grid step, as everywhere.

    Args:
        inv_delta: the grid shared by every curve.
        start, end: (curves, floors) at the two epochs, each a list ordered from the
            shallowest to the deepest layer (or variant).
        labels: names in the same order.
        epochs: the two epochs, for the statistic.

    Returns:
        (holds, statistic, parts, halfway): all three parts hold; the numbers; {part: bool};
        the half-way 1/delta of each curve, (at epochs[0], at epochs[1]).
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
    part2_holds, part2_reason, moves = faster_toward_low_frequency(inv_delta, halfway[0], halfway[1], labels=labels)
    listing = lambda values, digits=3: ", ".join(f"{v:.{digits}g}" for v in values)
    statistic = (
        f"half-way 1/δ ({', '.join(map(str, labels))}) at epoch {first}: {listing(halfway[0])} "
        f"[(1) {part1[1]}]; at epoch {last}: {listing(halfway[1])} [(3) {part3[1]}]; "
        f"move toward low frequency (decades): {listing(moves, 2)} [(2) {part2_reason}]; "
        f"RDF peaks at epoch {first}: {listing(peaks[0])}, at epoch {last}: {listing(peaks[1])}"
    )
    parts = {1: bool(part1[0]), 2: bool(part2_holds), 3: bool(part3[0])}
    return all(parts.values()), statistic, parts, (halfway[0], halfway[1])


def longest_ordered_prefix(values, *, tie, increasing=True):
    """How many leading values are ordered by the rule of ``ordering`` (at least 1).

    For a verdict that holds only partly: "decreasing from 1 to 4 layers, then not".
    """
    values = np.asarray(values, dtype=np.float64)
    for end in range(values.size, 1, -1):
        if ordering(values[:end], tie=tie, increasing=increasing)[0]:
            return end
    return 1


def fewer_epochs_check(runs, cap, *, increasing, labels):
    """Do the median epochs to a loss over seeds follow an order (Figs. 1a, 1b)?

    Args:
        runs: for each setting, the epochs each seed took (None: capped at ``cap``).
        cap: the epoch cap; a capped run counts as the cap, a lower bound.
        increasing: the order the claim states, from the first setting to the last.
        labels: one name per setting, for the statistic.

    Returns:
        (holds, statistic, medians): any step against the order breaks it (no ties); the
        statistic lists every seed, the reason, and how far from the first setting the order
        holds; the median epochs of each setting.
    """
    from dfp.training import describe_epochs, median_epochs

    medians = [median_epochs(epochs, cap) for epochs in runs]
    holds, reason = ordering(medians, tie=0, increasing=increasing, labels=labels)
    held = longest_ordered_prefix(medians, tie=0, increasing=increasing)
    word = "increase" if increasing else "decrease"
    statistic = "; ".join(describe_epochs(label, epochs, cap) for label, epochs in zip(labels, runs))
    return holds, f"{statistic} ({reason}; medians {word} from {labels[0]} to {labels[held - 1]})", medians


def span(name, labels, values, *, digits=3):
    """A claim's deciding numbers in one line: "name, first → last: v_first → v_last".

    Args:
        name: what the values are (e.g. "median epochs"); "" for none.
        labels: the settings, in the claim's order.
        values: one number per setting.
        digits: significant digits.

    Returns:
        e.g. "median epochs, 1 → 6 layers: 3.8e+04 → 640".
    """
    values = list(values)
    if len(values) != len(labels) or not values:
        raise ValueError(f"{len(values)} values for {len(labels)} labels")
    prefix = f"{name}, " if name else ""
    return f"{prefix}{labels[0]} → {labels[-1]}: {values[0]:.{digits}g} → {values[-1]:.{digits}g}"


_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}
# The mark beside each verdict in the report.
MARKS = {"reproduces": "✓", "does not reproduce": "✗", "in part": "◐"}


def verdict(holds, parts=None):
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
        return f"reproduces in part: {listed} of {_NUMBER_WORDS.get(len(parts), len(parts))}", MARKS["in part"]
    if parts and bool(holds) != all(parts.values()):
        raise ValueError(f"holds={holds} contradicts the parts {parts}")
    phrase = "reproduces" if holds else "does not reproduce"
    return phrase, MARKS[phrase]


def glue_claim(claim, holds, statistic, *, summary, scale, parts=None, evidence=None):
    """Glue a claim's verdict, in words and as a bool, and the numbers behind it.

    Glued names: ``<claim>_holds`` (bool), ``<claim>_verdict`` (words), ``<claim>_mark``
    (✓, ✗ or ◐), ``<claim>_statistic`` (every number, for the figure page),
    ``<claim>_summary`` (the two or three numbers that decide it, for the report),
    ``<claim>_scale`` (the scale of the run) and, with ``evidence``, ``<claim>_panel`` (a
    small figure of the deciding numbers, for the report).

    Args:
        claim: one of ``CLAIMS``.
        holds: the verdict, a bool.
        statistic: a short string with the numbers behind the verdict.
        summary: the deciding numbers in one short line.
        scale: the scale of the run in a few words, from its parameters.
        parts: {part number: bool} for a claim made of parts.
        evidence: keyword arguments of ``dfp.plots.evidence_figure``.
    """
    if claim not in CLAIMS:
        raise ValueError(f"unknown claim {claim!r}; known: {', '.join(CLAIMS)}")
    if not isinstance(holds, (bool, np.bool_)):
        raise ValueError(f"holds must be a bool, got {type(holds).__name__}")
    for name, text in (("statistic", statistic), ("summary", summary), ("scale", scale)):
        if not isinstance(text, str) or not text:
            raise ValueError(f"{name} must be a non-empty string")
    phrase, mark = verdict(bool(holds), parts)
    from myst_nb import glue

    glue(f"{claim}_holds", bool(holds), display=False)
    glue(f"{claim}_verdict", phrase, display=False)
    glue(f"{claim}_mark", mark, display=False)
    glue(f"{claim}_statistic", statistic, display=False)
    glue(f"{claim}_summary", summary, display=False)
    glue(f"{claim}_scale", scale, display=False)
    if evidence is not None:
        from dfp.plots import evidence_figure, inline_image

        panel = evidence_figure(title=f"{claim} {mark}", **evidence)
        glue(f"{claim}_panel", inline_image(panel, alt=f"{claim}: {phrase}"), display=False)
    print(f"{claim} {phrase}: {statistic}")


def glue_deep_frequency(claim, check, *, labels, ticks, epochs, scale, xlabel, note=""):
    """``glue_claim`` for a result of ``deep_frequency_check`` (C5, C6, C7, shallow to deep).

    Args:
        claim: "C5", "C6" or "C7".
        check: what ``deep_frequency_check`` returned.
        labels: the layers' (or variants') names, shallow to deep, for the summary.
        ticks: their short names on the evidence panel's x axis.
        epochs: the two epochs compared.
        scale: the run's scale in a few words.
        xlabel: the evidence panel's x axis title.
        note: more numbers appended to the statistic.
    """
    holds, statistic, parts, (start, end) = check
    first, last = epochs
    glue_claim(
        claim, holds, statistic + note, parts=parts,
        summary=(
            f"half-way 1/δ at epoch {first}: {span('', labels, start)}; "
            f"at epoch {last}: {span('', labels, end)}"
        ),
        scale=scale,
        evidence=dict(
            xlabel=xlabel, labels=ticks, ylabel="half-way 1/δ", log=True,
            series={f"epoch {first}": start, f"epoch {last}": end},
        ),
    )


def show_parameters(namespace, notebook):
    """Display the parameters a figure notebook actually ran with, and how to re-run it.

    The names are read from the notebook's own cell tagged ``parameters``; the values are
    those in ``namespace`` (the notebook's globals), so values injected by papermill show.

    Args:
        namespace: the notebook's ``globals()``.
        notebook: its name, e.g. "fig3" (found as fig3.ipynb or notebooks/fig3.ipynb).
    """
    from IPython.display import Markdown, display

    from dfp.parameters import notebook_parameters

    rows = "\n".join(f"| `{name}` | `{namespace[name]!r}` |" for name in notebook_parameters(notebook))
    display(Markdown(
        f"**Parameters this page ran with**\n\n| parameter | value |\n|---|---|\n{rows}\n\n"
        f"Re-run at the paper's scale: `papermill notebooks/{notebook}.ipynb out.ipynb "
        f"-f notebooks/params/{notebook}.paper.yaml` (any parameter can also be set with `-p name value`)."
    ))
