"""A demo PKI (bidder, another bidder from another CA) and a verifier for one hub origin."""

from __future__ import annotations

import pytest

from app.authtoken import MemoryNonceStore, TokenVerifier
from app.demo.pki import DemoPKI, demo_pki

ORIGIN = "https://hub.example.cn"


@pytest.fixture(scope="session")
def pki() -> DemoPKI:
    return demo_pki()


@pytest.fixture(scope="session")
def other_pki() -> DemoPKI:
    return demo_pki(unit_name="大连另一家投标有限公司", root_name="Other Demo CA")


@pytest.fixture()
def nonces() -> MemoryNonceStore:
    return MemoryNonceStore()


@pytest.fixture()
def verifier(pki: DemoPKI, nonces: MemoryNonceStore) -> TokenVerifier:
    return TokenVerifier(ORIGIN, [pki.root_cert], nonces)
