"""Committed results (dfp.results): a long run's executed notebook, its summary and its
provenance, checked against each other and shown on the figure's page."""

import json
import shutil

import nbformat
import pytest

from dfp import plots, results
from tests.notebooks import ROOT

PROVENANCE = {
    "commit": "0123456789ab",
    "commit_date": "2026-12-01T10:00:00+00:00",
    "code": "c" * 64,
    "training_version": 1,
    "packages": {"keras": "3.15.1"},
    "python": "3.11.7",
    "backend": "tensorflow",
    "hardware": "a test machine, 2 cores",
    "gpus": [],
    "recorded": "2026-12-01T12:00:00+00:00",
}


def _figure_output():
    """A figure output as a notebook's ``dfp.plots.show`` leaves it (the browser test opens
    every image of the book and reads its recorded text size)."""
    import base64

    figure, ax = plots.subplots(height=2.0)
    ax.plot([0, 1], [0, 1])
    ax.set(xlabel="epoch", ylabel="loss", title="a made-up result")
    shown = plots.image(figure)
    return nbformat.v4.new_output(
        "display_data",
        data={"image/png": base64.b64encode(shown.data).decode("ascii")},
        metadata={"image/png": {"width": shown.width}},
    )


def _glued(name, value):
    """An output as MyST-NB's glue writes it."""
    return nbformat.v4.new_output(
        "display_data",
        data={"text/plain": repr(value)},
        metadata={"scrapbook": {"name": name, "mime_prefix": ""}},
    )


def executed_notebook(path, *, holds=True, epochs=3, claim="C7"):
    """A notebook as papermill leaves it: parameters, injected parameters, glued claim, figure."""
    parameters = nbformat.v4.new_code_cell(
        "epochs = 300\nseed = 0", metadata={"tags": ["parameters"]}
    )
    injected = nbformat.v4.new_code_cell(
        f"# Parameters\nepochs = {epochs}\n", metadata={"tags": ["injected-parameters"]}
    )
    glued = nbformat.v4.new_code_cell("glue(...)")
    glued.outputs = [
        _glued(f"{claim}_holds", holds),
        _glued(f"{claim}_verdict", "reproduces" if holds else "does not reproduce"),
        _glued(f"{claim}_mark", "✓" if holds else "✗"),
        _glued(f"{claim}_statistic", "half-way 1/δ 0.01 < 0.02"),
        _glued(f"{claim}_summary", "0.01 → 0.02"),
        _glued(f"{claim}_scale", "a test scale"),
        _glued(f"{claim}_parts", {1: holds}),
    ]
    figure = nbformat.v4.new_code_cell("plot()")
    figure.outputs = [_figure_output()]
    notebook = nbformat.v4.new_notebook(cells=[parameters, injected, glued, figure])
    notebook.metadata["papermill"] = {
        "parameters": {"epochs": epochs},
        "start_time": "2026-12-01T11:00:00.000000",
        "duration": 3600.5,
    }
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def committed(tmp_path):
    executed = executed_notebook(tmp_path / "executed.ipynb")
    results.write_result(
        executed, name="fig8", profile="paper", provenance=PROVENANCE, root=tmp_path / "repo"
    )
    return tmp_path / "repo"


def test_a_result_keeps_the_notebook_and_a_summary_of_what_it_recorded(committed):
    summary = results.check_result(committed / "results" / "paper" / "fig8.summary.json")
    assert summary["parameters"] == {"epochs": 3}
    assert summary["configuration"] == {"epochs": 3, "seed": 0}  # defaults, then papermill's
    assert summary["claims"]["C7"]["verdict"] == "reproduces"
    assert summary["claims"]["C7"]["parts"] == {"1": True}
    provenance = summary["provenance"]
    assert provenance["precision"] == "float32"  # a notebook without the parameter
    assert provenance["wall_seconds"] == 3600.5 and provenance["started"].startswith("2026-12-01")
    assert not list((committed / "results" / "paper").glob(".*"))  # no partial files left


def test_a_summary_that_disagrees_with_its_notebook_fails(committed):
    path = committed / "results" / "paper" / "fig8.summary.json"
    summary = json.loads(path.read_text())
    summary["claims"]["C7"]["verdict"] = "does not reproduce"
    path.write_text(json.dumps(summary))
    with pytest.raises(results.ResultError, match="claims disagree"):
        results.check_result(path)
    # The notebook changed under the summary (rerun, summary not rewritten): caught too.
    executed_notebook(committed / "results" / "paper" / "fig8.ipynb", epochs=4)
    summary["claims"]["C7"]["verdict"] = "reproduces"
    path.write_text(json.dumps(summary))
    with pytest.raises(results.ResultError, match="parameters disagree"):
        results.check_result(path)


