import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory):
    """Real data from ../shared/data unless DFP_DATA_DIR says otherwise; a fresh run cache.

    Notebooks and book builds started by the tests inherit this environment, so their
    training runs are cached in a temporary folder, not in the user's ~/.cache/dfp.
    """
    if "DFP_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
        os.environ["DFP_DATA_DIR"] = str(SHARED_DATA)
    os.environ["DFP_CACHE_DIR"] = str(tmp_path_factory.mktemp("dfp-runs"))
    yield
