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
# # Figs. 6 and 7 at initialisation: part (1) of C5 and C6 over seeds and heads
#
# **The paper's claim (part (1) of C5 and C6).** At initialisation, the RDF of the last
# hidden layer's effective target sits at higher frequency in a deeper Resnet18 variant:
# for $S^{[-3]} = \{(f^{[-3]}(x_i), y_i)\}$ (Fig. 6, C5) and for the learning component's
# function $\{(f^{[-3]}(x_i), f^{[-1]}(x_i))\}$ (Fig. 7, C6).
#
# **Why a page of its own.** The training runs of Figs. 5-7 decide part (1) from one
# network per variant at epoch 0. It needs no training, so it can be decided at the paper's
# width (64) over several seeds, which the training runs cannot afford; and it depends on a
# choice the paper leaves open: how the last convolution part reaches the two fully
# connected layers. Ours pools over positions (global average pooling, as a torchvision
# Resnet does); flattening keeps every position, so $f^{[-3]}$ sees a different function of
# the image. The width of the fully connected layers is open too (the lab's later network
# uses 1024). `heads` lists the choices measured; the first decides the verdicts, the others
# stand beside it.
#
# **Setting.** For each seed: the variants' weights drawn from it, and `analysis_size`
# images drawn with it from the training part of its 40,000/10,000 split of the CIFAR-10
# training images (the images a training run of the paper's split measures). Each curve's
# half-way $1/\delta$ is read once per seed, so the spread over seeds holds both the
# initialisation and the finite sample. Each step from a variant to the next deeper one is
# decided by the Hodges-Lehmann ratio of their half-way points over seeds with the 90%
# interval of the exact Mann-Whitney test (`dfp.verdicts`): resolved higher, lower, the same
# (within a factor 1.1) or not resolved. The reverse order is decided the same way, so the
# page says whether the paper's order is reversed or only not resolved.

# %% tags=["parameters"]
variants = [1, 2, 3, 4]  # Resnet18-i variants (Fig. 4); 1 is the deepest, 4 the shallowest
width = 16  # channels of the stem and first convolution part (x2, x4, x8 after); paper: 64
heads = [["pool", 1024], ["flatten", 1024]]  # [join, dense units] each; first: the verdicts
seeds = [0, 1, 2]  # one network per variant, head and seed, and its analysis images
analysis_size = 1000  # training images of the seed's split on which the RDFs are measured
inv_delta_range = [1e-3, 1e4]  # [low, high] 1/delta of the geometric grid shared by every curve
grid_points = 141  # points of that grid (20 per decade)

# %% tags=["remove-input"]
import dfp

params = dfp.page.begin(globals(), "resnet_init")

# %%
# One network per (head, variant, seed) at initialisation: its S[-3] curves, no training.
runs = {
    (join, units, variant, seed): dfp.runs.cached(
        "resnet_init",
        config,
        lambda c=config: dfp.recipes.resnet_initial_spectra(**c),
    )
    for join, units in heads
    for variant in variants
    for seed in seeds
    for config in [
        dict(
            params.without("variants", "heads", "seeds"),
            head=join,
            dense_units=units,
            variant=variant,
            seed=seed,
        )
    ]
}
order = sorted(variants, reverse=True)  # shallow to deep
head_name = {(join, units): f"{join}, {units}" for join, units in heads}


def check(join, units, targets):
    """Part (1) for one head and one effective target, over the seeds."""
    picked = lambda v: [runs[join, units, v, s][targets] for s in seeds]
    return dfp.claims.initial_frequency_check(
        runs[join, units, order[0], seeds[0]]["inv_delta"],
        [[r["curve"] for r in picked(v)] for v in order],
        [[r["floor"] for r in picked(v)] for v in order],
        labels=[f"Resnet18-{v}" for v in order],
        seeds_used=seeds,
        xlabel="variant, shallow to deep",
        ticks=order,
    )


checks = {
    targets: {head_name[join, units]: check(join, units, targets) for join, units in heads}
    for targets in ("labels", "output")
}

# %% tags=["hide-input"]
from IPython.display import Markdown, display

print(f"{len(runs)} networks, {sum(r['seconds'] for r in runs.values()):.0f} s")
for targets, title in (
    ("labels", "S[-3] = {(f[-3], y)} (C5)"),
    ("output", "{(f[-3], f[-1])} (C6)"),
):
    by_head = checks[targets]
    dfp.plots.show(
        dfp.plots.evidence_figure(
            "variant, shallow to deep",
            order,
            {name: c.evidence["series"]["median over seeds"] for name, c in by_head.items()},
            intervals={
                name: c.evidence["intervals"]["median over seeds"] for name, c in by_head.items()
            },
            ylabel="half-way 1/δ at init.",
            log=True,
            title=title,
        )
    )
rows = "\n".join(
    f"| {name} | {checks['labels'][name].verdict()[0]} | {checks['labels'][name].summary} | "
    f"{checks['output'][name].verdict()[0]} | {checks['output'][name].summary} |"
    for name in head_name.values()
)
display(
    Markdown(
        "| head [join, dense units] | C5 (1) | S[-3] | C6 (1) | {(f[-3], f[-1])} |\n"
        f"|---|---|---|---|---|\n{rows}"
    )
)

# %% [markdown]
# ## Check of part (1) of C5 and C6
#
# Each claim is decided on the first head; the other heads' statistics follow it.

# %%
decides = head_name[tuple(heads[0])]
c5_init, c6_init = checks["labels"][decides], checks["output"][decides]
scale = f"width {width}, head [{decides}], {len(seeds)} seeds, RDFs on {analysis_size:,} images"

# %% tags=["hide-input"]
dfp.page.glue_claim("C5init", c5_init, scale=scale)
dfp.page.glue_claim("C6init", c6_init, scale=scale)

# %% [markdown]
# **Verdict on part (1) of C5: C5init {glue:text}`C5init_verdict`.**
# {glue:text}`C5init_statistic`.
#
# **Verdict on part (1) of C6: C6init {glue:text}`C6init_verdict`.**
# {glue:text}`C6init_statistic`.

# %% tags=["hide-input"]
said = [
    f"**{claim} (1) over the heads measured:** {dfp.claims.initial_conclusion(checks[t])}."
    for claim, t in (("C5", "labels"), ("C6", "output"))
]
said += [
    f"*{claim} (1), head [{name}]:* {c.verdict()[0]}. {c.statistic}."
    for claim, t in (("C5", "labels"), ("C6", "output"))
    for name, c in list(checks[t].items())[1:]
]
display(Markdown("\n\n".join(said)))

# %% [markdown]
# At the paper's width, five seeds and three heads:
# `papermill notebooks/resnet_init.ipynb out.ipynb -f notebooks/params/resnet_init.paper.yaml`.

# %% [markdown]
# ## Larger runs

# %% tags=["remove-input"]
dfp.page.show_results(params)

# %% tags=["remove-input"]
dfp.page.show_parameters(params)
