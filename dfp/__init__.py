"""dfp: a reproducible companion to "Deep Frequency Principle" (Xu & Zhou, AAAI 2021).

The public API is what this module re-exports; everything else is private.
"""

import os as _os

# TensorFlow prints start-up chatter to stderr that would clutter every book page.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dfp import data, models, parameters, plots, runs, training  # noqa: E402
from dfp.claims import (  # noqa: E402
    CLAIMS,
    curve_positions,
    deep_frequency_check,
    faster_toward_low_frequency,
    fewer_epochs_check,
    glue_claim,
    glue_deep_frequency,
    longest_ordered_prefix,
    ordered_on_grid,
    ordering,
    show_parameters,
    span,
    verdict,
)
from dfp.parameters import check_parameters  # noqa: E402
from dfp.data import cosines, sine  # noqa: E402
from dfp.runs import code_fingerprint  # noqa: E402
from dfp.spectral import (  # noqa: E402
    grid_step_at,
    halfway_inv_delta,
    inv_delta_grid,
    lfr,
    lfr_dense,
    lfr_floor,
    normalize_inputs,
    peak_inv_delta,
    rdf,
)

__version__ = "0.1.0"

__all__ = [
    "CLAIMS",
    "check_parameters",
    "code_fingerprint",
    "cosines",
    "curve_positions",
    "data",
    "deep_frequency_check",
    "faster_toward_low_frequency",
    "fewer_epochs_check",
    "glue_claim",
    "glue_deep_frequency",
    "grid_step_at",
    "halfway_inv_delta",
    "inv_delta_grid",
    "lfr",
    "lfr_dense",
    "longest_ordered_prefix",
    "lfr_floor",
    "models",
    "normalize_inputs",
    "ordered_on_grid",
    "ordering",
    "peak_inv_delta",
    "parameters",
    "plots",
    "rdf",
    "runs",
    "show_parameters",
    "sine",
    "span",
    "training",
    "verdict",
]
