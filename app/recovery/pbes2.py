"""PKCS#8 ``EncryptedPrivateKeyInfo`` with PBES2 = scrypt + SM4-CBC (RFC 8018, RFC 7914).

Why this encoding: it is the standard container for a passphrase-protected private key,
and OpenSSL 3 reads and writes exactly this combination (``openssl pkcs8 -topk8 -v2
sm4-cbc -scrypt``; ``openssl pkey -in FILE`` asks for the passphrase). A recovery key
therefore stays usable without BidSeal, and an independent implementation checks ours
(tests/recovery/test_openssl_interop.py).

* KDF: scrypt (memory-hard, so a stolen file resists GPU guessing far better than
  PBKDF2). New files use N = 2^17, r = 8, p = 1 (128 MiB, about half a second); a
  reader accepts what it can afford (N <= 2^20, 128·r·N <= 1 GiB) so a crafted file
  cannot exhaust memory.
* Cipher: SM4-CBC with PKCS#7 padding and a random IV. CBC carries no integrity of its
  own: a wrong passphrase is recognised because the padding, the DER of the decrypted
  PKCS#8 key and the match with the certificate's public key must all hold
  (:mod:`app.recovery.keyfile`).
* The passphrase is NFC-normalised and UTF-8 encoded, so the same Chinese or English
  passphrase typed on any system gives the same bytes (OpenSSL takes the bytes as is).

Asn1crypto knows PBES2 but not scrypt, so the few structures are declared here.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from asn1crypto import core

from app.gm import oids, sm4
from app.gm.errors import GMError
from app.recovery.errors import RecoveryFormatError, WrongPassphrase

PBES2 = "1.2.840.113549.1.5.13"
SCRYPT = "1.3.6.1.4.1.11591.4.11"
SALT_SIZE = 16

#: Upper bounds a reader accepts (a crafted file must not exhaust memory or time).
MAX_LOG2_N = 20
MAX_MEMORY = 1 << 30


class _ScryptParams(core.Sequence):
    _fields = [
        ("salt", core.OctetString),
        ("cost_parameter", core.Integer),
        ("block_size", core.Integer),
        ("parallelization_parameter", core.Integer),
        ("key_length", core.Integer, {"optional": True}),
    ]


class _AlgorithmIdentifier(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _Pbes2Params(core.Sequence):
    _fields = [("key_derivation_func", _AlgorithmIdentifier), ("encryption_scheme", _AlgorithmIdentifier)]


class _EncryptedPrivateKeyInfo(core.Sequence):
    _fields = [("encryption_algorithm", _AlgorithmIdentifier), ("encrypted_data", core.OctetString)]


@dataclass(frozen=True)
class ScryptParams:
    """scrypt work factor: ``n`` (CPU/memory cost, a power of two), ``r``, ``p``."""

    n: int = 1 << 17
    r: int = 8
    p: int = 1

    @property
    def memory(self) -> int:
        """Bytes scrypt needs (128·r·N for the V array, plus the p blocks)."""
        return 128 * self.r * (self.n + self.p + 2)

    def check(self) -> None:
        """Refuse parameters that are not scrypt's or that a reader cannot afford."""
        n, r, p = self.n, self.r, self.p
        if n < 2 or n & (n - 1) or n > 1 << MAX_LOG2_N or not 1 <= r <= 32 or not 1 <= p <= 16 \
                or self.memory > MAX_MEMORY:
            raise RecoveryFormatError(
                "恢复密钥文件的口令派生参数不受支持（可能已损坏或被改动）。",
                "The recovery key file's passphrase-derivation parameters are not supported "
                "(the file may be damaged or altered).",
                n=n, r=r, p=p,
            )


#: What new recovery files use.
DEFAULT_PARAMS = ScryptParams()


def passphrase_bytes(passphrase: str | bytes | bytearray) -> bytearray:
    """The bytes the KDF takes: UTF-8 of the NFC form (bytes are taken as given)."""
    if isinstance(passphrase, str):
        return bytearray(unicodedata.normalize("NFC", passphrase).encode("utf-8"))
    return bytearray(passphrase)


def _derive(passphrase: bytearray, salt: bytes, params: ScryptParams) -> bytes:
    params.check()
    return hashlib.scrypt(bytes(passphrase), salt=salt, n=params.n, r=params.r, p=params.p,
                          maxmem=params.memory + (1 << 20), dklen=sm4.KEY_SIZE)


