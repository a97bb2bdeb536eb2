"""Measure any network's features: arrays in, the LFR and RDF out, with the curve's positions.

``measure(features, targets)`` takes n points of any layer (or any data set) and returns a
``Measurement``: the paper's low frequency ratio and ratio density function on a grid of 1/δ,
where the curve rises and where its density peaks, and how far those positions move from one
sample of the data to another. What is measured, in reading order:

1. **The points.** ``features`` of shape (n, ...) are flattened to (n, d); ``targets`` are
   (n,) or (n, d_o) real numbers (one-hot labels, a regression target, or a layer's effective
   target, eq. 11). With ``normalize=True`` (the paper's choice, the default) each input
   dimension is divided by its largest absolute value over the n points, so every coordinate lies in
   [-1, 1] (a dimension that is zero everywhere is left as it is); ``normalize=False`` keeps
   the raw inputs. Integer class labels of shape (n,) are refused unless ``classes=`` says
   to one-hot encode them: filtering a label's number, as if class 7 lay between 6 and 8,
   would measure nothing of the network.
2. **The LFR** (eqs. 3-5) at each 1/δ of a grid: the targets are smoothed by the Gaussian
   filter ``G(x_i - x_j) = exp(-|x_i - x_j|² / (2δ))``, normalised over each row, the point
   itself included, and the LFR is the fraction of the targets' power that survives,
   ``Σ_i |y_low_i|² / Σ_i |y_i|²``. δ is the variance of the filter on the (normalised) inputs,
   so 1/δ has units of 1 / (squared distance of normalised inputs): 1/δ = 1 is a filter of
   standard deviation 1, the width of one normalised coordinate. The LFR rises from its
   floor ``|mean y|² / mean |y|²`` (every point sees the mean of all targets) as 1/δ → 0 to 1
   as the filter keeps every frequency. It is computed exactly (within 1e-5) in memory
   linear in n by ``dfp.spectral.lfr``. Unless a grid is given, ``dfp.grids.inv_delta_grid``
   proposes one from the data that runs from where the LFR still sits at its floor to where
   it has reached 0.99.
3. **The RDF** (eq. 6), dLFR/d(1/δ), taken as the slope between consecutive grid points and
   placed at their midpoints k0: the density of the targets' power in frequency. Its units
   are those of δ.
4. **The half-way point**: the 1/δ where the LFR first reaches half-way between its floor
   and 1, interpolated linearly between grid points (NaN when the grid does not bracket it).
   Smaller means the targets' power sits at lower frequency: the deep frequency principle
   says it moves lower layer after layer.
5. **The peak**: the midpoint k0 of the grid interval where the RDF is largest.
6. **Intervals**, by resampling without duplicates (``dfp.intervals``): ``repeats``
   subsamples of round(fraction · n) distinct points (drawn with
   ``numpy.random.default_rng(seed)``), each measured on the same grid, each keeping the full
   set's normalisation (a subset of the same point cloud). A subsample of fraction f sees its
   nearest neighbours farther apart, so its LFR rises at larger distances and its positions
   sit systematically lower in 1/δ than the full set's: the subsamples give the spread of a
   position, not its centre. The interval of the half-way point and of the peak is centred
   on the full set's value on a log scale, ``value · exp(± z · s · sqrt(f / (1 - f)))``, with
   s the standard deviation of the subsamples' log positions, z the standard normal quantile
   of (1 + level) / 2, and sqrt(f / (1 - f)) the half-sampling rule's factor that turns the
   spread of f-subsamples into the standard error of the full set (1 for f = 1/2). It always
   contains the full set's value, and over many samples of n points from one distribution it
   covers their typical (median) position about ``level`` of the time (NaNs dropped; None
   when fewer than half the repeats give a finite value). Cost: the kernel sums are
   quadratic in n, so the resampling costs about repeats · fraction² times the full
   measurement (5 times with the defaults, ``dfp.intervals.RESAMPLE_REPEATS`` subsamples of
   ``dfp.intervals.RESAMPLE_FRACTION`` of the points); ``repeats=0`` gives no intervals.

Example::

    import json
    from dfp.measure import measure

    m = measure(hidden_activations, one_hot_labels)
    print(m.halfway, m.halfway_interval, m.peak)
    with open("rdf.json", "w") as f:
        json.dump(m.to_json(), f)

From the command line, on saved arrays: ``python -m dfp measure FEATURES.npy TARGETS.npy
--out rdf.json --plot rdf.png`` (``python -m dfp measure --help``).

**The JSON format "dfp.measurement/2"** (``Measurement.to_json``; ``Measurement.from_json``
reads it back, and reads "dfp.measurement/1" records as said below). One object; every
number a JSON number, NaN written as null; 1/δ and k0 in units of 1 / (squared distance of
the normalised inputs, or of the raw inputs when "normalize" is false), the RDF in units of
δ, the LFR and its floor dimensionless in [0, 1]:

- "format" (string): "dfp.measurement/2".
- "n" (integer): the number of points; "d" (integer): input dimensions after flattening.
- "normalize" (boolean): whether each input dimension was divided by its max ``|value|``.
- "inv_delta_unit" (string): the unit of 1/δ in words (for readers; ignored when read back).
- "inv_delta" (K numbers): the grid of 1/δ, strictly increasing.
- "lfr" (K numbers): the LFR at each grid value.
- "floor" (number): ``|mean y|² / mean |y|²``, the LFR as 1/δ → 0.
- "k0" (K - 1 numbers): midpoints of consecutive grid values, where the RDF is given.
- "rdf" (K - 1 numbers): dLFR/d(1/δ) at each k0.
- "halfway" (number or null): the 1/δ where the LFR is half-way from its floor to 1; null
  when the grid does not bracket it.
- "peak" (number): the k0 where the RDF is largest.
- "halfway_interval", "peak_interval" ([low, high] or null): the "level" interval centred
  on the full set's value (paragraph 6); null without resampling, when the full set's
  position is null, or when fewer than half the subsamples give a value.
- "resampling" (object): {"repeats": integer, "fraction": number, "level": number, "seed":
  integer or null}, or {} when no subsamples were measured.
- "halfway_samples", "peak_samples" (``repeats`` numbers or null each): the position in
  each subsample, in the order drawn.

"dfp.measurement/1" has the same fields, but its intervals are the central "level" quantile
ranges of the subsamples, biased low in 1/δ. ``Measurement.from_json`` reads such a record
by recomputing its intervals from its samples as paragraph 6 says (everything else is
unchanged), and refuses one that lacks the samples.
"""

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from dfp.grids import inv_delta_grid
from dfp.intervals import (
    RESAMPLE_FRACTION,
    RESAMPLE_REPEATS,
    interval,
    position_draws,
    subsamples,
)
from dfp.spectral import halfway_inv_delta, lfr, lfr_floor, peak_inv_delta, rdf

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FORMAT", "Measurement", "measure", "plot"]

