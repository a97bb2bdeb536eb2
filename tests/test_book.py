"""The book builds with the project's own configuration, fails when a notebook raises, and
shows every page in a real browser.

Each build is of a copy of the book (config, TOC, pages, notebooks) in a temporary folder,
with the notebooks' parameters set to their tiny profile by papermill, through the same
`make render` that `make book` uses.
"""

import re
import shutil
import subprocess

import nbformat
import papermill
import pytest
import yaml

from tests.notebooks import ROOT, params, sources

pytestmark = pytest.mark.slow
SCREENSHOTS = ROOT / "_build" / "screenshots"


def book_copy(folder, only=None):
    """A copy of the book in ``folder``; ``only``: keep just these notebooks in the TOC."""
    folder.mkdir()
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    if only is not None:
        toc = {"format": toc["format"], "root": toc["root"], "chapters": [{"file": f"notebooks/{n}"} for n in only]}
    (folder / "_toc.yml").write_text(yaml.safe_dump(toc))
    shutil.copytree(ROOT / "book", folder / "book", ignore=shutil.ignore_patterns("__pycache__"))
    if only is not None:
        # The real intro links to the method and report pages, which a partial book lacks.
        (folder / "book" / "intro.md").write_text("# A partial copy of the book\n")
    (folder / "notebooks").mkdir()
    for py in sources():
        if only is None or py.stem in only:
            papermill.execute_notebook(
                str(py.with_suffix(".ipynb")),
                str(folder / "notebooks" / f"{py.stem}.ipynb"),
                parameters=params(py.stem, "tiny"),
                prepare_only=True,
                kernel_name="python3",
            )
    return folder


def render(book):
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "render", f"BOOK_DIR={book}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def executed(log):
    return re.findall(r"Executed notebook in", log)


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    book = book_copy(tmp_path_factory.mktemp("book") / "copy")
    code, log = render(book)
    assert code == 0, log[-6000:]
    return book


def test_whole_book_builds_with_every_figure_and_verdict(built_book):
    html = built_book / "_build" / "html"
    for py in sources():
        page = (html / "notebooks" / f"{py.stem}.html").read_text()
        assert re.search(r"<img [^>]*src=\"[^\"]+\.png\"", page), f"{py.stem}: no figure"
        assert "Parameters this page ran with" in page, f"{py.stem}: no parameters table"
    report = (html / "book" / "report.html").read_text()
    for claim in ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "parity"):
        row = re.search(rf"<td[^>]*><p>{claim}</p></td>(.*?)</tr>", report, re.S)
        assert row, f"report has no row for {claim}"
        assert re.search(r"pasted-text\">(True|False)</span>", row.group(1)), f"{claim}: verdict not glued"
    assert "git commit" in report and "{{" not in report


def test_unchanged_book_is_served_from_cache_and_a_dfp_change_reexecutes(tmp_path):
    book = book_copy(tmp_path / "small", only=["fig3"])
    code, log = render(book)
    assert code == 0 and executed(log), log[-5000:]
    code, log = render(book)
    assert code == 0, log[-5000:]
    assert not executed(log), "an unchanged book re-executed its notebooks"
    # The cached outputs were computed by other dfp code: everything runs again.
    (book / "_build/dfp-fingerprint").write_text("an older dfp\n")
    code, log = render(book)
    assert code == 0, log[-5000:]
    assert executed(log), "a change to dfp did not re-execute the notebooks"


def test_book_build_fails_when_a_notebook_raises(tmp_path):
    book = book_copy(tmp_path / "failing", only=["fig3"])
    path = book / "notebooks" / "fig3.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(1, nbformat.v4.new_code_cell("raise RuntimeError('deliberate failure')"))
    nbformat.write(notebook, path)
    code, log = render(book)
    assert code != 0, "the book built although a notebook raised"
    assert "deliberate failure" in log


def test_every_page_in_headless_chromium(built_book, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    html = built_book / "_build" / "html"
    pages = ["book/intro", "book/method", "book/report"] + [f"notebooks/{py.stem}" for py in sources()]
    try:
        for page in pages:
            driver.get((html / f"{page}.html").as_uri())
            # Wait for MathJax to finish typesetting (it loads from the book's own _static).
            driver.set_script_timeout(30)
            driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "(window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve()).then(() => done(true));"
            )
            state = driver.execute_script(
                "return {images: Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0]),"
                " math: document.querySelectorAll('mjx-container').length,"
                " mathErrors: document.querySelectorAll('mjx-merror').length,"
                " rawMath: document.querySelectorAll('.math:not(:has(mjx-container))').length,"
                " remoteScripts: Array.from(document.scripts).filter(s => s.src.includes('mathjax') && !s.src.startsWith('file:')).length,"
                " text: document.body.innerText}"
            )
            driver.save_screenshot(str(SCREENSHOTS / f"{page.replace('/', '_')}.png"))
            broken = [src for src, ok in state["images"] if not ok]
            assert not broken, f"{page}: images not loaded: {broken}"
            if page.startswith("notebooks/"):
                assert any(src.endswith(".png") for src, _ in state["images"]), f"{page}: no figure shown"
            # Every formula typeset (none left as raw TeX, none in error), and these pages,
            # which are full of equations, show some.
            assert state["mathErrors"] == 0 and state["rawMath"] == 0, f"{page}: math not rendered"
            if page in ("book/intro", "book/method", "notebooks/fig8"):
                assert state["math"] > 0, f"{page}: no typeset math"
            assert state["remoteScripts"] == 0, f"{page}: MathJax is loaded from the internet"
            for sign in ("Traceback", "Error:", "No key"):
                assert sign not in state["text"], f"{page} shows {sign!r}"
    finally:
        driver.quit()
