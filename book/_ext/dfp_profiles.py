"""Sphinx extension: the intro's table of what each figure runs, read from the profiles.

``{{ profile_table }}`` (a MyST substitution) is a Markdown table with one row per figure
notebook's parameter that a larger profile (``medium``, ``paper``) sets: the value the
notebook runs with by default (the ``book`` profile, its cell tagged ``parameters``) and
under each larger profile (notebooks/params/<figure or shared run>.<profile>.yaml, read as
the workflow reads it). Figs. 5-7 share one run and one row group (``dfp.parameters.SHARED``).
Nothing in it is typed: a changed profile or default changes the table at the next build.
"""

import contextlib
from pathlib import Path

import yaml

from dfp.parameters import PROFILES, SHARED, notebook_parameters, profile_file, shared_run

# The profiles the table shows beside the defaults: the larger ones (``tiny`` is the tests').
SHOWN = tuple(p for p in PROFILES if p not in ("book", "tiny"))
# A cell of a profile that has no file for the figure.
NO_FILE = "—"
# A list longer than this shows its ends and its length (a snapshot every few epochs).
LONGEST_LIST = 12


def cell(value):
    """A value as the table shows it: as Python writes it, a long list by its ends.

    Args:
        value: a parameter's value.

    Returns:
        Markdown: e.g. "`[3, 4, 5]`", or "`[0, 1, 2, …, 296, 300]` (78 values)".
    """
    if isinstance(value, list) and len(value) > LONGEST_LIST:
        ends = ", ".join(repr(v) for v in value[:3]) + ", …, "
        ends += ", ".join(repr(v) for v in value[-2:])
        return f"`[{ends}]` ({len(value)} values)"
    return f"`{value!r}`"


def figure_label(notebooks):
    """How the book names a figure notebook, or the notebooks of a shared run.

    Args:
        notebooks: notebook names, e.g. ("fig1a",) or ("fig5", "fig6", "fig7").

    Returns:
        e.g. "Fig. 1a", "Figs. 5, 6, 7", "Parity", "Figs. 6, 7 at initialisation".
    """
    if tuple(notebooks) == ("resnet_init",):
        return "Figs. 6, 7 at initialisation"
    numbers = [n.removeprefix("fig") for n in notebooks if n.startswith("fig")]
    if len(numbers) != len(notebooks):
        return ", ".join(n.capitalize() for n in notebooks)
    return ("Figs. " if len(numbers) > 1 else "Fig. ") + ", ".join(numbers)


def figure_runs(repository):
    """The figure notebooks grouped by run: a shared run's notebooks together, in order.

    Args:
        repository: the repository's root (notebooks/<name>.py are the figures).

    Returns:
        [(notebooks, profile stem)]: e.g. (("fig5", "fig6", "fig7"), "resnet18").
    """
    runs = []
    for source in sorted((Path(repository) / "notebooks").glob("*.py")):
        run = shared_run(source.stem)
        notebooks = SHARED[run]["notebooks"] if run else (source.stem,)
        if (notebooks, run or source.stem) not in runs:
            runs.append((notebooks, run or source.stem))
    return runs


def profile_values(repository, notebook):
    """A notebook's values under its defaults and each shown profile that has a file.

    Args:
        repository: the repository's root.
        notebook: the notebook whose defaults and profile files are read, e.g. "fig5".

    Returns:
        ({name: default}, {profile: {name: value the profile sets}}), the second only for
        the profiles of ``SHOWN`` that have a file.
    """
    repository = Path(repository)
    with contextlib.chdir(repository):  # notebook_parameters reads notebooks/<name>.ipynb
        defaults = notebook_parameters(notebook)
    profiles = {}
    for profile in SHOWN:
        path = repository / profile_file(notebook, profile)
        if path.exists():
            profiles[profile] = yaml.safe_load(path.read_text()) or {}
    return defaults, profiles


def profile_table(repository):
    """The Markdown table of what each figure runs under its defaults and larger profiles.

    Args:
        repository: the repository's root.

    Returns:
        A Markdown table: figure, parameter, then one column per profile (``book`` first),
        each cell the value (``cell``); "—" where the figure has no such profile.
    """
    header = ["figure", "parameter", "book (defaults)", *SHOWN]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for notebooks, stem in figure_runs(repository):
        defaults, profiles = profile_values(repository, notebooks[0])
        names = [n for n in defaults if any(n in values for values in profiles.values())]
        label = f"[{figure_label(notebooks)}](../notebooks/{notebooks[0]}.ipynb)"
        if len(notebooks) > 1:
            label += f" (`{stem}`)"
        for row, name in enumerate(names):
            cells = [label if row == 0 else "", f"`{name}`", cell(defaults[name])]
            for profile in SHOWN:
                values = profiles.get(profile)
                cells.append(NO_FILE if values is None else cell(values.get(name, defaults[name])))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _substitutions(app, config):
    repository = (Path(app.srcdir) / "dfp").resolve().parent
    table = profile_table(repository)
    config.myst_substitutions = {**(config.myst_substitutions or {}), "profile_table": table}


def setup(app):
    app.connect("config-inited", _substitutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
