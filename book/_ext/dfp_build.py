"""Sphinx extension: the report's provenance and execution table, from the workflow's build.

The notebooks are executed by the workflow (workflow/Snakefile) before Jupyter Book renders
them, so MyST-NB's own execution table would be empty. This fills, at every build, the
report's substitutions: ``{{ git_commit }}``, ``{{ dfp_version }}``, ``{{ build_time }}``,
``{{ python_version }}``, ``{{ package_versions }}``, ``{{ hardware }}``, ``{{ build_profile }}``
and ``{{ execution_table }}`` (one row per executed page: when papermill ran it, for how long,
and how many parameters the profile set), read from the executed notebooks that the
workflow linked into the book's source (its build.json names them), and the cells of the
report's "Verdicts by scale" table, ``{{ ladder_<claim>_<profile> }}``, read from the
committed results (results/<profile>/*.summary.json, dfp.results).
"""

import datetime
import importlib.util
import json
from pathlib import Path


def _dfp_module(srcdir, name):
    """dfp/<name>.py from its file (importing dfp would start TensorFlow)."""
    spec = importlib.util.spec_from_file_location(
        f"_dfp_{name}_for_book", Path(srcdir) / "dfp" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def execution_table(srcdir, pages):
    """A Markdown table of the executed pages, from papermill's record in each notebook."""
    import nbformat

    rows = []
    for page in pages:
        record = nbformat.read(Path(srcdir) / page, as_version=4).metadata.get("papermill", {})
        started = (record.get("start_time") or "")[:16].replace("T", " ")
        seconds = record.get("duration")
        parameters = record.get("parameters") or {}
        rows.append(
            f"| `{page}` | {started + ' UTC' if started else 'unknown'} | "
            f"{f'{seconds:.0f} s' if seconds is not None else 'unknown'} | {len(parameters)} |"
        )
    if not rows:
        return "No executed pages were found."
    return "| page | executed | run time | parameters set |\n|---|---|---|---|\n" + "\n".join(rows)


# The report's claims, as its "Verdicts by scale" table names them.
CLAIMS = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "parity")


def ladder(srcdir, repository):
    """{ladder_<claim>_<profile>: cell} for the report, from the committed results."""
    results = _dfp_module(srcdir, "results")
    cells = results.ladder_cells(repository)
    return {
        f"ladder_{claim}_{profile}": cells.get((claim, profile), "not run")
        for claim in CLAIMS
        for profile in ("medium", "paper")
    }


def _substitutions(app, config):
    srcdir = Path(app.srcdir)
    build = srcdir / "build.json"
    record = json.loads(build.read_text()) if build.exists() else {"profile": "?", "pages": []}
    # The repository: where the linked dfp/ lives (the source folder itself is a build output).
    origin = _dfp_module(srcdir, "provenance").current_provenance((srcdir / "dfp").resolve().parent)
    gpus = ", ".join(origin["gpus"])
    packages = {k: v for k, v in origin["packages"].items() if k != "dfp"}
    substitutions = {
        "dfp_version": origin["packages"].get("dfp", "unknown"),
        "git_commit": origin["commit"],
        "build_time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python_version": origin["python"],
        "package_versions": ", ".join(f"{k} {v}" for k, v in packages.items()),
        "hardware": origin["hardware"] + (f"; GPU: {gpus}" if gpus else "; no GPU"),
        "build_profile": record["profile"],
        "execution_table": execution_table(srcdir, record["pages"]),
        **ladder(srcdir, (srcdir / "dfp").resolve().parent),
    }
    config.myst_substitutions = {**(config.myst_substitutions or {}), **substitutions}


def setup(app):
    app.connect("config-inited", _substitutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
