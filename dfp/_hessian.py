"""The sharpness of a network's mean squared error: the largest eigenvalue of its Hessian in
all trainable weights, by power iteration on Hessian-vector products (private engine of
``dfp.recipes.sgd_stability_bound``).

A Hessian-vector product is a derivative of a derivative, which Keras does not offer across
backends: each backend's own automatic differentiation computes it (TensorFlow: nested
gradient tapes; JAX: forward over reverse; PyTorch: a double backward pass).
"""

import keras
import numpy as np


def _hvp_tensorflow(model, x, y):
    import tensorflow as tf  # deferred: only on the TensorFlow backend

    variables = model.trainable_variables
    dtype = variables[0].dtype
    x, y = tf.constant(x, dtype), tf.constant(y, dtype)

    @tf.function(reduce_retracing=True)
    def hvp(vectors):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                loss = tf.reduce_mean(tf.square(tf.cast(model(x, training=False), dtype) - y))
            grads = inner.gradient(loss, variables)
            dot = tf.add_n([tf.reduce_sum(g * v) for g, v in zip(grads, vectors)])
        return outer.gradient(dot, variables)

    return lambda vectors: [
        np.asarray(h, np.float64) for h in hvp([tf.constant(v, dtype) for v in vectors])
    ]


def _hvp_jax(model, x, y):
    import jax  # deferred: only on the JAX backend
    import jax.numpy as jnp

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    dtype = trainable[0].dtype
    x, y = jnp.asarray(x, dtype), jnp.asarray(y, dtype)

    def loss(weights):
        out, _ = model.stateless_call(weights, non_trainable, x, training=False)
        return jnp.mean(jnp.square(out.astype(dtype) - y))

    hvp = jax.jit(lambda vectors: jax.jvp(jax.grad(loss), (trainable,), (vectors,))[1])
    return lambda vectors: [
        np.asarray(h, np.float64) for h in hvp([jnp.asarray(v, dtype) for v in vectors])
    ]


def _hvp_torch(model, x, y):
    import torch  # deferred: only on the PyTorch backend

    params = [v.value for v in model.trainable_variables]
    device, dtype = params[0].device, params[0].dtype
    x = torch.as_tensor(x, dtype=dtype, device=device)
    y = torch.as_tensor(y, dtype=dtype, device=device)

    def hvp(vectors):
        loss = torch.mean(torch.square(model(x, training=False).to(dtype) - y))
        grads = torch.autograd.grad(loss, params, create_graph=True)
        vectors = [torch.as_tensor(v, dtype=dtype, device=device) for v in vectors]
        dot = sum((g * v).sum() for g, v in zip(grads, vectors))
        return [
            h.detach().cpu().numpy().astype(np.float64) for h in torch.autograd.grad(dot, params)
        ]

    return hvp


_HVP = {"tensorflow": _hvp_tensorflow, "jax": _hvp_jax, "torch": _hvp_torch}


def sharpness(model, x, y, *, iterations=30, seed=0):
    """The largest eigenvalue of the Hessian of mean((model(x) - y)^2) in the trainable
    weights, at the weights the model holds now.

    Power iteration: v <- H v / |H v| from a seeded random direction, the eigenvalue read as
    the Rayleigh quotient v.Hv. Should the eigenvalue of largest magnitude be negative, the
    iteration is run again on H - that value, which finds the largest positive one.

    Args:
        model: a Keras model.
        x, y: the points and their targets (the full batch the loss is the mean over).
        iterations: power iterations (each one Hessian-vector product).
        seed: of the starting direction.

    Returns:
        The largest eigenvalue, a float (>= 0 for a loss that is not concave everywhere).
    """
    backend = keras.backend.backend()
    if backend not in _HVP:
        raise ValueError(f"no Hessian-vector product for the {backend!r} backend")
    hvp = _HVP[backend](model, np.asarray(x), np.asarray(y))
    shapes = [tuple(v.shape) for v in model.trainable_variables]
    rng = np.random.default_rng(seed)

    def power(shift):
        vectors = [rng.standard_normal(s) for s in shapes]
        value = 0.0
        for _ in range(int(iterations)):
            norm = np.sqrt(sum(float(np.sum(v**2)) for v in vectors))
            vectors = [v / norm for v in vectors]
            products = [h - shift * v for h, v in zip(hvp(vectors), vectors)]
            value = sum(float(np.sum(v * p)) for v, p in zip(vectors, products))
            vectors = products
        return value

    dominant = power(0.0)
    if dominant >= 0:
        return dominant
    return power(dominant) + dominant
