"""The figure notebooks' parameters: what each may be, checked before anything runs.

Every notebook opens with one cell of literals tagged ``parameters``; papermill injects a cell
headed ``# Parameters`` after it. The cell after both calls ``dfp.check_parameters(globals(),
"figN")``, which stops the run at once, naming the parameter, the value and what is allowed,
when papermill was given a name the notebook does not have (a typo) or a value of the wrong
type or range. ``RULES`` holds one rule per parameter name, shared by every notebook.
"""

import ast
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dfp._vocabulary import ACTIVATIONS, LOSSES, OPTIMIZERS, PRECISIONS, PROFILES, RESNET_HEADS

__all__ = [
    "PROFILES",
    "SHARED",
    "ParameterError",
    "Parameters",
    "RULES",
    "assignments",
    "check_parameters",
    "notebook_parameters",
    "read_parameters",
    "profile_file",
    "shared_run",
    "sync_shared_parameters",
]


class ParameterError(ValueError):
    """A notebook parameter that is unknown, of the wrong type, or out of range."""


class Rule:
    """What one parameter may be: ``allowed`` says it in words, ``accepts`` decides."""

    def __init__(self, allowed, accepts):
        self.allowed = allowed
        self.accepts = accepts

    def __call__(self, value):
        try:
            return bool(self.accepts(value))
        except (TypeError, ValueError):
            return False


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value):
    return (_is_int(value) or isinstance(value, (float, np.floating))) and np.isfinite(value)


def integer(minimum=None, maximum=None):
    """An integer (not a bool), within [minimum, maximum] where given."""
    bounds = _bounds_text(minimum, maximum)
    return Rule(
        f"an integer{bounds}",
        lambda v: (
            _is_int(v) and (minimum is None or v >= minimum) and (maximum is None or v <= maximum)
        ),
    )


def number(*, above=None, below=None):
    """A finite number strictly between ``above`` and ``below`` where given."""
    parts = [
        f"> {above:g}" if above is not None else "",
        f"< {below:g}" if below is not None else "",
    ]
    text = " and ".join(p for p in parts if p)
    return Rule(
        "a finite number" + (f" {text}" if text else ""),
        lambda v: _is_number(v) and (above is None or v > above) and (below is None or v < below),
    )


def one_of(*choices):
    """One of the given values."""
    return Rule(f"one of {', '.join(repr(c) for c in choices)}", lambda v: v in choices)


def list_of(rule, *, increasing=False, length=None):
    """A non-empty list whose items each satisfy ``rule``."""
    size = f" of {length}" if length else " (at least one)"
    order = ", strictly increasing" if increasing else ""
    return Rule(
        f"a list{size} of {_plural(rule.allowed)}{order}",
        lambda v: (
            isinstance(v, list)
            and len(v) >= 1
            and (length is None or len(v) == length)
            and all(rule(item) for item in v)
            and (not increasing or all(a < b for a, b in zip(v, v[1:])))
        ),
    )


def either(first, second):
    """Satisfies one of two rules."""
    return Rule(f"{first.allowed}, or {second.allowed}", lambda v: first(v) or second(v))


def _pairs(value, names, accepts):
    """A list (at least one, none twice) of [name, number] pairs, the name among ``names``,
    the number one ``accepts``."""
    return (
        isinstance(value, list)
        and len(value) >= 1
        and all(
            isinstance(p, list) and len(p) == 2 and p[0] in names and accepts(p[1]) for p in value
        )
        and len({(p[0], float(p[1])) for p in value}) == len(value)
    )


def _trainings(value):
    return _pairs(value, OPTIMIZERS, lambda rate: _is_number(rate) and rate > 0)


def _heads(value):
    return _pairs(value, RESNET_HEADS, _COUNT)


def _residual_forms(value):
    return (
        isinstance(value, list)
        and len(value) >= 1
        and all(form in ("unscaled", "scaled") for form in value)
        and len(set(value)) == len(value)
    )


def _range(value):
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_number(v) and v > 0 for v in value)
        and value[0] < value[1]
    )


def _pad(value):
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(_is_number(v) and 0 <= v <= 6 for v in value)
    )


def _bounds_text(minimum, maximum):
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    return f" <= {maximum}" if maximum is not None else ""


