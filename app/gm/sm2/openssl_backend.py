"""Fast SM2 backend: OpenSSL 3 libcrypto through cffi (ABI mode, no compiler needed).

Why libcrypto: ``cryptography`` cannot load SM2 keys, gmssl is pure Python
(~6 ms sign, ~10 ms verify), and OpenSSL's SM2 is constant-time C (~0.3 ms). We
use only the EVP API: on an SM2 key ``EVP_PKEY_sign``/``EVP_PKEY_verify`` work on
the precomputed e directly (no Z), which is exactly what a UKey's SKF_ECCSignData
does, and ``EVP_PKEY_encrypt``/``decrypt`` use the GM/T 0009 SM2Cipher DER.

Keys are handed to OpenSSL as DER (PKCS#8 / SubjectPublicKeyInfo) built by
asn1crypto and cached per key, so the per-operation cost is the curve maths.
The library is found via ``BIDSEAL_LIBCRYPTO`` (only that file, when set), else next
to the running executable first (a Windows install or a frozen app ships
``libcrypto-3-x64.dll`` beside ``bidseal.exe``; PyInstaller's ``sys._MEIPASS``), then
the platform's usual names.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
import threading
from functools import lru_cache
from typing import Any

import cffi
from asn1crypto import keys as asn1_keys

from app.gm.errors import GMError
from app.gm.sm2.curve import CURVE_OID, to_bytes32
from app.gm.sm2.encoding import CipherFormat, SM2Ciphertext, signature_from_der

Point = tuple[int, int]

_CDEF = """
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
unsigned long OpenSSL_version_num(void);
EVP_PKEY *d2i_PUBKEY(EVP_PKEY **a, const unsigned char **pp, long length);
EVP_PKEY *d2i_AutoPrivateKey(EVP_PKEY **a, const unsigned char **pp, long length);
int i2d_PUBKEY(const EVP_PKEY *a, unsigned char **pp);
void EVP_PKEY_free(EVP_PKEY *pkey);
EVP_PKEY_CTX *EVP_PKEY_CTX_new(EVP_PKEY *pkey, void *e);
void EVP_PKEY_CTX_free(EVP_PKEY_CTX *ctx);
int EVP_PKEY_sign_init(EVP_PKEY_CTX *ctx);
int EVP_PKEY_sign(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen,
                  const unsigned char *tbs, size_t tbslen);
int EVP_PKEY_verify_init(EVP_PKEY_CTX *ctx);
int EVP_PKEY_verify(EVP_PKEY_CTX *ctx, const unsigned char *sig, size_t siglen,
                    const unsigned char *tbs, size_t tbslen);
int EVP_PKEY_encrypt_init(EVP_PKEY_CTX *ctx);
int EVP_PKEY_encrypt(EVP_PKEY_CTX *ctx, unsigned char *out, size_t *outlen,
                     const unsigned char *in, size_t inlen);
int EVP_PKEY_decrypt_init(EVP_PKEY_CTX *ctx);
int EVP_PKEY_decrypt(EVP_PKEY_CTX *ctx, unsigned char *out, size_t *outlen,
                     const unsigned char *in, size_t inlen);
