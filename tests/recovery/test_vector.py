"""The published test vector (resources/testvectors/recovery-v1) matches the spec and the code."""

from __future__ import annotations

import re
from pathlib import Path

from app import recovery
from app.envelope import decrypt_file
from app.gm import sm2
from app.recovery.pbes2 import encrypt_private_key, parse_encrypted_key

VECTOR = Path(__file__).resolve().parents[2] / "resources" / "testvectors" / "recovery-v1"


def _table() -> dict[str, str]:
    text = (VECTOR / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| (.+?) \| `(.+?)` \|$", text, re.M))


def test_vector_encrypted_key_is_reproducible_from_the_spec():
    table = _table()
    rk = recovery.load(VECTOR / "recovery.bsrk")
    passphrase = (VECTOR / "passphrase.txt").read_text(encoding="utf-8").rstrip("\n")
    key = sm2.PrivateKey.from_pem((VECTOR / "recovery-key.pem").read_bytes())
    enc = parse_encrypted_key(rk.encrypted_key)
    again = encrypt_private_key(key.to_der(), passphrase, enc.params, salt=enc.salt, iv=enc.iv)
    assert again == rk.encrypted_key
    assert table["EncryptedPrivateKeyInfo (DER)"] == rk.encrypted_key.hex()
    assert table["salt"] == enc.salt.hex() and table["SM4-CBC IV"] == enc.iv.hex()
    assert table["certificate SM3 fingerprint"] == rk.fingerprint
    assert table["private key d"] == format(key.d, "064x")


def test_vector_envelope_opens_with_the_recovery_key(tmp_path):
    rk = recovery.load(VECTOR / "recovery.bsrk")
    passphrase = (VECTOR / "passphrase.txt").read_text(encoding="utf-8").rstrip("\n")
    out = tmp_path / "plain.txt"
    info = decrypt_file(VECTOR / "envelope.bse", out, rk.unlock(passphrase))
    assert out.read_bytes() == (VECTOR / "plaintext.txt").read_bytes()
    assert info.opened_by == 0 and info.project_id == "TEST-2026-RK"
