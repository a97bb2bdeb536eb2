"""Measuring any Keras model (dfp.probe): layer outputs by name or index, the measure of a
layer's effective target against the definition, and the callback recording it during fit."""

import keras
import numpy as np
import pytest

import dfp
from dfp.measure import measure
from dfp.probe import RecordRDF, layer_outputs, layer_target, measure_layer


def _data(n=150, d=5, classes=3, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, d)).astype(np.float32)
    return x, np.eye(classes, dtype=np.float32)[r.integers(0, classes, n)]


def _functional(d=5, classes=3):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((d,), name="x")
    h = keras.layers.Dense(8, activation="tanh", name="hidden")(inputs)
    h = keras.layers.Dropout(0.5, name="drop")(h)  # off in inference: outputs are exact
    outputs = keras.layers.Dense(classes, name="out")(h)
    return keras.Model(inputs, outputs, name="functional")


def _sequential(d=5, classes=3):
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [
            keras.Input((d,)),
            keras.layers.Dense(6, activation="relu", name="first"),
            keras.layers.Dense(4, activation="tanh", name="second"),
            keras.layers.Dense(classes, name="last"),
        ],
        name="sequential",
    )


def _dense(layer, x):
    kernel, bias = layer.get_weights()
    return x @ kernel + bias


def test_functional_layers_by_name_and_negative_index_are_the_forward_pass():
    x, _ = _data()
    model = _functional()
    out = layer_outputs(model, x, ["hidden", -1, -3, 0], batch_size=64)
    assert list(out) == ["hidden", -1, -3, 0]  # keyed as asked
    hidden = np.tanh(_dense(model.get_layer("hidden"), x))
    np.testing.assert_allclose(out["hidden"], hidden, atol=1e-6)
    np.testing.assert_array_equal(out[-3], out["hidden"])  # -3: hidden (then drop, out)
    np.testing.assert_allclose(out[-1], _dense(model.get_layer("out"), hidden), atol=1e-5)
    np.testing.assert_array_equal(out[0], x)  # a Functional model.layers starts with its input
    assert all(v.dtype == np.float32 and v.shape[0] == len(x) for v in out.values())


def test_sequential_layers_and_flattening_of_images():
    x, _ = _data(n=60, d=12)
    model = _sequential(d=12)
    out = layer_outputs(model, x, ["second", 1, -1])
    first = np.maximum(_dense(model.layers[0], x), 0)  # model.layers of a Sequential: no input
    second = np.tanh(_dense(model.layers[1], first))
    np.testing.assert_allclose(out["second"], second, atol=1e-6)
    np.testing.assert_array_equal(out[1], out["second"])
    assert out[-1].shape == (60, 3)
    # A convolution's (n, h, w, c) output comes back as (n, h * w * c).
    keras.utils.set_random_seed(2)
    images = x.reshape(60, 2, 2, 3)
    conv = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Conv2D(4, 1, name="conv")])
    flat = layer_outputs(conv, images, "conv")["conv"]
    np.testing.assert_allclose(flat, conv.predict(images, verbose=0).reshape(60, 16), atol=1e-6)


def test_layer_target_and_measure_layer_agree_with_the_definition():
    x, y = _data()
    model = _functional()
    features, targets = layer_target(model, x, y, "hidden", batch_size=32)
    np.testing.assert_array_equal(targets, y)
    result = measure_layer(model, x, y, -3, repeats=3, grid_points=15, batch_size=32)
    assert result.n == len(x) and result.d == 8 and len(result.inv_delta) == 15
    assert result.halfway_interval is not None and result.resampling["repeats"] == 3
    # Exactly measure() of the layer's outputs, and the definition (eqs. 3-5) within 1e-5.
    assert result == measure(features, y, repeats=3, grid_points=15)
    reference = dfp.lfr_reference(features, y, result.inv_delta)
    np.testing.assert_allclose(result.lfr, reference, atol=1e-5, rtol=0)


