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
# # Fig. 9: very deep networks, with and without residual connections
#
# **The paper's claims.** Fully connected networks of 20, 60 and 80 layers on MNIST.
# **C8** (panel a): without residual connections the 60- and 80-layer networks learn slower
# than the 20-layer one; with them, all learn at about the same speed. **C9** (panel b, the
# RDF of $S^{[-3]}$ at epoch 267): without residual connections a deeper network's effective
# target has more high-frequency power (the deep frequency principle is violated, and so is
# fast learning); with them, depth makes almost no difference (saturation).
#
# **Setting.** The paper gives only the depths and the snapshot epoch. Ours: $L$ counts the
# Dense layers: 784 → `width` (tanh), $L-2$ hidden Dense(`width`, tanh), a linear output;
# mean squared error on one-hot labels, batch 256, pixels / 255. Our residual form is
# "scaled": it adds each hidden layer's input back,
# $f^{[l]} = f^{[l-1]} + \tanh(W f^{[l-1]} + b)/\sqrt{L-2}$, so that the residual stream does not
# grow with depth; "plain" (no scaling) is the variant the paper setting file adds
# (`residual_forms`; the claims use the first form listed). The
# optimiser matters for C8: Adam's per-parameter step sizes hide vanishing gradients, which
# the paper's explanation relies on, so every network is trained with Adam and with plain SGD.
# The verdicts are those of the first optimiser in `optimizers` (Adam, used by every other
# experiment of the paper); the statistics give both. A network whose training loss becomes
# NaN or inf has diverged at its learning rate: that is recorded as its result (its loss
# curve ends there, it has no spectrum at epoch `snapshot_epoch`), it is named below the
# figure, and a part of a claim that compares it is not evaluated and fails.
#
# **How this differs from the paper's scale.** The defaults train on `train_size`
# images with `width` units per layer, so that all twelve networks train within one
# `make book` on two CPU cores;
# the RDFs use `analysis_size` of those images, on one fixed geometric grid of $1/\delta$
# wide enough for layers that collapse into tight class clusters.

# %% tags=["parameters"]
depths = [20, 60, 80]  # L, the Dense layers per network (the paper's depths)
residual_forms = ["scaled"]  # residual forms, beside networks without; the first decides the claims
optimizers = ["adam", "sgd"]  # each network is trained with each; the first decides the verdicts
learning_rates = {"adam": 1e-4, "sgd": 0.1}  # each optimizer's learning rate (step size)
width = 100  # units per hidden layer
train_size = 1500  # MNIST training images, a seeded subset of the 60,000
analysis_size = 1000  # of those, the images on which the RDFs of S[-3] are measured
snapshot_epoch = 267  # epochs trained; RDFs at epoch 0 and at this one (the paper's 267)
inv_delta_range = [1e-3, 1e4]  # [low, high] 1/delta of the geometric grid shared by every curve
grid_points = 141  # points of that grid (20 per decade)
seed = 0  # fixes the data subset, the analysis subset, the initialisation and the batch order
precision = "float32"  # float32 (TF32 off), tf32 or bf16 (mixed); spectra always float32

# %% tags=["remove-input"]
import dfp

params = dfp.page.begin(globals(), "fig9")

# %% tags=["hide-input"]
import numpy as np

inv_delta = np.geomspace(*inv_delta_range, grid_points)
forms = [None] + residual_forms
form_name = {None: "plain", **{form: f"residual ({form})" for form in residual_forms}}
style = dict(zip(forms, ["-", "--", ":"]))  # a line style per form: plain solid


def cached_run(depth, form, optimizer):
    swept = ("depths", "residual_forms", "optimizers")  # each network is keyed on its own point
    config = dict(params.without(*swept), depth=depth, residual=form, optimizer=optimizer)
    return dfp.runs.cached("fig9", config, lambda: dfp.recipes.train_deep_network(**config))


# %%
runs = {
    (optimizer, form, depth): cached_run(depth, form, optimizer)
    for optimizer in optimizers
    for form in forms
    for depth in depths
}

# %% tags=["hide-input"]
print(f"training time, all networks: {sum(r['seconds'] for r in runs.values()):.0f} s")
diverged = {key: run["diverged_epoch"] for key, run in runs.items() if run["diverged_epoch"]}
for (optimizer, form, depth), epoch in diverged.items():
    print(f"diverged: L={depth}, {form_name[form]}, {optimizer}: loss NaN or inf at epoch {epoch}")
