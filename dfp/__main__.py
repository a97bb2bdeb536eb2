"""The command line, ``python -m dfp COMMAND``:

- ``python -m dfp measure FEATURES.npy TARGETS.npy [--out rdf.json] [--plot rdf.png] ...``:
  the LFR and RDF of saved arrays (a layer's activations and the targets), their half-way
  point and peak with intervals (``dfp.measure``); ``python -m dfp measure --help`` lists the
  options. Bad input (mismatched lengths, NaN or inf, an unreadable file) prints
  ``dfp measure: error: <message>`` and exits with status 2.
- ``python -m dfp runs [DIRECTORY]``: list the cached training runs.
- ``python -m dfp sync``: copy each shared run's parameters from its first notebook into the
  others.
"""

import argparse
import importlib.util
import json
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from dfp import parameters, runs
from dfp.measure import Measurement, measure, plot

MEASURE_HELP = """\
Measure the low frequency ratio (LFR, eqs. 3-5 of Xu & Zhou) and the ratio density function
(RDF, eq. 6) of saved arrays: FEATURES (n, ...) are the inputs of the filter (a layer's
activations, flattened to (n, d)), TARGETS (n,) or (n, d_o) what is filtered (one-hot labels,
a regression target, or a layer's effective target). Each input dimension is divided by its
max |value| unless --no-normalize; 1/delta is in units of 1 / (squared distance of the
normalised inputs). Prints a summary: the grid, the half-way point (the 1/delta where the LFR
is half-way from its floor to 1) and the RDF's peak, each with the interval over subsamples.
"""

MEASURE_EPILOG = """\
cost: time grows as n^2 d (plus the grid's length); the intervals cost about
repeats * fraction^2 times the full measurement (5x by default; --repeats 0 skips them);
memory is linear in n. The JSON written by --out is the format "dfp.measurement/2",
documented in the dfp.measure module (python -c "import dfp.measure; help(dfp.measure)").

example:
  python -m dfp measure hidden.npy labels.npy --out rdf.json --plot rdf.png
  python -m dfp measure hidden.npy labels.npy --classes 10 --inv-delta 0.01 100 50
"""


class InputError(Exception):
    """Input the command cannot measure: reported in one line, with exit status 2."""


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m dfp",
        description="dfp: the frequency measure of Deep Frequency Principle (Xu & Zhou).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    m = commands.add_parser(
        "measure",
        help="the LFR and RDF of saved arrays (features and targets)",
        description=MEASURE_HELP,
        epilog=MEASURE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.add_argument("features", type=Path, help="FEATURES.npy, or .npz holding one array: (n, ...)")
    m.add_argument(
        "targets", type=Path, help="TARGETS.npy, or .npz holding one array: (n,) or (n, d_o)"
    )
    m.add_argument("--out", type=Path, metavar="JSON", help="write the measurement as JSON here")
    m.add_argument(
        "--plot", type=Path, metavar="IMAGE", help="draw the LFR and RDF here (.png, .pdf, ...)"
    )
    grid = m.add_mutually_exclusive_group()
    grid.add_argument(
        "--grid-points",
        type=int,
        default=60,
        metavar="N",
        help="points of the 1/delta grid proposed from the data (default: %(default)s)",
    )
    grid.add_argument(
        "--inv-delta",
        nargs=3,
        metavar=("LOW", "HIGH", "N"),
        help="use N values of 1/delta spaced geometrically from LOW to HIGH instead",
    )
    m.add_argument(
        "--no-normalize",
        action="store_true",
        help="keep the raw inputs (default: divide each dimension by its max |value|)",
    )
    m.add_argument(
        "--classes",
        type=int,
        metavar="K",
        help="one-hot encode integer labels of shape (n,) into K classes "
        "(without it, integer labels are refused)",
    )
    m.add_argument(
        "--repeats",
        type=int,
        default=20,
        metavar="R",
        help="subsamples measured for the intervals; 0: none (default: %(default)s)",
    )
    m.add_argument(
        "--fraction",
        type=float,
        default=0.5,
        metavar="F",
        help="each subsample holds round(F n) distinct points (default: %(default)s)",
    )
    m.add_argument(
        "--level",
        type=float,
        default=0.9,
        metavar="L",
        help="intervals are the central L quantile range of the subsamples (default: %(default)s)",
    )
    m.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="seeds the subsamples (default: %(default)s)",
    )

    r = commands.add_parser("runs", help="list the cached training runs")
    r.add_argument("directory", nargs="?", help="the run cache (default: the configured one)")
    commands.add_parser(
        "sync", help="copy each shared run's parameters from its first notebook into the others"
    )
    c = commands.add_parser(
        "results", help="check the committed results, or decide them again from their data"
    )
    c.add_argument(
        "--redecide",
        action="store_true",
        help="decide every claim again from the data its result carries, under the current "
        "rule (no training), and rewrite the summaries",
    )
    c.add_argument("--root", default=".", help="the repository (default: %(default)s)")
    return parser


