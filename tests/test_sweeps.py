"""Sweeps (dfp.sweeps): what a sweep file may say, how points are named, what is collected
from them and how a sweep's page tells it."""

import itertools
import json
import shutil

import matplotlib
import nbformat
import pytest
import yaml

matplotlib.use("Agg")

import dfp  # noqa: E402
from dfp import sweeps  # noqa: E402
from tests.notebooks import ROOT  # noqa: E402


@pytest.fixture
def root(tmp_path):
    """A repository with fig8's notebook, its profiles and dfp's parameter rules."""
    for name in ("notebooks", "dfp"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "sweeps").mkdir()
    return tmp_path


def write(root, name="s", **spec):
    spec = {"title": "t", "notebook": "fig8", "grid": {"seed": [0, 1]}, "claims": ["C7"], **spec}
    path = root / "sweeps" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_sweep_fills_its_defaults_and_lists_every_combination(root):
    spec = sweeps.load_sweep(
        write(root, grid={"hidden_layers": [2, 3], "seed": [0, 1, 2]}, fixed={"width": 8}),
        root=root,
    )
    assert spec["name"] == "s" and spec["profile"] == "book"
    assert spec["axes"] == ["hidden_layers", "seed"]
    assert spec["resources"] == sweeps.RESOURCES
    points = sweeps.sweep_points(spec)
    assert [p["grid"] for p in points][:4] == [
        {"hidden_layers": 2, "seed": 0},
        {"hidden_layers": 2, "seed": 1},
        {"hidden_layers": 2, "seed": 2},
        {"hidden_layers": 3, "seed": 0},
    ]
    assert len({p["name"] for p in points}) == 6
    first = points[0]
    assert first["overrides"] == {"width": 8, "hidden_layers": 2, "seed": 0}
    # Every parameter is in the point, the notebook's defaults included.
    assert first["parameters"]["learning_rate"] == spec["defaults"]["learning_rate"]


def test_a_profile_is_the_base_and_fixed_values_override_it(root):
    tiny = yaml.safe_load((ROOT / "notebooks" / "params" / "fig8.tiny.yaml").read_text())
    spec = sweeps.load_sweep(write(root, profile="tiny", fixed={"max_epochs": 2}), root=root)
    overrides = sweeps.sweep_points(spec)[0]["overrides"]
    assert overrides == {**tiny, "max_epochs": 2, "seed": 0}


def test_point_names_ignore_order_and_change_with_any_parameter(root):
    a = sweeps.load_sweep(write(root, grid={"seed": [0, 1], "width": [8, 16]}), root=root)
    b = sweeps.load_sweep(write(root, grid={"width": [16, 8], "seed": [1, 0]}), root=root)
    assert {p["name"] for p in sweeps.sweep_points(a)} == {
        p["name"] for p in sweeps.sweep_points(b)
    }
    c = sweeps.load_sweep(
        write(root, grid={"seed": [0, 1], "width": [8, 16]}, fixed={"max_epochs": 7}), root=root
    )
    assert not {p["name"] for p in sweeps.sweep_points(a)} & {
        p["name"] for p in sweeps.sweep_points(c)
    }
    parameters = sweeps.sweep_points(a)[0]["parameters"]
    defaults = a["defaults"]
    assert sweeps.sweep_point_name("fig8", parameters, defaults) != sweeps.sweep_point_name(
        "fig9", parameters, defaults
    )


def add_parameter(root, line):
    """Add a parameter (``name = default``) at the end of fig8's parameters cell."""
    path = root / "notebooks" / "fig8.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n" + line
    nbformat.write(notebook, path)


def names(spec):
    return [p["name"] for p in sweeps.sweep_points(spec)]


