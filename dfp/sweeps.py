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
    trained_below: {mse: 1.0e-2}   # optional: see "Under-trained points" below
    about: "..."              # a paragraph for the sweep's page

**A point's identity.** A point's parameters are the notebook's defaults, then its profile,
then ``fixed``, then the point's grid values. Its name hashes the notebook and the
parameters whose value differs from the notebook's default (``point_identity``): a
parameter added to the notebook later, whose default keeps the old behaviour, renames no
point, while a changed grid or fixed value does; reordering a grid renames nothing. A
changed default keeps the names of the points that do not set it: the workflow runs them
again (the notebook is their input), and a summary records the parameters each point ran
with (the page's glued ``parameters``), so a page whose summary ran under another default
says so (``sweep_description``).

**Outcomes.** Each point glues, per claim, ``<claim>_outcome`` (one of ``OUTCOMES``) and
``<claim>_parts`` ({part: "holds", "fails" or "not resolved"}); points of older code glue
``<claim>_holds`` (a bool) and parts as bools, read as "holds" and "fails", their outcome
derived (``claim_outcome``).

**Under-trained points.** Each point glues its run's facts (``dfp.page.glue_run``:
``run_final_loss``, ``run_epochs``, ``run_stop_loss``, ...). A point whose final training
loss is above the loss it aimed at (its ``stop_loss``, or where it has none the sweep's
``trained_below``: a number, or {value of the notebook's ``loss``: number}) is
under-trained: its claims count as "not resolved", whatever it glued (``point_outcome``).

The workflow (workflow/Snakefile) executes each point with papermill and ``collect_sweep``
gathers what papermill recorded and what the point glued into one summary,
``sweeps/<name>.summary.json``; a sweep's page leads with a conclusion made from it
(``sweep_conclusion``) and a table of every point's mark by the sweep's axes
(``sweep_marks``).

Imports no Keras: the workflow checks every sweep file at every call without loading it.
"""

import ast
import datetime
import hashlib
import itertools
import json
import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
import yaml

from dfp._vocabulary import CLAIM_FIELDS, PROFILES
from dfp.parameters import RULES, notebook_parameters, profile_file
from dfp.provenance import TRAINING_VERSION
from dfp.storage import StorageError, read_json, write_json

__all__ = [
    "OUTCOMES",
    "OUTCOME_MARKS",
    "PART_STATES",
    "PROFILES",
    "RESOURCES",
    "SweepError",
    "claim_outcome",
    "claim_parts",
    "collect_sweep",
    "glued_values",
    "load_sweep",
    "point_identity",
    "point_outcome",
    "sweep_conclusion",
    "sweep_marks",
    "sweep_point_name",
    "sweep_points",
    "sweep_scores",
    "sweep_table",
    "read_sweep_summary",
    "redecide_sweep_summary",
    "sweep_description",
    "write_sweep_summary",
]

# What one point asks of the machine when the sweep does not say: a job's threads (its cores),
# memory in MB, GPUs and run time in minutes (Snakemake's resources of the same names).
RESOURCES = {"threads": 1, "mem_mb": 4000, "gpus": 0, "runtime": 60}
_KEYS = {
    "title",
    "notebook",
    "profile",
    "fixed",
    "grid",
    "claims",
    "axes",
    "resources",
    "trained_below",
    "about",
}
_REQUIRED = ("title", "notebook", "grid", "claims")
# A summary's layout; read_summary refuses another. (Fields added since, all optional on
# reading: a point's ran_with, run, trained_below and under_trained, a claim's outcome.)
FORMAT = 1
# A claim's outcome at a point, and the states of its parts; bools of older points read as
# "holds" (True) and "fails" (False).
OUTCOMES = ("reproduces", "does not reproduce", "in part", "not resolved")
PART_STATES = ("holds", "fails", "not resolved")
OUTCOME_MARKS = {"reproduces": "✓", "does not reproduce": "✗", "in part": "◐", "not resolved": "?"}
# A claim's outcome in the words of dfp.verdicts.Check (whose parts share them), read as these.
_OUTCOME_ALIASES = {"holds": "reproduces", "fails": "does not reproduce"}
# The prefix of the run facts a point glues (dfp.page.glue_run).
RUN_PREFIX = "run_"


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
            empty grid or one with repeated values, a ``trained_below`` that is not a
            positive number or a mapping of the notebook's ``loss`` values to them.
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
    _check_trained_below(where, spec)
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


def _is_loss(value):
    """A positive, finite number (not a bool): a loss to train below."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _check_trained_below(where, spec):
    """Refuse a ``trained_below`` that is not a loss or {value of ``loss``: loss}."""
    if "trained_below" not in spec or spec["trained_below"] is None:
        spec["trained_below"] = None
        return
    value = spec["trained_below"]
    allowed = "a positive number, or a mapping of the notebook's loss values to them"
    if _is_loss(value):
        return
    if not isinstance(value, dict) or not value:
        raise SweepError(f"{where}: trained_below must be {allowed}, got {value!r}")
    if "loss" not in spec["defaults"]:
        raise SweepError(
            f"{where}: trained_below maps loss values, but {spec['notebook']} has no "
            "parameter 'loss'; give one number"
        )
    rule = RULES.get("loss")
    for key, loss in value.items():
        if rule is not None and not rule(key):
            raise SweepError(
                f"{where}: trained_below key {key!r} is not a loss: it must be {rule.allowed}"
            )
        if not _is_loss(loss):
            raise SweepError(f"{where}: trained_below {key!r} must be {allowed}, got {loss!r}")


def _same(a, b):
    """Whether two parameter values are the same (as JSON: 0.01 and 1e-2 are)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def point_identity(parameters: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """What names a point: its parameters but those at the notebook's default.

    A parameter the notebook gains later, whose default keeps what the notebook did
    before, is at its default at every existing point: it changes no point's identity.
    A value set away from its default (a grid value, a fixed value, a profile's) does.

    Args:
        parameters: every parameter's value at the point (a parameter the notebook no
            longer has is kept: a point that set it is not a point of the notebook now).
        defaults: the notebook's parameters cell (``notebook_parameters``).

    Returns:
        {name: value} of the parameters not at their default.
    """
    return {
        key: value
        for key, value in parameters.items()
        if key not in defaults or not _same(value, defaults[key])
    }


def sweep_point_name(
    notebook: str, parameters: Mapping[str, Any], defaults: Mapping[str, Any]
) -> str:
    """A point's name: 12 hex digits of SHA-256 over its notebook and ``point_identity``.

    Args:
        notebook: the notebook's name, e.g. "fig8".
        parameters: the point's parameter values (every one, or only those set: those at
            their default are left out either way).
        defaults: the notebook's parameters cell.

    Returns:
        12 hex digits.
    """
    identity = point_identity(parameters, defaults)
    text = json.dumps({"notebook": notebook, "parameters": identity}, sort_keys=True)
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
                "name": sweep_point_name(spec["notebook"], parameters, spec["defaults"]),
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


def claim_parts(result: Mapping[str, Any]) -> dict[str, str] | None:
    """A claim's parts at a point as states, whichever code glued them.

    Args:
        result: the claim's record at a point (a summary's ``claims[claim]``), its
            ``parts`` {part: "holds" | "fails" | "not resolved"} or, from older code,
            {part: bool}.

    Returns:
        {part (a string): one of ``PART_STATES``}, or None for a claim without parts.

    Raises:
        SweepError: a part's state that is neither a bool nor one of ``PART_STATES``.
    """
    parts = result.get("parts")
    if parts is None:
        return None
    states = {}
    for part, state in parts.items():
        if isinstance(state, bool):
            state = "holds" if state else "fails"
        if state not in PART_STATES:
            raise SweepError(
                f"part ({part}) is {state!r}: a part is a bool or one of {', '.join(PART_STATES)}"
            )
        states[str(part)] = state
    return states


def claim_outcome(result: Mapping[str, Any]) -> str:
    """A claim's outcome at a point, as the point glued it or derived from older glue.

    A glued ``outcome`` is taken as it is ("holds" and "fails", ``dfp.verdicts.Check``'s
    words, as "reproduces" and "does not reproduce"). Otherwise, from the parts: all holding
    "reproduces", some holding "in part", none holding but some failing "does not
    reproduce", none decided "not resolved"; without parts, from ``holds`` (True
    "reproduces", False "does not reproduce", None "not resolved").

    Args:
        result: the claim's record at a point (``outcome``, ``holds``, ``parts``).

    Returns:
        One of ``OUTCOMES``.

    Raises:
        SweepError: an outcome that is not one of ``OUTCOMES``, or a part's bad state.
    """
    outcome = result.get("outcome")
    if outcome is not None:
        outcome = _OUTCOME_ALIASES.get(outcome, outcome)
        if outcome not in OUTCOMES:
            raise SweepError(
                f"outcome {result['outcome']!r} is not one of {', '.join(OUTCOMES)} "
                f"(or {' or '.join(_OUTCOME_ALIASES)}, a check's words for the first two)"
            )
        return outcome
    parts = claim_parts(result)
    if parts:
        states = set(parts.values())
        if states == {"holds"}:
            return "reproduces"
        if "holds" in states:
            return "in part"
        return "does not reproduce" if "fails" in states else "not resolved"
    holds = result.get("holds")
    if holds is None:
        return "not resolved"
    return "reproduces" if holds else "does not reproduce"


def point_outcome(point: Mapping[str, Any], claim: str) -> str:
    """A claim's outcome at a point as a sweep counts it: an under-trained point's is
    "not resolved" (its network was not trained to the loss it aimed at, so what it shows
    of the end of training neither supports nor violates the claim).

    Args:
        point: a point of a sweep summary.
        claim: one of the sweep's claims.

    Returns:
        One of ``OUTCOMES``.
    """
    if point.get("under_trained"):
        return "not resolved"
    return claim_outcome(point["claims"][claim])


def _aimed_below(spec, run, parameters):
    """The loss a point's run had to end below: its stop loss, else the sweep's
    ``trained_below`` (for its ``loss``); None when there is none."""
    if run.get("stop_loss") is not None:
        return run["stop_loss"]
    trained_below = spec.get("trained_below")
    if isinstance(trained_below, dict):
        return trained_below.get(parameters.get("loss"))
    return trained_below


def _under_trained(final_loss, aim):
    """True when the final loss is not below the aim (NaN included); None when unknown."""
    if final_loss is None or aim is None:
        return None
    try:
        final = float(final_loss)
    except (TypeError, ValueError):
        return None
    return not final <= aim


def _point_result(spec, point, path):
    notebook = nbformat.read(path, as_version=4)
    papermill = notebook.metadata.get("papermill", {})
    values = glued_values(notebook)
    claims = {}
    for claim in spec["claims"]:
        if f"{claim}_outcome" not in values and f"{claim}_holds" not in values:
            raise SweepError(
                f"{path}: the point glued neither {claim}_outcome nor {claim}_holds "
                f"(is {claim} its claim?)"
            )
        result = {field: values.get(f"{claim}_{field}") for field in CLAIM_FIELDS}
        if isinstance(result["inputs"], str):  # glued as JSON text (dfp.page.glue_claim)
            result["inputs"] = json.loads(result["inputs"])
        try:
            result["parts"] = claim_parts(result)
            result["outcome"] = claim_outcome(result)
        except SweepError as error:
            raise SweepError(f"{path}: {claim}: {error}") from error
        claims[claim] = result
    run = {
        name.removeprefix(RUN_PREFIX): value
        for name, value in values.items()
        if name.startswith(RUN_PREFIX)
    }
    ran_with = values.get("parameters")
    aim = _aimed_below(spec, run, point["parameters"])
    return {
        "name": point["name"],
        "grid": point["grid"],
        "parameters": papermill.get("parameters", {}),
        "ran_with": ran_with if isinstance(ran_with, dict) else None,
        "run": run,
        "trained_below": aim,
        "under_trained": _under_trained(run.get("final_loss"), aim),
        "claims": claims,
        "started": papermill.get("start_time"),
        "seconds": papermill.get("duration"),
    }


def _differences(expected, found, keys):
    """'name = found (the point's: expected)' for each of ``keys`` whose values differ."""

    def shown(values, key):
        return repr(values[key]) if key in values else "unset"

    return [
        f"{key} = {shown(found, key)} (the point's: {shown(expected, key)})"
        for key in keys
        if (key in expected) != (key in found)
        or (key in expected and not _same(expected[key], found[key]))
    ]