height = 3.0 * len(optimizers) + 0.2 * len(depths) * len(forms) / 3  # the legend below
figure, axes = dfp.plots.subplots(len(optimizers), 2, height=height, squeeze=False)
colors = dict(zip(depths, dfp.plots.depth_colors(len(depths))))
pairs = [(form, depth) for form in forms for depth in depths]
for row, optimizer in zip(axes, optimizers):
    for form, depth in pairs:
        loss = runs[optimizer, form, depth]["loss"]
        row[0].plot(
            np.arange(1, len(loss) + 1),
            loss,
            style[form],
            color=colors[depth],
            label=f"L={depth}, {form_name[form]}",
        )
    gone = sum(key[0] == optimizer for key in diverged)
    row[0].set(
        yscale="log",
        xlabel="epoch",
        ylabel="training loss",
        title=f"(a) training loss, {optimizer}" + (f", {gone} diverged" if gone else ""),
    )
    trained = [
        runs[optimizer, *pair]["loss"] for pair in pairs if (optimizer, *pair) not in diverged
    ]
    if gone and trained:  # the scale of the networks that trained; a diverged one leaves it
        row[0].set_ylim(min(map(np.min, trained)) / 2, max(map(np.max, trained)) * 2)
    shown = [(form, depth) for form, depth in pairs if (optimizer, form, depth) not in diverged]
    curves = {
        f"L={depth}, {form_name[form]}": runs[optimizer, form, depth]["curves"][snapshot_epoch][-3]
        for form, depth in shown
    }
    dfp.plots.rdf_panel(
        row[1],
        inv_delta,
        curves,
        normalize=True,
        log_x=True,
        legend=False,
        title=f"(b) RDF of S[-3], epoch {snapshot_epoch}, {optimizer}",
        colors=[colors[depth] for _, depth in shown],
        styles=[style[form] for form, _ in shown],
    )
figure.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=3)
dfp.plots.show(figure)

# %% [markdown]
# ## Checks of C8 and C9
#
# **C8.** Speed is the training loss at epoch `snapshot_epoch`; two losses differ when one
# is more than `dfp.claims.SAME_SPEED_RATIO` times the other (the statistic states the factor). C8
# holds when, without residual connections, every deeper network's loss exceeds the
# shallowest one's by more than that factor, and with them all losses lie within it.
#
# **C9.** A curve's position is its half-way $1/\delta$ (between its floor and 1); two
# positions closer than one grid step are a tie. C9 holds when, without residual
# connections, the position increases with depth (more high-frequency power), and with
# them, all positions lie within one grid step of each other.


# %%
def final_losses(optimizer, form):  # None for a network that diverged
    return [
        None if (optimizer, form, depth) in diverged else runs[optimizer, form, depth]["loss"][-1]
        for depth in depths
    ]


def halfway_points(optimizer, form):
    halfway = []
    for depth in depths:
        run = runs[optimizer, form, depth]
        if (optimizer, form, depth) in diverged:
            halfway.append(None)
            continue
        curves, floors = run["curves"][snapshot_epoch], run["floors"][snapshot_epoch]
        halfway.append(dfp.verdicts.curve_positions(inv_delta, curves, floors)[-3][1])
    return halfway


c8, c9 = {}, {}
for optimizer in optimizers:
    named = dict(depths=depths, epoch=snapshot_epoch, optimizer=optimizer)
    plain, residual = final_losses(optimizer, None), final_losses(optimizer, residual_forms[0])
    c8[optimizer] = dfp.claims.very_deep_speed_check(
        plain, residual, residual_form=residual_forms[0], **named
    )
    plain, residual = halfway_points(optimizer, None), halfway_points(optimizer, residual_forms[0])
    c9[optimizer] = dfp.claims.very_deep_frequency_check(
        inv_delta, plain, residual, residual_form=residual_forms[0], **named
    )
primary = optimizers[0]

# %% tags=["hide-input"]
scale = (
    f"{train_size:,} MNIST images, width {width}, {snapshot_epoch} epochs, "
    f"{' and '.join(optimizers)}; verdict: {primary}"
)
for claim, checks in (("C8", c8), ("C9", c9)):
    check = dfp.verdicts.decided_by(checks, primary)
    dfp.page.glue_claim(claim, check, scale=scale)

# %% [markdown]
# **Verdicts** (under the first optimiser listed; the statistics give every optimiser).
# Where a claim does not reproduce, the statistic shows by how much. (1) is the plain
# networks' part, (2) the residual networks'.
#
# **C8 {glue:text}`C8_verdict`.** {glue:text}`C8_statistic`.
#
# **C9 {glue:text}`C9_verdict`.** {glue:text}`C9_statistic`.
#
# At paper scale (more images, width 500, both residual forms):
# `papermill notebooks/fig9.ipynb out.ipynb -f notebooks/params/fig9.paper.yaml`; on two CPU
# cores width 500 is many times slower than the defaults.

# %% [markdown]
# ## Larger runs

# %% tags=["remove-input"]
dfp.page.show_results(params)

# %% tags=["remove-input"]
dfp.page.show_parameters(params)
