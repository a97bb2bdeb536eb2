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
# # Fig. 8: in one network, deeper hidden layers' effective targets move to low frequency faster
#
# **The paper's claim (C7).** In a fixed 784-500-500-500-500-500-10 tanh network trained
# on MNIST, the RDF of the effective target function $S^{[l]} = \{(f^{[l]}(x_i), y_i)\}$ of
# hidden layer $l$ (1) at initialisation peaks at a higher frequency for a deeper layer;
# (2) moves towards low frequency faster for a deeper layer as training goes; (3) at the end
# of training peaks at a frequency that decreases monotonically with depth.
#
# **Setting: the paper's own.** 30,000 MNIST training images (pixels / 255), tanh hidden
# layers, a linear output, mean squared error on one-hot labels (Keras `mse`: the mean over
# the 10 outputs), Adam at learning rate $10^{-5}$, batch 256, stopped at the end of the
# first epoch whose training loss is below $10^{-2}$ (`max_epochs` caps it). Open choices, ours:
# Keras's default (Glorot uniform) initialisation; the RDFs are measured on an analysis
# subset of the training images (`analysis_size`; the paper setting file uses all 30,000);
# each layer's outputs are normalised per dimension by their maximum absolute value, per
# layer and per epoch, as the paper does; one geometric $1/\delta$ grid for all curves,
# proposed by `dfp.inv_delta_grid` from the layers at initialisation and widened by a decade
# below (training moves the curves to low frequency) and a third of a decade above; the
# panels are the epochs in `snapshot_epochs` and the last epoch. The network's weights are
# kept at those epochs and the curves computed from them afterwards, so the grid
# (`grid_points`, `grid_spacing`, `grid_pad`) can change without training again; the sweeps
# also vary `activation` and `loss` (`"cross_entropy"`: softmax on the linear output), which
# the paper says it tried and does not show.

# %% tags=["parameters"]
max_epochs = 300  # cap on epochs; training stops earlier at stop_loss
train_size = 30000  # MNIST training images, a seeded subset of the 60,000 (the paper's 30,000)
analysis_size = 5000  # of those, the images (seeded subset) on which the RDFs are measured
hidden_layers = 5  # hidden Dense layers (the paper's 784-500x5-10)
width = 500  # units per hidden layer (the paper's 500)
activation = "tanh"  # hidden layers' Keras activation (the paper's); the output is linear
loss = "mse"  # "mse": Keras's mean over the 10 outputs (the paper's); or "cross_entropy"
learning_rate = 1e-5  # Adam's step size (the paper's, for MNIST)
batch_size = 256  # images per Adam step (the paper's)
stop_loss = 1e-2  # stop at the end of the first epoch whose training loss is below it (None: never)
snapshot_epochs = [0, 1, 3, 6, 12, 25, 45]  # epochs whose weights are kept (0 = init; and the last)
grid_points = 100  # points of the 1/delta grid (set after training: changing it retrains nothing)
grid_spacing = "geometric"  # the grid's spacing: geometric, uniform, piecewise or uniform_delta
grid_pad = [1.0, 0.3]  # decades the grid is widened [below, above] the layers' range at epoch 0
repeats = 20  # subsamples of half the analysis images, for each half-way point's interval
seed = 0  # fixes the data subset, the analysis subset, the initialisation and the batch order
precision = "float32"  # float32 (TF32 off), tf32 or bf16 (mixed); spectra always float32

# %% tags=["remove-input"]
import dfp

params = dfp.page.begin(globals(), "fig8")

# %% tags=["hide-input"]
import numpy as np

layers = list(range(1, hidden_layers + 1))
# The 1/delta grid is chosen after training, from the kept snapshots: a grid parameter
# changes the analysis, never the training run.
GRID = ("grid_points", "grid_spacing", "grid_pad", "repeats")


def network():
    return dfp.models.mlp(
        784, hidden_layers, width, activation=activation, output_dim=10, seed=seed
    )


def data():
    x, y = dfp.data.mnist(train_size, seed=seed)
    analysis = np.random.default_rng(seed).permutation(len(x))[:analysis_size]
    return x, y, analysis


def train():
    x, y, _ = data()
    return dfp.training.fit_with_spectra(
        network(),
        x,
        y,
        loss=loss,
        learning_rate=learning_rate,
        batch_size=batch_size,
        max_epochs=max_epochs,
        stop_loss=stop_loss,
        spectra=dfp.callbacks.Snapshots(snapshot_epochs),
        seed=seed,
        label="fig8",
        precision=precision,
    )


