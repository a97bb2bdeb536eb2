"""Figs. 5-7 at the paper's scale on one GPU: the prepared run (see workflow/h200/README.md).

    python workflow/h200/paper_run.py preflight --out $OUT
    python workflow/h200/paper_run.py train --profile paper --precision bf16 --control 4 \
        --deadline 530 --out $OUT

``preflight`` writes preflight.json: the JAX devices, the Keras version and backend, whether a
float32 matrix product runs in TensorFloat-32 by default there (and that dfp turns it off), and
a tiny ``fit``. ``train`` trains every Resnet18 variant of the profile at ``--precision``, one
process per variant on the one GPU, and the ``--control`` variant again in float32 at the
profile's seed and the next (the precision control), each through ``dfp.runs.cached`` and
``dfp.recipes.resnet18_configs``, so each finished run is a file of dfp's run cache, keyed
exactly as Figs. 5-7 key it under the same profile and precision. At the deadline (seconds
after the start) it stops the processes still training and keeps what finished: $OUT gets
each finished run's cache file, manifest.json (what finished, per-process wall time, the
machine and GPU) and, when the control's float32 and other-precision runs finished,
control.json (``dfp.claims.precision_control``, with the next seed's run when it finished).

Back on the build machine, the run files go into the run cache and the notebooks execute
under ``KERAS_BACKEND=jax`` at the same profile and precision, loading them:
``make results PROFILE=paper FIG=fig5,fig6,fig7`` then writes the committed results, whose
pages name the GPU the runs were trained on (``dfp.runs.used_runs``).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # this checkout's dfp; its book machinery loads no Keras
from dfp._vocabulary import PRECISIONS  # noqa: E402
from dfp.parameters import SHARED, notebook_parameters, profile_file  # noqa: E402
from dfp.provenance import machine  # noqa: E402
from dfp.storage import write_json  # noqa: E402

RUN = "resnet18"


def _profile_values(notebook, profile, precision):
    """A notebook's parameters under ``profile``: its defaults, then its profile file
    (``dfp.parameters.profile_file``; none for "book"), then ``precision``."""
    values = notebook_parameters(str(ROOT / "notebooks" / notebook))
    if profile != "book":
        path = ROOT / profile_file(notebook, profile)
        if not path.exists():
            raise SystemExit(f"no profile {path}")
        values.update(yaml.safe_load(path.read_text()) or {})
    values["precision"] = precision
    return values


def configuration(profile, precision, variants=None):
    """The shared Resnet18 run's parameters, as Fig. 5 runs them under ``profile``: its
    notebook's defaults, then notebooks/params/resnet18.<profile>.yaml, then ``precision``."""
    defaults = _profile_values(SHARED[RUN]["notebooks"][0], profile, precision)
    config = {name: defaults[name] for name in SHARED[RUN]["parameters"]}
    if variants is not None:
        config["variants"] = list(variants)
    return config


