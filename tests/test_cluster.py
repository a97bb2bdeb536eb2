"""The workflow on a real SLURM cluster: real sbatch jobs through workflow/profiles/slurm.

A one-node cluster (munged, slurmctld, slurmd from Debian's packages; tests/cluster/slurm.sh)
is started for the session and stopped after it. `make test-cluster` runs this file (CI, after
`make test`); it installs and starts system services, so it runs only when asked for by its
marker (`pytest -m cluster`), never in `make test`. Each level of a workflow costs about 12 s
of the executor plugin's polling, so the workflows here are shallow.
"""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from tests.notebooks import ROOT
from tests.test_workflow import SNAKEMAKE, repository, two_point_sweep

pytestmark = pytest.mark.cluster

SLURM_SH = ROOT / "tests" / "cluster" / "slurm.sh"
CONFIGURATION = [Path("/etc/slurm/slurm.conf"), Path("/etc/slurm/gres.conf")]
# The profile's sizes (8 CPUs and 32 GB a notebook) fitted to this one node: 1 CPU and 2 GB a
# job. The command line replaces the profile's whole set-resources, so its GPU is asked again.
FITTED = [
    "--set-resources",
    "execute:gpu=1",
    "execute:cpus_per_task=1",
    "execute:mem_mb=2000",
    "sweep_point:gpu=1",
    "sweep_point:cpus_per_task=1",
    "--set-threads",
    "execute=1",
    "sweep_point=1",
]
# What a job records of its environment (a cell put after the notebook's parameters).
REPORT = """
import json as _json, os as _os, shutil as _shutil
print("JOB ENVIRONMENT", _json.dumps({
    "python": _shutil.which("python"),
    **{name: _os.environ.get(name) for name in (
        "SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES", "DFP_DATA_DIR", "DFP_CACHE_DIR", "KERAS_BACKEND",
        "DFP_GPUS",
    )},
}))
"""


