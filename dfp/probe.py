"""Measure any Keras model (any backend): the outputs f^[l](x) of any of its layers, the LFR and
RDF of the effective target S^[l] = {(f^[l](x_i), y_i)} (eq. 11), and a callback recording them
at chosen epochs of an ordinary ``model.fit``::

    from dfp.probe import RecordRDF, measure_layer
    result = measure_layer(model, x, y, "dense_1")          # a layer by name ...
    result = measure_layer(model, x, y, -2)                 # ... or by index (-1: the output)
    record = RecordRDF(x, y, ["dense", "dense_1"], epochs=[0, 5, 10])
    model.fit(x_train, y_train, epochs=10, callbacks=[record])
    record.measurements[10]["dense_1"].rdf                  # a Measurement per epoch, layer

A layer is given by its name, or by its index into ``model.layers``, negative indices counting
from the output as in eq. 10 (-1 is the output layer, -2 the last hidden layer). Functional and
Sequential models are read through a ``keras.Model(model.inputs, [layer.output, ...])``; a
subclassed model has no such graph, so compute its activations yourself and pass them to
``dfp.measure.measure``. The book's own networks, whose layers are named f1 ... fL, have
``dfp.models.effective_target``, indexed by l alone; ``layer_target`` here is the general one.
"""

import inspect
import weakref
from collections.abc import Iterable
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from dfp._backend import matmul_precision
from dfp._checks import as_grid
from dfp.callbacks import TRAINING_GRID_PAD, TRAINING_GRID_SPACING, _AtEpochs
from dfp.grids import inv_delta_grid
from dfp.measure import Measurement, measure
from dfp.training import _quiet_retracing

__all__ = ["RecordRDF", "layer_outputs", "layer_target", "measure_layer"]

# A layer: its name, or its index into model.layers (negative from the output, eq. 10).
Layer = str | int


def layer_outputs(
    model: keras.Model,
    x: ArrayLike,
    layers: Layer | Iterable[Layer],
    *,
    batch_size: int = 1024,
) -> dict[Layer, np.ndarray]:
    """The outputs f^[l](x) of chosen layers of a Keras model, in one batched forward pass.

    Inference mode (``predict``: dropout off, batch normalisation on its moving statistics),
    with float32 matrix products (no TensorFloat-32). Works on any Keras backend.

    Args:
        model: a Functional or Sequential ``keras.Model`` (an unbuilt Sequential is built
            for x's shape first).
        x: the points, (n, ...) as the model takes them (or a list of arrays for a model with
            several inputs).
        layers: a layer name, an index into ``model.layers`` (negative counts from the output:
            -1 is the output layer; 0 is the input layer of a Functional model, whose
            ``model.layers`` starts with it, but the first layer of a Sequential one, whose
            does not), or a list of them.
        batch_size: points per forward pass.

    Returns:
        A dict from each layer as given to its output on x, an (n, d) float32 array, each
        point's output flattened (d is the product of the output's non-batch dimensions;
        activations computed in a lower precision are cast to float32).

    Raises:
        TypeError: ``model`` is a subclassed model (no graph to read a layer's output from).
        ValueError: an unknown layer name, an index out of range, a layer with several
            outputs or called more than once in the model (its output is ambiguous), a
            non-positive ``batch_size``.
    """
    wanted = _as_list(layers)
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    n = len(keras.tree.flatten(x)[0])
    graph = _graph(model, x)
    found = {l: _layer(model, graph, l) for l in wanted}
    cache = _FORWARD.setdefault(model, {})
    key = tuple(layer.name for layer in found.values())
    if key not in cache:
        cache[key] = keras.Model(model.inputs, [_output(layer) for layer in found.values()])
    with _quiet_retracing(), matmul_precision("float32"):
        outputs = cache[key].predict(x, batch_size=int(batch_size), verbose=0)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return {l: np.asarray(out, np.float32).reshape(n, -1) for l, out in zip(wanted, outputs)}