def test_record_rdf_records_chosen_epochs_of_fit_on_one_grid():
    x, y = _data()
    model = _functional()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    record = RecordRDF(x[:100], y[:100], ["hidden", -1], epochs=[0, 2], grid_points=12)
    initial = layer_outputs(model, x[:100], ["hidden", -1])
    model.fit(x, y, epochs=3, batch_size=50, verbose=0, callbacks=[record])
    after = layer_outputs(model, x[:100], "hidden")["hidden"]
    assert sorted(record.measurements) == [0, 2]  # the chosen epochs, not the end (3)
    assert all(list(m) == ["hidden", -1] for m in record.measurements.values())
    assert record.inv_delta.shape == (12,) and record.seconds > 0
    # One grid for every epoch and layer: proposed at epoch 0 from every layer, then widened
    # one decade below and a third of a decade above.
    for by_layer in record.measurements.values():
        for m in by_layer.values():
            np.testing.assert_array_equal(m.inv_delta, record.inv_delta)
            assert m.halfway_interval is None and m.resampling == {}  # repeats=0 by default
    sets = [(initial["hidden"], y[:100]), (initial[-1], y[:100])]
    grid = dfp.inv_delta_grid(sets, points=12, spacing="geometric", pad_decades=(1.0, 0.3))
    np.testing.assert_array_equal(record.inv_delta, grid)
    # Epoch 0 is the initial network, and training moved the hidden layer.
    assert record.measurements[0]["hidden"] == measure(initial["hidden"], y[:100], grid, repeats=0)
    assert not np.allclose(initial["hidden"], after)


def test_record_rdf_on_a_given_grid_with_intervals_and_at_end():
    x, y = _data(n=80)
    model = _sequential()
    model.compile(optimizer="sgd", loss="mse")
    grid = np.geomspace(0.1, 100, 8)
    record = RecordRDF(x, y, "second", [1], grid, at_end=True, repeats=2, fraction=0.6)
    model.fit(x, y, epochs=2, batch_size=40, verbose=0, callbacks=[record])
    assert sorted(record.measurements) == [1, 2]  # at_end adds the last epoch
    m = record.measurements[2]["second"]
    np.testing.assert_array_equal(m.inv_delta, grid)
    assert m.resampling["repeats"] == 2 and m.resampling["fraction"] == 0.6
    assert m == measure_layer(model, x, y, "second", inv_delta=grid, repeats=2, fraction=0.6)


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(4, name="hidden")
        self.out = keras.layers.Dense(3)

    def call(self, x):
        return self.out(self.hidden(x))


def test_bad_layers_and_models_give_clear_errors():
    x, y = _data(n=20)
    model = _functional()
    with pytest.raises(ValueError, match=r"no layer named 'hiden'.*1: 'hidden'"):
        layer_outputs(model, x, "hiden")
    with pytest.raises(ValueError, match=r"index 4 is out of range.*-4 \.\.\. 3"):
        layer_outputs(model, x, 4)
    with pytest.raises(ValueError, match="index -5 is out of range"):
        measure_layer(model, x, y, -5)
    with pytest.raises(ValueError, match="a name .* or an index"):
        layer_outputs(model, x, 1.5)
    with pytest.raises(ValueError, match="x has 20 points but y has 19"):
        layer_target(model, x, y[:19], "hidden")
    subclassed = _Subclassed()
    subclassed(x[:2])
    with pytest.raises(TypeError, match=r"subclassed keras.Model.*dfp.measure.measure"):
        layer_outputs(subclassed, x, "hidden")
    shared = keras.layers.Dense(5, name="shared")
    inputs = keras.Input((5,))
    twice = keras.Model(inputs, shared(shared(inputs)))
    with pytest.raises(ValueError, match="'shared' is called 2 times"):
        layer_outputs(twice, x, "shared")
    with pytest.raises(TypeError, match="repeat"):
        RecordRDF(x, y, "hidden", [0], repeat=3)
    with pytest.raises(ValueError, match="x has 20 points but y has 19"):
        RecordRDF(x, y[:19], "hidden", [0])
