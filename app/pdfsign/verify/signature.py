"""One signature, check by check: byte range, coverage, CMS, certificate, later changes."""

from __future__ import annotations

from typing import Any

from app.gm import cms as gm_cms
from app.gm.errors import GMError
from app.gm.ses.signature import looks_like_ses_signature
from app.pdfsign.diff import ChangeReport, FieldLock, ModificationLevel
from app.pdfsign.pdfstructure import (
    PdfDict,
    PdfString,
    PdfStructure,
    PdfStructureError,
    Revision,
)
from app.pdfsign.report import (
    Reason,
    SignatureReport,
)
from app.pdfsign.verify.cms_checks import _check_certificate, _verify_cms
from app.pdfsign.verify.context import _Context
from app.pdfsign.verify.dates import parse_pdf_date
from app.pdfsign.verify.discovery import FoundSignature, _docmdp_p, _text
from app.pdfsign.verify.reasons import (
    _SUPPORTED_SUBFILTERS,
    _TIMESTAMP_SUBFILTERS,
    REASONS,
    _reason,
)
from app.pdfsign.verify.ses_checks import SES_SUBFILTERS, SESInfo, _verify_ses
from app.pdfsign.verify.timestamps import _embedded_timestamp, _verify_doc_timestamp


def _check_byte_range(rep: SignatureReport, d: PdfDict, size: int) -> list[int] | None:
    br = d.get("ByteRange")
    if not (isinstance(br, list) and len(br) == 4
            and all(isinstance(x, int) and not isinstance(x, bool) for x in br)):
        rep.add(_reason("BYTERANGE_MALFORMED"))
        return None
    rep.byte_range = list(br)
    a, b, c, n = br
    if a != 0 or b < 0 or c < 0 or n < 0 or c < b:
        rep.add(_reason("BYTERANGE_MALFORMED", f"{br}"))
        return None
    if c + n > size:
        rep.add(_reason("BYTERANGE_OUT_OF_BOUNDS", f"{c + n} > {size}"))
        return None
    return list(br)


def apply_changes(rep: SignatureReport, ch: ChangeReport) -> None:
    """Put a change analysis into a signature's report (again, after the widget check)."""
    rep.modification = ch.level.value
    rep.changes = [c.to_dict() for c in ch.changes]
    rep.reasons = [r for r in rep.reasons if r.code != "MODIFIED_AFTER_SIGNING"]
    if ch.level is ModificationLevel.MODIFIED:
        first = ch.disallowed[0]
        sev, zh, en = REASONS["MODIFIED_AFTER_SIGNING"]
        rep.add(Reason("MODIFIED_AFTER_SIGNING", f"{zh}（{first.zh}）", f"{en} ({first.en})", sev,
                       {"first_change": first.code, "object": first.obj, **first.details}))


def _names_of(value: Any) -> frozenset[str]:
    return frozenset(t.text() for t in value if isinstance(t, PdfString)) if isinstance(value, list) else frozenset()


def _field_lock(s: PdfStructure, rev: Revision, sig: PdfDict, fs: FoundSignature,
                docmdp_p: int | None) -> FieldLock | None:
    """What the signature locks, read from the signed revision: FieldMDP transforms
    in its /Reference, its field's /Lock (with PDF 2.0's /P), and a DocMDP /P of a
    signature that is not the document's certification (it restricts, never permits)."""
    rules: list[tuple[str, frozenset[str]]] = []
    p = docmdp_p
    refs = s.resolve(sig.get("Reference"), rev)
    for r in refs if isinstance(refs, list) else []:
        r = s.resolve(r, rev)
        if isinstance(r, dict) and r.get("TransformMethod") == "FieldMDP":
            params = s.resolve(r.get("TransformParams"), rev)
            if isinstance(params, dict):
                rules.append((str(params.get("Action") or "All"), _names_of(s.resolve(params.get("Fields"), rev))))
    node = s.get(fs.field_num, rev) if fs.field_num is not None else None
    lock = s.resolve(node.get("Lock"), rev) if isinstance(node, dict) else None
    if isinstance(lock, dict):
        rules.append((str(lock.get("Action") or "All"), _names_of(s.resolve(lock.get("Fields"), rev))))
        lp = lock.get("P")
        if isinstance(lp, int) and lp in (1, 2, 3):
            p = lp if p is None else min(p, lp)
    if not rules and p is None:
        return None
    return FieldLock(tuple(rules), p)


