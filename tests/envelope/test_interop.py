"""The spec can be followed without BidSeal: OpenSSL opens a recipient's SM2Cipher, and an
independent SM4-GCM (cryptography, used directly) with the spec's KDF, nonce and AAD
decrypts every record and the trailer."""

from __future__ import annotations

import hashlib
import hmac
import struct
import subprocess
from pathlib import Path

import pytest
from asn1crypto import parser
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.envelope import encrypt_file

pytestmark = pytest.mark.interop

MAGIC = b"\x89BSE\r\n\x1a\n"


def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def gm_kdf(z: bytes, klen: int) -> bytes:  # GM/T 0003.4: SM3(Z || ct), ct = 1, 2, ...
    out, ct = b"", 1
    while len(out) < klen:
        out += sm3(z + ct.to_bytes(4, "big"))
        ct += 1
    return out[:klen]


def tlv(der: bytes) -> tuple[int, bytes, bytes]:
    """(tag number, contents, rest) of the first DER element (generic, no schema)."""
    _cls, _method, tag, header, contents, _trailer = parser.parse(der, strict=False)
    return tag, contents, der[len(header) + len(contents):]


def children(contents: bytes) -> list[tuple[int, bytes, bytes]]:
    """(tag, contents, full encoding) of each element inside a constructed value."""
    out = []
    while contents:
        tag, inner, rest = tlv(contents)
        out.append((tag, inner, contents[: len(contents) - len(rest)]))
        contents = rest
    return out


def parse_by_spec(data: bytes) -> dict:
    """Read the file following resources/docs/envelope-format.md only (generic DER)."""
    magic, version, flags, hlen = struct.unpack(">8sHHI", data[:16])
    assert (magic, version, flags) == (MAGIC, 1, 0)
    raw = data[: 16 + hlen]
    _tag, contents, rest = tlv(data[16: 16 + hlen])
    assert rest == b""
    version_, file_id, alg, chunk, size, _meta, recips = children(contents)
    assert int.from_bytes(version_[1], "big") == 1
    assert alg[2] == bytes.fromhex("06082A811CCF55016808")  # 1.2.156.10197.1.104.8
    entries = []
    for _t, entry, _full in children(recips[1]):
        items = children(entry)
        sm2cipher, wrapped = items[-2], items[-1]
        entries.append((sm2cipher[2], wrapped[1]))
    return {
        "raw": raw,
        "file_id": file_id[1],
        "chunk": int.from_bytes(chunk[1], "big"),
        "size": int.from_bytes(size[1], "big"),
        "entries": entries,
        "mac": data[16 + hlen: 16 + hlen + 32],
        "payload": data[16 + hlen + 32:],
    }


def test_openssl_and_independent_gcm_decrypt_the_envelope(pki, make_file, tmp_path, openssl_bin):
    src = make_file(3000)
    env = tmp_path / "bid.env"
    encrypt_file(src, env, [pki.emergency_cert, pki.enc_cert], chunk_size=1024)
    f = parse_by_spec(env.read_bytes())

    key_pem = tmp_path / "enc-key.pem"
    key_pem.write_bytes(pki.enc_key.to_pem())
    sm2cipher, wrapped = f["entries"][1]
    (tmp_path / "sk.der").write_bytes(sm2cipher)
    sk = subprocess.run([openssl_bin, "pkeyutl", "-decrypt", "-inkey", str(key_pem),
                         "-in", str(tmp_path / "sk.der")], check=True, capture_output=True).stdout
    assert len(sk) == 16

    dec = Cipher(algorithms.SM4(sk), modes.ECB()).decryptor()
    w = dec.update(wrapped) + dec.finalize()
    fk, kcv = w[:16], w[16:]
    assert kcv == sm3(b"BidSeal envelope v1 key check" + fk + f["file_id"])[:16]

    okm = gm_kdf(fk + f["file_id"] + b"BidSeal envelope v1 keys", 48)
    kp, km = okm[:16], okm[16:]
    assert hmac.compare_digest(f["mac"], hmac.new(km, f["raw"], "sm3").digest())

    h = sm3(f["raw"])
    chunk, size, payload = f["chunk"], f["size"], f["payload"]
    n = max(1, -(-size // chunk))
    plain, pos = b"", 0
    for i in range(n + 1):
        if i < n:
            length = min(chunk, size - i * chunk)
            kind = 1 if i == n - 1 else 0
        else:
            length, kind = 32, 2
        ct, tag = payload[pos: pos + length], payload[pos + length: pos + length + 16]
        pos += length + 16
        nonce = b"\0" * 4 + i.to_bytes(8, "big")
        d = Cipher(algorithms.SM4(kp), modes.GCM(nonce, tag)).decryptor()
        d.authenticate_additional_data(h + i.to_bytes(8, "big") + bytes([kind]))
        pt = d.update(ct) + d.finalize()
        if i < n:
            plain += pt
        else:
            assert pt == sm3(plain)
    assert pos == len(payload)
    assert plain == src.read_bytes()


def test_test_vector_files_follow_the_spec(openssl_bin, tmp_path):
    """resources/testvectors/envelope-v1 decrypts with OpenSSL + the spec alone."""
    root = Path(__file__).resolve().parents[2] / "resources" / "testvectors" / "envelope-v1"
    if not root.is_dir():
        pytest.skip("test vector not generated")
    f = parse_by_spec((root / "envelope.bse").read_bytes())
    (tmp_path / "sk.der").write_bytes(f["entries"][0][0])
    sk = subprocess.run([openssl_bin, "pkeyutl", "-decrypt", "-inkey", str(root / "enc-key.pem"),
                         "-in", str(tmp_path / "sk.der")], check=True, capture_output=True).stdout
    dec = Cipher(algorithms.SM4(sk), modes.ECB()).decryptor()
    fk = (dec.update(f["entries"][0][1]) + dec.finalize())[:16]
    okm = gm_kdf(fk + f["file_id"] + b"BidSeal envelope v1 keys", 48)
    h = sm3(f["raw"])
    size = f["size"]
    d = Cipher(algorithms.SM4(okm[:16]), modes.GCM(b"\0" * 12, f["payload"][size: size + 16])).decryptor()
    d.authenticate_additional_data(h + bytes(8) + b"\x01")
    pt = d.update(f["payload"][:size]) + d.finalize()
    assert pt == (root / "plaintext.txt").read_bytes()
