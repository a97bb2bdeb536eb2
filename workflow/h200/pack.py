"""Stage a data folder onto a machine in parts: tar, xz with a delta filter, split by bytes.

A GPU command carries at most 64 MiB, and CIFAR-10's five batches are 147 MiB as pickles
(about 108 MB packed), so they travel in two parts, one per command; the second command
unpacks the two. The files arrive byte for byte (``dfp.data`` checks their SHA-256 again).

    python workflow/h200/pack.py pack $DFP_DATA_DIR cifar-10-batches-py .h200/cifar --parts 2
    python workflow/h200/pack.py unpack .h200/cifar /tmp/data     # .h200/cifar.1of2, .2of2

Pure Python (lzma, tarfile): it needs nothing the GPU machine lacks.
"""

import argparse
import io
import lzma
import sys
import tarfile
from pathlib import Path

# Pixels next to each other differ little: a delta filter before LZMA2 saves about 7 %.
FILTERS = [{"id": lzma.FILTER_DELTA, "dist": 1}, {"id": lzma.FILTER_LZMA2, "preset": 6}]


def pack(folder, names, stem, parts):
    """Pack ``names`` (files or folders inside ``folder``) into ``parts`` files <stem>.1ofN, ...

    Returns:
        The part files' paths.
    """
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name in names:
            path = Path(folder) / name
            if not path.exists():
                raise FileNotFoundError(f"{path} does not exist: nothing to pack")
            tar.add(path, arcname=name)
    packed = lzma.compress(archive.getvalue(), format=lzma.FORMAT_XZ, filters=FILTERS)
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    size = -(-len(packed) // parts)
    paths = []
    for index in range(parts):
        path = stem.with_name(f"{stem.name}.{index + 1}of{parts}")
        path.write_bytes(packed[index * size : (index + 1) * size])
        paths.append(path)
    return paths


def unpack(stem, destination):
    """Join <stem>.1ofN ... <stem>.NofN (all of them, in order) and extract into ``destination``.

    Raises:
        FileNotFoundError: no part, or one of them not here (a part not carried).
        ValueError: a part that is truncated or corrupted.
    """
    stem = Path(stem)
    found = {}
    for path in stem.parent.glob(f"{stem.name}.*of*"):
        index, _, count = path.name.rsplit(".", 1)[1].partition("of")
        if index.isdigit() and count.isdigit():
            found[int(index)] = (int(count), path)
    counts = {count for count, _ in found.values()}
    if len(counts) != 1 or sorted(found) != list(range(1, counts.pop() + 1)):
        names = sorted(p.name for _, p in found.values())
        raise FileNotFoundError(
            f"the parts of {stem} here are {names}: need every one, .1ofN ... .NofN"
        )
    paths = [found[i][1] for i in sorted(found)]
    try:
        data = lzma.decompress(b"".join(p.read_bytes() for p in paths))
    except lzma.LZMAError as error:
        raise ValueError(f"the parts of {stem} are truncated or corrupted ({error})") from error
    Path(destination).mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(destination, filter="data")
    return paths


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    packing = commands.add_parser("pack", help="pack files of a folder into parts")
    packing.add_argument("folder")
    packing.add_argument("names", nargs="+", help="files or folders inside it; then the stem")
    packing.add_argument("--parts", type=int, default=1)
    unpacking = commands.add_parser("unpack", help="join the parts and extract them")
    unpacking.add_argument("stem")
    unpacking.add_argument("destination")
    arguments = parser.parse_args(argv)
    if arguments.command == "pack":
        *names, stem = arguments.names
        if not names:
            parser.error("pack needs the names to pack and then the parts' stem")
        for path in pack(arguments.folder, names, stem, arguments.parts):
            print(f"{path}: {path.stat().st_size / 2**20:.1f} MiB")
    else:
        try:
            paths = unpack(arguments.stem, arguments.destination)
        except (FileNotFoundError, ValueError) as error:
            sys.exit(f"unpack: {error}")
        for path in paths:
            print(f"unpacked {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
