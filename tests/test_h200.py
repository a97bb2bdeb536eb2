"""The prepared one-GPU run of Figs. 5-7 (workflow/h200/), at the tiny profile on this CPU
under JAX: the data packing, the process layout, the deadline and the outputs the notebooks
load."""

import json
import os
import shutil
import subprocess
import sys
import tarfile

import nbformat
import pytest
import yaml

from dfp import parameters, results, sweeps
from tests.notebooks import ROOT

H200 = ROOT / "workflow" / "h200"
DATA = ROOT.parent / "shared" / "data"


def run(*arguments, env=None, timeout=900):
    return subprocess.run(
        [sys.executable, *map(str, arguments)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def execute_under_jax(tmp_path, notebook, profile, cache):
    """papermill the notebook under JAX in bf16 at a parameters file, on the run ``cache``,
    as the runs that came back from the GPU are used: (the executed notebook's path, the
    runs it used, each saying whether it was loaded or trained)."""
    executed = tmp_path / f"{notebook}.ipynb"
    papermill = shutil.which("papermill", path=os.path.dirname(sys.executable))
    done = subprocess.run(
        [
            papermill, ROOT / "notebooks" / f"{notebook}.ipynb", executed,
            "--cwd", ROOT / "notebooks", "-f", ROOT / "notebooks" / "params" / profile,
            "-p", "precision", "bf16",
        ],
        env=jax_env(tmp_path, cache), capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    notebook = nbformat.read(executed, as_version=4)
    return executed, sweeps.glued_values(notebook)["runs_used"]


def test_data_travels_in_parts_byte_for_byte(tmp_path):
    source = tmp_path / "data" / "batches"
    source.mkdir(parents=True)
    (source / "a").write_bytes(os.urandom(100_000) + bytes(200_000))
    (source / "b").write_bytes(b"labels" * 1000)
    packed = run(
        H200 / "pack.py", "pack", tmp_path / "data", "batches", tmp_path / "p" / "x", "--parts", "2"
    )
    assert packed.returncode == 0, packed.stderr
    parts = sorted((tmp_path / "p").iterdir())
    assert [p.name for p in parts] == ["x.1of2", "x.2of2"]
    assert abs(parts[0].stat().st_size - parts[1].stat().st_size) <= 1
    # With a part missing the data does not arrive half: it is refused, naming what is there.
    shutil.move(parts[1], tmp_path / "aside")
    missing = run(H200 / "pack.py", "unpack", tmp_path / "p" / "x", tmp_path / "out")
    assert (
        missing.returncode != 0
        and "need every one" in missing.stderr
        and "x.1of2" in missing.stderr
    )
    shutil.move(tmp_path / "aside", parts[1])
    # A part truncated on the way is refused too.
    whole = parts[1].read_bytes()
    parts[1].write_bytes(whole[:-10])
    truncated = run(H200 / "pack.py", "unpack", tmp_path / "p" / "x", tmp_path / "out")
    assert truncated.returncode != 0 and "truncated or corrupted" in truncated.stderr
    parts[1].write_bytes(whole)
    unpacked = run(H200 / "pack.py", "unpack", tmp_path / "p" / "x", tmp_path / "out")
    assert unpacked.returncode == 0, unpacked.stderr
    for name in ("a", "b"):
        assert (tmp_path / "out" / "batches" / name).read_bytes() == (source / name).read_bytes()


def jax_env(tmp_path, cache):
    return dict(
        os.environ,
        KERAS_BACKEND="jax",
        PYTHONPATH=str(ROOT),
        DFP_DATA_DIR=str(DATA),
        DFP_CACHE_DIR=str(cache),
        OMP_NUM_THREADS="1",
    )


@pytest.mark.slow
def test_the_gpu_run_at_tiny_scale_gives_runs_that_the_notebooks_load(tmp_path):
    cache, out = tmp_path / "device-cache", tmp_path / "out"
    env = jax_env(tmp_path, cache)
    first = run(H200 / "paper_run.py", "preflight", "--out", out, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    preflight = json.loads((out / "preflight.json").read_text())
    assert preflight["backend"] == "jax" and preflight["devices"]
    assert preflight["tiny_fit"]["loss"][-1] < preflight["tiny_fit"]["loss"][0]
    assert preflight["tf32_by_default"] is False  # a CPU has no TensorFloat-32
    # The tiny profile's two variants in bf16, and variant 4 again in float32 at seeds 0 and
    # 1: four processes at once, as the four variants and the control share the GPU.
    trained = run(
        H200 / "paper_run.py", "train", "--profile", "tiny", "--precision", "bf16",
        "--control", "4", "--deadline", "800", "--out", out, env=env,
    )  # fmt: skip
    assert trained.returncode == 0, (trained.stdout + trained.stderr)[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    jobs = {(j["variant"], j["precision"], j["seed"]): j for j in manifest["jobs"]}
    assert set(jobs) == {(3, "bf16", 0), (4, "bf16", 0), (4, "float32", 0), (4, "float32", 1)}
    assert all(j["finished"] and not j["stopped_at_deadline"] for j in jobs.values())
    control = json.loads((out / "control.json").read_text())
    assert control["precisions"] == ["float32", "bf16"] and isinstance(control["agrees"], bool)
    assert set(control["halfway"]) == {"labels", "output"}
    assert isinstance(control["within_seed"], bool) and control["seed_steps"] >= 0
    runs = sorted(out.glob("resnet18-*.npz"))
    assert len(runs) == 4 and len(list(out.iterdir())) <= 8  # what comes back from the GPU
    # Back here: the runs go into another machine's cache and Fig. 5 loads them.
    here = tmp_path / "cache"
    here.mkdir()
    for path in runs:
        shutil.copy(path, here)
    executed, used = execute_under_jax(tmp_path, "fig5", "resnet18.tiny.yaml", here)
    # Two variants, then the control: variant 4 in bf16 (its run again, listed once), and in
    # float32 at seeds 0 and 1.
    assert len(used) == 4 and all(u["loaded"] for u in used)  # trained nothing here
    summary = results.result_summary(
        executed, name="fig5", profile="tiny", provenance={"hardware": "this test"}
    )
    assert summary["provenance"]["precision"] == "bf16"
    assert summary["provenance"]["trained_on"] == [manifest["hardware"]]


@pytest.mark.slow
def test_the_gpu_run_of_fig9_gives_the_runs_that_its_notebook_loads(tmp_path):
    cache, out = tmp_path / "device-cache", tmp_path / "out"
    # Every network of the tiny profile, one process each, in bf16 (as on the GPU).
    trained = run(
        H200 / "paper_run.py", "fig9", "--profile", "tiny", "--precision", "bf16",
        "--deadline", "800", "--out", out, env=jax_env(tmp_path, cache),
    )  # fmt: skip
    assert trained.returncode == 0, (trained.stdout + trained.stderr)[-3000:]
    manifest = json.loads((out / "fig9-manifest.json").read_text())
    tiny = yaml.safe_load((ROOT / "notebooks" / "params" / "fig9.tiny.yaml").read_text())
    forms = [
        None,
        *parameters.notebook_parameters(str(ROOT / "notebooks" / "fig9"))["residual_forms"],
    ]
    assert len(manifest["jobs"]) == 2 * len(forms) * len(tiny["depths"])  # Adam and SGD
    assert all(j["finished"] and not j["stopped_at_deadline"] for j in manifest["jobs"])
    assert sorted(p.name for p in out.iterdir()) == ["fig9-manifest.json", "fig9-runs.tar"]
    # Back here: the archive's runs go into another machine's cache and Fig. 9 loads them.
    here = tmp_path / "cache"
    with tarfile.open(out / "fig9-runs.tar") as archive:
        archive.extractall(here, filter="data")
    assert len(list(here.glob("fig9-*.npz"))) == len(manifest["jobs"])
    _, used = execute_under_jax(tmp_path, "fig9", "fig9.tiny.yaml", here)
    assert len(used) == len(manifest["jobs"]) and all(u["loaded"] for u in used)


def test_at_the_deadline_unfinished_runs_are_stopped_and_said_to_be(tmp_path):
    out = tmp_path / "out"
    # A deadline already passed when the processes start: each is stopped at the first look,
    # however fast the machine trains.
    stopped = run(
        H200 / "paper_run.py", "train", "--profile", "tiny", "--precision", "bf16",
        "--control", "0", "--deadline", "0", "--out", out, env=jax_env(tmp_path, tmp_path / "c"),
    )  # fmt: skip
    assert stopped.returncode == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["jobs"] and all(
        j["stopped_at_deadline"] and not j["finished"] for j in manifest["jobs"]
    )
    assert not list(out.glob("*.npz")) and not (out / "control.json").exists()