def test_a_new_parameter_at_its_default_renames_no_point_but_a_set_value_does(root):
    """A point's identity is its parameters away from the notebook's defaults."""
    grid = {"hidden_layers": [2, 3], "seed": [0, 1]}
    before = sweeps.load_sweep(write(root, grid=grid, fixed={"max_epochs": 7}), root=root)
    add_parameter(root, 'new_knob = "old behaviour"')
    after = sweeps.load_sweep(write(root, grid=grid, fixed={"max_epochs": 7}), root=root)
    assert "new_knob" in after["defaults"] and "new_knob" not in before["defaults"]
    assert names(after) == names(before)
    # Fixing a parameter at its default is the same point; away from it, another one.
    same = sweeps.load_sweep(
        write(root, grid=grid, fixed={"max_epochs": 7, "new_knob": "old behaviour"}), root=root
    )
    assert names(same) == names(before)
    # A fixed value changed, the new parameter's included: every point is another.
    for fixed in ({"max_epochs": 7, "new_knob": "new behaviour"}, {"max_epochs": 8}):
        other = sweeps.load_sweep(write(root, grid=grid, fixed=fixed), root=root)
        assert not set(names(other)) & set(names(before)), fixed
    # A grid value changed: its points only.
    regrid = {"hidden_layers": [2, 4], "seed": [0, 1]}
    other = sweeps.load_sweep(write(root, grid=regrid, fixed={"max_epochs": 7}), root=root)
    assert [a == b for a, b in zip(names(before), names(other))] == [True, True, False, False]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"grid": {"depth": [2]}}, "grid key 'depth' is not a parameter of fig8; its parameters: "),
        ({"fixed": {"widht": 3}}, "fixed key 'widht' is not a parameter of fig8"),
        ({"grid": {"seed": [0, 0]}}, "grid 'seed' repeats a value"),
        ({"grid": {"seed": []}}, "grid 'seed' must be a non-empty list"),
        ({"grid": {"seed": 3}}, "grid 'seed' must be a non-empty list"),
        ({"grid": {"width": [0]}}, "width = 0 is not allowed: it must be"),
        ({"fixed": {"loss": "hinge"}}, "loss = 'hinge' is not allowed"),
        ({"grid": {"seed": [0]}, "fixed": {"seed": 1}}, "both fixed and in the grid"),
        ({"profile": "huge"}, "profile 'huge' is not one of"),
        ({"notebook": "fig99"}, "notebook 'fig99' has no"),
        ({"colour": "red"}, "unknown keys ['colour']"),
        ({"claims": []}, "claims must be a non-empty list"),
        ({"axes": ["width"]}, "axes must be one or two grid keys"),
        ({"resources": {"gpu": 1}}, "unknown resources ['gpu']"),
        ({"resources": {"threads": -1}}, "resource threads must be a whole number >= 0"),
        ({"trained_below": 0}, "trained_below must be a positive number, or a mapping"),
        ({"trained_below": "low"}, "trained_below must be a positive number"),
        ({"trained_below": {"hinge": 0.1}}, "trained_below key 'hinge' is not a loss"),
        ({"trained_below": {"mse": -1}}, "trained_below 'mse' must be a positive number"),
    ],
)
def test_a_sweep_that_cannot_run_is_refused_naming_what_is_wrong(root, spec, message):
    with pytest.raises(sweeps.SweepError) as error:
        sweeps.load_sweep(write(root, **spec), root=root)
    assert message in str(error.value)


def test_a_sweep_file_missing_keys_or_unreadable_is_refused(root):
    path = root / "sweeps" / "bad.yaml"
    path.write_text("title: t\nnotebook: fig8\n")
    with pytest.raises(sweeps.SweepError, match=r"missing \['grid', 'claims'\]"):
        sweeps.load_sweep(path, root=root)
    path.write_text("grid: [unclosed\n")
    with pytest.raises(sweeps.SweepError, match="cannot be read"):
        sweeps.load_sweep(path, root=root)


def executed_point(
    folder,
    point,
    holds,
    parts,
    seconds=12.5,
    start="2026-12-03T10:00:00",
    outcome=None,
    run=None,
    ran_with=None,
):
    """A notebook as papermill leaves it: its parameters recorded, the claim glued.

    Older code's glue by default (``holds`` a bool, parts bools); with ``outcome``, the
    glue of a check's outcome (parts as states); ``run`` the run's facts (glue_run), and
    ``ran_with`` the parameters the page glued (dfp.page.begin).
    """
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["papermill"] = {
        "parameters": point["overrides"],
        "start_time": start,
        "duration": seconds,
    }
    values = {
        "C7_verdict": "reproduces" if holds else "does not reproduce",
        "C7_mark": "✓" if holds else "✗",
        "C7_statistic": "numbers",
        "C7_summary": "a → b",
        "C7_scale": "small",
        "C7_parts": parts,
    }
    if outcome is None:
        values["C7_holds"] = holds
    else:
        values["C7_outcome"] = outcome
    values.update({f"run_{name}": value for name, value in (run or {}).items()})
    if ran_with is not None:
        values["parameters"] = ran_with
    outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"application/papermill.record/text/plain": repr(value)},
            metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}},
        )
        for name, value in values.items()
    ]
    cell = nbformat.v4.new_code_cell("glue", outputs=outputs)
    notebook.cells.append(cell)
    nbformat.write(notebook, folder / f"{point['name']}.ipynb")