def analyse():
    x, y, analysis = data()
    # Intervals where the verdict reads the curves: the first, intermediate and last snapshots.
    resampled = dfp.claims.decisive_epochs(run["weights"])
    return dfp.callbacks.spectra_of_snapshots(
        network(),
        run["weights"],
        x[analysis],
        y[analysis],
        layers,
        grid_points=grid_points,
        spacing=grid_spacing,
        pad_decades=grid_pad,
        repeats=repeats,
        resample_epochs=resampled,
    )


# %%
run = dfp.runs.cached("fig8", params.without(*GRID), train)
spectra = dfp.runs.cached("fig8-spectra", params, analyse)
inv_delta, curves = spectra["inv_delta"], spectra["curves"]

# %% tags=["hide-input"]
ending = f"stopped at loss < {stop_loss}" if run["stopped"] else "cap reached"
print(
    f"{run['epochs']} epochs ({ending}), final loss {run['loss'][-1]:.4f}; "
    f"{run['seconds']:.0f} s of training; spectra {spectra['spectra_seconds']:.0f} s"
)

# %% tags=["remove-input"]
# For a sweep (dfp.sweeps): a point whose final loss is not below stop_loss is under-trained.
dfp.page.glue_run(final_loss=run["loss"][-1], epochs=run["epochs"], stop_loss=stop_loss)

# %% tags=["hide-input"]
path = dfp.claims.trajectory(spectra, layers)  # each layer's half-way point at every snapshot
dfp.plots.show(
    dfp.plots.trajectory_figure(path["epochs"], path["halfway"], intervals=path["intervals"])
)
shown = dfp.plots.spread_epochs(curves, 6, keep=sorted(spectra["draws"]))  # six panels or so
dfp.plots.show(
    dfp.plots.rdf_snapshots_figure(
        inv_delta, {e: curves[e] for e in shown}, layers, end_epoch=run["epochs"]
    )
)

# %% [markdown]
# ## Check of C7
#
# A curve's position is its half-way point: the $1/\delta$ where the LFR is half-way between
# its floor and 1. Its uncertainty comes from `repeats` subsamples of half the analysis
# images, drawn without duplicates and shared by every layer and snapshot
# (`dfp.intervals`), so each comparison of two layers is paired. Each step from a layer to
# the next is decided by `dfp.verdicts.ordered` against the 90% interval of the ratio of
# their half-way points: resolved higher, lower, the same (within a factor 1.1), or not
# resolved. (1) holds when every step is resolved higher at initialisation; (3) when every
# step is resolved lower at the end; (2), tested on its own, when by the intermediate
# snapshot (the one nearest half the run) every deeper layer has moved further toward low
# frequency ($\log_{10}$ of its half-way point at initialisation over that then, in
# decades), each step resolved against the paired intervals of the moves.

# %%
c7 = dfp.claims.deep_frequency_check(
    inv_delta,
    **dfp.claims.snapshots(spectra, layers),
    labels=[f"layer {l}" for l in layers],
    xlabel="hidden layer",
    ticks=layers,
)

# %% tags=["hide-input"]
dfp.page.glue_claim(
    "C7",
    c7,
    scale=(
        f"{train_size:,} MNIST images, {hidden_layers}×{width} {activation}, {loss}, "
        f"{run['epochs']} epochs; "
        f"RDFs on {analysis_size:,}"
    ),
)

# %% [markdown]
# **Verdict: C7 {glue:text}`C7_verdict`.** {glue:text}`C7_statistic`.
#
# The defaults are the paper's own training setting; `notebooks/params/fig8.paper.yaml`
# measures the RDFs on all 30,000 training images and more snapshots
# (`papermill notebooks/fig8.ipynb out.ipynb -f notebooks/params/fig8.paper.yaml`).

# %% [markdown]
# **How long the paper trains.** The paper stops training "when the loss is below
# $10^{-2}$". This page reads that plainly, as Keras's mean squared error over the 10
# outputs below $10^{-2}$ (`stop_loss`); its run stops at the epoch printed above, and the
# figures show its whole trajectory, a snapshot every few epochs. An earlier paper-profile
# run read the rule as the error summed over the outputs (Keras's mean below $10^{-3}$),
# because the authors' lab's later notes label this figure's panels with epochs up to 800
# ({doc}`sources <../book/sources>`); it trained many times longer. The evidence is against
# that reading: in the lab's panel labelled 200 the deeper layers' curves have moved while
# layers 1 and 2 have not, a state the plain reading's run passes through in its first few
# dozen epochs, and by epoch 200 the longer run had moved every layer far. So the lab's
# labels are not our epochs, and the summed reading over-trains. That longer run is not
# kept: it carried no data from which to decide it again under the current rule.

# %% [markdown]
# ## Larger runs

# %% tags=["remove-input"]
dfp.page.show_results(params)

# %% tags=["remove-input"]
dfp.page.show_parameters(params)
