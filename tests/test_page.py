import base64
import io
import re

import numpy as np
import pytest

from dfp import page, parameters, plots
from dfp.verdicts import Check
from tests.notebooks import ROOT

CHECK = Check(holds=np.bool_(True), statistic="peaks 1 < 2", summary="peak 1 → 2")


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


def test_glue_claim_glues_the_verdict_in_words_beside_the_bool(capsys, monkeypatch):
    published = _published(monkeypatch)
    page.glue_claim("C3", CHECK, scale="tiny")
    text = _text(published)
    assert list(text) == [
        "C3_holds",
        "C3_verdict",
        "C3_mark",
        "C3_statistic",
        "C3_summary",
        "C3_scale",
    ]
    assert (
        text["C3_verdict"] == "'reproduces'"
        and text["C3_mark"] == "'✓'"
        and text["C3_holds"] == "True"
        and text["C3_summary"] == "'peak 1 → 2'"
        and text["C3_scale"] == "'tiny'"
    )
    assert "C3 reproduces: peaks 1 < 2" in capsys.readouterr().out


def test_glue_claim_appends_the_note_to_the_statistic(capsys, monkeypatch):
    published = _published(monkeypatch)
    page.glue_claim("C3", CHECK, scale="tiny", note="; more")
    assert _text(published)["C3_statistic"] == "'peaks 1 < 2; more'"
    assert "C3 reproduces: peaks 1 < 2; more" in capsys.readouterr().out


def test_glue_claim_with_evidence_glues_a_sharp_panel(monkeypatch):
    from PIL import Image

    published = _published(monkeypatch)
    evidence = dict(
        xlabel="layer",
        labels=[1, 2, 3],
        series={"start": [1, 2, 3], "end": [3, 2, 1]},
        ylabel="1/δ",
    )
    parts = {1: True, 2: False, 3: True}
    check = Check(holds=False, statistic="x", summary="y", parts=parts, evidence=evidence)
    page.glue_claim("C7", check, scale="tiny")
    glued = {kw["metadata"]["scrapbook"]["name"]: (obj, kw["metadata"]) for obj, kw in published}
    verdict = glued["C7_verdict"][0]["application/papermill.record/text/plain"]
    assert verdict == "'reproduces in part: (1) and (3) of three'"
    # The parts, for a sweep to collect (dfp.sweeps.glued_values reads them back).
    recorded = glued["C7_parts"][0]["application/papermill.record/text/plain"]
    assert recorded == "{1: True, 2: False, 3: True}"
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