def collected(root, tmp_path, **spec):
    spec = sweeps.load_sweep(
        write(root, grid={"hidden_layers": [2, 3], "seed": [0, 1]}, **spec), root=root
    )
    folder = tmp_path / "points"
    folder.mkdir(exist_ok=True)
    for i, point in enumerate(sweeps.sweep_points(spec)):
        parts = {1: True, 2: point["grid"]["hidden_layers"] == 3, 3: i != 3}
        executed_point(folder, point, all(parts.values()), parts, seconds=60.0 + i)
    return spec, folder


def test_collect_reads_what_papermill_recorded_and_what_each_point_glued(root, tmp_path):
    spec, folder = collected(root, tmp_path)
    summary = sweeps.collect_sweep(spec, folder, provenance={"commit": "abc"})
    assert summary["sweep"]["grid"] == spec["grid"] and summary["provenance"] == {"commit": "abc"}
    first = summary["points"][0]
    assert first["grid"] == {"hidden_layers": 2, "seed": 0}
    assert first["parameters"] == {"hidden_layers": 2, "seed": 0}
    # Older code's glue: bools read as states, the outcome derived from them.
    assert first["claims"]["C7"]["holds"] is False
    assert first["claims"]["C7"]["parts"] == {"1": "holds", "2": "fails", "3": "holds"}
    assert first["claims"]["C7"]["outcome"] == "in part"
    assert first["run"] == {} and first["ran_with"] is None and first["under_trained"] is None
    assert first["seconds"] == 60.0
    path = tmp_path / "s.summary.json"
    sweeps.write_sweep_summary(path, summary)
    assert sweeps.read_sweep_summary(path) == json.loads(json.dumps(summary))
    assert sweeps.read_sweep_summary(tmp_path / "none.json") is None
    assert not list(tmp_path.glob(".*partial"))


def test_collect_refuses_a_missing_point_or_one_run_with_other_parameters(root, tmp_path):
    spec, folder = collected(root, tmp_path)
    point = sweeps.sweep_points(spec)[1]
    other = {**point, "overrides": {**point["overrides"], "seed": 5}}
    executed_point(folder, other, True, {1: True})
    with pytest.raises(sweeps.SweepError, match="papermill recorded"):
        sweeps.collect_sweep(spec, folder)
    (folder / f"{point['name']}.ipynb").unlink()
    with pytest.raises(sweeps.SweepError, match="has not run"):
        sweeps.collect_sweep(spec, folder)
    # Its own parameters as set, but a default since changed (what the page glued says so).
    ran_with = {**point["parameters"], "width": 7}
    executed_point(folder, point, True, {1: True}, ran_with=ran_with)
    with pytest.raises(sweeps.SweepError, match=r"width = 7 \(the point's: 500\)"):
        sweeps.collect_sweep(spec, folder)
    # A parameter the notebook gained since, at its default, is no difference.
    ran_with = {k: v for k, v in point["parameters"].items() if k != "precision"}
    executed_point(folder, point, True, {1: True}, ran_with=ran_with)
    sweeps.collect_sweep(spec, folder)


