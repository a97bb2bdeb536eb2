"""The public API: one rule (each module's __all__, re-exported), and every name documented."""

import importlib
import inspect

import pytest

import dfp


def test_every_public_name_is_reexported_once_and_nothing_else():
    seen = {}
    for module_name in dfp.MODULES:
        module = importlib.import_module(f"dfp.{module_name}")
        assert getattr(dfp, module_name) is module
        for name in module.__all__:
            assert name not in seen, (
                f"{name} is exported by dfp.{seen.get(name)} and dfp.{module_name}"
            )
            seen[name] = module_name
            assert getattr(dfp, name) is getattr(module, name)
    assert set(dfp.__all__) == set(seen) | set(dfp.MODULES) | {"MODULES", "__version__"}


@pytest.mark.parametrize("name", [n for n in dfp.__all__ if callable(getattr(dfp, n, None))])
def test_every_public_function_is_documented_and_the_measure_runs_and_claims_typed(name):
    value = getattr(dfp, name)
    if inspect.ismodule(value):
        return
    assert inspect.getdoc(value), f"dfp.{name} has no docstring"
    module = getattr(value, "__module__", "")
    if module in ("dfp.spectral", "dfp.grids", "dfp.runs", "dfp.claims") and inspect.isfunction(
        value
    ):
        hints = inspect.get_annotations(value)
        assert "return" in hints, f"dfp.{name} has no return type"
