import base64
import io
import json
import re

import nbformat
import numpy as np
import pytest

from dfp import claims, page, parameters, plots
from dfp.sweeps import glued_values
from dfp.verdicts import Check
from tests.notebooks import ROOT

CHECK = Check(outcome="holds", statistic="peaks 1 < 2", summary="peak 1 → 2")


def _published(monkeypatch):
    import myst_nb.ext.glue as glue_module

    # myst_nb.glue publishes through IPython's display; capture what it sends.
    published = []
    monkeypatch.setattr(glue_module, "ipy_display", lambda obj, **kw: published.append((obj, kw)))
    return published


def _text(published):
    """{glued name: its plain-text record}."""
    return {
        kw["metadata"]["scrapbook"]["name"]: obj.get("application/papermill.record/text/plain")
        for obj, kw in published
    }


def test_glue_claim_rejects_unknown_claims_a_missing_check_and_an_empty_scale(monkeypatch):
    published = _published(monkeypatch)
    with pytest.raises(ValueError, match="unknown claim"):
        page.glue_claim("C10", CHECK, scale="tiny")
    with pytest.raises(ValueError, match="must be a dfp.verdicts.Check"):
        page.glue_claim("C3", (True, "x", None), scale="tiny")
    with pytest.raises(ValueError, match="scale must be a non-empty"):
        page.glue_claim("C3", CHECK, scale="")
    assert published == []  # nothing glued before the checks


def test_glue_claim_glues_the_outcome_and_the_verdict_in_words(capsys, monkeypatch):
    published = _published(monkeypatch)
    page.glue_claim("C3", CHECK, scale="tiny")
    text = _text(published)
    # A check made by hand records no inputs: none are glued.
    assert list(text) == [
        "C3_outcome",
        "C3_holds",
        "C3_verdict",
        "C3_mark",
        "C3_statistic",
        "C3_summary",
        "C3_scale",
        "C3_effects",
    ]
    assert (
        text["C3_outcome"] == "'holds'"
        and text["C3_verdict"] == "'reproduces'"
        and text["C3_mark"] == "'✓'"
        and text["C3_holds"] == "True"
        and text["C3_summary"] == "'peak 1 → 2'"
        and text["C3_scale"] == "'tiny'"
        and text["C3_effects"] == "[]"
    )
    assert "C3 reproduces: peaks 1 < 2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "outcome, verdict, mark",
    [("fails", "does not reproduce", "✗"), ("not resolved", "not resolved at this scale", "?")],
)
def test_glue_claim_glues_every_outcome_with_its_words_and_mark(
    monkeypatch, outcome, verdict, mark
):
    published = _published(monkeypatch)
    check = Check(outcome=outcome, statistic="x", summary="y")
    page.glue_claim("C3", check, scale="tiny")
    text = _text(published)
    assert text["C3_outcome"] == repr(outcome) and text["C3_holds"] == "False"
    assert text["C3_verdict"] == repr(verdict) and text["C3_mark"] == repr(mark)


def _notebook_of(published):
    """An executed notebook holding what was glued, as papermill keeps it."""
    cell = nbformat.v4.new_code_cell("glue(...)")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data=obj, metadata=kw["metadata"])
        for obj, kw in published
    ]
    return nbformat.v4.new_notebook(cells=[cell])


def test_glue_claim_glues_a_check_s_inputs_so_it_can_be_decided_again(monkeypatch):
    published = _published(monkeypatch)
    check = claims.fewer_epochs_check(
        [[None, 45, 50], [20, 22, 25]], 60, increasing=False, labels=["1", "2"], xlabel="layers"
    )
    page.glue_claim("C1", check, scale="tiny")
    values = glued_values(_notebook_of(published))
    assert json.loads(values["C1_inputs"]) == json.loads(json.dumps(check.inputs))
    assert values["C1_effects"] == check.effects
    again = claims.redecide(json.loads(values["C1_inputs"]))
    assert (again.outcome, again.statistic) == (values["C1_outcome"], values["C1_statistic"])


def test_glue_claim_glues_inputs_with_more_than_a_thousand_values_whole(monkeypatch):
    published = _published(monkeypatch)
    curves = [np.exp(-np.arange(1200) / tau) for tau in (5.0, 10.0)]
    check = claims.very_deep_speed_check(curves, curves[:1] * 2, depths=[2, 4])
    page.glue_claim("C8", check, scale="tiny")
    values = glued_values(_notebook_of(published))
    assert json.loads(values["C8_inputs"]) == json.loads(json.dumps(check.inputs))


def test_glue_claim_with_evidence_glues_a_sharp_panel(monkeypatch):
    from PIL import Image

    published = _published(monkeypatch)
    evidence = dict(
        xlabel="layer",
        labels=[1, 2, 3],
        series={"start": [1, 2, 3], "end": [3, 2, 1]},
        ylabel="1/δ",
    )
    parts = {1: "holds", 2: "fails", 3: "holds"}
    check = Check(outcome="in part", statistic="x", summary="y", parts=parts, evidence=evidence)
    page.glue_claim("C7", check, scale="tiny")
    glued = {kw["metadata"]["scrapbook"]["name"]: (obj, kw["metadata"]) for obj, kw in published}
    verdict = glued["C7_verdict"][0]["application/papermill.record/text/plain"]
    assert verdict == "'reproduces in part: (1) and (3) of three'"
    outcome = glued["C7_outcome"][0]["application/papermill.record/text/plain"]
    assert outcome == "'in part'"
    # The parts, for a sweep to collect (dfp.sweeps.glued_values reads them back).
    recorded = glued["C7_parts"][0]["application/papermill.record/text/plain"]
    assert recorded == "{1: 'holds', 2: 'fails', 3: 'holds'}"
    bundle, _ = glued["C7_panel"]
    html = bundle["application/papermill.record/text/html"]
    assert 'alt="C7: reproduces in part: (1) and (3) of three"' in html
    data, width = re.search(r'src="data:image/png;base64,([^"]+)" width="(\d+)"', html).groups()
    picture = Image.open(io.BytesIO(base64.b64decode(data)))
    # Twice the pixels of the width it is shown at, and its smallest font recorded.
    assert picture.width >= 2 * int(width) - 2
    assert float(picture.text[plots.FONT_KEY]) >= 8


