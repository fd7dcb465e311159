"""The manifest's signature: SM2 with SM3 over the exact bytes served, release keys shipped.

Scheme (the one GM/T 0009 defines and ``openssl dgst -sm3 -sign`` / ``pkeyutl`` with the
default ID produce): ``e = SM3(Z || manifest bytes)`` with Z computed from the signer's
public key and the default user ID ``1234567812345678``, signed with SM2, encoded as DER
``SEQUENCE { r, s }``; it is served beside the manifest as ``<manifest URL>.sig`` (raw
DER, at most :data:`MAX_SIGNATURE` bytes). Signing the bytes rather than a parsed form
means there is no canonicalisation for an attacker to play with: one byte changed and it
fails. A signature over the bare SM3 of the manifest (no Z, as some tools make by
mistake) does not verify and is refused like any other.

The arithmetic is :mod:`app.gm.sm2` (the same verification the login tokens use); this
module only knows which keys to try. The trusted release keys are PEM public keys in
``resources/update/keys`` of the installation (:func:`shipped_keys`); every function
takes the keys as a parameter so tests and ``bidseal update check --trust-key`` can use
others, while the start-up check uses the shipped ones only.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from app.gm import sm2
from app.gm.errors import GMError
from app.gm.sm2 import PrivateKey, PublicKey
from app.gm.sm3 import sm3

MAX_SIGNATURE = 1024


def shipped_keys_dir() -> Path:
    """``resources/update/keys`` of this installation (inside a PyInstaller bundle: its
    data folder)."""
    base = getattr(sys, "_MEIPASS", None)
    root = Path(base) if base else Path(__file__).resolve().parents[2]
    return root / "resources" / "update" / "keys"


def load_keys(paths: Sequence[Path]) -> list[PublicKey]:
    """SM2 public keys from PEM files (a damaged file raises :class:`GMError`)."""
    return [PublicKey.from_pem(Path(p).read_bytes()) for p in paths]


def shipped_keys() -> list[PublicKey]:
    """The release keys this installation trusts (empty when the folder is missing)."""
    folder = shipped_keys_dir()
    return load_keys(sorted(folder.glob("*.pem"))) if folder.is_dir() else []


def key_id(key: PublicKey) -> str:
    """A short name for a key in logs and docs: the first 16 hex digits of SM3(SPKI DER)."""
    return sm3(key.to_der()).hex()[:16]


def sign_manifest(key: PrivateKey, data: bytes) -> bytes:
    """The DER signature of ``data`` (release tool and tests)."""
    return sm2.sign(key, data)


def signed_by(data: bytes, signature: bytes, keys: Sequence[PublicKey]) -> PublicKey | None:
    """The trusted key whose signature over ``data`` this is, or None (malformed DER too)."""
    if not 0 < len(signature) <= MAX_SIGNATURE:
        return None
    for key in keys:
        try:
            if sm2.verify(key, data, signature):
                return key
        except GMError:
            return None
    return None
