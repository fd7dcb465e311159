"""Shared fixtures for the token tests: libsoftskf built once, a temporary store per
module, provisioned virtual keys made with the real issuance flow (init_softkey).

Everything goes through the same loader and token host as a vendor library.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.token import host_client
from app.token.device import find_identity
from app.token.identity import Identity
from app.token.softkey import SoftkeyInfo, init_softkey
from tests.support import softkey as virtual_ukey
from tests.support.softkey import ADMIN_PIN, USER_PIN

# the shared virtual-UKey fixtures (libsoftskf, a store per module, a private host pool)
softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store
pool = virtual_ukey.pool


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-pki")


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
