"""A PDF signature whose /Contents is a GB/T 38540 / GM/T 0031 ``SES_Signature``
(``/SubFilter /GM.sm2seal``, or such a value under ``adbe.pkcs7.detached``).

The byte range, coverage and later-change rules are the CMS path's (this module only
replaces step 3 of :func:`app.pdfsign.verify.signature._verify_signature`). Here:
the signer's SM2 signature over ``TBS_Sign``; ``dataHash`` = SM3 of the byte ranges
(what BidSeal writes; other vendors' PDF data-hash conventions are not documented
publicly and are unknown); the embedded seal's maker signature; the signer's
certificate in the seal's certificate list; the seal's validity at the signed time;
and whether the seal maker's certificate chains to a trusted root.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from app.gm.ses import SESeal, SESSignature
from app.gm.ses.errors import (
    SESBindingError,
    SESFormatError,
    SESMakerSignatureError,
    SESSignatureError,
    SESValidityError,
)
from app.gm.ses.signature import der_prefix
from app.gm.x509 import Certificate, verify_chain
from app.pdfsign.report import SignatureReport
from app.pdfsign.verify.context import _Context
from app.pdfsign.verify.reasons import _reason

SES_SUBFILTERS = frozenset({"GM.sm2seal"})


@dataclass(frozen=True)
class SESInfo:
    """What the later steps (time, certificate) need from a verified-or-not SES_Signature."""

    signer_certificate: Certificate | None
    signing_time: datetime | None
    seal: SESeal | None
    valid: bool


def _verify_ses(ctx: _Context, rep: SignatureReport, contents: bytes, digest: bytes) -> SESInfo | None:
    try:
        sig = SESSignature.decode(der_prefix(contents))
        signer = sig.signer_certificate
    except SESFormatError as exc:
        rep.add(_reason("SES_MALFORMED", exc.en))
        return None
    rep.signature_algorithm = "sm2-with-sm3"
    rep.digest_algorithm = "sm3"
    rep.oid_family = f"GB/T 38540 V{sig.version}" if sig.version != 1 else "GM/T 0031 V1"
    rep.describe_signer(signer)
    valid = True
    try:
        _, uid = sig.check_signer_signature()
        rep.sm2_id = "default" if uid != b"" else "empty"
    except (SESSignatureError, SESFormatError):
        rep.add(_reason("SIGNATURE_INVALID"))
        valid = False
    if not hmac.compare_digest(sig.data_hash, digest):
        rep.add(_reason("DIGEST_MISMATCH"))
        valid = False
    try:
        maker = sig.seal.verify_maker().maker
    except (SESMakerSignatureError, SESFormatError) as exc:
        rep.add(_reason("SES_SEAL_INVALID", exc.en))
        return SESInfo(signer, sig.signing_time, sig.seal, False)
    try:
        sig.seal.check_binding(signer)
    except (SESBindingError, SESFormatError) as exc:
        rep.add(_reason("SES_SEAL_NOT_BOUND", exc.en))
        valid = False
    if sig.signing_time is None:
        rep.add(_reason("SES_SEAL_EXPIRED", "no signing time"))
        valid = False
    else:
        try:
            sig.seal.check_validity(sig.signing_time)
        except SESValidityError as exc:
            rep.add(_reason("SES_SEAL_EXPIRED", exc.en))
            valid = False
    chain = verify_chain(maker, list(ctx.roots), [maker], at=sig.signing_time, crls=list(ctx.crls))
    if not chain.trusted:
        rep.add(_reason("SES_MAKER_UNTRUSTED", maker.subject.rfc4514()))
    return SESInfo(signer, sig.signing_time, sig.seal, valid)
