"""Re-wrapping an envelope's file key to a hub (bid opening through a hub page):
the UKey opens the bidder's entry, the hub decrypts the bulk, the page sees no key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.demo.pki import DemoPKI, demo_pki
from app.envelope import encrypt_file
from app.envelope import format as fmt
from app.envelope.errors import (
    EnvelopeError,
    EnvelopeFormatError,
    EnvelopeIntegrityError,
    NotARecipientError,
    RecipientCertificateError,
)
from app.envelope.recipients import open_entry
from app.envelope.rewrap import (
    decrypt_rewrapped,
    parse_rewrapped,
    read_head,
    rewrap_file_key,
    split_head,
)
from app.gm.keyops import SoftwareUnwrapper
from app.token.device import find_identity
from app.token.session import open_session
from app.token.softkey import init_softkey
from tests.support.softkey import ADMIN_PIN, USER_PIN


@pytest.fixture(scope="module")
def hub() -> DemoPKI:
    """The hub's own PKI: its encryption certificate receives re-wrapped keys."""
    return demo_pki(unit_name="辽宁省公共资源交易互认平台", root_name="Hub Demo CA")


@pytest.fixture()
def sealed(tmp_path: Path, pki: DemoPKI) -> tuple[Path, bytes]:
    plain = os.urandom(300_000)
    src = tmp_path / "bid.pdf"
    src.write_bytes(plain)
    env = tmp_path / "bid.pdf.bse"
    encrypt_file(src, env, [pki.enc_cert, pki.emergency_cert], project_id="LNGG-2026-001", chunk_size=65536)
    return env, plain


class CountingUnwrapper:
    def __init__(self, inner: SoftwareUnwrapper) -> None:
        self.inner, self.calls = inner, 0

    @property
    def certificate(self):
        return self.inner.certificate

    def unwrap(self, wrapped, data):
        self.calls += 1
        return self.inner.unwrap(wrapped, data)


def test_hub_decrypts_with_the_rewrapped_key(sealed, pki: DemoPKI, hub: DemoPKI, tmp_path: Path) -> None:
    env, plain = sealed
    head = read_head(env)
    assert len(head) < 2048
    rewrapped = rewrap_file_key(head, pki.unwrapper(), hub.enc_cert)
    out = tmp_path / "opened.pdf"
    info = decrypt_rewrapped(env, out, rewrapped, hub.unwrapper())
    assert out.read_bytes() == plain
    assert info.project_id == "LNGG-2026-001" and info.opened_by == -1


def test_rewrapped_key_carries_no_file_key(sealed, pki: DemoPKI, hub: DemoPKI) -> None:
    env, _ = sealed
    head = read_head(env)
    header, _ = split_head(head)
    fk = bytes(open_entry(header, 0, pki.unwrapper()))
    rewrapped = rewrap_file_key(head, pki.unwrapper(), hub.enc_cert)
    assert fk not in rewrapped and fk not in head
    header_hash, entry = parse_rewrapped(rewrapped)
    assert header_hash == header.header_hash
    assert entry.unit_name == hub.enc_cert.unit_name


def test_forged_head_is_refused_by_the_mac(sealed, pki: DemoPKI, hub: DemoPKI) -> None:
    """A page shows the bidder another project: the header MAC (checked with FK) fails."""
    env, _ = sealed
    header, mac = split_head(read_head(env))
    import dataclasses

    forged = fmt.encode_header(dataclasses.replace(header, project_id="OTHER-PROJECT"))
    with pytest.raises(EnvelopeIntegrityError) as exc:
        rewrap_file_key(forged + mac, pki.unwrapper(), hub.enc_cert)
    assert exc.value.details["reason"] == "header_mac"


def test_hub_signing_certificate_is_refused_before_the_key_is_used(sealed, pki: DemoPKI, hub: DemoPKI) -> None:
    env, _ = sealed
    spy = CountingUnwrapper(pki.unwrapper())
    for cert in (hub.sign_cert, hub.root_cert):
        with pytest.raises(RecipientCertificateError):
            rewrap_file_key(read_head(env), spy, cert)
    assert spy.calls == 0


