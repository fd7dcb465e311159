"""The CMS signature and the signer certificate of one PDF signature."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

from app.gm import cms as gm_cms
from app.gm import oids, sm2
from app.gm.errors import GMError
from app.gm.x509 import Certificate, verify_chain
from app.pdfsign.report import (
    Reason,
    Severity,
    SignatureReport,
)
from app.pdfsign.verify.context import _Context
from app.pdfsign.verify.reasons import _CMS_PROBLEMS, REASONS, _reason


def _verify_cms(rep: SignatureReport, contents: bytes, digest: bytes) -> gm_cms.SignedDataInfo | None:
    try:
        info = gm_cms.verify_detached(contents, digest, require_single_signer=True)
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
    if info.signature_valid and not _signature_rechecks(info):
        rep.add(_reason("SIGNATURE_INVALID"))
    if info.sm2_id == "empty":
        rep.add(_reason("EMPTY_SM2_ID"))
    cert = info.signer_certificate
    if cert is not None:
        subj = cert.subject
        rep.signer_cn = subj.common_name
        rep.unit_name = cert.unit_name
        rep.unit_code = cert.unit_code
        rep.certificate_serial = cert.serial_hex
        rep.issuer = cert.issuer.rfc4514()
        rep.certificate_not_before = cert.not_before
        rep.certificate_not_after = cert.not_after
    return info


def _signature_rechecks(info: gm_cms.SignedDataInfo) -> bool:
    """Re-verify the SM2 signature over the signed attributes with the ID the CMS
    layer reported (independent of its bookkeeping)."""
    cert = info.signer_certificate
    if not info.signed_attrs_present:
        return True  # e = messageDigest: nothing more to recompute here
    if cert is None or info.signed_attrs_der is None or info.sm2_id not in ("default", "empty"):
        return False
    uid = sm2.DEFAULT_ID if info.sm2_id == "default" else b""
    try:
        pub = cert.public_key
        return sm2.verify_digest(pub, sm2.compute_e(pub, info.signed_attrs_der, uid), info.signature)
    except GMError:
        return False


def _oid_name(oid: str) -> str:
    return {oids.SM3: "sm3", oids.SM2_WITH_SM3: "sm2-with-sm3", oids.SM2_SIGN: "sm2-1",
            oids.SM2_CURVE: "sm2", oids.EC_PUBLIC_KEY: "id-ecPublicKey"}.get(oid, oid)


def _check_certificate(ctx: _Context, rep: SignatureReport, cert: Certificate,
                       embedded: Sequence[Certificate]) -> None:
    t = rep.signing_time or datetime.now(UTC)
    if t < cert.not_before:
        rep.add(_reason("CERT_NOT_YET_VALID_AT_SIGNING", f"{t.isoformat()} < {cert.not_before.isoformat()}"))
    elif t > cert.not_after:
        rep.add(_reason("CERT_EXPIRED_AT_SIGNING", f"{t.isoformat()} > {cert.not_after.isoformat()}"))
    if not cert.is_signing_cert:
        rep.add(_reason("CERT_NOT_FOR_SIGNING", ",".join(sorted(cert.key_usage))))
    chain = verify_chain(cert, list(ctx.roots), list(embedded), at=ctx.at or t, crls=list(ctx.crls))
    rep.chain = [c.subject.rfc4514() for c in chain.path]
    rep.trusted = chain.trusted
    leaf_name = cert.common_name or cert.subject.rfc4514()
    for p in chain.details:
        if p.code in ("NO_ISSUER", "UNTRUSTED_ROOT"):
            rep.add(_reason("NO_TRUST_ROOTS" if not ctx.roots else "CHAIN_UNTRUSTED", p.subject))
        elif p.code == "CRL_EXPIRED":
            rep.add(_reason("CRL_STALE", p.subject))
        elif p.code == "CRL_BAD_SIGNATURE":
            rep.add(_reason("CRL_IGNORED", p.subject))
        elif p.code in ("EXPIRED", "NOT_YET_VALID") and p.subject == leaf_name and ctx.at is None:
            continue  # already judged at signing time above
        else:
            sev, zh, en = REASONS["CHAIN_INVALID"]
            rep.add(Reason(f"CHAIN_{p.code}", f"{zh}{p.subject}：{p.zh}", f"{en} {p.subject}: {p.en}", sev,
                           {"subject": p.subject}))
