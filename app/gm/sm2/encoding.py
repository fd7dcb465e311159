"""SM2 wire encodings: DER signatures, the three ciphertext layouts, and SKF blobs.

SKF (GM/T 0016) puts every 256-bit value right-aligned in a 64-byte field (32 zero
bytes, then the big-endian value, no 0x04 prefix); the helpers here are the only
place that knows this layout so that the token layer and the envelope agree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from asn1crypto import core

from app.gm.errors import GMError
from app.gm.sm2.curve import FIELD_BYTES, N, check_point, to_bytes32

SKF_FIELD = 64
SKF_SIGNATURE_BLOB_SIZE = 2 * SKF_FIELD
SKF_PUBLIC_KEY_BLOB_SIZE = 4 + 2 * SKF_FIELD
SKF_CIPHER_HEADER_SIZE = 2 * SKF_FIELD + 32 + 4  # X, Y, HASH, CipherLen; Cipher follows


class _SM2Signature(core.Sequence):
    _fields = [("r", core.Integer), ("s", core.Integer)]


class _SM2Cipher(core.Sequence):
    """GM/T 0009 SM2Cipher: XCoordinate, YCoordinate, HASH (C3), CipherText (C2)."""

    _fields = [
        ("x", core.Integer),
        ("y", core.Integer),
        ("hash", core.OctetString),
        ("ciphertext", core.OctetString),
    ]


SM2CipherASN1 = _SM2Cipher
"""The GM/T 0009 SM2Cipher ASN.1 type, for embedding in other structures (the envelope header)."""


def _bad(zh: str, en: str, **details: Any) -> GMError:
    return GMError(zh, en, **details)


# -- signatures -----------------------------------------------------------------


def signature_to_der(r: int, s: int) -> bytes:
    """DER ``SEQUENCE { r INTEGER, s INTEGER }`` (at most 72 bytes)."""
    return bytes(_SM2Signature({"r": r, "s": s}).dump())


def signature_from_der(der: bytes) -> tuple[int, int]:
    """Parse a DER SM2 signature strictly (no trailing bytes, r and s in [1, n-1])."""
    try:
        sig = _SM2Signature.load(der, strict=True)
        r, s = int(sig["r"].native), int(sig["s"].native)
    except (ValueError, TypeError, KeyError) as exc:
        raise _bad("SM2 签名格式错误（DER 无法解析）。", "Malformed SM2 signature (bad DER).") from exc
    if sig.dump() != der:
        raise _bad("SM2 签名不是规范 DER 编码。", "SM2 signature is not canonical DER.")
    if not (1 <= r < N and 1 <= s < N):
        raise _bad("SM2 签名值超出范围。", "SM2 signature values are out of range.")
    return r, s


def signature_to_skf_blob(r: int, s: int) -> bytes:
    """ECCSIGNATUREBLOB: r and s, each right-aligned in 64 bytes."""
    return to_bytes32(r).rjust(SKF_FIELD, b"\0") + to_bytes32(s).rjust(SKF_FIELD, b"\0")


def _field_from_skf(field: bytes, what: str) -> int:
    if len(field) != SKF_FIELD:
        raise _bad(f"SKF {what} 字段长度错误。", f"SKF {what} field has the wrong length.")
    if any(field[:SKF_FIELD - FIELD_BYTES]):
        raise _bad(
            f"SKF {what} 字段高位不为零（不是右对齐的 256 位数值）。",
            f"SKF {what} field is not a right-aligned 256-bit value.",
        )
    return int.from_bytes(field[SKF_FIELD - FIELD_BYTES:], "big")


def signature_from_skf_blob(blob: bytes) -> tuple[int, int]:
    """Inverse of :func:`signature_to_skf_blob`, as returned by SKF_ECCSignData."""
    if len(blob) != SKF_SIGNATURE_BLOB_SIZE:
        raise _bad("SKF 签名数据长度错误。", "SKF signature blob has the wrong length.", length=len(blob))
    return _field_from_skf(blob[:SKF_FIELD], "r"), _field_from_skf(blob[SKF_FIELD:], "s")


# -- public keys in SKF form -------------------------------------------------------


def public_key_to_skf_blob(x: int, y: int) -> bytes:
    """ECCPUBLICKEYBLOB: BitLen=256 (little-endian ULONG), X and Y right-aligned."""
    return (256).to_bytes(4, "little") + to_bytes32(x).rjust(SKF_FIELD, b"\0") + to_bytes32(y).rjust(
        SKF_FIELD, b"\0"
    )


def public_key_from_skf_blob(blob: bytes) -> tuple[int, int]:
    if len(blob) != SKF_PUBLIC_KEY_BLOB_SIZE:
        raise _bad("SKF 公钥数据长度错误。", "SKF public key blob has the wrong length.", length=len(blob))
    bits = int.from_bytes(blob[:4], "little")
    if bits != 256:
        raise _bad("SKF 公钥位长不是 256。", "SKF public key BitLen is not 256.", bits=bits)
    x = _field_from_skf(blob[4:4 + SKF_FIELD], "X")
    y = _field_from_skf(blob[4 + SKF_FIELD:], "Y")
    check_point(x, y)
    return x, y


# -- ciphertexts -----------------------------------------------------------------


class CipherFormat(enum.Enum):
    """SM2 ciphertext layouts. Agree the format with the peer; never guess."""

    C1C3C2 = "c1c3c2"  # 04||x1||y1||C3||C2, GM/T 0003-2012 current order
    C1C2C3 = "c1c2c3"  # 04||x1||y1||C2||C3, the legacy order
    ASN1 = "asn1"  # GM/T 0009 SM2Cipher DER (CMS, OpenSSL)


@dataclass(frozen=True)
class SM2Ciphertext:
    """The parts of an SM2 ciphertext: C1 = (x1, y1), C3 = SM3(x2||M||y2), C2 = M xor KDF."""

    x1: int
    y1: int
    c3: bytes
    c2: bytes

    def encode(self, fmt: CipherFormat = CipherFormat.C1C3C2) -> bytes:
        if fmt is CipherFormat.ASN1:
            return bytes(
                _SM2Cipher({"x": self.x1, "y": self.y1, "hash": self.c3, "ciphertext": self.c2}).dump()
            )
        c1 = b"\x04" + to_bytes32(self.x1) + to_bytes32(self.y1)
        if fmt is CipherFormat.C1C3C2:
            return c1 + self.c3 + self.c2
        return c1 + self.c2 + self.c3

    @classmethod
    def decode(cls, data: bytes, fmt: CipherFormat = CipherFormat.C1C3C2) -> SM2Ciphertext:
        if fmt is CipherFormat.ASN1:
            try:
                c = _SM2Cipher.load(data, strict=True)
                x1, y1 = int(c["x"].native), int(c["y"].native)
                c3, c2 = bytes(c["hash"].native), bytes(c["ciphertext"].native)
            except (ValueError, TypeError, KeyError) as exc:
                raise _bad("SM2 密文格式错误（DER 无法解析）。", "Malformed SM2 ciphertext (bad DER).") from exc
        else:
            if len(data) < 1 + 64 + 32 + 1 or data[0] != 0x04:
                raise _bad(
                    "SM2 密文过短或格式不对，可能被截断。",
                    "SM2 ciphertext is too short or malformed; it may be truncated.",
                    length=len(data),
                )
            x1 = int.from_bytes(data[1:33], "big")
            y1 = int.from_bytes(data[33:65], "big")
            rest = data[65:]
            if fmt is CipherFormat.C1C3C2:
                c3, c2 = rest[:32], rest[32:]
            else:
                c2, c3 = rest[:-32], rest[-32:]
        ct = cls(x1, y1, c3, c2)
        ct.validate()
        return ct

    def validate(self) -> None:
        if len(self.c3) != 32:
            raise _bad("SM2 密文的杂凑值长度错误。", "SM2 ciphertext hash (C3) has the wrong length.")
        if not self.c2:
            raise _bad("SM2 密文不含数据。", "SM2 ciphertext carries no data.")
        check_point(self.x1, self.y1)

    def to_skf_blob(self) -> bytes:
        """ECCCIPHERBLOB bytes: X, Y right-aligned, HASH = C3, CipherLen (LE ULONG), Cipher = C2."""
        return (
            to_bytes32(self.x1).rjust(SKF_FIELD, b"\0")
            + to_bytes32(self.y1).rjust(SKF_FIELD, b"\0")
            + self.c3
            + len(self.c2).to_bytes(4, "little")
            + self.c2
        )

    @classmethod
    def from_skf_blob(cls, blob: bytes) -> SM2Ciphertext:
        if len(blob) < SKF_CIPHER_HEADER_SIZE + 1:
            raise _bad("SKF 密文数据过短。", "SKF cipher blob is too short.", length=len(blob))
        x1 = _field_from_skf(blob[:SKF_FIELD], "X")
        y1 = _field_from_skf(blob[SKF_FIELD:2 * SKF_FIELD], "Y")
        c3 = blob[128:160]
        n = int.from_bytes(blob[160:164], "little")
        if n == 0 or len(blob) < SKF_CIPHER_HEADER_SIZE + n:
            raise _bad("SKF 密文长度字段与数据不符。", "SKF cipher blob length field does not match.", cipher_len=n)
        ct = cls(x1, y1, c3, blob[164:164 + n])
        ct.validate()
        return ct
