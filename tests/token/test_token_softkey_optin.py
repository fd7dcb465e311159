"""The virtual key is opt-in and always marked as a demo key.

A production install must never offer a leftover demo key for a bid: discovery adds the
embedded libsoftskf only when it was enabled on purpose (``softkey init``/``plug``, the
config, ``BIDSEAL_SOFTKEY=1``), and everything that lists or uses it says "demo".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.demo.pki import CertificateAuthority, demo_pki, is_demo_certificate
from app.token import registry
from app.token.device import scan
from app.token.identity import Identity
from app.token.registry import candidates, softkey_enabled, softkey_marker
from app.token.softkey import plug


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No library forced, no config, a fresh BidSeal home: what a new install sees."""
    for var in ("BIDSEAL_SKF_LIB", "BIDSEAL_SOFTSKF_LIB", "BIDSEAL_SOFTKEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BIDSEAL_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setattr(registry, "search_dirs", lambda: [tmp_path / "no-vendor-libraries"])
    return tmp_path


def _embedded() -> list[registry.Candidate]:
    return [c for c in candidates() if c.source == "embedded"]


def test_absent_unless_enabled(clean: Path) -> None:
    assert softkey_enabled() is None and _embedded() == []
    assert scan().libraries == []  # so no command can pick a demo key by accident


@pytest.mark.parametrize("how", ["env", "config", "plug"])
def test_each_explicit_way_enables_it(clean: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "env":
        monkeypatch.setenv("BIDSEAL_SOFTKEY", "1")
    elif how == "config":
        (clean / "config.json").write_text(json.dumps({"token": {"softskf": True}}))
    else:
        plug(clean / "store", "PLUGGED")
    (emb,) = _embedded()
    assert emb.is_demo and "DEMO" in emb.reason and emb.to_dict()["demo"] is True
    # BIDSEAL_SOFTKEY=0 overrides the other ways (production, CI)
    monkeypatch.setenv("BIDSEAL_SOFTKEY", "0")
    assert _embedded() == []


def test_plug_without_enable_and_disable(clean: Path) -> None:
    plug(clean / "store", "QUIET", enable=False)
    assert _embedded() == [] and not softkey_marker().exists()
    plug(clean / "store", "LOUD")
    assert softkey_marker().exists() and len(_embedded()) == 1
    registry.disable_softkey()
    assert _embedded() == []


def test_the_virtual_key_is_marked_demo_everywhere(identity: Identity) -> None:
    assert identity.is_demo
    assert identity.label.startswith("[演示密钥 DEMO KEY]")
    assert identity.summary()["demo"] is True


def test_demo_ca_certificates_are_recognised() -> None:
    d = demo_pki()
    assert is_demo_certificate(d.sign_cert) and is_demo_certificate(d.root_cert)
    other = CertificateAuthority.create_root(name="某某 CA", org="某某数字认证有限公司")
    assert not is_demo_certificate(other.certificate)


def test_a_real_looking_identity_is_not_demo() -> None:
    real_ca = CertificateAuthority.create_root(name="LNCA Root", org="辽宁数字证书认证管理有限公司")
    d = demo_pki()
    cert = real_ca.issue(d.sign_key.public_key, d.subject, "sign")
    ident = Identity(library="/usr/lib/libgm3000.1.0.so", device="GM3000", application="APP", container="C",
                     sign_certificate=cert, enc_certificate=None)
    assert not ident.is_demo and "DEMO" not in ident.label and ident.summary()["demo"] is False
