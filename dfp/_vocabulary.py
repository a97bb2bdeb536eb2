"""The project's closed vocabularies, each written once: profiles, claims, precisions,
optimizers, losses and activations.

Plain constants, importing nothing, so that the book's machinery (parameters, sweeps,
results, the workflow) and the training code read the same lists without loading Keras.
"""

# The parameter profiles of a notebook (notebooks/params/<name>.<profile>.yaml; "book" is the
# notebook's own defaults), smallest first.
PROFILES = ("book", "tiny", "medium", "paper")

# The claims a reproduction checks, in the paper's order (C1-C9, then the Discussion's parity).
CLAIMS = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "parity")

# Training precisions: float32 with TensorFloat-32 off, TensorFloat-32 matmuls, mixed bfloat16.
PRECISIONS = ("float32", "tf32", "bf16")

# Optimizer names a notebook may use, and their Keras classes.
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD"}

# The losses a network with a linear output f^[L] is trained on: "mse" is Keras's (the mean
# over outputs, the paper's), "cross_entropy" is softmax cross-entropy on f^[L] as logits.
LOSSES = ("mse", "cross_entropy")

# The hidden-layer activations a notebook may name: Keras activation names
# (tests/test_parameters.py checks that Keras knows each).
ACTIVATIONS = (
    "tanh",
    "relu",
    "sigmoid",
    "elu",
    "selu",
    "gelu",
    "silu",
    "swish",
    "softplus",
    "softsign",
    "leaky_relu",
    "relu6",
    "hard_sigmoid",
    "exponential",
    "linear",
)
