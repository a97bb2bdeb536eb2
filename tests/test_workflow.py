"""The workflow (workflow/Snakefile): notebooks through papermill under a profile, sweeps,
the book's source, and the profiles that send jobs to GPUs or to SLURM."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.notebooks import ROOT, sources

BIN = Path(sys.executable).parent
SNAKEMAKE = str(BIN / "snakemake")
WITH_GPUS = ROOT / "workflow" / "with-gpus"
# What the workflow reads: a copy of these is a repository of its own.
COPIED = ("workflow", "notebooks", "dfp", "sweeps", "book", "results")


def snakemake(root, workdir, *args, timeout=900):
    command = [SNAKEMAKE, "-s", str(root / "workflow" / "Snakefile"), "--directory", str(workdir)]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def repository(folder):
    """A copy of the repository's workflow inputs, so that a test may change any of them."""
    for name in COPIED:
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("requirements.lock", "_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, folder)
    for summary in (folder / "sweeps").glob("*.summary.json"):
        summary.unlink()
    return folder


def jobs(output, rule):
    """How many jobs of ``rule`` Snakemake's job table lists (0 when none)."""
    for line in output.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == rule and fields[1].isdigit():
            return int(fields[1])
    return 0


def two_point_sweep(root, name="pair", **changes):
    """A sweep of Fig. 8 at its tiny profile over two seeds."""
    spec = {
        "title": "Two seeds",
        "notebook": "fig8",
        "profile": "tiny",
        "fixed": {"max_epochs": 2, "stop_loss": None},  # two epochs, judged as they are
        "grid": {"seed": [0, 1]},
        "claims": ["C7"],
        "axes": ["seed"],
        "resources": {"threads": 1, "mem_mb": 2000, "gpus": 0, "runtime": 10},
        **changes,
    }
    (root / "sweeps" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    return spec


@pytest.mark.slow  # Snakemake parses the workflow: seconds a run
@pytest.mark.parametrize("profile", ["book", "tiny", "paper"])
def test_the_dry_run_lists_one_job_per_notebook_and_page(tmp_path, profile):
    done = snakemake(ROOT, tmp_path, "-n", "--config", f"profile={profile}")
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert jobs(output, "execute") == len(sources()), output[-2000:]
    assert jobs(output, "sweep_page") == len(list((ROOT / "sweeps").glob("*.yaml")))
    assert jobs(output, "execute_page") == 2  # book/method.md and book/measure.md hold code
    # The book never starts a sweep's points, nor a long run kept in results/.
    assert jobs(output, "sweep_point") == 0
    assert jobs(output, "result") == 0


@pytest.mark.slow  # Snakemake parses the workflow: seconds a run
def test_a_long_run_is_made_only_when_asked_for_and_of_a_larger_profile(tmp_path):
    asked = ("--config", "profile=paper", "results=fig3,fig8", "--forcerun", "result")
    done = snakemake(ROOT, tmp_path, "-n", *asked)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert jobs(output, "result") == 2 and jobs(output, "execute") == 0
    for config, message in [
        (("profile=book", "results=fig3"), "results are of a larger profile"),
        (("profile=paper", "results=fig99"), "unknown figure 'fig99'"),
        (("profile=medium", "results=fig3"), "fig3 has no medium profile"),
    ]:
        done = snakemake(ROOT, tmp_path, "-n", "--config", *config)
        assert done.returncode != 0 and message in done.stdout + done.stderr, config


@pytest.mark.slow  # Snakemake parses the workflow: seconds a run
def test_an_unknown_profile_or_sweep_is_refused(tmp_path):
    done = snakemake(ROOT, tmp_path, "-n", "--config", "profile=huge")
    assert done.returncode != 0 and "unknown profile 'huge'" in done.stdout + done.stderr
    done = snakemake(ROOT, tmp_path, "-n", "--config", "sweep=nosuch")
    assert done.returncode != 0 and "unknown sweep 'nosuch'" in done.stdout + done.stderr


@pytest.mark.slow  # Snakemake parses the workflow: seconds a run
def test_an_unknown_grid_key_is_refused_before_anything_runs(tmp_path):
    root = repository(tmp_path / "repo")
    two_point_sweep(root, grid={"depth_of_network": [2, 3]})
    done = snakemake(root, tmp_path / "work", "--cores", "1", "--config", "sweep=pair")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "grid key 'depth_of_network' is not a parameter of fig8" in output
    assert "hidden_layers" in output  # what is allowed
    assert not (tmp_path / "work" / "_build").exists()


@pytest.mark.slow  # Snakemake parses the workflow: seconds a run
def test_the_shipped_sweeps_list_their_points_and_resources(tmp_path):
    done = snakemake(ROOT, tmp_path, "-n", "--config", "sweep=depth,activation_loss,delta")
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    # 7 depths x 3 seeds; 3 activations x 2 losses x 3 seeds; 2 x 2 x 2 grids x 3 seeds.
    assert jobs(output, "sweep_point") == 21 + 18 + 24
    assert "mem_mb=4000" in output and "runtime=30" in output


@pytest.mark.slow  # Snakemake parses the workflow: seconds a run
def test_the_slurm_profile_dry_run_lists_jobs_with_what_they_would_request(tmp_path):
    done = snakemake(
        ROOT,
        tmp_path,
        "-n",
        "--workflow-profile",
        str(ROOT / "workflow" / "profiles" / "slurm"),
        "--config",
        "profile=paper",
        "sweep=depth",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert jobs(output, "sweep_point") == 21
    blocks = [b for b in output.split("rule ") if b.startswith(("execute:", "sweep_point:"))]
    assert blocks
    for block in blocks:
        for resource in ("gpu=1", "cpus_per_task=8", "mem_mb=", "runtime=", "slurm_partition="):
            assert resource in block, block[-600:]


def test_with_gpus_gives_parallel_jobs_different_devices_and_hides_them_from_cpu_jobs(tmp_path):
    environment = {**os.environ, "DFP_GPUS": "0,1", "DFP_GPU_LOCKS": str(tmp_path / "locks")}
    show = ["bash", "-c", 'echo "[$CUDA_VISIBLE_DEVICES]"']
    # Each job, once it holds its GPU, waits for the other to hold one too (for at most two
    # minutes): the two hold their GPUs at the same time however fast the machine starts them.
    met = tmp_path / "met"
    met.mkdir()
    meet = f'touch "{met}/$$"; for _ in $(seq 1200); do'
    meet += f' (( $(ls "{met}" | wc -l) >= 2 )) && break; sleep 0.1; done'
    together = ["bash", "-c", f'{meet}; echo "[$CUDA_VISIBLE_DEVICES]"']
    running = [
        subprocess.Popen(
            [WITH_GPUS, "1", *together], env=environment, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    seen = sorted(p.communicate(timeout=300)[0].strip() for p in running)
    assert seen == ["[0]", "[1]"]
    hidden = subprocess.run(
        [WITH_GPUS, "0", *show], env=environment, capture_output=True, text=True
    )
    assert hidden.stdout.strip() == "[]"
    too_many = subprocess.run(
        [WITH_GPUS, "3", *show], env=environment, capture_output=True, text=True
    )
    assert too_many.returncode != 0 and "3 GPUs asked for" in too_many.stderr


@pytest.mark.slow
def test_a_sweep_runs_in_parallel_once_resumes_and_reruns_after_a_dfp_change(tmp_path):
    root = repository(tmp_path / "repo")
    work = tmp_path / "work"
    two_point_sweep(root)
    cell_after_the_parameters(root, "fig8", MEET, tmp_path / "gate")
    run = ("--cores", "2", "--config", "sweep=pair")
    first = snakemake(root, work, *run)
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    summary = json.loads((root / "sweeps" / "pair.summary.json").read_text())
    points = summary["points"]
    assert [p["grid"] for p in points] == [{"seed": 0}, {"seed": 1}]
    for point in points:
        assert point["parameters"]["seed"] == point["grid"]["seed"]  # as papermill recorded
        assert point["parameters"]["max_epochs"] == 2
        assert isinstance(point["claims"]["C7"]["holds"], bool)
        assert set(point["claims"]["C7"]["parts"]) == {"1", "2", "3"}
    assert summary["provenance"]["code"] and summary["provenance"]["packages"]["snakemake"]
    # The two points ran at once (two jobs on two cores): one started before the other ended
    # (each waited in MEET for the other to start; run one after the other, the first would
    # have waited alone and ended before the second started).
    assert (first.stdout + first.stderr).count("rule sweep_point:") == 2
    assert _overlapped(points), points
    # Nothing changed: nothing runs.
    again = snakemake(root, work, *run)
    assert "Nothing to be done" in again.stdout + again.stderr
    # Reordering the grid renames no point: no point runs (the summary, in the new order, is
    # collected again).
    two_point_sweep(root, grid={"seed": [1, 0]})
    reordered = snakemake(root, work, *run, "-n").stdout
    assert jobs(reordered, "sweep_point") == 0 and jobs(reordered, "sweep_summary") == 1
    # A changed dfp source reruns every point (and the summary).
    with open(root / "dfp" / "plots.py", "a") as source:
        source.write("\n# changed\n")
    changed = snakemake(root, work, *run, "-n")
    assert jobs(changed.stdout, "sweep_point") == 2, changed.stdout[-2000:]


def _overlapped(points):
    from datetime import datetime, timedelta

    spans = [
        (datetime.fromisoformat(p["started"]), timedelta(seconds=p["seconds"])) for p in points
    ]
    (a, da), (b, db) = sorted(spans)
    return b < a + da


# A finished sweep point's notebook (not its .failed.ipynb nor its .partial.ipynb).
POINT_NOTEBOOK = "[0-9a-f]" * 12 + ".ipynb"

# A cell put into a copy of a notebook, after its parameters: the second point
# to start holds there, having said so, until the test lets it go (or for at most ten minutes).
HOLD = """
def _hold(gate):
    import pathlib, time
    gate = pathlib.Path(gate)
    started = len(list(gate.glob("started-*")))
    (gate / f"started-{started}").touch()
    if started == 1:
        (gate / "holding").touch()
        deadline = time.monotonic() + 600
        while not (gate / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.1)


_hold(%r)
del _hold
"""


# The same place: each point, once started, waits (for at most five minutes) until two have
# started, so two points that run at once are running at the same moment however fast they are.
MEET = """
def _meet(gate):
    import os, pathlib, time
    gate = pathlib.Path(gate)
    (gate / f"started-{os.getpid()}").touch()
    deadline = time.monotonic() + 300
    while len(list(gate.glob("started-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)


_meet(%r)
del _meet
"""


def cell_after_the_parameters(root, notebook, template, gate):
    """Put ``template`` (HOLD or MEET) on folder ``gate`` into the copy's ``notebook``, after its
    parameters cell (and so after the cell papermill injects there too)."""
    gate.mkdir()
    path = root / "notebooks" / f"{notebook}.ipynb"
    cells = nbformat.read(path, as_version=4)
    tags = [c.get("metadata", {}).get("tags", []) for c in cells.cells]
    (parameters,) = [i for i, t in enumerate(tags) if "parameters" in t]
    cells.cells.insert(parameters + 1, nbformat.v4.new_code_cell(template % str(gate)))
    nbformat.write(cells, path)


def wait_for(condition, what, running, seconds=600):
    """Poll ``condition`` until it holds; fail if ``running`` ends first or time runs out."""
    deadline = time.monotonic() + seconds
    while not condition():
        if running.poll() is not None:
            pytest.fail(f"Snakemake ended before {what}: {running.communicate()[0][-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"not {what} within {seconds} s")
        time.sleep(0.2)


@pytest.mark.slow
def test_an_interrupted_sweep_resumes_where_it_stopped(tmp_path):
    root = repository(tmp_path / "repo")
    work = tmp_path / "work"
    gate = tmp_path / "gate"
    seeds = [0, 1, 2]  # one point finishes, one is running at the interrupt, one never starts
    two_point_sweep(root, grid={"seed": seeds})
    cell_after_the_parameters(root, "fig8", HOLD, gate)
    command = [SNAKEMAKE, "-s", str(root / "workflow" / "Snakefile"), "--directory", str(work)]
    command += ["--cores", "1", "--config", "sweep=pair"]
    # A session of its own, so that Ctrl-C can reach Snakemake and its jobs as a terminal's does.
    running = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    done_folder = work / "_build" / "sweeps" / "pair"
    try:
        # One core: the second point starts once Snakemake has recorded the first as done.
        wait_for((gate / "holding").exists, "the second point started", running)
        finished = {p.name: p.stat().st_mtime for p in done_folder.glob(POINT_NOTEBOOK)}
        assert len(finished) == 1, finished
        os.killpg(running.pid, signal.SIGINT)  # Ctrl-C, while the second point is running
        output = running.communicate(timeout=120)[0]
    finally:
        (gate / "release").touch()  # a held point left behind by a failure ends
        if running.poll() is None:
            os.killpg(running.pid, signal.SIGKILL)
            running.wait()
    assert running.returncode != 0, output[-4000:]
    assert sorted(p.name for p in done_folder.glob(POINT_NOTEBOOK)) == sorted(finished)
    resumed = snakemake(root, work, "--cores", "1", "--config", "sweep=pair")
    output = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, output[-4000:]
    # What had finished is kept; the interrupted point and the one never started run.
    assert output.count("rule sweep_point:") == len(seeds) - 1, output[-4000:]
    for name, mtime in finished.items():
        assert (done_folder / name).stat().st_mtime == mtime
    summary = json.loads((root / "sweeps" / "pair.summary.json").read_text())
    assert [p["grid"]["seed"] for p in summary["points"]] == seeds


@pytest.mark.slow
def test_a_failed_notebook_fails_the_workflow_and_keeps_its_traceback(tmp_path):
    root = repository(tmp_path / "repo")
    path = root / "notebooks" / "fig3.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(1, nbformat.v4.new_code_cell("raise RuntimeError('deliberate failure')"))
    nbformat.write(notebook, path)
    work = tmp_path / "work"
    done = snakemake(root, work, "--cores", "1", "--config", "profile=tiny", "notebooks=[fig3]")
    assert done.returncode != 0
    folder = work / "_build" / "executed" / "tiny"
    assert not (folder / "fig3.ipynb").exists()
    failed = nbformat.read(folder / "fig3.failed.ipynb", as_version=4)
    tracebacks = [o for c in failed.cells for o in c.get("outputs", []) if o.get("ename")]
    assert tracebacks and "deliberate failure" in tracebacks[0]["evalue"]
    assert "deliberate failure" in (folder / "fig3.log").read_text()


@pytest.mark.slow
def test_a_long_run_is_kept_in_results_with_its_summary_and_provenance(tmp_path):
    from dfp import results

    root = repository(tmp_path / "repo")
    for old in (root / "results").glob("*/fig3.*"):
        old.unlink()
    done = snakemake(
        root, tmp_path / "work", "--cores", "2", "--config", "profile=paper", "results=fig3"
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    summary = results.check_result(root / "results" / "paper" / "fig3.summary.json")
    assert summary["parameters"]["k_values"] == [1, 5, 9, 13]  # the paper profile's
    assert summary["claims"]["C3"]["mark"] in ("✓", "✗", "◐")
    assert summary["provenance"]["wall_seconds"] > 0
    assert (tmp_path / "work" / "_build" / "results" / "paper" / "fig3.log").exists()
