"""The published test vector (resources/testvectors/authtoken-v1) verifies with the
Python verifier and, independently, with the OpenSSL command line, following the spec."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from app.authtoken import MemoryNonceStore, TokenVerifier, challenge, parse_token
from app.gm import sm2
from app.gm.x509 import Certificate

VECTOR = Path(__file__).resolve().parents[2] / "resources" / "testvectors" / "authtoken-v1"


@pytest.fixture(scope="module")
def vector() -> dict:
    return json.loads((VECTOR / "vector.json").read_text(encoding="utf-8"))


def test_intermediate_values_match_the_spec(vector: dict) -> None:
    leaf = Certificate.load((VECTOR / "leaf.pem").read_bytes())
    message = challenge(vector["origin"], vector["nonce"])
    assert message.hex() == vector["challenge_hex"]
    assert sm2.compute_z(leaf.public_key).hex() == vector["z_hex"]
    assert sm2.compute_e(leaf.public_key, message).hex() == vector["e_hex"]
    token = parse_token((VECTOR / "token.json").read_text(encoding="utf-8"))
    assert token.signature_der.hex() == vector["signature_hex"]
    assert token.certificate_der == leaf.der


def test_vector_token_verifies_and_fails_for_another_origin(vector: dict) -> None:
    root = Certificate.load((VECTOR / "root.pem").read_bytes())
    at = datetime.fromisoformat(vector["verify_at"])
    token = (VECTOR / "token.json").read_text(encoding="utf-8")
    store = MemoryNonceStore()
    store.remember(vector["nonce"])
    login = TokenVerifier(vector["origin"], [root], store, clock=lambda: at).verify(token, vector["nonce"])
    assert login.unit_code == vector["expected"]["unit_code"]
    store.remember(vector["nonce"])
    with pytest.raises(Exception, match="signature"):
        TokenVerifier("https://other.example.cn", [root], store, clock=lambda: at).verify(token, vector["nonce"])


def test_openssl_verifies_the_vector_signature(vector: dict, openssl_bin: str, tmp_path: Path) -> None:
    """An independent implementation (OpenSSL 3, distid = the default SM2 ID) accepts the
    signature over the challenge bytes, as a Java hub would."""
    pub = subprocess.run([openssl_bin, "x509", "-in", str(VECTOR / "leaf.pem"), "-pubkey", "-noout"],
                         capture_output=True, check=True).stdout
    (tmp_path / "pub.pem").write_bytes(pub)
    (tmp_path / "challenge.bin").write_bytes(bytes.fromhex(vector["challenge_hex"]))
    token = json.loads((VECTOR / "token.json").read_text(encoding="utf-8"))
    (tmp_path / "sig.der").write_bytes(base64.b64decode(token["signature"]))

    def verify(message: Path) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([openssl_bin, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                               "-rawin", "-digest", "sm3", "-pkeyopt", f"distid:{vector['sm2_id']}",
                               "-in", str(message), "-sigfile", str(tmp_path / "sig.der")], capture_output=True)

    ok = verify(tmp_path / "challenge.bin")
    assert ok.returncode == 0 and b"Signature Verified Successfully" in ok.stdout
    (tmp_path / "other.bin").write_bytes(challenge("https://other.example.cn", vector["nonce"]))
    assert verify(tmp_path / "other.bin").returncode != 0
