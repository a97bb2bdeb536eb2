"""What the notebook tests share: where the notebooks are and how to read them."""

import ast
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PARAMS = NOTEBOOKS / "params"


def sources():
    """Every notebooks/figN.py, the files people edit."""
    return sorted(NOTEBOOKS.glob("*.py"))


def parameters_cell(notebook):
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    return cells[0]


def parameter_names(notebook):
    """Names assigned in the parameters cell, which must hold literals only (papermill)."""
    names = []
    for statement in ast.parse(parameters_cell(notebook).source).body:
        assert isinstance(statement, ast.Assign) and len(statement.targets) == 1, (
            f"parameters cell: only `name = literal` lines, got {ast.unparse(statement)!r}"
        )
        ast.literal_eval(statement.value)
        names.append(statement.targets[0].id)
    return names


def read_py(path):
    return jupytext.read(path)


def read_ipynb(path):
    return nbformat.read(path, as_version=4)


def params(stem, profile):
    """A notebook's profile, e.g. params("fig8", "tiny"); Figs. 5-7 share resnet18.<profile>."""
    from dfp.parameters import shared_run

    path = PARAMS / f"{shared_run(stem) or stem}.{profile}.yaml"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing"
    return yaml.safe_load(path.read_text())
