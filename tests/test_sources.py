"""The book cites its sources in its own words: nothing a reader clones points outside it."""

import subprocess

from tests.notebooks import ROOT

# Paths of the project's private notes beside a checkout, which a reader does not have.
OUTSIDE = ("shared/paper", "FACTS.md", "LAB_NOTES.md")


def test_no_page_profile_or_source_refers_to_notes_outside_the_repository():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    # Committed results are records of past runs, kept as they ran.
    readable = [
        path
        for path in tracked
        if path.endswith((".py", ".md", ".yaml", ".yml", ".toml", ".ipynb"))
        and not path.startswith("results/")
        and path != "tests/test_sources.py"
    ]
    found = [
        f"{path}: {needle}"
        for path in readable
        for needle in OUTSIDE
        if needle in (ROOT / path).read_text(errors="replace")
    ]
    assert not found, f"refer to {OUTSIDE[0]}/ instead of book/sources.md: {found}"
    assert (ROOT / "book" / "sources.md").exists()