# The name and version of the JSON format written by ``Measurement.to_json``: /2 since the
# intervals are centred on the full set's value (/1: quantiles of the subsamples, read back by
# recomputing the intervals from the samples).
FORMAT = "dfp.measurement/2"
_FORMAT_1 = "dfp.measurement/1"

# The fields of a record, each checked by ``Measurement.from_json``.
_ARRAYS = ("inv_delta", "lfr", "k0", "rdf")
_REQUIRED = (
    "n",
    "d",
    "normalize",
    *_ARRAYS,
    "floor",
    "halfway",
    "peak",
    "halfway_interval",
    "peak_interval",
    "resampling",
)


def _frozen_array(values, name):
    """A read-only float64 1-D copy (None in a JSON list becomes NaN)."""
    if isinstance(values, (list, tuple)):
        values = [math.nan if v is None else v for v in values]
    array = np.array(values, dtype=np.float64).reshape(-1)
    array.setflags(write=False)
    return array


def _interval_or_none(value):
    if value is None:
        return None
    low, high = (float(v) for v in value)
    return (low, high)


def _number(value):
    """A float for JSON: NaN (and inf) become null."""
    value = float(value)
    return value if math.isfinite(value) else None


def _numbers(values):
    return [_number(v) for v in values]


@dataclasses.dataclass(frozen=True, eq=False)  # __eq__ below: arrays compare as records
class Measurement:
    """The LFR and RDF of one set of (features, targets), with the curve's positions.

    Made by ``measure``; the module docstring says what each quantity is. 1/δ (``inv_delta``,
    ``k0``, ``halfway``, ``peak`` and the intervals) is in units of 1 / (squared distance of
    the normalised inputs, or of the raw inputs when ``normalize`` is ``False``). Arrays are
    read-only float64. Two measurements are equal when their JSON records are.

    Attributes:
        inv_delta: the grid of 1/δ, shape (K,), strictly increasing.
        lfr: the LFR at each grid value, shape (K,).
        floor: ``|mean y|² / mean |y|²``, the LFR as 1/δ → 0.
        k0: midpoints of consecutive grid values, shape (K - 1,): where the RDF is given.
        rdf: dLFR/d(1/δ) at ``k0``, shape (K - 1,).
        halfway: the 1/δ where the LFR is half-way between its floor and 1; NaN when the
            grid does not bracket it.
        peak: the ``k0`` where the RDF is largest.
        halfway_interval: (low, high), the ``level`` interval of the half-way point, centred
            on it on a log scale, its width from the subsamples' spread
            (``dfp.intervals.interval``), or None (no resampling, the full set's half-way
            point is NaN, or fewer than half the subsamples bracket it).
        peak_interval: the same for the peak.
        n: the number of points.
        d: the number of input dimensions after flattening.
        normalize: whether each input dimension was divided by its max ``|value|``.
        resampling: {"repeats", "fraction", "level", "seed"}, or {} when none was done.
        halfway_samples: each subsample's half-way point (NaN where not bracketed), in the
            order drawn, shape (repeats,).
        peak_samples: each subsample's peak, shape (repeats,).
    """

    inv_delta: np.ndarray
    lfr: np.ndarray
    floor: float
    k0: np.ndarray
    rdf: np.ndarray
    halfway: float
    peak: float
    halfway_interval: tuple[float, float] | None
    peak_interval: tuple[float, float] | None
    n: int
    d: int
    normalize: bool
    resampling: dict
    halfway_samples: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    peak_samples: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))

    def __post_init__(self):
        set_ = object.__setattr__
        for name in (*_ARRAYS, "halfway_samples", "peak_samples"):
            set_(self, name, _frozen_array(getattr(self, name), name))
        for name in ("floor", "halfway", "peak"):
            set_(
                self, name, math.nan if getattr(self, name) is None else float(getattr(self, name))
            )
        for name in ("halfway_interval", "peak_interval"):
            set_(self, name, _interval_or_none(getattr(self, name)))
        set_(self, "n", int(self.n))
        set_(self, "d", int(self.d))
        set_(self, "normalize", bool(self.normalize))
        set_(self, "resampling", dict(self.resampling or {}))
        k = len(self.inv_delta)
        if k < 2 or len(self.lfr) != k or len(self.k0) != k - 1 or len(self.rdf) != k - 1:
            raise ValueError(
                f"inconsistent measurement: a grid of {k} values needs {k} LFR values and "
                f"{k - 1} k0 and RDF values, got {len(self.lfr)}, {len(self.k0)} and "
                f"{len(self.rdf)}"
            )

    def __eq__(self, other):
        if not isinstance(other, Measurement):
            return NotImplemented
        return self.to_json() == other.to_json()

    def to_json(self) -> dict:
        """The measurement as a JSON-ready dict in the format "dfp.measurement/2".

        The format is documented field by field in the ``dfp.measure`` module docstring:
        "format", "n", "d", "normalize", "inv_delta_unit", "inv_delta", "lfr", "floor",
        "k0", "rdf", "halfway", "peak", "halfway_interval", "peak_interval", "resampling",
        "halfway_samples", "peak_samples". Arrays become lists of floats, NaN becomes None
        (null), intervals become [low, high] or None, so ``json.dump(..., allow_nan=False)``
        writes strict JSON.

        Returns:
            A dict of plain Python values (str, int, float, bool, None, list, dict).
        """
        inputs = "normalised inputs" if self.normalize else "raw inputs"
        return {
            "format": FORMAT,
            "n": self.n,
            "d": self.d,
            "normalize": self.normalize,
            "inv_delta_unit": f"1 / (squared distance of the {inputs})",
            "inv_delta": _numbers(self.inv_delta),
            "lfr": _numbers(self.lfr),
            "floor": _number(self.floor),
            "k0": _numbers(self.k0),
            "rdf": _numbers(self.rdf),
            "halfway": _number(self.halfway),
            "peak": _number(self.peak),
            "halfway_interval": None
            if self.halfway_interval is None
            else _numbers(self.halfway_interval),
            "peak_interval": None if self.peak_interval is None else _numbers(self.peak_interval),
            "resampling": dict(self.resampling),
            "halfway_samples": _numbers(self.halfway_samples),
            "peak_samples": _numbers(self.peak_samples),
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> "Measurement":
        """Read back a record written by ``to_json`` (for example from ``json.load``).

        Args:
            record: a dict in the format "dfp.measurement/2"; "inv_delta_unit",
                "halfway_samples" and "peak_samples" may be absent. A "dfp.measurement/1"
                record (intervals that were quantiles of the subsamples) is read with its
                intervals recomputed from its samples, centred on the full set's values.

        Returns:
            The ``Measurement``, equal to the one that wrote the record (for a /1 record:
            the one ``measure`` now gives on the same data).

        Raises:
            ValueError: the record is not a dict, names another format (or none), lacks a
                field, its arrays do not fit together, or it is a /1 record with intervals
                but without the samples to recompute them from.
        """
        if not isinstance(record, Mapping):
            raise ValueError(f"a measurement record is a JSON object, got {type(record).__name__}")
        found = record.get("format")
        if found not in (FORMAT, _FORMAT_1):
            raise ValueError(
                f"not a dfp measurement record: its format is {found!r}, expected {FORMAT!r} "
                f"(or the older {_FORMAT_1!r})"
            )
        missing = [name for name in _REQUIRED if name not in record]
        if missing:
            raise ValueError(f"the {found} record lacks {', '.join(missing)}")
        if found == _FORMAT_1:
            record = _from_format_1(record)
        return cls(
            inv_delta=record["inv_delta"],
            lfr=record["lfr"],
            floor=record["floor"],
            k0=record["k0"],
            rdf=record["rdf"],
            halfway=record["halfway"],
            peak=record["peak"],
            halfway_interval=record["halfway_interval"],
            peak_interval=record["peak_interval"],
            n=record["n"],
            d=record["d"],
            normalize=record["normalize"],
            resampling=record["resampling"],
            halfway_samples=record.get("halfway_samples", []),
            peak_samples=record.get("peak_samples", []),
        )


def _from_format_1(record):
    """A "dfp.measurement/1" record with its intervals recomputed as /2 defines them."""
    record = dict(record)
    resampling = record["resampling"] or {}
    if not resampling:
        return record  # no resampling: no intervals, the same in both formats
    for position in ("halfway", "peak"):
        samples = record.get(f"{position}_samples")
        if samples is None or len(samples) != resampling["repeats"]:
            raise ValueError(
                f"this {_FORMAT_1} record has intervals that were quantiles of the subsamples "
                f"(biased low), and lacks the {position}_samples to recompute them centred on "
                "the full set's value: measure the data again"
            )
        value = math.nan if record[position] is None else record[position]
        draws = [math.nan if v is None else v for v in samples]
        record[f"{position}_interval"] = interval(
            value, draws, resampling["fraction"], resampling["level"]
        )
    return record


def _real_array(values, name):
    """An array of real numbers, or a ValueError that says what ``name`` was."""
    try:
        array = np.asarray(values)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{name} cannot be read as an array: {error}") from None
    if array.dtype == np.bool_:
        array = array.astype(np.float64)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"{name} must be real numbers, got an array of dtype {array.dtype}")
    return array


