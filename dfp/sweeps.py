"""Sweeps: one figure notebook run at every point of a grid of its parameters.

A sweep is a YAML file, ``sweeps/<name>.yaml``::

    title: "Depth: C7 over the number of hidden layers"
    notebook: fig8            # the notebook run at every point
    profile: book             # its base parameters: book (its defaults), tiny or paper
    fixed: {train_size: 10000, learning_rate: 1.0e-4}    # the same at every point
    grid: {hidden_layers: [2, 3, 4], seed: [0, 1, 2]}    # every combination is a point
    claims: [C7]              # the glued claims collected from each point
    axes: [hidden_layers, seed]   # the sweep page's heatmap: x, then y
    resources: {threads: 1, mem_mb: 4000, gpus: 0, runtime: 30}   # one point's needs
    about: "..."              # a paragraph for the sweep's page

A point's parameters are the notebook's defaults, then its profile, then ``fixed``, then
the point's grid values; its name is a hash of the notebook and of all of them, so
reordering a grid renames nothing and a point run with other parameters (a changed
default included) never takes the place of another. The workflow (workflow/Snakefile)
executes each point with papermill and ``collect_sweep`` gathers what papermill recorded and
what the point glued into one summary, ``sweeps/<name>.summary.json``.

Imports no Keras: the workflow checks every sweep file at every call without loading it.
"""

import ast
import datetime
import hashlib
import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
import yaml

from dfp._vocabulary import PROFILES
from dfp.parameters import RULES, notebook_parameters, profile_file
from dfp.provenance import TRAINING_VERSION
from dfp.storage import StorageError, read_json, write_json

__all__ = [
    "PROFILES",
    "RESOURCES",
    "SweepError",
    "collect_sweep",
    "glued_values",
    "load_sweep",
    "sweep_point_name",
    "sweep_points",
    "sweep_scores",
    "sweep_table",
    "read_sweep_summary",
    "sweep_description",
    "write_sweep_summary",
]

# What one point asks of the machine when the sweep does not say: a job's threads (its cores),
# memory in MB, GPUs and run time in minutes (Snakemake's resources of the same names).
RESOURCES = {"threads": 1, "mem_mb": 4000, "gpus": 0, "runtime": 60}
_KEYS = {"title", "notebook", "profile", "fixed", "grid", "claims", "axes", "resources", "about"}
_REQUIRED = ("title", "notebook", "grid", "claims")
# A summary's layout; read_summary refuses another.
FORMAT = 1


class SweepError(ValueError):
    """A sweep file that cannot be run, naming what is wrong and what is allowed."""


def load_sweep(path: Path | str, root: Path | str = ".") -> dict[str, Any]:
    """Read and check a sweep file; nothing runs before this passes.

    Args:
        path: the sweep's YAML file, e.g. sweeps/depth.yaml (its stem is the sweep's name).
        root: the repository (where notebooks/ and dfp/ are).

    Returns:
        The sweep as a dict: the file's keys, with ``name``, ``profile`` (default "book"),
        ``fixed`` ({}), ``axes`` (the first two grid keys), ``resources`` (``RESOURCES``
        updated) and ``defaults`` (the notebook's parameters cell) filled in.

    Raises:
        SweepError: an unknown key, a notebook or profile that does not exist, a fixed or
            grid key that is not a parameter of the notebook, a value its rule refuses, an
            empty grid or one with repeated values.
    """
    path, root = Path(path), Path(root)
    where = f"sweep {path}"
    try:
        spec = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise SweepError(f"{where}: cannot be read ({error})") from error
    if not isinstance(spec, dict):
        raise SweepError(f"{where}: must be a mapping of {', '.join(sorted(_KEYS))}")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise SweepError(f"{where}: unknown keys {unknown}; allowed: {', '.join(sorted(_KEYS))}")
    missing = [key for key in _REQUIRED if key not in spec]
    if missing:
        raise SweepError(f"{where}: missing {missing}")
    spec = {"name": path.stem, "profile": "book", "fixed": {}, "about": "", **spec}
    if spec["profile"] not in PROFILES:
        raise SweepError(f"{where}: profile {spec['profile']!r} is not one of {PROFILES}")
    notebook = root / "notebooks" / f"{spec['notebook']}.ipynb"
    if not notebook.exists():
        raise SweepError(f"{where}: notebook {spec['notebook']!r} has no {notebook}")
    defaults = notebook_parameters(str(notebook.with_suffix("")))
    spec["defaults"] = defaults
    grid, fixed = spec["grid"], spec["fixed"]
    if not isinstance(grid, dict) or not grid:
        raise SweepError(f"{where}: grid must map parameters to lists of values, got {grid!r}")
    if not isinstance(fixed, dict):
        raise SweepError(f"{where}: fixed must map parameters to values, got {fixed!r}")
    for part, values in (("grid", grid), ("fixed", fixed)):
        for key in values:
            if key not in defaults:
                raise SweepError(
                    f"{where}: {part} key {key!r} is not a parameter of {spec['notebook']}; "
                    f"its parameters: {', '.join(defaults)}"
                )
    overlap = sorted(set(grid) & set(fixed))
    if overlap:
        raise SweepError(f"{where}: {overlap} are both fixed and in the grid")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SweepError(f"{where}: grid {key!r} must be a non-empty list, got {values!r}")
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise SweepError(f"{where}: grid {key!r} repeats a value: {values}")
    for key, value in [*fixed.items(), *((k, v) for k, vs in grid.items() for v in vs)]:
        rule = RULES.get(key)
        if rule is not None and not rule(value):
            raise SweepError(
                f"{where}: {key} = {value!r} is not allowed: it must be {rule.allowed}"
            )
    if not isinstance(spec["claims"], list) or not spec["claims"]:
        raise SweepError(f"{where}: claims must be a non-empty list of claim names")
    spec.setdefault("axes", list(grid)[:2])
    bad_axes = [axis for axis in spec["axes"] if axis not in grid]
    if bad_axes or not 1 <= len(spec["axes"]) <= 2:
        raise SweepError(
            f"{where}: axes must be one or two grid keys ({list(grid)}), got {spec['axes']}"
        )
    resources = spec.get("resources") or {}
    bad = sorted(set(resources) - set(RESOURCES))
    if bad:
        raise SweepError(f"{where}: unknown resources {bad}; allowed: {', '.join(RESOURCES)}")
    for key, value in resources.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SweepError(f"{where}: resource {key} must be a whole number >= 0, got {value!r}")
    spec["resources"] = {**RESOURCES, **resources}
    if spec["profile"] != "book":
        profile = root / profile_file(spec["notebook"], spec["profile"])
        spec["profile_values"] = yaml.safe_load(profile.read_text()) or {}
    else:
        spec["profile_values"] = {}
    return spec


