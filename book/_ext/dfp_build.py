"""Sphinx extension: the report's provenance and execution table, from the workflow's build.

The notebooks are executed by the workflow (workflow/Snakefile) before Jupyter Book renders
them, so MyST-NB's own execution table would be empty. This fills, at every build, the
report's substitutions: ``{{ git_commit }}``, ``{{ dfp_version }}``, ``{{ build_time }}``,
``{{ python_version }}``, ``{{ package_versions }}``, ``{{ hardware }}``, ``{{ build_profile }}``
and ``{{ execution_table }}`` (one row per executed page: when papermill ran it, for how long,
and how many parameters the profile set), read from the executed notebooks that the
workflow linked into the book's source (its build.json names them), and the cells of the
report's "Verdicts by scale" table, ``{{ ladder_<claim>_<profile> }}``, read from the
committed results (results/<profile>/*.summary.json, dfp.results); the report's first table,
``{{ claims_overview }}`` (each claim at its largest scale, with the ladder as marks), and its
summary figure, book/claims_forest.png in the source (every deciding effect with its interval,
by rung).
"""

import datetime
import json
from pathlib import Path

import nbformat

from dfp._vocabulary import CLAIM_PAGES
from dfp.claims import CLAIMS
from dfp.provenance import current_provenance
from dfp.results import claims_overview, forest_rows, ladder_cells, page_claims

# dfp's distribution name, under which its version is recorded (dfp.provenance.PACKAGES).
DISTRIBUTION = "deep-frequency-principle"


def execution_table(srcdir, pages):
    """A Markdown table of the executed pages, from papermill's record in each notebook."""
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


def ladder(repository):
    """{ladder_<claim>_<profile>: cell} for the report, from the committed results."""
    cells = ladder_cells(repository)
    return {
        f"ladder_{claim}_{profile}": cells.get((claim, profile), "not run")
        for claim in CLAIMS
        for profile in ("medium", "paper")
    }


# The pages that decide claims (each claim's page, CLAIM_PAGES).
CLAIM_PAGE_NAMES = {page for page, _, _ in CLAIM_PAGES.values()}


def quick_claims(srcdir, pages):
    """{claim: glued fields} of this build's executed figure pages."""
    claims = {}
    for page in pages:
        if Path(page).stem in CLAIM_PAGE_NAMES:
            claims.update(page_claims(Path(srcdir) / page))
    return claims


def forest(srcdir, repository, quick):
    """The report's summary figure (book/claims_forest.png in the source), from the deciding
    effects of every claim at every rung."""
    from dfp.plots import forest_figure, png  # deferred: matplotlib, for this figure only

    rows = forest_rows(repository, quick)
    target = Path(srcdir) / "book" / "claims_forest.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    if rows:
        target.write_bytes(png(forest_figure(rows)))
    return bool(rows)


def _substitutions(app, config):
    srcdir = Path(app.srcdir)
    build = srcdir / "build.json"
    record = json.loads(build.read_text()) if build.exists() else {"profile": "?", "pages": []}
    # The repository: where the linked dfp/ lives (the source folder itself is a build output).
    repository = (srcdir / "dfp").resolve().parent
    origin = current_provenance(repository)
    gpus = ", ".join(origin["gpus"])
    packages = {k: v for k, v in origin["packages"].items() if k != DISTRIBUTION}
    substitutions = {
        "dfp_version": origin["packages"].get(DISTRIBUTION, "unknown"),
        "git_commit": origin["commit"],
        "build_time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python_version": origin["python"],
        "package_versions": ", ".join(f"{k} {v}" for k, v in packages.items()),
        "hardware": origin["hardware"] + (f"; GPU: {gpus}" if gpus else "; no GPU"),
        "build_profile": record["profile"],
        "execution_table": execution_table(srcdir, record["pages"]),
        **ladder(repository),
    }
    quick = quick_claims(srcdir, record["pages"])
    substitutions["claims_overview"] = claims_overview(repository, quick)
    forest(srcdir, repository, quick)
    config.myst_substitutions = {**(config.myst_substitutions or {}), **substitutions}


def setup(app):
    app.connect("config-inited", _substitutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
