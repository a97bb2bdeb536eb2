"""Backend switches: compiled calls with full float32 matrix products, on any Keras backend.

The engine's distances |a|^2 + |b|^2 - 2ab need every float32 mantissa bit. TensorFloat-32
(on by default for matrix products on Ampere and later NVIDIA GPUs) keeps 10, so every call
compiled here runs with it off: under JAX per call (``jax.default_matmul_precision``), but
under TensorFlow and PyTorch only through a process-wide switch, which ``compile_for_backend`` turns
off the first time it runs. From then on, every float32 matrix product of that process
(training included) runs without TensorFloat-32.
"""

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
