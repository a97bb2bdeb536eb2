"""dfp: a reproducible companion to "Deep Frequency Principle" (Xu & Zhou, AAAI 2021).

The public API is what this module re-exports; everything else is private.
"""

import os as _os

# TensorFlow prints start-up chatter to stderr that would clutter every book page.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dfp import models, plots, training  # noqa: E402
from dfp.claims import CLAIMS, glue_claim, longest_ordered_prefix, ordering  # noqa: E402
from dfp.data import cosines, sine  # noqa: E402
from dfp.runs import code_fingerprint  # noqa: E402
from dfp.spectral import (  # noqa: E402
    halfway_inv_delta,
    inv_delta_grid,
    lfr,
    lfr_floor,
    normalize_inputs,
    peak_inv_delta,
    rdf,
)

__version__ = "0.1.0"

__all__ = [
    "CLAIMS",
    "code_fingerprint",
    "cosines",
    "glue_claim",
    "halfway_inv_delta",
    "inv_delta_grid",
    "lfr",
    "longest_ordered_prefix",
    "lfr_floor",
    "models",
    "normalize_inputs",
    "ordering",
    "peak_inv_delta",
    "plots",
    "rdf",
    "sine",
    "training",
]