def test_collect_reads_outcomes_and_run_facts_and_flags_under_trained_points(root, tmp_path):
    """Newer glue (outcomes, parts as states, run facts): a point whose final loss is not
    below its stop loss, or the sweep's trained_below where it has none, is under-trained."""
    grid = {"loss": ["mse", "cross_entropy"], "stop_loss": [None, 0.01]}
    spec = sweeps.load_sweep(write(root, grid=grid, trained_below={"mse": 0.02}), root=root)
    folder = tmp_path / "points"
    folder.mkdir()
    for point in sweeps.sweep_points(spec):
        run = {"final_loss": 0.015, "epochs": 20, "stop_loss": point["grid"]["stop_loss"]}
        parts = {1: "holds", 2: "not resolved", 3: "fails"}
        executed_point(
            folder, point, False, parts, outcome="in part", run=run, ran_with=point["parameters"]
        )
    summary = sweeps.collect_sweep(spec, folder)
    assert summary["sweep"]["trained_below"] == {"mse": 0.02}
    by_grid = {(p["grid"]["loss"], p["grid"]["stop_loss"]): p for p in summary["points"]}
    mse = by_grid["mse", None]
    assert mse["claims"]["C7"]["outcome"] == "in part" and mse["claims"]["C7"]["holds"] is None
    assert mse["claims"]["C7"]["parts"] == {"1": "holds", "2": "not resolved", "3": "fails"}
    assert mse["run"] == {"final_loss": 0.015, "epochs": 20, "stop_loss": None}
    assert mse["ran_with"]["width"] == spec["defaults"]["width"]
    # 0.015 is below mse's trained_below (no stop loss); not below a stop loss of 0.01; and
    # cross-entropy with no stop loss has nothing to reach.
    assert (mse["trained_below"], mse["under_trained"]) == (0.02, False)
    assert (by_grid["mse", 0.01]["trained_below"], by_grid["mse", 0.01]["under_trained"]) == (
        0.01,
        True,
    )
    assert by_grid["cross_entropy", 0.01]["under_trained"] is True
    assert by_grid["cross_entropy", None]["under_trained"] is None
    # An under-trained point's claim counts as not resolved, whatever it glued.
    assert [sweeps.point_outcome(p, "C7") for p in summary["points"]] == [
        "in part" if p["under_trained"] is not True else "not resolved" for p in summary["points"]
    ]
    assert sweeps.point_outcome(by_grid["mse", 0.01], "C7") == "not resolved"
    table = sweeps.sweep_table(summary, "C7")
    assert "(not counted: under-trained)" in table and "(1) ✓ (2) ? (3) ✗" in table
    assert "**under-trained**: final loss 0.015 after 20 epochs, not below 0.01" in table
    assert "final loss 0.015 after 20 epochs, below 0.02" in table
    assert "final loss 0.015 after 20 epochs (no loss to reach)" in table


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        ({"holds": True}, "reproduces"),
        ({"holds": False}, "does not reproduce"),
        ({"holds": None}, "not resolved"),
        ({"holds": False, "parts": {1: True, 2: False}}, "in part"),
        ({"holds": False, "parts": {"1": False, "2": False}}, "does not reproduce"),
        ({"parts": {1: "holds", 2: "holds"}}, "reproduces"),
        ({"parts": {1: "fails", 2: "not resolved"}}, "does not reproduce"),
        ({"parts": {1: "not resolved", 2: "not resolved"}}, "not resolved"),
        ({"outcome": "not resolved", "parts": {1: "holds"}}, "not resolved"),  # as glued
        ({"outcome": "holds"}, "reproduces"),  # a check's own words
        ({"outcome": "fails"}, "does not reproduce"),
    ],
)
def test_an_outcome_is_read_from_older_and_newer_glue_alike(result, outcome):
    assert sweeps.claim_outcome(result) == outcome


def test_an_outcome_or_part_of_neither_kind_is_refused():
    with pytest.raises(sweeps.SweepError, match="outcome 'maybe' is not one of reproduces"):
        sweeps.claim_outcome({"outcome": "maybe"})
    with pytest.raises(sweeps.SweepError, match=r"part \(2\) is 1: a part is a bool or one of"):
        sweeps.claim_parts({"parts": {1: "holds", 2: 1}})


def test_a_summary_that_is_not_one_is_refused(tmp_path):
    path = tmp_path / "x.summary.json"
    path.write_text("{not json")
    with pytest.raises(sweeps.SweepError, match="is not a sweep summary"):
        sweeps.read_sweep_summary(path)
    path.write_text(json.dumps({"format": 99}))
    with pytest.raises(sweeps.SweepError, match="not a sweep summary of format"):
        sweeps.read_sweep_summary(path)


