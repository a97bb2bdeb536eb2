"""The paper's networks, with every layer f^[l] addressable as in eqs. 7-10.

Layer outputs are named ``f1`` ... ``fL`` (f^[0] is the input), so that ``layer(model, l)``
finds f^[l] for any l, and negative l counts from the output: f^[-l] = f^[L-l+1], so
f^[-1] is the output and f^[-2] the last hidden layer.
"""

import math
import re
import weakref
from collections.abc import Sequence

import keras
import numpy as np
from numpy.typing import ArrayLike

from dfp._vocabulary import RESIDUAL_FORM_NAMES, RESIDUAL_FORMS, RESNET_HEADS

__all__ = [
    "RESIDUAL_FORMS",
    "RESIDUAL_FORM_NAMES",
    "RESNET_HEADS",
    "RESNET_VARIANTS",
    "depth",
    "effective_target",
    "features",
    "layer",
    "mlp",
    "resnet18_variant",
]


_NAME = re.compile(r"^f(\d+)$")


# The three forms of a deep MLP (Fig. 9), ``residual``: None (no residual connections),
# "unscaled" (f^[l] = f^[l-1] + tanh(W f^[l-1] + b), the lab's form) or "scaled" (the branch
# divided by sqrt(L - 2)); RESIDUAL_FORMS and their names, RESIDUAL_FORM_NAMES, are written
# once, in dfp._vocabulary, for the claims to name them without loading Keras.


def mlp(
    input_dim: int,
    hidden_layers: int,
    width: int,
    *,
    activation: str = "tanh",
    output_dim: int = 1,
    residual: str | None = None,
    seed: int | None = None,
    name: str = "mlp",
) -> keras.Model:
    """A fully connected network: ``hidden_layers`` Dense(width, activation), linear output.

    Args:
        input_dim: dimension of x.
        hidden_layers: number of hidden layers (L - 1 in the paper's notation), at least 1.
        width: units in every hidden layer.
        activation: any Keras activation name, e.g. "tanh" (the paper's) or "relu".
        output_dim: dimension of the output f^[L].
        residual: one of ``RESIDUAL_FORMS``: None for no residual connections; otherwise
            every hidden layer after the first (width -> width) adds its input back:
            "unscaled" is f^[l] = f^[l-1] + act(W f^[l-1] + b), and "scaled" divides the
            branch by sqrt(L - 2), the number of residual layers, so that the residual stream
            does not grow with depth.
        seed: seeds the initialisers, so equal seeds give equal networks.
        name: model name.

    Returns:
        A Functional ``keras.Model``; the output of layer l is named f{l} (l = 1 ... L).
    """
    for label, value in (
        ("input_dim", input_dim),
        ("hidden_layers", hidden_layers),
        ("width", width),
        ("output_dim", output_dim),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value}")
    if residual == "plain":
        raise ValueError(
            "the residual form 'plain' (h + act(W h + b), not scaled) is now called 'unscaled'; "
            f"use one of {RESIDUAL_FORMS}"
        )
    if residual not in RESIDUAL_FORMS:
        raise ValueError(f"unknown residual form {residual!r}; use one of {RESIDUAL_FORMS}")
    keras.activations.get(activation)  # an unknown name raises here, with Keras's message
    hidden_layers = int(hidden_layers)
    scale = 1.0 / math.sqrt(max(1, hidden_layers - 1)) if residual == "scaled" else 1.0
    inputs = keras.Input(shape=(int(input_dim),), name="f0")
    h = inputs
    for l in range(1, hidden_layers + 1):
        if residual is None or l == 1:
            h = keras.layers.Dense(
                int(width), activation=activation, name=f"f{l}", **_init(seed, l)
            )(h)
            continue
        branch = keras.layers.Dense(
            int(width), activation=activation, name=f"branch{l}", **_init(seed, l)
        )(h)
        if scale != 1.0:
            branch = keras.layers.Rescaling(scale, name=f"scale{l}")(branch)
        h = keras.layers.Add(name=f"f{l}")([h, branch])
    outputs = keras.layers.Dense(int(output_dim), name=f"f{hidden_layers + 1}", **_init(seed, 0))(h)
    return keras.Model(inputs, outputs, name=name)


