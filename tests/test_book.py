"""The book builds through the workflow, with the project's own configuration, renders its
sweeps, rebuilds nothing when nothing changed, and shows every page in a real browser.

Each build is of a copy of the repository's workflow inputs in a temporary folder: the
workflow (workflow/Snakefile) executes every notebook at its tiny profile, two at a time,
and runs a two-point sweep; then the same `make render` that `make book` uses renders it.
The tests of a built book are slow; those of the book's text and of its extensions
(book/_ext) are not.
"""

import base64
import contextlib
import importlib.util
import io
import os
import re
import shutil
import subprocess
from html import unescape
from urllib.parse import unquote, urlparse

import pytest
import yaml

from dfp import results, sweeps
from dfp.claims import CLAIMS
from dfp.parameters import PROFILES, notebook_parameters, profile_file, shared_run
from tests.notebooks import ROOT, sources
from tests.test_results import PROVENANCE, executed_notebook
from tests.test_workflow import jobs, repository, snakemake, two_point_sweep

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
def built_book(tmp_path_factory):  # slow: the tests that use it are marked so
    """The whole book at the tiny profile, with a two-point sweep run for real beside the
    committed ones; (repository copy, work folder)."""
    base = tmp_path_factory.mktemp("book")
    root = repository(base / "repo")
    # The workflow page (book/workflow.md) draws the Makefile's commands.
    shutil.copy(ROOT / "Makefile", root)
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


@pytest.mark.slow
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
        verdict = rf"pasted-text\">[✓✗◐?]</span> <span class=\"pasted-text\">({VERDICT})</span>"
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


@pytest.mark.slow
def test_a_committed_result_is_shown_on_its_page_and_in_the_report(built_book):
    root, work = built_book
    html = work / "_build" / "html"
    page = (html / "notebooks" / "fig3.html").read_text()
    assert "The paper profile" in page and "C3: ✓ reproduces" in page
    assert "commit 0123456789ab" in page and "Produced by older training code" in page
    report = (html / "book" / "report.html").read_text()
    first_table = report[report.index("<table") : report.index("</table>")]
    row = next(r for r in first_table.split("<tr") if "fig3.html" in r and ">C3<" in r)
    # C3 at its largest scale: the committed paper result, its verdict, its source (the page
    # that shows the committed result).
    assert "✓ reproduces" in row and ">paper run<" in row, row
    assert "– · ✓" in row  # the ladder: no medium run, the paper run reproduces
    # Rendered from the committed notebook: the workflow never executed it.
    assert not list((work / "_build").glob("results/**/*.ipynb"))


@pytest.mark.slow
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
VERDICT = (
    r"(?:reproduces in part: \(\d\)(?:(?:, | and )\(\d\))* of \w+|does not reproduce|reproduces)"
    r"(?:; \(\d\)(?:(?:, | and )\(\d\))* not resolved)?|not resolved at this scale"
)
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


