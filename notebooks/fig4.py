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
# # Fig. 4: the four variants of Resnet18
#
# **The paper.** "All structures have several convolution parts, followed by two same
# fully-connected layers. Compared with Resnet18-$i$, Resnet18-$(i+1)$ drops out a
# convolution part and keeps other parts the same." The output layer has a softmax.
#
# **Our reading (open choices).** A convolution part is a stage of Resnet18: two BasicBlocks
# (3×3 convolutions with batch normalisation and an identity or projected shortcut) at
# `width`, 2, 4 or 8 times `width` channels, stages 2-4 halving the resolution. Resnet18-1
# is the whole Resnet18 body (a 3×3 stem and four parts, for 32×32 images); each next
# variant drops the last part, so Resnet18-4 keeps the stem and the first part. Global
# average pooling feeds the two identical fully connected layers (Dense(256, relu), twice)
# and the softmax: $f^{[-3]}$ is the first of them, 256-dimensional in every variant. The
# table below is read off the models the other figures train, not written by hand.

# %% tags=["parameters"]
width = 64  # channels of the stem and first convolution part (x2, x4, x8 after); paper: 64
dense_units = 256  # units of each of the two identical fully connected layers (f[-3], f[-2])

# %% tags=["remove-input"]
import dfp

params = dfp.page.begin(globals(), "fig4")

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

rows = []
for variant in dfp.models.RESNET_VARIANTS:
    model = dfp.models.resnet18_variant(variant, width=width, dense_units=dense_units)
    L = dfp.models.depth(model)
    named = [dfp.models.layer(model, l) for l in range(1, L + 1)]
    parts = [f"{tuple(t.shape[1:])}" for t in named[1:-4]]
    convolutions = sum(
        1
        for layer in model.layers
        if layer.__class__.__name__ == "Conv2D" and "project" not in layer.name
    )
    rows.append(
        f"| Resnet18-{variant} | {tuple(named[0].shape[1:])} | {' → '.join(parts)} "
        f"| {convolutions} | {named[-4].shape[-1]} "
        f"| {named[-3].shape[-1]}, {named[-2].shape[-1]} | {named[-1].shape[-1]} "
        f"| {model.count_params():,} |"
    )
display(
    Markdown(
        "| variant | stem output | convolution parts (output shapes) | 3×3 convolutions | pooled "
        "| Dense f[-3], f[-2] | softmax f[-1] | parameters |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
)

# %% tags=["hide-input"]
figure, axis = dfp.plots.subplots(height=2.6)
# Parts are coloured by their depth in Resnet18-1, the deepest variant.
colors = dfp.plots.depth_colors(len(dfp.models.RESNET_VARIANTS))
for row, variant in enumerate(dfp.models.RESNET_VARIANTS):
    y = len(dfp.models.RESNET_VARIANTS) - row
    parts = [f"part {p}\n{width * 2 ** (p - 1)} ch" for p in range(1, 6 - variant)]
    boxes = ["stem"] + parts + ["pool", "FC", "FC", "soft-\nmax"]
    for column, text in enumerate(boxes):
        color = colors[int(text[5]) - 1] if text.startswith("part") else "#dddddd"
        axis.add_patch(plt.Rectangle((column * 1.2, y - 0.38), 1.1, 0.76, color=color))
        ink = "white" if text.startswith("part") and int(text[5]) > 2 else "black"
        axis.text(column * 1.2 + 0.55, y, text, ha="center", va="center", fontsize=8, color=ink)
    axis.text(-0.2, y, f"Resnet18-{variant}", ha="right", va="center", fontsize=9)
axis.set(xlim=(-2.6, 9 * 1.2), ylim=(0.5, 4.5))
axis.axis("off")
dfp.plots.show(figure)

# %% tags=["remove-input"]
dfp.page.show_parameters(params)