def test_envelope_for_someone_else_is_refused(tmp_path: Path, pki: DemoPKI, other_pki: DemoPKI, hub: DemoPKI) -> None:
    src = tmp_path / "x.bin"
    src.write_bytes(b"x" * 100)
    env = tmp_path / "x.bse"
    encrypt_file(src, env, [other_pki.enc_cert])
    with pytest.raises(NotARecipientError):
        rewrap_file_key(read_head(env), pki.unwrapper(), hub.enc_cert)


def test_rewrapped_key_of_one_envelope_does_not_open_another(tmp_path: Path, pki: DemoPKI, hub: DemoPKI) -> None:
    envs = []
    for name in ("a", "b"):
        src = tmp_path / f"{name}.bin"
        src.write_bytes(os.urandom(1000))
        env = tmp_path / f"{name}.bse"
        encrypt_file(src, env, [pki.enc_cert])
        envs.append(env)
    rewrapped_a = rewrap_file_key(read_head(envs[0]), pki.unwrapper(), hub.enc_cert)
    out = tmp_path / "out.bin"
    with pytest.raises(EnvelopeIntegrityError) as exc:
        decrypt_rewrapped(envs[1], out, rewrapped_a, hub.unwrapper())
    assert exc.value.details["reason"] == "header_hash" and not out.exists()


def test_other_hub_key_cannot_use_it(sealed, pki: DemoPKI, hub: DemoPKI, other_pki: DemoPKI, tmp_path: Path) -> None:
    env, _ = sealed
    rewrapped = rewrap_file_key(read_head(env), pki.unwrapper(), hub.enc_cert)
    with pytest.raises(NotARecipientError):
        decrypt_rewrapped(env, tmp_path / "o", rewrapped, other_pki.unwrapper())


def test_every_damaged_byte_of_the_rewrapped_key_is_refused(sealed, pki: DemoPKI, hub: DemoPKI,
                                                            tmp_path: Path) -> None:
    env, plain = sealed
    rewrapped = rewrap_file_key(read_head(env), pki.unwrapper(), hub.enc_cert)
    out = tmp_path / "out.bin"
    for i in range(0, len(rewrapped), 3):
        bad = bytearray(rewrapped)
        bad[i] ^= 0x40
        try:
            decrypt_rewrapped(env, out, bytes(bad), hub.unwrapper())
        except EnvelopeError:
            assert not out.exists()
            continue
        # a flip in a name-only field (unit name for messages) may still open: same plaintext
        assert out.read_bytes() == plain
        out.unlink()


@pytest.mark.parametrize("cut", ["short", "long", "empty", "garbage"])
def test_malformed_heads_are_format_errors(sealed, pki: DemoPKI, hub: DemoPKI, cut: str) -> None:
    env, _ = sealed
    head = read_head(env)
    data = {"short": head[:-1], "long": head + b"\0", "empty": b"", "garbage": os.urandom(200)}[cut]
    with pytest.raises(EnvelopeFormatError):
        rewrap_file_key(data, pki.unwrapper(), hub.enc_cert)


def test_rewrap_with_the_virtual_ukey(tmp_path: Path, store: Path, softskf_lib: str, hub: DemoPKI) -> None:
    """The real path: SKF_ImportSessionKey + SKF_Decrypt on the virtual UKey."""
    init_softkey(store, "REWRAP-KEY", USER_PIN, ADMIN_PIN, tmp_path / "pki")
    identity = find_identity(softskf_lib, "REWRAP-KEY")
    src = tmp_path / "bid.bin"
    src.write_bytes(os.urandom(5000))
    env = tmp_path / "bid.bse"
    encrypt_file(src, env, [identity.enc_certificate], project_id="LNGG-2026-009")
    with open_session(identity, USER_PIN) as session:
        rewrapped = rewrap_file_key(read_head(env), session.unwrapper, hub.enc_cert)
    decrypt_rewrapped(env, tmp_path / "out.bin", rewrapped, hub.unwrapper())
    assert (tmp_path / "out.bin").read_bytes() == src.read_bytes()
