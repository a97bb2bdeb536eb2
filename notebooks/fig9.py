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
# mean squared error on one-hot labels, batch 256, pixels / 255. Three forms of network:
# **no residual** (the plain stack); the **unscaled residual** form, which adds each hidden
# layer's input back, $f^{[l]} = f^{[l-1]} + \tanh(W f^{[l-1]} + b)$ (the lab's, see
# book/sources.md); and the **scaled residual (1/√(L−2))** form,
# $f^{[l]} = f^{[l-1]} + \tanh(W f^{[l-1]} + b)/\sqrt{L-2}$, whose residual stream does not
# grow with depth. `residual_forms` lists the residual forms trained beside the networks
# without ("unscaled", "scaled"); the claims compare the first of them with no residual.
#
# **Training settings.** Every network is trained under each setting [optimizer, learning
# rate] of `trainings`. The first decides the verdicts: Adam at the paper's MNIST learning
# rate, the setting closest to the paper's. The others are beside it, in the statistics:
# Adam at a larger rate, and plain SGD, because the optimiser matters for C8: Adam's
# per-parameter step sizes hide vanishing gradients, which the paper's explanation relies on.
# SGD's rate should lie inside every network's stability region (the table below):
# otherwise a network trains or diverges as its rate dictates, not as its depth does; the
# page names every network the rate exceeds.
#
# **Divergence.** A network diverges when its training loss leaves its finite range: NaN or
# inf, or above `dfp.training.DIVERGENCE_FACTOR` times its initial loss (on the training set
# at epoch 0, before any update). That is recorded as its result (its loss curve up to
# there), it is not drawn, it is named in the figure and below it, and a part of a claim
# that compares it is not evaluated and fails.
#
# **How this differs from the paper's scale.** The defaults train on `train_size`
# images with `width` units per layer, so that all the networks train within one
# `make book` on two CPU cores;
# the RDFs use `analysis_size` of those images, on one fixed geometric grid of $1/\delta$
# wide enough for layers that collapse into tight class clusters.

# %% tags=["parameters"]
depths = [20, 60, 80]  # L, the Dense layers per network (the paper's depths)
residual_forms = ["scaled"]  # "unscaled" and/or "scaled", beside no residual; first: the claims
trainings = [["adam", 1e-5], ["adam", 1e-4], ["sgd", 0.02]]  # [optimizer, rate]; first: verdicts
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
from IPython.display import Markdown, display
from matplotlib.lines import Line2D

inv_delta = np.geomspace(*inv_delta_range, grid_points)
forms = [None, *residual_forms]  # None: no residual
form_name = dfp.models.RESIDUAL_FORM_NAMES  # the forms' names in legends, tables, statistics
settings = {f"{optimizer} {rate:g}": (optimizer, rate) for optimizer, rate in trainings}
style = dict(zip(forms, ["-", "--", ":"]))  # a line style per form: no residual solid


def cached_run(depth, form, setting):
    optimizer, learning_rate = settings[setting]
    swept = ("depths", "residual_forms", "trainings")  # each network is keyed on its own point
    config = dict(
        params.without(*swept),
        depth=depth,
        residual=form,
        optimizer=optimizer,
        learning_rate=learning_rate,
    )
    return dfp.runs.cached("fig9", config, lambda: dfp.recipes.train_deep_network(**config))


# %% [markdown]
# **SGD's stability region.** Gradient descent with rate $\eta$ is unstable at a point
# where the loss's sharpness (the largest eigenvalue of its Hessian in all the weights)
# exceeds $2/\eta$: the error along that direction grows at each step. The table gives
# $2/\text{sharpness}$ of each network at initialisation, by power iteration on
# Hessian-vector products over the first 2,000 training images
# (`dfp.recipes.sgd_stability_bound`). A network trained above its bound may still train
# (its sharpness can fall in the first steps) or diverge: either way its course is set by
# the rate, not by its depth alone, so the table names every network an SGD rate of
# `trainings` exceeds.

