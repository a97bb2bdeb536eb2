"""Results keyed on configuration and code, so that a change to ``dfp`` is never served stale."""

import hashlib
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def code_fingerprint():
    """SHA-256 of every ``dfp`` source file (path and bytes), as a hex string.

    Anything computed by ``dfp`` (an executed notebook, a cached training run) is valid only
    for the code that computed it; this is the key that says which code that was.
    """
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
