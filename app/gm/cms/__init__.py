"""CMS / PKCS#7 with SM2, SM3 and SM4 (GM/T 0010 = GB/T 35275), via asn1crypto.

Signing (:func:`sign_detached`)
-------------------------------
Detached SignedData, the shape that both OpenSSL-style PDF validators and GM tools
accept (standards.md §3.3): version 1, digestAlgorithms {SM3}, encapContentInfo
``data`` without content, certificates = signer + chain, one SignerInfo (version 1,
issuerAndSerialNumber, SM3, signed attributes contentType, messageDigest,
signingTime, signingCertificateV2 with an SM3 ESSCertIDv2), signatureAlgorithm
SM2-with-SM3 (1.2.156.10197.1.501) and
``signature = SM2(e)``, ``e = SM3(Z(default ID, signer key) || DER(signedAttrs as SET))``.
The signing device is called exactly once. For PDF placeholders the work is split:
:func:`prepare_signed_attributes` → one ``sign_digest(e)`` → :func:`assemble`, and
:func:`estimate_size` builds the same CMS with a 72-byte dummy signature.

Verification (:func:`verify_detached`)
--------------------------------------
Accepts both content-type families (PKCS#7 1.2.840.113549.1.7.x and GM/T 0010
1.2.156.10197.6.1.4.2.x), signature OIDs 501, 301.1, 301 and id-ecPublicKey with
absent or NULL parameters, DER followed by zero padding (PDF ``/Contents``), the
GM default ID and — as a recorded fallback — the empty ID OpenSSL uses.

What exactly is verified:

* with signed attributes: the SM2 signature over
  ``SM3(Z || DER(signedAttrs re-tagged as SET OF, 0x31))`` using the bytes as they
  appear in the message (never re-encoded); the messageDigest attribute is compared
  with the given digest (or SM3 of the given/encapsulated content); contentType must
  be present and equal eContentType; an ESS signingCertificate(V2) hash, when
  present, must match the signer certificate;
* without signed attributes (GM/T 0010 allows it; ofdrw signs this way): the
  signature over ``SM3(Z(default ID) || content)``, then the empty ID, with the
  content at hand or hashed by the caller (``content_hasher``, for a PDF's byte
  ranges read from disk);
* a signature over a bare digest with no Z (``e = SM3(signedAttrs)`` or
  ``e = SM3(content)``, what OpenSSL's ``cms -verify`` checks) is not an SM2
  signature: the problem ``SM2_WITHOUT_Z``, unless the caller turns on the
  compatibility switch ``allow_no_z`` (then :attr:`SignedDataInfo.sm2_id` reads
  ``"none"`` and the caller must warn).

Envelopes (:func:`envelope`, :func:`open_envelope`)
---------------------------------------------------
EnvelopedData with SM2 key transport: a random SM4 key encrypts the content in
SM4-CBC (PKCS#7 padding, IV as the OCTET STRING algorithm parameter), and each
recipient gets a KeyTransRecipientInfo (issuerAndSerialNumber, 1.2.156.10197.1.301.3,
encryptedKey = DER SM2Cipher). **EnvelopedData has no integrity protection**: CBC
ciphertext can be altered without detection (only a padding error may show), so
sign the content inside, or use the authenticated bid envelope for bid files.

Modules: :mod:`.common` (shared building blocks), :mod:`.signing`, :mod:`.verification`
(SignedData), :mod:`.enveloped` (EnvelopedData).
"""

from app.gm.cms.common import (
    DUMMY_SIGNATURE_SIZE,
    Attribute,
    ContentTypeFamily,
    _strip_padding,  # noqa: F401 - kept for callers that used the private name
    strip_padding,
)
from app.gm.cms.enveloped import RecipientId, envelope, open_envelope, recipient_ids
from app.gm.cms.signing import (
    PreparedSignature,
    assemble,
    estimate_size,
    prepare_signed_attributes,
    sign_content_without_attributes,
    sign_detached,
)
from app.gm.cms.verification import PROBLEM_MESSAGES, SignedDataInfo, verify_detached

__all__ = [
    "DUMMY_SIGNATURE_SIZE",
    "PROBLEM_MESSAGES",
    "Attribute",
    "ContentTypeFamily",
    "PreparedSignature",
    "RecipientId",
    "SignedDataInfo",
    "assemble",
    "envelope",
    "estimate_size",
    "open_envelope",
    "prepare_signed_attributes",
    "recipient_ids",
    "sign_content_without_attributes",
    "sign_detached",
    "strip_padding",
    "verify_detached",
]
