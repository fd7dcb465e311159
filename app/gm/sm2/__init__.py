"""SM2 (GM/T 0003, GM/T 0009): keys, Z and e, signatures, encryption.

The functions here validate input, compute Z/e and handle encodings; the curve
maths runs on a backend (:mod:`.backend`). Both give identical results for everything
deterministic (Z, e, verify, decrypt), and signatures/ciphertexts of either
verify/decrypt with the other.

``openssl`` (libcrypto 3, constant-time C) is the backend. The pure-Python ``gmssl``
arithmetic branches on the bits of the scalar, so it is never chosen silently for
anything that handles a secret (signing, decryption, encryption's ephemeral key, key
generation): when libcrypto does not load, those operations raise
:class:`OpenSSLUnavailable` unless the software fallback was chosen on purpose
(``BIDSEAL_SM2_BACKEND=gmssl`` or ``backend="gmssl"``), and then every such operation
issues a :class:`SoftwareSM2Warning` (Python shows it once per command). Verification
(public data only) falls back quietly. :func:`diagnostics` tells a GUI what runs.
"""

from __future__ import annotations

import os
import warnings
from functools import cache
from typing import Any

from app.gm.errors import GMError
from app.gm.sm2.backend import SM2Backend
from app.gm.sm2.curve import GX, GY, A, B, N, to_bytes32
from app.gm.sm2.encoding import (
    CipherFormat,
    SM2Ciphertext,
    signature_from_der,
    signature_from_skf_blob,
    signature_to_der,
    signature_to_skf_blob,
)
from app.gm.sm2.keys import PrivateKey, PublicKey
from app.gm.sm3 import SM3, sm3

DEFAULT_ID = b"1234567812345678"

__all__ = [
    "DEFAULT_ID", "CipherFormat", "PrivateKey", "PublicKey", "SM2Backend", "SM2Ciphertext",
    "SoftwareSM2Warning", "available_backends", "compute_e", "compute_z", "decrypt", "diagnostics", "encrypt",
    "get_backend", "sign", "sign_digest", "signature_from_der", "signature_from_skf_blob", "signature_to_der",
    "signature_to_skf_blob", "verify", "verify_digest",
]

SOFTWARE_WARNING_ZH = ("正在用纯 Python 的 SM2 实现处理私钥（未找到 OpenSSL 3 加密库）：速度慢，且运算时间随密钥变化，"
                       "可能被同一台电脑上的程序测出密钥。请安装/修复 OpenSSL 3（libcrypto）。")
SOFTWARE_WARNING_EN = ("A private SM2 key is being used with the pure-Python fallback (OpenSSL 3 libcrypto was not "
                       "found): it is slow and its timing depends on the key, which other programs on this computer "
                       "may measure. Install or repair OpenSSL 3 (libcrypto).")


class SoftwareSM2Warning(UserWarning):
    """A secret (private key, ephemeral scalar) went through the pure-Python backend."""



@cache
def _make_backend(name: str) -> SM2Backend:
    if name == "openssl":
        from app.gm.sm2.openssl_backend import OpenSSLBackend

        return OpenSSLBackend()
    if name == "gmssl":
        from app.gm.sm2.gmssl_backend import GmsslBackend

        return GmsslBackend()
    raise GMError(f"未知的 SM2 实现：{name}", f"Unknown SM2 backend: {name}", backend=name)


def available_backends() -> list[str]:
    """Backends that can run on this machine (``gmssl`` always can)."""
    from app.gm.sm2.openssl_backend import available

    return (["openssl"] if available() else []) + ["gmssl"]


def _chosen() -> str | None:
    """The backend asked for on purpose (``BIDSEAL_SM2_BACKEND``), if any."""
    return os.environ.get("BIDSEAL_SM2_BACKEND") or None


def get_backend(name: str | None = None, *, secret: bool = False) -> SM2Backend:
    """The named backend, or the default: ``BIDSEAL_SM2_BACKEND``, else ``openssl``.

    Without libcrypto the default is ``gmssl`` only for public operations; for one that
    handles a secret (``secret=True``) the caller gets :class:`OpenSSLUnavailable`
    unless the software fallback was chosen. A secret on ``gmssl`` warns
    (:class:`SoftwareSM2Warning`)."""
    if name is None:
        name = _chosen()
    if name is None:
        from app.gm.sm2.openssl_backend import OpenSSLUnavailable, available, load_error

        if available():
            name = "openssl"
        elif secret:
            raise OpenSSLUnavailable(
                "找不到 OpenSSL 3 加密库（libcrypto），不能使用私钥。请重新安装 BidSeal 或安装 OpenSSL 3；"
                "如确需使用缓慢且非恒定时间的纯 Python 实现，请设置 BIDSEAL_SM2_BACKEND=gmssl。",
                "OpenSSL 3 libcrypto was not found, so private keys cannot be used. Reinstall BidSeal or install "
                "OpenSSL 3; to accept the slow, non-constant-time pure-Python fallback, set "
                "BIDSEAL_SM2_BACKEND=gmssl.",
                reason=load_error(),
            )
        else:
            name = "gmssl"
    backend = _make_backend(name)
    if secret and backend.name == "gmssl":
        warnings.warn(f"{SOFTWARE_WARNING_ZH} / {SOFTWARE_WARNING_EN}", SoftwareSM2Warning, stacklevel=3)
    return backend


