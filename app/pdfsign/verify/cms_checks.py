"""The CMS signature and the signer certificate of one PDF signature."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from app.gm import cms as gm_cms
from app.gm import oids, sm2
from app.gm.errors import GMError
from app.gm.sm3 import SM3
from app.gm.x509 import Certificate, verify_chain
from app.pdfsign.report import (
    Reason,
    Severity,
    SignatureReport,
)
from app.pdfsign.verify.context import _Context
from app.pdfsign.verify.reasons import _CMS_PROBLEMS, REASONS, _reason

#: How far a claimed signing time may run ahead of the trusted time or the clock.
_CLOCK_SKEW = timedelta(minutes=10)


def _verify_cms(ctx: _Context, rep: SignatureReport, contents: bytes, digest: bytes,
                ranges: list[tuple[int, int]]) -> gm_cms.SignedDataInfo | None:
    """The CMS of a PDF signature against the SM3 of its byte ranges. Without signed
    attributes the signature is over SM3(Z || ranges), hashed again with Z as prefix."""

    def content_hasher(prefix: bytes) -> bytes:
        return ctx.hasher.digest(ranges, prefix=prefix)[0]

    try:
        info = gm_cms.verify_detached(contents, digest, require_single_signer=True,
                                      content_hasher=content_hasher,
                                      allow_no_z=ctx.accept_sm2_without_z)
    except GMError as exc:
        code = "CMS_UNSUPPORTED" if exc.code != "ERR_CMS_FORMAT" and "SM" in exc.en else "CMS_MALFORMED"
        rep.add(_reason(code, exc.en))
        return None
    rep.oid_family = info.content_type_family
    rep.sm2_id = info.sm2_id
    rep.digest_algorithm = _oid_name(info.digest_algorithm)
    rep.signature_algorithm = _oid_name(info.signature_algorithm)
    for p in info.problems:
        mapped = _CMS_PROBLEMS.get(p)
        if mapped is not None:
            rep.add(_reason(mapped))
        else:
            zh, en = gm_cms.PROBLEM_MESSAGES.get(p, (p, p))
            rep.add(Reason(f"CMS_{p}", zh, en, Severity.INVALID))
    if not info.signature_valid:
        rep.add(_reason("SIGNATURE_INVALID"))
    if info.digest_matches is not True:
        rep.add(_reason("DIGEST_MISMATCH"))
    # Defence in depth: compare the signed messageDigest ourselves too, so a
    # regression in the CMS layer cannot turn a changed document into a valid one.
    if info.signed_attrs_present and (
        info.message_digest is None or not hmac.compare_digest(info.message_digest, digest)
    ):
        rep.add(_reason("DIGEST_MISMATCH"))
    if info.signature_valid and not _signature_rechecks(info, ctx.accept_sm2_without_z):
        rep.add(_reason("SIGNATURE_INVALID"))
    if info.sm2_id == "empty":
        rep.add(_reason("EMPTY_SM2_ID"))
    elif info.sm2_id == "none":
        rep.add(_reason("SM2_WITHOUT_Z"))
    cert = info.signer_certificate
    if cert is not None:
        rep.describe_signer(cert)
    return info


def _signature_rechecks(info: gm_cms.SignedDataInfo, accept_no_z: bool) -> bool:
    """Re-verify the SM2 signature over the signed attributes with the ID the CMS
    layer reported (independent of its bookkeeping)."""
    cert = info.signer_certificate
    if not info.signed_attrs_present:
        return info.sm2_id != "none" or accept_no_z  # e over the ranges: checked while hashing
    if cert is None or info.signed_attrs_der is None:
        return False
    try:
        pub = cert.public_key
        if info.sm2_id == "none":
            return accept_no_z and sm2.verify_digest(pub, SM3(info.signed_attrs_der).digest(), info.signature)
        if info.sm2_id not in ("default", "empty"):
            return False
        uid = sm2.DEFAULT_ID if info.sm2_id == "default" else b""
        return sm2.verify_digest(pub, sm2.compute_e(pub, info.signed_attrs_der, uid), info.signature)
    except GMError:
        return False


def _oid_name(oid: str) -> str:
    return {oids.SM3: "sm3", oids.SM2_WITH_SM3: "sm2-with-sm3", oids.SM2_SIGN: "sm2-1",
            oids.SM2_CURVE: "sm2", oids.EC_PUBLIC_KEY: "id-ecPublicKey"}.get(oid, oid)


def _check_certificate(ctx: _Context, rep: SignatureReport, cert: Certificate,
                       embedded: Sequence[Certificate], trusted_time: datetime | None,
                       claimed_time: datetime | None) -> None:
    """Validity, key usage, chain and revocation of the signer certificate.

    Judged at the time of a trusted time-stamp when there is one (then a later
    revocation does not matter), else at the verification time (or the caller's
    ``at``): the signer's own signingTime or /M is a claim that can only make the
    verdict stricter (a claimed time outside the certificate's validity is invalid),
    never a reason to accept a certificate that is expired or revoked now.
    """
    now = datetime.now(UTC)
    if ctx.at is not None:
        judged_at, source = ctx.at if ctx.at.tzinfo else ctx.at.replace(tzinfo=UTC), "requested"
    elif trusted_time is not None:
        judged_at, source = trusted_time, "timestamp"
    else:
        judged_at, source = now, "verification_time"
    rep.validation_time, rep.validation_time_source = judged_at, source
    if source != "requested":  # with a requested time, the chain check reports the leaf
        if judged_at < cert.not_before:
            code = "CERT_NOT_YET_VALID_AT_SIGNING" if source == "timestamp" else "CERT_NOT_YET_VALID"
            rep.add(_reason(code, f"{judged_at.isoformat()} < {cert.not_before.isoformat()}"))
        elif judged_at > cert.not_after:
            code = "CERT_EXPIRED_AT_SIGNING" if source == "timestamp" else "CERT_EXPIRED"
            rep.add(_reason(code, f"{judged_at.isoformat()} > {cert.not_after.isoformat()}"))
    if claimed_time is not None and trusted_time is None:
        # The signer's own claim, if it says the certificate was not valid then, is an
        # admission; with a trusted time-stamp only the proven time counts.
        if claimed_time < cert.not_before:
            rep.add(_reason("CERT_NOT_YET_VALID_AT_SIGNING",
                            f"claimed {claimed_time.isoformat()} < {cert.not_before.isoformat()}"))
        elif claimed_time > cert.not_after:
            rep.add(_reason("CERT_EXPIRED_AT_SIGNING",
                            f"claimed {claimed_time.isoformat()} > {cert.not_after.isoformat()}"))
    if claimed_time is not None:
        latest = trusted_time or now
        if claimed_time > latest + _CLOCK_SKEW:
            rep.add(_reason("CLAIMED_TIME_INCONSISTENT", f"{claimed_time.isoformat()} > {latest.isoformat()}"))
    if not cert.is_signing_cert:
        rep.add(_reason("CERT_NOT_FOR_SIGNING", ",".join(sorted(cert.key_usage))))
    chain = verify_chain(cert, list(ctx.roots), list(embedded), at=judged_at, crls=list(ctx.crls))
    rep.chain = [c.subject.rfc4514() for c in chain.path]
    rep.trusted = chain.trusted
    if chain.path and chain.path[-1] in ctx.roots and ctx.is_demo_root(chain.path[-1]):
        rep.demo = True
        rep.add(_reason("DEMO_CERTIFICATE", chain.path[-1].common_name or ""))
    leaf_name = cert.common_name or cert.subject.rfc4514()
    for p in chain.details:
        if p.code in ("NO_ISSUER", "UNTRUSTED_ROOT"):
            rep.add(_reason("NO_TRUST_ROOTS" if not ctx.roots else "CHAIN_UNTRUSTED", p.subject))
        elif p.code == "CRL_EXPIRED":
            rep.add(_reason("CRL_STALE", p.subject))
        elif p.code == "CRL_BAD_SIGNATURE":
            rep.add(_reason("CRL_IGNORED", p.subject))
        elif p.code in ("EXPIRED", "NOT_YET_VALID") and p.subject == leaf_name and ctx.at is None:
            continue  # already judged above
        else:
            sev, zh, en = REASONS["CHAIN_INVALID"]
            rep.add(Reason(f"CHAIN_{p.code}", f"{zh}{p.subject}：{p.zh}", f"{en} {p.subject}: {p.en}", sev,
                           {"subject": p.subject}))