def depth(model: keras.Model) -> int:
    """L, the number of layers f^[1] ... f^[L] (the output is f^[L]).

    Args:
        model: a model built by this module (layers named f1 ... fL).

    Returns:
        L.
    """
    numbers = [int(m.group(1)) for layer in model.layers if (m := _NAME.match(layer.name))]
    if not numbers or max(numbers) < 1:
        raise ValueError(f"model {model.name!r} has no layers named f1 ... fL")
    return max(numbers)


def layer(model: keras.Model, l: int) -> keras.KerasTensor:
    """The symbolic output f^[l] of ``model``; l may be negative (eq. 10).

    Args:
        model: a model built by this module.
        l: 0 for the input, 1 ... L for the layers, -1 ... -L counted from the output.

    Returns:
        A Keras tensor, usable as a Functional output.
    """
    L = depth(model)
    if int(l) != l or not -L <= l <= L:
        raise ValueError(f"layer index {l} is out of range for L = {L}: use -{L} ... {L}")
    index = int(l) if l >= 0 else L + int(l) + 1
    if index == 0:
        return model.inputs[0]
    return model.get_layer(f"f{index}").output


def features(model: keras.Model, layers: Sequence[int]) -> keras.Model:
    """A model that returns f^[l] for each l in ``layers`` in one forward pass.

    Args:
        model: a model built by this module.
        layers: the l's (negative counts from the output, as for ``layer``).

    Returns:
        A Functional ``keras.Model`` with one output per entry of ``layers``.
    """
    return keras.Model(model.inputs, [layer(model, l) for l in layers])


# The forward model of each (network, layers) asked for, so that repeated snapshots reuse
# one compiled predict.
_FORWARD = weakref.WeakKeyDictionary()


