"""Sphinx extension: a change to the dfp package re-executes every notebook; provenance.

MyST-NB's execution cache keys a notebook on its own cells only, so after a change to dfp it
would serve figures computed by the old code. This extension keeps the fingerprint of the
dfp sources that the cached outputs were computed with; when it differs, it empties the
execution cache and marks every page as changed, so Sphinx reads (and MyST-NB executes)
them again.

It also fills the report's provenance substitutions ({{ git_commit }} and friends) at every
build, so they describe the build, not an old execution.
"""

import datetime
import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
_STAMP = "dfp-fingerprint"


def _paths(app):
    cache = Path(app.env.mystnb_config.execution_cache_path)
    return cache, cache.parent / _STAMP


def _check(app):
    from dfp.runs import code_fingerprint

    cache, stamp = _paths(app)
    app.env.dfp_fingerprint = code_fingerprint()
    old = stamp.read_text().strip() if stamp.exists() else None
    app.env.dfp_stale = old != app.env.dfp_fingerprint
    if app.env.dfp_stale and cache.exists():
        logger.info("dfp changed since the notebooks were executed: emptying %s", cache)
        shutil.rmtree(cache)


def _outdated(app, env, added, changed, removed):
    if not getattr(env, "dfp_stale", False):
        return []
    # Notebooks and executable MyST pages alike; prose pages are cheap to read again.
    return sorted(env.found_docs)


def _provenance(app, config):
    def run(*command):
        try:
            return subprocess.run(
                command, cwd=app.srcdir, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = run("git", "rev-parse", "--short=12", "HEAD") or "unknown (not a git checkout)"
    if commit and run("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    versions = []
    for package in (
        "keras",
        "tensorflow-cpu",
        "tensorflow",
        "jax",
        "numpy",
        "jupyter-book",
        "myst-nb",
    ):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [
                line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    gpus = run("nvidia-smi", "--query-gpu=name", "--format=csv,noheader")
    substitutions = {
        "dfp_version": metadata.version("dfp"),
        "git_commit": commit,
        "build_time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python_version": platform.python_version(),
        "package_versions": ", ".join(versions),
        "hardware": f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"
        + (f"; GPU: {gpus}" if gpus else "; no GPU"),
    }
    config.myst_substitutions = {**(config.myst_substitutions or {}), **substitutions}


def _finished(app, exception):
    if exception is None and app.builder.name != "linkcheck":
        _, stamp = _paths(app)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(app.env.dfp_fingerprint + "\n")


def setup(app):
    # After myst_nb's own builder-inited handler (priority 500) has set the cache path.
    app.connect("config-inited", _provenance)
    app.connect("builder-inited", _check, priority=900)
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
