"""The recovery key file is standard: OpenSSL 3 reads what BidSeal writes, and BidSeal
reads what OpenSSL writes (PKCS#8 PBES2, scrypt, SM4-CBC)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app import recovery
from app.gm import sm2
from app.recovery.pbes2 import decrypt_private_key

from .conftest import PASSPHRASE

pytestmark = pytest.mark.interop

VECTOR = Path(__file__).resolve().parents[2] / "resources" / "testvectors" / "recovery-v1"


def _run(args: list[str], data: bytes | None = None) -> bytes:
    proc = subprocess.run(args, input=data, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def test_openssl_opens_our_file_and_reads_our_certificate(openssl_bin, recovery_key, recovery_file):
    pub = _run([openssl_bin, "pkey", "-in", str(recovery_file), "-passin", "stdin", "-pubout"],
               (PASSPHRASE + "\n").encode())
    assert sm2.PublicKey.from_pem(pub) == recovery_key.certificate.public_key
    # the certificate verifies with its own key (self-signed, SM2-with-SM3, default ID)
    _run([openssl_bin, "verify", "-vfyopt", "distid:1234567812345678", "-CAfile", str(recovery_file),
          str(recovery_file)])
    text = _run([openssl_bin, "x509", "-in", str(recovery_file), "-noout", "-ext",
                 "keyUsage,basicConstraints"]).decode()
    assert "CA:FALSE" in text and "Key Encipherment" in text


def test_openssl_refuses_a_wrong_passphrase(openssl_bin, recovery_file):
    proc = subprocess.run([openssl_bin, "pkey", "-in", str(recovery_file), "-passin", "pass:nope nope nope"],
                          capture_output=True, timeout=60)
    assert proc.returncode != 0


def test_we_read_a_key_openssl_encrypted(openssl_bin, tmp_path):
    key = sm2.PrivateKey.generate()
    (tmp_path / "k.pem").write_bytes(key.to_pem())
    der = _run([openssl_bin, "pkcs8", "-topk8", "-in", str(tmp_path / "k.pem"), "-outform", "DER",
                "-v2", "sm4-cbc", "-scrypt", "-passout", f"pass:{PASSPHRASE}"])
    assert sm2.PrivateKey.from_der(decrypt_private_key(der, PASSPHRASE)) == key


def test_default_work_factor_opens_with_openssl_kdf_and_enc(openssl_bin, tmp_path):
    """The test vector's README steps: scrypt with OpenSSL's kdf, SM4-CBC with its enc."""
    rk = recovery.load(VECTOR / "recovery.bsrk")
    params = rk.params
    assert params == recovery.DEFAULT_PARAMS
    passphrase = (VECTOR / "passphrase.txt").read_text(encoding="utf-8").rstrip("\n")
    from app.recovery.pbes2 import parse_encrypted_key

    enc = parse_encrypted_key(rk.encrypted_key)
    kek = _run([openssl_bin, "kdf", "-keylen", "16", "-kdfopt", f"pass:{passphrase}",
                "-kdfopt", f"hexsalt:{enc.salt.hex()}", "-kdfopt", f"n:{params.n}",
                "-kdfopt", f"r:{params.r}", "-kdfopt", f"p:{params.p}",
                "-kdfopt", "maxmem_bytes:300000000", "SCRYPT"]).decode().strip().replace(":", "")
    (tmp_path / "enc.bin").write_bytes(enc.ciphertext)
    pkcs8 = _run([openssl_bin, "enc", "-d", "-sm4-cbc", "-K", kek, "-iv", enc.iv.hex(),
                  "-in", str(tmp_path / "enc.bin")])
    expected = sm2.PrivateKey.from_pem((VECTOR / "recovery-key.pem").read_bytes())
    assert sm2.PrivateKey.from_der(pkcs8) == expected
    assert rk.unlock(passphrase).key == expected
