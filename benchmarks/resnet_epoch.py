"""Seconds per epoch of the Resnet18 variants at the paper's scale, and the full run's estimate.

    .venv/bin/python benchmarks/resnet_epoch.py [--width 64] [--batches 8] \\
        [--precisions float32,bf16]

Times ``--batches`` training steps of batch 256 on real CIFAR-10 images for each variant
(after one warm-up step), and scales them to the paper's 40,000 images per epoch (157
steps) and 80 epochs. The printed ratios are measured in the same run: each variant's time
to Resnet18-4's, and with two precisions, each precision's time to the first one's (bf16
against float32: the gain of mixed bfloat16, which needs Intel AMX on a CPU; the machine's
line says whether it has it). The precisions of a variant are timed in alternation, batch
by batch, so a drift of the machine's speed falls on both alike.
"""

import argparse
import time

import keras
import numpy as np

import dfp
from dfp._backend import dtype_policy, matmul_precision
from dfp.provenance import machine
from dfp.training import _at_policy


def _model(variant, width, precision):
    model = dfp.models.resnet18_variant(variant, width=width, seed=0)
    if dtype_policy(precision) != "float32":
        model = _at_policy(model, dtype_policy(precision))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--precisions", default="float32", help="e.g. float32,bf16")
    args = parser.parse_args()
    precisions = args.precisions.split(",")
    for precision in precisions:
        dfp._backend.check_precision(precision)
    (x, y), _ = dfp.data.cifar10(256 * args.batches, 1, seed=0)
    steps_per_epoch = int(np.ceil(40000 / 256))
    seconds = {}  # (variant, precision): seconds per step
    for variant in dfp.models.RESNET_VARIANTS:
        models = {p: _model(variant, args.width, p) for p in precisions}
        for precision, model in models.items():
            with matmul_precision(precision):
                model.train_on_batch(x[:256], y[:256])  # compile outside the timing
        spent = dict.fromkeys(precisions, 0.0)
        for b in range(args.batches):
            batch = slice(256 * b, 256 * (b + 1))
            for precision, model in models.items():
                with matmul_precision(precision):
                    start = time.perf_counter()
                    model.train_on_batch(x[batch], y[batch])
                    spent[precision] += time.perf_counter() - start
        for precision in precisions:
            seconds[variant, precision] = spent[precision] / args.batches
    print(f"width {args.width}, batch 256, {keras.backend.backend()}; {machine()['hardware']}")
    print(
        f"{'variant':>10} {'precision':>9} {'s/step':>7} {'s/epoch (40k)':>14} "
        f"{'80 epochs (h)':>14} {'vs Resnet18-4':>14} {'vs ' + precisions[0]:>12}"
    )
    for (variant, precision), step in seconds.items():
        print(
            f"Resnet18-{variant:<1} {precision:>9} {step:>7.3f} {step * steps_per_epoch:>14.0f} "
            f"{step * steps_per_epoch * 80 / 3600:>14.1f} "
            f"{step / seconds[4, precision]:>14.2f} {step / seconds[variant, precisions[0]]:>12.2f}"
        )
    for precision in precisions:
        total = sum(seconds[v, precision] for v in dfp.models.RESNET_VARIANTS)
        print(
            f"all four variants, 80 epochs, {precision}: about "
            f"{total * steps_per_epoch * 80 / 3600:.0f} h of training (validation not included)"
        )


if __name__ == "__main__":
    main()