@pytest.mark.parametrize("field", ["commit", "code", "hardware", "wall_seconds", "precision"])
def test_a_result_missing_its_provenance_fails(committed, field):
    path = committed / "results" / "paper" / "fig8.summary.json"
    summary = json.loads(path.read_text())
    del summary["provenance"][field]
    path.write_text(json.dumps(summary))
    with pytest.raises(results.ResultError, match=f"provenance lacks {field}"):
        results.check_result(path)


def test_a_result_in_another_profiles_folder_fails(committed):
    shutil.copytree(committed / "results" / "paper", committed / "results" / "medium")
    with pytest.raises(results.ResultError, match="another profile's folder"):
        results.check_result(committed / "results" / "medium" / "fig8.summary.json")


def test_the_page_shows_verdicts_provenance_and_figures_and_says_when_code_is_older(committed):
    text, figures = results.results_markdown("fig8", committed, current_version=1)
    assert "**The paper profile**" in text and "C7: ✓ reproduces" in text
    assert "commit 0123456789ab (2026-12-01)" in text and "60 min" in text
    assert "older code" not in text
    # The figure, not the glued values, at the width its notebook showed it.
    assert [(profile, width) for profile, _, width in figures] == [
        ("paper", round(plots.TEXT_WIDTH * plots.SCREEN_DPI))
    ]
    # Another training version marks it (a refactor keeps the version, so the result current).
    text, _ = results.results_markdown("fig8", committed, current_version=2)
    assert "older training code than this page's** (version 1, this page's 2)" in text
    text, figures = results.results_markdown("fig3", committed, current_version=1)
    assert "make results PROFILE=paper FIG=fig3" in text and figures == []


def test_the_report_gets_a_cell_per_claim_and_profile(committed):
    cells = results.ladder_cells(committed)
    assert set(cells) == {("C7", "paper")}
    assert cells[("C7", "paper")].startswith(
        "✓ reproduces: 0.01 → 0.02 (a test scale; commit 0123456"
    )


def test_every_committed_result_agrees_with_its_notebook_and_has_its_provenance():
    summaries = sorted((ROOT / "results").glob("*/*.summary.json"))
    for path in summaries:
        summary = results.check_result(path)
        assert summary["profile"] in results.LADDER
        assert (ROOT / "notebooks" / f"{summary['notebook']}.py").exists()
    notebooks = sorted((ROOT / "results").glob("*/*.ipynb"))
    assert [p.with_suffix(".summary.json") for p in notebooks] == summaries


def test_a_result_that_loaded_its_training_says_how_much_and_from_where(tmp_path):
    """A result whose runs came from the run cache ran for seconds; its provenance says how
    much training it loaded, so the short wall time does not read as the run's cost."""
    executed = executed_notebook(tmp_path / "executed.ipynb")
    notebook = nbformat.read(executed, as_version=4)
    used = [
        {"run": "fig9", "seconds": 1800.0, "loaded": True, "hardware": PROVENANCE["hardware"]},
        {"run": "fig9", "seconds": 1260.0, "loaded": True, "hardware": PROVENANCE["hardware"]},
        {"run": "fig9", "seconds": 7.0, "loaded": False, "hardware": PROVENANCE["hardware"]},
    ]
    cell = nbformat.v4.new_code_cell("dfp.page.show_parameters(...)")
    cell.outputs = [_glued("runs_used", used)]
    notebook.cells.append(cell)
    nbformat.write(notebook, executed)
    summary = results.result_summary(executed, name="fig9", profile="medium", provenance=PROVENANCE)
    provenance = summary["provenance"]
    assert provenance["training_seconds"] == 7.0
    assert provenance["loaded_training_seconds"] == 3060.0
    line = results.provenance_line(summary)
    assert "it loaded 51 min of training from the run cache" in line
    # A result that trained everything itself says nothing of the kind.
    summary["provenance"]["loaded_training_seconds"] = 0
    assert "run cache" not in results.provenance_line(summary)


def test_the_summary_records_the_parameters_the_page_glued(tmp_path):
    # dfp.page.begin glues what the page ran with; the summary takes that, not the cell.
    path = executed_notebook(tmp_path / "executed.ipynb")
    notebook = nbformat.read(path, as_version=4)
    ran = {"epochs": 3, "seed": 0, "precision": "bf16"}
    notebook.cells[2].outputs.append(_glued("parameters", ran))
    nbformat.write(notebook, path)
    summary = results.result_summary(path, name="fig8", profile="paper", provenance=PROVENANCE)
    assert summary["configuration"] == ran and summary["provenance"]["precision"] == "bf16"
