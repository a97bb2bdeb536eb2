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
# # Fig. 7: the RDF of the learning component's own function {(f[-3], f[-1])}
#
# **The paper's claim (C6).** For $\{(f^{[-3]}(x_i), f^{[-1]}(x_i))\}$, the function the last two
# layers compute, at initialisation the RDF of a deeper Resnet18 variant concentrates at higher
# frequency; as training proceeds, that of a deeper variant moves toward low frequency faster, so
# that late in training deeper means lower frequency.
#
# At initialisation the softmax output is nearly uniform, so this LFR is close to 1 at every
# $1/\delta$ and its floor differs by variant: where the half-way point is not bracketed by the
# grid, the check says "undecided" rather than guessing.
#
# **Setting.** One training run per variant is shared by Figs. 5, 6 and 7 (`dfp.runs`
# caches it): Adam with cross-entropy and batch 256, the paper's learning rates 1e-3, 1e-4,
# 1e-5 in its 2:1:1 proportion of the epochs, no augmentation (none is stated), a seeded split
# of the 50,000 CIFAR-10 training images. The structures are those of Fig. 4.
#
# **How this differs from the paper.** The paper trains the full-width Resnet18 variants
# (`width` 64) on 40,000 images for 80 epochs with 10,000 for validation: on two CPU cores
# that is a day of training (`benchmarks/resnet_epoch.py` times one epoch of each variant;
# `benchmarks/README.md` records what it measured). The defaults shrink every convolution
# part to `width` channels (same structure) and train on `train_size` images, with
# `validation_size` for validation, for `epochs` epochs, so that Figs. 4-7 run within one
# `make book` on two CPU cores. `notebooks/params/resnet18.paper.yaml` holds the paper's
# setting, shared by Figs. 5, 6 and 7.
# Every curve is on one geometric grid of $1/\delta$ (four decades are needed) with a
# logarithmic axis; $f^{[-3]}$ is normalised per dimension by its maximum absolute value at
# each epoch, as the paper does.

# %% tags=["parameters"]
variants = [1, 2, 3, 4]  # Resnet18-i variants trained (Fig. 4); 1 is the deepest, 4 the shallowest
width = 16  # channels of the stem and first convolution part (x2, x4, x8 after); paper: 64
dense_units = 256  # units of each of the two identical fully connected layers (f[-3], f[-2])
train_size = 4000  # CIFAR-10 training images, a seeded split of the 50,000; paper: 40,000
validation_size = 1000  # held-out images of that split, for validation accuracy; paper: 10,000
analysis_size = 1000  # training images (seeded subset) on which the RDFs are measured
epochs = 12  # exact count of epochs trained; Adam at 1e-3, 1e-4, 1e-5 in 2:1:1 parts
snapshot_epochs = [0, 1, 3, 6, 12]  # epochs whose spectra are recorded (0 = init; and the last)
inv_delta_range = [1e-3, 1e3]  # [low, high] 1/delta of the geometric grid shared by every curve
grid_points = 121  # points of that grid (20 per decade)
seed = 0  # fixes the split, the analysis subset, the initialisation and the batch order
precision = "float32"  # float32 (TF32 off), tf32 or bf16 (mixed); spectra always float32
control = 4  # variant trained again in float32 at seed and seed + 1 unless precision is float32

# %% tags=["remove-input"]
import dfp

params = dfp.page.begin(globals(), "fig7")

# %%
# One run per variant, shared with Figs. 5-7 (loaded when another figure trained it).
runs = {
    variant: dfp.runs.cached(
        "resnet18", config, lambda c=config: dfp.recipes.train_resnet_variant(**c)
    )
    for variant, config in dfp.recipes.resnet18_configs(params).items()
}
inv_delta = runs[variants[0]]["inv_delta"]
curves = {e: {v: runs[v]["output"]["curves"][e] for v in variants} for e in snapshot_epochs}
order = sorted(variants, reverse=True)  # shallow to deep, for the figure

# %% tags=["hide-input"]
print(
    "training time (s): " + ", ".join(f"Resnet18-{v}: {r['seconds']:.0f}" for v, r in runs.items())
)
dfp.plots.show(
    dfp.plots.rdf_snapshots_figure(inv_delta, curves, order, end_epoch=epochs, label="Resnet18-{}")
)

# %% [markdown]
# ## Check of C6
#
# Depth runs from Resnet18-4 (shallowest) to Resnet18-1 (deepest). A curve's position is its
# half-way $1/\delta$ (between its floor and 1); its 90% interval comes from subsamples of
# half the analysis images, the same subsamples for every variant and snapshot (paired).
# Each step from a variant to the next deeper one is resolved higher, lower, the same
# (within a factor 1.1) or not resolved (`dfp.verdicts.ordered`). C6 holds when (1) at
# initialisation every step is resolved higher, (2) by the intermediate snapshot (the one
# nearest half the run) every deeper variant has moved further toward low frequency, and
# (3) at the last snapshot every step is resolved lower; a part is not resolved when the
# data cannot tell. Part (1) needs no training: the page
# [Figs. 6 and 7 at initialisation](resnet_init.ipynb) decides it at the paper's width over
# several seeds, with pooling or flattening before the fully connected layers.

# %%
c6 = dfp.claims.resnet_deep_frequency_check(runs, targets="output")

# %% tags=["hide-input"]
dfp.page.glue_claim(
    "C6",
    c6,
    scale=(
        f"width {width}, {train_size:,}/{validation_size:,} images, {epochs} epochs, "
        f"{precision}; RDFs on {analysis_size:,}"
    ),
)

# %% [markdown]
# **Verdict: C6 {glue:text}`C6_verdict`.** {glue:text}`C6_statistic`.
#
# At the paper's scale:
# `papermill notebooks/fig7.ipynb out.ipynb -f notebooks/params/resnet18.paper.yaml`.

# %% [markdown]
# The run's precision control (when it trains in bf16: variant `control` again in float32 at
# the same seed and the next, compared on the half-way points that decide C5 and C6) is on
# [Fig. 5's page](fig5.ipynb).

# %% [markdown]
# ## Larger runs

# %% tags=["remove-input"]
dfp.page.show_results(params)

# %% tags=["remove-input"]
dfp.page.show_parameters(params)