def _plural(text):
    return (
        text.replace("an integer", "integers")
        .replace("a finite number", "finite numbers")
        .replace("one of", "values among")
    )


_COUNT = integer(1)
_SIZE = integer(2)
_SEED = integer(0)
_POSITIVE = number(above=0)

# One rule per parameter name, for every notebook. A name a notebook uses and this table lacks
# is an error (tests/test_parameters.py checks every notebook against it).
RULES = {
    "accuracy_fractions": list_of(number(above=0, below=1), increasing=True),
    "activation": Rule(
        f"a Keras activation name, one of {', '.join(map(repr, ACTIVATIONS))}",
        lambda v: v in ACTIVATIONS,
    ),
    "analysis_size": _SIZE,
    "batch_size": _COUNT,
    "control": Rule(
        "0 (no precision control) or a variant, one of 1, 2, 3, 4, trained again in float32 "
        "at seed and seed + 1 when precision is not float32",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v in (0, 1, 2, 3, 4),
    ),
    "dense_units": _COUNT,
    "depths": list_of(integer(3), increasing=True),
    "dimension": integer(1, 20),
    "epochs": _COUNT,
    "frequencies": list_of(_POSITIVE),
    "grid_pad": Rule("a list [below, above] of decades, each in 0 ... 6", _pad),
    "grid_points": integer(3),
    "grid_spacing": one_of("geometric", "uniform", "piecewise", "uniform_delta"),
    "heads": Rule(
        "a list (at least one, none twice) of heads [join, dense units], the join one of "
        f"{', '.join(map(repr, RESNET_HEADS))}, the units an integer >= 1, "
        "e.g. [['pool', 1024], ['flatten', 1024]]",
        _heads,
    ),
    "hidden_layers": either(_COUNT, list_of(_COUNT, increasing=True)),
    "inv_delta_max": _POSITIVE,
    "inv_delta_range": Rule("a list [low, high] of numbers with 0 < low < high", _range),
    "k_values": list_of(_POSITIVE, increasing=True),
    "learning_rate": _POSITIVE,
    "loss": one_of(*LOSSES),
    "max_epochs": _COUNT,
    "num_points": _SIZE,
    "precision": one_of(*PRECISIONS),
    "relative_threshold": _POSITIVE,
    "repeats": Rule(
        "an integer: 0 (no intervals) or the number of subsamples, at least 2",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and (v == 0 or v >= 2),
    ),
    "residual_forms": Rule(
        "a list (at least one, none twice) of 'unscaled' (h + tanh(W h + b)) and 'scaled' "
        "(h + tanh(W h + b)/sqrt(L-2)); the form once called 'plain' is now 'unscaled'",
        _residual_forms,
    ),
    "seed": _SEED,
    "seeds": list_of(_SEED),
    "snapshot_epoch": _SEED,
    "snapshot_epochs": list_of(integer(0), increasing=True),
    "sweep": Rule(
        "a sweep's name: letters, digits, '-' or '_' (sweeps/<name>.yaml)",
        lambda v: isinstance(v, str) and bool(v) and all(c.isalnum() or c in "-_" for c in v),
    ),
    "stop_loss": either(_POSITIVE, Rule("None (train all epochs)", lambda v: v is None)),
    "train_size": _COUNT,
    "trainings": Rule(
        "a list (at least one, none twice) of training settings [optimizer, learning rate], "
        f"the optimizer one of {', '.join(map(repr, OPTIMIZERS))}, the rate a number > 0, "
        "e.g. [['adam', 1e-05], ['sgd', 0.004]]",
        _trainings,
    ),
    "validation_size": _COUNT,
    "variants": list_of(one_of(1, 2, 3, 4)),
    "width": _COUNT,
    "x_half_widths": list_of(_POSITIVE),
}

# Training runs that several notebooks share. Their parameters are defined once, in the
# first notebook's parameters cell; the others' cells must read the same (checked when each
# runs, and by the tests; ``python -m dfp sync`` copies them over), and one
# profile file per profile, notebooks/params/<run>.<profile>.yaml, serves all of them.
SHARED = {
    "resnet18": {
        "notebooks": ("fig5", "fig6", "fig7"),
        "parameters": (
            "variants",
            "width",
            "dense_units",
            "train_size",
            "validation_size",
            "analysis_size",
            "epochs",
            "snapshot_epochs",
            "inv_delta_range",
            "grid_points",
            "seed",
            "precision",
            "control",
        ),
    },
}


