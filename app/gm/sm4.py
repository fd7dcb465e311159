"""SM4 block cipher (GB/T 32907) in ECB, CBC (PKCS#7), CTR and GCM, one-shot and streaming.

All modes run on OpenSSL through ``cryptography``. ECB exists because SKF and the
GM/T 0092 key envelope use it for wrapping keys; bulk data should use GCM (the bid
envelope) or CBC (GM/T 0010 EnvelopedData interop).
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.gm.errors import GMError

KEY_SIZE = 16
BLOCK_SIZE = 16
GCM_TAG_SIZE = 16


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise GMError(
            f"SM4 密钥长度应为 16 字节，实际为 {len(key)} 字节。",
            f"An SM4 key must be 16 bytes, got {len(key)}.",
            length=len(key),
        )


def _check_iv(iv: bytes, size: int = BLOCK_SIZE) -> None:
    if len(iv) != size:
        raise GMError(
            f"SM4 初始向量长度应为 {size} 字节，实际为 {len(iv)} 字节。",
            f"An SM4 IV must be {size} bytes, got {len(iv)}.",
            length=len(iv),
        )


def _check_blocks(data: bytes) -> None:
    if len(data) % BLOCK_SIZE:
        raise GMError(
            "SM4 数据长度不是 16 字节的整数倍，数据可能已损坏或被截断。",
            "SM4 data length is not a multiple of 16 bytes; the data is damaged or truncated.",
            length=len(data),
        )


def ecb_encrypt(key: bytes, data: bytes) -> bytes:
    """SM4-ECB without padding (key wrapping only; ``data`` must be block-aligned)."""
    _check_key(key)
    _check_blocks(data)
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def ecb_decrypt(key: bytes, data: bytes) -> bytes:
    """Inverse of :func:`ecb_encrypt`."""
    _check_key(key)
    _check_blocks(data)
    dec = Cipher(algorithms.SM4(key), modes.ECB()).decryptor()
    return dec.update(data) + dec.finalize()


def pkcs7_pad(data: bytes) -> bytes:
    p = padding.PKCS7(128).padder()
    return p.update(data) + p.finalize()


def pkcs7_unpad(data: bytes) -> bytes:
    u = padding.PKCS7(128).unpadder()
    try:
        return u.update(data) + u.finalize()
    except ValueError as exc:
        raise GMError(
            "解密后的填充不正确：密钥错误或数据已损坏。",
            "Wrong padding after decryption: wrong key or damaged data.",
        ) from exc


def cbc_encrypt(key: bytes, iv: bytes, data: bytes, *, pad: bool = True) -> bytes:
    """SM4-CBC, PKCS#7 padded unless ``pad`` is False (then ``data`` must be block-aligned)."""
    _check_key(key)
    _check_iv(iv)
    if pad:
        data = pkcs7_pad(data)
    else:
        _check_blocks(data)
    enc = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def cbc_decrypt(key: bytes, iv: bytes, data: bytes, *, pad: bool = True) -> bytes:
    """Inverse of :func:`cbc_encrypt`."""
    _check_key(key)
    _check_iv(iv)
    _check_blocks(data)
    if not data:
        raise GMError("SM4-CBC 密文为空。", "SM4-CBC ciphertext is empty.")
    dec = Cipher(algorithms.SM4(key), modes.CBC(iv)).decryptor()
    out = dec.update(data) + dec.finalize()
    return pkcs7_unpad(out) if pad else out


class _Stream:
    """Shared body of the streaming wrappers: one OpenSSL context, fed chunk by chunk."""

    _ctx: Any

    def update(self, data: bytes) -> bytes:
        return bytes(self._ctx.update(data))

    def update_into(self, data: bytes | memoryview, out: bytearray) -> int:
        """Process into a preallocated buffer (``len(out) >= len(data) + 15``); avoids copies."""
        return int(self._ctx.update_into(data, out))


class CTRStream(_Stream):
    """Streaming SM4-CTR; encryption and decryption are the same operation."""

    def __init__(self, key: bytes, nonce: bytes) -> None:
        _check_key(key)
        _check_iv(nonce)
        self._ctx = Cipher(algorithms.SM4(key), modes.CTR(nonce)).encryptor()

    def finalize(self) -> bytes:
        return bytes(self._ctx.finalize())


def ctr_crypt(key: bytes, nonce: bytes, data: bytes) -> bytes:
    """One-shot SM4-CTR with a 16-byte initial counter block."""
    s = CTRStream(key, nonce)
    return s.update(data) + s.finalize()