def test_scores_table_and_description_say_where_the_claim_holds(root, tmp_path):
    spec, folder = collected(root, tmp_path)
    provenance = {"commit": "abc", "training_version": 1}
    summary = sweeps.collect_sweep(spec, folder, provenance=provenance)
    scores = sweeps.sweep_scores(summary, "C7")
    assert [share for _, share in scores] == pytest.approx([2 / 3, 2 / 3, 1.0, 2 / 3])
    table = sweeps.sweep_table(summary, "C7")
    lines = table.splitlines()
    assert lines[0].startswith("| `hidden_layers` | `seed` | verdict | parts | training")
    assert len(lines) == 2 + 4
    assert (
        "| 2 | 0 | ✗ does not reproduce | (1) ✓ (2) ✗ (3) ✓ | not recorded | a → b | 60 s |"
        in table
    )
    text = sweeps.sweep_description(spec, summary, current_version=1)
    # The page leads with the conclusion, then every point's mark by the axes (seeds pooled).
    assert text.startswith(
        "**C7.** Of the 4 points, C7 reproduces at 1 and reproduces in part at 3. "
        "By `hidden_layers` (seeds pooled), it reproduces in part at every point where "
        "`hidden_layers` = 2; it differs from point to point where `hidden_layers` = 3. "
        "No point's training could be judged"
    )
    assert "| `hidden_layers` | 2 | 3 |\n|---|---|---|\n| C7 | ◐◐ | ✓◐ |" in text
    assert "holds in full at" not in text  # the log-like lines are gone
    assert "older training code" not in text
    assert "another version" not in text
    assert "4 min" in text  # 60 + 61 + 62 + 63 s of points
    assert "older training code" in sweeps.sweep_description(spec, summary, current_version=2)
    figure = dfp.plots.sweep_heatmap(scores, ["hidden_layers", "seed"], claim="C7")
    assert [t.get_text() for t in figure.axes[0].texts] == ["0.67", "1.00", "0.67", "0.67"]


def test_an_unrun_sweep_says_how_to_run_it_and_a_stale_summary_says_so(root, tmp_path):
    spec, folder = collected(root, tmp_path)
    text = sweeps.sweep_description(spec, None)
    assert "has not been run" in text and "make sweep SWEEP=s" in text
    summary = sweeps.collect_sweep(spec, folder)
    spec = sweeps.load_sweep(write(root, grid={"hidden_layers": [2, 4], "seed": [0, 1]}), root=root)
    assert "another version of this sweep**: 2 of its 4 points" in sweeps.sweep_description(
        spec, summary
    )


def set_default(root, name, value):
    """Change a default of fig8's parameters cell."""
    path = root / "notebooks" / "fig8.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    lines = cell.source.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{name} = "))
    lines[index] = f"{name} = {value!r}"
    cell.source = "\n".join(lines)
    nbformat.write(notebook, path)


def test_a_summary_stays_current_when_the_notebook_gains_a_parameter_not_a_default(root, tmp_path):
    spec, folder = collected(root, tmp_path)
    for point in sweeps.sweep_points(spec):  # as newer code glues: every parameter
        parts = {1: True, 2: True, 3: True}
        executed_point(folder, point, True, parts, ran_with=point["parameters"])
    summary = json.loads(json.dumps(sweeps.collect_sweep(spec, folder)))
    # A parameter added at a default that keeps the old behaviour: the summary is current.
    add_parameter(root, "new_knob = 1")
    again = sweeps.load_sweep(
        write(root, grid={"hidden_layers": [2, 3], "seed": [0, 1]}), root=root
    )
    assert "another version" not in sweeps.sweep_description(again, summary)
    # So is a summary whose points were named by an older rule: what they ran with decides.
    renamed = {**summary, "points": [{**p, "name": "0" * 12} for p in summary["points"]]}
    assert "another version" not in sweeps.sweep_description(again, renamed)
    # A default changed: the same names, but the page says the points ran under the old one.
    set_default(root, "width", 400)
    changed = sweeps.load_sweep(
        write(root, grid={"hidden_layers": [2, 3], "seed": [0, 1]}), root=root
    )
    assert names(changed) == names(spec)
    text = sweeps.sweep_description(changed, summary)
    assert "another version of this sweep**: 0 of its 4 points" in text
    assert "defaults of the notebook changed since: `width` 500 (now 400)" in text


def point(grid, outcome, under_trained=None, final_loss=None):
    """A point of a made-up summary."""
    run = {} if final_loss is None else {"final_loss": final_loss, "epochs": 20}
    claims = {"C7": {"outcome": outcome, "parts": None}}
    return {"grid": grid, "claims": claims, "run": run, "under_trained": under_trained}


def made_up(grid, axes, points):
    return {"format": 1, "sweep": {"grid": grid, "axes": axes, "claims": ["C7"]}, "points": points}