def shared_run(notebook: str) -> str | None:
    """The name of the shared training run a notebook belongs to (see ``SHARED``), or None.

    Args:
        notebook: its name, e.g. "fig5".

    Returns:
        The run's name (a key of ``SHARED``), or None when it shares no run.
    """
    return next((run for run, spec in SHARED.items() if notebook in spec["notebooks"]), None)


def profile_file(notebook: str, profile: str) -> Path:
    """The parameter file of a notebook's profile, e.g. notebooks/params/fig8.paper.yaml.

    Figs. 5-7 share one file per profile (their shared run's: resnet18.paper.yaml).

    Args:
        notebook: its name, e.g. "fig8".
        profile: one of ``PROFILES`` but "book" (the notebook's own defaults have no file).

    Returns:
        The path, relative to the repository.
    """
    if profile not in PROFILES or profile == "book":
        allowed = ", ".join(p for p in PROFILES if p != "book")
        raise ValueError(f"unknown profile {profile!r} for a parameter file: use one of {allowed}")
    return Path("notebooks") / "params" / f"{shared_run(notebook) or notebook}.{profile}.yaml"


# The header papermill writes on the cell it injects (papermill.translators, comment "Parameters").
_INJECTED_HEADER = "# Parameters"


def notebook_parameters(notebook: str) -> dict[str, Any]:
    """The names and default values of a notebook's cell tagged ``parameters``.

    Args:
        notebook: its name, e.g. "fig8", found as fig8.ipynb here, in notebooks/ or in
            sweeps/ (the sweep page).

    Returns:
        {name: default value}, in the cell's order.
    """
    candidates = [Path(f"{notebook}.ipynb")] + [
        Path(folder) / f"{notebook}.ipynb" for folder in ("notebooks", "sweeps")
    ]
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        raise FileNotFoundError(f"{notebook}.ipynb is not here, in notebooks/ or in sweeps/")
    # Read as JSON (the notebook format), not through nbformat: a machine with no Jupyter (a
    # rented GPU) reads the parameters too.
    cells = [
        c
        for c in json.loads(path.read_text())["cells"]
        if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(cells) != 1:
        raise ValueError(f"{path} needs exactly one cell tagged 'parameters', found {len(cells)}")
    source = cells[0]["source"]
    return assignments(source if isinstance(source, str) else "".join(source))


def assignments(source: str) -> dict:
    """The ``name = literal`` assignments of a parameters cell's source, the one parser of it.

    Args:
        source: the cell's code.

    Returns:
        {name: value} in the cell's order; a value that is not a literal is None.
    """
    values = {}
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(statement.value)
                except ValueError:
                    values[target.id] = None
    return values


def injected_names(history):
    """Names assigned by papermill's injected cell, the last ``# Parameters`` cell run.

    Args:
        history: the sources of the cells run so far, oldest first (IPython's ``In``).

    Returns:
        The names, or an empty list when papermill injected nothing.
    """
    for source in reversed(list(history)):
        if source.lstrip().startswith(_INJECTED_HEADER + "\n"):
            return list(assignments(source))
    return []


class Parameters(dict):
    """A notebook's parameters as it runs: {name: value} in its cell's order, checked.

    What a page passes on, once read (``read_parameters``): to the run it keys
    (``dfp.runs.cached``), the table it shows and the summary of a committed result.

    Attributes:
        notebook: the notebook's name, e.g. "fig8".
    """

    def __init__(self, notebook: str, values: dict) -> None:
        super().__init__(values)
        self.notebook = notebook

    def without(self, *names: str) -> dict:
        """The parameters but ``names``: those that do not change the run being keyed (a
        grid applied after training, a list swept over run by run).

        Args:
            *names: parameters of the notebook to leave out.

        Returns:
            {name: value} of the others, in the cell's order.

        Raises:
            ParameterError: a name the notebook does not have.
        """
        unknown = sorted(set(names) - set(self))
        if unknown:
            raise ParameterError(
                f"{self.notebook} has no parameters {unknown}; its parameters: {', '.join(self)}"
            )
        return {name: value for name, value in self.items() if name not in names}


def read_parameters(
    namespace: dict, notebook: str, *, history: Iterable[str] | None = None
) -> Parameters:
    """Read a notebook's parameters cell once, check every value, and return them.

    Args:
        namespace: the notebook's ``globals()`` (papermill's injected values included).
        notebook: its name, e.g. "fig8".
        history: sources of the cells run so far; default: IPython's ``In`` in ``namespace``.

    Returns:
        ``Parameters``: every name of the cell with the value the notebook runs with.

    Raises:
        ParameterError: naming the parameter, its value and what is allowed.
    """
    defaults = notebook_parameters(notebook)
    check_parameters(namespace, notebook, history=history, defaults=defaults)
    return Parameters(notebook, {name: namespace[name] for name in defaults})


def check_parameters(
    namespace: Mapping[str, Any],
    notebook: str,
    *,
    history: Iterable[str] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> None:
    """Stop a notebook whose parameters are unknown, mistyped or out of range.

    Args:
        namespace: the notebook's ``globals()``.
        notebook: its name, e.g. "fig8".
        history: sources of the cells run so far; default: IPython's ``In`` in ``namespace``.
        defaults: the notebook's parameters cell (``notebook_parameters``), when already read.

    Returns:
        None; it raises when a parameter is not allowed.

    Raises:
        ParameterError: naming the parameter, its value and what is allowed.
    """
    if defaults is None:
        defaults = notebook_parameters(notebook)
    _check_shared(notebook, defaults)
    if history is None:
        history = namespace.get("In", [])
    unknown = [name for name in injected_names(history) if name not in defaults]
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, list(defaults), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ParameterError(
            f"{notebook}: unknown parameter {name!r} (set to {namespace.get(name)!r}).{hint} "
            f"This notebook's parameters: {', '.join(defaults)}."
        )
    for name in defaults:
        rule = RULES.get(name)
        if rule is None:
            raise ParameterError(
                f"{notebook}: parameter {name!r} has no rule in dfp.parameters.RULES"
            )
        value = namespace.get(name)
        if not rule(value):
            raise ParameterError(
                f"{notebook}: parameter {name!r} = {value!r} ({type(value).__name__}) "
                "is not allowed: "
                f"it must be {rule.allowed} (default {defaults[name]!r})."
            )


def _check_shared(notebook, defaults):
    """A notebook of a shared run must define the run's parameters as its first notebook does."""
    run = shared_run(notebook)
    if run is None:
        return
    spec = SHARED[run]
    first = spec["notebooks"][0]
    reference = defaults if notebook == first else notebook_parameters(first)
    for name in spec["parameters"]:
        if name not in defaults or name not in reference:
            raise ParameterError(
                f"{notebook}: the shared {run} run's parameter {name!r} is missing"
            )
        if defaults[name] != reference[name]:
            raise ParameterError(
                f"{notebook}: its parameters cell sets {name} = {defaults[name]!r}, but {first}, "
                f"which defines the {run} run it shares with {', '.join(spec['notebooks'])}, sets "
                f"{reference[name]!r}; run `python -m dfp sync` to copy {first}'s over."
            )


def sync_shared_parameters(root: Path | str = ".") -> list[Path]:
    """Copy each shared run's parameter lines from its first notebook into the others.

    Rewrites notebooks/<figN>.py (the files people edit) and their paired .ipynb.

    Args:
        root: the repository.

    Returns:
        The paths rewritten.
    """
    import jupytext  # deferred: only `python -m dfp sync` writes notebooks

    notebooks = Path(root) / "notebooks"
    changed = []
    for spec in SHARED.values():
        first, *others = spec["notebooks"]
        lines = (notebooks / f"{first}.py").read_text().splitlines()
        source = {
            name: next(line for line in lines if re.match(rf"{name}\s*=", line))
            for name in spec["parameters"]
        }
        for other in others:
            path = notebooks / f"{other}.py"
            text = path.read_text()
            new = text
            for name, line in source.items():
                new = re.sub(rf"(?m)^{name}\s*=.*$", lambda _, line=line: line, new, count=1)
            if new != text:
                path.write_text(new)
                notebook = jupytext.read(path)
                jupytext.write(notebook, path.with_suffix(".ipynb"))
                changed.append(path)
    return changed