def _used(**changes):
    used = {
        "run": "fig9",
        "key": "0123456789abcdef01234567",
        "created": "2026-01-02T03:04:05+00:00",
        "hardware": "2-core CPU",
        "gpus": [],
        "backend": "tensorflow",
        "seconds": 12.4,
        "loaded": True,
    }
    return {**used, **changes}


def test_a_run_row_says_where_when_and_how_long():
    assert page._run_row(_used()) == (
        "| `fig9` `0123456789ab` | 2026-01-02 03:04 UTC | 2-core CPU | tensorflow | 12 s | loaded |"
    )
    row = page._run_row(
        _used(created=None, hardware=None, gpus=["H200"], seconds=None, loaded=False)
    )
    assert row == (
        "| `fig9` `0123456789ab` |  UTC | not recorded; GPU H200 | tensorflow | not recorded "
        "| trained here |"
    )


def test_show_parameters_lists_the_values_the_page_ran_with_and_the_runs_it_used(monkeypatch):
    published = _published(monkeypatch)
    shown = []
    monkeypatch.setattr(page, "display", lambda obj: shown.append(obj.data))
    monkeypatch.setattr(page, "used_runs", lambda: [_used()])
    names = list(parameters.notebook_parameters("fig3"))
    params = parameters.Parameters("fig3", {name: f"value of {name}" for name in names})
    page.show_parameters(params)
    table, runs = shown
    for name in names:
        assert f"| `{name}` | `'value of {name}'` |" in table
    assert "-f notebooks/params/fig3.paper.yaml" in table
    assert page._run_row(_used()) in runs
    assert list(_text(published)) == ["runs_used"]
    # No run used: no table, nothing glued.
    shown.clear()
    published.clear()
    monkeypatch.setattr(page, "used_runs", lambda: [])
    page.show_parameters(params)
    assert len(shown) == 1 and published == []


def test_begin_reads_checks_and_glues_the_parameters_once(monkeypatch):
    monkeypatch.chdir(ROOT)
    published = _published(monkeypatch)
    namespace = parameters.notebook_parameters("fig3")
    namespace.update(num_points=50, In=["# Parameters\nnum_points = 50\n"])
    params = page.begin(namespace, "fig3")
    assert params.notebook == "fig3" and params["num_points"] == 50 and "In" not in params
    assert list(_text(published)) == ["parameters"]
    assert "'num_points': 50" in _text(published)["parameters"]
    published.clear()
    namespace["In"] = ["# Parameters\nnum_point = 50\n"]
    with pytest.raises(parameters.ParameterError, match="Did you mean 'num_points'"):
        page.begin({**namespace, "num_point": 50}, "fig3")
    assert published == []  # nothing glued from a page whose parameters are wrong


def test_show_results_introduces_the_larger_runs_then_shows_them(monkeypatch):
    shown, committed = [], []
    monkeypatch.setattr(page, "display", lambda obj: shown.append(obj.data))
    monkeypatch.setattr(page, "_show_committed_results", committed.append)
    page.show_results(parameters.Parameters("fig8", {}))
    assert "committed in `results/`" in shown[0] and committed == ["fig8"]


def test_glue_precision_control_says_whether_there_is_a_control_and_what_it_found(
    capsys, monkeypatch
):
    from tests.test_claims import _resnet_run

    published = _published(monkeypatch)
    assert page.glue_precision_control({}, {"precision": "float32", "control": 4}) is None
    assert "no precision control is needed" in _text(published)["precision_control"]
    page.glue_precision_control({}, {"precision": "bf16", "control": 0})
    assert "bf16 with no float32 control" in _text(published)["precision_control"]
    runs = {
        "other": _resnet_run(0.5, "bf16"),
        "float32": _resnet_run(0.0, "float32"),
        "float32, next seed": _resnet_run(2.0, "float32"),
    }
    control = page.glue_precision_control(runs, {"precision": "bf16", "control": 4})
    assert control["within_seed"] and control["seed_steps"] > control["steps"]
    text = _text(published)["precision_control"]
    assert "Resnet18-4 trained in float32 and bf16, and float32 at the next seed" in text
    printed = capsys.readouterr().out
    assert "half-way 1/δ of the RDF of the labels (float32, bf16, float32, next seed)" in printed
    del runs["float32, next seed"]  # without the second seed: two runs, two names
    page.glue_precision_control(runs, {"precision": "bf16", "control": 4})
    assert "half-way 1/δ of the RDF of the labels (float32, bf16):" in capsys.readouterr().out


def test_a_run_the_page_used_twice_is_listed_and_counted_once(tmp_path, monkeypatch):
    import numpy as np

    from dfp import runs

    monkeypatch.setenv("DFP_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(runs, "_USED", [])
    published = _published(monkeypatch)
    runs.cached("twice", {"a": 1}, lambda: {"x": np.arange(3)})
    runs.cached("twice", {"a": 1}, lambda: pytest.fail("computed twice"))
    runs.cached("other", {"a": 2}, lambda: {"x": np.arange(2)})
    page._show_runs_used()
    used = glued_values(_notebook_of(published))["runs_used"]
    assert [(u["run"], u["loaded"]) for u in used] == [("twice", False), ("other", False)]
