"""Callbacks that record the LFR curves of effective targets at chosen epochs of an ordinary
``model.fit``."""

import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from dfp._backend import matmul_precision
from dfp._checks import as_grid
from dfp.grids import inv_delta_grid
from dfp.intervals import RESAMPLE_FRACTION, RESAMPLE_REPEATS, position_draws, subsamples
from dfp.models import effective_target
from dfp.spectral import lfr, lfr_floor
from dfp.training import _at_policy, _quiet_retracing

__all__ = [
    "TRAINING_GRID_PAD",
    "TRAINING_GRID_SPACING",
    "Snapshots",
    "Spectra",
    "spectra_of_snapshots",
]

# The grid of curves recorded during training, when proposed from the first snapshot:
# geometric, widened one decade below (training moves effective targets to low frequency) and
# a third of a decade above.
TRAINING_GRID_SPACING = "geometric"
TRAINING_GRID_PAD = (1.0, 0.3)


class _AtEpochs(keras.callbacks.Callback):
    """Calls ``_snapshot(epoch)`` at chosen epochs (0 = initialisation) and at the epoch at
    which training ends; between them it only compares an integer."""

    def __init__(self, epochs: Iterable[int]) -> None:
        super().__init__()
        epochs = sorted({int(e) for e in epochs})
        if not epochs or epochs[0] < 0:
            raise ValueError(f"epochs must be non-negative integers, got {epochs}")
        self.epochs, self.seconds, self._done, self._last_epoch = epochs, 0.0, set(), 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        if 0 in self.epochs:
            self._timed(0)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._last_epoch = epoch + 1
        if self._last_epoch in self.epochs and self._last_epoch not in self._done:
            self._timed(self._last_epoch)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._last_epoch not in self._done:
            self._timed(self._last_epoch)

    def _timed(self, epoch):
        start = time.perf_counter()
        self._snapshot(epoch)
        self._done.add(epoch)
        self.seconds += time.perf_counter() - start

    # What a checkpoint keeps of the callback: the record so far and where it stands.
    _STATE = ("seconds",)

    def state(self) -> dict[str, Any]:
        """The callback's record so far, for a checkpoint (``restore`` takes it back).

        Returns:
            {name: value} of the record, with the epochs done and the last epoch seen.
        """
        kept = {name: getattr(self, name) for name in self._STATE}
        return dict(kept, done=sorted(self._done), last_epoch=self._last_epoch)

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state()`` of an interrupted run: nothing recorded is recomputed.

        Args:
            state: what ``state()`` returned.

        Returns:
            None; the callback continues from ``state``.
        """
        for name in self._STATE:
            setattr(self, name, state[name])
        self._done, self._last_epoch = {int(e) for e in state["done"]}, int(state["last_epoch"])


class Spectra(_AtEpochs):
    """At chosen epochs, the LFR curve of S^[l] = {(f^[l](x_i), y_i)} for chosen layers.

    Keeps the curves, never the activations. Epoch 0 is the initialisation; the epoch at
    which training ends is always recorded too. Between chosen epochs the callback does
    nothing but compare an integer, so its cost is the snapshots alone (``seconds``).

    For the curves' positions' intervals (``dfp.intervals``) it also records, at the epochs
    ``resample_epochs``, each layer's half-way point and RDF peak on ``repeats`` subsamples of
    ``fraction`` of the analysis points (without duplicates). The subsamples are drawn once,
    here, so the draws are paired across layers and epochs: draw r of every curve is measured
    on the same points. They cost about ``repeats * fraction**2`` times the curves of a
    snapshot (the kernel sums are quadratic in the number of points).

    Args:
        x, y: the analysis set (inputs and the targets of the effective target function).
        layers: layer indices l (negative as in eq. 10), e.g. [1, 2, 3, 4, 5] or [-3].
        epochs: the epochs to record (0 = initialisation).
        inv_delta: the 1/delta grid shared by every curve, or "auto": chosen at the first
            snapshot by ``inv_delta_grid`` over all recorded layers, widened by
            ``pad_decades`` on each side because trained layers move.
        targets: "labels" for {(f^[l], y)}, or "output" for {(f^[l], f^[-1])} (Fig. 7).
        grid_points, spacing, pad_decades: for inv_delta="auto" (see ``inv_delta_grid``).
            The default pads one decade below (training moves effective targets to low
            frequency) and a third of a decade above.
        batch_size: for the forward pass over the analysis set.
        repeats: how many subsamples give the positions' draws, at least 2; 0: no draws.
        fraction: each subsample holds round(fraction * n) of the n analysis points.
        resample_epochs: the epochs whose snapshots also get draws (an epoch that is not
            recorded gets none); None: every recorded epoch.
        seed: seeds ``numpy.random.default_rng`` for the subsamples.

    Attributes:
        curves: {epoch: {layer: LFR array on inv_delta}}.
        floors: {epoch: {layer: LFR floor}} (the targets' |mean|^2 / mean |.|^2).
        draws: {epoch: {layer: {"halfway": array (repeats,), "peak": array (repeats,)}}},
            each subsample's positions (``dfp.intervals.position_draws``; NaN where the grid
            does not bracket the half-way point).
        subsets: the subsamples, (repeats, round(fraction * n)) indices, or None.
        inv_delta: the grid.
        seconds: time spent in snapshots.
    """

    def __init__(
        self,
        x: ArrayLike,
        y: ArrayLike,
        layers: Iterable[int],
        epochs: Iterable[int],
        inv_delta: ArrayLike | str = "auto",
        *,
        targets: str = "labels",
        grid_points: int = 60,
        spacing: str = TRAINING_GRID_SPACING,
        pad_decades: tuple[float, float] = TRAINING_GRID_PAD,
        batch_size: int = 1024,
        repeats: int = RESAMPLE_REPEATS,
        fraction: float = RESAMPLE_FRACTION,
        resample_epochs: Iterable[int] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(epochs)
        if targets not in ("labels", "output"):
            raise ValueError(f"targets must be 'labels' or 'output', got {targets!r}")
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} points but y has {len(y)}")
        if not isinstance(inv_delta, str):
            inv_delta = as_grid(inv_delta, increasing=True)
        elif inv_delta != "auto":
            raise ValueError(f"inv_delta must be a grid or 'auto', got {inv_delta!r}")
        self.x, self.y = np.asarray(x, np.float32), np.asarray(y, np.float32)
        self.layers, self.targets = list(layers), targets
        self.inv_delta, self.grid_points, self.pad_decades = inv_delta, grid_points, pad_decades
        self.spacing = spacing
        self.batch_size = batch_size
        if isinstance(repeats, bool) or int(repeats) != repeats or repeats < 0:
            raise ValueError(f"repeats must be an integer >= 0 (0: no draws), got {repeats}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            # A resumed run draws its subsets again: only a fixed seed gives the same ones.
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self.repeats, self.fraction, self.seed = int(repeats), float(fraction), int(seed)
        # Drawn once: every layer and every epoch is resampled on the same subsets.
        self.subsets = (
            subsamples(len(x), repeats=self.repeats, fraction=self.fraction, seed=self.seed)
            if self.repeats
            else None
        )
        if resample_epochs is not None:
            resample_epochs = sorted({int(e) for e in resample_epochs})
            if resample_epochs and resample_epochs[0] < 0:
                raise ValueError(
                    f"resample_epochs must be non-negative integers or None, got {resample_epochs}"
                )
        self.resample_epochs = resample_epochs
        self.curves, self.floors, self.draws = {}, {}, {}

    _STATE = ("seconds", "curves", "floors", "draws", "inv_delta")

    def record(self) -> dict[str, Any]:
        """What ``fit_with_spectra`` returns of it: inv_delta, curves, floors, draws,
        resample, spectra_seconds.

        Returns:
            {"inv_delta": the grid, "curves": {epoch: {layer: LFR}}, "floors": {epoch:
            {layer: floor}}, "draws": {epoch: {layer: {"halfway": array, "peak": array}}},
            "resample": {"repeats", "fraction", "seed"}, "spectra_seconds": time spent in
            snapshots}.
        """
        return {
            "inv_delta": self.inv_delta,
            "curves": self.curves,
            "floors": self.floors,
            "draws": self.draws,
            "resample": {"repeats": self.repeats, "fraction": self.fraction, "seed": self.seed},
            "spectra_seconds": self.seconds,
        }

    def _snapshot(self, epoch):
        wanted = self.layers + ([-1] if self.targets == "output" else [])
        # The spectra are always of float32 activations, with TensorFloat-32 off, whatever
        # the precision the network trains at.
        with _quiet_retracing(), matmul_precision("float32"):
            pairs = effective_target(
                _float32(self.model), self.x, self.y, wanted, batch_size=self.batch_size
            )
        if self.targets == "output":  # {(f^[l](x_i), f^[-1](x_i))}: the learning component's
            output = pairs.pop()[0]
            pairs = [(inputs, output) for inputs, _ in pairs]
        if isinstance(self.inv_delta, str):
            self.inv_delta = inv_delta_grid(
                pairs, points=self.grid_points, spacing=self.spacing, pad_decades=self.pad_decades
            )
        with matmul_precision("float32"):
            self.curves[epoch] = {
                l: lfr(f, t, self.inv_delta) for l, (f, t) in zip(self.layers, pairs)
            }
        self.floors[epoch] = {l: lfr_floor(t) for l, (_, t) in zip(self.layers, pairs)}
        if self.subsets is not None and (
            self.resample_epochs is None or epoch in self.resample_epochs
        ):
            with matmul_precision("float32"):
                found = position_draws(pairs, self.inv_delta, self.subsets)
            self.draws[epoch] = {
                l: {"halfway": found["halfway"][i], "peak": found["peak"][i]}
                for i, l in enumerate(self.layers)
            }


class Snapshots(_AtEpochs):
    """At chosen epochs, a copy of the model's weights, so that the trained network can be
    analysed afterwards on any 1/delta grid (``spectra_of_snapshots``) without training again.

    Args:
        epochs: the epochs to record (0 = initialisation); the last epoch is always recorded.

    Attributes:
        weights: {epoch: list of float32 arrays, as ``model.get_weights()``}.
    """

    def __init__(self, epochs: Iterable[int]) -> None:
        super().__init__(epochs)
        self.weights = {}

    _STATE = ("seconds", "weights")

    def record(self) -> dict[str, Any]:
        """What ``fit_with_spectra`` returns of it: weights, spectra_seconds.

        Returns:
            {"weights": {epoch: weights}, "spectra_seconds": time spent in snapshots}.
        """
        return {"weights": self.weights, "spectra_seconds": self.seconds}

    def _snapshot(self, epoch):
        self.weights[epoch] = [np.array(w, np.float32) for w in self.model.get_weights()]


def spectra_of_snapshots(
    model: keras.Model,
    weights: Mapping[int, Sequence[np.ndarray]],
    x: ArrayLike,
    y: ArrayLike,
    layers: Iterable[int],
    **options: Any,
) -> dict[str, Any]:
    """The ``Spectra`` of a finished run, from its ``Snapshots``: the curves (and positions'
    draws) a ``Spectra`` callback would have recorded during training, with ``options``.

    Args:
        model: a model of the run's architecture (its weights are overwritten).
        weights: ``Snapshots.weights`` ({epoch: weights}).
        x, y: the analysis set.
        layers: layer indices l.
        **options: ``Spectra``'s keyword arguments: the grid's (inv_delta, grid_points,
            spacing, pad_decades), targets, batch_size, and the draws' (repeats, fraction,
            resample_epochs, seed); with inv_delta="auto" the grid is proposed at the first
            epoch, as during training.

    Returns:
        ``Spectra.record()``: inv_delta, curves, floors, draws, resample, spectra_seconds.
    """
    if not weights:
        raise ValueError("no snapshots to analyse")
    spectra = Spectra(x, y, layers, sorted(weights), **options)
    spectra.set_model(model)
    for epoch in sorted(weights):
        model.set_weights(weights[epoch])
        spectra._timed(epoch)
    return spectra.record()


# The float32 twin of each network trained at a lower precision, reused by its snapshots.
_TWINS = {}


def _float32(model):
    """``model`` if it computes in float32, else its float32 twin holding its weights now."""
    if all(layer.compute_dtype == "float32" for layer in model.layers):
        return model
    twin = _TWINS.get(id(model))
    if twin is None or twin[0]() is not model:
        twin = _TWINS[id(model)] = (weakref.ref(model), _at_policy(model, "float32"))
    twin[1].set_weights(model.get_weights())
    return twin[1]