def layer_target(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    layer: Layer,
    *,
    batch_size: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """The effective target of the learning component after a layer (eq. 11):
    S^[l] = {(f^[l](x_i), y_i)}, the data set the layers after it must fit.

    The general form of ``dfp.models.effective_target``, which takes the book's networks
    (layers named f1 ... fL) and an integer l alone; this one takes any Functional or
    Sequential model and a layer by name or index into ``model.layers``.

    Args:
        model: a Functional or Sequential ``keras.Model``.
        x: the points, (n, ...) as the model takes them.
        y: their targets, (n,) or (n, d_o): labels (e.g. one-hot), or any other values (e.g.
            the model's own output, for the effective function of Fig. 7).
        layer: a layer name, or an index into ``model.layers`` (-1: the output layer).
        batch_size: points per forward pass.

    Returns:
        (f^[l](x) as an (n, d) float32 array, y as an array).

    Raises:
        TypeError: ``model`` is a subclassed model.
        ValueError: x and y hold different numbers of points, or as ``layer_outputs``.
    """
    n = len(keras.tree.flatten(x)[0])
    if n != len(y):
        raise ValueError(f"x has {n} points but y has {len(y)}: they must match")
    return layer_outputs(model, x, layer, batch_size=batch_size)[layer], np.asarray(y)


def measure_layer(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    layer: Layer,
    *,
    batch_size: int = 1024,
    **measure_options: Any,
) -> Measurement:
    """The LFR and RDF of a layer's effective target S^[l] = {(f^[l](x_i), y_i)} (eq. 11).

    ``layer_target`` then ``dfp.measure.measure``: the same as measuring the layer's flattened
    float32 outputs yourself.

    Args:
        model: a Functional or Sequential ``keras.Model``.
        x: the points, (n, ...) as the model takes them.
        y: their targets, (n,) or (n, d_o).
        layer: a layer name, or an index into ``model.layers`` (-1: the output layer).
        batch_size: points per forward pass.
        **measure_options: passed to ``dfp.measure.measure``: ``inv_delta`` (the 1/delta grid,
            in units of 1 / (squared distance of the normalised outputs); proposed from the
            data when absent), ``grid_points``, ``normalize`` (divide each output dimension by
            its maximum absolute value first), ``repeats``, ``fraction``, ``level``, ``seed``,
            ``classes`` (one-hot encode integer labels).

    Returns:
        The ``Measurement`` (LFR, RDF, half-way point and peak, their intervals).

    Raises:
        TypeError: ``model`` is a subclassed model, or an unknown measure option.
        ValueError: as ``layer_target`` and ``measure``.
    """
    features, targets = layer_target(model, x, y, layer, batch_size=batch_size)
    return measure(features, targets, **measure_options)


# measure's defaults (grid points, normalisation), which the callback's grid follows.
_MEASURE = {
    name: p.default
    for name, p in inspect.signature(measure).parameters.items()
    if p.default is not inspect.Parameter.empty
}


class RecordRDF(_AtEpochs):
    """A callback recording the LFR and RDF of chosen layers' effective targets at chosen
    epochs of an ordinary ``model.fit``, all on one 1/delta grid.

    Epoch 0 is before training (recorded in ``on_train_begin``), epoch e after the e-th
    epoch. Between chosen epochs the callback only compares an integer; its cost is the
    recordings alone (``seconds``). It keeps the measurements, never the activations.

    Args:
        x: the analysis points, (n, ...) as the model takes them.
        y: their targets, (n,) or (n, d_o).
        layers: a layer (name, or index into ``model.layers``; -1 is the output layer) or a
            list of them.
        epochs: the epochs to record (0 = before training).
        inv_delta: the 1/delta grid shared by every measurement, strictly increasing; None
            proposes one at the first recording from every recorded layer
            (``dfp.inv_delta_grid`` with ``grid_points`` and ``normalize`` as given to
            ``measure``), spaced by ``spacing`` and widened by ``pad_decades``.
        batch_size: points per forward pass.
        at_end: also record the epoch at which training ends (e.g. stopped early), if it is
            not one of ``epochs``.
        spacing: of the proposed grid (see ``dfp.inv_delta_grid``).
        pad_decades: (below, above) decades the proposed grid is widened by, because the
            curves move during training (to low frequency, mostly).
        **measure_options: passed to ``dfp.measure.measure`` at each recording
            (``grid_points``, ``normalize``, ``repeats``, ``fraction``, ``level``, ``seed``,
            ``classes``);
            ``repeats`` defaults to 0 here (no intervals: they cost ``repeats`` measurements
            each, during training).

    Attributes:
        measurements: {epoch: {layer as given: Measurement}}.
        inv_delta: the grid (None until the first recording when proposed).
        seconds: the time spent recording.

    Raises:
        TypeError: an unknown measure option.
        ValueError: x and y hold different numbers of points, no epochs or negative ones, a
            grid that is not strictly increasing and positive.
    """

    def __init__(
        self,
        x: ArrayLike,
        y: ArrayLike,
        layers: Layer | Iterable[Layer],
        epochs: Iterable[int],
        inv_delta: ArrayLike | None = None,
        *,
        batch_size: int = 1024,
        at_end: bool = False,
        spacing: str = TRAINING_GRID_SPACING,
        pad_decades: tuple[float, float] = TRAINING_GRID_PAD,
        **measure_options: Any,
    ) -> None:
        super().__init__(epochs)
        n = len(keras.tree.flatten(x)[0])
        if n != len(y):
            raise ValueError(f"x has {n} points but y has {len(y)}: they must match")
        measure_options = {"repeats": 0, **measure_options}
        measure_options.pop("inv_delta", None)  # the grid is this callback's own argument
        inspect.signature(measure).bind(None, None, **measure_options)  # unknown options now
        self.x, self.y = x, np.asarray(y)
        self.layers = _as_list(layers)
        self.inv_delta = None if inv_delta is None else as_grid(inv_delta, increasing=True)
        self.batch_size, self.at_end = batch_size, at_end
        self.spacing, self.pad_decades = spacing, pad_decades
        self.measure_options = measure_options
        self.measurements = {}

    _STATE = ("seconds", "measurements", "inv_delta")

    def on_train_end(self, logs: dict | None = None) -> None:
        """Records the last epoch if ``at_end`` and it was not recorded.

        Args:
            logs: Keras's logs (unused).

        Returns:
            None.
        """
        if self.at_end:
            super().on_train_end(logs)

    def _snapshot(self, epoch):
        outputs = layer_outputs(self.model, self.x, self.layers, batch_size=self.batch_size)
        if self.inv_delta is None:
            # As measure proposes a grid, but one for every layer, and widened.
            options = {**_MEASURE, **self.measure_options}
            classes = options.get("classes")
            targets = self.y if classes is None else np.eye(int(classes))[self.y]
            self.inv_delta = inv_delta_grid(
                [(outputs[l], targets) for l in self.layers],
                points=options["grid_points"],
                spacing=self.spacing,
                normalize=options["normalize"],
                pad_decades=self.pad_decades,
            )
        self.measurements[epoch] = {
            l: measure(outputs[l], self.y, self.inv_delta, **self.measure_options)
            for l in self.layers
        }


# The forward model of each (model, layers) asked for, so that repeated recordings reuse one
# compiled predict.
_FORWARD = weakref.WeakKeyDictionary()


def _as_list(layers):
    """One layer or several as a list without repeats."""
    several = isinstance(layers, Iterable) and not isinstance(layers, str)
    return list(dict.fromkeys(layers if several else [layers]))


def _graph(model, x):
    """Checks that ``model`` has a graph to read layer outputs from (building an unbuilt
    Sequential for x's shape)."""
    if isinstance(model, keras.Sequential) and not model.built:
        model.build((None, *np.shape(keras.tree.flatten(x)[0])[1:]))
    try:
        inputs = model.inputs
    except AttributeError:
        inputs = None
    if not inputs:
        raise TypeError(
            f"{type(model).__name__} {model.name!r} is a subclassed keras.Model: its layers "
            "have no symbolic outputs to read. Compute the activations yourself (e.g. return "
            "them from call()) and pass them to dfp.measure.measure(features, targets), or "
            "build the model with the Functional or Sequential API"
        )
    # A Sequential model keeps its graph in a Functional model of its own.
    return getattr(model, "_functional", None) or model


def _layer(model, graph, l):
    """The layer named ``l``, or at index ``l`` of ``model.layers``; one called once."""
    names = [layer.name for layer in model.layers]
    if isinstance(l, str):
        if l not in names:
            listing = ", ".join(f"{i}: {name!r}" for i, name in enumerate(names))
            raise ValueError(
                f"model {model.name!r} has no layer named {l!r}; its layers: {listing}"
            )
        layer = model.layers[names.index(l)]
    elif isinstance(l, (int, np.integer)) and not isinstance(l, bool):
        if not -len(names) <= l < len(names):
            raise ValueError(
                f"layer index {l} is out of range: model {model.name!r} has {len(names)} layers "
                f"(use {-len(names)} ... {len(names) - 1}; -1 is the output layer)"
            )
        layer = model.layers[int(l)]
    else:
        raise ValueError(f"a layer is a name (str) or an index (int), got {l!r}")
    calls = [k for k in getattr(graph, "_nodes", ()) if k.startswith(f"{id(layer)}_ib-")]
    if len(calls) > 1:
        raise ValueError(
            f"layer {layer.name!r} is called {len(calls)} times in model {model.name!r}: its "
            "output is ambiguous; measure a layer called once, or pass the activations you "
            "choose to dfp.measure.measure"
        )
    return layer


def _output(layer):
    """The layer's one symbolic output, or a clear error."""
    output = layer.output
    if not isinstance(output, keras.KerasTensor):
        raise ValueError(
            f"layer {layer.name!r} has several outputs ({type(output).__name__}): measure one "
            "of the layers that use them, or pass the arrays you choose to dfp.measure.measure"
        )
    return output
