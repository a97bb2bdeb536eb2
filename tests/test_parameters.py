"""Notebook parameters: each has a rule, every profile obeys them, and a mistake stops the run."""

import papermill
import pytest
import yaml

from dfp import parameters
from dfp.parameters import ParameterError, check_parameters
from tests.notebooks import NOTEBOOKS, PARAMS, ROOT, sources


@pytest.mark.parametrize("py", sources(), ids=lambda p: p.stem)
def test_every_parameter_has_a_rule_its_default_obeys(py, monkeypatch):
    monkeypatch.chdir(ROOT)
    defaults = parameters.notebook_parameters(py.stem)
    missing = sorted(set(defaults) - set(parameters.RULES))
    assert not missing, f"{py.stem}: no rule in dfp.parameters.RULES for {missing}"
    check_parameters(dict(defaults), py.stem, history=[])


@pytest.mark.parametrize("profile", sorted(PARAMS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_profile_names_real_parameters_with_allowed_values(profile, monkeypatch):
    monkeypatch.chdir(ROOT)
    stem = profile.name.split(".")[0]
    shared = parameters.SHARED.get(stem)
    values = yaml.safe_load(profile.read_text())
    if shared:  # a shared run's profile sets only the run's parameters, for each notebook
        assert set(values) <= set(shared["parameters"]), f"{profile.name} sets more than the run's"
    for notebook in shared["notebooks"] if shared else [stem]:
        defaults = parameters.notebook_parameters(notebook)
        unknown = sorted(set(values) - set(defaults))
        assert not unknown, f"{profile.name} sets parameters {notebook} does not have: {unknown}"
        history = ["# Parameters\n" + "\n".join(f"{k} = {v!r}" for k, v in values.items())]
        check_parameters({**defaults, **values}, notebook, history=history)


def test_the_shared_resnet18_run_is_defined_once(monkeypatch):
    monkeypatch.chdir(ROOT)
    spec = parameters.SHARED["resnet18"]
    first, *others = (parameters.notebook_parameters(n) for n in spec["notebooks"])
    for other in others:
        assert {k: other[k] for k in spec["parameters"]} == {
            k: first[k] for k in spec["parameters"]
        }
    assert (
        parameters.profile_file("fig6", "paper").as_posix()
        == "notebooks/params/resnet18.paper.yaml"
    )
    assert parameters.profile_file("fig8", "paper").as_posix() == "notebooks/params/fig8.paper.yaml"
    for notebook in spec["notebooks"]:
        assert not (PARAMS / f"{notebook}.tiny.yaml").exists(), "one profile file for the three"


def test_a_notebook_whose_shared_parameters_drift_is_stopped_and_sync_repairs_it(
    tmp_path, monkeypatch
):
    import shutil

    copy = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, copy, ignore=shutil.ignore_patterns("params", ".ipynb_checkpoints"))
    path = copy / "fig6.py"
    path.write_text(path.read_text().replace("\nepochs = ", "\nepochs = 1 + ", 1))
    import jupytext

    jupytext.write(jupytext.read(path), path.with_suffix(".ipynb"))
    monkeypatch.chdir(tmp_path)
    defaults = parameters.notebook_parameters("fig6")
    with pytest.raises(ParameterError, match="fig6: its parameters cell sets epochs = .* but fig5"):
        check_parameters(dict(defaults), "fig6", history=[])
    assert parameters.sync_shared_parameters(tmp_path) == [path]
    check_parameters(dict(parameters.notebook_parameters("fig6")), "fig6", history=[])
    assert path.read_text() == (NOTEBOOKS / "fig6.py").read_text()


def _checked(notebook, history, **overrides):
    defaults = parameters.notebook_parameters(notebook)
    return check_parameters({**defaults, **overrides}, notebook, history=history)


def test_a_typo_is_named_with_a_suggestion(monkeypatch):
    monkeypatch.chdir(ROOT)
    typo = r"unknown parameter 'epoch' \(set to 5\)\. Did you mean 'max_epochs'\?"
    with pytest.raises(ParameterError, match=typo):
        _checked("fig8", ["x = 1", "# Parameters\nepoch = 5\n"], epoch=5)
    # Without papermill's injected cell nothing is unknown: a name set in Jupyter is the user's.
    _checked("fig8", ["x = 1"])


@pytest.mark.parametrize(
    "notebook, name, value, allowed",
    [
        ("fig8", "width", "abc", "an integer >= 1"),
        ("fig8", "max_epochs", -3, "an integer >= 1"),
        ("fig8", "max_epochs", 2.5, "an integer >= 1"),
        ("fig8", "learning_rate", 0.0, "a finite number > 0"),
        ("fig8", "learning_rate", float("nan"), "a finite number > 0"),
        ("fig8", "snapshot_epochs", [0, 5, 3], "strictly increasing"),
        ("fig1a", "activation", "tanhh", "a Keras activation name"),
        ("fig1a", "hidden_layers", [1, 0], "a list (at least one) of integers >= 1"),
        ("fig5", "variants", [1, 5], "values among 1, 2, 3, 4"),
        ("fig5", "accuracy_fractions", [0.5, 1.5], "< 1"),
        ("fig9", "trainings", [["rmsprop", 1e-3]], "the optimizer one of 'adam', 'sgd'"),
        ("fig9", "trainings", [["adam", -1]], "the rate a number > 0"),
        ("fig9", "trainings", [["adam", 1e-4], ["adam", 1e-4]], "none twice"),
        ("fig9", "trainings", {"adam": 1e-4}, "[optimizer, learning rate]"),
        ("fig9", "residual_forms", ["plain"], "'plain' is now 'unscaled'"),
        ("fig9", "residual_forms", ["scaled", "scaled"], "none twice"),
        ("fig5", "inv_delta_range", [10, 1], "0 < low < high"),
        ("fig8", "loss", "hinge", "one of 'mse', 'cross_entropy'"),
        ("fig8", "grid_spacing", "log", "one of 'geometric', 'uniform', 'piecewise'"),
        ("fig8", "grid_pad", [1.0], "a list [below, above] of decades"),
        ("fig8", "grid_pad", [1.0, 7.0], "each in 0 ... 6"),
        ("fig8", "stop_loss", -1.0, "None (train all epochs)"),
        ("sweep_page", "sweep", "../etc", "a sweep's name"),
    ],
)
def test_a_wrong_value_names_the_parameter_the_value_and_what_is_allowed(
    monkeypatch, notebook, name, value, allowed
):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ParameterError) as error:
        _checked(notebook, [f"# Parameters\n{name} = {value!r}\n"], **{name: value})
    message = str(error.value)
    assert f"parameter {name!r} = {value!r}" in message and allowed in message, message