def preflight(out):
    """The device, the matmul precision JAX uses by default, and a tiny fit."""
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np

    import dfp

    record = {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "jax": jax.__version__,
        "devices": [f"{d.platform}: {d.device_kind}" for d in jax.devices()],
        **machine(),
    }
    a = jax.random.normal(jax.random.PRNGKey(0), (2048, 2048), jnp.float32)
    exact = np.asarray(a, np.float64) @ np.asarray(a, np.float64)
    errors = {}
    for precision in ("default", "highest"):
        with jax.default_matmul_precision(precision):
            product = np.asarray(jax.jit(lambda x: x @ x)(a), np.float64)
        errors[precision] = float(np.max(np.abs(product - exact)) / np.max(np.abs(exact)))
    record["matmul_relative_error"] = errors
    # TensorFloat-32 keeps 10 mantissa bits: errors near 1e-3 rather than 1e-6.
    record["tf32_by_default"] = errors["default"] > 100 * errors["highest"]
    x = np.random.default_rng(0).normal(size=(512, 8)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[(x[:, 0] > 0).astype(int)]
    model = dfp.models.mlp(8, 2, 32, output_dim=2, seed=0)
    model.compile(optimizer="adam", loss="mse")
    start = time.perf_counter()
    history = model.fit(x, y, epochs=3, batch_size=64, verbose=0)
    record["tiny_fit"] = {
        "loss": [float(v) for v in history.history["loss"]],
        "seconds": time.perf_counter() - start,
    }
    write_json(Path(out) / "preflight.json", record)
    print(json.dumps(record, indent=1))


def worker(profile, precision, variant, seed=None):
    """One process: one variant at one precision (and seed, if not the profile's), into dfp's
    run cache."""
    import dfp.recipes

    config = dfp.recipes.resnet18_configs(configuration(profile, precision, [variant]))[variant]
    if seed is not None:
        config["seed"] = seed
    result = dfp.runs.cached("resnet18", config, lambda: dfp.recipes.train_resnet_variant(**config))
    print(
        f"Resnet18-{variant} {precision}: validation accuracy {result['val_accuracy'][-1]:.4f}, "
        f"{result['seconds']:.0f} s of training",
        flush=True,
    )


def _run_processes(jobs, deadline, started):
    """Run one process per job at once, on the one GPU; stop those still running at the
    deadline (seconds after ``started``).

    Args:
        jobs: {job: (log name, argv)}.

    Returns:
        {job: dict(returncode (None: stopped at the deadline), seconds, log_tail)}.
    """
    env = dict(os.environ)
    # The processes share the one GPU: each may take an equal share of its memory.
    env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{0.9 / len(jobs):.3f}")
    # The logs stay beside the run cache (what comes back is at most 8 files); their ends go
    # into the manifest.
    logs = Path(os.environ.get("DFP_CACHE_DIR", "/tmp")) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes = {}
    for job, (name, argv) in jobs.items():
        log = open(logs / f"{name}.txt", "w")
        process = subprocess.Popen(
            [sys.executable, __file__, *argv], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        processes[job] = (process, log, time.time())
    ended = {}
    while len(ended) < len(processes):
        for job, (process, _log, begun) in processes.items():
            if job not in ended and process.poll() is not None:
                ended[job] = {"returncode": process.returncode, "seconds": time.time() - begun}
        if time.time() - started > deadline:
            for job, (process, _log, begun) in processes.items():
                if job not in ended:
                    process.terminate()
                    try:
                        process.wait(20)
                    except subprocess.TimeoutExpired:
                        process.kill()
                    ended[job] = {"returncode": None, "seconds": time.time() - begun}
            break
        time.sleep(2)
    for job, (_process, log, _begun) in processes.items():
        log.close()
        ended[job]["log_tail"] = _tail(log.name)
    return ended


def _manifest(profile, precision, deadline, started, ended, finished, describe):
    """What a command did: its settings, the machine, and each job's end."""
    return {
        "profile": profile,
        "precision": precision,
        "deadline_seconds": deadline,
        "wall_seconds": time.time() - started,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        **machine(),
        "jobs": [
            {
                **describe(job),
                "finished": job in finished,
                "stopped_at_deadline": end["returncode"] is None,
                "returncode": end["returncode"],
                "seconds": end["seconds"],
                "log_tail": end["log_tail"],
            }
            for job, end in ended.items()
        ],
    }


def train(profile, precision, control, deadline, out):
    """Every variant at ``precision``, and the control's runs
    (``dfp.recipes.resnet18_control_configs``: the control variant in float32 at the
    profile's seed and the next), in parallel."""
    import dfp.recipes

    started = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = configuration(profile, precision)
    job_of = lambda c: (c["variant"], c["precision"], c["seed"])  # noqa: E731
    jobs = [job_of(c) for c in dfp.recipes.resnet18_configs(config).values()]
    controls = {
        name: job_of(c)
        for name, c in dfp.recipes.resnet18_control_configs(
            dict(config, control=control or 0)
        ).items()
    }
    jobs += [job for job in controls.values() if job not in jobs]
    ended = _run_processes(
        {
            (v, p, s): (
                f"{v}-{p}-seed{s}",
                [
                    "worker",
                    "--profile",
                    profile,
                    "--precision",
                    p,
                    "--variant",
                    str(v),
                    "--seed",
                    str(s),
                ],
            )  # fmt: skip
            for v, p, s in jobs
        },
        deadline,
        started,
    )
    results = _collect(profile, jobs, out)
    manifest = _manifest(
        profile, precision, deadline, started, ended, results,
        lambda job: {"variant": job[0], "precision": job[1], "seed": job[2]},
    )  # fmt: skip
    if controls and all(controls[name] in results for name in ("float32", "other")):
        from dfp.claims import precision_control

        manifest["control"] = precision_control(
            results[controls["float32"]],
            results[controls["other"]],
            results.get(controls["float32, next seed"]),
        )
        write_json(out / "control.json", {"variant": control, **manifest["control"]})
    write_json(out / "manifest.json", manifest)
    print(json.dumps({k: v for k, v in manifest.items() if k != "control"}, indent=1))
    return 0 if all(job["finished"] for job in manifest["jobs"]) else 1


# Fig. 9's lists, each network of which is a run of its own (the notebook's ``swept``).
FIG9_SWEPT = ("depths", "residual_forms", "trainings")


def fig9_networks(profile, precision):
    """Fig. 9's networks under ``profile``: {(optimizer, learning rate, residual, depth):
    configuration}, each keyed as the notebook keys it (its parameters, the notebook's
    defaults then notebooks/params/fig9.<profile>.yaml, then ``precision``; the swept lists
    replaced by the network's own depth, residual form (None, "unscaled" or "scaled") and
    training setting, its optimizer and learning rate)."""
    values = _profile_values("fig9", profile, precision)
    shared = {k: v for k, v in values.items() if k not in FIG9_SWEPT}
    return {
        (optimizer, rate, form, depth): {
            **shared,
            "depth": depth,
            "residual": form,
            "optimizer": optimizer,
            "learning_rate": rate,
        }
        for optimizer, rate in values["trainings"]
        for form in [None, *values["residual_forms"]]
        for depth in values["depths"]
    }


def _fig9_name(job):
    """A network's name on the command line: optimizer,rate,form,depth (form "none" for no
    residual), e.g. "sgd,0.0001,unscaled,80"."""
    optimizer, rate, form, depth = job
    return f"{optimizer},{rate:g},{form or 'none'},{depth}"


def fig9_worker(profile, precision, network):
    """One process: one network of Fig. 9, into dfp's run cache."""
    import dfp.recipes

    networks = fig9_networks(profile, precision)
    named = {_fig9_name(job): job for job in networks}
    if network not in named:
        raise SystemExit(f"fig9 has no network {network!r}; it has {', '.join(named)}")
    config = networks[named[network]]
    result = dfp.runs.cached("fig9", config, lambda: dfp.recipes.train_deep_network(**config))
    ended = (
        f"diverged at epoch {result['diverged_epoch']}"
        if result["diverged_epoch"]
        else f"loss {result['loss'][-1]:.3g}"
    )
    print(f"fig9 {network} {precision}: {ended}, {result['seconds']:.0f} s")


def fig9(profile, precision, deadline, out):
    """Every network of Fig. 9 at ``precision``, one process each, in parallel.

    What comes back is at most 8 files, and Fig. 9 has up to eighteen networks: their run
    cache files go into one archive, fig9-runs.tar, beside fig9-manifest.json."""
    import tarfile

    import dfp

    started = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    networks = fig9_networks(profile, precision)
    name = {job: _fig9_name(job) for job in networks}
    ended = _run_processes(
        {
            job: (f"fig9-{name[job]}", ["fig9-worker", "--profile", profile,
                                         "--precision", precision, "--network", name[job]])
            for job in networks
        },
        deadline,
        started,
    )  # fmt: skip
    finished = {}
    for entry in dfp.runs.list_runs():
        for job, config in networks.items():
            if entry.get("name") == "fig9" and entry.get("config") == config:
                finished[job] = entry["path"]
    partial = out / ".fig9-runs.tar.partial"
    with tarfile.open(partial, "w") as archive:
        for path in finished.values():
            archive.add(path, arcname=Path(path).name)
    os.replace(partial, out / "fig9-runs.tar")
    manifest = _manifest(
        profile, precision, deadline, started, ended, finished,
        lambda job: {
            "optimizer": job[0], "learning_rate": job[1], "residual": job[2], "depth": job[3]
        },
    )  # fmt: skip
    write_json(out / "fig9-manifest.json", manifest)
    print(json.dumps({k: v for k, v in manifest.items() if k != "jobs"}, indent=1))
    return 0 if len(finished) == len(networks) else 1


def _tail(path, characters=1500):
    text = Path(path).read_text(errors="replace")
    return text[-characters:]


def _collect(profile, jobs, out):
    """Copy each finished run's cache file to ``out``; {(variant, precision, seed): its result}.

    The finished runs are the run cache's files of this run and profile (their records hold
    the configuration they were keyed on), so nothing here repeats how a run is keyed."""
    import dfp

    wanted = set(jobs)
    found = {}
    for entry in dfp.runs.list_runs():
        config = entry.get("config") or {}
        job = (config.get("variant"), config.get("precision"), config.get("seed"))
        if entry.get("name") != RUN or job not in wanted:
            continue
        expected = configuration(profile, job[1])
        if any(config.get(k) != v for k, v in expected.items() if k not in SKIPPED):
            continue  # a run of another profile left in the same cache
        shutil.copy(entry["path"], out / entry["path"].name)
        found[job] = dfp.runs.load_run(entry["path"])[1]
    return found


# What a run's configuration does not hold (variants, control) or holds per job (seed).
SKIPPED = ("variants", "control", "seed")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    first = commands.add_parser("preflight")
    first.add_argument("--out", required=True)
    training = commands.add_parser("train")
    training.add_argument("--profile", default="paper")
    training.add_argument("--precision", default="bf16", choices=PRECISIONS)
    training.add_argument("--control", type=int, default=4, help="variant of the control; 0: none")
    training.add_argument("--deadline", type=float, required=True, help="seconds from the start")
    training.add_argument("--out", required=True)
    one = commands.add_parser("worker")
    one.add_argument("--profile", required=True)
    one.add_argument("--precision", required=True)
    one.add_argument("--variant", type=int, required=True)
    one.add_argument("--seed", type=int, default=None, help="instead of the profile's")
    deep = commands.add_parser("fig9")
    deep.add_argument("--profile", default="paper")
    deep.add_argument("--precision", default="bf16", choices=PRECISIONS)
    deep.add_argument("--deadline", type=float, required=True, help="seconds from the start")
    deep.add_argument("--out", required=True)
    network = commands.add_parser("fig9-worker")
    network.add_argument("--profile", required=True)
    network.add_argument("--precision", required=True)
    network.add_argument(
        "--network", required=True, help="optimizer,learning rate,residual form or none,depth"
    )
    arguments = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if arguments.command == "preflight":
        preflight(arguments.out)
    elif arguments.command == "worker":
        worker(arguments.profile, arguments.precision, arguments.variant, arguments.seed)
    elif arguments.command == "fig9-worker":
        fig9_worker(arguments.profile, arguments.precision, arguments.network)
    elif arguments.command == "fig9":
        sys.exit(fig9(arguments.profile, arguments.precision, arguments.deadline, arguments.out))
    else:
        control = arguments.control or None
        sys.exit(
            train(
                arguments.profile, arguments.precision, control, arguments.deadline, arguments.out
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])
