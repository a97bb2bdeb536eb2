"""The public API: a short top level (the measure and the submodules, loaded lazily), a light
import, an import graph with no circle, and every public name documented."""

import ast
import importlib
import inspect
import json
import subprocess
import sys

import pytest

import dfp
from tests.notebooks import ROOT

PACKAGE = ROOT / "dfp"
MEASURE = (
    "lfr_reference",
    "lfr",
    "lfr_floor",
    "rdf",
    "normalize_inputs",
    "inv_delta_grid",
    "effective_target",
)
# The book's machinery: what the workflow, the sweeps and the book's extension import.
MACHINERY = (
    "parameters",
    "runs",
    "storage",
    "results",
    "sweeps",
    "provenance",
    "verdicts",
    "claims",
    "page",
    "plots",
)
HEAVY = ("keras", "tensorflow", "jax", "torch")


def _loaded_after(statement):
    """The heavy packages in sys.modules after running ``statement`` in a fresh interpreter."""
    code = f"import sys; {statement}; import json; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return sorted({m.split(".")[0] for m in json.loads(done.stdout)} & set(HEAVY))


def test_the_top_level_is_the_measure_and_the_submodules():
    assert set(dfp.__all__) == {"MODULES", "__version__", *MEASURE, *dfp.MODULES}
    for name in MEASURE:
        value = getattr(dfp, name)
        assert value is getattr(importlib.import_module(value.__module__), name)
    for name in dfp.MODULES:
        assert getattr(dfp, name) is importlib.import_module(f"dfp.{name}")
    with pytest.raises(AttributeError, match="the measure"):
        dfp.check_parameters  # noqa: B018 (a name that moved into its module)


def test_importing_dfp_and_the_book_machinery_loads_no_keras():
    assert _loaded_after("import dfp") == []
    for name in MACHINERY:
        assert _loaded_after(f"import dfp.{name}") == [], f"dfp.{name} loads Keras"
    # The definition of the measure and the RDF need numpy only; the fast engine loads Keras.
    assert _loaded_after("import dfp; dfp.lfr_reference; dfp.rdf") == []
    assert _loaded_after("import dfp.intervals") == [], "dfp.intervals loads Keras"
    assert "keras" in _loaded_after("import numpy as np, dfp; dfp.lfr(np.eye(3), np.eye(3), [1.0])")


def _imports(path):
    """(top-level dfp imports, function-local imports without a stated reason) of a module."""
    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines))
    top, unexplained = set(), []
    # A module whose job is to import the chosen backend says so once.
    exempt = any(line.startswith("# deferred imports:") for line in lines)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dfp"):
            module = node.module.removeprefix("dfp").lstrip(".")
            names = [module] if module else [a.name for a in node.names]
            top |= {n for n in names if (PACKAGE / f"{n}.py").exists()}
        elif isinstance(node, ast.Import):
            top |= {a.name.removeprefix("dfp.") for a in node.names if a.name.startswith("dfp.")}
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                here = lines[node.lineno - 1] + (lines[node.lineno - 2] if node.lineno > 1 else "")
                if "deferred" not in here and not exempt:
                    unexplained.append(f"{path.name}:{node.lineno}")
    return top, unexplained


def test_the_import_graph_has_no_circle_and_every_local_import_says_why():
    graph, unexplained = {}, []
    for path in sorted(PACKAGE.glob("*.py")):
        graph[path.stem], local = _imports(path)
        unexplained += local
    assert not unexplained, f"function-local imports without a '# deferred:' reason: {unexplained}"
    # Depth-first search for a back edge.
    state = {}

    def visit(module, trail):
        state[module] = "open"
        for child in sorted(graph.get(module, ())):
            if state.get(child) == "open":
                raise AssertionError(f"import circle: {' -> '.join([*trail, module, child])}")
            if child not in state:
                visit(child, [*trail, module])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [])


@pytest.mark.parametrize("name", [*MEASURE, *dfp.MODULES])
def test_every_public_function_is_documented_and_typed(name):
    value = getattr(dfp, name)
    members = [getattr(value, n) for n in value.__all__] if inspect.ismodule(value) else [value]
    assert inspect.getdoc(value), f"dfp.{name} has no docstring"
    for member in members:
        if not inspect.isfunction(member):
            continue
        assert inspect.getdoc(member), f"{member.__module__}.{member.__name__} has no docstring"
        # Every public function of every module states what it returns (notebooks call them).
        assert "return" in inspect.get_annotations(member), (
            f"{member.__module__}.{member.__name__} has no return type"
        )
