"""Measure any PyTorch ``nn.Module``: the outputs of its named submodules, through forward hooks,
and the LFR and RDF of the effective target S = {(f(x_i), y_i)} of any of them (eq. 11).

This is the one module of ``dfp`` that imports PyTorch, and only when it is imported itself::

    from dfp.torch_probe import measure_module
    result = measure_module(net, x, y, "encoder.2")   # a name from net.named_modules()

A submodule is named as ``dict(module.named_modules())`` names it (``""`` is the module
itself, i.e. its output). The forward pass runs under ``torch.no_grad()`` in evaluation mode
(each submodule's training flag is restored afterwards) on the device of the module's
parameters, CPU or CUDA alike, in batches; the outputs come back as (n, d) float32 numpy
arrays, each point's output flattened.
"""

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

try:
    import torch
except ImportError as error:  # the rest of dfp never needs PyTorch
    raise ImportError(
        "dfp.torch_probe needs PyTorch, which is not installed: install it (the CPU build is "
        "enough), e.g. `pip install torch --index-url https://download.pytorch.org/whl/cpu`"
    ) from error

from dfp.measure import Measurement, measure

__all__ = ["measure_module", "module_outputs"]


def module_outputs(
    module: torch.nn.Module,
    x: torch.Tensor | ArrayLike,
    names: str | Iterable[str],
    *,
    batch_size: int = 1024,
) -> dict[str, np.ndarray]:
    """The outputs of named submodules of ``module`` on the points ``x``, in one forward pass
    per batch.

    A forward hook on each named submodule keeps its output; the hooks are removed and every
    submodule's training flag restored on return, error or not. The pass runs under
    ``torch.no_grad()`` in evaluation mode (dropout off, batch norm on its running
    statistics), on the device of the module's parameters (batches are moved there).

    Args:
        module: any ``torch.nn.Module`` taking one tensor of points, (n, ...).
        x: the points, (n, ...): a ``torch.Tensor`` (its dtype kept), or an array converted to
            a tensor of the module's floating dtype (float32 for most modules).
        names: a submodule name as ``module.named_modules()`` gives it (e.g. ``"encoder.2"``;
            ``""`` is the module itself), or several.
        batch_size: points per forward pass.

    Returns:
        A dict from each name to its output on x, an (n, d) float32 numpy array, each
        point's output flattened (d is the product of the output's non-batch dimensions).

    Raises:
        ValueError: a name is not a submodule (the message lists the names there are),
            ``batch_size`` is not positive, ``x`` is empty, or a submodule's output
            is not one tensor with one row per point, or it runs more than once per forward
            pass (a shared submodule, whose output is then ambiguous).
    """
    wanted = list(dict.fromkeys([names] if isinstance(names, str) else names))
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    submodules = dict(module.named_modules())
    unknown = [name for name in wanted if name not in submodules]
    if unknown:
        available = ", ".join(repr(name) for name in submodules)
        raise ValueError(
            f"{type(module).__name__} has no submodule named {unknown[0]!r}; its submodules "
            f"(from named_modules(), '' being the module itself) are: {available}"
        )
    device, dtype = _device_and_dtype(module)
    x = x if isinstance(x, torch.Tensor) else _as_tensor(x, dtype)
    if len(x) == 0:
        raise ValueError("x holds no points")
    caught = {name: [] for name in wanted}
    chunks = {name: [] for name in wanted}

    def keeper(name):
        def hook(_, __, output):
            caught[name].append(output)

        return hook

    hooks = [submodules[name].register_forward_hook(keeper(name)) for name in wanted]
    modes = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        with torch.no_grad():
            for start in range(0, len(x), int(batch_size)):
                batch = x[start : start + int(batch_size)].to(device)
                for name in caught:
                    caught[name].clear()
                module(batch)
                for name in wanted:
                    chunks[name].append(_one_output(name, caught[name], len(batch)))
    finally:
        for hook in hooks:
            hook.remove()
        for m, training in modes:
            m.training = training
    return {name: np.concatenate(chunks[name]) for name in wanted}


def measure_module(
    module: torch.nn.Module,
    x: torch.Tensor | ArrayLike,
    y: torch.Tensor | ArrayLike,
    name: str,
    *,
    batch_size: int = 1024,
    **measure_options: Any,
) -> Measurement:
    """The LFR and RDF of the effective target of a submodule, S = {(f(x_i), y_i)} (eq. 11).

    ``module_outputs`` then ``dfp.measure.measure``: the same as measuring the submodule's
    flattened float32 outputs yourself.

    Args:
        module: any ``torch.nn.Module`` taking one tensor of points.
        x: the points, (n, ...), as for ``module_outputs``.
        y: their targets, (n,) or (n, d_o): labels (e.g. one-hot), or any values, as a
            ``torch.Tensor`` or an array.
        name: the submodule, as ``module.named_modules()`` names it (``""``: the module).
        batch_size: points per forward pass.
        **measure_options: passed to ``dfp.measure.measure``: ``inv_delta`` (the 1/delta grid,
            in units of 1 / (squared distance of the normalised outputs); proposed from the
            data when absent), ``grid_points``, ``normalize`` (divide each output dimension by
            its maximum absolute value first), ``repeats``, ``fraction``, ``level``, ``seed``,
            ``classes`` (one-hot encode integer labels).

    Returns:
        The ``Measurement`` (LFR, RDF, half-way point and peak, their intervals).

    Raises:
        ValueError: ``name`` is not a submodule, x and y hold different numbers of points, or
            as ``module_outputs`` and ``measure`` raise.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} points but y has {len(y)}: they must match")
    features = module_outputs(module, x, name, batch_size=batch_size)[name]
    targets = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    return measure(features, targets, **measure_options)


def _device_and_dtype(module):
    """Where the module computes, and the floating dtype it computes in (float32 if none)."""
    tensors = [*module.parameters(), *module.buffers()]
    device = tensors[0].device if tensors else torch.device("cpu")
    floats = [t.dtype for t in tensors if t.is_floating_point()]
    return device, (floats[0] if floats else torch.float32)


def _as_tensor(x, dtype):
    """An array as a tensor; floating arrays in the module's floating dtype."""
    array = np.asarray(x)
    tensor = torch.as_tensor(array)
    return tensor.to(dtype) if tensor.is_floating_point() else tensor


def _one_output(name, outputs, rows):
    """One batch's output of submodule ``name`` as a (rows, d) float32 array, or a clear error."""
    if len(outputs) != 1:
        raise ValueError(
            f"submodule {name!r} ran {len(outputs)} times in one forward pass: its output is "
            "ambiguous (a submodule shared or called in a loop); hook one that runs once"
        )
    output = outputs[0]
    if not isinstance(output, torch.Tensor):
        raise ValueError(
            f"submodule {name!r} returns a {type(output).__name__}, not one tensor: hook a "
            "submodule whose output is a tensor, or measure the arrays you choose with "
            "dfp.measure.measure"
        )
    if output.ndim == 0 or output.shape[0] != rows:
        raise ValueError(
            f"submodule {name!r} returns shape {tuple(output.shape)} for a batch of {rows} "
            "points: its first dimension must be the points"
        )
    return output.detach().reshape(rows, -1).to(device="cpu", dtype=torch.float32).numpy()
