"""The hub's side of login: check a token against the nonce it issued and its own origin.

::

    verifier = TokenVerifier(origin="https://hub.example.cn", roots=[root], nonces=store,
                             crl_files=["ca.crl"])
    login = verifier.verify(token_json, nonce)      # VerifiedLogin, or AuthTokenError

Checks, in this order (spec §5): token format; the nonce is consumed (single use, TTL,
so even a failed attempt burns it); the certificate parses, is SM2, is an end-entity
signing certificate (keyUsage digitalSignature, not a CA); the SM2 signature verifies
over the challenge rebuilt from the **configured** origin and the nonce (so a token made
for another origin, another nonce or by another key fails here); the certificate chains
to a configured root, every certificate of the path is valid now, and no CRL lists it
(CRL files are re-read when they change; an out-of-date or badly signed CRL fails
closed).

Speed: chain results are cached per certificate and CRL generation until the earliest
``notAfter`` of the path (or 10 minutes), so a returning bidder costs one certificate
lookup and one SM2 verification. Measured in ``tests/benchmarks/bench_helper.py``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.authtoken.challenge import challenge, is_valid_nonce
from app.authtoken.errors import AuthTokenError
from app.authtoken.nonces import NonceStore
from app.authtoken.origin import OriginError, parse_origin
from app.authtoken.token import AuthToken, parse_token
from app.gm import sm2
from app.gm.errors import GMError
from app.gm.x509 import Certificate, Crl, verify_chain

CHAIN_CACHE_SECONDS = 600
CHAIN_CACHE_SIZE = 4096


@dataclass(frozen=True)
class VerifiedLogin:
    """Who logged in: the verified signing certificate and the facts a hub matches
    against interface 1 data (unit, unified social credit code, serial)."""

    certificate: Certificate
    origin: str
    app_version: str
    chain: tuple[Certificate, ...] = field(default=(), repr=False)

    @property
    def serial_hex(self) -> str:
        return self.certificate.serial_hex

    @property
    def unit_name(self) -> str | None:
        return self.certificate.unit_name

    @property
    def unit_code(self) -> str | None:
        return self.certificate.unit_code

    @property
    def common_name(self) -> str | None:
        return self.certificate.common_name

    def to_dict(self) -> dict[str, Any]:
        c = self.certificate
        return {"origin": self.origin, "serial": c.serial_hex, "unit_name": c.unit_name,
                "unit_code": c.unit_code, "common_name": c.common_name,
                "subject": c.subject.rfc4514(), "issuer": c.issuer.rfc4514(),
                "not_after": c.not_after.isoformat(), "fingerprint_sm3": c.fingerprint_sm3,
                "app_version": self.app_version}


def _error(code: str, zh: str, en: str, **details: Any) -> AuthTokenError:
    return AuthTokenError(code, zh, en, **details)


_CHAIN_CODES = {
    "REVOKED": ("ERR_AUTH_CERT_REVOKED", "登录证书已被吊销。", "The login certificate has been revoked."),
    "EXPIRED": ("ERR_AUTH_CERT_EXPIRED", "登录证书（或其 CA 证书）已过期。",
                "The login certificate (or a CA certificate of its chain) has expired."),
    "NOT_YET_VALID": ("ERR_AUTH_CERT_EXPIRED", "登录证书（或其 CA 证书）尚未生效。",
                      "The login certificate (or a CA certificate of its chain) is not valid yet."),
    "CRL_EXPIRED": ("ERR_AUTH_REVOCATION_UNKNOWN", "吊销列表已过期，无法确认证书未被吊销。",
                    "The revocation list is out of date, so revocation cannot be ruled out."),
    "CRL_BAD_SIGNATURE": ("ERR_AUTH_REVOCATION_UNKNOWN", "吊销列表签名无效，无法确认证书未被吊销。",
                          "A revocation list has a bad signature, so revocation cannot be ruled out."),
}
_UNTRUSTED = ("ERR_AUTH_CERT_UNTRUSTED", "登录证书不是由受信任的 CA 签发的。",
              "The login certificate was not issued by a trusted CA.")


@dataclass
class _CrlFile:
    path: Path
    stamp: tuple[int, int] | None = None
    crl: Crl | None = None


@dataclass(frozen=True)
class _ChainVerdict:
    problems: tuple[str, ...]
    path: tuple[Certificate, ...]
    not_before: datetime
    not_after: datetime
    cached_until: datetime


class TokenVerifier:
    """Verifies login tokens for one hub origin (thread-safe)."""

    def __init__(
        self,
        origin: str,
        roots: Sequence[Certificate],
        nonces: NonceStore,
        *,
        intermediates: Sequence[Certificate] = (),
        crls: Sequence[Crl] = (),
        crl_files: Sequence[str | os.PathLike[str]] = (),
        allow_http: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        try:
            parse_origin(origin, allow_http=allow_http)
        except OriginError as exc:
            raise ValueError(f"the verifier's origin is not a canonical origin: {exc}") from exc
        if not roots:
            raise ValueError("at least one trusted root certificate is needed")
        self.origin = origin
        self.allow_http = allow_http
        self.roots = tuple(roots)
        self.intermediates = tuple(intermediates)
        self.nonces = nonces
        self._static_crls = tuple(crls)
        self._crl_files = [_CrlFile(Path(p)) for p in crl_files]
        self._clock = clock
        self._lock = threading.Lock()
        self._certs: dict[bytes, Certificate] = {}
        self._chains: dict[tuple[bytes, int], _ChainVerdict] = {}
        self._crl_generation = 0

    # -- public -----------------------------------------------------------------------
    def verify(self, token: str | bytes | dict[str, Any] | AuthToken, nonce: str) -> VerifiedLogin:
        """Check ``token`` for the nonce this hub issued; raises :class:`AuthTokenError`."""
        parsed = token if isinstance(token, AuthToken) else parse_token(token)
        if not is_valid_nonce(nonce):
            raise _error("ERR_AUTH_NONCE", "登录随机数格式不正确。", "The login nonce is malformed.")
        if not self.nonces.consume(nonce):
            raise _error("ERR_AUTH_NONCE", "登录随机数无效、已使用或已过期，请刷新登录页面重试。",
                         "The login nonce is unknown, already used or expired; reload the login page "
                         "and try again.")
        cert = self._certificate(parsed.certificate_der)
        self._check_usage(cert)
        self._check_signature(cert, parsed.signature_der, nonce)
        now = self._clock()
        verdict = self._chain(cert, now)
        if verdict.problems:
            code, zh, en = next((_CHAIN_CODES[p] for p in verdict.problems if p in _CHAIN_CODES), _UNTRUSTED)
            raise _error(code, zh, en, problems=list(verdict.problems), serial=cert.serial_hex)
        return VerifiedLogin(certificate=cert, origin=self.origin, app_version=parsed.app_version,
                             chain=verdict.path)

    # -- steps ------------------------------------------------------------------------
    def _certificate(self, der: bytes) -> Certificate:
        cert = self._certs.get(der)
        if cert is not None:
            return cert
        try:
            cert = Certificate.from_der(der)
            cert.public_key  # noqa: B018 - SM2 or refuse
        except GMError as exc:
            raise _error("ERR_AUTH_CERT_INVALID", "登录令牌中的证书无法读取或不是 SM2 证书。",
                         "The certificate in the login token cannot be read or is not an SM2 "
                         "certificate.", cause=exc.code) from exc
        with self._lock:
            if len(self._certs) >= CHAIN_CACHE_SIZE:
                self._certs.clear()
            self._certs[der] = cert
        return cert

    @staticmethod
    def _check_usage(cert: Certificate) -> None:
        if cert.is_ca or not cert.has_key_usage or "digital_signature" not in cert.key_usage:
            raise _error("ERR_AUTH_KEY_USAGE", "该证书不能用于登录（需要带数字签名用途的签名证书）。",
                         "This certificate cannot be used to log in (a signing certificate with the "
                         "digitalSignature key usage is required).", serial=cert.serial_hex)

    def _check_signature(self, cert: Certificate, signature: bytes, nonce: str) -> None:
        message = challenge(self.origin, nonce, allow_http=self.allow_http)
        try:
            ok = sm2.verify(cert.public_key, message, signature)
        except GMError:
            ok = False
        if not ok:
            raise _error("ERR_AUTH_SIGNATURE", "登录签名验证失败（签名不属于本网站的这次登录）。",
                         "The login signature does not verify for this site and this login attempt.",
                         serial=cert.serial_hex)

    def _crls(self) -> tuple[list[Crl], int]:
        with self._lock:
            for f in self._crl_files:
                try:
                    st = f.path.stat()
                    stamp = (st.st_mtime_ns, st.st_size)
                    if stamp != f.stamp:
                        f.crl = Crl.load(f.path.read_bytes())
                        f.stamp = stamp
                        self._crl_generation += 1
                except (OSError, GMError) as exc:
                    f.crl, f.stamp = None, None
                    raise _error("ERR_AUTH_REVOCATION_UNKNOWN", "无法读取吊销列表文件，无法确认证书未被吊销。",
                                 "A revocation list file cannot be read, so revocation cannot be ruled "
                                 "out.", path=str(f.path)) from exc
            crls = list(self._static_crls) + [f.crl for f in self._crl_files if f.crl is not None]
            return crls, self._crl_generation

    def _chain(self, cert: Certificate, now: datetime) -> _ChainVerdict:
        crls, generation = self._crls()
        key = (cert.der, generation)
        verdict = self._chains.get(key)
        if verdict is not None and verdict.not_before <= now <= min(verdict.not_after, verdict.cached_until):
            return verdict
        result = verify_chain(cert, self.roots, self.intermediates, at=now, crls=crls)
        path = tuple(result.path)
        verdict = _ChainVerdict(
            problems=tuple(result.problems), path=path,
            not_before=max(c.not_before for c in path), not_after=min(c.not_after for c in path),
            cached_until=now + timedelta(seconds=CHAIN_CACHE_SECONDS),
        )
        with self._lock:
            if len(self._chains) >= CHAIN_CACHE_SIZE:
                self._chains.clear()
            self._chains[key] = verdict
        return verdict
