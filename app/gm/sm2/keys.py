"""SM2 key objects and their codecs (raw, SKF blob, DER, PEM).

Keys are plain values: a :class:`PublicKey` is a validated curve point, a
:class:`PrivateKey` a scalar with its public point. Software private keys exist
for the demo PKI, tests and the CA side; a bidder's real keys stay in the UKey.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem

from app.gm.errors import GMError
from app.gm.sm2.curve import CURVE_OID, A, B, N, P, check_point, check_scalar, to_bytes32
from app.gm.sm2.encoding import public_key_from_skf_blob, public_key_to_skf_blob


def _pem_decode(data: bytes, what: str) -> tuple[str, bytes]:
    if not asn1_pem.detect(data):
        return "", data
    try:
        kind, _headers, der = asn1_pem.unarmor(data)
    except ValueError as exc:
        raise GMError(f"{what} PEM 格式错误。", f"Malformed {what} PEM.") from exc
    return str(kind), bytes(der)


@dataclass(frozen=True)
class PublicKey:
    """An SM2 public point (validated on construction)."""

    x: int
    y: int

    def __post_init__(self) -> None:
        check_point(self.x, self.y)

    @property
    def point(self) -> tuple[int, int]:
        return self.x, self.y

    # raw -------------------------------------------------------------------------
    @classmethod
    def from_bytes(cls, data: bytes) -> PublicKey:
        """Accept 04||X||Y (65), X||Y (64) or compressed 02/03||X (33)."""
        if len(data) == 65 and data[0] == 4:
            data = data[1:]
        if len(data) == 64:
            return cls(int.from_bytes(data[:32], "big"), int.from_bytes(data[32:], "big"))
        if len(data) == 33 and data[0] in (2, 3):
            x = int.from_bytes(data[1:], "big")
            if x >= P:
                raise GMError("SM2 公钥无效。", "Invalid SM2 public key.")
            rhs = (x * x * x + A * x + B) % P
            y = pow(rhs, (P + 1) // 4, P)  # p ≡ 3 (mod 4)
            if (y * y) % P != rhs:
                raise GMError("SM2 公钥无效：该点不在 SM2 曲线上。", "Invalid SM2 public key: not on the curve.")
            if (y & 1) != (data[0] & 1):
                y = P - y
            return cls(x, y)
        raise GMError(
            f"SM2 公钥长度错误（{len(data)} 字节）。",
            f"SM2 public key has the wrong length ({len(data)} bytes).",
            length=len(data),
        )

    def to_bytes(self) -> bytes:
        """Uncompressed 04||X||Y (the GM/T 0009 BIT STRING content)."""
        return b"\x04" + to_bytes32(self.x) + to_bytes32(self.y)

    # SKF -------------------------------------------------------------------------
    @classmethod
    def from_skf_blob(cls, blob: bytes) -> PublicKey:
        return cls(*public_key_from_skf_blob(blob))

    def to_skf_blob(self) -> bytes:
        return public_key_to_skf_blob(self.x, self.y)

    # DER / PEM ---------------------------------------------------------------------
    def to_asn1(self) -> asn1_keys.PublicKeyInfo:
        return asn1_keys.PublicKeyInfo({
            "algorithm": {"algorithm": "ec", "parameters": asn1_keys.ECDomainParameters(name="named", value=CURVE_OID)},
            "public_key": self.to_bytes(),
        })

    def to_der(self) -> bytes:
        return bytes(self.to_asn1().dump())

    def to_pem(self) -> bytes:
        return bytes(asn1_pem.armor("PUBLIC KEY", self.to_der()))

    @classmethod
    def from_asn1(cls, info: asn1_keys.PublicKeyInfo) -> PublicKey:
        try:
            algo = info["algorithm"]
            if algo["algorithm"].dotted != "1.2.840.10045.2.1":
                raise GMError("不是 SM2/椭圆曲线公钥。", "Not an SM2/EC public key.")
            params = algo["parameters"]
            if params.name != "named" or params.chosen.dotted != CURVE_OID:
                raise GMError("公钥不在 SM2 曲线上（曲线标识不符）。", "The public key is not on the SM2 curve.")
            raw = bytes(info["public_key"].native)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise GMError("SM2 公钥格式错误。", "Malformed SM2 public key.") from exc
        return cls.from_bytes(raw)

    @classmethod
    def from_der(cls, der: bytes) -> PublicKey:
        try:
            info = asn1_keys.PublicKeyInfo.load(der, strict=True)
            info.native  # noqa: B018 - force a full parse now
        except ValueError as exc:
            raise GMError("SM2 公钥格式错误（DER 无法解析）。", "Malformed SM2 public key (bad DER).") from exc
        return cls.from_asn1(info)

    @classmethod
    def from_pem(cls, data: bytes) -> PublicKey:
        _kind, der = _pem_decode(data, "公钥/public key")
        return cls.from_der(der)


@dataclass(frozen=True, repr=False)
class PrivateKey:
    """An SM2 private scalar with its public key. ``repr`` never shows ``d``."""

    d: int
    public_key: PublicKey = field(compare=False)

    def __repr__(self) -> str:
        return f"PrivateKey(public={self.public_key.to_bytes().hex()[:18]}…)"

    @classmethod
    def from_int(cls, d: int) -> PrivateKey:
        from app.gm.sm2 import get_backend

        check_scalar(d)
        return cls(d, PublicKey(*get_backend(secret=True).public_point(d)))

    @classmethod
    def generate(cls) -> PrivateKey:
        """A fresh key from the OS CSPRNG (``secrets``)."""
        return cls.from_int(secrets.randbelow(N - 2) + 1)

    @classmethod
    def from_bytes(cls, data: bytes) -> PrivateKey:
        if len(data) != 32:
            raise GMError("SM2 私钥应为 32 字节。", "An SM2 private key must be 32 bytes.", length=len(data))
        return cls.from_int(int.from_bytes(data, "big"))

    def to_bytes(self) -> bytes:
        return to_bytes32(self.d)

    def to_der(self) -> bytes:
        """PKCS#8 PrivateKeyInfo (id-ecPublicKey, SM2 curve), with the public key inside."""
        info = asn1_keys.PrivateKeyInfo({
            "version": 0,
            "private_key_algorithm": {
                "algorithm": "ec",
                "parameters": asn1_keys.ECDomainParameters(name="named", value=CURVE_OID),
            },
            "private_key": asn1_keys.ECPrivateKey({
                "version": "ecPrivkeyVer1",
                "private_key": self.d,
                "parameters": asn1_keys.ECDomainParameters(name="named", value=CURVE_OID),
                "public_key": self.public_key.to_bytes(),
            }),
        })
        return bytes(info.dump())

    def to_pem(self) -> bytes:
        return bytes(asn1_pem.armor("PRIVATE KEY", self.to_der()))

    @classmethod
    def from_der(cls, der: bytes) -> PrivateKey:
        """Accept PKCS#8 PrivateKeyInfo or SEC1 ECPrivateKey on the SM2 curve."""
        try:
            try:
                info = asn1_keys.PrivateKeyInfo.load(der, strict=True)
                if info["private_key_algorithm"]["algorithm"].native != "ec":
                    raise GMError("不是 SM2/椭圆曲线私钥。", "Not an SM2/EC private key.")
                params = info["private_key_algorithm"]["parameters"]
                ec = info["private_key"].parsed
            except ValueError:
                ec = asn1_keys.ECPrivateKey.load(der, strict=True)
                params = ec["parameters"]
            if params.native is not None and params.chosen.dotted != CURVE_OID:
                raise GMError("私钥不在 SM2 曲线上。", "The private key is not on the SM2 curve.")
            d = int(ec["private_key"].native)
            embedded = ec["public_key"].native  # parsed lazily: a damaged one raises here
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise GMError("SM2 私钥格式错误（DER 无法解析）。", "Malformed SM2 private key (bad DER).") from exc
        key = cls.from_int(d)
        if embedded and PublicKey.from_bytes(bytes(embedded)) != key.public_key:
            raise GMError("私钥与其中携带的公钥不匹配。", "The private key does not match its embedded public key.")
        return key

    @classmethod
    def from_pem(cls, data: bytes) -> PrivateKey:
        _kind, der = _pem_decode(data, "私钥/private key")
        return cls.from_der(der)
