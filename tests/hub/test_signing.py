"""The ``sign`` parameter: test vectors, an independent check with the OpenSSL command
line, and the properties the canonical string must have (resources/docs/platform-api.md §3)."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

import pytest

from app.gm import sm2
from app.hub import signing
from app.hub.errors import HubError

VECTORS = Path(__file__).resolve().parents[2] / "resources" / "testvectors" / "platform-sign"


def _vectors() -> list[dict]:
    return json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vec", _vectors(), ids=lambda v: v["name"])
def test_vector_canonical_string_and_sign(vec: dict) -> None:
    canonical = signing.canonical_string(vec["path"], vec["fields"], vec["alg"], vec["timestamp"], vec["nonce"])
    assert canonical.hex() == vec["canonical_hex"] and canonical.decode() == vec["canonical"]
    token = signing.SignToken.parse(vec["sign"])
    assert (token.alg, token.timestamp, token.nonce) == (vec["alg"], vec["timestamp"], vec["nonce"])
    if vec["alg"] == signing.HMAC_SM3:
        assert signing.sign_hmac(vec["path"], vec["fields"], vec["key"]["secret"], timestamp=int(vec["timestamp"]),
                                 nonce=vec["nonce"]) == vec["sign"]
        signing.verify(vec["path"], vec["fields"], token, secret=vec["key"]["secret"])
    else:
        pub = sm2.PublicKey.from_bytes(bytes.fromhex(vec["key"]["public_key_hex"]))
        signing.verify(vec["path"], vec["fields"], token, public_key=pub)
        key = sm2.PrivateKey.from_int(int(vec["key"]["private_key_hex"], 16))
        k = int(vec["key"]["k_hex"], 16)
        again = signing.sign_sm2(vec["path"], vec["fields"], pub,
                                 lambda e: sm2.sign_digest(key, e, k=k, backend="gmssl"), alg=vec["alg"],
                                 timestamp=int(vec["timestamp"]), nonce=vec["nonce"])
        assert again == vec["sign"]


@pytest.mark.interop
def test_vectors_agree_with_openssl(openssl_bin: str, tmp_path: Path) -> None:
    for vec in _vectors():
        data = tmp_path / "canonical.txt"
        data.write_bytes(bytes.fromhex(vec["canonical_hex"]))
        sig = base64.urlsafe_b64decode(vec["sign"].split(".")[4] + "==")
        if vec["alg"] == signing.HMAC_SM3:
            key_hex = vec["key"]["secret"].encode("utf-8").hex()
            out = subprocess.run([openssl_bin, "mac", "-digest", "SM3", "-macopt", f"hexkey:{key_hex}",
                                  "-in", str(data), "HMAC"], capture_output=True, text=True, check=True).stdout
            assert out.strip().lower() == sig.hex()
        else:
            pub = sm2.PublicKey.from_bytes(bytes.fromhex(vec["key"]["public_key_hex"]))
            (tmp_path / "pub.pem").write_bytes(pub.to_pem())
            (tmp_path / "sig.der").write_bytes(sig)
            proc = subprocess.run([openssl_bin, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                                   "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
                                   "-in", str(data), "-sigfile", str(tmp_path / "sig.der")],
                                  capture_output=True, text=True)
            assert proc.returncode == 0 and "Success" in proc.stdout, proc.stdout + proc.stderr


FIELDS = {"caUnitId": "C1", "taskId": "T1", "orgcode": "O1"}
PATH = "/api/ca/startCheck"


def test_absent_and_empty_differ_and_order_does_not_matter() -> None:
    a = signing.canonical_string(PATH, FIELDS, "HMAC-SM3", "1", "n" * 16)
    b = signing.canonical_string(PATH, FIELDS | {"standBy": ""}, "HMAC-SM3", "1", "n" * 16)
    c = signing.canonical_string(PATH, dict(reversed(list(FIELDS.items()))), "HMAC-SM3", "1", "n" * 16)
    assert a != b and a == c
    # a value cannot smuggle in another field
    d = signing.canonical_string(PATH, {"caUnitId": "C1&orgcode=O1", "taskId": "T1"}, "HMAC-SM3", "1", "n" * 16)
    e = signing.canonical_string(PATH, {"caUnitId": "C1", "orgcode": "O1", "taskId": "T1"}, "HMAC-SM3", "1", "n" * 16)
    assert d != e


@pytest.mark.parametrize("change", [
    {"taskId": "T2"}, {"standBy": "x"}, {"caUnitId": "C1 "}, {"orgcode": "Ｏ1"},
])
def test_any_change_breaks_the_signature(change: dict) -> None:
    sign = signing.sign_hmac(PATH, FIELDS, "s3cret")
    token = signing.SignToken.parse(sign)
    signing.verify(PATH, FIELDS, token, secret="s3cret")
    with pytest.raises(HubError) as exc:
        signing.verify(PATH, FIELDS | change, token, secret="s3cret")
    assert exc.value.status == 401
    with pytest.raises(HubError):
        signing.verify("/api/ca/startdecrypt", FIELDS, token, secret="s3cret")
    with pytest.raises(HubError):
        signing.verify(PATH, FIELDS, token, secret="s3cret2")


@pytest.mark.parametrize("bad", ["", "v1", "v2.HMAC-SM3.1.nnnnnnnnnnnnnnnn.AAAA", "v1.MD5.1.nnnnnnnnnnnnnnnn.AAAA",
                                 "v1.HMAC-SM3.01.nnnnnnnnnnnnnnnn.AAAA", "v1.HMAC-SM3.1.short.AAAA",
                                 "v1.HMAC-SM3.1.nnnnnnnnnnnnnnnn.AA+A", "v1.HMAC-SM3.-1.nnnnnnnnnnnnnnnn.AAAA",
                                 "v1.HMAC-SM3.1.nnnnnnnnnnnnnnnn.AAAA.extra", "v1.HMAC-SM3.1.nnnnnnnnnnnnnnnn.AAAAA", "x" * 500, 5, None])
def test_malformed_sign_values(bad: object) -> None:
    with pytest.raises(HubError) as exc:
        signing.SignToken.parse(bad)
    assert exc.value.status == 401 and exc.value.code.startswith("ERR_HUB_SIGN")


def test_time_window() -> None:
    now = time.time()
    ok = signing.SignToken.parse(signing.sign_hmac(PATH, FIELDS, "s", timestamp=int(now) - 200))
    ok.check_time(now)
    old = signing.SignToken.parse(signing.sign_hmac(PATH, FIELDS, "s", timestamp=int(now) - 400))
    with pytest.raises(HubError):
        old.check_time(now)
    future = signing.SignToken.parse(signing.sign_hmac(PATH, FIELDS, "s", timestamp=int(now) + 400))
    with pytest.raises(HubError):
        future.check_time(now)


def test_sm2_sign_by_another_key_fails() -> None:
    key, other = sm2.PrivateKey.generate(), sm2.PrivateKey.generate()
    sign = signing.sign_sm2(PATH, FIELDS, key.public_key, lambda e: sm2.sign_digest(key, e))
    token = signing.SignToken.parse(sign)
    signing.verify(PATH, FIELDS, token, public_key=key.public_key)
    with pytest.raises(HubError):
        signing.verify(PATH, FIELDS, token, public_key=other.public_key)
    # an SM2 token is never checked as an HMAC one and vice versa
    with pytest.raises(HubError):
        signing.verify(PATH, FIELDS, signing.SignToken("HMAC-SM3", token.timestamp, token.nonce, token.signature),
                       secret="x")


def test_base64_fast_path_equals_percent_encoding() -> None:
    import os
    from urllib.parse import quote

    for n in (300, 3000, 100_000):
        text = base64.b64encode(os.urandom(n)).decode()
        assert signing.encode_value(text) == quote(text.encode(), safe="-._~")
    mixed = "A" * 300 + "中文 &="
    assert signing.encode_value(mixed) == quote(mixed.encode(), safe="-._~")