def encrypt_private_key(pkcs8_der: bytes, passphrase: str | bytes | bytearray,
                        params: ScryptParams = DEFAULT_PARAMS, *, salt: bytes | None = None,
                        iv: bytes | None = None) -> bytes:
    """DER ``EncryptedPrivateKeyInfo`` of ``pkcs8_der`` under ``passphrase``.

    ``salt`` and ``iv`` are random unless given (test vectors only)."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_SIZE)
    iv = iv if iv is not None else secrets.token_bytes(sm4.BLOCK_SIZE)
    secret = passphrase_bytes(passphrase)
    try:
        key = _derive(secret, salt, params)
    finally:
        secret[:] = bytes(len(secret))
    kdf = _ScryptParams({"salt": salt, "cost_parameter": params.n, "block_size": params.r,
                         "parallelization_parameter": params.p})
    scheme = _Pbes2Params({
        "key_derivation_func": {"algorithm": SCRYPT, "parameters": core.Any.load(kdf.dump())},
        "encryption_scheme": {"algorithm": oids.SM4_CBC,
                              "parameters": core.Any.load(core.OctetString(iv).dump())},
    })
    info = _EncryptedPrivateKeyInfo({
        "encryption_algorithm": {"algorithm": PBES2, "parameters": core.Any.load(scheme.dump())},
        "encrypted_data": sm4.cbc_encrypt(key, iv, pkcs8_der),
    })
    return bytes(info.dump())


@dataclass(frozen=True)
class EncryptedKey:
    """A parsed ``EncryptedPrivateKeyInfo`` (nothing decrypted yet)."""

    params: ScryptParams
    salt: bytes
    iv: bytes
    ciphertext: bytes


def _malformed(what: str) -> RecoveryFormatError:
    return RecoveryFormatError(
        "恢复密钥文件中的加密私钥格式错误（文件已损坏或被改动）。",
        "The encrypted private key in the recovery key file is malformed (the file is damaged "
        "or altered).",
        reason=what,
    )


def parse_encrypted_key(der: bytes) -> EncryptedKey:
    """Parse (strict DER) and check the algorithms: PBES2, scrypt, SM4-CBC only."""
    try:
        info = _EncryptedPrivateKeyInfo.load(bytes(der), strict=True)
        if info.dump(force=True) != bytes(der):
            raise _malformed("not canonical DER")
        alg = info["encryption_algorithm"]
        if alg["algorithm"].dotted != PBES2:
            raise _malformed(f"encryption algorithm {alg['algorithm'].dotted}")
        scheme = _Pbes2Params.load(alg["parameters"].dump(), strict=True)
        kdf_alg, enc_alg = scheme["key_derivation_func"], scheme["encryption_scheme"]
        if kdf_alg["algorithm"].dotted != SCRYPT:
            raise _malformed(f"key derivation {kdf_alg['algorithm'].dotted}")
        if enc_alg["algorithm"].dotted != oids.SM4_CBC:
            raise _malformed(f"cipher {enc_alg['algorithm'].dotted}")
        kdf = _ScryptParams.load(kdf_alg["parameters"].dump(), strict=True)
        key_length = kdf["key_length"].native
        iv = bytes(core.OctetString.load(enc_alg["parameters"].dump(), strict=True).native)
        params = ScryptParams(int(kdf["cost_parameter"].native), int(kdf["block_size"].native),
                              int(kdf["parallelization_parameter"].native))
        salt = bytes(kdf["salt"].native)
        ciphertext = bytes(info["encrypted_data"].native)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _malformed(str(exc)) from exc
    if key_length not in (None, sm4.KEY_SIZE) or len(iv) != sm4.BLOCK_SIZE or not salt \
            or not ciphertext or len(ciphertext) % sm4.BLOCK_SIZE:
        raise _malformed("lengths")
    params.check()
    return EncryptedKey(params, salt, iv, ciphertext)


def decrypt_private_key(der: bytes, passphrase: str | bytes | bytearray) -> bytes:
    """The PKCS#8 DER inside ``der``; a wrong passphrase raises :class:`WrongPassphrase`
    when the padding fails (the caller also checks the key against its certificate)."""
    enc = parse_encrypted_key(der)
    secret = passphrase_bytes(passphrase)
    try:
        key = _derive(secret, enc.salt, enc.params)
    finally:
        secret[:] = bytes(len(secret))
    try:
        return sm4.cbc_decrypt(key, enc.iv, enc.ciphertext)
    except GMError as exc:
        raise wrong_passphrase() from exc


def wrong_passphrase() -> WrongPassphrase:
    return WrongPassphrase(
        "恢复密钥口令不正确。请检查大小写、输入法（全角/半角）后重试。",
        "The recovery key passphrase is wrong. Check upper/lower case and the input method "
        "(full-width/half-width characters) and try again.",
    )
