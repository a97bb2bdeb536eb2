"""Committed results: long runs of a figure notebook, kept in the repository with provenance.

A result is a figure notebook executed by the workflow under a profile larger than the
book's (``medium``, ``paper``), kept as ``results/<profile>/<name>.ipynb`` with its outputs,
and its summary ``results/<profile>/<name>.summary.json``::

    {"format": 1, "notebook": "fig8", "profile": "paper",
     "parameters": {...},        # what papermill injected (its record in the notebook)
     "configuration": {...},     # every parameter the run used: defaults, then injected
     "claims": {"C7": {"outcome", "holds", "verdict", "mark", "statistic", "summary", "scale",
                       "parts", "effects", "inputs", "rule"}},
     "curves": {"C7": [{"epoch", "curve", "peak", "halfway", "halfway_interval",
                        "peak_interval"}, ...]},   # every curve a check read
     "provenance": {"commit", "commit_date", "code", "training_version", "packages", "python",
                    "backend", "precision", "hardware", "gpus", "trained_on",
                    "training_seconds", "started", "wall_seconds", "recorded"}}

A claim's ``inputs`` are the small arrays its check read (curves and their subsample draws,
epochs per seed, accuracies, losses): ``redecide_summary`` (``python -m dfp results
--redecide``) decides every claim again from them under the current rule of ``dfp.verdicts``
without training, and ``check_result`` refuses a summary whose verdicts are not what the
current rule decides from its inputs. A result made before results carried their inputs is
shown with the rule it was decided by (``rule`` is None: one grid step as the tie).

``make results PROFILE=paper FIG=fig8`` makes one (workflow/Snakefile, rule ``result``);
``make book`` never does. Each figure page shows the committed results of its notebook
(``show_results``), and the report's claims table has a column per profile
(``ladder_cells``).

Imports no Keras: the workflow and the book's Sphinx extension use it.
"""

import base64
import dataclasses
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from dfp._vocabulary import CLAIM_FIELDS, CLAIM_PAGES, CLAIMS
from dfp.parameters import assignments, shared_run
from dfp.provenance import TRAINING_VERSION
from dfp.storage import StorageError, atomic_write, read_json, write_json
from dfp.sweeps import glued_values, redecide_sweep_summary

__all__ = [
    "LADDER",
    "PROVENANCE_FIELDS",
    "ResultError",
    "check_result",
    "claims_overview",
    "committed_results",
    "forest_rows",
    "page_claims",
    "ladder_cells",
    "profile_note",
    "provenance_line",
    "redecide_results",
    "redecide_summary",
    "result_summary",
    "results_markdown",
    "show_results",
    "write_result",
]

# The rungs of the scale ladder, smallest first: the book's own run (the notebooks'
# defaults), then the committed ones.
LADDER = ("book", "medium", "paper")
# What every result's provenance must record.
PROVENANCE_FIELDS = (
    "commit",
    "commit_date",
    "code",
    "training_version",
    "packages",
    "backend",
    "precision",
    "hardware",
    "started",
    "wall_seconds",
)
# What a claim's verdict is, as against the data (inputs) and scale it was decided from.
DECISION_FIELDS = tuple(f for f in CLAIM_FIELDS if f not in ("scale", "inputs"))
FORMAT = 1
RESULTS = "results"


class ResultError(ValueError):
    """A committed result that is incomplete or disagrees with its notebook."""


def profile_note(name: str, profile: str, root: Path | str = ".") -> str:
    """The comment that opens a notebook's profile file (notebooks/params/), as Markdown (a
    sentence, then its list): where each of the profile's settings comes from. Empty when
    there is none.

    Args:
        name: the notebook, e.g. "fig8".
        profile: the profile, e.g. "paper".
        root: the repository.

    Returns:
        The Markdown, or "" when the profile file has no opening comment or does not exist.
    """
    run = shared_run(name)
    path = Path(root) / "notebooks" / "params" / f"{run or name}.{profile}.yaml"
    if not path.exists():
        return ""
    items = [""]
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line[1:].strip()
        if text.startswith(("make ", "papermill ")):  # the command, given elsewhere
            continue
        if text.startswith("- "):  # a list in the comment stays a list
            items.append(text[2:])
        else:
            items[-1] = f"{items[-1]} {text}".strip()
    lead, rest = items[0], [item for item in items[1:] if item]
    return lead + "".join(f"\n  - {item}" for item in rest)