@pytest.mark.slow
def start_chromium(profile):
    """Headless Chromium at a laptop's window size, through ChromeDriver (selenium).

    Args:
        profile: a folder for the browser's profile.

    Returns:
        The selenium driver; the caller quits it.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

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
        f"--user-data-dir={profile}",
        f"--window-size={LAPTOP[0]},{LAPTOP[1]}",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(chromedriver))


@pytest.mark.slow
def test_every_page_in_headless_chromium(built_book, tmp_path):
    """Each page as a reader sees it at a laptop's width: rendered, legible, sharp, in words."""
    from tests.test_notebooks import EXPECTED_CLAIMS

    driver = start_chromium(tmp_path / "profile")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    html = built_book[1] / "_build" / "html"
    pages = (
        [
            "book/intro",
            "book/method",
            "book/measure",
            "book/report",
            "book/sources",
            "book/workflow",
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


# --- room to read: wide pages, tables and code that fit, glued text in the text's weight -----

# The pages of wide tables (dfp_wide_pages in _config.yml): no contents column, no table that
# scrolls sideways. "sweeps/pair" is the test's own sweep.
WIDE_PAGES = ["book/report"] + [f"sweeps/{name}" for name in ("depth", "activation_loss", "delta")]

# What each wide page's layout looks like to a reader at a laptop's width.
READ_LAYOUT = """
const article = document.querySelector('.bd-article-container');
const box = article ? article.getBoundingClientRect() : {right: 0, width: 0};
const scrolls = e => e.scrollWidth > e.clientWidth + 1;
const describe = e => (e.innerText || '').trim().slice(0, 60).replace(/\\s+/g, ' ');
return {
    contentsColumn: !!document.querySelector('.bd-sidebar-secondary'),
    articleRight: box.right,
    windowWidth: window.innerWidth,
    pageScrolls: scrolls(document.documentElement),
    tables: Array.from(document.querySelectorAll('article table')).map(t => {
        const holder = t.closest('.pst-scrollable-table-container') || t.parentElement;
        return [describe(t), scrolls(holder) || scrolls(t), t.rows.length];
    }),
    code: Array.from(document.querySelectorAll('article pre'))
        .filter(scrolls).map(describe),
};
"""

# Glued text (MyST-NB's .pasted-text) drawn bold where the text around it is not.
READ_GLUED_WEIGHT = """
return Array.from(document.querySelectorAll('.pasted-text'))
    .filter(e => parseInt(getComputedStyle(e).fontWeight) >= 600
        && parseInt(getComputedStyle(e.parentElement).fontWeight) < 600)
    .map(e => e.textContent.trim().slice(0, 40));
"""


def layout_problems(page, state):
    """What keeps a wide page from reading in full at a laptop's width, as sentences."""
    problems = []
    if state["contentsColumn"]:
        problems.append(f"{page}: has the right-hand contents column")
    # The text runs to the window's right edge, less the article's own padding.
    elif state["articleRight"] < state["windowWidth"] - 48:
        problems.append(
            f"{page}: the text ends at {state['articleRight']:.0f} px of {state['windowWidth']}"
        )
    if state["pageScrolls"]:
        problems.append(f"{page}: the page scrolls sideways")
    problems += [
        f"{page}: the table '{text}' scrolls sideways" for text, s, _ in state["tables"] if s
    ]
    problems += [f"{page}: the code '{text}' scrolls sideways" for text in state["code"]]
    return problems


@pytest.mark.slow
def test_wide_pages_fit_and_glued_text_reads_in_the_text_weight_in_chromium(built_book, tmp_path):
    """At 1280x800: the report's and the sweeps' tables and code fit without scrolling, in the
    full text width; no page draws glued text bold."""
    html = built_book[1] / "_build" / "html"
    driver = start_chromium(tmp_path / "profile")
    problems, tables = [], 0
    try:
        for page in [*WIDE_PAGES, "sweeps/pair"]:
            driver.get((html / f"{page}.html").as_uri())
            state = driver.execute_script(READ_LAYOUT)
            tables += len(state["tables"])
            problems += layout_problems(page, state)
        for path in sorted(html.rglob("*.html")):
            page = path.relative_to(html).with_suffix("").as_posix()
            if page.split("/")[0] not in ("book", "notebooks", "sweeps"):
                continue
            driver.get(path.as_uri())
            bold = driver.execute_script(READ_GLUED_WEIGHT)
            if bold:
                problems.append(f"{page}: glued text drawn bold: {bold[:3]}")
    finally:
        driver.quit()
    assert tables, "no table found on the wide pages"
    assert not problems, "\n".join(problems)


# Where the report's first table ends, in CSS px from the top of the page: its last row.
READ_OVERVIEW_END = """
const table = document.querySelector("article table");
if (!table) { return null; }
const rows = table.querySelectorAll("tbody tr");
const last = rows[rows.length - 1].getBoundingClientRect();
return {rows: rows.length, bottom: last.bottom + window.scrollY, height: window.innerHeight};
"""


@pytest.mark.slow
def test_the_report_answers_its_question_within_two_screens(built_book, tmp_path):
    """At 1280x800 the report's first table, one line per claim at its largest scale, ends
    within the first two screens."""
    html = built_book[1] / "_build" / "html"
    driver = start_chromium(tmp_path / "profile")
    try:
        driver.get((html / "book" / "report.html").as_uri())
        end = driver.execute_script(READ_OVERVIEW_END)
    finally:
        driver.quit()
    assert end is not None, "the report has no table"
    assert end["rows"] == len(CLAIMS), end
    assert end["bottom"] <= 2 * end["height"], (
        f"the claims end {end['bottom']:.0f} px down, more than two screens of {end['height']}"
    )


def test_the_layout_check_finds_a_table_that_scrolls():
    state = {
        "contentsColumn": True,
        "articleRight": 900,
        "windowWidth": 1280,
        "pageScrolls": False,
        "tables": [["claim verdict", True, 3], ["fits", False, 2]],
        "code": ["a long line"],
    }
    problems = layout_problems("book/report", state)
    assert len(problems) == 3, problems
    assert "contents column" in problems[0] and "'claim verdict' scrolls" in problems[1]


# --- no link out of the repository -------------------------------------------------------------

# A link or source that leaves the built book for the machine's files: the shared folder
# beside the repository, or an absolute path.
# Paths outside the repository (the notes beside it written in two parts, so that this file
# itself does not name them: tests/test_sources.py reads every tracked file).
NOTES = "shared" + "/"
OUTSIDE = re.compile(rf"\.\./{NOTES}|{NOTES}paper|^/(?!/)|^file:|^[A-Za-z]:[\\\\/]")


def outside_links(page_html):
    """The href and src values of a page that point outside the repository."""
    return [
        value
        for value in re.findall(r"""(?:href|src)\s*=\s*["']([^"']*)["']""", page_html)
        if OUTSIDE.search(unquote(value))
    ]


def test_outside_links_are_found():
    page = (
        '<a href="../notebooks/fig3.html">ok</a><img src="../_images/a.png">'
        '<a href="../../' + NOTES + 'paper/x.pdf">a</a><img src="/work/data/x.png">'
        '<a href="file:///tmp/x.html">b</a><a href="https://arxiv.org/abs/2007.14313">c</a>'
    )
    assert outside_links(page) == [
        "../../" + NOTES + "paper/x.pdf",
        "/work/data/x.png",
        "file:///tmp/x.html",
    ]


@pytest.mark.slow
def test_no_built_page_links_outside_the_repository(built_book):
    html = built_book[1] / "_build" / "html"
    found = {
        path.relative_to(html).as_posix(): links
        for path in sorted(html.rglob("*.html"))
        if (links := outside_links(path.read_text(errors="replace")))
    }
    assert not found, found


# --- the intro's numbers: generated from the profiles, or agreeing with the one named ----------

# The parts of a page's Markdown that state no number about a run: code, math, link targets.
NOT_PROSE = re.compile(
    r"```.*?```|\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]*`|\]\([^)\n]*\)|\{\{[^}]*\}\}", re.S
)
# A figure named: "Fig. 3", "Figs. 5-7", "Fig. 1a/1b", "Figs. 6 and 7"; and the paper's year.
FIGURES_NAMED = re.compile(
    r"\bFigs?\.\s*(\d+[a-z]?(?:\s*(?:[-–/,]|and)\s*\d+[a-z]?)*)|\bParity\b|\bparity\b"
)
CITATION = re.compile(r"\bAAAI \d{4}\b|\b[Cc]\d\b")
PROFILE_FILE = re.compile(rf"\b(\w+)\.({'|'.join(PROFILES)})\.yaml\b")
# A number on its own: not part of a name ("float32", "TensorFloat-32", "fig8").
NUMBER = re.compile(r"(?<![\w.-])\d[\d,]*(?:\.\d+)?(?![\w])")
CODE_BLOCK = re.compile(r"```.*?```", re.S)


def named_notebooks(chunk, notebooks):
    """The figure notebooks a piece of text names ("Figs. 5-7": fig5, fig6, fig7)."""
    named = []
    for match in FIGURES_NAMED.finditer(chunk):
        if match.group(1) is None:
            named.append("parity")
            continue
        for token in re.split(r"\s*(?:/|,|and)\s*", match.group(1)):
            ends = re.split(r"\s*[-–]\s*", token)
            if len(ends) == 2 and ends[0].isdigit() and ends[1].isdigit():
                named += [f"fig{n}" for n in range(int(ends[0]), int(ends[1]) + 1)]
            else:
                named.append(f"fig{token}")
    # "Fig. 9a" is a panel of fig9's page.
    return sorted({n if n in notebooks else n.rstrip("ab") for n in named} & set(notebooks))


def defaults_of(notebook, root=ROOT):
    """A notebook's default parameters (its cell tagged ``parameters``)."""
    with contextlib.chdir(root):  # notebook_parameters reads notebooks/<name>.ipynb
        return notebook_parameters(notebook)


def profile_numbers(notebook, profiles, root=ROOT):
    """Every number a notebook runs with under the profiles: values, list items, lengths."""
    defaults = defaults_of(notebook, root)
    numbers = set()

    def add(value):
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            numbers.add(float(value))
        elif isinstance(value, (list, tuple)):
            numbers.add(float(len(value)))
            for item in value:
                add(item)
        elif isinstance(value, dict):
            for item in value.values():
                add(item)

    for profile in profiles:
        values = dict(defaults)
        if profile != "book":
            path = root / profile_file(notebook, profile)
            if not path.exists():
                continue
            values.update(yaml.safe_load(path.read_text()) or {})
        for value in values.values():
            add(value)
    return numbers


def typed_run_numbers(markdown, root=ROOT):
    """The numbers typed in a page's prose that disagree with the profile they name.

    Each paragraph, and each row of a table (with the paragraph before the table for which
    profile it is about), is read apart from code, math and links. A number in it must be
    one the figure it names runs with under the profile it names (a value, a list's item or
    its length), under any profile if it names none; a number that names no figure is a
    problem too, as is a profile file named that does not exist.

    Returns:
        Sentences, one per number that disagrees.
    """
    notebooks = sorted(p.stem for p in (root / "notebooks").glob("*.py"))
    problems, context = [], ""
    for block in re.split(r"\n\s*\n", CODE_BLOCK.sub("", markdown)):
        rows = [line for line in block.splitlines() if line.lstrip().startswith("|")]
        chunks = rows if rows else [block]
        for chunk in chunks:
            files = PROFILE_FILE.findall(chunk)
            for stem, profile in files:
                if not (root / "notebooks" / "params" / f"{stem}.{profile}.yaml").exists():
                    problems.append(f"names {stem}.{profile}.yaml, which does not exist")
            prose = NOT_PROSE.sub(" ", chunk)
            numbers = NUMBER.findall(CITATION.sub(" ", FIGURES_NAMED.sub(" ", prose)))
            if not numbers:
                continue
            # The figures named, in words or by their profile files (a shared run's: all).
            stems = {stem for stem, _ in files}
            named = set(named_notebooks(prose, notebooks))
            named |= {n for n in notebooks if n in stems or shared_run(n) in stems}
            words = set(re.findall(r"[a-z]+", (context + " " + prose).lower()))
            words |= {profile for _, profile in files}
            profiles = [p for p in PROFILES if p in words] or list(PROFILES)
            allowed = set()
            for notebook in named:
                allowed |= profile_numbers(notebook, profiles, root)
            for number in numbers:
                value = float(number.replace(",", ""))
                if not named:
                    problems.append(f"{number} in {chunk.strip()[:70]!r} names no figure")
                elif value not in allowed:
                    problems.append(
                        f"{number} in {chunk.strip()[:70]!r}: not a value of "
                        f"{', '.join(sorted(named))} under {', '.join(profiles)}"
                    )
        if not rows:
            context = NOT_PROSE.sub(" ", block) if "`" in block else block
    return problems


def fake_repository(root, notebooks):
    """A repository of figure notebooks with only their parameters and profile files.

    Args:
        root: an empty folder.
        notebooks: {name: ({parameter: default}, {profile: {parameter: value}})}.

    Returns:
        root.
    """
    import nbformat

    params = root / "notebooks" / "params"
    params.mkdir(parents=True)
    for name, (defaults, profiles) in notebooks.items():
        (root / "notebooks" / f"{name}.py").write_text("")
        cell = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in defaults.items()))
        cell.metadata["tags"] = ["parameters"]
        nbformat.write(nbformat.v4.new_notebook(cells=[cell]), root / "notebooks" / f"{name}.ipynb")
        for profile, values in profiles.items():
            (params / f"{name}.{profile}.yaml").write_text(yaml.safe_dump(values))
    return root


