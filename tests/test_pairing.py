"""Each notebooks/figN.py has its figN.ipynb, with the same cells and no outputs."""

import ast
import io
import re
import tokenize

import pytest

from tests.notebooks import (
    NOTEBOOKS,
    ROOT,
    parameter_names,
    parameters_cell,
    params,
    read_ipynb,
    read_py,
    sources,
)


def test_there_are_notebooks():
    assert sources(), "no notebooks/*.py found"


def test_every_ipynb_has_its_py():
    for ipynb in NOTEBOOKS.glob("*.ipynb"):
        assert ipynb.with_suffix(".py").exists(), f"{ipynb.name} has no paired .py"


@pytest.mark.parametrize("py", sources(), ids=lambda p: p.stem)
def test_pair_is_in_sync_and_clean(py):
    ipynb = py.with_suffix(".ipynb")
    assert ipynb.exists(), f"{py.name} has no paired .ipynb: run `jupytext --sync {py}`"
    text, committed = read_py(py), read_ipynb(ipynb)
    cells = lambda nb: [
        (c.cell_type, c.source.strip(), c.metadata.get("tags", [])) for c in nb.cells
    ]
    assert cells(committed) == cells(text), (
        f"{ipynb.name} differs from {py.name}: run `jupytext --sync {py}`"
    )
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{ipynb.name} carries outputs: commit it cleared"
            )
    assert committed.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("py", sources(), ids=lambda p: p.stem)
@pytest.mark.parametrize("profile", ["tiny", "paper"])
def test_parameter_files_name_only_known_parameters(py, profile):
    known = set(parameter_names(read_py(py)))
    unknown = set(params(py.stem, profile)) - known
    assert not unknown, f"{py.stem}.{profile}.yaml sets unknown parameters {sorted(unknown)}"


# The building blocks of verdict rules: a notebook calling one is deciding a claim itself.
RULE_PARTS = (
    "ordering(",
    "ordered_on_grid(",
    "same_on_grid(",
    "grid_tie(",
    "grid_step_at(",
    "longest_ordered_prefix(",
    "faster_toward_low_frequency(",
    "epochs_to(",
)


@pytest.mark.parametrize("py", sources(), ids=lambda p: p.stem)
def test_no_notebook_decides_a_claim_itself(py):
    """Every verdict comes from a function of dfp.claims (each tested); a notebook only calls it."""
    code = "\n".join(c.source for c in read_py(py).cells if c.cell_type == "code")
    rule = r"\bdfp\.(?:claims\.|grids\.)?"
    used = [part for part in RULE_PARTS if re.search(rule + re.escape(part), code)]
    assert not used, f"{py.stem} builds a verdict from dfp.{used}: move the rule into dfp.claims"
    for match in re.finditer(r"dfp\.page\.glue_claim\(\s*\"\w+\",\s*([^,]+),", code):
        holds = match.group(1).strip()
        assert re.fullmatch(r"\w+", holds), f"{py.stem} computes a verdict inline: {holds}"


@pytest.mark.parametrize(
    "py", sources() + [ROOT / "sweeps" / "sweep_page.py"], ids=lambda p: p.stem
)
def test_every_parameter_has_a_comment(py):
    """Each line of a parameters cell says what it sets, as nanoGPT's config does: a comment
    after it on its line, or on a line of its own just above it."""
    source = parameters_cell(read_py(py)).source
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    commented = {token.start[0] for token in tokens if token.type == tokenize.COMMENT}
    lines = source.splitlines()
    bare = [
        lines[statement.lineno - 1]
        for statement in ast.parse(source).body
        if not commented & set(range(statement.lineno, statement.end_lineno + 1))
        and not (statement.lineno > 1 and lines[statement.lineno - 2].lstrip().startswith("#"))
    ]
    assert not bare, f"{py.name}: parameters without a one-line comment: {bare}"
