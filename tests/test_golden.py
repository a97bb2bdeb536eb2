"""Moving code keeps results: a committed golden tiny run (tests/golden/) holds the numbers of
every code path that can change a training run, and fails the suite when they change while
``dfp.provenance.TRAINING_VERSION`` stays the same (runs are keyed, and committed results
marked, on that version, not on the bytes of the code)."""

import sys

import keras
import numpy as np
import pytest

from dfp import provenance, storage
from tests.notebooks import ROOT

sys.path.insert(0, str(ROOT / "tests" / "golden"))
import make_golden  # noqa: E402

# Numbers that differ by less than this are rounding on another CPU (oneDNN picks kernels by
# instruction set), not a change of the code; a change of the code moves them far more.
RTOL, ATOL = 1e-4, 1e-6


def _leaves(tree, path=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(tree, (list, tuple)):
        for index, value in enumerate(tree):
            yield from _leaves(value, (*path, index))
    else:
        yield path, tree


def test_the_golden_run_is_of_the_current_training_version():
    fields, _ = storage.read_tree(make_golden.GOLDEN, tree=False)
    assert fields["training_version"] == provenance.TRAINING_VERSION, (
        f"TRAINING_VERSION is {provenance.TRAINING_VERSION} but the golden run was made with "
        f"{fields['training_version']}: run `python tests/golden/make_golden.py` and commit it"
    )


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the golden run is TensorFlow's"
)
@pytest.mark.parametrize("part", list(make_golden.PARTS))
def test_the_training_code_computes_the_golden_numbers(part, tmp_path, monkeypatch):
    monkeypatch.setenv("DFP_CACHE_DIR", str(tmp_path))
    _, golden = storage.read_tree(make_golden.GOLDEN)
    now = make_golden.PARTS[part]()
    expected, got = dict(_leaves(golden[part])), dict(_leaves(now))
    assert expected.keys() == got.keys(), f"{part}: the run's structure changed"
    for path, value in expected.items():
        np.testing.assert_allclose(
            np.asarray(got[path], np.float64),
            np.asarray(value, np.float64),
            rtol=RTOL,
            atol=ATOL,
            err_msg=(
                f"{part} {path}: the numbers of a training run changed. If the change is meant "
                "to alter them, bump dfp.provenance.TRAINING_VERSION and run "
                "`python tests/golden/make_golden.py`; if not, it altered numbers it should not."
            ),
        )