def test_the_intro_check_finds_numbers_that_disagree_with_their_profile(tmp_path):
    """The table the intro once typed: Fig. 1's depths and Fig. 3's sizes were not the
    paper profile's; the rest was."""
    root = fake_repository(
        tmp_path,
        {
            "fig1a": (
                {"hidden_layers": [1, 2], "seeds": [0], "max_epochs": 40000},
                {
                    "paper": {
                        "hidden_layers": [3, 4, 5, 6, 7],
                        "seeds": [0, 1, 2, 3, 4],
                        "max_epochs": 100000,
                    }
                },
            ),
            "fig1b": (
                {"frequencies": [1, 2], "seeds": [0], "max_epochs": 20000},
                {"paper": {"frequencies": list(range(1, 9)), "max_epochs": 100000}},
            ),
            "fig3": (
                {"num_points": 1000, "grid_points": 400},
                {"paper": {"num_points": 1000, "grid_points": 250}},
            ),
            "fig8": ({"max_epochs": 300}, {}),
            "parity": ({"dimension": 10}, {"paper": {"dimension": 12}}),
        },
    )
    old = (
        "The paper-scale profiles (Figs. 5-7 share one, `resnet18.paper.yaml`):\n\n"
        "| figure | paper-scale setting |\n|---|---|\n"
        "| Fig. 1a/1b | 10 depths or 8 frequencies, 5 seeds, a cap of 100,000 epochs |\n"
        "| Fig. 3 | 2,000 points, 1,600 grid values |\n"
        "| Parity | d = 12 |\n"
    )
    problems = typed_run_numbers(old, root)
    flagged = sorted(p.split(" ", 1)[0] for p in problems)
    # resnet18.paper.yaml is named, and this repository has none.
    assert flagged == ["1,600", "10", "2,000", "names"], problems
    assert typed_run_numbers("Fig. 8 runs 300 epochs by default.", root) == []
    assert typed_run_numbers("Fig. 8 runs 400 epochs by default.", root) != []
    assert typed_run_numbers("The run takes 7 hours.", root)[0].endswith("names no figure")