def diagnostics() -> dict[str, Any]:
    """What SM2 runs on here, for a GUI's diagnostics page or ``--version``-style output:
    the backend used for private keys (None when none may be), the libcrypto found (path,
    version) or why not, whether that is constant-time, and the warning to show."""
    from app.gm.sm2.openssl_backend import available, load_error, loaded_library

    have_openssl = available()
    chosen = _chosen()
    private = chosen or ("openssl" if have_openssl else None)
    software = private == "gmssl"
    return {
        "backend": private,
        "verify_backend": chosen or ("openssl" if have_openssl else "gmssl"),
        "libcrypto": loaded_library() if have_openssl else None,
        "libcrypto_error": None if have_openssl else load_error(),
        "constant_time": private == "openssl",
        "software_fallback": software,
        "warning_zh": SOFTWARE_WARNING_ZH if software or private is None else None,
        "warning_en": SOFTWARE_WARNING_EN if software or private is None else None,
    }


def _check_id(uid: bytes) -> None:
    if len(uid) * 8 > 0xFFFF:
        raise GMError("SM2 用户标识过长。", "SM2 user ID is too long.", length=len(uid))


def compute_z(public: PublicKey, uid: bytes = DEFAULT_ID) -> bytes:
    """Z = SM3(ENTL || ID || a || b || Gx || Gy || xA || yA); ENTL is the ID length in bits."""
    _check_id(uid)
    return sm3(
        (len(uid) * 8).to_bytes(2, "big") + uid
        + b"".join(to_bytes32(v) for v in (A, B, GX, GY, public.x, public.y))
    )


def compute_e(public: PublicKey, message: bytes, uid: bytes = DEFAULT_ID) -> bytes:
    """e = SM3(Z || M): what a UKey's SKF_ECCSignData expects as input."""
    h = SM3(compute_z(public, uid))
    h.update(message)
    return h.digest()


def _check_e(e: bytes) -> None:
    if len(e) != 32:
        raise GMError(
            f"SM2 待签摘要应为 32 字节，实际为 {len(e)} 字节。",
            f"The SM2 digest e must be 32 bytes, got {len(e)}.",
            length=len(e),
        )


def sign_digest(key: PrivateKey, e: bytes, *, backend: str | None = None, k: int | None = None) -> bytes:
    """Sign a precomputed e; returns DER (r, s). ``k`` is for standard test vectors only."""
    _check_e(e)
    r, s = get_backend(backend, secret=True).sign_digest(key.d, key.public_key.point, e, k)
    return signature_to_der(r, s)


def sign(key: PrivateKey, message: bytes, uid: bytes = DEFAULT_ID, *, backend: str | None = None,
         k: int | None = None) -> bytes:
    """SM2 signature of ``message`` with user ID ``uid``; returns DER (r, s)."""
    return sign_digest(key, compute_e(key.public_key, message, uid), backend=backend, k=k)


def verify_digest(public: PublicKey, e: bytes, signature: bytes, *, backend: str | None = None) -> bool:
    """True when ``signature`` (DER) is valid for e. Malformed DER raises :class:`GMError`."""
    _check_e(e)
    r, s = signature_from_der(signature)
    return get_backend(backend).verify_digest(public.point, e, r, s)


def verify(public: PublicKey, message: bytes, signature: bytes, uid: bytes = DEFAULT_ID, *,
           backend: str | None = None) -> bool:
    return verify_digest(public, compute_e(public, message, uid), signature, backend=backend)


def encrypt(public: PublicKey, plaintext: bytes, fmt: CipherFormat = CipherFormat.C1C3C2, *,
            backend: str | None = None, k: int | None = None) -> bytes:
    """SM2 public-key encryption in the chosen layout (default C1C3C2)."""
    if not plaintext:
        raise GMError("SM2 不能加密空数据。", "SM2 cannot encrypt empty data.")
    ct = get_backend(backend, secret=True).encrypt(public.point, plaintext, k)
    return ct.encode(fmt)


def decrypt(key: PrivateKey, ciphertext: bytes, fmt: CipherFormat = CipherFormat.C1C3C2, *,
            backend: str | None = None) -> bytes:
    """Inverse of :func:`encrypt`; wrong key or altered data raises :class:`GMError` (ERR_DECRYPT)."""
    ct = SM2Ciphertext.decode(ciphertext, fmt)
    return get_backend(backend, secret=True).decrypt(key.d, key.public_key.point, ct)


def decrypt_parts(key: PrivateKey, ciphertext: SM2Ciphertext, *, backend: str | None = None) -> bytes:
    """Decrypt an already parsed ciphertext (e.g. from an SKF ECCCIPHERBLOB)."""
    ciphertext.validate()
    return get_backend(backend, secret=True).decrypt(key.d, key.public_key.point, ciphertext)


_ = N  # re-exported curve order for callers that validate scalars
