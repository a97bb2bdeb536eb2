"""dfp: a reproducible companion to "Deep Frequency Principle" (Xu & Zhou, AAAI 2021).

The public API, by one rule: every name in the ``__all__`` of a module in ``MODULES`` is
re-exported here (``dfp.lfr`` is ``dfp.spectral.lfr``), and the modules themselves are
attributes (``dfp.training.Spectra``). Everything else, modules starting with ``_``
included, is private.
"""

import importlib as _importlib
import os as _os

# TensorFlow prints start-up chatter to stderr that would clutter every book page.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

# In the paper's reading order: the measure, its grids, the networks, the data, training,
# the verdicts, and the book's plumbing.
MODULES = (
    "spectral",
    "grids",
    "models",
    "data",
    "training",
    "claims",
    "runs",
    "sweeps",
    "results",
    "provenance",
    "parameters",
    "plots",
)

__all__ = ["MODULES", "__version__", *MODULES]
for _name in MODULES:
    _module = _importlib.import_module(f"dfp.{_name}")
    globals()[_name] = _module
    for _public in _module.__all__:
        globals()[_public] = getattr(_module, _public)
        __all__.append(_public)
