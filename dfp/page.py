"""The page glue: what a figure notebook shows and glues about its claims, runs and parameters.

Only notebooks use it. ``begin`` opens every page: it reads and checks the notebook's
parameters once and returns them, for the page to pass on. ``glue_claim`` glues a
``dfp.verdicts.Check`` into the notebook as ``<claim>_outcome``, ``<claim>_verdict`` (in
words), ``<claim>_statistic`` (the numbers behind it) and the rest, so that the book's text
and the report page quote what was measured; ``glue_run`` glues the training run's facts
for a sweep; ``glue_precision_control`` the Resnet18 run's precision control;
``show_results`` and ``show_parameters`` end every figure page.
"""

import json
import math
from typing import Any

from IPython.display import Markdown, display
from myst_nb import glue

from dfp._vocabulary import CLAIMS
from dfp.claims import precision_control, precision_control_text
from dfp.parameters import Parameters, profile_file, read_parameters
from dfp.plots import evidence_figure, inline_image
from dfp.results import show_results as _show_committed_results
from dfp.runs import used_runs
from dfp.verdicts import Check

__all__ = [
    "begin",
    "glue_claim",
    "glue_precision_control",
    "glue_run",
    "show_parameters",
    "show_results",
]


def begin(namespace: dict, notebook: str) -> Parameters:
    """Open a figure page: read its parameters cell once, check every value, and glue them.

    A name papermill set that the notebook lacks, or a value of the wrong type or range,
    stops the page at once with a ``ParameterError`` naming it and what is allowed. The
    parameters are glued as ``parameters`` so that a committed result's summary
    (``dfp.results``) records exactly what the page ran with.

    Args:
        namespace: the notebook's ``globals()``.
        notebook: its name, e.g. "fig8".

    Returns:
        ``dfp.parameters.Parameters``: {name: value} in the cell's order, passed on to the
        run it keys (``dfp.runs.cached``) and the table that ends the page.
    """
    params = read_parameters(namespace, notebook)
    glue("parameters", dict(params), display=False)
    return params


def glue_claim(claim: str, check: Check, *, scale: str) -> None:
    """Glue a claim's verdict, in words and as a bool, and the numbers behind it.

    Glued names: ``<claim>_outcome`` ("holds", "fails", "not resolved" or "in part"),
    ``<claim>_holds`` (bool: the whole claim holds), ``<claim>_verdict`` (words),
    ``<claim>_mark`` (✓, ✗, ◐ or ?), ``<claim>_statistic`` (every number, for the figure
    page), ``<claim>_summary`` (the two or three numbers that decide it, for the report),
    ``<claim>_scale`` (the scale of the run), ``<claim>_inputs`` (the arrays the check read,
    from which ``dfp.claims.redecide`` decides it again), ``<claim>_effects`` (the deciding
    effects with their intervals, for the report's summary figure), with parts
    ``<claim>_parts`` ({part: outcome}) and, with evidence, ``<claim>_panel`` (a small figure
    of the deciding numbers, for the report). The verdict and statistic are also printed.

    Args:
        claim: one of ``dfp.claims.CLAIMS``.
        check: what the claim's check in ``dfp.claims`` returned.
        scale: the scale of the run in a few words, from its parameters.

    Returns:
        None.
    """
    if claim not in CLAIMS:
        raise ValueError(f"unknown claim {claim!r}; known: {', '.join(CLAIMS)}")
    if not isinstance(check, Check):
        raise ValueError(f"check must be a dfp.verdicts.Check, got {type(check).__name__}")
    if not isinstance(scale, str) or not scale:
        raise ValueError("scale must be a non-empty string")
    statistic = check.statistic
    phrase, mark = check.verdict()
    glue(f"{claim}_outcome", check.outcome, display=False)
    glue(f"{claim}_holds", check.holds, display=False)
    glue(f"{claim}_verdict", phrase, display=False)
    glue(f"{claim}_mark", mark, display=False)
    glue(f"{claim}_statistic", statistic, display=False)
    glue(f"{claim}_summary", check.summary, display=False)
    glue(f"{claim}_scale", scale, display=False)
    glue(f"{claim}_effects", check.effects, display=False)
    if check.inputs is not None:  # as JSON text: a long list would be cut by the repr glue
        glue(f"{claim}_inputs", json.dumps(check.inputs, allow_nan=False), display=False)
    if check.parts is not None:
        glue(f"{claim}_parts", {int(k): str(v) for k, v in check.parts.items()}, display=False)
    if check.evidence is not None:
        evidence = dict(check.evidence)
        if not _has_values(evidence):  # e.g. no network reached the loss: an empty panel
            evidence.update(log=False, intervals=None)
        panel = evidence_figure(title=f"{claim} {mark}", **evidence)
        glue(f"{claim}_panel", inline_image(panel, alt=f"{claim}: {phrase}"), display=False)
    print(f"{claim} {phrase}: {statistic}")


