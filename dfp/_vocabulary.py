"""The project's closed vocabularies, each written once: profiles, claims, precisions,
optimizers, losses and activations.

Plain constants, importing nothing, so that the book's machinery (parameters, sweeps,
results, the workflow) and the training code read the same lists without loading Keras.
"""

# The parameter profiles of a notebook (notebooks/params/<name>.<profile>.yaml; "book" is the
# notebook's own defaults), smallest first.
PROFILES = ("book", "tiny", "medium", "paper")

# The claims a reproduction checks, in the paper's order (C1-C9, then the Discussion's parity);
# C5init and C6init are part (1) of C5 and C6 (at initialisation) over seeds and heads.
CLAIMS = ("C1", "C2", "C3", "C4", "C5", "C5init", "C6", "C6init", "C7", "C8", "C9", "parity")

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

# Each claim's figure page and, in a few words, what the paper says (the report's first table).
CLAIM_PAGES = {
    "C1": ("fig1a", "Fig. 1a", "more hidden layers: fewer epochs to an error"),
    "C2": ("fig1b", "Fig. 1b", "a lower-frequency target: fewer epochs"),
    "C3": ("fig3", "Fig. 3", "the RDF peak of sin(kπx) moves up with k"),
    "C4": ("fig5", "Fig. 5", "deeper Resnet18s train faster, validate better"),
    "C5": ("fig6", "Fig. 6", "S[-3]: deeper starts higher, moves faster, ends lower"),
    "C5init": (
        "resnet_init",
        "Figs. 6-7 at init.",
        "C5 (1) over seeds: deeper starts higher",
    ),
    "C6": ("fig7", "Fig. 7", "the same for {(f[-3], f[-1])}"),
    "C6init": (
        "resnet_init",
        "Figs. 6-7 at init.",
        "C6 (1) over seeds: the same",
    ),
    "C7": ("fig8", "Fig. 8", "deeper hidden layers start higher, move faster, end lower"),
    "C8": ("fig9", "Fig. 9a", "no residual: deeper learns slower; residual: alike"),
    "C9": ("fig9", "Fig. 9b", "no residual: deeper is higher frequency; residual: alike"),
    "parity": ("parity", "Parity", "deeper layers end lower for the parity function"),
}

# Fig. 9's forms of network (dfp.models.mlp's ``residual``) and their names everywhere.
RESIDUAL_FORMS = (None, "unscaled", "scaled")
RESIDUAL_FORM_NAMES = {
    None: "no residual",
    "unscaled": "unscaled residual",
    "scaled": "scaled residual (1/√(L−2))",
}

# How a Resnet18 variant's last convolution part reaches its fully connected layers
# (dfp.models.resnet18_variant's ``head``): global average pooling or flattening.
RESNET_HEADS = ("pool", "flatten")

# What a figure page glues of each claim (dfp.page.glue_claim) and a result or sweep summary
# keeps of it.
CLAIM_FIELDS = (
    "outcome",
    "holds",
    "verdict",
    "mark",
    "statistic",
    "summary",
    "scale",
    "parts",
    "effects",
    "inputs",
)