def daemons():
    """The processes `pgrep 'slurm|munge'` finds that still run (not zombies, which an init
    process reaps in its own time): {pid: "pid state name arguments"}."""
    listed = subprocess.run(
        ["ps", "-eo", "pid=,stat=,comm=,args="], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in listed.splitlines():
        pid, state, name, *_ = line.split()
        if re.search("slurm|munge", name) and not state.startswith("Z"):
            found[pid] = line.strip()
    return found


class Cluster:
    """The one-node cluster of ``slurm.sh run``, up until :meth:`stop`."""

    def __init__(self, log):
        self.before = daemons()
        self.log = log
        with log.open("w") as errors:
            self.supervisor = subprocess.Popen(
                [str(SLURM_SH), "run"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        self.state = self.supervisor.stdout.readline().strip()
        if not self.state:
            self.supervisor.wait(timeout=60)
            pytest.fail(f"the test cluster did not start:\n{log.read_text()[-3000:]}")

    def stop(self):
        """Stop the cluster (its supervisor cancels the jobs, kills its daemons, cleans up)."""
        if self.supervisor.poll() is None:
            self.supervisor.stdin.close()
            self.supervisor.wait(timeout=120)
        return self.supervisor.returncode


@pytest.fixture(scope="session")
def cluster(request, tmp_path_factory):
    expression = request.config.option.markexpr
    if "cluster" not in expression or "not cluster" in expression:
        pytest.skip("installs and starts SLURM and MUNGE: run it by `make test-cluster`")
    up = Cluster(tmp_path_factory.mktemp("cluster") / "slurm.sh.log")
    try:
        yield up
    finally:
        up.stop()


def submitter_environment(tmp_path):
    """The login node's environment: the venv's bin NOT on PATH (a user calling
    .venv/bin/snakemake without activating it), no KERAS_BACKEND, a stray DFP_GPUS and a fresh
    run cache. The profile must give the jobs what they need all the same."""
    bin_folder = str(Path(SNAKEMAKE).parent)
    path = [p for p in os.environ["PATH"].split(os.pathsep) if p and p != bin_folder]
    environment = {**os.environ, "PATH": os.pathsep.join(path), "DFP_GPUS": "5,6"}
    environment.pop("KERAS_BACKEND", None)
    environment["DFP_CACHE_DIR"] = str(tmp_path / "runs")
    assert environment.get("DFP_DATA_DIR"), "the cluster test reads the data from DFP_DATA_DIR"
    return environment


def on_the_cluster(root, work, *args, environment, seconds):
    """Snakemake through the copy's slurm profile; killed (with its process group) after
    ``seconds``: a run that hangs fails the test instead of hanging it.

    Returns:
        (exit status, output, seconds taken).
    """
    command = [SNAKEMAKE, "-s", str(root / "workflow" / "Snakefile"), "--directory", str(work)]
    command += ["--workflow-profile", str(root / "workflow" / "profiles" / "slurm"), *args]
    started = time.monotonic()
    running = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
        start_new_session=True,
    )
    try:
        output = running.communicate(timeout=seconds)[0]
    except subprocess.TimeoutExpired:
        os.killpg(running.pid, signal.SIGKILL)  # a hung Snakemake ignores SIGTERM
        output = running.communicate()[0]
        pytest.fail(f"Snakemake did not end within {seconds} s on the cluster:\n{output[-4000:]}")
    return running.returncode, output, time.monotonic() - started


def submitted(output):
    """{SLURM job id: its SLURM log} of every job Snakemake submitted."""
    found = re.findall(r"submitted with SLURM jobid (\d+) \(log: (\S+)\)", output)
    return {job: Path(log) for job, log in found}


def slurm_jobs():
    """{job id: (state, partition, its GPUs)} of the jobs slurmctld still knows."""
    columns = "JobID:20,State:20,Partition:20,tres-per-job:40"
    listed = subprocess.run(
        ["squeue", "--states=all", "--noheader", "-O", columns],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {job: tuple(rest) for job, *rest in (line.split() for line in listed.splitlines())}


def insert_cell(root, notebook, source):
    """Put a code cell into the copy's ``notebook`` right after its parameters cell."""
    path = root / "notebooks" / f"{notebook}.ipynb"
    cells = nbformat.read(path, as_version=4)
    tags = [c.get("metadata", {}).get("tags", []) for c in cells.cells]
    (parameters,) = [i for i, t in enumerate(tags) if "parameters" in t]
    cells.cells.insert(parameters + 1, nbformat.v4.new_code_cell(source))
    nbformat.write(cells, path)


def job_environment(notebook):
    """What REPORT printed in an executed notebook."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            if text.startswith("JOB ENVIRONMENT "):
                return json.loads(text.removeprefix("JOB ENVIRONMENT "))
    raise AssertionError(f"{notebook} printed no job environment")


def test_a_sweep_and_a_notebook_run_as_sbatch_jobs(cluster, tmp_path):
    root = repository(tmp_path / "repo")
    work = tmp_path / "work"
    two_point_sweep(root)
    insert_cell(root, "fig3", REPORT)
    environment = submitter_environment(tmp_path)
    targets = ["sweep", "_build/executed/tiny/fig3.ipynb"]
    status, output, _ = on_the_cluster(
        root,
        work,
        *FITTED,
        "--config",
        "sweep=pair",
        "profile=tiny",
        "--",
        *targets,
        environment=environment,
        seconds=240,
    )
    assert status == 0, output[-4000:]
    # Three real sbatch jobs (the two points and the notebook), each done in SLURM's books.
    jobs = submitted(output)
    assert len(jobs) == 3, output[-4000:]
    known = slurm_jobs()
    for job in jobs:
        state, partition, gpus = known[job]
        assert (state, partition) == ("COMPLETED", "gpu"), known[job]
        assert gpus == "gres:gpu:1", known[job]  # the profile's GPU, asked of SLURM
    # Their SLURM logs are kept, one per job, each the job's own Snakemake ending well.
    assert {log.parent.parent.name for log in jobs.values()} == {"rule_sweep_point", "rule_execute"}
    for job, log in jobs.items():
        assert log.name == f"{job}.log" and log.is_relative_to(work / ".snakemake" / "slurm_logs")
        assert "1 of 1 steps (100%) done" in log.read_text(), log.read_text()[-3000:]
    # The outputs: two points and the notebook, and the sweep's summary.
    points = sorted((work / "_build" / "sweeps" / "pair").glob("*.ipynb"))
    assert len(points) == 2 and not [p for p in points if "failed" in p.name or "partial" in p.name]
    summary = json.loads((root / "sweeps" / "pair.summary.json").read_text())
    assert [p["grid"] for p in summary["points"]] == [{"seed": 0}, {"seed": 1}]
    for point in summary["points"]:
        assert point["parameters"]["seed"] == point["grid"]["seed"]
        assert point["parameters"]["max_epochs"] == 2
        assert isinstance(point["claims"]["C7"]["holds"], bool)
    assert summary["provenance"]["packages"]["snakemake"]
    # The runs were trained in the run cache the login node named.
    assert list((tmp_path / "runs").iterdir())
    # The job's environment is the profile's, whatever the login node's: the venv first on
    # PATH, the data and the run cache of the login node, its Keras backend, SLURM's GPU.
    seen = job_environment(work / "_build" / "executed" / "tiny" / "fig3.ipynb")
    assert seen["SLURM_JOB_ID"] in jobs
    assert seen["python"] == str(Path(SNAKEMAKE).parent / "python")
    assert seen["DFP_DATA_DIR"] == os.path.abspath(environment["DFP_DATA_DIR"])
    assert seen["DFP_CACHE_DIR"] == str(tmp_path / "runs")
    assert seen["KERAS_BACKEND"] == "tensorflow"
    assert seen["DFP_GPUS"] is None and seen["CUDA_VISIBLE_DEVICES"] in ("0", "1")


def test_a_failed_job_fails_the_run_in_bounded_time_and_keeps_its_notebook_and_log(
    cluster, tmp_path
):
    root = repository(tmp_path / "repo")
    work = tmp_path / "work"
    insert_cell(root, "fig3", "raise RuntimeError('deliberate failure on the cluster')")
    status, output, seconds = on_the_cluster(
        root,
        work,
        *FITTED,
        "--config",
        "profile=tiny",
        "notebooks=[fig3]",
        "--",
        "_build/executed/tiny/fig3.ipynb",
        environment=submitter_environment(tmp_path),
        seconds=150,
    )
    assert status != 0, output[-4000:]
    (job, log), *others = submitted(output).items()
    assert not others
    assert slurm_jobs()[job][0] == "FAILED"
    # Snakemake names the job's SLURM log, which names the failed notebook.
    assert f"SLURM-job '{job}' failed" in output and str(log) in output, output[-4000:]
    folder = work / "_build" / "executed" / "tiny"
    failed = folder / "fig3.failed.ipynb"
    assert f"fig3.ipynb failed: see {failed.relative_to(work)}" in log.read_text()
    # The failed notebook is kept, its traceback in it; no executed notebook is left behind.
    assert not (folder / "fig3.ipynb").exists()
    cells = nbformat.read(failed, as_version=4).cells
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("ename")]
    assert errors and errors[0]["evalue"] == "deliberate failure on the cluster"
    assert seconds < 150


def test_a_status_command_that_would_hang_fails_the_run_before_any_job(cluster, tmp_path):
    root = repository(tmp_path / "repo")
    before = slurm_jobs()
    # This cluster keeps no accounting: sacct fails, and with it the plugin would lose its jobs
    # and wait forever. Asked for directly, or taken by the plugin over squeue when MinJobAge
    # (600 s here) is below 3 x the first status check's delay.
    for setting, named in [
        (("--slurm-status-command", "sacct"), "slurm-status-command: squeue"),
        (("--slurm-init-seconds-before-status-checks", "300"), "MinJobAge (600 s) is below"),
    ]:
        status, output, _ = on_the_cluster(
            root,
            tmp_path / "work",
            *FITTED,
            *setting,
            "--config",
            "profile=tiny",
            "notebooks=[fig3]",
            "--",
            "_build/executed/tiny/fig3.ipynb",
            environment=submitter_environment(tmp_path),
            seconds=60,
        )
        assert status != 0, output[-4000:]
        assert "SLURM status check: `sacct` fails here" in output, output[-4000:]
        assert "accounting storage is disabled" in output and named in output, output[-4000:]
        assert "workflow/profiles/slurm/config.yaml" in output
        assert not submitted(output)
    assert slurm_jobs() == before


def test_the_cluster_script_refuses_to_start_beside_a_running_slurm(cluster):
    configuration = {path: path.read_text() for path in CONFIGURATION}
    running = daemons()
    refused = subprocess.run(
        [str(SLURM_SH), "run"], stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    assert refused.returncode != 0 and not refused.stdout
    assert "refusing to start a test cluster: this machine already has SLURM" in refused.stderr
    assert "/etc/slurm/slurm.conf exists" in refused.stderr
    assert "a slurmctld runs" in refused.stderr
    # Nothing touched: the same configuration, the same daemons.
    assert {path: path.read_text() for path in CONFIGURATION} == configuration
    assert daemons() == running


def test_stopping_the_cluster_leaves_no_daemon_and_no_configuration(cluster):
    state = Path(cluster.state)
    assert cluster.stop() == 0, cluster.log.read_text()[-3000:]
    # Every daemon it started has ended, and every job step with them.
    assert daemons() == cluster.before, daemons()
    assert not [path for path in CONFIGURATION if path.exists()]
    assert not state.exists()
