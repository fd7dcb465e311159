"""Logged-in use of an identity: the signer and unwrapper the document engines need.

::

    with open_session(identity, pin, owner="GUI: sealing", cancel=token) as session:
        seal_pdf(src, dst, session.signer, seals)            # SKF_ECCSignData of e the engine computed
        key_block = session.unwrapper.unwrap(wrapped, data)  # SKF_ImportSessionKey + SKF_Decrypt
        with session.decryptor(wrapped, iv) as d:            # SM4-CBC streamed through the key
            plain = d.update(ciphertext) + d.finalize()

A session owns its device (:mod:`app.token.access`): opening takes the device lease
(waiting in line up to ``wait`` seconds, then :class:`DeviceBusy`), logs in
(``SKF_VerifyPIN``); leaving the ``with`` block calls ``SKF_ClearSecureState``,
closes every handle and releases the lease, even after errors. Its handles and its
login belong to a random owner token inside the token host, so no other code (a
second session, a scan, a stray ``host.call``) can use them. The PIN is passed to
the token host once and not kept (a bytearray copy is wiped; the caller's own str
cannot be wiped by Python).

Cancelling: a ``cancel`` token set while a device call hangs (a key waiting for a
button, a PIN pad) kills the host process at once and the call raises
:class:`TokenCancelled`; so does :meth:`Session.abort` from another thread. The
session is then over; the next one starts a fresh host.
"""

from __future__ import annotations

import secrets
import weakref
from contextlib import suppress
from typing import Any

from app.cancel import Cancel
from app.gm import sm2, sm4
from app.gm.errors import GMError
from app.gm.x509 import Certificate
from app.sensitive import wipe
from app.token.access import DeviceLease, acquire
from app.token.device import PinLike, pin_bytes
from app.token.errors import CertificateNotFound, TokenError, TokenUsageError
from app.token.host_client import HostPool, TokenHost, get_pool
from app.token.identity import Identity
from app.token.skf_ffi import SGD_SMS4_CBC, SGD_SMS4_ECB, USER_TYPE

#: Bytes sent to the token host per decryptor round trip (split there into device calls).
STREAM_PIECE = 256 * 1024
#: Device call size when the key does not report MaxBufferSize.
DEFAULT_DEVICE_CHUNK = 2048