def _configuration(notebook, values):
    """Every parameter an executed notebook ran with: what its page glued (``dfp.page.begin``),
    or, for a notebook made before pages glued them, its cell's literals then papermill's."""
    if "parameters" in values:
        return values["parameters"]
    injected = notebook.metadata.get("papermill", {}).get("parameters", {}) or {}
    for cell in notebook.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return {**assignments(cell.source), **injected}
    return dict(injected)


def _claims(values):
    """{claim: its glued fields} for every claim a notebook glued a verdict for; ``rule`` is
    the rule it was decided by (None for a notebook made before verdicts had intervals)."""
    names = sorted(k.removesuffix("_verdict") for k in values if k.endswith("_verdict"))
    claims = {}
    for claim in names:
        fields = {field: values.get(f"{claim}_{field}") for field in CLAIM_FIELDS}
        if isinstance(fields["inputs"], str):  # glued as JSON text
            fields["inputs"] = json.loads(fields["inputs"])
        if fields["parts"] is not None:
            fields["parts"] = {str(k): v for k, v in fields["parts"].items()}
        fields["rule"] = _rule() if fields["inputs"] is not None else None
        claims[claim] = fields
    return claims


def _rule():
    from dfp.verdicts import RULE  # deferred: numpy only, kept out of the import graph's top

    return dataclasses.asdict(RULE)


def _curves(claims):
    """{claim: every curve its check read, where it sits with its intervals} for the claims
    that carry their inputs and read curves (``dfp.claims.curve_records``)."""
    from dfp.claims import curve_records  # deferred: the checks are needed only here

    found = {}
    for claim, fields in claims.items():
        if fields.get("inputs") is not None:
            records = curve_records(fields["inputs"])
            if records is not None:
                found[claim] = records
    return json.loads(json.dumps(found))


def _decided(claim, fields):
    """A claim's fields decided again from its inputs under the current rule."""
    from dfp.claims import check_fields, redecide  # deferred: only to re-decide

    try:
        check = redecide(fields["inputs"])
    except (ValueError, TypeError, KeyError) as error:
        raise ResultError(
            f"{claim} cannot be decided again from the data it carries: {error}"
        ) from error
    decided = dict(fields, **check_fields(check), rule=_rule())
    # The same JSON a summary holds (tuples as lists, ...).
    return json.loads(json.dumps(decided))


