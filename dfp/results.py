"""Committed results: long runs of a figure notebook, kept in the repository with provenance.

A result is a figure notebook executed by the workflow under a profile larger than the
book's (``medium``, ``paper``), kept as ``results/<profile>/<name>.ipynb`` with its outputs,
and its summary ``results/<profile>/<name>.summary.json``::

    {"format": 1, "notebook": "fig8", "profile": "paper",
     "parameters": {...},        # what papermill injected (its record in the notebook)
     "configuration": {...},     # every parameter the run used: defaults, then injected
     "claims": {"C7": {"holds", "verdict", "mark", "statistic", "summary", "scale", "parts"}},
     "provenance": {"commit", "commit_date", "code", "training_version", "packages", "python",
                    "backend", "precision", "hardware", "gpus", "trained_on",
                    "training_seconds", "started", "wall_seconds", "recorded"}}

``make results PROFILE=paper FIG=fig8`` makes one (workflow/Snakefile, rule ``result``);
``make book`` never does. Each figure page shows the committed results of its notebook
(``show_results``), and the report's claims table has a column per profile
(``ladder_cells``).

Imports no Keras: the workflow and the book's Sphinx extension use it.
"""

import base64
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from dfp.parameters import assignments, shared_run
from dfp.provenance import TRAINING_VERSION
from dfp.storage import StorageError, atomic_write, read_json, write_json
from dfp.sweeps import glued_values

__all__ = [
    "LADDER",
    "PROVENANCE_FIELDS",
    "ResultError",
    "check_result",
    "committed_results",
    "ladder_cells",
    "profile_note",
    "provenance_line",
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
CLAIM_FIELDS = ("holds", "verdict", "mark", "statistic", "summary", "scale", "parts")
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
    """{claim: its glued fields} for every claim a notebook glued a verdict for."""
    names = sorted(k.removesuffix("_verdict") for k in values if k.endswith("_verdict"))
    claims = {}
    for claim in names:
        fields = {field: values.get(f"{claim}_{field}") for field in CLAIM_FIELDS}
        if fields["parts"] is not None:
            fields["parts"] = {str(k): v for k, v in fields["parts"].items()}
        claims[claim] = fields
    return claims


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
        "claims": _claims(values),
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
    for key in ("parameters", "configuration", "claims"):
        if json.dumps(again[key], sort_keys=True) != json.dumps(summary[key], sort_keys=True):
            raise ResultError(f"{summary_path}: its {key} disagree with {notebook}")
    for key in ("started", "wall_seconds", "precision"):
        if again["provenance"][key] != summary["provenance"][key]:
            raise ResultError(f"{summary_path}: its {key} disagrees with {notebook}")
    if summary_path.parent.name != summary["profile"]:
        raise ResultError(
            f"{summary_path}: a {summary['profile']} result in another profile's folder"
        )
    return summary


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
            lines.append(
                f"- **{claim}: {fields['mark']} {fields['verdict']}** at {fields['scale']}. "
                f"{fields['statistic']}."
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
