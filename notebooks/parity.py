# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The parity function: the deep frequency principle on a high-frequency target
#
# **The paper's claim (parity).** The Discussion says the deep frequency principle also
# holds when a network fits the parity function, $y = x_1 x_2 \cdots x_d$ on
# $x \in \{-1, 1\}^d$, the highest-frequency Boolean function, but shows no figure. We show
# it as Fig. 8 does for MNIST: the RDF of $S^{[l]} = \{(f^{[l]}(x_i), y_i)\}$ for each hidden
# layer at several epochs. The claim checked: at the end of training, the RDF of a deeper
# hidden layer sits at lower frequency.
#
# **Setting (ours; the paper gives none).** $d = 10$, all $2^{10} = 1{,}024$ points;
# a network $d$-200-200-200-200-200-1 with tanh hidden layers and a linear output; full-batch
# Adam at learning rate $10^{-3}$ on the mean squared error until it is below $10^{-3}$
# (one epoch is one full-batch update). Each layer's outputs are normalised per dimension by
# their maximum absolute value; one geometric $1/\delta$ grid for all curves, chosen at
# initialisation and widened 1.5 decades toward low frequency. As in Fig. 8, part of the move
# to low frequency is the representation contracting as it trains: the curves measure the
# effective target function, whatever makes it smoother.

# %% tags=["parameters"]
dimension = 10  # d: inputs are all 2^d points of {-1, 1}^d, one full batch
hidden_layers = 5  # hidden tanh layers
width = 200  # units per hidden layer
learning_rate = 1e-3  # Adam's step size; full batch, one update per epoch
stop_loss = 1e-3  # training stops at the first epoch whose MSE is below this
max_epochs = 20000  # cap on epochs; training stops earlier at stop_loss
snapshot_epochs = [0, 50, 100, 200, 400, 800, 1600]  # epochs of spectra (0 = init; and the last)
grid_points = 100  # points of the geometric 1/delta grid, chosen at initialisation
repeats = 20  # subsamples of half the points, for each half-way point's interval (0: none)
seed = 0  # fixes the initialisation (the data are the whole cube)

# %% tags=["remove-input"]
import dfp

params = dfp.page.begin(globals(), "parity")

# %% tags=["hide-input"]
import time

import keras

layers = list(range(1, hidden_layers + 1))


def train():
    x, y = dfp.data.parity(dimension)
    keras.utils.set_random_seed(seed)
    model = dfp.models.mlp(dimension, hidden_layers, width, activation="tanh", seed=seed)
    # Hidden layers of the parity network move more than a decade: pad the grid by 1.5.
    spectra = dfp.callbacks.Spectra(
        x,
        y,
        [0] + layers,
        snapshot_epochs,
        grid_points=grid_points,
        pad_decades=(1.5, 0.3),
        repeats=repeats,
    )
    start = time.perf_counter()
    run = dfp.training.train_to_loss(
        model,
        x,
        y,
        threshold=stop_loss,
        max_epochs=max_epochs,
        learning_rate=learning_rate,
        spectra=spectra,
    )
    return dict(
        epochs=run.epochs,
        loss=run.losses,
        inv_delta=spectra.inv_delta,
        curves=spectra.curves,
        floors=spectra.floors,
        draws=spectra.draws,
        resample=spectra.record()["resample"],
        seconds=time.perf_counter() - start,
        spectra_seconds=spectra.seconds,
    )


# %%
run = dfp.runs.cached("parity", params, train)
inv_delta, curves = run["inv_delta"], run["curves"]
end = max(curves)

# %% tags=["hide-input"]
reached = run["epochs"] is not None
print(
    (
        f"MSE < {stop_loss} after {run['epochs']} epochs"
        if reached
        else f"cap of {max_epochs} epochs reached"
    )
    + f"; {run['seconds']:.0f} s, of which spectra {run['spectra_seconds']:.0f} s"
)
dfp.plots.show(dfp.plots.rdf_snapshots_figure(inv_delta, curves, [0] + layers, end_epoch=end))

# %% [markdown]
# Layer 0 is the input itself: the parity function is the target there, and it stays where
# it is. The hidden layers start near it and move to low frequency as training goes.
#
# ## Check of the parity claim
#
# At the last epoch, the half-way $1/\delta$ (where the LFR is half-way between its floor
# and 1) must decrease with depth over the hidden layers: each step from a layer to the next
# is decided by `dfp.verdicts.ordered` against the 90% interval of the ratio of their
# half-way points, from `repeats` subsamples of half the points shared by every layer
# (paired); a step is resolved lower, higher, the same (within a factor 1.1) or not resolved,
# and the statistic gives every step.

# %%
draws = run["draws"].get(end) if repeats else None
parity = dfp.claims.parity_check(
    inv_delta,
    [curves[end][l] for l in layers],
    [run["floors"][end][l] for l in layers],
    None if draws is None else [draws[l]["halfway"] for l in layers],
    layers=layers,
    epoch=end,
)

# %% tags=["hide-input"]
dfp.page.glue_claim(
    "parity",
    parity,
    scale=f"d = {dimension}, all {2**dimension:,} points, {hidden_layers}×{width} tanh",
)

# %% [markdown]
# **Verdict: parity {glue:text}`parity_verdict`.** {glue:text}`parity_statistic`.
#
# More seeds or dimensions:
# `papermill notebooks/parity.ipynb out.ipynb -f notebooks/params/parity.paper.yaml`.

# %% [markdown]
# ## Larger runs

# %% tags=["remove-input"]
dfp.page.show_results(params)

# %% tags=["remove-input"]
dfp.page.show_parameters(params)
