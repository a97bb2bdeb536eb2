"""Sweeps (dfp.sweeps): what a sweep file may say, how points are named, what is collected
from them and how a sweep's page tells it."""

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
    assert sweeps.sweep_point_name("fig8", parameters) != sweeps.sweep_point_name(
        "fig9", parameters
    )


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


def executed_point(folder, point, holds, parts, seconds=12.5, start="2026-12-03T10:00:00"):
    """A notebook as papermill leaves it: its parameters recorded, the claim glued."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["papermill"] = {
        "parameters": point["overrides"],
        "start_time": start,
        "duration": seconds,
    }
    values = {
        "C7_holds": holds,
        "C7_verdict": "reproduces" if holds else "does not reproduce",
        "C7_mark": "✓" if holds else "✗",
        "C7_statistic": "numbers",
        "C7_summary": "a → b",
        "C7_scale": "small",
        "C7_parts": parts,
    }
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


def collected(root, tmp_path):
    spec = sweeps.load_sweep(write(root, grid={"hidden_layers": [2, 3], "seed": [0, 1]}), root=root)
    folder = tmp_path / "points"
    folder.mkdir()
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
    assert first["claims"]["C7"]["holds"] is False
    assert first["claims"]["C7"]["parts"] == {"1": True, "2": False, "3": True}
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
    assert lines[0].startswith("| `hidden_layers` | `seed` | verdict")
    assert len(lines) == 2 + 4
    assert "| 2 | 0 | ✗ does not reproduce | (1) ✓ (2) ✗ (3) ✓ | a → b | 60 s |" in table
    text = sweeps.sweep_description(spec, summary, current_version=1)
    # Seeds pooled: one line per number of hidden layers.
    assert "by `hidden_layers` (seeds pooled)" in text
    assert "`hidden_layers` = 2: C7 holds in full at 0 of 2 points" in text
    assert "`hidden_layers` = 3: C7 holds in full at 1 of 2 points" in text
    assert "parts holding at every point: (1), (3); at none: (2)" in text  # 2 layers
    assert "older training code" not in text
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


def test_the_shipped_sweeps_load(tmp_path):
    for path in sorted((ROOT / "sweeps").glob("*.yaml")):
        spec = sweeps.load_sweep(path, root=ROOT)
        assert spec["about"] and spec["claims"] == ["C7"]


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