def redecide_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A result's summary with every claim that carries its inputs decided again under the
    current rule (``dfp.claims.redecide``), without training.

    Args:
        summary: a result summary.

    Returns:
        The summary, its claims' verdicts, statistics, parts and effects re-decided; claims
        without inputs (made before results carried them) unchanged.
    """
    claims = {
        claim: _decided(claim, fields) if fields.get("inputs") is not None else dict(fields)
        for claim, fields in summary["claims"].items()
    }
    again = dict(summary, claims=claims)
    if any(fields.get("inputs") is not None for fields in claims.values()):
        again["curves"] = _curves(claims)
    return again


def redecide_results(root: Path | str = ".") -> list[tuple[Path, list[str]]]:
    """Decide every committed result (and sweep summary) again under the current rule and
    rewrite its summary.

    Args:
        root: the repository.

    Returns:
        [(summary path, [claims whose verdict changed])] for every summary rewritten.
    """
    changed = []
    for path in sorted((Path(root) / "sweeps").glob("*.summary.json")):
        summary = read_json(path)
        again = redecide_sweep_summary(summary)
        if json.dumps(again, sort_keys=True) != json.dumps(summary, sort_keys=True):
            write_json(path, again)
            changed.append((path, []))
    for path in sorted((Path(root) / RESULTS).glob("*/*.summary.json")):
        summary = read_json(path)
        again = redecide_summary(summary)
        moved = [
            claim
            for claim, fields in again["claims"].items()
            if fields.get("verdict") != summary["claims"][claim].get("verdict")
        ]
        if json.dumps(again, sort_keys=True) != json.dumps(summary, sort_keys=True):
            write_json(path, again)
            changed.append((path, moved))
    return changed


def result_summary(
    executed: Path | str, *, name: str, profile: str, provenance: Mapping[str, Any]
) -> dict[str, Any]:
    """The summary of an executed notebook (see the module's docstring).

    Args:
        executed: path of the notebook papermill executed.
        name: the figure notebook's name, e.g. "fig8".
        profile: the profile it ran under, e.g. "paper".
        provenance: ``dfp.provenance.current_provenance()`` of the run; the run's precision,
            start time and wall time are added from the notebook.

    Returns:
        The summary dict.
    """
    notebook = nbformat.read(executed, as_version=4)
    papermill = notebook.metadata.get("papermill", {})
    parameters = papermill.get("parameters", {}) or {}
    values = glued_values(notebook)
    configuration = _configuration(notebook, values)
    claims = _claims(values)
    record = dict(provenance)
    # Where its training runs were computed: a page that loaded runs trained elsewhere (on a
    # GPU, say) names that machine, not the one that executed the notebook.
    used = values.get("runs_used") or []
    record["trained_on"] = sorted(
        {
            (u.get("hardware") or "not recorded")
            + ("; GPU " + ", ".join(u["gpus"]) if u.get("gpus") else "")
            for u in used
        }
    )
    record["training_seconds"] = sum(u.get("seconds") or 0 for u in used if not u.get("loaded"))
    # The training this execution loaded from the run cache instead (computed earlier).
    record["loaded_training_seconds"] = sum(u.get("seconds") or 0 for u in used if u.get("loaded"))
    record.update(
        # Notebooks without the parameter train in float32 with TensorFloat-32 off.
        precision=configuration.get("precision", "float32"),
        started=papermill.get("start_time"),
        wall_seconds=papermill.get("duration"),
    )
    return {
        "format": FORMAT,
        "notebook": name,
        "profile": profile,
        "parameters": parameters,
        "configuration": configuration,
        "claims": claims,
        "curves": _curves(claims),
        "provenance": record,
    }


def write_result(
    executed: Path | str,
    *,
    name: str,
    profile: str,
    provenance: Mapping[str, Any],
    root: Path | str = ".",
) -> tuple[Path, Path]:
    """Keep an executed notebook as a committed result: results/<profile>/<name>.ipynb and
    its summary, each written to a temporary file and renamed into place.

    Args:
        executed, name, profile, provenance: as for ``result_summary``.
        root: the repository.

    Returns:
        (the notebook's path, the summary's path).
    """
    folder = Path(root) / RESULTS / profile
    folder.mkdir(parents=True, exist_ok=True)
    summary = result_summary(executed, name=name, profile=profile, provenance=provenance)
    notebook, summary_path = folder / f"{name}.ipynb", folder / f"{name}.summary.json"
    with open(executed, "rb") as source:
        atomic_write(notebook, lambda file: shutil.copyfileobj(source, file))
    write_json(summary_path, summary)
    return notebook, summary_path


def check_result(summary_path: Path | str) -> dict[str, Any]:
    """A committed result's summary, checked against its notebook.

    Args:
        summary_path: results/<profile>/<name>.summary.json.

    Returns:
        The summary dict.

    Raises:
        ResultError: a summary of another layout, a missing provenance field, or one whose
            parameters or claims are not what its notebook recorded and glued.
    """
    summary_path = Path(summary_path)
    try:
        summary = read_json(summary_path)
    except StorageError as error:
        raise ResultError(f"{summary_path} is not a result summary: {error}") from error
    if not isinstance(summary, dict) or summary.get("format") != FORMAT:
        raise ResultError(f"{summary_path}: not a result summary of format {FORMAT}")
    recorded = summary.get("provenance") or {}
    # Outside a git checkout the commit is "unknown" and has no date.
    optional = ("commit_date",) if recorded.get("commit") == "unknown" else ()
    missing = [f for f in PROVENANCE_FIELDS if f not in optional and recorded.get(f) is None]
    if missing:
        raise ResultError(f"{summary_path}: its provenance lacks {', '.join(missing)}")
    notebook = summary_path.with_name(f"{summary['notebook']}.ipynb")
    if not notebook.exists():
        raise ResultError(f"{summary_path}: its notebook {notebook} is missing")
    again = result_summary(
        notebook,
        name=summary["notebook"],
        profile=summary["profile"],
        provenance=summary["provenance"],
    )
    for key in ("parameters", "configuration"):
        if json.dumps(again[key], sort_keys=True) != json.dumps(summary[key], sort_keys=True):
            raise ResultError(f"{summary_path}: its {key} disagree with {notebook}")
    _check_claims(summary_path, summary["claims"], again["claims"], notebook)
    if "curves" in summary and json.dumps(summary["curves"], sort_keys=True) != json.dumps(
        _curves(summary["claims"]), sort_keys=True
    ):
        raise ResultError(
            f"{summary_path}: its curves are not those its claims' data give; "
            "`python -m dfp results --redecide` writes them again"
        )
    for key in ("started", "wall_seconds", "precision"):
        if again["provenance"][key] != summary["provenance"][key]:
            raise ResultError(f"{summary_path}: its {key} disagrees with {notebook}")
    if summary_path.parent.name != summary["profile"]:
        raise ResultError(
            f"{summary_path}: a {summary['profile']} result in another profile's folder"
        )
    return summary


def _check_claims(path, claims, glued, notebook):
    """A summary's claims: the data as its notebook glued them, and (for claims that carry
    their inputs) the verdicts the current rule decides from that data."""
    same = lambda a, b: json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    if set(claims) != set(glued):
        raise ResultError(
            f"{path}: its claims {sorted(claims)} are not {notebook}'s {sorted(glued)}"
        )
    for claim, fields in claims.items():
        if fields.get("inputs") is None:  # made before results carried their data: the
            # fields it has, as its notebook glued them
            if not same(fields, {k: glued[claim].get(k) for k in fields}):
                raise ResultError(f"{path}: its claim {claim} disagrees with {notebook}")
            continue
        if (
            not same(fields["inputs"], glued[claim]["inputs"])
            or fields["scale"] != glued[claim]["scale"]
        ):
            raise ResultError(f"{path}: the data of {claim} disagree with {notebook}")
        decided = _decided(claim, fields)
        if not all(same(fields.get(k), decided[k]) for k in (*DECISION_FIELDS, "rule")):
            raise ResultError(
                f"{path}: {claim} was decided under another rule or code than the current one; "
                "`python -m dfp results --redecide` decides it again from its data"
            )


def committed_results(name: str, root: Path | str = ".") -> dict[str, dict[str, Any]]:
    """{profile: summary} of the committed results of notebook ``name``, smallest rung first
    (profiles outside ``LADDER`` after them), each checked against its notebook.

    Args:
        name: the notebook, e.g. "fig8".
        root: the repository.

    Returns:
        {profile: summary}, empty when none is committed.
    """
    found = {}
    for path in sorted((Path(root) / RESULTS).glob(f"*/{name}.summary.json")):
        found[path.parent.name] = check_result(path)
    rank = {p: i for i, p in enumerate(LADDER)}
    return dict(sorted(found.items(), key=lambda item: (rank.get(item[0], len(LADDER)), item[0])))


def _minutes(seconds):
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def provenance_line(summary: Mapping[str, Any]) -> str:
    """One sentence: when, where, how long and by which code a result was produced.

    Args:
        summary: a result's summary (``check_result``).

    Returns:
        The sentence.
    """
    p = summary["provenance"]
    gpus = ", ".join(p.get("gpus") or [])
    here = f"{p['hardware']}{'; GPU ' + gpus if gpus else ''}"
    trained = [m for m in p.get("trained_on") or [] if m != here]
    return (
        f"Run {p['started'][:16].replace('T', ' ')} UTC for {_minutes(p['wall_seconds'])} "
        f"on {here}"
        + (f", from training runs computed on {' and '.join(trained)}" if trained else "")
        + (
            f"; it loaded {_minutes(p['loaded_training_seconds'])} of training from the run "
            "cache, computed earlier by the same training code"
            if p.get("loaded_training_seconds")
            else ""
        )
        + f"; Keras backend {p['backend']}, training precision {p['precision']}; "
        f"commit {p['commit']} ({(p.get('commit_date') or '')[:10]})."
    )


def results_markdown(
    name: str, root: Path | str = ".", current_version: int = TRAINING_VERSION
) -> tuple[str, list[tuple[str, bytes, int | None]]]:
    """A figure page's section on the committed results of its notebook, as Markdown.

    Args:
        name: the notebook, e.g. "fig8".
        root: the repository.
        current_version: the training-code version of the page (``TRAINING_VERSION``): a
            result of another version was produced by training code whose numbers differ.

    Returns:
        (markdown, [(profile, PNG bytes, width), ...]): the text, and the result notebooks'
        figures to show after it, each with the width in CSS px its notebook showed it at
        (None when the notebook gave none).
    """
    results = committed_results(name, root)
    command = f"make results PROFILE=paper FIG={name}"
    if not results:
        return (
            "No larger run of this figure is committed yet. "
            f"`{command}` makes one (see workflow/README.md).",
            [],
        )
    lines, figures = [], []
    for profile, summary in results.items():
        lines.append(f"**The {profile} profile** (`results/{profile}/{name}.ipynb`).")
        for claim, fields in summary["claims"].items():
            older = (
                " Decided by the earlier rule (one grid step as the tie, no intervals); the "
                "result did not keep its data, so it cannot be decided again without training."
                if fields.get("inputs") is None
                else ""
            )
            lines.append(
                f"- **{claim}: {fields['mark']} {fields['verdict']}** at {fields['scale']}. "
                f"{fields['statistic']}.{older}"
            )
        note = profile_note(name, profile, root)
        if note:
            lines.append(f"- Where its settings come from: {note}")
        changed = summary["parameters"]
        if changed:
            lines.append(
                "- Parameters set by the profile: "
                + ", ".join(f"`{k}` = {v!r}" for k, v in changed.items())
                + "."
            )
        line = provenance_line(summary)
        recorded = summary["provenance"].get("training_version")
        if recorded != current_version:
            line += (
                f" **Produced by older training code than this page's** (version {recorded}, "
                f"this page's {current_version}): its numbers may differ from a run made now."
            )
        lines.append(f"- {line}")
        lines.append("")
        notebook = nbformat.read(Path(root) / RESULTS / profile / f"{name}.ipynb", as_version=4)
        for cell in notebook.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            for output in cell.get("outputs", []):
                png = output.get("data", {}).get("image/png")
                glued = output.get("metadata", {}).get("scrapbook")
                if png and not glued and "remove-output" not in tags:
                    shown = output.get("metadata", {}).get("image/png", {})
                    figures.append((profile, base64.b64decode(png), shown.get("width")))
    return "\n".join(lines), figures


def show_results(name: str, root: Path | str = "..") -> None:
    """Display ``results_markdown`` in a notebook: the text, then each result's figures.

    Args:
        name: the notebook, e.g. "fig8".
        root: the repository, from the notebook's folder.

    Returns:
        None; the text and figures are displayed.
    """
    from IPython.display import Image, Markdown, display  # deferred: only a notebook shows

    text, figures = results_markdown(name, root)
    display(Markdown(text))
    for profile, png, width in figures:
        display(Markdown(f"*The {profile} run's figure:*"))
        display(Image(data=png, width=width))


def ladder_cells(
    root: Path | str = ".", profiles: tuple[str, ...] = ("medium", "paper")
) -> dict[tuple[str, str], str]:
    """The report's claims table by profile: {(claim, profile): cell text} over every
    committed result, e.g. "✓ reproduces (commit 1a2b3c, 2026-12-03)".

    Args:
        root: the repository.
        profiles: the profiles (columns) to fill.

    Returns:
        {(claim, profile): cell text}.
    """
    cells = {}
    for path in sorted((Path(root) / RESULTS).glob("*/*.summary.json")):
        summary = check_result(path)
        if summary["profile"] not in profiles:
            continue
        p = summary["provenance"]
        when = (p.get("started") or "")[:10]
        for claim, fields in summary["claims"].items():
            cells[(claim, summary["profile"])] = (
                f"{fields['mark']} {fields['verdict']}: {fields['summary']} "
                f"({fields['scale']}; commit {p['commit'][:7]}, {when})"
            )
    return cells


def page_claims(executed: Path | str) -> dict[str, dict[str, Any]]:
    """{claim: its glued fields} of one executed figure notebook (this build's quick rung).

    Args:
        executed: the executed notebook.

    Returns:
        {claim: fields}, as a result summary holds them.
    """
    return _claims(glued_values(nbformat.read(executed, as_version=4)))


# The rungs' names in the report: the book's own build is the quick rung.
RUNG_NAMES = {"book": "quick", "medium": "medium", "paper": "paper"}


def _by_rung(root, quick):
    """{claim: {rung: (fields, summary or None)}} over this build's run and the committed
    results."""
    rungs = {claim: {} for claim in CLAIMS}
    for claim, fields in (quick or {}).items():
        if claim in rungs:
            rungs[claim]["book"] = (fields, None)
    for path in sorted((Path(root) / RESULTS).glob("*/*.summary.json")):
        summary = check_result(path)
        if summary["profile"] not in LADDER:
            continue
        for claim, fields in summary["claims"].items():
            rungs.setdefault(claim, {})[summary["profile"]] = (fields, summary)
    return rungs


def claims_overview(root: Path | str = ".", quick: Mapping | None = None) -> str:
    """The report's first table: one line per claim, its verdict at the largest scale run.

    Each line gives the paper's claim in a few words, the verdict at the largest rung that
    has one (paper, then medium, then this build's quick run) with its deciding numbers and
    their intervals, that rung and its scale, and the ladder as marks (quick · medium ·
    paper), linking to the figure page. A committed result decided before verdicts had
    intervals says so.

    Args:
        root: the repository.
        quick: {claim: glued fields} of this build's run (``dfp.sweeps.glued_values`` of each
            executed page, as ``_claims`` reads them), or None.

    Returns:
        The Markdown table.
    """
    rows = [
        "| claim | the paper says | verdict at the largest scale run | scale | "
        "quick · medium · paper |",
        "|---|---|---|---|---|",
    ]
    for claim, rungs in _by_rung(root, quick).items():
        page, figure, says = CLAIM_PAGES[claim]
        marks = " · ".join(rungs[r][0]["mark"] if r in rungs else "–" for r in LADDER)
        largest = next((r for r in reversed(LADDER) if r in rungs), None)
        if largest is None:
            verdict_cell, scale = "not run", ""
        else:
            fields, summary = rungs[largest]
            verdict_cell = f"{fields['mark']} {fields['verdict']}: {fields['summary']}"
            if summary is not None and fields.get("rule") is None:
                verdict_cell += " (decided by the earlier rule: one grid step as the tie)"
            # The source of the numbers: the page's own run, or the committed result it shows;
            # the run's scale in full is on that page.
            # (Short link texts: a path would not wrap, and the table must fit two screens.)
            if summary is None:
                scale = f"[quick: this build](../notebooks/{page}.ipynb)"
            else:
                scale = f"[{largest} run](../notebooks/{page}.ipynb)"
        rows.append(
            f"| [{claim}](../notebooks/{page}.ipynb) | {says} | {verdict_cell} | {scale} | "
            f"{marks} |"
        )
    return "\n".join(rows)


def forest_rows(root: Path | str = ".", quick: Mapping | None = None) -> list[dict]:
    """The deciding effects of every claim at every rung, for ``dfp.plots.forest_figure``.

    Args:
        root, quick: as for ``claims_overview``.

    Returns:
        [{"claim", "label", "scale", "effect", "low", "high", "outcome"}], ratios only (the
        figure's axis), claims in the paper's order, the largest rung first.
    """
    rows = []
    for claim, rungs in _by_rung(root, quick).items():
        for rung in reversed(LADDER):
            if rung not in rungs:
                continue
            for effect in rungs[rung][0].get("effects") or []:
                if not effect.get("ratio", True):
                    continue
                bounds = (effect["low"], effect["high"])
                if None in bounds or not bounds[0] > 0:  # unbounded: the point alone
                    bounds = (None, None)
                rows.append(
                    dict(
                        claim=claim,
                        label=effect["label"],
                        scale=RUNG_NAMES[rung],
                        effect=effect["effect"],
                        low=bounds[0],
                        high=bounds[1],
                        outcome=effect["outcome"],
                    )
                )
    return rows