def _features(features):
    x = _real_array(features, "features")
    if x.ndim == 0:
        raise ValueError("features must be an array of shape (n, ...), got a scalar")
    if len(x) < 4:
        raise ValueError(f"measure needs at least 4 points, got {len(x)}")
    x = x.reshape(len(x), -1)
    if x.dtype != np.float32:  # float32 activations are kept as they are (half the memory)
        x = x.astype(np.float64)
    if x.shape[1] == 0:
        raise ValueError(f"features have no dimensions: shape {np.shape(features)}")
    bad = ~np.isfinite(x)
    if bad.any():
        rows = np.nonzero(bad.any(axis=1))[0]
        raise ValueError(
            f"features contain NaN or inf in {len(rows)} of {len(x)} points "
            f"(first at point {rows[0]}): remove or fix those points"
        )
    return x


def _targets(targets, classes, n):
    y = _real_array(targets, "targets")
    if y.ndim not in (1, 2):
        raise ValueError(f"targets must have shape (n,) or (n, d_o), got {y.shape}")
    if classes is not None:
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                f"classes={classes} one-hot encodes integer labels of shape (n,), got targets "
                f"of dtype {y.dtype} and shape {y.shape}"
            )
        if int(classes) != classes or classes < 2:
            raise ValueError(f"classes must be an integer >= 2, got {classes}")
        if y.size and (y.min() < 0 or y.max() >= classes):
            raise ValueError(
                f"labels must lie in 0 .. {int(classes) - 1} for classes={classes}, "
                f"got {y.min()} .. {y.max()}"
            )
        y = np.eye(int(classes))[y]
    elif y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            "targets are integer labels of shape (n,): the LFR filters the targets' values, "
            "so labels must be one-hot encoded. Pass one-hot targets of shape (n, classes), "
            "classes=<number of classes> to one-hot encode them here, or float targets "
            "(targets.astype(float)) if the integers are really a regression target"
        )
    y = y.reshape(len(y), -1).astype(np.float64)
    if len(y) != n:
        raise ValueError(f"features have {n} points but targets have {len(y)}: they must match")
    bad = ~np.isfinite(y)
    if bad.any():
        rows = np.nonzero(bad.any(axis=1))[0]
        raise ValueError(
            f"targets contain NaN or inf in {len(rows)} of {len(y)} points "
            f"(first at point {rows[0]}): remove or fix those points"
        )
    if not np.any(y):
        raise ValueError("targets are zero everywhere: the LFR, a ratio of powers, is undefined")
    return y