def test_the_intro_states_no_number_that_disagrees_with_the_profile_it_names():
    problems = typed_run_numbers((ROOT / "book" / "intro.md").read_text())
    assert not problems, "book/intro.md:\n" + "\n".join(problems)


def test_the_intro_papermill_examples_set_parameters_the_notebook_has():
    intro = (ROOT / "book" / "intro.md").read_text()
    commands = re.findall(r"papermill notebooks/(\w+)\.ipynb ([^\n]*)", intro)
    assert commands, "the intro shows no papermill command"
    for notebook, command in commands:
        names = re.findall(r"-p (\w+)", command)
        if notebook == "figN":  # a placeholder
            continue
        parameters = defaults_of(notebook)
        assert set(names) <= set(parameters), f"{command}: {set(names) - set(parameters)}"


# --- the book's extensions (book/_ext), without building the book ------------------------------


def extension(name):
    """A module of book/_ext, imported as Sphinx imports it."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "book" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def profile_table_cells(table, shown):
    """The profile table's cells: {(profile stem, parameter): {profile: cell text}}."""
    cells, stem = {}, None
    for row in table.splitlines()[2:]:
        figure, name, *values = (cell.strip() for cell in row.strip().strip("|").split(" | "))
        if figure:
            notebook = re.search(r"\.\./notebooks/(\w+)\.ipynb", figure).group(1)
            stem = shared_run(notebook) or notebook
        cells[stem, name.strip("`")] = dict(zip(["book", *shown], values, strict=True))
    return cells


