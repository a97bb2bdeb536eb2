"""The workflow (workflow/Snakefile) runs the notebooks through papermill under a profile."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.notebooks import ROOT, sources

SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def snakemake(root, workdir, *args):
    command = [SNAKEMAKE, "-s", str(root / "workflow" / "Snakefile"), "--directory", str(workdir)]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, check=False, timeout=900
    )


@pytest.mark.parametrize("profile", ["book", "tiny", "paper"])
def test_the_dry_run_lists_one_job_per_notebook(tmp_path, profile):
    done = snakemake(ROOT, tmp_path, "-n", "--config", f"profile={profile}")
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = done.stdout + done.stderr
    assert f"execute       {len(sources())}" in jobs, jobs[-2000:]


def test_an_unknown_profile_is_refused(tmp_path):
    done = snakemake(ROOT, tmp_path, "-n", "--config", "profile=huge")
    assert done.returncode != 0 and "unknown profile 'huge'" in done.stdout + done.stderr


@pytest.mark.slow
def test_a_notebook_runs_once_and_again_after_a_change_to_dfp(tmp_path):
    # A copy of what the workflow reads, so that touching a dfp source touches no one else's.
    root = tmp_path / "repo"
    for name in ("workflow", "notebooks", "dfp"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "requirements.lock", root)
    work = tmp_path / "work"
    run = ("--cores", "2", "--config", "profile=tiny", "notebooks=[fig3]")
    first = snakemake(root, work, *run)
    assert first.returncode == 0, first.stderr[-3000:]
    executed = work / "_build" / "executed" / "tiny" / "fig3.ipynb"
    assert executed.exists() and (executed.parent / "fig3.log").exists()
    again = snakemake(root, work, *run)
    assert "Nothing to be done" in again.stdout + again.stderr
    # A new modification time alone reruns nothing (Snakemake compares checksums too) ...
    (root / "dfp" / "plots.py").touch()
    assert "Nothing to be done" in snakemake(root, work, *run, "-n").stdout
    # ... a changed source does: an executed notebook depends on all of dfp.
    with open(root / "dfp" / "plots.py", "a") as source:
        source.write("\n# changed\n")
    changed = snakemake(root, work, *run, "-n")
    assert "execute        1" in changed.stdout, changed.stdout[-2000:]
