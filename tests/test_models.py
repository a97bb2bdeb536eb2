import numpy as np
import pytest

import dfp
from dfp import models


def test_layers_are_addressable_by_index_negative_ones_as_in_eq_10():
    model = models.mlp(3, hidden_layers=4, width=7, output_dim=2, seed=0)
    assert models.depth(model) == 5  # four hidden layers and the output: L = 5
    assert models.layer(model, 0) is model.inputs[0]
    assert models.layer(model, -1) is model.get_layer("f5").output  # output
    assert models.layer(model, -2) is model.get_layer("f4").output  # last hidden layer
    assert models.layer(model, -5) is model.get_layer("f1").output
    for bad in (6, -6, 1.5):
        with pytest.raises(ValueError, match="out of range"):
            models.layer(model, bad)


def test_features_returns_every_requested_layer_in_one_pass_and_matches_the_math():
    model = models.mlp(2, hidden_layers=2, width=3, activation="tanh", output_dim=1, seed=1)
    x = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    f1, f2, out = models.features(model, [1, 2, -1]).predict(x, verbose=0)
    w = [layer.get_weights() for layer in model.layers[1:]]
    h1 = np.tanh(x @ w[0][0] + w[0][1])
    h2 = np.tanh(h1 @ w[1][0] + w[1][1])
    np.testing.assert_allclose(f1, h1, atol=1e-6)
    np.testing.assert_allclose(f2, h2, atol=1e-6)
    np.testing.assert_allclose(out, h2 @ w[2][0] + w[2][1], atol=1e-6)  # linear output


def test_equal_seeds_give_equal_networks_and_other_seeds_differ():
    a, b, c = (models.mlp(1, 2, 5, seed=s) for s in (3, 3, 4))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not np.allclose(a.get_weights()[0], c.get_weights()[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(input_dim=0, hidden_layers=1, width=2), "input_dim"),
        (dict(input_dim=1, hidden_layers=0, width=2), "hidden_layers"),
        (dict(input_dim=1, hidden_layers=1, width=2.5), "width"),
    ],
)
def test_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.mlp(**kwargs)


def test_unknown_activation():
    with pytest.raises(ValueError):
        models.mlp(1, 1, 2, activation="no-such-activation")


@pytest.mark.parametrize("form, scale", [("unscaled", 1.0), ("scaled", 1 / np.sqrt(3))])
def test_residual_layers_add_their_input_back(form, scale):
    # 4 hidden layers: the first maps input -> width, the other three are residual.
    model = models.mlp(3, hidden_layers=4, width=5, residual=form, seed=0)
    assert models.depth(model) == 5
    x = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    outs = models.features(model, [1, 2, 3, 4]).predict(x, verbose=0)
    dense = {layer.name: layer.get_weights() for layer in model.layers if layer.get_weights()}
    expected = np.tanh(x @ dense["f1"][0] + dense["f1"][1])
    np.testing.assert_allclose(outs[0], expected, atol=1e-5)
    for l in (2, 3, 4):
        w, b = dense[f"branch{l}"]
        expected = expected + scale * np.tanh(expected @ w + b)
        np.testing.assert_allclose(outs[l - 1], expected, atol=1e-5)


def test_unknown_residual_form():
    with pytest.raises(ValueError, match="residual form"):
        models.mlp(3, 2, 4, residual="highway")
    # The unscaled form's old name is refused, and the error gives its new one.
    with pytest.raises(ValueError, match="'plain'.*now called 'unscaled'"):
        models.mlp(3, 2, 4, residual="plain")


def test_every_residual_form_has_one_display_name():
    assert list(models.RESIDUAL_FORM_NAMES) == list(models.RESIDUAL_FORMS)
    assert models.RESIDUAL_FORM_NAMES == {
        None: "no residual",
        "unscaled": "unscaled residual",
        "scaled": "scaled residual (1/√(L−2))",
    }


def test_resnet18_variants_drop_one_convolution_part_each():
    shapes, params = [], []
    for variant in models.RESNET_VARIANTS:
        model = models.resnet18_variant(variant, width=4, dense_units=16, seed=0)
        L = models.depth(model)
        parts = [models.layer(model, l).shape[1:] for l in range(2, L - 3)]
        shapes.append(parts)
        params.append(model.count_params())
        assert len(parts) == 5 - variant  # Resnet18-1 keeps four parts, Resnet18-4 one
        assert models.layer(model, -3).shape[-1] == 16 and models.layer(model, -2).shape[-1] == 16
        assert models.layer(model, -1).shape[-1] == 10
        assert model.get_layer(f"f{L}").get_config()["activation"] == "softmax"
    # Each variant is the previous one without its last part: the shared parts are equal.
    for deeper, shallower in zip(shapes, shapes[1:]):
        assert deeper[: len(shallower)] == shallower
    assert shapes[0] == [(32, 32, 4), (16, 16, 8), (8, 8, 16), (4, 4, 32)]
    assert params == sorted(params, reverse=True)


def test_resnet18_full_width_is_resnet18():
    model = models.resnet18_variant(1, width=64, dense_units=256)
    convolutions = [
        l for l in model.layers if l.__class__.__name__ == "Conv2D" and "project" not in l.name
    ]
    assert len(convolutions) == 17  # the stem and 16 in the blocks: Resnet18 minus its FC layer
    out = model.predict(np.zeros((2, 32, 32, 3), np.float32), verbose=0)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_resnet18_head_pools_or_flattens_the_last_part_before_the_dense_layers():
    pooled = models.resnet18_variant(4, width=4, dense_units=16, head="pool", seed=0)
    flat = models.resnet18_variant(4, width=4, dense_units=16, head="flatten", seed=0)
    L = models.depth(pooled)
    # Resnet18-4's one part is 32x32x4: pooled to 4 values, or flattened to 4,096.
    assert models.layer(pooled, L - 3).shape[1:] == (4,)
    assert models.layer(flat, L - 3).shape[1:] == (32 * 32 * 4,)
    assert flat.get_layer(f"f{L - 2}").kernel.shape == (32 * 32 * 4, 16)
    with pytest.raises(ValueError, match="unknown head 'avg'; one of 'pool', 'flatten'"):
        models.resnet18_variant(4, head="avg")


def test_unknown_resnet_variant():
    with pytest.raises(ValueError, match="variant"):
        models.resnet18_variant(5)


def test_effective_target_is_eq_11_the_layers_outputs_beside_the_targets():
    model = models.mlp(3, 2, 5, seed=0)
    x = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    y = np.arange(7.0)
    inputs, targets = dfp.effective_target(model, x, y, -2)
    assert targets is y and inputs.shape == (7, 5) and inputs.dtype == np.float32
    np.testing.assert_allclose(
        inputs, models.features(model, [-2]).predict(x, verbose=0), rtol=1e-6
    )
    pairs = dfp.effective_target(model, x, y, [1, -1])
    assert [p[0].shape for p in pairs] == [(7, 5), (7, 1)]
    np.testing.assert_allclose(pairs[1][0], model.predict(x, verbose=0), rtol=1e-5)
    with pytest.raises(ValueError, match="7 points but y has 6"):
        dfp.effective_target(model, x, y[:6], -2)
