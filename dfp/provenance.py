"""Provenance: which code, packages and machine produced a result.

Recorded with every committed result and sweep summary, and shown on their pages. Pure
Python: it imports no other part of dfp and no Keras.
"""

import datetime
import hashlib
import os
import platform
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "TRAINING_VERSION", "current_provenance", "fingerprint", "machine"]

# The packages whose versions are recorded, when installed (distribution names: dfp itself is
# "deep-frequency-principle").
PACKAGES = (
    "deep-frequency-principle",
    "keras",
    "tensorflow-cpu",
    "tensorflow",
    "jax",
    "numpy",
    "papermill",
    "snakemake",
    "jupyter-book",
    "myst-nb",
)
# The version of the code that can change a training run's numbers: dfp.models, dfp.data,
# dfp.training, dfp.callbacks, dfp.recipes and the measure (dfp.spectral, dfp.grids, the
# engine and its backend switches). Bump it with any change that alters a number a run
# computes, and regenerate the golden run (`python tests/golden/make_golden.py`); a refactor
# that changes no number keeps it, so cached runs and committed results stay current.
# Version 1: the training code of commits c8ab8ba to 26ccff0 (2026-12) and its refactor.
TRAINING_VERSION = 1


# Paths whose changes do not make a result's commit "+ uncommitted changes" (git pathspecs).
_NOT_CODE = (":(exclude)results",)


def _git(root, *arguments):
    try:
        done = subprocess.run(
            ["git", *arguments], cwd=root, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def fingerprint(package: Path | str, modules: Iterable[str] | None = None) -> str:
    """SHA-256 of a package's source files (each file's relative path and bytes), as hex.

    Args:
        package: the package's folder (``dfp/``).
        modules: module names, e.g. ("spectral", "training"); None for every ``.py`` file in it.

    Returns:
        The hex digest: anything computed by that code is valid only for this value.
    """
    package = Path(package)
    paths = (
        sorted(package.rglob("*.py")) if modules is None else [package / f"{m}.py" for m in modules]
    )
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _cpuinfo(field, path="/proc/cpuinfo"):
    """The first value of ``field`` in the CPU description at ``path``, or None."""
    try:
        with open(path) as cpuinfo:
            for line in cpuinfo:
                if line.startswith(field):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _cpu():
    return _cpuinfo("model name") or platform.processor() or platform.machine()


# CPU instruction sets that change how fast a run trains (TensorFlow's oneDNN trains
# mixed_bfloat16 on Intel AMX tiles about 1.5-2x faster than float32; without AMX, no gain).
CPU_FEATURES = {"amx_bf16": "AMX", "avx512_bf16": "AVX-512 BF16"}


def _cpu_features(cpuinfo_path="/proc/cpuinfo"):
    """The ``CPU_FEATURES`` this CPU has, by name, in the table's order."""
    flags = set((_cpuinfo("flags", cpuinfo_path) or "").split())
    return [name for flag, name in CPU_FEATURES.items() if flag in flags]


def _gpus():
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return [line.strip() for line in done.stdout.splitlines() if line.strip()]
    except (OSError, subprocess.SubprocessError):
        return []


def machine() -> dict[str, Any]:
    """The machine this process runs on: {hardware (CPU model, cores, the ``CPU_FEATURES`` it
    has, OS), gpus (names)}.

    Returns:
        {"hardware": a line of text, e.g. "Intel(R) Xeon(R) Processor, 2 cores, AMX, AVX-512
        BF16, Linux x86_64", "gpus": a list of GPU names, empty without one}.
    """
    features = "".join(f", {name}" for name in _cpu_features())
    return {
        "hardware": (
            f"{_cpu()}, {os.cpu_count()} cores{features}, {platform.system()} {platform.machine()}"
        ),
        "gpus": _gpus(),
    }


def current_provenance(root: Path | str = ".") -> dict[str, Any]:
    """What produced a result made now, from the repository at ``root``.

    Args:
        root: the repository (its git checkout and dfp/ sources).

    Returns:
        {commit (12 hex digits, "+ uncommitted changes" when the checkout differs outside
        results/, or "unknown"), commit_date, code (SHA-256 of every dfp source,
        ``fingerprint``), training_version (``TRAINING_VERSION``), packages ({name: version}),
        python, backend ($KERAS_BACKEND or tensorflow), hardware (CPU model and cores, OS),
        gpus (names; empty without one), recorded (UTC time)}.
    """
    root = Path(root)
    commit = _git(root, "rev-parse", "--short=12", "HEAD") or "unknown"
    # results/ is left out: regenerating a committed result overwrites it in place, and the
    # result being replaced is not code that produced the new one.
    changed = _git(root, "status", "--porcelain", "--untracked-files=no", "--", ".", *_NOT_CODE)
    if commit != "unknown" and changed:
        commit += " + uncommitted changes"
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    package = root / "dfp"
    return {
        "commit": commit,
        "commit_date": _git(root, "log", "-1", "--format=%cI") or None,
        "code": fingerprint(package),
        "training_version": TRAINING_VERSION,
        "packages": packages,
        "python": platform.python_version(),
        "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        **machine(),
        "recorded": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
