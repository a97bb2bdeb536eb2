"""Seconds per epoch of the Resnet18 variants at the paper's scale, and the full run's estimate.

    .venv/bin/python benchmarks/resnet_epoch.py [--width 64] [--batches 8]

Times ``--batches`` training steps of batch 256 on real CIFAR-10 images for each variant
(after one warm-up step), and scales them to the paper's 40,000 images per epoch (157
steps) and 80 epochs. The printed ratio is each variant's time to Resnet18-4's, measured in
the same run.
"""

import argparse
import time

import keras
import numpy as np

import dfp


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batches", type=int, default=8)
    args = parser.parse_args()
    (x, y), _ = dfp.data.cifar10(256 * args.batches, 1, seed=0)
    steps_per_epoch = int(np.ceil(40000 / 256))
    seconds = {}
    for variant in dfp.models.RESNET_VARIANTS:
        model = dfp.models.resnet18_variant(variant, width=args.width, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
        model.train_on_batch(x[:256], y[:256])  # compile outside the timing
        start = time.perf_counter()
        for b in range(args.batches):
            model.train_on_batch(x[256 * b : 256 * (b + 1)], y[256 * b : 256 * (b + 1)])
        seconds[variant] = (time.perf_counter() - start) / args.batches
    print(f"width {args.width}, batch 256, {keras.backend.backend()}")
    print(
        f"{'variant':>10} {'s/step':>7} {'s/epoch (40k)':>14} {'80 epochs (h)':>14} "
        f"{'vs Resnet18-4':>14}"
    )
    for variant, step in seconds.items():
        print(
            f"Resnet18-{variant:<1} {step:>7.3f} {step * steps_per_epoch:>14.0f} "
            f"{step * steps_per_epoch * 80 / 3600:>14.1f} {step / seconds[4]:>14.2f}"
        )
    total = sum(seconds.values()) * steps_per_epoch * 80 / 3600
    print(
        f"all four variants, 80 epochs: about {total:.0f} h of training (validation not included)"
    )


if __name__ == "__main__":
    main()
