"""Committed results (dfp.results): a long run's executed notebook, its summary and its
provenance, checked against each other and shown on the figure's page."""

import contextlib
import dataclasses
import io
import json
import shutil
from unittest import mock

import nbformat
import numpy as np
import pytest

from dfp import claims, plots, results, verdicts
from dfp.__main__ import main
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


def glued_claim(claim, check, scale="a test scale"):
    """The outputs ``dfp.page.glue_claim`` leaves in an executed notebook for a check."""
    import myst_nb.ext.glue as glue_module

    from dfp import page

    published = []
    record = lambda obj, **kw: published.append((obj, kw))
    with (
        mock.patch.object(glue_module, "ipy_display", record),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        page.glue_claim(claim, check, scale=scale)
    return [
        nbformat.v4.new_output("display_data", data=obj, metadata=kw["metadata"])
        for obj, kw in published
    ]


def deep_frequency_check():
    """A C7 check on made-up curves: (1) and (3) hold, (2) fails."""
    grid = np.geomspace(1e-2, 1e4, 121)
    rng = np.random.default_rng(0)
    snapshots = ([10.0, 30.0, 100.0], [5.0, 3.0, 80.0], [5.0, 3.0, 1.0])  # half-way points
    return claims.deep_frequency_check(
        grid,
        [0, 50, 100],
        [[0.1 + 0.9 / (1 + (h / grid) ** 4) for h in hs] for hs in snapshots],
        [[0.1] * 3] * 3,
        [[h * np.exp(rng.normal(0, 0.02, 8)) for h in hs] for hs in snapshots],
        labels=["layer 1", "layer 2", "layer 3"],
        xlabel="hidden layer",
    )


def executed_notebook(path, *, holds=True, epochs=3, claim="C7", check=None):
    """A notebook as papermill leaves it: parameters, injected parameters, glued claim, figure.

    With ``check``, the claim is glued as ``dfp.page.glue_claim`` glues it (its inputs
    included); without, as a notebook made before claims carried their inputs glued it.
    """
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
    if check is not None:
        glued.outputs = glued_claim(claim, check)
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
    # A notebook made before claims carried their inputs: checked as it glued them.
    assert summary["claims"]["C7"]["verdict"] == "reproduces"
    assert summary["claims"]["C7"]["parts"] == {"1": True}
    assert summary["claims"]["C7"]["inputs"] is None and summary["claims"]["C7"]["rule"] is None
    provenance = summary["provenance"]
    assert provenance["precision"] == "float32"  # a notebook without the parameter
    assert provenance["wall_seconds"] == 3600.5 and provenance["started"].startswith("2026-12-01")
    assert not list((committed / "results" / "paper").glob(".*"))  # no partial files left


def test_a_summary_that_disagrees_with_its_notebook_fails(committed):
    path = committed / "results" / "paper" / "fig8.summary.json"
    summary = json.loads(path.read_text())
    summary["claims"]["C7"]["verdict"] = "does not reproduce"
    path.write_text(json.dumps(summary))
    with pytest.raises(results.ResultError, match="its claim C7 disagrees with"):
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


# --- Results that carry their claims' inputs -------------------------------------------------


@pytest.fixture(scope="module")
def executed_with_inputs(tmp_path_factory):
    """An executed notebook whose claim C7 was glued with its inputs (its panel drawn once)."""
    path = tmp_path_factory.mktemp("executed") / "executed.ipynb"
    return executed_notebook(path, check=deep_frequency_check())


@pytest.fixture
def decided(executed_with_inputs, tmp_path):
    """A committed result whose claim C7 carries its inputs; its summary's path."""
    root = tmp_path / "repo"
    results.write_result(
        executed_with_inputs, name="fig8", profile="paper", provenance=PROVENANCE, root=root
    )
    return root / "results" / "paper" / "fig8.summary.json"


def _edit(path, change):
    summary = json.loads(path.read_text())
    change(summary["claims"]["C7"])
    path.write_text(json.dumps(summary))
    return summary


def test_a_result_keeps_each_claim_s_inputs_and_the_rule_it_was_decided_by(decided):
    check = deep_frequency_check()
    summary = results.check_result(decided)
    fields = summary["claims"]["C7"]
    assert fields["inputs"] == json.loads(json.dumps(check.inputs))
    assert fields["rule"] == dataclasses.asdict(verdicts.RULE)
    assert fields["outcome"] == "in part" and fields["holds"] is False
    assert fields["parts"] == {"1": "holds", "2": "fails", "3": "holds"}
    assert (fields["verdict"], fields["mark"]) == check.verdict()
    assert fields["statistic"] == check.statistic and fields["summary"] == check.summary
    assert fields["effects"] == json.loads(json.dumps(check.effects))


@pytest.mark.parametrize(
    "field, value",
    [
        ("verdict", "reproduces"),
        ("outcome", "holds"),
        ("parts", {"1": "holds", "2": "holds", "3": "holds"}),
        ("statistic", "every step resolved"),
    ],
)
def test_a_verdict_edited_by_hand_fails_naming_redecide(decided, field, value):
    _edit(decided, lambda fields: fields.update({field: value}))
    with pytest.raises(results.ResultError, match="python -m dfp results --redecide"):
        results.check_result(decided)


def test_redecide_summary_restores_an_edited_summary(decided):
    original = json.loads(decided.read_text())
    edited = _edit(decided, lambda fields: fields.update(verdict="reproduces", mark="✓"))
    assert results.redecide_summary(edited) == original
    assert results.redecide_results(decided.parents[2]) == [(decided, ["C7"])]
    assert json.loads(decided.read_text()) == original
    assert results.check_result(decided)["claims"]["C7"]["mark"] == "◐"
    assert results.redecide_results(decided.parents[2]) == []  # nothing left to decide


def test_a_summary_decided_under_another_rule_fails_until_redecided(decided):
    edited = _edit(decided, lambda fields: fields["rule"].update(level=0.8))
    with pytest.raises(results.ResultError, match="another rule or code"):
        results.check_result(decided)
    assert results.redecide_summary(edited)["claims"]["C7"]["rule"]["level"] == verdicts.LEVEL


def test_a_summary_whose_data_disagree_with_its_notebook_fails(decided):
    _edit(decided, lambda fields: fields["inputs"]["arguments"].update(epochs=[0, 40, 100]))
    with pytest.raises(results.ResultError, match="the data of C7 disagree"):
        results.check_result(decided)


def test_a_legacy_summary_beside_one_with_inputs_still_checks(decided, tmp_path):
    executed = executed_notebook(tmp_path / "legacy.ipynb")
    root = decided.parents[2]
    results.write_result(executed, name="fig7", profile="paper", provenance=PROVENANCE, root=root)
    summary = results.check_result(root / "results" / "paper" / "fig7.summary.json")
    assert summary["claims"]["C7"]["rule"] is None
    assert results.redecide_results(root) == []  # a legacy claim is left as it is


def test_the_results_command_refuses_a_stale_verdict_then_redecides_it(decided, capsys):
    root = str(decided.parents[2])
    _edit(decided, lambda fields: fields.update(verdict="reproduces", mark="✓"))
    with pytest.raises(SystemExit) as stopped:
        main(["results", "--root", root])
    assert stopped.value.code == 2 and "--redecide" in capsys.readouterr().err
    main(["results", "--redecide", "--root", root])
    out = capsys.readouterr().out
    assert f"re-decided {decided}: C7 changed" in out
    assert "C7 ◐ reproduces in part: (1) and (3) of three" in out
    main(["results", "--redecide", "--root", root])
    assert "every committed result is decided under the current rule" in capsys.readouterr().out


def test_a_claim_whose_check_cannot_be_run_again_fails_as_a_result_error(decided, monkeypatch):
    monkeypatch.delitem(claims._CHECKS, "deep_frequency_check")
    with pytest.raises(results.ResultError, match="C7"):
        results.check_result(decided)


def test_the_overview_has_one_row_per_claim_at_its_largest_scale():
    from dfp._vocabulary import CLAIMS
    from tests.notebooks import ROOT

    quick = {"C1": {"mark": "✓", "verdict": "reproduces", "summary": "quick numbers"}}
    rows = results.claims_overview(ROOT, quick=quick).splitlines()[2:]
    assert [row.split("]")[0] for row in rows] == [f"| [{claim}" for claim in CLAIMS]
    by_claim = dict(zip(CLAIMS, rows))
    # A claim with a committed paper-scale result shows it, and the quick mark in its ladder.
    paper = json.loads((ROOT / "results/paper/fig1a.summary.json").read_text())["claims"]["C1"]
    assert f"| {paper['mark']} {paper['verdict']}: {paper['summary']} |" in by_claim["C1"]
    assert "[paper run](../notebooks/fig1a.ipynb)" in by_claim["C1"]
    assert by_claim["C1"].endswith(f"| ✓ · – · {paper['mark']} |")
    # Without any run or result, a claim says so rather than showing another's numbers.
    empty = results.claims_overview(ROOT / "no-such-folder").splitlines()[2:]
    assert all("| not run |" in row for row in empty)
