"""dfp as a library: the wheel of "deep-frequency-principle", installed into a fresh virtual
environment with Keras and the CPU PyTorch only (no extras, no TensorFlow, nothing of the book
or the workflow), measures saved arrays (through the API and ``python -m dfp measure``), a
Keras model's hidden layer and a PyTorch module, each within 1e-5 of ``dfp.lfr_reference``.

Slow (about two minutes, most of it unpacking PyTorch). The wheels it installs are kept in
pytest's cache folder (.pytest_cache), so a second run installs them without the network.
"""

import json
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "deep-frequency-principle"
# PyTorch's CPU build, on this machine's disk (pip's configuration finds it), as the Makefile
# installs it.
TORCH = "torch==2.13.0"
# What the core install must not pull in: a Keras backend the user did not choose, the book's
# machinery, the workflow.
ABSENT = (
    "tensorflow",
    "jax",
    "jupyter_core",
    "jupyter_book",
    "jupytext",
    "snakemake",
    "yaml",
    "nbformat",
    "myst_nb",
    "papermill",
    "IPython",
    "matplotlib",
)

pytestmark = pytest.mark.slow

# Run in the fresh environment under KERAS_BACKEND=torch, in the folder given as argv[1].
CHECK = textwrap.dedent(
    """
    import importlib.util
    import json
    import subprocess
    import sys
    from pathlib import Path

    import keras
    import numpy as np
    import torch

    import dfp
    from dfp.measure import Measurement, measure
    from dfp.probe import measure_layer
    from dfp.torch_probe import measure_module

    work = Path(sys.argv[1])
    absent = sys.argv[2].split(",")
    n, d, classes = 200, 12, 3
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]
    grid = np.geomspace(0.1, 100.0, 12)
    errors = {}


    def check(name, m, features):
        expected = dfp.lfr_reference(features, y, grid)
        errors[name] = float(np.max(np.abs(m.lfr - expected)))
        assert errors[name] < 1e-5, (name, errors[name])


    # (1) Saved arrays through the API.
    np.save(work / "features.npy", x)
    np.save(work / "targets.npy", y)
    api = measure(np.load(work / "features.npy"), np.load(work / "targets.npy"), grid, repeats=4)
    check("arrays, API", api, x)

    # (2) The same arrays through the command line: its JSON is the API's record.
    subprocess.run(
        [sys.executable, "-m", "dfp", "measure", work / "features.npy", work / "targets.npy",
         "--inv-delta", "0.1", "100", "12", "--repeats", "4", "--out", work / "rdf.json"],
        check=True,
    )
    record = json.loads((work / "rdf.json").read_text())
    assert record == json.loads(json.dumps(api.to_json())), "the command line's JSON differs"
    check("arrays, command line", Measurement.from_json(record), x)

    # (3) A small Keras model's hidden layer, by name.
    keras.utils.set_random_seed(0)
    inputs = keras.Input((d,))
    hidden = keras.layers.Dense(16, activation="tanh", name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(classes, name="out")(hidden))
    layer = measure_layer(model, x, y, "hidden", inv_delta=grid, repeats=0)
    weights, bias = model.get_layer("hidden").get_weights()
    check("Keras layer", layer, np.tanh(x.astype(np.float64) @ weights + bias))

    # (4) A small PyTorch model's submodule, through a forward hook.
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(d, 16), torch.nn.ReLU(), torch.nn.Linear(16, classes)
    )
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    module = measure_module(net, xt, yt, "1", inv_delta=grid, repeats=0)
    with torch.no_grad():
        check("PyTorch module", module, torch.relu(net[0](xt)).double().numpy())

    present = [name for name in absent if importlib.util.find_spec(name) is not None]
    print(json.dumps({"backend": keras.backend.backend(), "errors": errors, "present": present}))
    """
)


def _run(*command, **options):
    done = subprocess.run(command, capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _locked(name):
    """The version of ``name`` that requirements.lock pins."""
    found = re.search(rf"^{re.escape(name)}==(\S+)", (ROOT / "requirements.lock").read_text(), re.M)
    assert found, f"requirements.lock pins no {name}"
    return found.group(1)


def _size(path):
    return subprocess.run(["du", "-sh", path], capture_output=True, text=True).stdout.split()[0]


def test_the_wheel_alone_measures_arrays_a_keras_model_and_a_pytorch_model(tmp_path, request):
    # The wheel, built from a copy of the sources (the repository gets no build/ or egg-info).
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "dfp", source / "dfp", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    _run(sys.executable, *"-m pip wheel -q --no-deps --no-build-isolation -w".split(), dist, source)
    (wheel,) = dist.glob("*.whl")
    assert wheel.name.startswith(DISTRIBUTION.replace("-", "_") + "-")
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith("/METADATA")))
    stem = "-".join(wheel.name.split("-")[:2])  # deep_frequency_principle-<version>
    assert tops == {"dfp", f"{stem}.dist-info"}, f"the wheel holds more than dfp: {tops}"
    requires = [
        line.split(":", 1)[1].strip()
        for line in metadata.decode().splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert sorted(re.split(r"[<>=!~ ;\[]", r)[0] for r in requires) == ["keras", "numpy"]

    # A fresh environment: the wheel, Keras at the lock's version and the CPU PyTorch.
    env = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", env)
    python = env / "bin" / "python"
    downloads = request.config.cache.mkdir("wheel-test-downloads")
    wanted = [f"keras=={_locked('keras')}", TORCH]
    install = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    offline = [*install, "--no-index", "--find-links", downloads, wheel, *wanted]
    if subprocess.run(offline, capture_output=True).returncode != 0:
        _run(
            python, *"-m pip download -q --disable-pip-version-check -d".split(), downloads, *wanted
        )
        _run(*offline)

    # The four measurements, under the PyTorch backend, outside the repository.
    work = tmp_path / "work"
    work.mkdir()
    (work / "check.py").write_text(CHECK)
    environment = {
        "PATH": f"{env / 'bin'}:/usr/bin:/bin",
        "KERAS_BACKEND": "torch",
        "HOME": str(tmp_path),
    }
    output = _run(
        python, "-I", work / "check.py", work, ",".join(ABSENT), cwd=work, env=environment
    )
    result = json.loads(output.strip().splitlines()[-1])
    assert result["backend"] == "torch"
    assert result["present"] == [], f"the core install pulled in {result['present']}"
    assert set(result["errors"]) == {
        "arrays, API",
        "arrays, command line",
        "Keras layer",
        "PyTorch module",
    }
    print(
        f"\nwheel {wheel.name}: {wheel.stat().st_size / 1024:.0f} KiB; fresh environment "
        f"{_size(env)}; largest error against lfr_reference {max(result['errors'].values()):.1e}"
    )
