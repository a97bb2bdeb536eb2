"""The book builds through the workflow, with the project's own configuration, renders its
sweeps, rebuilds nothing when nothing changed, and shows every page in a real browser.

Each build is of a copy of the repository's workflow inputs in a temporary folder: the
workflow (workflow/Snakefile) executes every notebook at its tiny profile, two at a time,
and runs a two-point sweep; then the same `make render` that `make book` uses renders it.
"""

import base64
import io
import os
import re
import shutil
import subprocess
from urllib.parse import unquote, urlparse

import pytest
import yaml

from dfp import results, sweeps
from dfp.claims import CLAIMS
from tests.notebooks import ROOT, sources
from tests.test_results import PROVENANCE, executed_notebook
from tests.test_workflow import jobs, repository, snakemake, two_point_sweep

pytestmark = pytest.mark.slow
SCREENSHOTS = ROOT / "_build" / "screenshots"
# The shipped sweep left unrun in the test's book.
UNRUN = "delta"


def render(book):
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "render", f"BOOK_DIR={book}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    """The whole book at the tiny profile, with a two-point sweep run for real beside the
    committed ones; (repository copy, work folder)."""
    base = tmp_path_factory.mktemp("book")
    root = repository(base / "repo")
    # The committed results, but for the δ sweep, whose page then shows how to run it.
    for summary in (ROOT / "sweeps").glob("*.summary.json"):
        if summary.name != f"{UNRUN}.summary.json":
            shutil.copy(summary, root / "sweeps")
    two_point_sweep(root)
    # A committed paper-scale result of Fig. 3 (made up, so that the test does not depend on
    # which results the repository holds): its page and the report must show it.
    for old in (root / "results" / "paper").glob("fig3.*"):
        old.unlink()
    made_up = executed_notebook(base / "fig3-result.ipynb", claim="C3")
    # Made by an earlier training version than the page's: the page says so.
    older = {**PROVENANCE, "training_version": 0}
    results.write_result(made_up, name="fig3", profile="paper", provenance=older, root=root)
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    toc["parts"][-1]["chapters"].append({"file": "sweeps/pair"})
    (root / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    work = base / "work"
    swept = snakemake(root, work, "--cores", "2", "--config", "sweep=pair")
    assert swept.returncode == 0, (swept.stdout + swept.stderr)[-4000:]
    built = snakemake(root, work, "--cores", "2", "--config", "profile=tiny")
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    code, log = render(work)
    assert code == 0, log[-6000:]
    return root, work


def test_whole_book_builds_with_every_figure_verdict_and_sweep(built_book):
    root, work = built_book
    html = work / "_build" / "html"
    for py in sources():
        page = (html / "notebooks" / f"{py.stem}.html").read_text()
        assert re.search(r"<img [^>]*src=\"[^\"]+\.png\"", page), f"{py.stem}: no figure"
        assert "Parameters this page ran with" in page, f"{py.stem}: no parameters table"
    report = (html / "book" / "report.html").read_text()
    for claim in CLAIMS:
        row = re.search(rf"<td[^>]*><p>{claim}</p></td>(.*?)</tr>", report, re.S)
        assert row, f"report has no row for {claim}"
        verdict = rf"pasted-text\">[✓✗◐]</span> <span class=\"pasted-text\">({VERDICT})</span>"
        assert re.search(verdict, row.group(1)), f"{claim}: verdict not glued in words"
        assert re.search(r'<a class="reference internal" href="../notebooks/', row.group(1)), (
            f"{claim}: no link"
        )
    assert "git commit" in report and "{{" not in report
    # The execution table: one row per executed page, from papermill's record.
    for py in sources():
        assert f"notebooks/{py.stem}.ipynb</span></code></p></td>" in report, py.stem
    # The two-point sweep that ran: a heatmap and one table row per point.
    pair = (html / "sweeps" / "pair.html").read_text()
    assert "<h1>Two seeds" in pair and re.search(r"<img [^>]*src=", pair)
    rows = re.findall(r"<tr class=\"row-(?:odd|even)\"><td><p>([01])</p></td>", pair)
    assert sorted(rows) == ["0", "1"], rows
    assert "has not been run" not in pair
    # A shipped sweep: its committed results, or how to run it; and how to bring it up to
    # date when its summary is of other points than the sweep file's now.
    for name in ("depth", "activation_loss", "delta"):
        page = (html / "sweeps" / f"{name}.html").read_text()
        words = re.sub(r"<[^>]+>", "", page)
        summary = ROOT / "sweeps" / f"{name}.summary.json"
        committed = name != UNRUN and summary.exists()
        assert ("has not been run" in words) != committed, name
        assert ("<img " in page) == committed, name
        stale = committed and swept_points(name) != collected_points(summary)
        assert ("is of another version of this sweep" in words) == stale, name
        assert (f"make sweep SWEEP={name}" in words) == (not committed or stale), name


def swept_points(name):
    """The names of the points of the sweep file ``sweeps/<name>.yaml`` now."""
    spec = sweeps.load_sweep(ROOT / "sweeps" / f"{name}.yaml", root=ROOT)
    return {point["name"] for point in sweeps.sweep_points(spec)}


def collected_points(summary):
    """The names of the points a committed sweep summary holds."""
    return {point["name"] for point in sweeps.read_sweep_summary(summary)["points"]}


def test_a_committed_result_is_shown_on_its_page_and_in_the_report(built_book):
    root, work = built_book
    html = work / "_build" / "html"
    page = (html / "notebooks" / "fig3.html").read_text()
    assert "The paper profile" in page and "C3: ✓ reproduces" in page
    assert "commit 0123456789ab" in page and "Produced by older training code" in page
    report = (html / "book" / "report.html").read_text()
    section = report[report.index("Verdicts by scale") :]
    assert "✓ reproduces: 0.01 → 0.02 (a test scale; commit 0123456, 2026-12-01)" in section
    assert "not run" in section  # the rungs that have no committed result
    # Rendered from the committed notebook: the workflow never executed it.
    assert not list((work / "_build").glob("results/**/*.ipynb"))


def test_an_unchanged_book_executes_nothing_and_a_dfp_change_reruns_the_notebooks(built_book):
    root, work = built_book
    again = snakemake(root, work, "--cores", "2", "--config", "profile=tiny")
    assert "Nothing to be done" in again.stdout + again.stderr
    code, log = render(work)
    assert code == 0, log[-4000:]
    # Rendering executes nothing (the provenance substitutions make Sphinx read every page):
    # what keeps it to seconds, said without timing it on a machine of unknown speed.
    assert "Executing" not in log
    plots = root / "dfp" / "plots.py"
    original = plots.read_text()
    try:
        plots.write_text(original + "\n# changed\n")
        changed = snakemake(root, work, "-n", "--config", "profile=tiny")
        assert jobs(changed.stdout, "execute") == len(sources()), changed.stdout[-2000:]
    finally:
        plots.write_text(original)


# A verdict in words, as dfp.verdict words it.
VERDICT = r"reproduces in part: \(\d\)(?:(?:, | and )\(\d\))* of \w+|does not reproduce|reproduces"
# A laptop's browser window, in CSS px, and the smallest text a reader can read on it.
LAPTOP = (1280, 800)
SMALLEST_CSS_PX = 8.0
# A figure is sharp on a 2x screen when its PNG has this many pixels per CSS px shown.
SHARP = 1.5


def browser_binaries():
    """chromium and chromedriver: $CHROMIUM and $CHROMEDRIVER, else on the PATH (make browser)."""
    found = {
        name: os.environ.get(name.upper()) or shutil.which(name)
        for name in ("chromium", "chromedriver")
    }
    missing = [name for name, path in found.items() if not path]
    assert not missing, (
        f"{' and '.join(missing)} not found: `make browser` installs Debian's packages"
    )
    return found["chromium"], found["chromedriver"]


def figure_problems(page, images):
    """What is wrong with the figures a reader sees: text under 8 CSS px, or a blurry PNG."""
    from PIL import Image

    from dfp.plots import FONT_KEY, WIDTH_KEY

    problems = []
    for source, shown_width, natural_width in images:
        name = source.rsplit("/", 1)[-1][:80]
        if source.endswith(".svg") or source.startswith("data:image/svg"):
            continue
        if natural_width < SHARP * shown_width:
            problems.append(
                f"{page}: {name} is blurry on a 2x screen: {natural_width} px shown at "
                f"{shown_width} CSS px"
            )
        if source.startswith("data:image/png;base64,"):
            opened = io.BytesIO(base64.b64decode(source.split(",", 1)[1]))
            name = "an inline figure"
        else:
            opened = unquote(urlparse(source).path)
        with Image.open(opened) as picture:
            record = picture.text if hasattr(picture, "text") else {}
        if FONT_KEY not in record or WIDTH_KEY not in record:
            problems.append(
                f"{page}: {name} has no record of its text size (not shown by dfp.plots)"
            )
            continue
        css_px = float(record[FONT_KEY]) / 72 * shown_width / float(record[WIDTH_KEY])
        if css_px < SMALLEST_CSS_PX:
            problems.append(
                f"{page}: {name}'s smallest text shows at {css_px:.1f} CSS px (< {SMALLEST_CSS_PX})"
            )
    return problems


# Reads the page as a reader sees it: the article's text without code, its figures as shown.
READ_PAGE = """
const article = document.querySelector('article') || document.body;
const prose = article.cloneNode(true);
prose.querySelectorAll('pre, code, .highlight, .sig, script, style').forEach(e => e.remove());
const parameters = Array.from(article.querySelectorAll('strong'))
    .filter(s => s.textContent.trim() === 'Parameters this page ran with')
    .map(s => {
        const output = s.closest('.cell_output, .output, div.cell')
            || s.parentElement.parentElement;
        const table = output.querySelector('table');
        return table ? table.querySelectorAll('tbody tr').length : -1;
    });