def effective_target(
    model: keras.Model,
    x: ArrayLike,
    y: ArrayLike,
    layer: int | list[int],
    *,
    batch_size: int = 1024,
) -> tuple[np.ndarray, ArrayLike] | list[tuple[np.ndarray, ArrayLike]]:
    """The effective target of the learning component after layer l (eq. 11).

    S^[l] = {(f^[l](x_i), y_i)}: the data set that the layers after l must fit, its inputs
    being layer l's outputs (flattened, float32) on the points x.

    Args:
        model: a network built by ``mlp`` or ``resnet18_variant``.
        x: the points, (n, ...) as the network takes them.
        y: their targets, (n, ...): labels, or any other values (e.g. the network's own
            output f^[-1], for the effective function of Fig. 7).
        layer: l (negative counts from the output, eq. 10), or a list of layers, computed
            in one forward pass.
        batch_size: of the forward pass.

    Returns:
        (f^[l](x) as an (n, d_l) float32 array, y), or a list of such pairs for a list of
        layers.
    """
    layers = [layer] if isinstance(layer, int) else [int(l) for l in layer]
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} points but y has {len(y)}: they must match")
    cache = _FORWARD.setdefault(model, {})
    if tuple(layers) not in cache:
        cache[tuple(layers)] = features(model, layers)
    outputs = cache[tuple(layers)].predict(np.asarray(x), batch_size=batch_size, verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    pairs = [(np.asarray(out, np.float32).reshape(len(x), -1), y) for out in outputs]
    return pairs[0] if isinstance(layer, int) else pairs


def _batch_norm(name):
    return keras.layers.BatchNormalization(momentum=0.9, name=name)


def _init(seed, salt, bias=True):
    # Each layer gets its own seed derived from the network's, so layers differ.
    if seed is None:
        return {}
    init = {"kernel_initializer": keras.initializers.GlorotUniform(seed=int(seed) * 1000 + salt)}
    if bias:
        init["bias_initializer"] = "zeros"
    return init


RESNET_VARIANTS = (1, 2, 3, 4)


def resnet18_variant(
    variant: int,
    *,
    width: int = 64,
    dense_units: int = 256,
    head: str = "pool",
    input_shape: tuple[int, ...] = (32, 32, 3),
    classes: int = 10,
    seed: int | None = None,
) -> keras.Model:
    """Resnet18-i of the paper's Fig. 4: convolution parts, two identical Dense layers, softmax.

    Resnet18-1 is a standard Resnet18 body for 32x32 images: a 3x3 stem, then four
    convolution parts of two BasicBlocks each, with ``width``, 2, 4 and 8 times ``width``
    channels (parts 2-4 halve the resolution). Resnet18-(i+1) drops the last convolution part
    of Resnet18-i, so Resnet18-4 keeps the stem and the first part. Global average pooling
    (or, with ``head="flatten"``, flattening) then feeds Dense(``dense_units``, relu) twice and
    a softmax output, the same in every variant, so f^[-3] (the first Dense layer) has the
    same dimension everywhere. The paper does not say which of the two joins the convolution
    parts to the fully connected layers.

    Batch normalisation uses momentum 0.9 (PyTorch's and torchvision's Resnet default) rather
    than Keras's 0.99: with 0.99 the moving variance of a short run (a few hundred steps)
    still remembers its initial 1, and validation accuracy stays at chance.

    Layer outputs named for ``layer``: f1 is the stem, f2 ... f(1+parts) the convolution
    parts, then the pooled features, the two Dense layers and the output, so f^[-1] is the
    softmax, f^[-2] the second Dense layer and f^[-3] the first.

    Args:
        variant: 1 (deepest) ... 4 (shallowest).
        width: channels of the first part; 64 is Resnet18, smaller values shrink every part
            in proportion without changing the structure.
        dense_units: units of each of the two Dense layers.
        head: how the last convolution part's output reaches the Dense layers, one of
            ``RESNET_HEADS``: "pool" (global average pooling over positions) or "flatten"
            (every position and channel; the first Dense layer then has as many inputs as the
            last part has values, 65,536 for Resnet18-4 at width 64).
        input_shape, classes: the images and the number of classes.
        seed: seeds the initialisers.

    Returns:
        A Functional ``keras.Model``.
    """
    if variant not in RESNET_VARIANTS:
        raise ValueError(f"unknown Resnet18 variant {variant!r}; the paper has {RESNET_VARIANTS}")
    if head not in RESNET_HEADS:
        raise ValueError(f"unknown head {head!r}; one of {', '.join(map(repr, RESNET_HEADS))}")
    for label, value in (("width", width), ("dense_units", dense_units), ("classes", classes)):
        if int(value) != value or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value}")
    parts = 5 - variant
    counter = iter(range(1, 10**6))
    conv = lambda filters, stride, name: keras.layers.Conv2D(
        filters,
        3,
        strides=stride,
        padding="same",
        use_bias=False,
        name=name,
        **_init(seed, next(counter), bias=False),
    )
    inputs = keras.Input(shape=tuple(input_shape), name="f0")
    h = conv(width, 1, "stem_conv")(inputs)
    h = _batch_norm(name="stem_bn")(h)
    h = keras.layers.ReLU(name="f1")(h)
    for part in range(parts):
        filters = int(width) * 2**part
        for block in range(2):
            stride = 2 if part > 0 and block == 0 else 1
            name = f"part{part + 1}_block{block + 1}"
            shortcut = h
            y = conv(filters, stride, f"{name}_conv1")(h)
            y = _batch_norm(name=f"{name}_bn1")(y)
            y = keras.layers.ReLU(name=f"{name}_relu1")(y)
            y = conv(filters, 1, f"{name}_conv2")(y)
            y = _batch_norm(name=f"{name}_bn2")(y)
            if stride != 1 or shortcut.shape[-1] != filters:
                shortcut = keras.layers.Conv2D(
                    filters,
                    1,
                    strides=stride,
                    use_bias=False,
                    name=f"{name}_project",
                    **_init(seed, next(counter), bias=False),
                )(shortcut)
                shortcut = _batch_norm(name=f"{name}_project_bn")(shortcut)
            y = keras.layers.Add(name=f"{name}_add")([shortcut, y])
            h = keras.layers.ReLU(name=f"f{part + 2}" if block == 1 else f"{name}_out")(y)
    top = parts + 2
    join = keras.layers.GlobalAveragePooling2D if head == "pool" else keras.layers.Flatten
    h = join(name=f"f{top}")(h)
    h = keras.layers.Dense(
        int(dense_units), activation="relu", name=f"f{top + 1}", **_init(seed, next(counter))
    )(h)
    h = keras.layers.Dense(
        int(dense_units), activation="relu", name=f"f{top + 2}", **_init(seed, next(counter))
    )(h)
    outputs = keras.layers.Dense(
        int(classes), activation="softmax", name=f"f{top + 3}", **_init(seed, next(counter))
    )(h)
    return keras.Model(inputs, outputs, name=f"resnet18_{variant}")