def sweep_point_name(notebook: str, parameters: Mapping[str, Any]) -> str:
    """A point's name: the first 12 hex digits of SHA-256 over its notebook and parameters.

    Args:
        notebook: the notebook's name, e.g. "fig8".
        parameters: every parameter's value at the point.

    Returns:
        12 hex digits.
    """
    text = json.dumps({"notebook": notebook, "parameters": parameters}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def sweep_points(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every point of a sweep, in the grid's order (the last key varying fastest).

    Args:
        spec: the sweep (``load_sweep``).

    Returns:
        A list of {name, grid (this point's grid values), overrides (what papermill is
        given: profile, fixed and grid values), parameters (every parameter's value)}.
    """
    keys = list(spec["grid"])
    result = []
    for values in itertools.product(*(spec["grid"][key] for key in keys)):
        grid = dict(zip(keys, values))
        overrides = {**spec["profile_values"], **spec["fixed"], **grid}
        parameters = {**spec["defaults"], **overrides}
        result.append(
            {
                "name": sweep_point_name(spec["notebook"], parameters),
                "grid": grid,
                "overrides": overrides,
                "parameters": parameters,
            }
        )
    return result


def glued_values(notebook: nbformat.NotebookNode) -> dict[str, Any]:
    """What a notebook glued (MyST-NB's ``glue``), as Python values.

    Args:
        notebook: an executed notebook (nbformat's NotebookNode).

    Returns:
        {name: value}; values read from their text form (numbers, strings, bools, dicts;
        a figure or another object that has no literal form is left out).
    """
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook", {})
            name, prefix = record.get("name"), record.get("mime_prefix", "")
            text = output.get("data", {}).get(f"{prefix}text/plain")
            if name is None or text is None:
                continue
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                pass
    return values


def _point_result(spec, point, path):
    notebook = nbformat.read(path, as_version=4)
    papermill = notebook.metadata.get("papermill", {})
    values = glued_values(notebook)
    claims = {}
    for claim in spec["claims"]:
        if f"{claim}_holds" not in values:
            raise SweepError(f"{path}: the point glued no {claim}_holds (is {claim} its claim?)")
        claims[claim] = {
            field: values.get(f"{claim}_{field}")
            for field in ("holds", "verdict", "mark", "statistic", "summary", "scale", "parts")
        }
        parts = claims[claim]["parts"]
        if parts is not None:
            claims[claim]["parts"] = {str(k): v for k, v in parts.items()}
    return {
        "name": point["name"],
        "grid": point["grid"],
        "parameters": papermill.get("parameters", {}),
        "claims": claims,
        "started": papermill.get("start_time"),
        "seconds": papermill.get("duration"),
    }


def collect_sweep(
    spec: Mapping[str, Any], executed: Path | str, provenance: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A sweep's summary: each point's recorded parameters and glued claims.

    Args:
        spec: the sweep (``load_sweep``).
        executed: a directory holding <point name>.ipynb for every point.
        provenance: what to record about the code and machine (e.g. commit, code
            fingerprint, package versions, hardware).

    Returns:
        {format, sweep (the file's keys), points (in the grid's order), provenance,
        collected (UTC time)}.

    Raises:
        SweepError: a point not yet run, or one whose recorded parameters are not its own.
    """
    results = []
    for point in sweep_points(spec):
        path = Path(executed) / f"{point['name']}.ipynb"
        if not path.exists():
            raise SweepError(f"sweep {spec['name']}: point {point['grid']} has not run ({path})")
        result = _point_result(spec, point, path)
        recorded = {k: result["parameters"].get(k) for k in point["overrides"]}
        if json.dumps(recorded, sort_keys=True) != json.dumps(point["overrides"], sort_keys=True):
            raise SweepError(
                f"{path}: papermill recorded {recorded}, the point is {point['overrides']}"
            )
        results.append(result)
    keys = ("title", "notebook", "profile", "fixed", "grid", "claims", "axes", "resources")
    return {
        "format": FORMAT,
        "sweep": {"name": spec["name"], **{key: spec[key] for key in keys}},
        "points": results,
        "provenance": provenance or {},
        "collected": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def write_sweep_summary(path: Path | str, summary: Mapping[str, Any]) -> None:
    """Write a summary as JSON, atomically (``dfp.storage.write_json``).

    Args:
        path: the summary's file, e.g. sweeps/depth.summary.json.
        summary: what ``collect_sweep`` returned.

    Returns:
        None; the file is written.
    """
    write_json(path, summary)


def read_sweep_summary(path: Path | str) -> dict[str, Any] | None:
    """A summary written by ``write_sweep_summary``; None when the sweep has not been collected.

    Args:
        path: the summary's file.

    Returns:
        The summary, or None when the file does not exist.

    Raises:
        SweepError: a file that is not a summary of this layout.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        summary = read_json(path)
    except StorageError as error:
        raise SweepError(f"{path} is not a sweep summary: {error}") from error
    if not isinstance(summary, dict) or summary.get("format") != FORMAT:
        raise SweepError(f"{path}: not a sweep summary of format {FORMAT}")
    return summary


def _text(value):
    """A grid value as a table shows it."""
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def sweep_scores(summary: Mapping[str, Any], claim: str) -> list[tuple[dict[str, Any], float]]:
    """Each point's share of the claim that holds: parts holding over parts, else 0 or 1.

    Args:
        summary: a sweep summary (``read_sweep_summary``).
        claim: one of the sweep's claims, e.g. "C7".

    Returns:
        A list of (grid values, share in [0, 1]), in the grid's order.
    """
    scores = []
    for point in summary["points"]:
        result = point["claims"][claim]
        parts = result.get("parts")
        share = sum(parts.values()) / len(parts) if parts else float(bool(result["holds"]))
        scores.append((point["grid"], share))
    return scores


def sweep_table(summary: Mapping[str, Any], claim: str) -> str:
    """A Markdown table of a sweep: one row per point, its grid values, verdict and numbers.

    Args:
        summary: a sweep summary.
        claim: the claim whose verdict the rows give.

    Returns:
        The table, with a column per grid key, the verdict (mark and words), the parts that
        hold, the deciding numbers (the claim's glued summary) and the point's run time.
    """
    keys = list(summary["sweep"]["grid"])
    head = [f"`{key}`" for key in keys] + ["verdict", "parts", "deciding numbers", "run time"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for point in summary["points"]:
        result = point["claims"][claim]
        parts = result.get("parts") or {}
        shown = " ".join(f"({k}) {'✓' if v else '✗'}" for k, v in sorted(parts.items()))
        seconds = point.get("seconds")
        cells = [_text(point["grid"][key]) for key in keys] + [
            f"{result['mark']} {result['verdict']}",
            shown or "",
            str(result.get("summary") or "").replace("|", "\\|"),
            f"{seconds:.0f} s" if seconds is not None else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cells(summary, claim, axes):
    """{axis values: [(point's parts or None, holds)]} over the sweep's axes."""
    cells = {}
    for point in summary["points"]:
        key = tuple(_text(point["grid"][axis]) for axis in axes)
        result = point["claims"][claim]
        cells.setdefault(key, []).append((result.get("parts"), bool(result["holds"])))
    return cells


def _where(summary, claim, axes):
    """One line per cell of the axes: at how many points the claim holds, and which parts."""
    lines = []
    for key, results in _cells(summary, claim, axes).items():
        where = ", ".join(f"`{a}` = {v}" for a, v in zip(axes, key))
        held = sum(holds for _, holds in results)
        text = f"- {where}: {claim} holds in full at {held} of {len(results)} points"
        parts = [p for p, _ in results if p]
        if parts:
            always = [k for k in sorted(parts[0]) if all(p.get(k) for p in parts)]
            never = [k for k in sorted(parts[0]) if not any(p.get(k) for p in parts)]
            text += "; parts holding at every point: " + (
                ", ".join(f"({k})" for k in always) or "none"
            )
            text += "; at none: " + (", ".join(f"({k})" for k in never) or "none")
        lines.append(text + ".")
    return "\n".join(lines)


def sweep_description(
    spec: Mapping[str, Any],
    summary: Mapping[str, Any] | None,
    current_version: int = TRAINING_VERSION,
) -> str:
    """A sweep page's text: what it varies and holds fixed, and what its summary is of.

    Args:
        spec: the sweep (``load_sweep``).
        summary: its summary, or None when it has not been collected.
        current_version: the training-code version of this page (``TRAINING_VERSION``); a
            summary of another version, or of none recorded, is said to come from older
            training code.

    Returns:
        Markdown: the sweep's description, its fixed and grid parameters, then either how
        to run it or where each claim holds (by every grid key but ``seed``, whose points
        are pooled), with the summary's provenance and run times.
    """
    name = spec["name"]
    fixed = {**spec["profile_values"], **spec["fixed"]}
    rows = "\n".join(f"| `{k}` | `{_text(v)}` |" for k, v in fixed.items())
    grid = "\n".join(
        f"| `{k}` | {', '.join(f'`{_text(v)}`' for v in vs)} |" for k, vs in spec["grid"].items()
    )
    count = len(sweep_points(spec))
    text = [
        spec.get("about", "").strip(),
        f"**The sweep** (`sweeps/{name}.yaml`): notebook `{spec['notebook']}` at its "
        f"`{spec['profile']}` parameters, {count} points (every combination of the grid).",
        f"| fixed | value |\n|---|---|\n{rows}" if rows else "",
        f"| grid | values |\n|---|---|\n{grid}",
    ]
    command = (
        f"`make sweep SWEEP={name}` (or `snakemake -s workflow/Snakefile --cores N "
        f"--config sweep={name}`)"
    )
    if summary is None:
        text.append(
            f"**This sweep has not been run.** Run it with {command}: it runs every point "
            f"not yet done and writes `sweeps/{name}.summary.json`; commit that file and this "
            "page shows its results."
        )
        return "\n\n".join(t for t in text if t)
    current = {p["name"] for p in sweep_points(spec)}
    collected = {p["name"] for p in summary["points"]}
    if current != collected:
        text.append(
            f"**The summary is of another version of this sweep**: {len(current & collected)} "
            f"of its {len(collected)} points are points of the sweep file now ({count}). "
            f"Run {command} to bring it up to date."
        )
    origin = summary.get("provenance", {})
    if origin and origin.get("training_version") != current_version:
        text.append(
            "**Produced by older training code** than this page's: commit "
            f"{origin.get('commit', 'unknown')} of {origin.get('commit_date') or 'unknown date'}."
        )
    seconds = [p["seconds"] for p in summary["points"] if p.get("seconds") is not None]
    starts = [
        datetime.datetime.fromisoformat(p["started"]) for p in summary["points"] if p.get("started")
    ]
    wall = ""
    if starts and seconds:
        ends = [
            datetime.datetime.fromisoformat(p["started"]) + datetime.timedelta(seconds=p["seconds"])
            for p in summary["points"]
            if p.get("started") and p.get("seconds") is not None
        ]
        minutes = (max(ends) - min(starts)).total_seconds() / 60
        wall = f", {minutes:.0f} min from the first start to the last end"
    text.append(
        f"**Run**: collected {summary.get('collected', 'at an unknown time')} from commit "
        f"{origin.get('commit', 'unknown')} on {origin.get('hardware', 'unknown hardware')}"
        f"{'; GPU: ' + ', '.join(origin['gpus']) if origin.get('gpus') else ''}, backend "
        f"{origin.get('backend', 'unknown')}; the points' run times add up to "
        f"{sum(seconds) / 60:.0f} min{wall}."
    )
    # Seeds are replicates: the text pools them, the table below lists each.
    keys = [key for key in spec["grid"] if key != "seed"] or list(spec["grid"])
    pooled = " (seeds pooled)" if "seed" in spec["grid"] and "seed" not in keys else ""
    for claim in spec["claims"]:
        text.append(f"**Where {claim} holds**, by {' and '.join(f'`{k}`' for k in keys)}{pooled}:")
        text.append(_where(summary, claim, keys))
    return "\n\n".join(t for t in text if t)