return {
    images: Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0]),
    figures: Array.from(article.querySelectorAll('img'))
        .filter(i => /\\.(png|svg)$|^data:image\\//.test(i.src))
        .map(i => [i.src, i.getBoundingClientRect().width, i.naturalWidth]),
    math: document.querySelectorAll('mjx-container').length,
    mathErrors: document.querySelectorAll('mjx-merror').length,
    rawMath: document.querySelectorAll('.math:not(:has(mjx-container))').length,
    remoteScripts: Array.from(document.scripts)
        .filter(s => s.src.includes('mathjax') && !s.src.startsWith('file:')).length,
    text: document.body.innerText,
    prose: prose.innerText,
    parameters: parameters,
};
"""


def page_problems(page, state, claims):
    """Everything a reader would find wrong on one page, as sentences."""
    problems = []
    broken = [src for src, ok in state["images"] if not ok]
    if broken:
        problems.append(f"{page}: images not loaded: {broken}")
    if page.startswith("notebooks/") and not state["figures"]:
        problems.append(f"{page}: no figure shown")
    # Every formula typeset (none left as raw TeX, none in error), and these pages show some.
    if state["mathErrors"] or state["rawMath"]:
        problems.append(f"{page}: math not rendered")
    if page in ("book/intro", "book/method", "notebooks/fig8") and not state["math"]:
        problems.append(f"{page}: no typeset math")
    if state["remoteScripts"]:
        problems.append(f"{page}: MathJax is loaded from the internet")
    for sign in ("Traceback", "Error:", "No key"):
        if sign in state["text"]:
            problems.append(f"{page} shows {sign!r}")
    # Markdown that was not rendered: table rows and rules as pipes in the prose.
    raw = re.findall(r"\|\s*:?-{3,}:?\s*\||(?:^|\n)\s*\|[^\n]*\|\s*\|", state["prose"])
    if raw:
        problems.append(f"{page}: raw Markdown table syntax in the text: {raw[:2]}")
    if page.startswith("notebooks/"):
        if not state["parameters"]:
            problems.append(f"{page}: no 'Parameters this page ran with'")
        elif min(state["parameters"]) < 1:
            problems.append(f"{page}: the parameters are not rendered as an HTML table")
    # Verdicts in words: no Python bools in the prose, and each claim's verdict stated.
    bools = re.findall(r"[^\n]{0,40}\b(?:True|False)\b[^\n]{0,20}", state["prose"])
    if bools:
        problems.append(f"{page}: verdicts read as Python: {bools[:3]}")
    for claim in claims:
        if not re.search(rf"{claim} ({VERDICT})", state["prose"]):
            problems.append(f"{page}: {claim}'s verdict is not stated in words")
    problems += figure_problems(page, state["figures"])
    return problems


def test_every_page_in_headless_chromium(built_book, tmp_path):
    """Each page as a reader sees it at a laptop's width: rendered, legible, sharp, in words."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    from tests.test_notebooks import EXPECTED_CLAIMS

    chromium, chromedriver = browser_binaries()
    options = Options()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={LAPTOP[0]},{LAPTOP[1]}",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    html = built_book[1] / "_build" / "html"
    pages = (
        [
            "book/intro",
            "book/method",
            "book/measure",
            "book/report",
            "book/sources",
            "book/reference",
        ]
        + [f"notebooks/{py.stem}" for py in sources()]
        + [f"sweeps/{name}" for name in ("depth", "activation_loss", "delta", "pair")]
    )
    problems = []
    try:
        for page in pages:
            driver.get((html / f"{page}.html").as_uri())
            # Wait for MathJax to finish typesetting (it loads from the book's own _static).
            driver.set_script_timeout(30)
            driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "(window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve())"
                ".then(() => done(true));"
            )
            state = driver.execute_script(READ_PAGE)
            height = driver.execute_script("return document.body.scrollHeight")
            driver.set_window_size(LAPTOP[0], max(LAPTOP[1], min(height, 12000)))
            driver.save_screenshot(str(SCREENSHOTS / f"{page.replace('/', '_')}.png"))
            driver.set_window_size(*LAPTOP)
            claims = sorted(EXPECTED_CLAIMS.get(page.split("/")[1], set()))
            problems += page_problems(page, state, claims)
    finally:
        driver.quit()
    assert not problems, "\n".join(problems)
