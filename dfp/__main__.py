"""``python -m dfp runs [DIRECTORY]``: list the cached training runs.
``python -m dfp sync``: copy each shared run's parameters from its first notebook into the others.
"""

import sys

from dfp import parameters, runs

USAGE = "usage: python -m dfp runs [DIRECTORY] | python -m dfp sync"


def main(argv):
    if argv[:1] == ["runs"] and len(argv) <= 2:
        runs.print_runs(argv[1] if len(argv) == 2 else None)
    elif argv == ["sync"]:
        for path in parameters.sync_shared_parameters():
            print(f"rewrote {path} and its .ipynb")
    else:
        sys.exit(USAGE)


if __name__ == "__main__":
    main(sys.argv[1:])
