"""Every notebook runs through papermill at its tiny parameters and keeps the glue contract."""

import re

import papermill
import pytest

from dfp.sweeps import glued_values
from tests.notebooks import NOTEBOOKS, params, read_ipynb, sources

pytestmark = pytest.mark.slow

# The claims of the paper each figure notebook checks (Fig. 4 shows structures).
EXPECTED_CLAIMS = {
    "fig1a": {"C1"},
    "fig1b": {"C2"},
    "fig3": {"C3"},
    "fig4": set(),
    "fig5": {"C4"},
    "fig6": {"C5"},
    "fig7": {"C6"},
    "resnet_init": {"C5init", "C6init"},
    "fig8": {"C7"},
    "fig9": {"C8", "C9"},
    "parity": {"parity"},
}


def glued(notebook):
    """Names glued by myst_nb.glue in an executed notebook."""
    names = set()
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook")
            if scrapbook:
                names.add(scrapbook["name"])
    return names


@pytest.mark.parametrize("py", sources(), ids=lambda p: p.stem)
def test_notebook_runs_at_tiny_parameters(py, tmp_path):
    out = tmp_path / f"{py.stem}.ipynb"
    papermill.execute_notebook(
        str(py.with_suffix(".ipynb")),
        str(out),
        parameters=params(py.stem, "tiny"),
        cwd=str(py.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    executed = read_ipynb(out)
    names = glued(executed)
    claims = {name[: -len("_holds")] for name in names if name.endswith("_holds")}
    assert py.stem in EXPECTED_CLAIMS, f"add {py.stem} to EXPECTED_CLAIMS"
    assert claims == EXPECTED_CLAIMS[py.stem], f"{py.stem} glues {sorted(claims)}"
    for claim in claims:
        for key in ("statistic", "verdict", "mark", "summary", "scale", "panel"):
            assert f"{claim}_{key}" in names, f"{py.stem} glues {claim}_holds without {claim}_{key}"
    text = "\n".join(c.source for c in executed.cells if c.cell_type == "markdown")
    for claim in claims:
        # The verdict is stated in words in the text, through the glued values, never as a bool.
        assert (
            f"{{glue:text}}`{claim}_verdict`" in text
            and f"{{glue:text}}`{claim}_statistic`" in text
        )
        assert f"`{claim}_holds`" not in text, f"{py.stem} shows {claim}'s verdict as True/False"
    referenced = set(re.findall(r"\{glue:?\w*\}`([\w]+)`", text))
    assert referenced <= names, f"{py.stem} text refers to unglued {sorted(referenced - names)}"


@pytest.mark.parametrize("py", sources(), ids=lambda p: p.stem)
def test_pages_read_as_prose_and_figures(py):
    """No code line over 100 characters; figures and bookkeeping collapsed; parameters checked."""
    notebook = read_ipynb(py.with_suffix(".ipynb"))
    code = [c for c in notebook.cells if c.cell_type == "code"]
    long = [line for c in code for line in c.source.splitlines() if len(line) > 100]
    assert not long, f"{py.stem}: code lines over 100 characters: {long}"
    for cell in code:
        tags = set(cell.metadata.get("tags", []))
        if "dfp.plots.show(" in cell.source or "glue_claim(" in cell.source:
            assert tags & {"hide-input", "remove-input"}, (
                f"{py.stem}: a figure or glue cell is shown in full"
            )
    # The cell right after the parameters checks them, before anything runs.
    index = next(
        i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])
    )
    following = notebook.cells[index + 1]
    assert f'params = dfp.page.begin(globals(), "{py.stem}")' in following.source, (
        f"{py.stem}: the cell after the parameters does not check them"
    )


def test_fig9_records_a_diverged_network_and_names_it(tmp_path):
    """Adam at 1000, a rate every network diverges at in its first epoch: the page names each,
    draws the rest, and that setting's statistic says its parts were not evaluated (Adam at
    the paper's rate decides)."""
    out = tmp_path / "fig9.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "fig9.ipynb"),
        str(out),
        parameters={**params("fig9", "tiny"), "trainings": [["adam", 1e-5], ["adam", 1e3]]},
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
    executed = read_ipynb(out)
    printed = "".join(
        output.get("text", "") for cell in executed.cells for output in cell.get("outputs", [])
    )
    depths = params("fig9", "tiny")["depths"]
    named = {
        line.split(": training loss")[0]
        for line in printed.splitlines()
        if line.startswith("diverged: ") and "at epoch 1 (" in line
    }
    assert named == {  # every network at 1000, and none at the paper's rate
        f"diverged: L={depth}, {form}, adam 1000"
        for form in ("no residual", "scaled residual (1/√(L−2))")
        for depth in depths
    }
    for claim in ("C8", "C9"):
        statistic = glued_values(executed)[f"{claim}_statistic"]
        paper_rate, too_fast = statistic.split("; adam 1000: ")
        assert "diverged" not in paper_rate
        labels = ", ".join(f"L={d}" for d in depths)
        assert too_fast.count(f"not evaluated: {labels} diverged") == 2, too_fast
