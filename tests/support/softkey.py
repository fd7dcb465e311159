"""The virtual UKey (native/softskf through app.token) for tests: shared fixtures.

A conftest makes them available to its folder by naming them::

    from tests.support import softkey as virtual_ukey

    softskf_lib = virtual_ukey.softskf_lib
    store = virtual_ukey.store
    pool = virtual_ukey.pool

* ``softskf_lib`` (session): libsoftskf built once (make is a no-op when up to date),
  used from a private copy;
* ``store`` (module): a temporary ``SOFTSKF_STORE`` with a fresh shared host pool;
* ``pool`` (test): a private :class:`HostPool`, e.g. for ``SOFTSKF_FAULTS`` that the
  shared pool (and the other tests) must never see.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.token import host_client
from app.token.host_client import HostPool

REPO = Path(__file__).resolve().parents[2]
LIB = REPO / "native" / "softskf" / "build" / "libsoftskf.so"
USER_PIN = "11223344"
ADMIN_PIN = "admin-9876"


@pytest.fixture(scope="session")
def softskf_lib(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build native/softskf once per session (make is a no-op when up to date) and use a
    private copy, so a rebuild running elsewhere cannot swap the file under the tests."""
    proc = subprocess.run(["make", "-C", str(REPO / "native" / "softskf")], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"building softskf failed:\n{proc.stdout}\n{proc.stderr}"
    assert LIB.is_file(), "make did not produce libsoftskf.so"
    copy = tmp_path_factory.mktemp("softskf-lib") / LIB.name
    shutil.copy2(LIB, copy)
    return str(copy)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, softskf_lib: str) -> Iterator[Path]:
    """A temporary SOFTSKF_STORE for this module; the shared host pool is fresh and uses it
    (environment restored afterwards)."""
    root = tmp_path_factory.mktemp("softskf-store")
    mp = pytest.MonkeyPatch()
    mp.setenv("SOFTSKF_STORE", str(root))
    mp.setenv("BIDSEAL_SKF_LIB", softskf_lib)
    mp.setenv("BIDSEAL_CONFIG", str(root / "no-config.json"))
    mp.delenv("SOFTSKF_FAULTS", raising=False)
    host_client.configure()
    try:
        yield root
    finally:
        host_client.configure()
        mp.undo()


@pytest.fixture
def pool() -> Iterator[HostPool]:
    """A private host pool for one test, closed afterwards."""
    p = HostPool()
    try:
        yield p
    finally:
        p.close()
