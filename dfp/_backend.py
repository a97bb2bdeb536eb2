"""Backend switches: compiled calls with full float32 matrix products, on any Keras backend.

The engine's distances |a|^2 + |b|^2 - 2ab need every float32 mantissa bit. TensorFloat-32
(on by default for matrix products on Ampere and later NVIDIA GPUs) keeps 10, so every call
compiled here runs with it off: under JAX per call (``jax.default_matmul_precision``), but
under TensorFlow and PyTorch only through a process-wide switch, which ``compile_for_backend`` turns
off the first time it runs. From then on, every float32 matrix product of that process
(training included) runs without TensorFloat-32.
"""

# deferred imports: each function imports only the backend Keras runs on (jax, tensorflow or
# torch), never the others, which may not be installed.
import contextlib
import functools

import keras


@functools.cache
def on_accelerator(backend):
    """Whether the Keras backend computes on a GPU (or another accelerator), not the CPU."""
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


CACHE = {}


def compiled(fn, xla=False, **static):
    """fn with its static arguments bound, compiled once per backend and static values."""
    key = (keras.backend.backend(), fn.__name__, xla, tuple(sorted(static.items())))
    if key not in CACHE:
        CACHE[key] = compile_for_backend(functools.partial(fn, **static), xla)
    return CACHE[key]


def compile_for_backend(fn, xla=False):
    """Compile fn for the active Keras backend, with full float32 matmul precision.

    xla: under TensorFlow, compile with XLA. It fuses elementwise passes into one (used for
    the clamp and exps that start each run), but its CPU matrix products were measured
    1.3-2x slower than TensorFlow's own (oneDNN) for the thin products of the kernel sums,
    so the sums themselves are a plain TensorFlow graph. JAX always compiles with XLA.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # TensorFloat-32 (on by default on Ampere+ GPUs) keeps 10 mantissa bits, which
        # wrecks |a|^2 + |b|^2 - 2ab. TensorFlow has only this global switch.
        tf.config.experimental.enable_tensor_float_32_execution(False)
        return tf.function(fn, reduce_retracing=True, jit_compile=xla)
    if backend == "jax":
        import jax

        compiled = jax.jit(fn)

        def call(*args):
            with jax.default_matmul_precision("highest"):
                return compiled(*args)

        return call
    if backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
    return fn


# --- training precision -------------------------------------------------------------------

# How a network trains: "float32" (every matrix product in full float32, TensorFloat-32 off),
# "tf32" (float32 variables and activations, matrix products in TensorFloat-32 where the
# hardware has it: NVIDIA Ampere and later; on a CPU the same as float32) or "bf16" (Keras's
# "mixed_bfloat16": bfloat16 computations, float32 variables, the output layer in float32).
PRECISIONS = ("float32", "tf32", "bf16")


def check_precision(precision):
    """``precision`` if it is one of ``PRECISIONS``, else a ValueError naming them."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown training precision {precision!r}; use one of {PRECISIONS}")
    return precision


def _tf32_state(backend):
    """Whether TensorFloat-32 is allowed now, through the backend's process-wide switch."""
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.config.experimental.tensor_float_32_execution_enabled()
    if backend == "torch":
        import torch

        return torch.backends.cuda.matmul.allow_tf32
    return None


def _set_tf32(backend, allowed):
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(bool(allowed))
    elif backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = bool(allowed)


@contextlib.contextmanager
def matmul_precision(precision):
    """Matrix products at ``precision`` while the block runs, then as they were.

    "tf32" allows TensorFloat-32; "float32" and "bf16" forbid it (bf16's products are
    bfloat16 anyway; its float32 parts stay full float32). Under JAX this holds for what is
    compiled inside the block (``jax.default_matmul_precision``), under TensorFlow and
    PyTorch through their process-wide switch, restored on leaving.
    """
    check_precision(precision)
    backend = keras.backend.backend()
    allowed = precision == "tf32"
    if backend == "jax":
        import jax

        with jax.default_matmul_precision("tensorfloat32" if allowed else "highest"):
            yield
        return
    before = _tf32_state(backend)
    _set_tf32(backend, allowed)
    try:
        yield
    finally:
        if before is not None:
            _set_tf32(backend, before)


def dtype_policy(precision):
    """The Keras dtype policy name a network trains under at ``precision``."""
    return "mixed_bfloat16" if check_precision(precision) == "bf16" else "float32"
