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
variants = [1, 2, 3, 4]
width = 16
dense_units = 256
train_size = 4000
validation_size = 1000
analysis_size = 1000
epochs = 12
snapshot_epochs = [0, 1, 3, 6, 12]
inv_delta_range = [1e-3, 1e3]
grid_points = 121
seed = 0
precision = "float32"  # float32 (TF32 off), tf32 or bf16 (mixed); spectra always float32
accuracy_threshold = 0.5

# %% tags=["remove-input"]
import dfp

dfp.check_parameters(globals(), "fig5")

# %%
import numpy as np

runs = dfp.training.train_resnet_variants(
    **dfp.runs.configuration(globals(), "fig5", exclude=("accuracy_threshold",))
)
order = sorted(runs, reverse=True)  # shallow to deep

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
left.axhline(accuracy_threshold, color="grey", linestyle=":", linewidth=1)
left.set(xlabel="epoch", ylabel="training accuracy", title="(a) training accuracy")
right.set(xlabel="epoch", ylabel="validation accuracy", title="(b) validation accuracy")
left.legend()
dfp.plots.show(figure)

# %% [markdown]
# ## Check of C4
#
# Depth runs from Resnet18-4 (shallowest) to Resnet18-1 (deepest). C4 holds when the epochs
# to the training accuracy `accuracy_threshold` decrease with depth (a variant that never
# gets there counts as more than `epochs`) and the final validation accuracy increases with
# depth; any step the wrong way breaks it, and the statistic says which.

# %%
labels = [f"Resnet18-{v}" for v in order]
c4_holds, c4_statistic, c4_parts, (to_threshold, validation) = dfp.accuracy_check(
    [runs[v]["accuracy"] for v in order],
    [runs[v]["val_accuracy"] for v in order],
    threshold=accuracy_threshold,
    labels=labels,
)

# %% tags=["hide-input"]
reached = [f">{epochs}" if e is None else str(e) for e in to_threshold]
dfp.glue_claim(
    "C4",
    c4_holds,
    c4_statistic,
    parts=c4_parts,
    summary=(
        f"epochs to {accuracy_threshold}: {reached[0]} → {reached[-1]}; "
        + dfp.span("validation accuracy", labels, validation)
    ),
    scale=f"width {width}, {train_size:,}/{validation_size:,} images, {epochs} epochs",
    evidence=dict(
        xlabel="variant, shallow to deep",
        labels=order,
        ylabel="final accuracy",
        series={
            "training": [float(runs[v]["accuracy"][-1]) for v in order],
            "validation": validation,
        },
    ),
)

# %% [markdown]
# **Verdict: C4 {glue:text}`C4_verdict`.** (1) is faster training, (2) better validation:
# {glue:text}`C4_statistic`.
#
# At the paper's scale:
# `papermill notebooks/fig5.ipynb out.ipynb -f notebooks/params/resnet18.paper.yaml`.

# %% [markdown]
# ## Larger runs
#
# This page's run is the one above, at the scale its verdict names. Longer runs of the same
# notebook under a larger profile (`medium`, `paper`) are committed in `results/` with their
# provenance; each is shown here with its verdicts, its figures and what produced it.

# %% tags=["remove-input"]
dfp.show_results("fig5")

# %% tags=["remove-input"]
dfp.show_parameters(globals(), "fig5")