def _load(path):
    """The one array in a .npy or .npz file (no pickles)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise InputError(f"cannot read {path}: {error}") from None
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:  # an .npz archive
        names = list(loaded.files)
        if len(names) != 1:
            raise InputError(
                f"{path} holds {len(names)} arrays ({', '.join(names) or 'none'}): "
                "give a .npy file, or an .npz holding exactly one array"
            )
        try:
            return loaded[names[0]]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise InputError(f"cannot read {names[0]} in {path}: {error}") from None


def _grid(values):
    try:
        low, high, count = float(values[0]), float(values[1]), int(values[2])
    except ValueError:
        raise InputError(
            f"--inv-delta takes LOW HIGH N (numbers, N an integer), got {values}"
        ) from None
    if not (0 < low < high < np.inf and count >= 2):
        raise InputError(f"--inv-delta needs 0 < LOW < HIGH and N >= 2, got {' '.join(values)}")
    return np.geomspace(low, high, count)


def _position(name, value, interval, resampling):
    text = f"{name} 1/delta = {value:.4g}" if np.isfinite(value) else f"{name}: not on the grid"
    if interval is not None:
        text += (
            f" ({resampling['level']:.0%} interval {interval[0]:.4g} to {interval[1]:.4g}, "
            "centred on all the points, its width from the subsamples)"
        )
    elif resampling:
        text += " (no interval: fewer than half the subsamples give one)"
    return text


def summary(m: Measurement, seconds: float, proposed: bool) -> str:
    """One paragraph on a measurement, for the terminal.

    Args:
        m: the measurement.
        seconds: the wall time it took.
        proposed: whether the grid was proposed from the data.

    Returns:
        The paragraph, without a final newline.
    """
    normalised = "each divided by its max |value|" if m.normalize else "not normalised"
    unit = "normalised" if m.normalize else "raw"
    parts = [
        f"Measured n = {m.n} points of d = {m.d} input dimensions ({normalised})",
        f"on {len(m.inv_delta)} values of 1/delta from {m.inv_delta[0]:.4g} to "
        f"{m.inv_delta[-1]:.4g} ({'proposed from the data' if proposed else 'given'}; "
        f"units 1 / squared distance of the {unit} inputs).",
        f"LFR floor {m.floor:.4g};",
        _position("half-way point", m.halfway, m.halfway_interval, m.resampling) + ";",
        _position("RDF peak", m.peak, m.peak_interval, m.resampling) + ".",
    ]
    if m.resampling:
        r = m.resampling
        parts.append(
            f"Intervals from {r['repeats']} subsamples of {round(r['fraction'] * m.n)} distinct "
            f"points (seed {r['seed']}); smaller samples see sparser neighbours, so their "
            "positions tend to sit lower in 1/delta than the full set's."
        )
    parts.append(f"Wall time {seconds:.1f} s.")
    return " ".join(parts)


def _measure(args):
    if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
        raise InputError("--plot needs matplotlib: pip install matplotlib (or drop --plot)")
    grid = _grid(args.inv_delta) if args.inv_delta is not None else None
    features, targets = _load(args.features), _load(args.targets)
    start = time.perf_counter()
    try:
        result = measure(
            features,
            targets,
            grid,
            grid_points=args.grid_points,
            normalize=not args.no_normalize,
            repeats=args.repeats,
            fraction=args.fraction,
            level=args.level,
            seed=args.seed,
            classes=args.classes,
        )
    except ValueError as error:
        raise InputError(f"{error} (features: {args.features}, targets: {args.targets})") from None
    seconds = time.perf_counter() - start
    print(summary(result, seconds, proposed=grid is None))
    try:
        if args.out is not None:
            args.out.write_text(json.dumps(result.to_json(), indent=1, allow_nan=False) + "\n")
            print(f"wrote {args.out}")
        if args.plot is not None:
            plot(result, args.plot)
            print(f"wrote {args.plot}")
    except OSError as error:
        raise InputError(f"cannot write: {error}") from None


def _results(args):
    """``python -m dfp results [--redecide]``: one line per committed result."""
    from dfp import results  # deferred: only this command reads results

    if args.redecide:
        changed = results.redecide_results(args.root)
        for path, moved in changed:
            print(f"re-decided {path}" + (f": {', '.join(moved)} changed" if moved else ""))
        if not changed:
            print("every committed result is decided under the current rule")
    for path in sorted(Path(args.root, results.RESULTS).glob("*/*.summary.json")):
        try:
            summary = results.check_result(path)
        except results.ResultError as error:
            print(f"dfp results: error: {error}", file=sys.stderr)
            sys.exit(2)
        for claim, fields in summary["claims"].items():
            print(f"{path}: {claim} {fields['mark']} {fields['verdict']}")


def main(argv: list[str]) -> None:
    """Run one command of ``python -m dfp``.

    Args:
        argv: the arguments after ``python -m dfp``.

    Returns:
        None; exits with status 2 on bad input (a one-line message on stderr, no traceback).
    """
    args = _parser().parse_args(argv)
    if args.command == "measure":
        try:
            _measure(args)
        except InputError as error:
            print(f"dfp measure: error: {error}", file=sys.stderr)
            sys.exit(2)
    elif args.command == "runs":
        runs.print_runs(args.directory)
    elif args.command == "results":
        _results(args)
    elif args.command == "sync":
        for path in parameters.sync_shared_parameters():
            print(f"rewrote {path} and its .ipynb")


if __name__ == "__main__":
    main(sys.argv[1:])