def activation_loss_summary():
    """Tanh reproduces everywhere; ReLU with MSE too, with cross-entropy nowhere; sigmoid
    with MSE under-trained at every seed (its glued verdict a failure); sigmoid with
    cross-entropy at two seeds of three; cross-entropy's training not judged."""
    grid = {"activation": ["tanh", "relu", "sigmoid"], "loss": ["mse", "cross_entropy"]}
    grid["seed"] = [0, 1, 2]
    points = []
    for activation, loss, seed in itertools.product(*grid.values()):
        where = {"activation": activation, "loss": loss, "seed": seed}
        judged = {"under_trained": activation == "sigmoid"} if loss == "mse" else {}
        if activation == "tanh" or (activation, loss) == ("relu", "mse"):
            outcome = "reproduces"
        elif activation == "relu" or (activation == "sigmoid" and loss == "mse"):
            outcome = "does not reproduce"
        else:
            outcome = "does not reproduce" if seed == 1 else "reproduces"
        points.append(point(where, outcome, final_loss=0.1, **judged))
    return made_up(grid, ["activation", "loss"], points)


def test_the_conclusion_says_where_the_claim_holds_fails_and_is_not_resolved():
    summary = activation_loss_summary()
    assert sweeps.sweep_conclusion(summary, "C7") == (
        "Of the 18 points, C7 reproduces at 11, does not reproduce at 4 and is not resolved "
        "at 3. By `activation` and `loss` (seeds pooled), it reproduces at every point where "
        "`activation` = tanh or where (`activation`, `loss`) = (relu, mse); it does not "
        "reproduce at any point where (`activation`, `loss`) = (relu, cross_entropy); it is "
        "left unresolved at every point where (`activation`, `loss`) = (sigmoid, mse); it "
        "differs from point to point where (`activation`, `loss`) = (sigmoid, cross_entropy). "
        "3 of the 9 points judged were under-trained (final training loss not below the loss "
        "they aimed at, where (`activation`, `loss`) = (sigmoid, mse)) and count as not "
        "resolved; 9 recorded no final loss or had no loss to reach."
    )
    marks = sweeps.sweep_marks(summary, "C7")
    assert marks.splitlines()[:5] == [
        "| C7: `activation` ↓ `loss` → | mse | cross_entropy |",
        "|---|---|---|",
        "| tanh | ✓✓✓ | ✓✓✓ |",
        "| relu | ✓✓✓ | ✗✗✗ |",
        "| sigmoid | ??? (3 under-trained) | ✓✗✓ |",
    ]
    assert "One mark per point, in the order of `seed`: ✓ reproduces" in marks
    # Not resolved points are left out of the heatmap's scores.
    assert len(sweeps.sweep_scores(summary, "C7")) == 15


def test_the_conclusion_of_one_axis_and_of_a_sweep_where_every_point_agrees():
    grid = {"hidden_layers": [2, 3, 4], "seed": [0, 1]}

    def summary(outcome_at):
        points = [
            point({"hidden_layers": h, "seed": s}, outcome_at(h, s), under_trained=False)
            for h, s in itertools.product(*grid.values())
        ]
        return made_up(grid, ["hidden_layers", "seed"], points)

    every = sweeps.sweep_conclusion(summary(lambda h, s: "does not reproduce"), "C7")
    assert every == (
        "C7 does not reproduce at any of the 6 points. No point was under-trained: all 6 "
        "judged ended below the loss they aimed at."
    )
    split = sweeps.sweep_conclusion(
        summary(lambda h, s: "reproduces" if h > 2 else "in part" if s else "not resolved"), "C7"
    )
    assert split.startswith(
        "Of the 6 points, C7 reproduces at 4, reproduces in part at 1 and is not resolved at 1. "
        "By `hidden_layers` (seeds pooled), it reproduces at every point where `hidden_layers` "
        "= 3 or 4; it differs from point to point where `hidden_layers` = 2. No point was"
    )
    marks = sweeps.sweep_marks(summary(lambda h, s: "reproduces" if h > 2 else "in part"), "C7")
    assert marks.startswith(
        "| `hidden_layers` | 2 | 3 | 4 |\n|---|---|---|---|\n| C7 | ◐◐ | ✓✓ | ✓✓ |"
    )
    # Only seeds: one cell, no sentence by axes.
    seeds = made_up(
        {"seed": [0, 1]},
        ["seed"],
        [point({"seed": 0}, "reproduces"), point({"seed": 1}, "does not reproduce")],
    )
    assert sweeps.sweep_marks(seeds, "C7").startswith("| C7 |\n|---|\n| ✓✗ |")
    assert sweeps.sweep_conclusion(seeds, "C7") == (
        "Of the 2 points, C7 reproduces at 1 and does not reproduce at 1. No point's training "
        "could be judged: none recorded both its final training loss and a loss to reach."
    )


