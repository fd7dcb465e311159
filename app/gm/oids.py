"""National-algorithm OIDs, registered once with asn1crypto.

Importing this module (``app.gm`` does it) teaches asn1crypto the SM2 curve, SM3,
SM2-with-SM3 and SM4 identifiers (standards.md §3.1), so certificates, CMS and
pyHanko all speak of the same names. Both OID families for CMS content types are
listed here so that verification can accept either.
"""

from __future__ import annotations

import contextlib

from asn1crypto import algos, cms, keys

SM2_CURVE = "1.2.156.10197.1.301"
SM2_SIGN = "1.2.156.10197.1.301.1"  # sm2-1, used by GM/T 0010 as digestEncryptionAlgorithm
SM2_EXCHANGE = "1.2.156.10197.1.301.2"  # GmSSL 3 also writes this for sm2encrypt
SM2_ENCRYPT = "1.2.156.10197.1.301.3"
SM3 = "1.2.156.10197.1.401"
HMAC_SM3 = "1.2.156.10197.1.401.3.1"
SM2_WITH_SM3 = "1.2.156.10197.1.501"
SM4 = "1.2.156.10197.1.104"
SM4_ECB = "1.2.156.10197.1.104.1"
SM4_CBC = "1.2.156.10197.1.104.2"
SM4_CTR = "1.2.156.10197.1.104.7"
SM4_GCM = "1.2.156.10197.1.104.8"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"

# GM/T 0010 content types (1.2.156.10197.6.1.4.2.x) next to their PKCS#7 twins.
GM_DATA = "1.2.156.10197.6.1.4.2.1"
GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"
GM_ENVELOPED_DATA = "1.2.156.10197.6.1.4.2.3"
GM_SIGNED_AND_ENVELOPED_DATA = "1.2.156.10197.6.1.4.2.4"
GM_ENCRYPTED_DATA = "1.2.156.10197.6.1.4.2.5"
GM_KEY_AGREEMENT_INFO = "1.2.156.10197.6.1.4.2.6"

PKCS7_DATA = "1.2.840.113549.1.7.1"
PKCS7_SIGNED_DATA = "1.2.840.113549.1.7.2"
PKCS7_ENVELOPED_DATA = "1.2.840.113549.1.7.3"

#: Signature algorithm OIDs a verifier accepts for an SM2 signer.
SM2_SIGNATURE_OIDS = frozenset({SM2_WITH_SM3, SM2_SIGN, SM2_CURVE, EC_PUBLIC_KEY})
#: Key-transport OIDs accepted for an SM2 recipient.
SM2_ENCRYPTION_OIDS = frozenset({SM2_ENCRYPT, SM2_EXCHANGE, SM2_CURVE, EC_PUBLIC_KEY})

_registered = False


def _add(mapping_cls: type, oid: str, name: str) -> None:
    mapping = mapping_cls._map  # type: ignore[attr-defined]
    if oid not in mapping:
        mapping[oid] = name
        mapping_cls._reverse_map = None  # type: ignore[attr-defined]


def register() -> None:
    """Teach asn1crypto the GM names; idempotent."""
    global _registered
    if _registered:
        return
    with contextlib.suppress(ValueError):  # already registered by another library
        keys.NamedCurve.register("sm2p256v1", SM2_CURVE, 32)
    _add(algos.DigestAlgorithmId, SM3, "sm3")
    _add(algos.HmacAlgorithmId, HMAC_SM3, "hmac_sm3")
    _add(algos.SignedDigestAlgorithmId, SM2_WITH_SM3, "sm2_sm3")
    _add(algos.SignedDigestAlgorithmId, SM2_SIGN, "sm2_sign")
    _add(algos.SignedDigestAlgorithmId, SM2_CURVE, "sm2")
    _add(algos.EncryptionAlgorithmId, SM4_CBC, "sm4_cbc")
    _add(algos.EncryptionAlgorithmId, SM4_ECB, "sm4_ecb")
    _add(algos.EncryptionAlgorithmId, SM4_GCM, "sm4_gcm")
    _add(algos.EncryptionAlgorithmId, SM4, "sm4")
    _add(cms.KeyEncryptionAlgorithmId, SM2_ENCRYPT, "sm2_encrypt")
    _add(cms.KeyEncryptionAlgorithmId, SM2_EXCHANGE, "sm2_exchange")
    for oid, name in (
        (GM_DATA, "gm_data"),
        (GM_SIGNED_DATA, "gm_signed_data"),
        (GM_ENVELOPED_DATA, "gm_enveloped_data"),
        (GM_SIGNED_AND_ENVELOPED_DATA, "gm_signed_and_enveloped_data"),
        (GM_ENCRYPTED_DATA, "gm_encrypted_data"),
    ):
        _add(cms.ContentType, oid, name)
    # Parse GM/T 0010 content the same way as its PKCS#7 twin.
    specs = cms.ContentInfo._oid_specs
    specs.setdefault("gm_data", cms.OctetString)
    specs.setdefault("gm_signed_data", cms.SignedData)
    specs.setdefault("gm_enveloped_data", cms.EnvelopedData)
    specs.setdefault("gm_encrypted_data", cms.EncryptedData)
    _registered = True


register()