# %% tags=["hide-input"]
bounds = {
    (form, depth): dfp.recipes.deep_network_stability_bound(
        depth=depth, residual=form, width=width, train_size=train_size, seed=seed
    )
    for form in forms
    for depth in depths
}
rows = "\n".join(
    f"| {form_name[form]} | " + " | ".join(f"{bounds[form, d]:.3g}" for d in depths) + " |"
    for form in forms
)
sgd_rates = sorted({rate for optimizer, rate in settings.values() if optimizer == "sgd"})
beyond = {
    rate: [f"L={d}, {form_name[f]} ({bounds[f, d]:.3g})" for f, d in bounds if bounds[f, d] <= rate]
    for rate in sgd_rates
}
said = [
    f"SGD at {rate:g} exceeds the bound of "
    + (", ".join(names) if names else "no network: it lies inside every region")
    + "."
    for rate, names in beyond.items()
]
display(
    Markdown(
        "**SGD stability bound $2/\\text{sharpness}$ at initialisation**\n\n"
        f"| form | {' | '.join(f'L={d}' for d in depths)} |\n|---|{'---|' * len(depths)}\n"
        f"{rows}\n\n" + (" ".join(said) or "No SGD setting is trained.")
    )
)

# %%
runs = {
    (setting, form, depth): cached_run(depth, form, setting)
    for setting in settings
    for form in forms
    for depth in depths
}

# %% tags=["hide-input"]
print(f"training time, all networks: {sum(r['seconds'] for r in runs.values()):.0f} s")
factor = dfp.training.DIVERGENCE_FACTOR
diverged = {key: run["diverged_epoch"] for key, run in runs.items() if run["diverged_epoch"]}
for (setting, form, depth), epoch in diverged.items():
    run = runs[setting, form, depth]
    loss, initial = run["diverged_loss"], run["initial_loss"]
    why = f"above {factor:g} × its initial {initial:.3g}" if np.isfinite(loss) else "not finite"
    print(
        f"diverged: L={depth}, {form_name[form]}, {setting}: training loss {loss:.3g} "
        f"at epoch {epoch} ({why})"
    )
height = 3.0 * len(settings) + 0.2 * len(depths) * len(forms) / 3  # the legend below
figure, axes = dfp.plots.subplots(len(settings), 2, height=height, squeeze=False)
colors = dict(zip(depths, dfp.plots.depth_colors(len(depths))))
pairs = [(form, depth) for form in forms for depth in depths]
for row, setting in zip(axes, settings):
    shown = [(form, depth) for form, depth in pairs if (setting, form, depth) not in diverged]
    for form, depth in shown:  # a diverged network is named, never drawn
        loss = runs[setting, form, depth]["loss"]
        row[0].plot(np.arange(1, len(loss) + 1), loss, style[form], color=colors[depth])
    gone = [(form, depth) for form, depth in pairs if (setting, form, depth) in diverged]
    row[0].set(
        yscale="log",
        xlabel="epoch",
        ylabel="training loss",
        title=f"(a) training loss, {setting}" + (f", {len(gone)} diverged" if gone else ""),
    )
    if gone:
        named = [f"L={d}, {form_name[f]}: epoch {diverged[setting, f, d]}" for f, d in gone]
        row[0].text(  # lower left: where curves, which start high, rarely are
            0.02,
            0.02,
            "diverged:\n" + "\n".join(named),
            transform=row[0].transAxes,
            ha="left",
            va="bottom",
            fontsize="small",
        )
    curves = {
        f"L={depth}, {form_name[form]}": runs[setting, form, depth]["curves"][snapshot_epoch][-3]
        for form, depth in shown
    }
    dfp.plots.rdf_panel(
        row[1],
        inv_delta,
        curves,
        normalize=True,
        log_x=True,
        legend=False,
        title=f"(b) RDF of S[-3], epoch {snapshot_epoch}, {setting}",
        colors=[colors[depth] for _, depth in shown],
        styles=[style[form] for form, _ in shown],
    )
