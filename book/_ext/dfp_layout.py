"""Sphinx extension: pages that take the full text width, without the right-hand contents.

``dfp_wide_pages`` (a list of page-name patterns, e.g. ``["book/report", "sweeps/*"]``, set
in _config.yml) names the pages whose wide tables need the room: on them the theme's
secondary sidebar (the "Contents" column) is left out, and book/_static/dfp.css lets the
article take the width it leaves.
"""

from sphinx.util.matching import patmatch


def is_wide(pagename, patterns):
    """Whether a page is one of ``dfp_wide_pages``.

    Args:
        pagename: Sphinx's name of the page, e.g. "sweeps/depth".
        patterns: the configured patterns (Sphinx's glob: ``*`` within a folder).

    Returns:
        True when a pattern matches the page's name.
    """
    return any(patmatch(pagename, pattern) for pattern in patterns)


def _no_contents_column(app, pagename, templatename, context, doctree):
    # After the theme's own handler (priority 500), which fills secondary_sidebar_items:
    # an empty list is what makes its layout leave the column out.
    if is_wide(pagename, app.config.dfp_wide_pages):
        context["secondary_sidebar_items"] = []


def setup(app):
    app.add_config_value("dfp_wide_pages", [], "html")
    app.connect("html-page-context", _no_contents_column, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
