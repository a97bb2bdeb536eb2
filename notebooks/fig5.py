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
# # Fig. 5: deeper Resnet18 variants train faster and validate better
#
# **The paper's claim (C4).** A deeper variant of Resnet18 (Fig. 4) attains a fixed training
# accuracy in fewer epochs and achieves a better validation accuracy after training.
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
accuracy_fractions = [
    0.5,
    0.7,
    0.9,
]  # C4: training accuracies compared, as fractions of the best all reach

# %% tags=["remove-input"]
import dfp

params = dfp.page.begin(globals(), "fig5")

# %%
import numpy as np

# One run per variant, shared with Figs. 5-7 (loaded when another figure trained it).
runs = {
    variant: dfp.runs.cached(
        "resnet18", config, lambda c=config: dfp.recipes.train_resnet_variant(**c)
    )
    for variant, config in dfp.recipes.resnet18_configs(params).items()
}
order = sorted(runs, reverse=True)  # shallow to deep

# %% [markdown]
# ## Check of C4
#
# Depth runs from Resnet18-4 (shallowest) to Resnet18-1 (deepest). (1) Faster training: for
# each accuracy in `accuracy_fractions` of the best training accuracy that every variant
# reaches, the epochs a variant takes to get there, as the range from its first crossing to
# the epoch after which it stays above; each step to a deeper variant must be resolved as
# fewer epochs (`dfp.verdicts.ordered`) at every one of those accuracies. (2) Better
# validation: each step must be resolved as a higher final validation accuracy against the
# binomial uncertainty of an accuracy on `validation_size` images (90% intervals; a
# difference within one percentage point counts as the same). A part is not resolved when the
# data cannot tell. Those intervals are of a finite validation set, not of training seeds,
# which one run per variant cannot give; the precision control below trains one variant at a
# second seed, which shows how far a seed alone moves its accuracies.

# %%
labels = [f"Resnet18-{v}" for v in order]
c4 = dfp.claims.accuracy_check(
    [runs[v]["accuracy"] for v in order],
    [runs[v]["val_accuracy"] for v in order],
    validation_size=validation_size,
    fractions=accuracy_fractions,
    labels=labels,
    ticks=order,
    xlabel="variant, shallow to deep",
)

# %% tags=["hide-input"]
print(
    "training time (s): " + ", ".join(f"Resnet18-{v}: {r['seconds']:.0f}" for v, r in runs.items())
)
figure, (left, right) = dfp.plots.subplots(1, 2, height=3.0)
for color, variant in zip(dfp.plots.depth_colors(len(order)), order):
    run = runs[variant]
    epoch_axis = np.arange(1, len(run["accuracy"]) + 1)
    left.plot(epoch_axis, run["accuracy"], color=color, label=f"Resnet18-{variant}")
    right.plot(epoch_axis, run["val_accuracy"], color=color, label=f"Resnet18-{variant}")
for threshold in c4.values["thresholds"]:  # the accuracies whose epochs C4 compares
    left.axhline(threshold, color="grey", linestyle=":", linewidth=1)
left.set(xlabel="epoch", ylabel="training accuracy", title="(a) training accuracy")
right.set(xlabel="epoch", ylabel="validation accuracy", title="(b) validation accuracy")
left.legend()
dfp.plots.show(figure)

# %% tags=["hide-input"]
dfp.page.glue_claim(
    "C4",
    c4,
    scale=f"width {width}, {train_size:,}/{validation_size:,} images, {epochs} epochs, {precision}",
)

# %% [markdown]
# **Verdict: C4 {glue:text}`C4_verdict`.** (1) is faster training, (2) better validation:
# {glue:text}`C4_statistic`.
#
# At the paper's scale:
# `papermill notebooks/fig5.ipynb out.ipynb -f notebooks/params/resnet18.paper.yaml`.

# %% [markdown]
# ## Precision control
#
# A run in a lower `precision` than float32 (bf16 on the paper's GPU, or on a CPU with Intel
# AMX) trains variant `control` again in float32, at the same seed and at the next, so that a
# difference the precision makes can be set against one a change of seed makes
# (`dfp.claims.precision_control`, on the half-way points that decide C5 and C6 and on the
# final accuracies). {glue:text}`precision_control`

# %%
control_runs = {
    name: dfp.runs.cached(
        "resnet18", config, lambda c=config: dfp.recipes.train_resnet_variant(**c)
    )
    for name, config in dfp.recipes.resnet18_control_configs(params).items()
}
precision_check = dfp.page.glue_precision_control(control_runs, params)

# %% [markdown]
# ## Larger runs

# %% tags=["remove-input"]
dfp.page.show_results(params)

# %% tags=["remove-input"]
dfp.page.show_parameters(params)