def glue_run(**values: Any) -> None:
    """Glue facts of the page's training run, for a sweep to collect (``dfp.sweeps``).

    Each is glued as ``run_<name>``, not displayed: e.g. ``final_loss`` (the last epoch's
    training loss), ``epochs`` (trained), ``stop_loss`` (the loss it stopped below, or
    None). A sweep flags a point whose final loss is not below its stop loss as
    under-trained.

    Args:
        **values: {name: value}; a value is None, a bool, an int, a float or a string (a
            numpy scalar is taken as its Python value; a float that is not finite is glued
            as its text, e.g. "nan", which a sweep reads as not below any loss).

    Returns:
        None.

    Raises:
        ValueError: no values, or a value of another type (naming it); nothing is glued then.
    """
    if not values:
        raise ValueError("glue_run needs at least one named value, e.g. final_loss=0.01")
    glued = {}
    for name, value in values.items():
        if hasattr(value, "item") and getattr(value, "shape", None) == ():
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = str(value)
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise ValueError(
                f"glue_run: {name} is a {type(value).__name__}; a run's fact is None, a bool, "
                "an int, a float or a string"
            )
        glued[name] = value
    for name, value in glued.items():
        glue(f"run_{name}", value, display=False)


def glue_precision_control(runs: dict, params: Parameters) -> dict | None:
    """Glue ``precision_control``: a sentence on the Resnet18 run's precision control, and
    print the half-way points it compares.

    Args:
        runs: the control's results by the names ``dfp.recipes.resnet18_control_configs``
            gives ("other", "float32", "float32, next seed"); {} when there is no control.
        params: the page's parameters (``control``, ``precision``).

    Returns:
        ``dfp.claims.precision_control`` of the runs, or None without a control.
    """
    if not runs:
        text = (
            "Trained in float32: no precision control is needed."
            if params["precision"] == "float32"
            else f"Trained in {params['precision']} with no float32 control (control = 0)."
        )
        control = None
    else:
        control = precision_control(runs["float32"], runs["other"], runs.get("float32, next seed"))
        text = precision_control_text(control, params["control"])
        # The runs in the order precision_control keeps them; the next seed's when trained.
        names = ("float32", control["precisions"][1], "float32, next seed")
        names = names[: 3 if control["seed_steps"] is not None else 2]
        for targets, points in control["halfway"].items():
            print(f"half-way 1/δ of the RDF of the {targets} ({', '.join(names)}):")
            for epoch, values in points.items():
                print(f"  epoch {epoch}: " + ", ".join(f"{v:.3g}" for v in values))
    glue("precision_control", text, display=False)
    print(text)
    return control


def _has_values(evidence):
    """Whether an evidence panel has a finite value to draw (a claim whose networks all
    diverged has none)."""
    return any(
        isinstance(v, (int, float)) and math.isfinite(v)
        for series in evidence["series"].values()
        for v in series
    )


def show_results(params: Parameters) -> None:
    """Display the committed results of larger runs of this notebook (``dfp.results``):
    verdicts, figures, where each setting comes from and what produced them.

    Args:
        params: the page's parameters (``begin``), which name its notebook.

    Returns:
        None.
    """
    display(
        Markdown(
            "This page's run is the one above, at the scale its verdict names. Longer runs of "
            "the same notebook under a larger profile (`medium`, `paper`) are committed in "
            "`results/` with their provenance; each is shown here with its verdicts, its "
            "figures and what produced it."
        )
    )
    _show_committed_results(params.notebook)


def show_parameters(params: Parameters) -> None:
    """Display the parameters the page ran with, how to re-run it, and its training runs.

    Args:
        params: the page's parameters (``begin``), papermill's injected values included.

    Returns:
        None.
    """
    notebook = params.notebook
    rows = "\n".join(f"| `{name}` | `{value!r}` |" for name, value in params.items())
    display(
        Markdown(
            f"**Parameters this page ran with**\n\n| parameter | value |\n|---|---|\n{rows}\n\n"
            f"Re-run at the paper's scale: `papermill notebooks/{notebook}.ipynb out.ipynb "
            f"-f {profile_file(notebook, 'paper').as_posix()}` (any parameter can also be set "
            "with `-p name value`)."
        )
    )
    _show_runs_used()


def _run_row(used):
    """One row of the table of training runs a page used."""
    created = (used["created"] or "")[:16].replace("T", " ")
    machine = used["hardware"] or "not recorded"
    if used["gpus"]:
        machine += "; GPU " + ", ".join(used["gpus"])
    seconds = "not recorded" if used["seconds"] is None else f"{used['seconds']:.0f} s"
    here = "loaded" if used["loaded"] else "trained here"
    return (
        f"| `{used['run']}` `{used['key'][:12]}` | {created} UTC | {machine} | "
        f"{used['backend']} | {seconds} | {here} |"
    )


def _show_runs_used():
    """The training runs this page used (``dfp.runs.used_runs``), each once: a table, and
    glued as ``runs_used`` for a committed result's provenance (``dfp.results``), so a run
    served twice counts its training time once."""
    used, seen = [], set()
    for run in used_runs():  # each run once (Fig. 5's control loads a variant's run again)
        if run["key"] not in seen:
            seen.add(run["key"])
            used.append(run)
    if not used:
        return
    rows = "\n".join(_run_row(u) for u in used)
    display(
        Markdown(
            "**Training runs this page used** (from `dfp`'s run cache, or trained as it ran)"
            "\n\n| run | computed | on | backend | compute time | here |\n"
            f"|---|---|---|---|---|---|\n{rows}"
        )
    )
    glue("runs_used", used, display=False)