def _ran_as(spec, recorded, ran_with):
    """What a collected point ran with, in the notebook's terms now: the defaults, updated
    by what papermill recorded (its overrides) and, where the point glued them, every
    parameter it ran with (a parameter added since is at its default)."""
    return {**spec["defaults"], **(ran_with or {}), **recorded}


def collect_sweep(
    spec: Mapping[str, Any], executed: Path | str, provenance: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A sweep's summary: each point's recorded parameters, run facts and glued claims.

    Args:
        spec: the sweep (``load_sweep``).
        executed: a directory holding <point name>.ipynb for every point.
        provenance: what to record about the code and machine (e.g. commit, code
            fingerprint, package versions, hardware).

    Returns:
        {format, sweep (the file's keys), points (in the grid's order), provenance,
        collected (UTC time)}. A point: name, grid, parameters (papermill's record),
        ran_with (every parameter, as the page glued them; None from older code), run (its
        glued run facts, e.g. final_loss, epochs, stop_loss), trained_below (the loss it had
        to end below, or None), under_trained (True, False, or None when not known),
        claims ({claim: outcome, parts as states, holds, verdict, mark, statistic, summary,
        scale}), started and seconds.

    Raises:
        SweepError: a point not yet run, one that ran with parameters other than its own (a
            set value, or a default changed since), or one whose glue is not a verdict.
    """
    results = []
    for point in sweep_points(spec):
        path = Path(executed) / f"{point['name']}.ipynb"
        if not path.exists():
            raise SweepError(f"sweep {spec['name']}: point {point['grid']} has not run ({path})")
        result = _point_result(spec, point, path)
        ran = _ran_as(spec, result["parameters"], result["ran_with"])
        keys = sorted(set(point["parameters"]) | set(result["parameters"]))
        differ = _differences(point["parameters"], ran, keys)
        if differ:
            raise SweepError(
                f"{path}: papermill recorded {result['parameters']}, the page ran with "
                f"{'; '.join(differ)}: not the point {point['overrides']}"
            )
        results.append(result)
    keys = ("title", "notebook", "profile", "fixed", "grid", "claims", "axes", "resources")
    return {
        "format": FORMAT,
        "sweep": {
            "name": spec["name"],
            **{key: spec[key] for key in keys},
            "trained_below": spec.get("trained_below"),
        },
        "points": results,
        "provenance": provenance or {},
        "collected": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def redecide_sweep_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A sweep summary with every point's claims that carry their inputs decided again under
    the current rule (``dfp.claims.redecide``), without running a point.

    Args:
        summary: a sweep summary (``collect_sweep``).

    Returns:
        The summary, re-decided; points without inputs (collected before points kept them)
        unchanged.
    """
    from dfp.claims import check_fields, redecide  # deferred: only to re-decide

    points = []
    for point in summary["points"]:
        claims = {}
        for claim, result in point["claims"].items():
            if result.get("inputs") is not None:
                result = dict(result, **check_fields(redecide(result["inputs"])))
                # In a sweep's own words, as collect_sweep writes them.
                result["parts"] = claim_parts(result)
                result["outcome"] = claim_outcome(result)
            claims[claim] = result
        points.append(dict(point, claims=claims))
    return json.loads(json.dumps(dict(summary, points=points)))


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
    """Each resolved point's share of the claim that holds: parts holding over parts, else
    1 (reproduces), 0.5 (in part) or 0 (does not reproduce).

    Args:
        summary: a sweep summary (``read_sweep_summary``).
        claim: one of the sweep's claims, e.g. "C7".

    Returns:
        A list of (grid values, share in [0, 1]), in the grid's order; points whose claim
        is not resolved (under-trained ones included) are left out.
    """
    scores = []
    for point in summary["points"]:
        outcome = point_outcome(point, claim)
        if outcome == "not resolved":
            continue
        parts = claim_parts(point["claims"][claim])
        if parts:
            share = sum(state == "holds" for state in parts.values()) / len(parts)
        else:
            share = {"reproduces": 1.0, "in part": 0.5}.get(outcome, 0.0)
        scores.append((point["grid"], share))
    return scores


def _loss(value):
    """A loss as the page writes it (3 significant digits)."""
    try:
        return f"{float(value):.3g}"
    except (TypeError, ValueError):
        return str(value)


def _training(point):
    """A point's training in words: its final loss against the loss it aimed at."""
    run = point.get("run") or {}
    final, aim = run.get("final_loss"), point.get("trained_below")
    if final is None:
        return "not recorded"
    epochs = f" after {run['epochs']} epochs" if run.get("epochs") is not None else ""
    if point.get("under_trained"):
        return f"**under-trained**: final loss {_loss(final)}{epochs}, not below {_loss(aim)}"
    if aim is None:
        return f"final loss {_loss(final)}{epochs} (no loss to reach)"
    return f"final loss {_loss(final)}{epochs}, below {_loss(aim)}"


def sweep_table(summary: Mapping[str, Any], claim: str) -> str:
    """A Markdown table of a sweep: one row per point, its grid values, verdict and numbers.

    Args:
        summary: a sweep summary.
        claim: the claim whose verdict the rows give.

    Returns:
        The table, with a column per grid key, the verdict the point glued (mark and
        words; an under-trained point's is marked as not counted), its parts (✓ holds, ✗
        fails, ? not resolved), its training (final loss against the loss it aimed at),
        the deciding numbers (the claim's glued summary) and the point's run time.
    """
    keys = list(summary["sweep"]["grid"])
    head = [f"`{key}`" for key in keys]
    head += ["verdict", "parts", "training", "deciding numbers", "run time"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    marks = {"holds": "✓", "fails": "✗", "not resolved": "?"}
    for point in summary["points"]:
        result = point["claims"][claim]
        outcome = claim_outcome(result)
        parts = claim_parts(result) or {}
        shown = " ".join(f"({k}) {marks[v]}" for k, v in sorted(parts.items()))
        verdict = (
            f"{result.get('mark') or OUTCOME_MARKS[outcome]} {result.get('verdict') or outcome}"
        )
        if point.get("under_trained"):
            verdict += " (not counted: under-trained)"
        seconds = point.get("seconds")
        cells = [_text(point["grid"][key]) for key in keys] + [
            verdict,
            shown,
            _training(point),
            str(result.get("summary") or "").replace("|", "\\|"),
            f"{seconds:.0f} s" if seconds is not None else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _table_axes(summary):
    """The axes a sweep's marks and conclusion are given by: its axes but ``seed`` (seeds
    are replicates, pooled in each cell)."""
    sweep = summary["sweep"]
    return [axis for axis in sweep.get("axes") or list(sweep["grid"])[:2] if axis != "seed"]


def _pooled(summary, axes):
    """Words for the grid keys pooled in each cell, e.g. " (`grid_pad` and seeds pooled)"."""
    pooled = [
        "seeds" if key == "seed" else f"`{key}`"
        for key in summary["sweep"]["grid"]
        if key not in axes
    ]
    return f" ({_joined(pooled, 'and')} pooled)" if pooled else ""


def _joined(words, last="and"):
    """ "a", "a and b", "a, b and c"."""
    words = list(words)
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def _values(summary, axis):
    """An axis's values, as the tables write them, in the grid's order."""
    return [_text(value) for value in summary["sweep"]["grid"][axis]]


def _cells(summary, axes):
    """{axis values (as text): the points there, in the grid's order}, in the axes' order."""
    cells = {key: [] for key in itertools.product(*(_values(summary, a) for a in axes))}
    for point in summary["points"]:
        cells.setdefault(tuple(_text(point["grid"][a]) for a in axes), []).append(point)
    return {key: points for key, points in cells.items() if points}


def _cell_outcome(outcomes):
    """A cell's outcome: the one its points share, else "mixed"."""
    return outcomes[0] if len(set(outcomes)) == 1 else "mixed"


def _where(summary, axes, chosen, cells):
    """Words for a set of cells, e.g. "where `activation` = tanh or relu"."""
    if set(chosen) == set(cells):
        return "at every " + " and ".join(f"`{a}`" for a in axes)
    if len(axes) == 1:
        return f"where `{axes[0]}` = {_joined([key[0] for key in chosen], 'or')}"
    (a, b), chosen = axes, set(chosen)
    rows = [x for x in _values(summary, a) if all((x, y) in chosen for y in _values(summary, b))]
    columns = [y for y in _values(summary, b) if all((x, y) in chosen for x in _values(summary, a))]
    rest = [key for key in cells if key in chosen and key[0] not in rows and key[1] not in columns]
    items = [f"`{a}` = {_joined(rows, 'or')}"] if rows else []
    items += [f"`{b}` = {_joined(columns, 'or')}"] if columns else []
    if rest:
        items.append(f"(`{a}`, `{b}`) = {_joined([f'({x}, {y})' for x, y in rest], 'or')}")
    return "where " + " or where ".join(items)


# The order a conclusion and its tallies take the outcomes in.
_ORDER = ("reproduces", "in part", "does not reproduce", "not resolved")
# A claim's outcome as a verb, for the conclusion.
_VERBS = {
    "reproduces": "reproduces",
    "in part": "reproduces in part",
    "does not reproduce": "does not reproduce",
    "not resolved": "is not resolved",
}
# What a cell's points share, as a clause of the conclusion ("mixed": they differ).
_CELL_CLAUSES = {
    "reproduces": "reproduces at every point",
    "in part": "reproduces in part at every point",
    "does not reproduce": "does not reproduce at any point",
    "not resolved": "is left unresolved at every point",
    "mixed": "differs from point to point",
}


def sweep_conclusion(summary: Mapping[str, Any], claim: str) -> str:
    """Two or three sentences on a claim over a sweep, made from its summary.

    How many points the claim reproduces at, in part, not and not resolved; where (by the
    sweep's axes but ``seed``, every other grid key pooled) every point agrees and where
    they differ; and how many points were under-trained (counted as not resolved).

    Args:
        summary: a sweep summary (``read_sweep_summary``).
        claim: one of the sweep's claims.

    Returns:
        The sentences, as Markdown.
    """
    points = summary["points"]
    if not points:
        return f"The summary holds no points: nothing is known of {claim}."
    outcomes = [point_outcome(point, claim) for point in points]
    tally = Counter(outcomes)
    counts = [f"{_VERBS[o]} at {tally[o]}" for o in _ORDER if tally[o]]
    if len(counts) > 1:
        sentences = [f"Of the {len(points)} points, {claim} {_joined(counts)}."]
    elif outcomes[0] == "does not reproduce":
        sentences = [f"{claim} does not reproduce at any of the {len(points)} points."]
    elif outcomes[0] == "not resolved":
        sentences = [f"{claim} is left unresolved at all {len(points)} points."]
    else:
        sentences = [f"{claim} {_VERBS[outcomes[0]]} at every one of the {len(points)} points."]
    axes = _table_axes(summary)
    cells = _cells(summary, axes) if axes else {}
    by_cell = {
        key: _cell_outcome([point_outcome(p, claim) for p in ps]) for key, ps in cells.items()
    }
    # By the axes, unless every point is alike and the first sentence said so already.
    if len(cells) > 1 and len(counts) > 1:
        clauses = [
            f"{_CELL_CLAUSES[kind]} "
            + _where(summary, axes, [k for k, v in by_cell.items() if v == kind], cells)
            for kind in (*_ORDER, "mixed")
            if kind in by_cell.values()
        ]
        sentences.append(
            f"By {' and '.join(f'`{a}`' for a in axes)}{_pooled(summary, axes)}, it "
            + "; it ".join(clauses)
            + "."
        )
    sentences.append(_under_trained_sentence(summary, axes, cells))
    return " ".join(sentences)


def _under_trained_sentence(summary, axes, cells):
    """How many points were under-trained, and where; or why none could be judged."""
    points = summary["points"]
    judged = [p for p in points if p.get("under_trained") is not None]
    if not judged:
        return (
            "No point's training could be judged: none recorded both its final training "
            "loss and a loss to reach."
        )
    under = [p for p in judged if p["under_trained"]]
    unjudged = len(points) - len(judged)
    rest = f"; {unjudged} recorded no final loss or had no loss to reach" if unjudged else ""
    if not under:
        return (
            f"No point was under-trained: all {len(judged)} judged ended below the loss they "
            f"aimed at{rest}."
        )
    where = ""
    if len(cells) > 1:
        chosen = [key for key, ps in cells.items() if any(p.get("under_trained") for p in ps)]
        where = f", {_where(summary, axes, chosen, cells)}"
    return (
        f"{len(under)} of the {len(judged)} points judged were under-trained (final training "
        f"loss not below the loss they aimed at{where}) and count as not resolved{rest}."
    )


def sweep_marks(summary: Mapping[str, Any], claim: str) -> str:
    """A compact Markdown table of a claim over a sweep: each point's mark, by cell of the
    sweep's axes (but ``seed``: the points of a cell, seeds and other grid keys pooled,
    in the grid's order).

    Marks: ✓ reproduces, ✗ does not reproduce, ◐ in part, ? not resolved (under-trained
    points included, whose number follows the cell's marks). One axis: a row of cells;
    two: rows by the first, columns by the second; none: one cell.

    Args:
        summary: a sweep summary.
        claim: one of the sweep's claims.

    Returns:
        The table, then a line saying what the marks are.
    """
    axes = _table_axes(summary)
    cells = _cells(summary, axes)

    def cell(key):
        points = cells.get(key, [])
        marks = "".join(OUTCOME_MARKS[point_outcome(p, claim)] for p in points)
        under = sum(bool(p.get("under_trained")) for p in points)
        return marks + (f" ({under} under-trained)" if under else "")

    if not axes:
        table = f"| {claim} |\n|---|\n| {cell(())} |"
    elif len(axes) == 1:
        values = _values(summary, axes[0])
        head = f"| `{axes[0]}` | " + " | ".join(values) + " |"
        table = "\n".join(
            [
                head,
                "|" + "---|" * (len(values) + 1),
                f"| {claim} | " + " | ".join(cell((v,)) for v in values) + " |",
            ]
        )
    else:
        rows, columns = _values(summary, axes[0]), _values(summary, axes[1])
        lines = [
            f"| {claim}: `{axes[0]}` ↓ `{axes[1]}` → | " + " | ".join(columns) + " |",
            "|" + "---|" * (len(columns) + 1),
        ]
        lines += [f"| {x} | " + " | ".join(cell((x, y)) for y in columns) + " |" for x in rows]
        table = "\n".join(lines)
    order = [k for k in summary["sweep"]["grid"] if k not in axes]
    within = f", in the order of {_joined([f'`{k}`' for k in order])}" if order else ""
    legend = (
        f"One mark per point{within}: ✓ reproduces, ✗ does not reproduce, ◐ in part, "
        "? not resolved (an under-trained point counts as not resolved; the table of points "
        "below gives what it glued)."
    )
    return f"{table}\n\n{legend}"


def _currency(spec, summary):
    """How much of a summary is of the sweep file now.

    A collected point is a point of the sweep now when the identity of what papermill
    recorded for it (``point_identity`` against the notebook's defaults now) is one of the
    sweep's points, and, where it recorded every parameter it ran with, none of them
    differs from the point's now (a default changed since).

    Returns:
        (names of the collected points that are points now, names of all collected points
        by that identity, ["`name` a (now b)" for each default that changed]).
    """
    points = {p["name"]: p for p in sweep_points(spec)}
    current, collected, changed = set(), set(), set()
    for point in summary["points"]:
        recorded = point.get("parameters") or {}
        name = sweep_point_name(
            spec["notebook"], {**spec["defaults"], **recorded}, spec["defaults"]
        )
        collected.add(name)
        if name not in points:
            continue
        ran = _ran_as(spec, recorded, point.get("ran_with"))
        now = points[name]["parameters"]
        moved = [k for k in now if not _same(ran[k], now[k])]
        changed.update(f"`{k}` {_text(ran[k])} (now {_text(now[k])})" for k in moved)
        if not moved:
            current.add(name)
    return current, collected, sorted(changed)


def sweep_description(
    spec: Mapping[str, Any],
    summary: Mapping[str, Any] | None,
    current_version: int = TRAINING_VERSION,
) -> str:
    """A sweep page's text: its conclusion, what it varies and holds fixed, what its summary
    is of.

    Args:
        spec: the sweep (``load_sweep``).
        summary: its summary, or None when it has not been collected.
        current_version: the training-code version of this page (``TRAINING_VERSION``); a
            summary of another version, or of none recorded, is said to come from older
            training code.

    Returns:
        Markdown. With a summary: first what makes it out of date, if anything (points of
        another version of the sweep, ones run under a default changed since, older
        training code), then each claim's conclusion (``sweep_conclusion``) and its marks by
        the sweep's axes (``sweep_marks``), then the sweep's description, its fixed and grid
        parameters and the summary's provenance and run times. Without one: the
        description, the parameters and how to run it.
    """
    name = spec["name"]
    fixed = {**spec["profile_values"], **spec["fixed"]}
    rows = "\n".join(f"| `{k}` | `{_text(v)}` |" for k, v in fixed.items())
    grid = "\n".join(
        f"| `{k}` | {', '.join(f'`{_text(v)}`' for v in vs)} |" for k, vs in spec["grid"].items()
    )
    count = len(sweep_points(spec))
    about = [
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
        about.append(
            f"**This sweep has not been run.** Run it with {command}: it runs every point "
            f"not yet done and writes `sweeps/{name}.summary.json`; commit that file and this "
            "page shows its results."
        )
        return "\n\n".join(t for t in about if t)
    text = []
    current, collected, changed = _currency(spec, summary)
    if current != collected or len(current) != count:
        moved = (
            f"; some ran under defaults of the notebook changed since: {', '.join(changed)}"
            if changed
            else ""
        )
        text.append(
            f"**The summary is of another version of this sweep**: {len(current)} of its "
            f"{len(summary['points'])} points are points of the sweep file now ({count}){moved}. "
            f"Run {command} to bring it up to date."
        )
    origin = summary.get("provenance", {})
    if origin and origin.get("training_version") != current_version:
        text.append(
            "**Produced by older training code** than this page's: commit "
            f"{origin.get('commit', 'unknown')} of {origin.get('commit_date') or 'unknown date'}."
        )
    for claim in spec["claims"]:
        text.append(f"**{claim}.** {sweep_conclusion(summary, claim)}")
        text.append(sweep_marks(summary, claim))
    text.extend(about)
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
    return "\n\n".join(t for t in text if t)