def _grid(inv_delta):
    grid = _real_array(inv_delta, "inv_delta").astype(np.float64)
    if grid.ndim != 1 or grid.size < 2:
        raise ValueError(
            f"inv_delta must be a 1-D grid of at least two values of 1/δ, got shape {grid.shape}"
        )
    if not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError("inv_delta must be positive and finite: 1/δ is an inverse variance")
    if np.any(np.diff(grid) <= 0):
        raise ValueError(
            "inv_delta must be strictly increasing: the RDF is the slope between "
            "consecutive grid values"
        )
    return grid


def _check_resampling(n, repeats, fraction, level):
    if int(repeats) != repeats or repeats < 0:
        raise ValueError(f"repeats must be an integer >= 0 (0: no intervals), got {repeats}")
    if repeats == 1:
        raise ValueError("repeats must be 0 (no intervals) or at least 2: a spread needs two")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    size = round(fraction * n)
    if repeats and not 2 <= size < n:
        raise ValueError(
            f"fraction = {fraction} of n = {n} points is {size}: a subsample needs between 2 "
            f"and n - 1 = {n - 1} points; choose another fraction, or repeats=0"
        )
    return size


def _halfway(grid, values, floor):
    """``halfway_inv_delta``, NaN where the grid does not bracket the half-way level."""
    try:
        return halfway_inv_delta(grid, values, floor)
    except ValueError:
        return math.nan


