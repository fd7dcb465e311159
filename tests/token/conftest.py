"""Shared fixtures for the token tests: libsoftskf built once, a temporary store per
module, provisioned virtual keys made with the real issuance flow (init_softkey).

Everything goes through the same loader and token host as a vendor library.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.token import host_client
from app.token.device import find_identity
from app.token.identity import Identity
from app.token.softkey import SoftkeyInfo, init_softkey

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


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-pki")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, softskf_lib: str) -> Iterator[Path]:
    """A temporary SOFTSKF_STORE for this module; the shared host pool is fresh and uses it."""
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


def make_key(store: Path, pki_dir: Path, label: str, **kwargs: object) -> SoftkeyInfo:
    return init_softkey(store, label, USER_PIN, ADMIN_PIN, pki_dir, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def softkey(store: Path, pki_dir: Path) -> SoftkeyInfo:
    """One provisioned virtual key per module (label KEY-A)."""
    return make_key(store, pki_dir, "KEY-A")


@pytest.fixture(scope="module")
def identity(softkey: SoftkeyInfo, softskf_lib: str) -> Identity:
    return find_identity(softskf_lib, softkey.label)


@pytest.fixture
def fresh_identity(store: Path, pki_dir: Path, softskf_lib: str, request: pytest.FixtureRequest) -> Identity:
    """A newly provisioned key for tests that change its state (PIN counters, files)."""
    label = "K-" + request.node.name.replace("[", "-").replace("]", "")[-40:]
    make_key(store, pki_dir, label)
    return find_identity(softskf_lib, label)


def open_handles(library: str, device: str | None = None) -> int:
    return int(host_client.get_pool().get(library, device).call("handle_count"))


def env_without_faults() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SOFTSKF_FAULTS", None)
    return env