def test_the_profile_table_shows_every_value_each_profile_sets():
    profiles = extension("dfp_profiles")
    table = profiles.profile_table(ROOT)
    assert "{" not in table
    cells = profile_table_cells(table, profiles.SHOWN)
    for path in sorted((ROOT / "notebooks" / "params").glob("*.yaml")):
        stem, profile = path.stem.split(".")
        if profile not in profiles.SHOWN:
            continue
        for name, value in (yaml.safe_load(path.read_text()) or {}).items():
            shown = cells.get((stem, name), {}).get(profile)
            assert shown == profiles.cell(value), f"{path.name}: {name}: {value!r}, shown {shown}"
    # The defaults, from each figure's notebook.
    for (stem, name), row in cells.items():
        notebook = group_of(stem)[0]
        assert row["book"] == profiles.cell(defaults_of(notebook)[name]), (stem, name)


def group_of(stem):
    """The notebooks whose run a profile stem is: a shared run's, or the one notebook."""
    from dfp.parameters import SHARED

    return SHARED[stem]["notebooks"] if stem in SHARED else (stem,)


def test_the_profile_table_names_figures_as_the_book_does():
    profiles = extension("dfp_profiles")
    assert profiles.figure_label(("fig1a",)) == "Fig. 1a"
    assert profiles.figure_label(("fig5", "fig6", "fig7")) == "Figs. 5, 6, 7"
    assert profiles.figure_label(("parity",)) == "Parity"