def test_ints_are_accepted_where_numbers_are_expected(monkeypatch):
    monkeypatch.chdir(ROOT)
    _checked("fig8", ["# Parameters\nlearning_rate = 1\n"], learning_rate=1)
    with pytest.raises(ParameterError, match="'max_epochs' = True"):
        _checked("fig8", ["# Parameters\nmax_epochs = True\n"], max_epochs=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    "notebook, given, expected",
    [
        (
            "fig8",
            {"epoch": 5},
            "unknown parameter 'epoch' (set to 5). Did you mean 'max_epochs'?",
        ),
        (
            "fig8",
            {"width": "abc"},
            "parameter 'width' = 'abc' (str) is not allowed: it must be an integer >= 1",
        ),
        ("fig8", {"max_epochs": -1}, "parameter 'max_epochs' = -1 (int) is not allowed"),
        ("fig1a", {"activation": "tanhh"}, "parameter 'activation' = 'tanhh' (str) is not allowed"),
    ],
    ids=["typo", "wrong-type", "negative", "unknown-activation"],
)
def test_papermill_stops_at_once_on_a_mistake(tmp_path, notebook, given, expected):
    out = tmp_path / "out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(
            str(NOTEBOOKS / f"{notebook}.ipynb"),
            str(out),
            parameters=given,
            cwd=str(NOTEBOOKS),
            kernel_name="python3",
            progress_bar=False,
        )
    assert error.value.ename == "ParameterError" and expected in error.value.evalue, (
        error.value.evalue
    )
    # It stopped in the check, right after papermill's cell: nothing after it ran.
    executed = papermill.iorw.load_notebook_node(str(out))
    ran = [c for c in executed.cells if c.cell_type == "code" and c.get("execution_count")]
    assert "dfp.page.begin" in ran[-1].source
    assert len(ran) == 3


def test_the_parameters_are_read_once_checked_and_passed_on(monkeypatch):
    monkeypatch.chdir(ROOT)
    defaults = parameters.notebook_parameters("fig8")
    namespace = {**defaults, "max_epochs": 7, "unrelated": 1}
    params = parameters.read_parameters(namespace, "fig8", history=[])
    assert list(params) == list(defaults) and params["max_epochs"] == 7
    assert "unrelated" not in params and params.notebook == "fig8"
    assert "seed" not in params.without("seed") and "seed" in params
    with pytest.raises(ParameterError, match="no parameters"):
        params.without("epoch")
    with pytest.raises(ParameterError, match="'max_epochs' = -1"):
        parameters.read_parameters({**namespace, "max_epochs": -1}, "fig8", history=[])


def test_a_cap_on_training_is_named_max_epochs_everywhere():
    # `epochs` is an exact count (Figs. 5-7); a value that only caps training is max_epochs.
    for py in sources():
        if py.stem in ("fig5", "fig6", "fig7"):
            continue
        assert "epochs" not in parameters.notebook_parameters(str(py.with_suffix(""))), py.stem
