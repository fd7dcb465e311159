"""The recovery key file: made, saved, loaded, opened; damage and wrong passphrases refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from asn1crypto import pem

from app import recovery
from app.envelope import check_recipient
from app.gm import sm2
from app.gm.keyops import SoftwareUnwrapper
from app.recovery import (
    RecoveryError,
    RecoveryFormatError,
    WeakPassphrase,
    WrongPassphrase,
    is_recovery_certificate,
)
from app.recovery.pbes2 import (
    ScryptParams,
    decrypt_private_key,
    encrypt_private_key,
    parse_encrypted_key,
)

from .conftest import FAST, PASSPHRASE


def test_round_trip_opens_with_the_passphrase(recovery_key, recovery_file):
    loaded = recovery.load(recovery_file)
    assert loaded == recovery_key
    unwrapper = loaded.unlock(PASSPHRASE)
    assert isinstance(unwrapper, SoftwareUnwrapper)
    assert unwrapper.key.public_key == loaded.certificate.public_key
    assert loaded.params == FAST


def test_certificate_is_an_ordinary_envelope_recipient(recovery_key):
    cert = recovery_key.certificate
    check_recipient(cert)  # accepted by the envelope engine as it is
    assert is_recovery_certificate(cert)
    assert cert.kind == "enc" and not cert.is_ca and cert.is_self_issued
    assert cert.unit_name == "辽宁示例建设工程有限公司"
    assert (cert.not_after - cert.not_before).days > 365 * 29


def test_a_normal_encryption_certificate_is_not_a_recovery_certificate():
    from app.demo.pki import demo_pki

    pki = demo_pki()
    assert not is_recovery_certificate(pki.enc_cert)
    assert not is_recovery_certificate(pki.root_cert)


def test_wrong_passphrase_is_refused(recovery_key):
    with pytest.raises(WrongPassphrase) as info:
        recovery_key.unlock(PASSPHRASE + "x")
    assert info.value.code == "ERR_RECOVERY_PASSPHRASE"
    assert "口令不正确" in info.value.zh and "wrong" in info.value.en


def test_passphrase_is_normalised_nfc():
    decomposed = "Cafe\u0301 投标 passphrase"
    composed = "Caf\u00e9 投标 passphrase"
    rk = recovery.new_recovery_key(decomposed, params=FAST)
    rk.unlock(composed)


@pytest.mark.parametrize("weak", ["short", "aaaaaaaaaaaaaa", "ababababab", ""])
def test_weak_passphrases_are_refused(weak):
    with pytest.raises(WeakPassphrase):
        recovery.new_recovery_key(weak, params=FAST)


def test_file_is_private_and_never_overwritten(recovery_key, recovery_file):
    assert stat.S_IMODE(os.stat(recovery_file).st_mode) == 0o600
    before = recovery_file.read_bytes()
    other = recovery.new_recovery_key(PASSPHRASE, params=FAST)
    with pytest.raises(RecoveryError) as info:
        recovery.save(other, recovery_file)
    assert info.value.code == "ERR_OUTPUT_EXISTS"
    assert recovery_file.read_bytes() == before
    assert [p.name for p in recovery_file.parent.iterdir()] == [recovery_file.name]


def test_file_text_names_the_unit_and_fingerprint(recovery_key, recovery_file):
    text = recovery_file.read_text(encoding="utf-8")
    assert text.startswith("BidSeal 恢复密钥文件")
    assert recovery_key.fingerprint in text and recovery_key.serial_hex in text
    assert "BEGIN CERTIFICATE" in text and "BEGIN ENCRYPTED PRIVATE KEY" in text
    assert "PRIVATE KEY-----" not in text.replace("ENCRYPTED PRIVATE KEY-----", "")


def _blocks(path: Path) -> list[tuple[str, bytes]]:
    return [(k, bytes(d)) for k, _h, d in pem.unarmor(path.read_bytes(), multiple=True)]


def _write(path: Path, blocks: list[tuple[str, bytes]]) -> None:
    path.write_bytes(b"".join(bytes(pem.armor(k, d)) for k, d in blocks))


def test_swapped_certificate_is_refused_at_unlock(recovery_key, recovery_file, tmp_path):
    """An attacker's recovery certificate with the bidder's key block: the key does not match."""
    attacker = recovery.new_recovery_key("attacker passphrase 1", params=FAST)
    blocks = _blocks(recovery_file)
    _write(tmp_path / "mixed.bsrk", [("CERTIFICATE", attacker.certificate.der), blocks[1]])
    mixed = recovery.load(tmp_path / "mixed.bsrk")
    with pytest.raises(WrongPassphrase):
        mixed.unlock(PASSPHRASE)


def test_ordinary_certificate_file_is_not_a_recovery_file(tmp_path):
    from app.demo.pki import demo_pki

    pki = demo_pki()
    f = tmp_path / "enc.pem"
    f.write_bytes(pki.enc_cert.pem)
    with pytest.raises(RecoveryFormatError):
        recovery.load(f)
    key = sm2.PrivateKey.generate()
    _write(f, [("CERTIFICATE", pki.enc_cert.der),
               ("ENCRYPTED PRIVATE KEY", encrypt_private_key(key.to_der(), PASSPHRASE, FAST))])
    with pytest.raises(RecoveryFormatError) as info:
        recovery.load(f)
    assert "不是 BidSeal 恢复密钥文件" in info.value.zh


@pytest.mark.parametrize("content", [b"", b"not a key file\n", b"\x00" * 100, os.urandom(2000)])
def test_garbage_is_refused(tmp_path, content):
    f = tmp_path / "x.bsrk"
    f.write_bytes(content)
    with pytest.raises(RecoveryFormatError):
        recovery.load(f)


def test_oversized_file_is_refused_unread(tmp_path, recovery_file):
    f = tmp_path / "big.bsrk"
    f.write_bytes(b"x" * (70 * 1024) + recovery_file.read_bytes())
    with pytest.raises(RecoveryFormatError):
        recovery.load(f)


def test_extra_block_is_refused(tmp_path, recovery_file):
    blocks = _blocks(recovery_file)
    _write(tmp_path / "extra.bsrk", [*blocks, blocks[0]])
    with pytest.raises(RecoveryFormatError):
        recovery.load(tmp_path / "extra.bsrk")


def test_every_flipped_byte_of_the_key_block_is_caught(recovery_key, tmp_path):
    """A damaged key block is refused when read, or fails at unlock with a sentence; never a
    wrong key and never a traceback. A flip the checks cannot see is one that leaves the key
    itself intact (a bit of the PKCS#8 framing asn1crypto tolerates, or CBC noise that happens
    to pad correctly inside a field the parser skips): unlock must then give the *right* key,
    proven against the certificate. Every offset of a fresh key (a sampled subset of the
    fixture's once let a rare ValueError through: tests/gm/test_sm2_keys_der.py)."""
    fresh = recovery.new_recovery_key(PASSPHRASE, unit_name="辽宁示例建设工程有限公司", params=FAST)
    right = fresh.unlock(PASSPHRASE).key
    der = fresh.encrypted_key
    for offset in range(len(der)):
        damaged = bytearray(der)
        damaged[offset] ^= 0x01
        try:
            key = recovery.RecoveryKey(fresh.certificate, bytes(parse_and_return(bytes(damaged))))
            unlocked = key.unlock(PASSPHRASE)
        except (RecoveryFormatError, WrongPassphrase):
            continue
        assert unlocked.key.d == right.d, f"byte {offset} flipped gave a different key"


def parse_and_return(der: bytes) -> bytes:
    parse_encrypted_key(der)
    return der


def _forged(params: ScryptParams) -> bytes:
    """A key block that names ``params`` (made without running scrypt)."""
    mp = pytest.MonkeyPatch()
    mp.setattr("app.recovery.pbes2._derive", lambda secret, salt, p: bytes(16))
    try:
        return encrypt_private_key(b"x" * 32, PASSPHRASE, params)
    finally:
        mp.undo()


@pytest.mark.parametrize("params", [ScryptParams(n=3), ScryptParams(n=1 << 21), ScryptParams(r=0),
                                    ScryptParams(p=17), ScryptParams(n=1 << 20, r=16),
                                    ScryptParams(n=1 << 20, r=8)])
def test_unaffordable_or_invalid_work_factors_are_refused_before_deriving(params, monkeypatch):
    der = _forged(params)
    calls = []
    monkeypatch.setattr("hashlib.scrypt", lambda *a, **k: calls.append(1))
    with pytest.raises(RecoveryFormatError):
        decrypt_private_key(der, PASSPHRASE)
    assert not calls


def test_largest_accepted_work_factor_is_read():
    params = ScryptParams(n=1 << 19, r=8, p=1)
    assert parse_encrypted_key(_forged(params)).params == params


def test_default_work_factor_is_high():
    p = recovery.DEFAULT_PARAMS
    assert p.n >= 1 << 17 and p.r >= 8 and p.memory >= 128 * 1024 * 1024
