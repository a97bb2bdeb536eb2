"""dfp: a reproducible companion to "Deep Frequency Principle" (Xu & Zhou, AAAI 2021).

The top level is the paper's measure, nothing else::

    import dfp
    grid = dfp.inv_delta_grid([(x, y)])          # a 1/delta grid proposed from the data
    curve = dfp.lfr(x, y, grid)                  # the LFR (eqs. 3-5), linear memory
    k0, density = dfp.rdf(grid, curve)           # the RDF (eq. 6) at the midpoints k0

and the submodules, each one idea, loaded on first use (PEP 562, as numpy and scipy do), so
``import dfp`` costs nothing it does not use: ``dfp.spectral`` (the measure), ``dfp.grids``,
``dfp.measure`` (any network's features in, curves and their positions out),
``dfp.intervals`` (how far a position moves with the sample: subsamples without duplicates),
``dfp.probe``
(any Keras model's layers, also during ``fit``), ``dfp.torch_probe`` (any PyTorch module,
through forward hooks; imports torch), ``dfp.models``, ``dfp.data``, ``dfp.training`` (the
loops), ``dfp.callbacks`` (spectra recorded during ``fit``), ``dfp.recipes`` (the experiments
notebooks and the GPU run share), ``dfp.verdicts`` (the one rule every comparison is decided
by), ``dfp.claims`` (a check per claim of the paper), and the book's machinery, which imports
no Keras: ``dfp.parameters``, ``dfp.runs``, ``dfp.storage``, ``dfp.results``, ``dfp.sweeps``,
``dfp.provenance``, ``dfp.page`` (page glue) and ``dfp.plots``. Modules starting with ``_``
are private.
"""

import importlib as _importlib
import os as _os

# TensorFlow prints start-up chatter to stderr that would clutter every book page.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

# The measure, in the paper's reading order, and the module that defines each name.
_MEASURE = {
    "lfr_reference": "spectral",
    "lfr": "spectral",
    "lfr_floor": "spectral",
    "rdf": "spectral",
    "normalize_inputs": "spectral",
    "inv_delta_grid": "grids",
    "effective_target": "models",
}

# The submodules, in the paper's reading order: the measure, its grids, the networks, the data,
# training, the verdicts, and the book's machinery.
MODULES = (
    "spectral",
    "grids",
    "measure",
    "intervals",
    "probe",
    "torch_probe",
    "models",
    "data",
    "training",
    "callbacks",
    "recipes",
    "verdicts",
    "claims",
    "parameters",
    "runs",
    "storage",
    "results",
    "sweeps",
    "provenance",
    "page",
    "plots",
)

__all__ = ["MODULES", "__version__", *_MEASURE, *MODULES]


def __getattr__(name):
    if name in _MEASURE:
        value = getattr(_importlib.import_module(f"dfp.{_MEASURE[name]}"), name)
    elif name in MODULES:
        value = _importlib.import_module(f"dfp.{name}")
    else:
        raise AttributeError(
            f"module 'dfp' has no attribute {name!r}; its top level is the measure "
            f"({', '.join(_MEASURE)}) and the submodules ({', '.join(MODULES)})"
        )
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
