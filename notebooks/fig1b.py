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
# # Fig. 1(b): a lower-frequency target is learned in fewer epochs
#
# **The paper's claim (C2).** One fixed network reaches a designated training error in
# fewer epochs when the target function has lower frequency (the frequency principle).
#
# **Setting.** The paper leaves the targets open. We use $\cos(kx)$ for $k = 1, \dots, 5$
# on the same grid as Fig. 1(a) (201 points on $[-\pi, \pi]$), a network of 4 hidden tanh
# layers of width 200, full-batch Adam at $10^{-3}$ on the mean squared error, and the
# designated error $10^{-3}\,\mathrm{Var}(y)$; one epoch is one full-batch update, and
# every target is trained from several seeds.

# %% tags=["parameters"]
frequencies = [1, 2, 3, 4, 5]  # one target cos(k x) per k, each learned by its own network
seeds = [0, 1, 2]  # one run per seed and target; a seed fixes the initialisation
hidden_layers = 4  # hidden layers of the one fixed network
width = 200  # units per hidden layer
activation = "tanh"  # hidden layers' Keras activation; the output layer is linear
num_points = 201  # training inputs: uniform points x on [-pi, pi], one full batch
learning_rate = 1e-3  # Adam's step size; full batch, one update per epoch
relative_threshold = 1e-3  # designated error: training MSE below this fraction of Var(y)
max_epochs = 20000  # cap on epochs; a run not at the designated error by then counts as it

# %% tags=["remove-input"]
import dfp

params = dfp.page.begin(globals(), "fig1b")


# %%
def train():
    return {
        k: dfp.recipes.epochs_to_loss(
            *dfp.data.cosines([k], num_points),
            hidden_layers=hidden_layers,
            width=width,
            activation=activation,
            seeds=seeds,
            relative_threshold=relative_threshold,
            max_epochs=max_epochs,
            learning_rate=learning_rate,
        )
        for k in frequencies
    }


epochs = dfp.runs.cached("fig1b", params, train)

# %% tags=["hide-input"]
dfp.plots.show(
    dfp.plots.epochs_figure(
        [f"cos({k}x)" for k in frequencies],
        list(epochs.values()),
        max_epochs,
        xlabel="target",
        title="(b) different target functions",
    )
)

# %% [markdown]
# ## Check of C2
#
# C2 holds when the epochs to the error, over seeds, increase with $k$ at every step. Each
# step is decided by `dfp.verdicts.ordered` from the Hodges-Lehmann ratio of the two
# settings' epochs with its distribution-free 90% interval (the exact Mann-Whitney test over
# the seeds): resolved fewer, more, the same (within a factor 1.1) or not resolved. A capped
# run counts as the cap, a lower bound. The statistic lists every seed and every step.

# %%
labels = [f"cos({k}x)" for k in epochs]
c2 = dfp.claims.fewer_epochs_check(
    list(epochs.values()),
    max_epochs,
    increasing=True,
    labels=labels,
    ticks=frequencies,
    xlabel="k in cos(kx)",
)

# %% tags=["hide-input"]
dfp.page.glue_claim(
    "C2",
    c2,
    scale=f"{num_points} points, {hidden_layers}×{width} {activation}, {len(seeds)} seeds",
)

# %% [markdown]
# **Verdict: C2 {glue:text}`C2_verdict`.** Epochs to the designated error by target:
# {glue:text}`C2_statistic`.
#
# More targets and seeds:
# `papermill notebooks/fig1b.ipynb out.ipynb -f notebooks/params/fig1b.paper.yaml`.

# %% [markdown]
# ## Larger runs

# %% tags=["remove-input"]
dfp.page.show_results(params)

# %% tags=["remove-input"]
dfp.page.show_parameters(params)
