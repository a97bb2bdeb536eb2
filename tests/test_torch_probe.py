"""Measuring any PyTorch nn.Module (dfp.torch_probe): submodule outputs through forward hooks,
equal to a manual forward pass, and their measure against the definition."""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed (make install puts the CPU build in .venv)"
)

import dfp  # noqa: E402 (after the skip: nothing to test without PyTorch)
from dfp.measure import measure  # noqa: E402
from dfp.torch_probe import measure_module, module_outputs  # noqa: E402


class Net(torch.nn.Module):
    """A custom module with nested named submodules and dropout."""

    def __init__(self, d=5, classes=3):
        super().__init__()
        self.encoder = torch.nn.Sequential(
            torch.nn.Linear(d, 8), torch.nn.Tanh(), torch.nn.Dropout(0.5)
        )
        self.head = torch.nn.Linear(8, classes)

    def forward(self, x):
        return self.head(self.encoder(x))


def _data(n=150, d=5, classes=3, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, d)).astype(np.float32)
    return x, np.eye(classes, dtype=np.float32)[r.integers(0, classes, n)]


def _hooks(module):
    return sum(len(m._forward_hooks) for m in module.modules())


def test_sequential_outputs_are_the_forward_pass_and_modes_are_restored():
    torch.manual_seed(0)
    x, _ = _data()
    net = torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(8, 3)
    )
    net.train()
    net[3].eval()  # a mixed state, restored exactly
    out = module_outputs(net, torch.from_numpy(x), ["1", ""], batch_size=64)
    assert list(out) == ["1", ""]
    with torch.no_grad():
        hidden = torch.relu(net[0](torch.from_numpy(x)))
        output = net[3](hidden)
    np.testing.assert_array_equal(out["1"], hidden.numpy())  # dropout off: eval mode
    np.testing.assert_array_equal(out[""], output.numpy())  # "": the module itself
    assert all(v.dtype == np.float32 and v.shape[0] == len(x) for v in out.values())
    assert [m.training for m in net] == [True, True, True, False]
    assert _hooks(net) == 0
    # A float64 array is converted to the module's dtype.
    np.testing.assert_array_equal(module_outputs(net, x.astype(np.float64), "1")["1"], out["1"])


def test_custom_module_named_submodules_and_flattening():
    torch.manual_seed(1)
    x, _ = _data(n=40)
    net = Net().train()
    out = module_outputs(net, x, ["encoder.1", "encoder", "head"])
    with torch.no_grad():
        hidden = torch.tanh(net.encoder[0](torch.from_numpy(x))).numpy()
    np.testing.assert_array_equal(out["encoder.1"], hidden)
    np.testing.assert_array_equal(out["encoder"], hidden)  # the dropout is off
    assert out["head"].shape == (40, 3) and net.training and _hooks(net) == 0
    # A convolution's (n, c, h, w) output comes back as (n, c * h * w).
    conv = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 1))
    images = torch.randn(40, 2, 3, 3)
    with torch.no_grad():
        expected = conv(images).reshape(40, 36).numpy()
    np.testing.assert_array_equal(module_outputs(conv, images, "0")["0"], expected)


def test_measure_module_agrees_with_the_definition():
    torch.manual_seed(2)
    x, y = _data()
    net = Net()
    result = measure_module(net, torch.from_numpy(x), torch.from_numpy(y), "encoder.1", repeats=0)
    features = module_outputs(net, x, "encoder.1")["encoder.1"]
    assert result == measure(features, y, repeats=0)
    assert result.n == len(x) and result.d == 8 and result.halfway_interval is None
    reference = dfp.lfr_reference(features, y, result.inv_delta)
    np.testing.assert_allclose(result.lfr, reference, atol=1e-5, rtol=0)


class _Shared(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(5, 5)

    def forward(self, x):
        return self.layer(self.layer(x))


class _Pair(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(5, 4, batch_first=True)

    def forward(self, x):
        return self.lstm(x[:, None, :])[0]


class _Broken(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(5, 5)

    def forward(self, x):
        self.layer(x)
        raise RuntimeError("broken forward")


def test_bad_names_and_modules_give_clear_errors_and_leave_no_hooks():
    x, y = _data(n=20)
    net = Net().train()
    with pytest.raises(
        ValueError, match=r"no submodule named 'encoder.9'.*'encoder.1', 'encoder.2'"
    ):
        module_outputs(net, x, "encoder.9")
    with pytest.raises(ValueError, match="x has 20 points but y has 19"):
        measure_module(net, x, y[:19], "head")
    for module, name, message in (
        (_Shared(), "layer", "ran 2 times in one forward pass"),
        (_Pair(), "lstm", "returns a tuple, not one tensor"),
    ):
        with pytest.raises(ValueError, match=message):
            module_outputs(module, x, name)
        assert _hooks(module) == 0
    broken = _Broken().train()
    with pytest.raises(RuntimeError, match="broken forward"):
        module_outputs(broken, x, "layer")
    assert _hooks(broken) == 0 and broken.training