void ERR_clear_error(void);
"""

_CANDIDATES = {
    "linux": ["libcrypto.so.3", "libcrypto.so"],
    "win32": ["libcrypto-3-x64.dll", "libcrypto-3.dll"],
    "darwin": ["libcrypto.3.dylib"],
}


class OpenSSLUnavailable(GMError):
    code = "ERR_OPENSSL_MISSING"


def _unavailable(detail: str) -> OpenSSLUnavailable:
    return OpenSSLUnavailable(
        "找不到 OpenSSL 3 加密库（libcrypto），无法使用快速 SM2 实现。",
        "OpenSSL 3 libcrypto was not found; the fast SM2 implementation is unavailable.",
        reason=detail,
    )


def candidate_paths() -> list[str]:
    """Where libcrypto is looked for, in order (see the module docstring)."""
    explicit = os.environ.get("BIDSEAL_LIBCRYPTO")
    if explicit:
        return [explicit]
    names = _CANDIDATES.get(sys.platform, _CANDIDATES["linux"])
    dirs = [os.path.dirname(os.path.abspath(sys.executable))]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        dirs.insert(0, str(bundle))
    out = [os.path.join(d, n) for d in dict.fromkeys(dirs) for n in names]
    out = [p for p in out if os.path.isfile(p)]
    out += names
    found = ctypes.util.find_library("crypto")
    if found:
        out.append(found)
    return out


@lru_cache(maxsize=1)
def _try_load() -> tuple[cffi.FFI, Any, str] | str:
    """(ffi, lib, the name that loaded), or why nothing did (cached either way)."""
    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    errors = []
    for name in candidate_paths():
        try:
            lib = ffi.dlopen(name)
        except OSError as exc:
            errors.append(f"{name}: {exc}")
            continue
        if lib.OpenSSL_version_num() < 0x30000000:
            errors.append(f"{name}: OpenSSL older than 3.0")
            continue
        return ffi, lib, name
    return "; ".join(errors) or "no candidate"


def _load() -> tuple[cffi.FFI, Any]:
    result = _try_load()
    if isinstance(result, str):
        raise _unavailable(result)
    return result[0], result[1]


def load_error() -> str | None:
    """Why libcrypto did not load, or None when it did."""
    result = _try_load()
    return result if isinstance(result, str) else None


def loaded_library() -> dict[str, Any] | None:
    """The libcrypto in use: ``{"path", "version"}`` (None when none loaded)."""
    result = _try_load()
    if isinstance(result, str):
        return None
    _ffi, lib, name = result
    v = int(lib.OpenSSL_version_num())
    return {"path": name, "version": f"{v >> 28}.{(v >> 20) & 0xFF}.{(v >> 4) & 0xFF}"}


def available() -> bool:
    try:
        _load()
    except OpenSSLUnavailable:
        return False
    return True


def _private_der(d: int, public: Point | None) -> bytes:
    ec = {"version": "ecPrivkeyVer1", "private_key": d,
          "parameters": asn1_keys.ECDomainParameters(name="named", value=CURVE_OID)}
    if public is not None:
        ec["public_key"] = b"\x04" + to_bytes32(public[0]) + to_bytes32(public[1])
    info = asn1_keys.PrivateKeyInfo({
        "version": 0,
        "private_key_algorithm": asn1_keys.PrivateKeyAlgorithm({
            "algorithm": "ec",
            "parameters": asn1_keys.ECDomainParameters(name="named", value=CURVE_OID),
        }),
        "private_key": asn1_keys.ECPrivateKey(ec),
    })
    return bytes(info.dump())


def _public_der(public: Point) -> bytes:
    info = asn1_keys.PublicKeyInfo({
        "algorithm": asn1_keys.PublicKeyAlgorithm({
            "algorithm": "ec",
            "parameters": asn1_keys.ECDomainParameters(name="named", value=CURVE_OID),
        }),
        "public_key": b"\x04" + to_bytes32(public[0]) + to_bytes32(public[1]),
    })
    return bytes(info.dump())


class _PKey:
    """Owns one EVP_PKEY; freed when the Python object goes away."""

    def __init__(self, der: bytes, private: bool) -> None:
        ffi, lib = _load()
        buf = ffi.new("unsigned char[]", der)
        pp = ffi.new("const unsigned char **", buf)
        raw = (lib.d2i_AutoPrivateKey if private else lib.d2i_PUBKEY)(ffi.NULL, pp, len(der))
        if raw == ffi.NULL:
            lib.ERR_clear_error()
            raise GMError("OpenSSL 无法载入该 SM2 密钥。", "OpenSSL could not load the SM2 key.")
        self.ptr = ffi.gc(raw, lib.EVP_PKEY_free)


class OpenSSLBackend:
    name = "openssl"

    def __init__(self) -> None:
        self._ffi, self._lib = _load()
        self._lock = threading.Lock()
        self._private_cache: dict[int, _PKey] = {}
        self._public_cache: dict[Point, _PKey] = {}

    # -- key objects ---------------------------------------------------------------

    def _private(self, d: int, public: Point) -> _PKey:
        with self._lock:
            key = self._private_cache.get(d)
            if key is None:
                if len(self._private_cache) > 64:
                    self._private_cache.clear()
                key = self._private_cache[d] = _PKey(_private_der(d, public), private=True)
            return key

    def _public(self, public: Point) -> _PKey:
        with self._lock:
            key = self._public_cache.get(public)
            if key is None:
                if len(self._public_cache) > 256:
                    self._public_cache.clear()
                key = self._public_cache[public] = _PKey(_public_der(public), private=False)
            return key

    def _run(self, pkey: _PKey, init: str, op: str, data: bytes, out_size: int,
             extra: bytes | None = None) -> tuple[int, bytes]:
        ffi, lib = self._ffi, self._lib
        ctx = lib.EVP_PKEY_CTX_new(pkey.ptr, ffi.NULL)
        if ctx == ffi.NULL:
            raise GMError("OpenSSL 内部错误。", "OpenSSL internal error.", step="ctx")
        try:
            if getattr(lib, init)(ctx) != 1:
                lib.ERR_clear_error()
                raise GMError("OpenSSL 内部错误。", "OpenSSL internal error.", step=init)
            if op == "EVP_PKEY_verify":
                assert extra is not None
                rc = lib.EVP_PKEY_verify(ctx, extra, len(extra), data, len(data))
                lib.ERR_clear_error()
                return rc, b""
            out = ffi.new("unsigned char[]", out_size)
            outlen = ffi.new("size_t *", out_size)
            rc = getattr(lib, op)(ctx, out, outlen, data, len(data))
            if rc != 1:
                lib.ERR_clear_error()
            return rc, bytes(ffi.buffer(out, outlen[0]))
        finally:
            lib.EVP_PKEY_CTX_free(ctx)

    # -- SM2Backend ----------------------------------------------------------------

    def public_point(self, d: int) -> Point:
        ffi, lib = self._ffi, self._lib
        key = _PKey(_private_der(d, None), private=True)
        size = lib.i2d_PUBKEY(key.ptr, ffi.NULL)
        buf = ffi.new("unsigned char[]", size)
        pp = ffi.new("unsigned char **", buf)
        lib.i2d_PUBKEY(key.ptr, pp)
        spki = asn1_keys.PublicKeyInfo.load(bytes(ffi.buffer(buf, size)))
        raw = bytes(spki["public_key"].native)
        return int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:65], "big")

    def sign_digest(self, d: int, public: Point, e: bytes, k: int | None = None) -> tuple[int, int]:
        if k is not None:
            raise GMError(
                "OpenSSL 后端不接受外部指定的随机数 k。",
                "The OpenSSL backend does not accept a caller-chosen nonce k.",
            )
        rc, der = self._run(self._private(d, public), "EVP_PKEY_sign_init", "EVP_PKEY_sign", e, 80)
        if rc != 1:
            raise GMError("SM2 签名失败。", "SM2 signing failed.", step="sign")
        return signature_from_der(der)

    def verify_digest(self, public: Point, e: bytes, r: int, s: int) -> bool:
        from app.gm.sm2.encoding import signature_to_der

        rc, _ = self._run(self._public(public), "EVP_PKEY_verify_init", "EVP_PKEY_verify", e, 0,
                          extra=signature_to_der(r, s))
        return rc == 1

    def encrypt(self, public: Point, message: bytes, k: int | None = None) -> SM2Ciphertext:
        if k is not None:
            raise GMError(
                "OpenSSL 后端不接受外部指定的随机数 k。",
                "The OpenSSL backend does not accept a caller-chosen nonce k.",
            )
        rc, der = self._run(self._public(public), "EVP_PKEY_encrypt_init", "EVP_PKEY_encrypt",
                            message, len(message) + 160)
        if rc != 1:
            raise GMError("SM2 加密失败。", "SM2 encryption failed.", step="encrypt")
        return SM2Ciphertext.decode(der, CipherFormat.ASN1)

    def decrypt(self, d: int, public: Point, ciphertext: SM2Ciphertext) -> bytes:
        der = ciphertext.encode(CipherFormat.ASN1)
        rc, out = self._run(self._private(d, public), "EVP_PKEY_decrypt_init", "EVP_PKEY_decrypt",
                            der, len(ciphertext.c2) + 16)
        if rc != 1:
            raise GMError(
                "SM2 解密失败：密钥不匹配或密文已损坏。",
                "SM2 decryption failed: wrong key or damaged ciphertext.",
                code="ERR_DECRYPT",
            )
        return out
