"""``python -m dfp measure``: saved arrays in, a summary, the JSON record and a plot out."""

import json
import subprocess
import sys

import numpy as np
import pytest

from dfp.measure import FORMAT, Measurement, measure
from tests._data_sets import one_hot_set
from tests.notebooks import ROOT


def _dfp(*args):
    return subprocess.run(
        [sys.executable, "-m", "dfp", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


@pytest.fixture
def arrays(tmp_path):
    x, y = one_hot_set(n=200, d=6)
    np.save(tmp_path / "features.npy", x.astype(np.float32).reshape(200, 2, 3))
    np.save(tmp_path / "targets.npy", y)
    return tmp_path, x.astype(np.float32), y


def test_measure_writes_the_json_of_the_api_and_a_plot(arrays):
    folder, x, y = arrays
    out, image = folder / "rdf.json", folder / "rdf.png"
    options = ["--grid-points", 16, "--repeats", 3, "--fraction", 0.6, "--seed", 5]
    done = _dfp("measure", folder / "features.npy", folder / "targets.npy", *options,
                "--out", out, "--plot", image)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "n = 200" in done.stdout and "d = 6" in done.stdout
    assert "half-way point 1/delta = " in done.stdout and "Wall time" in done.stdout
    record = json.loads(out.read_text())
    assert record["format"] == FORMAT
    expected = measure(x, y, grid_points=16, repeats=3, fraction=0.6, seed=5)
    got = Measurement.from_json(record)
    for name in ("inv_delta", "lfr", "rdf", "halfway_samples", "peak_samples"):
        np.testing.assert_allclose(getattr(got, name), getattr(expected, name), rtol=1e-9)
    assert got.halfway == pytest.approx(expected.halfway, rel=1e-9)
    assert got.peak_interval == pytest.approx(expected.peak_interval, rel=1e-9)
    assert got.resampling == expected.resampling
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_given_grid_npz_input_and_integer_labels_with_classes(arrays):
    folder, x, y = arrays
    np.savez(folder / "labels.npz", labels=np.argmax(y, axis=1))
    options = ["--classes", 4, "--inv-delta", 0.05, 50, 12, "--repeats", 0]
    done = _dfp("measure", folder / "features.npy", folder / "labels.npz", *options,
                "--out", folder / "r.json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads((folder / "r.json").read_text())
    np.testing.assert_allclose(record["inv_delta"], np.geomspace(0.05, 50, 12), rtol=1e-12)
    assert record["halfway_interval"] is None and record["resampling"] == {}
    assert "given" in done.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("short targets", "features have 200 points but targets have 199"),
        ("NaN features", "features contain NaN or inf in 1 of 200 points"),
        ("integer labels", "one-hot"),
        ("not an array", "cannot read"),
        ("two arrays", "holds 2 arrays"),
    ],
)
def test_bad_input_exits_2_with_a_message(arrays, change, message):
    folder, x, y = arrays
    features, targets = folder / "features.npy", folder / "targets.npy"
    if change == "short targets":
        np.save(targets, y[:199])
    elif change == "NaN features":
        x[17, 0] = np.nan
        np.save(features, x)
    elif change == "integer labels":
        np.save(targets, np.argmax(y, axis=1))
    elif change == "not an array":
        features = folder / "notes.npy"
        features.write_text("not an array")
    elif change == "two arrays":
        targets = folder / "both.npz"
        np.savez(targets, a=y, b=y)
    done = _dfp("measure", features, targets, "--out", folder / "never.json")
    assert done.returncode == 2
    assert done.stderr.startswith("dfp measure: error: ")
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (folder / "never.json").exists()


def test_help_and_bad_options():
    done = _dfp("measure", "--help")
    assert done.returncode == 0 and "1/delta" in done.stdout and "--inv-delta" in done.stdout
    done = _dfp("measure", "a.npy", "b.npy", "--inv-delta", 5, 1, 10)
    assert done.returncode == 2 and "0 < LOW < HIGH" in done.stderr
    assert _dfp("frobnicate").returncode == 2