def _verify_signature(ctx: _Context, fs: FoundSignature, index: int) -> SignatureReport:
    s = ctx.s
    rep = SignatureReport(index=index, field_name=fs.field_name, pages=list(fs.pages),
                          widget_count=len(fs.widget_nums), revision_count=len(s.revisions),
                          object_number=fs.sig_num)
    view = fs.found_in
    if fs.removed and not ctx.final_unreadable:
        rep.add(_reason("SIGNATURE_REMOVED"))
    loc = s.locate(fs.sig_num, view)
    if loc is None or loc.kind == "f":
        rep.add(_reason("SIG_DICT_MISSING"))
        rep.finish()
        return rep
    try:
        if loc.kind == "c":
            rep.add(_reason("SIG_DICT_COMPRESSED"))
            d_val = s.get(fs.sig_num, view)
            obj_start = -1
        else:
            obj = s.object_span(fs.sig_num, view)
            assert obj is not None
            d_val = obj.value
            obj_start = obj.start
    except PdfStructureError as exc:
        rep.add(_reason("SIG_DICT_MISSING", exc.en))
        rep.finish()
        return rep
    if not isinstance(d_val, PdfDict):
        rep.add(_reason("SIG_DICT_MISSING", "not a dictionary"))
        rep.finish()
        return rep
    d = d_val
    sub_filter = str(d.get("SubFilter")) if d.get("SubFilter") is not None else None
    rep.sub_filter = sub_filter
    is_ts = d.get("Type") == "DocTimeStamp" or sub_filter in _TIMESTAMP_SUBFILTERS
    rep.docmdp_permissions = _docmdp_p(d, s, view)
    rep.kind = "timestamp" if is_ts else "certification" if rep.docmdp_permissions or fs.via_perms else "approval"
    rep.reason = _text(d.get("Reason"))
    rep.location = _text(d.get("Location"))
    rep.contact_info = _text(d.get("ContactInfo"))
    rep.name = _text(d.get("Name"))
    claimed_time = parse_pdf_date(_text(d.get("M")))
    raw_contents = d.get("Contents")
    is_ses = sub_filter in SES_SUBFILTERS or (
        sub_filter in _SUPPORTED_SUBFILTERS and isinstance(raw_contents, PdfString)
        and looks_like_ses_signature(bytes(raw_contents)))
    if sub_filter not in _SUPPORTED_SUBFILTERS and not is_ts and not is_ses:
        rep.add(_reason("UNSUPPORTED_SUBFILTER", str(sub_filter)))

    # 1. byte range and the /Contents gap
    br = _check_byte_range(rep, d, s.size)
    contents = d.get("Contents")
    span = d.spans.get("Contents")
    if not (isinstance(contents, PdfString) and contents.hex_form and span is not None):
        rep.add(_reason("CONTENTS_MALFORMED"))
        br = None
    elif br is not None and (obj_start < 0 or (br[1], br[2]) != span):
        rep.add(_reason("BYTERANGE_GAP_MISMATCH", f"gap {br[1]}..{br[2]}, /Contents {span[0]}..{span[1]}"))
        br = None

    # 2. coverage
    signed_rev: Revision | None = None
    if br is not None:
        end = br[2] + br[3]
        rev = s.revision_at_end(end)
        if end == s.size and (rev is None or rev.index == len(s.revisions) - 1):
            rep.coverage = "entire_file"
            signed_rev = s.revisions[-1] if rev is None else rev
        elif rev is not None:
            rep.coverage = "entire_revision"
            signed_rev = rev
        else:
            rep.coverage = "partial"
            rep.add(_reason("COVERAGE_PARTIAL", f"ends at {end} of {s.size}"))
        if signed_rev is not None:
            rep.signed_revision = signed_rev.index + 1
            rep.signed_revision_end = end
            # The dictionary the gap belongs to must be part of the signed revision.
            if not obj_start < end:
                rep.add(_reason("BYTERANGE_GAP_MISMATCH", "signature dictionary outside the signed revision"))

    # 3. CMS (or an SES_Signature: ses_checks)
    info: gm_cms.SignedDataInfo | None = None
    ses: SESInfo | None = None
    if br is not None and isinstance(contents, PdfString):
        ranges = [(0, br[1]), (br[2], br[2] + br[3])]
        if is_ts:
            _verify_doc_timestamp(ctx, rep, bytes(contents), ranges)
        elif is_ses:
            ses = _verify_ses(ctx, rep, bytes(contents), ctx.hasher.digest(ranges)[0])
        else:
            digest, _ = ctx.hasher.digest(ranges)
            info = _verify_cms(ctx, rep, bytes(contents), digest, ranges)

    # 4. time and certificate: the claimed time is shown, only a trusted time-stamp counts
    if info is not None and info.signer_certificate is not None:
        ts = _embedded_timestamp(ctx, rep, bytes(contents), info) if isinstance(contents, PdfString) else None
        trusted_time = ts.time if ts is not None and ts.valid and ts.trusted else None
        claimed = info.signing_time or claimed_time
        if trusted_time is not None:
            rep.signing_time, rep.signing_time_source = trusted_time, "timestamp"
        elif info.signing_time is not None:
            rep.signing_time, rep.signing_time_source = info.signing_time, "signing_time"
        elif claimed_time is not None:
            rep.signing_time, rep.signing_time_source = claimed_time, "pdf_m"
            rep.add(_reason("SIGNING_TIME_UNPROTECTED"))
        else:
            rep.signing_time_source = "verification_time"
            rep.add(_reason("SIGNING_TIME_MISSING"))
        try:
            _check_certificate(ctx, rep, info.signer_certificate, info.certificates, trusted_time, claimed)
        except GMError as exc:
            rep.add(_reason("CERT_MALFORMED", exc.en))
    elif ses is not None and ses.signer_certificate is not None:
        # the SES time is inside the signed TBS_Sign: the signer's protected claim, like signingTime
        if ses.signing_time is not None:
            rep.signing_time, rep.signing_time_source = ses.signing_time, "signing_time"
        else:
            rep.signing_time_source = "verification_time"
            rep.add(_reason("SIGNING_TIME_MISSING"))
        try:
            _check_certificate(ctx, rep, ses.signer_certificate, [ses.signer_certificate], None,
                               ses.signing_time or claimed_time)
        except GMError as exc:
            rep.add(_reason("CERT_MALFORMED", exc.en))
    elif rep.signing_time is None and claimed_time is not None and rep.kind != "timestamp":
        rep.signing_time, rep.signing_time_source = claimed_time, "pdf_m"

    # 5. later changes, under what this signature restricts (DocMDP, FieldMDP, /Lock)
    if signed_rev is not None:
        certify_p = rep.docmdp_permissions if fs.via_perms else None
        lock = _field_lock(s, signed_rev, d, fs, None if fs.via_perms else rep.docmdp_permissions)
        key = (signed_rev.index, certify_p, lock)
        ctx.changes(signed_rev, certify_p, lock)
        ctx.diff_of[index] = key
        apply_changes(rep, ctx.diffs[key])
    rep.integrity = (
        signed_rev is not None
        and not any(r.code in _INTEGRITY_CODES for r in rep.reasons)
        and (info is None or info.valid or rep.kind == "timestamp")
        and (not is_ses or (ses is not None and ses.valid))
    )
    rep.finish()
    return rep


_INTEGRITY_CODES = frozenset({
    "BYTERANGE_MALFORMED", "BYTERANGE_OUT_OF_BOUNDS", "CONTENTS_MALFORMED", "BYTERANGE_GAP_MISMATCH",
    "COVERAGE_PARTIAL", "CMS_MALFORMED", "CMS_UNSUPPORTED", "SIGNATURE_INVALID", "DIGEST_MISMATCH",
    "SIGNER_CERT_MISSING", "SIG_DICT_MISSING", "SIG_DICT_COMPRESSED", "TIMESTAMP_INVALID",
    "SES_MALFORMED", "SES_SEAL_INVALID", "SES_SEAL_NOT_BOUND", "SES_SEAL_EXPIRED",
})