def test_glue_run_glues_the_runs_facts_as_plain_values(monkeypatch):
    import myst_nb.ext.glue as glue_module
    import numpy as np

    from dfp import page

    published = []
    monkeypatch.setattr(glue_module, "ipy_display", lambda obj, **kw: published.append((obj, kw)))
    with pytest.raises(ValueError, match="glue_run: epochs is a list; a run's fact is None"):
        page.glue_run(final_loss=0.5, epochs=[1, 2])
    with pytest.raises(ValueError, match="at least one named value"):
        page.glue_run()
    assert published == []  # nothing glued before the checks
    page.glue_run(final_loss=np.float64(0.0125), epochs=np.int64(20), stop_loss=None)
    page.glue_run(final_loss=float("nan"))
    text = [
        (kw["metadata"]["scrapbook"]["name"], obj["application/papermill.record/text/plain"])
        for obj, kw in published
    ]
    assert text == [
        ("run_final_loss", "0.0125"),
        ("run_epochs", "20"),
        ("run_stop_loss", "None"),
        ("run_final_loss", "'nan'"),
    ]


def test_the_shipped_sweeps_load(tmp_path):
    for path in sorted((ROOT / "sweeps").glob("*.yaml")):
        spec = sweeps.load_sweep(path, root=ROOT)
        assert spec["about"] and spec["claims"] == ["C7"]


def test_the_shipped_sweeps_train_to_the_papers_stop_loss():
    """Fig. 8's default stop loss is the paper's rule (Keras's mean squared error below it):
    a sweep that stops stops there, and one that does not judges its MSE runs by it."""
    sweep = {p.stem: sweeps.load_sweep(p, root=ROOT) for p in (ROOT / "sweeps").glob("*.yaml")}
    paper = sweep["depth"]["defaults"]["stop_loss"]
    profile = yaml.safe_load((ROOT / "notebooks" / "params" / "fig8.paper.yaml").read_text())
    assert profile.get("stop_loss", paper) == paper
    assert sweep["depth"]["fixed"]["stop_loss"] == sweep["delta"]["fixed"]["stop_loss"] == paper
    assert sweep["activation_loss"]["fixed"]["stop_loss"] is None
    assert sweep["activation_loss"]["trained_below"] == {"mse": paper}


def test_the_delta_sweep_trains_what_the_depth_sweep_trains(tmp_path):
    """The δ sweep changes only the grid, which the training run's key leaves out."""
    depth = sweeps.load_sweep(ROOT / "sweeps" / "depth.yaml", root=ROOT)
    delta = sweeps.load_sweep(ROOT / "sweeps" / "delta.yaml", root=ROOT)
    grid = ("grid_points", "grid_spacing", "grid_pad")

    def trained(spec):
        return {
            json.dumps({k: v for k, v in p["parameters"].items() if k not in grid}, sort_keys=True)
            for p in sweeps.sweep_points(spec)
        }

    assert trained(delta) <= trained(depth)
    assert len(trained(delta)) == len(delta["grid"]["seed"])


def test_a_sweep_point_that_carries_its_inputs_is_decided_again_without_running():
    from dfp import claims

    check = claims.fewer_epochs_check(
        [[100, 110, 120], [10, 11, 12]], 1000, increasing=False, labels=["a", "b"], xlabel="x"
    )
    assert check.outcome == "holds"
    stale = dict(
        outcome="fails",
        holds=False,
        verdict="does not reproduce",
        mark="✗",
        statistic="old",
        summary="old",
        scale="s",
        parts=None,
        effects=[],
        inputs=check.inputs,
    )
    summary = {"points": [{"name": "p", "claims": {"C1": stale}}, {"name": "q", "claims": {}}]}
    again = sweeps.redecide_sweep_summary(summary)
    decided = again["points"][0]["claims"]["C1"]
    # In the sweep's own words, as collect_sweep writes them.
    assert (decided["outcome"], decided["mark"], decided["statistic"]) == (
        "reproduces",
        "✓",
        check.statistic,
    )
    assert again["points"][1] == summary["points"][1]
