"""The book builds with the project's own configuration, and fails when a notebook raises.

Each test builds a copy of the book (config, TOC, pages, notebooks) in a temporary folder,
with the notebooks' parameters set to their tiny profile by papermill, through the same
`make render` that `make book` uses.
"""

import re
import shutil
import subprocess

import nbformat
import papermill
import pytest

from tests.notebooks import ROOT, params, sources

pytestmark = pytest.mark.slow


def book_copy(tmp_path):
    book = tmp_path / "book-copy"
    book.mkdir()
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, book / name)
    shutil.copytree(ROOT / "book", book / "book", ignore=shutil.ignore_patterns("__pycache__"))
    (book / "notebooks").mkdir()
    for py in sources():
        papermill.execute_notebook(
            str(py.with_suffix(".ipynb")),
            str(book / "notebooks" / f"{py.stem}.ipynb"),
            parameters=params(py.stem, "tiny"),
            prepare_only=True,
            kernel_name="python3",
        )
    return book


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


def test_book_builds_shows_figures_and_verdicts_and_reexecutes_after_a_dfp_change(tmp_path):
    book = book_copy(tmp_path)
    code, log = render(book)
    assert code == 0, log[-5000:]
    assert executed(log), "the first build executed no notebook"
    html = (book / "_build/html/notebooks/fig3.html").read_text()
    assert re.search(r"<img [^>]*src=\"[^\"]+\.png\"", html), "Fig. 3 page shows no figure"
    assert "RDF peak 1/δ by k" in html, "C3's statistic is not glued into the page"
    assert re.search(r"C3 holds: <span class=\"pasted-text\">(True|False)</span>", html)

    # Nothing changed: served from the execution cache.
    code, log = render(book)
    assert code == 0, log[-5000:]
    assert not executed(log), "an unchanged book re-executed its notebooks"

    # The outputs were computed by other dfp code: everything runs again.
    (book / "_build/dfp-fingerprint").write_text("an older dfp\n")
    code, log = render(book)
    assert code == 0, log[-5000:]
    assert executed(log), "a change to dfp did not re-execute the notebooks"


def test_book_build_fails_when_a_notebook_raises(tmp_path):
    book = book_copy(tmp_path)
    path = book / "notebooks" / f"{sources()[0].stem}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(1, nbformat.v4.new_code_cell("raise RuntimeError('deliberate failure')"))
    nbformat.write(notebook, path)
    code, log = render(book)
    assert code != 0, "the book built although a notebook raised"
    assert "deliberate failure" in log