def measure(
    features: ArrayLike,
    targets: ArrayLike,
    inv_delta: ArrayLike | None = None,
    *,
    grid_points: int = 60,
    normalize: bool = True,
    repeats: int = RESAMPLE_REPEATS,
    fraction: float = RESAMPLE_FRACTION,
    level: float = 0.9,
    seed: int | None = 0,
    classes: int | None = None,
) -> Measurement:
    """The LFR and RDF of (features, targets), their half-way point and peak, with intervals.

    The module docstring says what each quantity is, its units, and how the intervals are
    drawn. The cost is that of ``dfp.spectral.lfr`` on the full set (time quadratic in n and
    linear in d and in the grid's length; memory linear in n), plus the grid's probe when no
    grid is given, plus about ``repeats * fraction**2`` times the full measurement for the
    intervals (5 times with the defaults).

    Args:
        features: the inputs, shape (n, ...) (a layer's activations, images), flattened to
            (n, d); float32 arrays are not copied to float64.
        targets: shape (n,) or (n, d_o), real numbers: one-hot labels, a regression target,
            or a layer's effective target. Integer labels of shape (n,) are refused unless
            ``classes`` is given.
        inv_delta: the grid of 1/δ, positive and strictly increasing, at least two values;
            None (default): ``dfp.grids.inv_delta_grid`` proposes one from the data, from
            where the LFR sits at its floor to where it reaches 0.99.
        grid_points: the number of values of the proposed grid (ignored with ``inv_delta``).
        normalize: divide each input dimension by its largest ``|value|`` first (the paper's
            choice); 1/δ is then in units of 1 / (squared distance of normalised inputs).
        repeats: how many subsamples to measure for the intervals, at least 2; 0: no
            intervals.
        fraction: each subsample holds round(fraction * n) distinct points, in (0, 1).
        level: the intervals' coverage, in (0, 1): each is centred on the full set's
            position, ``z`` standard errors wide on a log scale, ``z`` the standard normal
            quantile of (1 + level) / 2.
        seed: seeds ``numpy.random.default_rng`` for the subsamples (None: fresh entropy).
        classes: one-hot encode integer labels of shape (n,) into this many classes.

    Returns:
        A ``Measurement``.

    Raises:
        ValueError: features and targets with different numbers of points, fewer than 4
            points, NaN or inf in either, targets zero everywhere, integer labels without
            ``classes``, a grid that is not positive and strictly increasing, ``repeats``
            < 0 or 1, ``fraction`` or ``level`` outside (0, 1), or a fraction whose subsamples
            would hold fewer than 2 or all n points.
    """
    x = _features(features)
    y = _targets(targets, classes, len(x))
    n, d = x.shape
    _check_resampling(n, repeats, fraction, level)
    if inv_delta is None:
        if int(grid_points) != grid_points or grid_points < 2:
            raise ValueError(f"grid_points must be an integer >= 2, got {grid_points}")
        grid = inv_delta_grid([(x, y)], points=int(grid_points), normalize=normalize)
    else:
        grid = _grid(inv_delta)

    values = lfr(x, y, grid, normalize=normalize)
    floor = lfr_floor(y)
    k0, density = rdf(grid, values)

    halfway = _halfway(grid, values, floor)
    peak = peak_inv_delta(grid, values)
    halfway_samples = peak_samples = np.empty(0)
    halfway_interval = peak_interval = None
    if repeats:
        # Subsamples keep the full set's normalisation: each is a subset of one point cloud.
        subsets = subsamples(n, repeats=int(repeats), fraction=fraction, seed=seed)
        draws = position_draws([(x, y)], grid, subsets, normalize=normalize)
        halfway_samples, peak_samples = draws["halfway"][0], draws["peak"][0]
        halfway_interval = interval(halfway, halfway_samples, fraction, level)
        peak_interval = interval(peak, peak_samples, fraction, level)
        resampling = {
            "repeats": int(repeats),
            "fraction": float(fraction),
            "level": float(level),
            "seed": None if seed is None else int(seed),
        }
    else:
        resampling = {}

    return Measurement(
        inv_delta=grid,
        lfr=values,
        floor=floor,
        k0=k0,
        rdf=density,
        halfway=halfway,
        peak=peak,
        halfway_interval=halfway_interval,
        peak_interval=peak_interval,
        n=n,
        d=d,
        normalize=normalize,
        resampling=resampling,
        halfway_samples=halfway_samples,
        peak_samples=peak_samples,
    )


