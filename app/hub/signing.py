"""The request ``sign`` parameter (normative text: resources/docs/platform-api.md).

The seed puts a ``sign`` field in every request but does not say what it is. BidSeal
defines it as a self-describing token::

    sign = "v1." ALG "." TIMESTAMP "." NONCE "." SIGNATURE

* ``ALG``: ``HMAC-SM3`` (the caller's secret, per caUnitId), ``SM2`` (the caller's
  registered SM2 certificate) or ``SM2-CERT`` (interfaces 1-2 only: the key of the
  request's own ``signCert``, which proves the sender holds the bidder's key);
* ``TIMESTAMP``: Unix seconds (decimal, no sign, no leading zeros);
* ``NONCE``: 16-64 characters ``[A-Za-z0-9_-]``, never reused within the window;
* ``SIGNATURE``: base64url without padding of the 32-byte HMAC or the DER SM2
  signature (GM/T 0009 default ID ``1234567812345678``).

The timestamp and nonce travel in ``sign`` rather than in ``standBy`` because
interfaces 4 and 10 have no ``standBy``, and ``standBy`` stays free for a platform's
own use. The signed bytes (:func:`canonical_string`) bind the interface path, the
algorithm, the timestamp, the nonce and every other field of the request.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as chmac

from app.gm import sm2
from app.gm.errors import GMError
from app.gm.sm3 import SM3
from app.hub.errors import HubCode, HubError

PREFIX = b"BIDSEAL-API-SIGN-v1"
VERSION = "v1"
HMAC_SM3 = "HMAC-SM3"
SM2 = "SM2"
SM2_CERT = "SM2-CERT"
ALGORITHMS = (HMAC_SM3, SM2, SM2_CERT)
#: a request is accepted when its timestamp is within this many seconds of the hub's clock
WINDOW_SECONDS = 300
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_TS_RE = re.compile(r"^(0|[1-9][0-9]{0,11})$")
_SIG_RE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
MAX_SIGN_LENGTH = 400

#: signs the SM3 digest e = SM3(Z || M) of the canonical string (a UKey's SKF_ECCSignData)
DigestSignFn = Callable[[bytes], bytes]


def _bad_sign(reason: str, zh: str, en: str) -> HubError:
    return HubError(HubCode.BAD_SIGN, reason, zh, en, field="sign")


_BASE64_RE = re.compile(r"[A-Za-z0-9+/=]*")
_SLICE = 1 << 20


def encode_value(value: str) -> str:
    """RFC 3986 percent-encoding of the UTF-8 value (unreserved characters kept).

    Base64 text (certificates, envelopes, PDFs: up to hundreds of MB) takes a fast path
    with the same result: only ``+``, ``/`` and ``=`` need escaping there."""
    if len(value) > 256 and _BASE64_RE.fullmatch(value):
        return value.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return quote(value.encode("utf-8"), safe="-._~")


def canonical_parts(path: str, fields: Mapping[str, Any], alg: str, timestamp: str, nonce: str
                    ) -> Iterator[bytes]:
    """:func:`canonical_string` in pieces, so a 100 MB field is hashed as it is encoded
    (1 MiB slices) instead of being copied whole several times."""
    head = "\n".join([path, alg, timestamp, nonce]).encode("ascii")
    yield PREFIX + b"\n" + head + b"\n"
    for i, name in enumerate(sorted(k for k in fields if k != "sign")):
        value = fields[name]
        if not isinstance(value, str):
            raise TypeError(f"field {name} must be a string")
        yield (b"&" if i else b"") + f"{encode_value(name)}=".encode("ascii")
        for start in range(0, len(value), _SLICE):
            yield encode_value(value[start:start + _SLICE]).encode("ascii")


def canonical_string(path: str, fields: Mapping[str, Any], alg: str, timestamp: str, nonce: str) -> bytes:
    """The bytes that are signed: prefix, path, alg, timestamp, nonce, then every field
    except ``sign``, sorted by name, as ``name=percent-encoded-value`` joined by ``&``.
    A present empty value is ``name=``; an absent optional field is left out."""
    return b"".join(canonical_parts(path, fields, alg, timestamp, nonce))


def _hmac(secret: str, parts: Iterator[bytes]) -> bytes:
    mac = chmac.HMAC(secret.encode("utf-8"), hashes.SM3())
    for part in parts:
        mac.update(part)
    return mac.finalize()


def _sm2_e(public_key: sm2.PublicKey, parts: Iterator[bytes]) -> bytes:
    h = SM3(sm2.compute_z(public_key))
    for part in parts:
        h.update(part)
    return h.digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class SignToken:
    """A parsed ``sign`` value."""

    alg: str
    timestamp: str
    nonce: str
    signature: bytes

    def encode(self) -> str:
        return ".".join([VERSION, self.alg, self.timestamp, self.nonce, _b64(self.signature)])

    @classmethod
    def parse(cls, value: object) -> SignToken:
        if not isinstance(value, str) or not value:
            raise _bad_sign("ERR_HUB_SIGN_MISSING", "请求缺少签名参数 sign。", "The request has no sign parameter.")
        parts = value.split(".")
        if len(value) > MAX_SIGN_LENGTH or len(parts) != 5 or parts[0] != VERSION:
            raise _bad_sign("ERR_HUB_SIGN_FORMAT", "签名参数 sign 格式错误（应为 v1.算法.时间戳.随机数.签名值）。",
                            "The sign parameter is malformed (expected v1.ALG.TIMESTAMP.NONCE.SIGNATURE).")
        _v, alg, ts, nonce, sig = parts
        if alg not in ALGORITHMS:
            raise _bad_sign("ERR_HUB_SIGN_ALG", f"不支持的签名算法：{alg[:20]}。", f"Unsupported sign algorithm: {alg[:20]}.")
        if not _TS_RE.match(ts) or not _NONCE_RE.match(nonce) or not _SIG_RE.match(sig):
            raise _bad_sign("ERR_HUB_SIGN_FORMAT", "签名参数 sign 的时间戳、随机数或签名值格式错误。",
                            "The sign parameter's timestamp, nonce or signature value is malformed.")
        try:
            raw = _unb64(sig)
        except (binascii.Error, ValueError) as exc:
            raise _bad_sign("ERR_HUB_SIGN_FORMAT", "签名参数 sign 的签名值不是有效的 base64url。",
                            "The sign parameter's signature value is not valid base64url.") from exc
        return cls(alg, ts, nonce, raw)

    def check_time(self, now: float | None = None, window: int = WINDOW_SECONDS) -> None:
        now = time.time() if now is None else now
        if abs(int(self.timestamp) - now) > window:
            raise _bad_sign("ERR_HUB_SIGN_EXPIRED",
                            f"请求时间戳超出允许范围（±{window} 秒）：请检查本机时钟后重试。",
                            f"The request timestamp is outside the allowed window (±{window} s): "
                            "check the clock and retry.")


def sign_hmac(path: str, fields: Mapping[str, Any], secret: str, *, timestamp: int | None = None,
              nonce: str | None = None) -> str:
    """The ``sign`` value with HMAC-SM3 under the caller's secret (UTF-8 bytes)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or new_nonce()
    mac = _hmac(secret, canonical_parts(path, fields, HMAC_SM3, ts, nonce))
    return SignToken(HMAC_SM3, ts, nonce, mac).encode()


