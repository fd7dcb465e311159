"""What the document engines need from a key, whoever holds it.

A UKey identity (:mod:`app.token`) and a software key (tests, demo, CA side) both
satisfy these protocols, so :mod:`app.pdfsign` and :mod:`app.envelope` never know
which one they are talking to. The split mirrors SKF: the signer receives the
preprocessed e = SM3(Z||M) (SKF_ECCSignData), and the unwrapper receives an SM2
ciphertext it imports as a session key (SKF_ImportSessionKey) plus a short SM4-ECB
block it decrypts with that key, so the session key never leaves a hardware key.

An unwrapper may also offer bulk SM4-CBC under the unwrapped key
(:class:`CbcSessionKeyUnwrapper`, e.g. a UKey session: one ``SKF_ImportSessionKey``,
then ``SKF_DecryptInit(IV)``/``DecryptUpdate``/``DecryptFinal``). GM/T 0010
EnvelopedData (SM4-CBC over the whole content) uses it when present instead of
sending the content through :meth:`SessionKeyUnwrapper.unwrap` 64 bytes (and one SM2
decryption) at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from app.gm import sm2, sm4
from app.gm.errors import GMError

if TYPE_CHECKING:
    from app.gm.x509 import Certificate


@runtime_checkable
class DigestSigner(Protocol):
    """Holds an SM2 signing key and its certificate.

    ENGINE-INTERNAL: :meth:`sign_digest` signs whatever 32 bytes it is given, so only an
    engine that computed e itself, from data it built and will show (CMS signed
    attributes, a login challenge with its prefix, a hub list), may call it. No public
    entry point (CLI, GUI, localhost helper, ``app.token``'s functions) passes a
    caller-supplied digest to it; ``tests/token/test_token_no_digest_path.py`` checks the
    public surface for such a path."""

    @property
    def certificate(self) -> Certificate: ...

    def sign_digest(self, e: bytes) -> bytes:
        """DER SM2 signature (r, s) of the 32-byte e; Z is the caller's job. Engines only."""
        ...


@runtime_checkable
class SessionKeyUnwrapper(Protocol):
    """Holds an SM2 encryption key and its (encryption) certificate."""

    @property
    def certificate(self) -> Certificate: ...

    def unwrap(self, wrapped_key: sm2.SM2Ciphertext, data: bytes) -> bytes:
        """SM2-decrypt ``wrapped_key`` to a 16-byte SM4 key K (kept inside a UKey) and
        return SM4-ECB-decrypt(K, ``data``) without padding; ``data`` is block-aligned
        and short (at most 64 bytes)."""
        ...


class CbcDecryptor(Protocol):
    """A running SM4-CBC decryption (no padding removed): feed ``update``, end with
    ``finalize``; ``close`` releases it early (also a context manager)."""

    def update(self, data: bytes) -> bytes: ...

    def finalize(self) -> bytes: ...

    def close(self) -> None: ...

    def __enter__(self) -> CbcDecryptor: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class CbcSessionKeyUnwrapper(SessionKeyUnwrapper, Protocol):
    """A :class:`SessionKeyUnwrapper` that also decrypts SM4-CBC in bulk under the key."""

    def cbc_decryptor(self, wrapped_key: sm2.SM2Ciphertext, iv: bytes) -> CbcDecryptor:
        """Unwrap ``wrapped_key`` once and return a decryptor with that key and ``iv``."""
        ...


def _check_unwrap_input(wrapped_key: sm2.SM2Ciphertext, data: bytes) -> None:
    if len(wrapped_key.c2) != sm4.KEY_SIZE:
        raise GMError("被封装的会话密钥长度不是 16 字节。", "The wrapped session key is not 16 bytes.")
    if not data or len(data) % sm4.BLOCK_SIZE or len(data) > 64:
        raise GMError("待解封数据长度不正确。", "The data to unwrap has the wrong length.", length=len(data))


@dataclass(frozen=True)
class SoftwareSigner:
    """A :class:`DigestSigner` over a software key (demo PKI, tests)."""

    certificate: Certificate
    key: sm2.PrivateKey

    def sign_digest(self, e: bytes) -> bytes:
        return sm2.sign_digest(self.key, e)


@dataclass(frozen=True)
class SoftwareUnwrapper:
    """A :class:`SessionKeyUnwrapper` over a software key (emergency keys, tests)."""

    certificate: Certificate
    key: sm2.PrivateKey

    def unwrap(self, wrapped_key: sm2.SM2Ciphertext, data: bytes) -> bytes:
        _check_unwrap_input(wrapped_key, data)
        session_key = sm2.decrypt_parts(self.key, wrapped_key)
        return sm4.ecb_decrypt(session_key, data)