handles = [Line2D([], [], linestyle=style[f], color=colors[d]) for f, d in pairs]
labels = [f"L={depth}, {form_name[form]}" for form, depth in pairs]
figure.legend(handles, labels, loc="outside lower center", ncol=len(depths))
dfp.plots.show(figure)

# %% [markdown]
# ## Checks of C8 and C9
#
# **C8.** A network's speed is the epochs it takes to bring its training loss below
# `dfp.claims.DESIGNATED_LOSS` times its first recorded loss (the paper's "epochs needed to
# reach a designated error"), as the range from its first crossing to the epoch after which
# it stays below, so a loss that jumps back widens it; a network that never gets there is
# slower than one that does. C8 holds when (1) without residual connections each deeper
# network is resolved slower than the one before, and (2) with them every pair of depths is
# resolved the same (epochs within a factor of the smallest effect).
#
# **C9.** A curve's position is its half-way $1/\delta$ (between its floor and 1), with an
# interval from subsamples of half the analysis images, the same for every network
# (`dfp.intervals`). C9 holds when (1) without residual connections each deeper network's
# position is resolved higher (more high-frequency power), and (2) with them every pair of
# depths is resolved the same. Each comparison is decided by `dfp.verdicts`' one rule; a
# part is not resolved when the data cannot tell.


# %%
def loss_curves(setting, form):  # None for a network that diverged
    return [
        None if (setting, form, depth) in diverged else runs[setting, form, depth]["loss"]
        for depth in depths
    ]


def snapshots_of_s3(setting, form):  # S[-3] at the snapshot: curve, floor and draws
    records = []
    for depth in depths:
        run = runs[setting, form, depth]
        if (setting, form, depth) in diverged or snapshot_epoch not in run["curves"]:
            records.append(None)
            continue
        draws = (run.get("draws") or {}).get(snapshot_epoch)
        records.append(
            dict(
                curve=run["curves"][snapshot_epoch][-3],
                floor=run["floors"][snapshot_epoch][-3],
                draws=None if draws is None else draws[-3]["halfway"],
            )
        )
    return records


residual = residual_forms[0]
c8, c9 = {}, {}
for setting in settings:
    named = dict(depths=depths, optimizer=setting, residual_form=residual)
    c8[setting] = dfp.claims.very_deep_speed_check(
        loss_curves(setting, None), loss_curves(setting, residual), **named
    )
    c9[setting] = dfp.claims.very_deep_frequency_check(
        inv_delta,
        snapshots_of_s3(setting, None),
        snapshots_of_s3(setting, residual),
        epoch=snapshot_epoch,
        **named,
    )
primary = next(iter(settings))

# %% tags=["hide-input"]
scale = (
    f"{train_size:,} MNIST images, width {width}, {snapshot_epoch} epochs, "
    f"{', '.join(settings)}; verdict: {primary}"
)
for claim, checks in (("C8", c8), ("C9", c9)):
    check = dfp.verdicts.decided_by(checks, primary)
    dfp.page.glue_claim(claim, check, scale=scale)

# %% [markdown]
# **Verdicts** (under the first training setting of `trainings`, Adam at the paper's rate;
# the statistics give every setting). Where a claim does not reproduce, the statistic shows
# by how much. (1) is the part of the networks with no residual, (2) that of the first
# residual form of `residual_forms`.
#
# **C8 {glue:text}`C8_verdict`.** {glue:text}`C8_statistic`.
#
# **C9 {glue:text}`C9_verdict`.** {glue:text}`C9_statistic`.
#
# At paper scale (more images, width 500, the unscaled and the scaled residual forms):
# `papermill notebooks/fig9.ipynb out.ipynb -f notebooks/params/fig9.paper.yaml`; on two CPU
# cores width 500 is many times slower than the defaults.

# %% [markdown]
# ## Larger runs

# %% tags=["remove-input"]
dfp.page.show_results(params)

# %% tags=["remove-input"]
dfp.page.show_parameters(params)
