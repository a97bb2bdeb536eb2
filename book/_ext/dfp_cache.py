"""Sphinx extension: a change to the dfp package re-executes every notebook.

MyST-NB's execution cache keys a notebook on its own cells only, so after a change to dfp it
would serve figures computed by the old code. This extension keeps the fingerprint of the
dfp sources that the cached outputs were computed with; when it differs, it empties the
execution cache and marks every notebook as changed, so Sphinx reads (and MyST-NB executes)
them again.
"""

import shutil
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
    return [doc for doc in env.found_docs if str(env.doc2path(doc)).endswith(".ipynb")]


def _finished(app, exception):
    if exception is None and app.builder.name != "linkcheck":
        _, stamp = _paths(app)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(app.env.dfp_fingerprint + "\n")


def setup(app):
    # After myst_nb's own builder-inited handler (priority 500) has set the cache path.
    app.connect("builder-inited", _check, priority=900)
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
