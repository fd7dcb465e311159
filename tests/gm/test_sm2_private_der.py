"""Damaged SM2 private-key DER is a GMError (a sentence), never a bare ValueError.

Found by the recovery-key flip test: CBC noise that happened to pad correctly left an
ECPrivateKey whose [1] publicKey field had a wrong tag; asn1crypto parses that field lazily,
so reading it outside the parse guard raised ValueError up to the bidder."""

from __future__ import annotations

import pytest

from app.gm import sm2
from app.gm.errors import GMError


def test_embedded_public_key_with_a_wrong_tag_is_a_gm_error() -> None:
    key = sm2.PrivateKey.generate()
    der = bytearray(key.to_der())
    i = der.rfind(b"\x03\x42\x00\x04")  # BIT STRING (66 bytes) holding the uncompressed point
    assert i > 0
    der[i] = 0x06  # now an OID tag where a BIT STRING belongs
    with pytest.raises(GMError):
        sm2.PrivateKey.from_der(bytes(der))


def test_embedded_public_key_of_another_key_is_refused() -> None:
    key, other = sm2.PrivateKey.generate(), sm2.PrivateKey.generate()
    der = key.to_der()
    swapped = der.replace(key.public_key.to_bytes(), other.public_key.to_bytes())
    assert swapped != der
    with pytest.raises(GMError, match="embedded public key"):
        sm2.PrivateKey.from_der(swapped)