class CBCEncryptStream:
    """Streaming SM4-CBC encryption with PKCS#7 padding at :meth:`finalize`."""

    def __init__(self, key: bytes, iv: bytes) -> None:
        _check_key(key)
        _check_iv(iv)
        self._ctx = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
        self._pad = padding.PKCS7(128).padder()

    def update(self, data: bytes) -> bytes:
        return self._ctx.update(self._pad.update(data))

    def finalize(self) -> bytes:
        return self._ctx.update(self._pad.finalize()) + self._ctx.finalize()


class CBCDecryptStream:
    """Streaming SM4-CBC decryption removing PKCS#7 padding at :meth:`finalize`."""

    def __init__(self, key: bytes, iv: bytes) -> None:
        _check_key(key)
        _check_iv(iv)
        self._ctx = Cipher(algorithms.SM4(key), modes.CBC(iv)).decryptor()
        self._unpad = padding.PKCS7(128).unpadder()
        self._seen = 0

    def update(self, data: bytes) -> bytes:
        self._seen += len(data)
        return self._unpad.update(self._ctx.update(data))

    def finalize(self) -> bytes:
        if self._seen == 0 or self._seen % BLOCK_SIZE:
            raise GMError(
                "SM4-CBC 密文长度不正确，数据可能被截断。",
                "SM4-CBC ciphertext length is wrong; the data may be truncated.",
                length=self._seen,
            )
        tail = self._ctx.finalize()
        try:
            return self._unpad.update(tail) + self._unpad.finalize()
        except ValueError as exc:
            raise GMError(
                "解密后的填充不正确：密钥错误或数据已损坏。",
                "Wrong padding after decryption: wrong key or damaged data.",
            ) from exc


class GCMEncryptStream(_Stream):
    """Streaming SM4-GCM encryption; :meth:`finalize` returns the 16-byte tag."""

    def __init__(self, key: bytes, nonce: bytes, aad: bytes = b"") -> None:
        _check_key(key)
        _check_gcm_nonce(nonce)
        self._ctx = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        if aad:
            self._ctx.authenticate_additional_data(aad)

    def finalize(self) -> bytes:
        self._ctx.finalize()
        tag = self._ctx.tag
        assert tag is not None
        return bytes(tag)


class GCMDecryptStream(_Stream):
    """Streaming SM4-GCM decryption.

    Plaintext returned by :meth:`update` is NOT authenticated until
    :meth:`finalize` succeeds; callers must not release it before then.
    """

    def __init__(self, key: bytes, nonce: bytes, tag: bytes, aad: bytes = b"") -> None:
        _check_key(key)
        _check_gcm_nonce(nonce)
        if len(tag) != GCM_TAG_SIZE:
            raise GMError("SM4-GCM 认证标签长度错误。", "SM4-GCM tag has the wrong length.", length=len(tag))
        self._ctx = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        if aad:
            self._ctx.authenticate_additional_data(aad)

    def finalize(self) -> None:
        try:
            self._ctx.finalize()
        except InvalidTag as exc:
            raise GMError(
                "数据完整性校验失败：文件已被篡改、损坏，或密钥不对。",
                "Integrity check failed: the data was altered or damaged, or the key is wrong.",
                code="ERR_INTEGRITY",
            ) from exc


def _check_gcm_nonce(nonce: bytes) -> None:
    if not 8 <= len(nonce) <= 64:
        raise GMError("SM4-GCM 随机数长度错误。", "SM4-GCM nonce has the wrong length.", length=len(nonce))


def gcm_encrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes = b"") -> bytes:
    """One-shot SM4-GCM; returns ciphertext || 16-byte tag."""
    s = GCMEncryptStream(key, nonce, aad)
    return s.update(data) + s.finalize()


def gcm_decrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes = b"") -> bytes:
    """Inverse of :func:`gcm_encrypt`; raises :class:`GMError` (code ERR_INTEGRITY) on any change."""
    if len(data) < GCM_TAG_SIZE:
        raise GMError(
            "SM4-GCM 密文过短，数据可能被截断。",
            "SM4-GCM ciphertext is too short; the data may be truncated.",
            code="ERR_INTEGRITY",
        )
    s = GCMDecryptStream(key, nonce, data[-GCM_TAG_SIZE:], aad)
    out = s.update(data[:-GCM_TAG_SIZE])
    s.finalize()
    return out
