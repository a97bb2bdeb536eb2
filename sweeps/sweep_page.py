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
# # Sweep
#
# A sweep runs one figure notebook at every point of a grid of its parameters and collects
# each point's verdict and training (`dfp.sweeps`, `sweeps/<name>.yaml`). This page renders
# the sweep's committed summary: a conclusion made from it and every point's mark, the
# sweep's settings, then a heatmap and a table of the points. It runs nothing.

# %% tags=["parameters"]
sweep = "depth"  # the sweep shown: sweeps/<sweep>.yaml and its committed summary

# %% tags=["remove-input"]
import dfp

params = dfp.page.begin(globals(), "sweep_page")

# %% tags=["remove-input"]
from IPython.display import Markdown, display

spec = dfp.sweeps.load_sweep(f"{sweep}.yaml", root="..")
summary = dfp.sweeps.read_sweep_summary(f"{sweep}.summary.json")
display(Markdown(dfp.sweeps.sweep_description(spec, summary)))

# %% tags=["remove-input"]
if summary is not None:
    for claim in spec["claims"]:
        # Points not resolved (under-trained ones included) are left out of the heatmap.
        scores = dfp.sweeps.sweep_scores(summary, claim)
        if scores:
            dfp.plots.show(dfp.plots.sweep_heatmap(scores, spec["axes"], claim=claim))
        display(Markdown(dfp.sweeps.sweep_table(summary, claim)))
