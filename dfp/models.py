"""The paper's networks, with every layer f^[l] addressable as in eqs. 7-10.

Layer outputs are named ``f1`` ... ``fL`` (f^[0] is the input), so that ``layer(model, l)``
finds f^[l] for any l, and negative l counts from the output: f^[-l] = f^[L-l+1], so
f^[-1] is the output and f^[-2] the last hidden layer.
"""

import re

import keras

_NAME = re.compile(r"^f(\d+)$")


def mlp(input_dim, hidden_layers, width, *, activation="tanh", output_dim=1, seed=None, name="mlp"):
    """A fully connected network: ``hidden_layers`` Dense(width, activation), linear output.

    Args:
        input_dim: dimension of x.
        hidden_layers: number of hidden layers (L - 1 in the paper's notation), at least 1.
        width: units in every hidden layer.
        activation: any Keras activation name, e.g. "tanh" (the paper's) or "relu".
        output_dim: dimension of the output f^[L].
        seed: seeds the initialisers, so equal seeds give equal networks.
        name: model name.

    Returns:
        A Functional ``keras.Model`` whose Dense layers are named f1 ... fL.
    """
    for label, value in (("input_dim", input_dim), ("hidden_layers", hidden_layers), ("width", width), ("output_dim", output_dim)):
        if int(value) != value or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value}")
    keras.activations.get(activation)  # an unknown name raises here, with Keras's message
    inputs = keras.Input(shape=(int(input_dim),), name="f0")
    h = inputs
    for l in range(1, int(hidden_layers) + 1):
        h = keras.layers.Dense(int(width), activation=activation, name=f"f{l}", **_init(seed, l))(h)
    outputs = keras.layers.Dense(int(output_dim), name=f"f{int(hidden_layers) + 1}", **_init(seed, 0))(h)
    return keras.Model(inputs, outputs, name=name)


def depth(model):
    """L, the number of layers f^[1] ... f^[L] (the output is f^[L])."""
    numbers = [int(m.group(1)) for layer in model.layers if (m := _NAME.match(layer.name))]
    if not numbers or max(numbers) < 1:
        raise ValueError(f"model {model.name!r} has no layers named f1 ... fL")
    return max(numbers)


def layer(model, l):
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


def features(model, layers):
    """A model that returns f^[l] for each l in ``layers`` in one forward pass."""
    return keras.Model(model.inputs, [layer(model, l) for l in layers])


def _init(seed, salt):
    # Each layer gets its own seed derived from the network's, so layers differ.
    if seed is None:
        return {}
    return {
        "kernel_initializer": keras.initializers.GlorotUniform(seed=int(seed) * 1000 + salt),
        "bias_initializer": "zeros",
    }
