"""Suite-wide settings: headless Qt, predictable language, no user config leaking in."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("BIDSEAL_LANG", None)
os.environ.pop("BIDSEAL_SM2_BACKEND", None)
# Every BidSeal folder (trust store, settings, logs, locks) under one throw-away folder,
# so no test reads or writes the user's real configuration (app/paths.py).
os.environ["BIDSEAL_HOME"] = tempfile.mkdtemp(prefix="bidseal-test-home-")


@pytest.fixture(scope="session")
def openssl_bin() -> str:
    """The OpenSSL 3 command line, our independent SM2/SM3/SM4 implementation."""
    path = shutil.which("openssl")
    assert path, "openssl command line is required for interop tests (apt install openssl)"
    return path


@pytest.fixture(autouse=True)
def _trust_store_per_test() -> object:
    """Roots a test adds to the trust store (``bidseal trust add``, ``softkey init`` adding
    the demo root) stay in that test: a later test's "untrusted" must not depend on order."""
    yield
    from app import paths

    shutil.rmtree(paths.data_dir() / "trust", ignore_errors=True)
