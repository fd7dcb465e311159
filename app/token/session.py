"""Logged-in use of an identity: the signer and unwrapper the document engines need.

::

    with open_session(identity, pin) as session:
        der = session.signer.sign_digest(e)                  # SKF_ECCSignData
        key_block = session.unwrapper.unwrap(wrapped, data)  # SKF_ImportSessionKey + SKF_Decrypt

Opening logs in (``SKF_VerifyPIN``); leaving the ``with`` block calls
``SKF_ClearSecureState`` and closes every handle, even after errors. The PIN is
passed to the token host once and not kept (a bytearray copy is wiped; the
caller's own str cannot be wiped by Python). All calls of a session run in the
host that owns the identity's device.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from app.gm import sm2, sm4
from app.gm.x509 import Certificate
from app.sensitive import wipe
from app.token.device import PinLike, close_quietly, pin_bytes
from app.token.errors import CertificateNotFound, TokenError, TokenUsageError
from app.token.host_client import HostPool, TokenHost, get_pool
from app.token.identity import Identity
from app.token.skf_ffi import SGD_SMS4_ECB, USER_TYPE


class Session:
    """A logged-in container. Use :func:`open_session`."""

    def __init__(self, identity: Identity, pin: PinLike, *, pool: HostPool | None = None) -> None:
        self.identity = identity
        self.host: TokenHost = (pool or get_pool()).get(identity.library, identity.device)
        self._hdev: str | None = None
        self._happ: str | None = None
        self._hcon: str | None = None
        self.closed = False
        secret = pin_bytes(pin)
        try:
            self._hdev = self.host.call("connect_dev", identity.device)
            self._happ = self.host.call("open_application", self._hdev, identity.application)
            self.host.call("verify_pin", self._happ, USER_TYPE, secret)
            self._hcon = self.host.call("open_container", self._happ, identity.container)
        except BaseException:
            self.close()
            raise
        finally:
            wipe(secret)
        self.signer = TokenSigner(self)
        self.unwrapper = TokenUnwrapper(self)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"Session({self.identity.device}/{self.identity.container}, {state})"

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Log out and close every handle (never raises)."""
        if self.closed:
            return
        self.closed = True
        if self._happ is not None and self.host.generation and self._happ.startswith(self.host.generation + ":"):
            with suppress(TokenError):
                self.host.call("clear_secure_state", self._happ)
        for hid in (self._hcon, self._happ, self._hdev):
            close_quietly(self.host, hid)
        self._hcon = self._happ = self._hdev = None

    def call(self, op: str, *args: Any) -> Any:
        if self.closed or self._hcon is None:
            raise _session_ended()
        return self.host.call(op, *args)

    @property
    def container_handle(self) -> str:
        if self._hcon is None:
            raise _session_ended()
        return self._hcon


def _session_ended() -> TokenUsageError:
    return TokenUsageError("UKey 会话已结束，请重新输入口令。", "The UKey session has ended; enter the PIN again.")


_NO_SIGN_CERT = ("该 UKey 容器中没有签名证书。", "This UKey container has no signing certificate.")
_NO_ENC_CERT = ("该 UKey 容器中没有加密证书，无法解密。",
                "This UKey container has no encryption certificate, so it cannot decrypt.")


def _required(cert: Certificate | None, identity: Identity, missing: tuple[str, str]) -> Certificate:
    """``cert``, or :class:`CertificateNotFound` with the ``missing`` sentences."""
    if cert is None:
        raise CertificateNotFound(*missing, container=identity.container)
    return cert


class _SessionKey:
    """A key of a logged-in session's container, used through the session."""

    def __init__(self, session: Session) -> None:
        self._session = session


class TokenSigner(_SessionKey):
    """:class:`app.gm.keyops.DigestSigner` backed by ``SKF_ECCSignData``."""

    @property
    def certificate(self) -> Certificate:
        identity = self._session.identity
        return _required(identity.sign_certificate, identity, _NO_SIGN_CERT)

    def sign_digest(self, e: bytes) -> bytes:
        """DER SM2 signature of the 32-byte e = SM3(Z || M), made inside the key."""
        if len(e) != 32:
            raise TokenUsageError(
                f"待签摘要应为 32 字节，实际为 {len(e)} 字节。", f"The digest to sign must be 32 bytes, got {len(e)}.",
                length=len(e),
            )
        cert = self.certificate
        blob = self._session.call("ecc_sign_data", self._session.container_handle, bytes(e))
        der = sm2.signature_to_der(*sm2.signature_from_skf_blob(blob))
        if not sm2.verify_digest(cert.public_key, bytes(e), der):
            raise TokenError(
                "UKey 生成的签名与签名证书不符：证书可能不属于这把 UKey 的签名密钥。请联系 CA。",
                "The signature made by the UKey does not match its signing certificate; the certificate may not "
                "belong to the key's signing key. Contact your CA.",
                code="ERR_TOKEN_SIGNATURE_MISMATCH", container=self._session.identity.container,
            )
        return der


class TokenUnwrapper(_SessionKey):
    """:class:`app.gm.keyops.SessionKeyUnwrapper`: the session key is decrypted and used
    inside the key (``SKF_ImportSessionKey`` + ``SKF_DecryptInit``/``SKF_Decrypt``)."""

    @property
    def certificate(self) -> Certificate:
        identity = self._session.identity
        return _required(identity.enc_certificate, identity, _NO_ENC_CERT)

    def unwrap(self, wrapped_key: sm2.SM2Ciphertext, data: bytes) -> bytes:
        if len(wrapped_key.c2) != sm4.KEY_SIZE:
            raise TokenUsageError("被封装的会话密钥长度不是 16 字节。", "The wrapped session key is not 16 bytes.",
                                  length=len(wrapped_key.c2))
        if not data or len(data) % sm4.BLOCK_SIZE or len(data) > 64:
            raise TokenUsageError("待解封数据长度不正确。", "The data to unwrap has the wrong length.", length=len(data))
        self.certificate  # noqa: B018 - no encryption certificate, no unwrap
        s = self._session
        hkey = s.call("import_session_key", s.container_handle, SGD_SMS4_ECB, wrapped_key.to_skf_blob())
        try:
            s.call("decrypt_init", hkey, b"", 0, 0)
            return bytes(s.call("decrypt", hkey, bytes(data)))
        finally:
            close_quietly(s.host, hkey)


def open_session(identity: Identity, pin: PinLike, *, pool: HostPool | None = None) -> Session:
    """Log in to ``identity``'s container; use as a context manager."""
    return Session(identity, pin, pool=pool)


def sign_message(identity: Identity, pin: PinLike, message: bytes, uid: bytes = sm2.DEFAULT_ID, *,
                 pool: HostPool | None = None) -> bytes:
    """DER SM2 signature of ``message``: Z and e = SM3(Z || M) are computed here (on the PC,
    from the signing certificate's public key), the key signs e."""
    cert = _required(identity.sign_certificate, identity, _NO_SIGN_CERT)
    e = sm2.compute_e(cert.public_key, message, uid)
    with open_session(identity, pin, pool=pool) as session:
        return session.signer.sign_digest(e)