class Session:
    """A logged-in container that owns its device until closed. Use :func:`open_session`."""

    def __init__(self, identity: Identity, pin: PinLike, *, pool: HostPool | None = None,
                 owner: str | None = None, wait: float | None = None, cancel: Cancel | None = None) -> None:
        self.identity = identity
        self.owner = owner or "session"
        self.cancel = cancel
        self.host: TokenHost = (pool or get_pool()).get(identity.library, identity.device)
        self._token = secrets.token_hex(16)  # who we are to the token host
        self._hdev: str | None = None
        self._happ: str | None = None
        self._hcon: str | None = None
        self.closed = False
        secret = pin_bytes(pin)
        try:
            self._lease: DeviceLease = acquire(identity.device, self.owner, wait=wait, cancel=cancel)
        except BaseException:
            wipe(secret)
            raise
        self._release = weakref.finalize(self, self._lease.release)  # a forgotten session frees the key
        try:
            self._hdev = self._call("connect_dev", identity.device)
            self._happ = self._call("open_application", self._hdev, identity.application)
            self._call("verify_pin", self._happ, USER_TYPE, secret)
            self._hcon = self._call("open_container", self._happ, identity.container)
        except BaseException:
            self.close()
            raise
        finally:
            wipe(secret)
        self.signer = TokenSigner(self)
        self.unwrapper = TokenUnwrapper(self)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"Session({self.identity.device}/{self.identity.container}, {self.owner}, {state})"

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, op: str, *args: Any) -> Any:
        return self.host.call(op, *args, cancel=self.cancel, owner=self._token)

    def _mine(self, hid: str | None) -> bool:
        gen = self.host.generation
        return hid is not None and gen is not None and hid.startswith(gen + ":")

    def close(self) -> None:
        """Log out (``SKF_ClearSecureState``), close every handle, release the device (never raises)."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._mine(self._happ):
                with suppress(TokenError):
                    self.host.call("clear_secure_state", self._happ, owner=self._token)
            for hid in (self._hcon, self._happ, self._hdev):
                if self._mine(hid):
                    with suppress(TokenError):
                        self.host.call("close", hid, owner=self._token)
        finally:
            self._hcon = self._happ = self._hdev = None
            self._release()

    def abort(self) -> None:
        """Cancel the device call in flight from another thread (its host is killed) and end
        the session; the call raises :class:`TokenCancelled`."""
        if not self.closed:
            self.host.abort("session aborted")

    @property
    def active(self) -> bool:
        return not self.closed

    def call(self, op: str, *args: Any) -> Any:
        """One host operation as this session (its owner token, its cancel token)."""
        if self.closed or self._hcon is None:
            raise _session_ended()
        return self._call(op, *args)

    @property
    def container_handle(self) -> str:
        if self._hcon is None:
            raise _session_ended()
        return self._hcon

    def close_handle(self, hid: str | None) -> None:
        """Close a handle this session made (a session key); never raises."""
        if self._mine(hid):
            with suppress(TokenError):
                self.host.call("close", hid, owner=self._token)

    def decryptor(self, wrapped_key: sm2.SM2Ciphertext, iv: bytes) -> CbcDecryptor:
        """SM4-CBC decryption under a session key that never leaves the key: the SM2-wrapped
        key is imported once (``SKF_ImportSessionKey``), then the ciphertext streams through
        ``SKF_DecryptInit(IV)`` / ``SKF_DecryptUpdate`` / ``SKF_DecryptFinal``. No padding
        is removed (the caller knows the format)."""
        return CbcDecryptor(self, wrapped_key, iv)


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


def _check_wrapped(wrapped_key: sm2.SM2Ciphertext) -> None:
    if len(wrapped_key.c2) != sm4.KEY_SIZE:
        raise TokenUsageError("被封装的会话密钥长度不是 16 字节。", "The wrapped session key is not 16 bytes.",
                              length=len(wrapped_key.c2))


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
        """DER SM2 signature of the 32-byte e = SM3(Z || M), made inside the key.

        Engines only (see :class:`app.gm.keyops.DigestSigner`): never call it with a value
        a user, a file or a web page supplied."""
        if len(e) != 32:
            raise TokenUsageError(
                f"待签摘要应为 32 字节，实际为 {len(e)} 字节。", f"The digest to sign must be 32 bytes, got {len(e)}.",
                length=len(e),
            )
        cert = self.certificate
        blob = self._session.call("ecc_sign_data", self._session.container_handle, bytes(e))
        try:
            der = sm2.signature_to_der(*sm2.signature_from_skf_blob(blob))
        except GMError as exc:  # a blob of the wrong size or with out-of-range r, s
            raise _bad_signature(self._session) from exc
        if not sm2.verify_digest(cert.public_key, bytes(e), der):
            raise TokenError(
                "UKey 生成的签名与签名证书不符：证书可能不属于这把 UKey 的签名密钥。请联系 CA。",
                "The signature made by the UKey does not match its signing certificate; the certificate may not "
                "belong to the key's signing key. Contact your CA.",
                code="ERR_TOKEN_SIGNATURE_MISMATCH", container=self._session.identity.container,
            )
        return der


def _bad_signature(session: Session) -> TokenError:
    return TokenError(
        "UKey 返回的签名格式无效。请重试；如反复出现，请联系 CA。",
        "The UKey returned a malformed signature. Retry; if it keeps happening, contact your CA.",
        code="ERR_TOKEN_SIGNATURE_MISMATCH", container=session.identity.container,
    )


class TokenUnwrapper(_SessionKey):
    """:class:`app.gm.keyops.SessionKeyUnwrapper`: the session key is decrypted and used
    inside the key (``SKF_ImportSessionKey`` + ``SKF_DecryptInit``/``SKF_Decrypt``)."""

    @property
    def certificate(self) -> Certificate:
        identity = self._session.identity
        return _required(identity.enc_certificate, identity, _NO_ENC_CERT)

    def unwrap(self, wrapped_key: sm2.SM2Ciphertext, data: bytes) -> bytes:
        _check_wrapped(wrapped_key)
        if not data or len(data) % sm4.BLOCK_SIZE or len(data) > 64:
            raise TokenUsageError("待解封数据长度不正确。", "The data to unwrap has the wrong length.", length=len(data))
        self.certificate  # noqa: B018 - no encryption certificate, no unwrap
        s = self._session
        hkey = s.call("import_session_key", s.container_handle, SGD_SMS4_ECB, wrapped_key.to_skf_blob())
        try:
            s.call("decrypt_init", hkey, b"", 0, 0)
            out = bytes(s.call("decrypt", hkey, bytes(data)))
        finally:
            s.close_handle(hkey)
        if len(out) != len(data):
            raise _short_output(len(data), len(out))
        return out

    def cbc_decryptor(self, wrapped_key: sm2.SM2Ciphertext, iv: bytes) -> CbcDecryptor:
        """:class:`app.gm.keyops.CbcSessionKeyUnwrapper`: see :meth:`Session.decryptor`."""
        return self._session.decryptor(wrapped_key, iv)


def _short_output(expected: int, got: int) -> TokenError:
    return TokenError(
        "UKey 返回的解密结果长度不对。请重试；如反复出现，请联系 CA。",
        "The UKey returned decrypted data of the wrong length. Retry; if it keeps happening, contact your CA.",
        code="ERR_TOKEN_DECRYPT_LENGTH", expected=expected, got=got,
    )


class CbcDecryptor:
    """SM4-CBC decryption inside the key; see :meth:`Session.decryptor`.

    ``update(data)`` takes any length and returns whole blocks (a partial block is kept
    until more data comes); ``finalize()`` ends the operation and closes the session
    key (the data must have been a whole number of blocks). Use it as a context
    manager so the key handle is closed on errors too."""

    def __init__(self, session: Session, wrapped_key: sm2.SM2Ciphertext, iv: bytes) -> None:
        _check_wrapped(wrapped_key)
        if len(iv) != sm4.BLOCK_SIZE:
            raise TokenUsageError("CBC 初始向量应为 16 字节。", "The CBC IV must be 16 bytes.", length=len(iv))
        _required(session.identity.enc_certificate, session.identity, _NO_ENC_CERT)
        self._session = session
        info = session.identity.device_info
        chunk = (info.max_buffer_size if info and info.max_buffer_size else DEFAULT_DEVICE_CHUNK)
        self.device_chunk = max(sm4.BLOCK_SIZE, min(chunk, 64 * 1024) // sm4.BLOCK_SIZE * sm4.BLOCK_SIZE)
        self._pending = bytearray()
        self.device_calls = 0
        self._hkey: str | None = session.call("import_session_key", session.container_handle, SGD_SMS4_CBC,
                                              wrapped_key.to_skf_blob())
        try:
            session.call("decrypt_init", self._hkey, bytes(iv), 0, 0)
        except BaseException:
            self.close()
            raise

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        if self._hkey is None:
            raise _session_ended()
        self._pending += data
        whole = len(self._pending) // sm4.BLOCK_SIZE * sm4.BLOCK_SIZE
        out = bytearray()
        try:
            for off in range(0, whole, STREAM_PIECE):
                piece = bytes(self._pending[off:min(off + STREAM_PIECE, whole)])
                got = self._session.call("decrypt_stream", self._hkey, piece, self.device_chunk)
                self.device_calls += -(-len(piece) // self.device_chunk)
                if len(got) != len(piece):
                    raise _short_output(len(piece), len(got))
                out += got
        except BaseException:
            self.close()
            raise
        del self._pending[:whole]
        return bytes(out)

    def finalize(self) -> bytes:
        if self._hkey is None:
            raise _session_ended()
        try:
            if self._pending:
                raise TokenUsageError("密文长度不是 16 字节的整数倍。",
                                      "The ciphertext is not a whole number of 16-byte blocks.",
                                      length=len(self._pending))
            tail = bytes(self._session.call("decrypt_final", self._hkey))
            self.device_calls += 1
        finally:
            self.close()
        if tail:
            raise _short_output(0, len(tail))
        return tail

    def close(self) -> None:
        hkey, self._hkey = self._hkey, None
        self._session.close_handle(hkey)
        wipe(self._pending)
        self._pending.clear()

    def __enter__(self) -> CbcDecryptor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_session(identity: Identity, pin: PinLike, *, pool: HostPool | None = None, owner: str | None = None,
                 wait: float | None = None, cancel: Cancel | None = None) -> Session:
    """Log in to ``identity``'s container as its device's only user; use as a context manager.

    ``owner`` names the user in "busy" messages ("GUI: sealing", "helper: https://...");
    ``wait`` is how long to wait in line for a busy device (default 30 s,
    ``BIDSEAL_TOKEN_WAIT``; 0 = fail at once with :class:`DeviceBusy`); ``cancel`` ends a
    wait or a hanging device call (:class:`TokenCancelled`)."""
    return Session(identity, pin, pool=pool, owner=owner, wait=wait, cancel=cancel)


def sign_message(identity: Identity, pin: PinLike, message: bytes, uid: bytes = sm2.DEFAULT_ID, *,
                 pool: HostPool | None = None, owner: str | None = None, cancel: Cancel | None = None) -> bytes:
    """DER SM2 signature of ``message``: Z and e = SM3(Z || M) are computed here (on the PC,
    from the signing certificate's public key), the key signs e."""
    cert = _required(identity.sign_certificate, identity, _NO_SIGN_CERT)
    e = sm2.compute_e(cert.public_key, message, uid)
    with open_session(identity, pin, pool=pool, owner=owner, cancel=cancel) as session:
        return session.signer.sign_digest(e)