def sign_sm2(path: str, fields: Mapping[str, Any], public_key: sm2.PublicKey, sign_digest: DigestSignFn, *,
             alg: str = SM2, timestamp: int | None = None, nonce: str | None = None) -> str:
    """The ``sign`` value with SM2: ``sign_digest`` gets e = SM3(Z || canonical string)
    (a UKey session's signer, or a software key) and returns a DER signature."""
    if alg not in (SM2, SM2_CERT):
        raise ValueError(alg)
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or new_nonce()
    e = _sm2_e(public_key, canonical_parts(path, fields, alg, ts, nonce))
    return SignToken(alg, ts, nonce, sign_digest(e)).encode()


def verify(path: str, fields: Mapping[str, Any], token: SignToken, *, secret: str | None = None,
           public_key: sm2.PublicKey | None = None) -> None:
    """Check ``token`` over the request; raises :class:`HubError` (401) when it does not verify.
    The caller supplies the key the token's algorithm names (secret or public key)."""
    parts = canonical_parts(path, fields, token.alg, token.timestamp, token.nonce)
    if token.alg == HMAC_SM3:
        ok = secret is not None and hmac.compare_digest(_hmac(secret, parts), token.signature)
    else:
        try:
            ok = public_key is not None and sm2.verify_digest(public_key, _sm2_e(public_key, parts),
                                                              token.signature)
        except GMError:
            ok = False
    if not ok:
        raise _bad_sign("ERR_HUB_SIGN_INVALID", "签名 sign 验证失败：请求被篡改，或密钥/证书不对。",
                        "The sign parameter does not verify: the request was altered or the key is wrong.")