RULEGRAPH = """digraph snakemake_dag {
    graph[bgcolor=white, margin=0];
	0[label = "sweep", color = "0.33 0.6 0.85", style="rounded"];
	1[label = "sweep_point", color = "0.50 0.6 0.85", style="rounded"];
	2[label = "sweep_summary", color = "0.58 0.6 0.85", style="rounded"];
	1 -> 0
	2 -> 0
	1 -> 2
	1 -> 1
}
"""

DRY_RUN = """Building DAG of jobs...
[Sun Dec  6 04:04:05 2026]
rule result:
    input: {root}/notebooks/fig8.ipynb, {root}/requirements.lock
    output: {root}/results/paper/fig8.ipynb, {root}/results/paper/fig8.summary.json
    log: _build/results/paper/fig8.log
    jobid: 1
    wildcards: name=fig8
    resources: tmpdir=/tmp, gpu=0
[Sun Dec  6 04:04:05 2026]
localrule results:
    input: {root}/results/paper/fig8.summary.json
    jobid: 0
"""


def test_the_rule_graph_reads_the_makefile_and_snakemakes_output():
    graph = extension("dfp_rulegraph")
    commands = {c["target"]: c for c in graph.workflow_commands((ROOT / "Makefile").read_text())}
    assert list(commands) == ["book", "sweep", "results"]
    assert commands["book"]["config"] == ["profile=book"]
    assert commands["book"]["then"] == [("render", "jupyter-book build")]
    assert commands["sweep"]["command"] == "make sweep SWEEP=depth"
    assert commands["results"]["config"] == ["profile=paper", "results=fig8"]
    # The examples are of this repository: a sweep file and a figure notebook.
    assert (ROOT / "sweeps" / "depth.yaml").exists() and (ROOT / "notebooks" / "fig8.py").exists()
    boxes, edges = graph.parse_dot(RULEGRAPH)
    assert [label for label, _ in boxes.values()] == [["sweep"], ["sweep_point"], ["sweep_summary"]]
    assert graph.layers(list(boxes), edges) == {"0": 2, "1": 0, "2": 1}
    jobs = graph.dry_run_jobs(DRY_RUN.format(root=ROOT), ROOT)
    assert jobs == {
        "result": [
            ({"name": "fig8"}, ["results/paper/fig8.ipynb", "results/paper/fig8.summary.json"])
        ],
        "results": [({}, [])],
    }
    assert (
        graph._writes(jobs["result"])
        == "`results/paper/{name}.ipynb`, `results/paper/{name}.summary.json`"
    )
    svg = graph.draw([{**commands["sweep"], "then": []}], {"sweep": (boxes, edges)})
    assert svg.startswith("<svg") and 'class="dfp-rule-graph"' in svg
    assert all(f">{rule}<" in svg for rule in ("sweep", "sweep_point", "sweep_summary"))


def test_wide_pages_match_their_patterns():
    layout = extension("dfp_layout")
    patterns = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"][
        "dfp_wide_pages"
    ]
    assert all(layout.is_wide(page, patterns) for page in WIDE_PAGES)
    assert not layout.is_wide("book/intro", patterns)
    assert not layout.is_wide("notebooks/fig3", patterns)


@pytest.mark.slow
def test_the_workflow_page_and_the_intro_table_are_generated(built_book):
    root, work = built_book
    html = work / "_build" / "html"
    page = (html / "book" / "workflow.html").read_text()
    assert '<svg class="dfp-rule-graph"' in page or 'class="dfp-rule-graph"' in page
    words = re.sub(r"<[^>]+>", " ", page)
    for command in ("make book", "make sweep SWEEP=depth", "make results PROFILE=paper FIG=fig8"):
        assert command in words, command
    for rule in ("execute", "sweep_page", "assemble", "sweep_point", "result"):
        assert f">{rule}<" in page, rule
    intro = (html / "book" / "intro.html").read_text()
    assert "{{" not in intro and "profile_table" not in intro
    table = re.sub(r"<[^>]+>", " ", intro[intro.index("book (defaults)") :])
    table = re.sub(r"\s+", " ", unescape(table))
    cell = extension("dfp_profiles").cell
    for path in sorted((root / "notebooks" / "params").glob("*.paper.yaml")):
        for name, value in (yaml.safe_load(path.read_text()) or {}).items():
            assert f"{name} " in table and cell(value).replace("`", "") in table, (path, name)