def plot(measurement: Measurement, path: str | None = None, *, log: bool | None = None) -> "Figure":
    """Draw the LFR and the RDF of a measurement, one above the other, with their positions.

    The top panel shows the LFR, its floor and the half-way level, the half-way point and its
    interval; the bottom panel the density and the peak with its interval. On a linear 1/δ
    axis the density is the RDF, dLFR/d(1/δ); on a log axis it is the density per log unit,
    dLFR/d ln(1/δ) = 1/δ × RDF, so that equal areas are equal power on the page. The
    axis labels say which. Needs matplotlib (imported only here).

    Args:
        measurement: what ``measure`` returned (or ``Measurement.from_json`` read).
        path: where to save the figure (the format from the suffix, e.g. .png, .pdf);
            None: do not save.
        log: a log 1/δ axis; None (default): log when the grid spans more than a decade.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ImportError: matplotlib is not installed.
    """
    from matplotlib.figure import Figure  # deferred: plotting is optional; measuring needs none

    m = measurement
    if log is None:
        log = m.inv_delta[-1] / m.inv_delta[0] > 10
    unit = "normalised inputs" if m.normalize else "raw inputs"
    figure = Figure(figsize=(6.4, 6.0), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.plot(m.inv_delta, m.lfr, "o-", markersize=3, label="LFR (eqs. 3-5)")
    top.axhline(m.floor, color="0.6", linestyle=":", label=f"floor {m.floor:.3g}")
    top.axhline((m.floor + 1) / 2, color="0.6", linestyle="--", label="half-way level")
    density = m.k0 * m.rdf if log else m.rdf
    bottom.plot(m.k0, density, "o-", markersize=3, color="C1")
    for axes, value, span, name, color in (
        (top, m.halfway, m.halfway_interval, "half-way point", "C0"),
        (bottom, m.peak, m.peak_interval, "RDF peak" + (" (of dLFR/d(1/δ))" if log else ""), "C1"),
    ):
        if math.isfinite(value):
            axes.axvline(value, color=color, linewidth=1, label=f"{name} {value:.3g}")
        if span is not None:
            level = m.resampling.get("level", math.nan)
            axes.axvspan(*span, color=color, alpha=0.15, label=f"{level:.0%} interval")
        axes.legend(fontsize="small")
    top.set_ylabel("LFR")
    if log:
        bottom.set_xscale("log")
        bottom.set_ylabel("dLFR / d ln(1/δ)\n(density per log unit)")
        scale = "log axis"
    else:
        bottom.set_ylabel("RDF = dLFR / d(1/δ)  (eq. 6)")
        scale = "linear axis"
    bottom.set_xlabel(f"1/δ  ({scale}; 1 / squared distance of {unit})")
    top.set_title(f"n = {m.n}, d = {m.d}")
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure
