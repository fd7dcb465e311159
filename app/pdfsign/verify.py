"""Verify every signature in a PDF: the one entry point is :func:`verify_pdf`.

For each signature value (``/Sig`` dictionary, found once however it is
reached: a merged field/widget, a field with kid widgets on several pages (骑缝章),
``/Perms /DocMDP``, a document time-stamp) the checks are, in order:

1. **ByteRange** — four non-negative integers, ``[0] == 0``, ascending,
   non-overlapping, within the file; the gap must be *exactly* the byte span of
   this dictionary's ``/Contents`` hex string as found by parsing the object the
   final xref points to (defeats USF/shadow attacks that aim /ByteRange elsewhere
   or add a second /Contents).
2. **Coverage** — the range ends at the end of the file or at a revision's
   ``%%EOF`` (so that revision's xref and trailer are signed); anything else is
   invalid.
3. **CMS** — :func:`app.gm.cms.verify_detached` with the SM3 of the ranges,
   hashed in 1 MiB chunks from a memory map; one SignerInfo; SM2 over the signed
   attributes with the default ID, else the empty ID (reported).
4. **Certificate** — valid at signing time (time-stamp genTime, else the
   signingTime attribute, else the unprotected /M, else now), key usage for
   signing, chain to the configured roots (:func:`app.gm.x509.verify_chain`),
   CRLs when given.
5. **Later changes** — :func:`app.pdfsign.diff.analyse_changes`.

Plain functions: no printing, no global state. ``progress(done, total, Stage.VERIFY)``
(:mod:`app.progress`, bytes) is called while hashing; ``cancel()`` returning True aborts with
:class:`VerificationCancelled`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, BinaryIO

from asn1crypto import cms as asn1_cms
from asn1crypto import core
from asn1crypto import parser as asn1_parser
from asn1crypto import tsp as asn1_tsp

from app.cancel import Cancel, OperationCancelled, is_cancelled
from app.gm import cms as gm_cms
from app.gm import oids, sm2
from app.gm.errors import GMError
from app.gm.sm3 import SM3
from app.gm.x509 import Certificate, Crl, verify_chain
from app.pdfsign.diff import ChangeReport, ModificationLevel, analyse_changes
from app.pdfsign.pdfstructure import (
    PdfDict,
    PdfSource,
    PdfString,
    PdfStructure,
    PdfStructureError,
    Ref,
    Revision,
)
from app.pdfsign.report import (
    PdfVerificationReport,
    Reason,
    Severity,
    SignatureReport,
    Status,
    TimestampReport,
)
from app.progress import Progress, Stage

__all__ = [
    "FoundSignature",
    "PdfVerificationReport",
    "SignatureReport",
    "Status",
    "VerificationCancelled",
    "find_signatures",
    "verify_pdf",
]

#: ``known(byte_range)``: the SM3 of exactly these byte ranges of this file, hashed
#: from disk by the caller, or None to let the verifier hash them itself.
KnownDigests = Callable[[tuple[int, int, int, int]], bytes | None]


class VerificationCancelled(OperationCancelled):
    """Verification was cancelled (:class:`app.cancel.OperationCancelled`)."""

    def __init__(self) -> None:
        super().__init__("已取消验证。", "Verification was cancelled.")


# -- reason vocabulary ---------------------------------------------------------------------

_I, _U, _N = Severity.INVALID, Severity.UNTRUSTED, Severity.INFO

REASONS: dict[str, tuple[Severity, str, str]] = {
    "NO_SIGNATURES": (_I, "此文件没有任何签名。", "This file has no signatures."),
    "FILE_INCOMPLETE": (_I, "文件末尾有多余或不完整的数据（文件被截断或被追加了内容）。",
                        "The file ends with stray or incomplete data (truncated, or bytes appended)."),
    "SIG_DICT_MISSING": (_I, "签名字典不存在或无法读取。", "The signature dictionary is missing or unreadable."),
    "SIG_DICT_COMPRESSED": (_I, "签名字典位于压缩对象流中，无法确认签名范围。",
                            "The signature dictionary is inside a compressed object stream; its byte range cannot be checked."),
    "UNSUPPORTED_SUBFILTER": (_I, "不支持的签名格式（SubFilter）。", "Unsupported signature format (SubFilter)."),
    "BYTERANGE_MALFORMED": (_I, "签名范围（/ByteRange）格式错误。", "The signature byte range (/ByteRange) is malformed."),
    "BYTERANGE_OUT_OF_BOUNDS": (_I, "签名范围超出文件长度（文件可能被截断）。",
                                "The signature byte range goes beyond the end of the file (truncated?)."),
    "CONTENTS_MALFORMED": (_I, "签名值（/Contents）不是十六进制字符串。",
                           "The signature value (/Contents) is not a hex string."),
    "BYTERANGE_GAP_MISMATCH": (_I, "签名范围的空隙与签名值的位置不一致（疑似签名伪造/影子攻击）。",
                               "The byte-range gap is not exactly this signature's /Contents (signature forgery / shadow attack)."),
    "COVERAGE_PARTIAL": (_I, "签名只覆盖了文件的一部分，不是完整的修订版本。",
                         "The signature covers only part of the file, not a complete revision."),
    "CMS_MALFORMED": (_I, "签名数据（CMS）格式错误。", "The signature data (CMS) is malformed."),
    "CMS_UNSUPPORTED": (_I, "签名算法不是 SM2/SM3，本程序不能验证。",
                        "The signature algorithm is not SM2/SM3 and cannot be verified here."),
    "SIGNATURE_INVALID": (_I, "签名值验证失败：签名后内容或签名被改动，或证书不对。",
                          "The signature does not verify: data or signature altered, or wrong certificate."),
    "DIGEST_MISMATCH": (_I, "文档摘要与签名时不一致：签名范围内的内容被修改。",
                        "The document digest differs from the signed one: signed bytes were changed."),
    "SIGNER_CERT_MISSING": (_I, "签名中找不到签名者证书。", "The signer certificate is not in the signature."),
    "CERT_MALFORMED": (_I, "签名者证书格式错误，无法检查。", "The signer certificate is malformed and cannot be checked."),
    "CERT_EXPIRED_AT_SIGNING": (_I, "签署时证书已过期。", "The certificate had expired at signing time."),
    "CERT_NOT_YET_VALID_AT_SIGNING": (_I, "签署时证书尚未生效。", "The certificate was not yet valid at signing time."),
    "CERT_NOT_FOR_SIGNING": (_I, "该证书不是签名证书（密钥用法不含数字签名/不可否认），可能是加密证书。",
                             "The certificate is not a signing certificate (no digitalSignature/nonRepudiation); it may be an encryption certificate."),
    "NO_TRUST_ROOTS": (_U, "未配置信任根证书，无法确认签署人身份。",
                       "No trusted root certificates are configured, so the signer cannot be trusted."),
    "CHAIN_UNTRUSTED": (_U, "签署人证书链不到任何受信任的根证书。",
                        "The signer's certificate chain does not reach a trusted root."),
    "CHAIN_INVALID": (_I, "签署人证书链验证失败。", "The signer's certificate chain is invalid."),
    "CRL_STALE": (_U, "吊销列表已过期，无法确认证书未被吊销。",
                  "A revocation list is out of date; revocation cannot be ruled out."),
    "CRL_IGNORED": (_N, "一个吊销列表签名无效，已忽略。", "A revocation list had a bad signature and was ignored."),
    "SIGNATURE_REMOVED": (_I, "该签名在后来的修订中被删除（签名域或签名控件已不在文档中）。",
                          "This signature was removed in a later revision (its field or widget is no longer in the document)."),
    "MODIFIED_AFTER_SIGNING": (_I, "签名后文档被修改（不仅是追加签名或填写表单）。",
                               "The document was modified after signing (beyond adding signatures or filling forms)."),
    "EMPTY_SM2_ID": (_N, "签名使用了空的 SM2 用户标识（OpenSSL 默认），不是 GM/T 0009 的默认标识。",
                     "The signature used the empty SM2 ID (OpenSSL's default), not the GM/T 0009 default ID."),
    "SIGNING_TIME_UNPROTECTED": (_N, "签名中没有受保护的签署时间，使用了 PDF 中自报的时间。",
                                 "The signature has no protected signing time; the PDF's claimed /M was used."),
    "SIGNING_TIME_MISSING": (_N, "签名中没有签署时间，按当前时间检查证书有效期。",
                             "The signature has no signing time; certificate validity was checked at the current time."),
    "TIMESTAMP_INVALID": (_I, "签名中的时间戳无效。", "The time-stamp in the signature is invalid."),
    "TIMESTAMP_UNTRUSTED": (_N, "时间戳机构证书不受信任，时间戳时间仅供参考。",
                            "The time-stamp authority is not trusted; its time is informational."),
}

_CMS_PROBLEMS = {
    "BAD_SIGNATURE": "SIGNATURE_INVALID",
    "SIGNATURE_MALFORMED": "SIGNATURE_INVALID",
    "DIGEST_MISMATCH": "DIGEST_MISMATCH",
    "SIGNER_CERT_NOT_FOUND": "SIGNER_CERT_MISSING",
}

_SUPPORTED_SUBFILTERS = frozenset({"adbe.pkcs7.detached", "ETSI.CAdES.detached"})
_TIMESTAMP_SUBFILTERS = frozenset({"ETSI.RFC3161"})
_OID_TST_TOKEN = "1.2.840.113549.1.9.16.2.14"
_OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"


def _reason(code: str, extra: str = "", **details: Any) -> Reason:
    sev, zh, en = REASONS[code]
    if extra:
        zh, en = f"{zh}（{extra}）", f"{en} ({extra})"
    return Reason(code, zh, en, sev, dict(details))


# -- finding signatures --------------------------------------------------------------------------


@dataclass
class FoundSignature:
    """A /Sig value and how it is reached."""

    sig_num: int
    field_name: str | None = None
    field_num: int | None = None
    widget_nums: list[int] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    docmdp_p: int | None = None
    via_perms: bool = False
    #: The revision whose view the signature was found in (None: the final one).
    #: A signature only found in an earlier revision was removed later.
    found_in: Revision | None = None

    @property
    def removed(self) -> bool:
        return self.found_in is not None


def _text(value: Any) -> str | None:
    if isinstance(value, PdfString):
        return value.text()
    if isinstance(value, bytes):
        return PdfString(value).text()
    return None


def _page_list(s: PdfStructure, rev: Revision | None = None) -> list[int]:
    root = s.resolve(s.trailer(rev).get("Root"), rev)
    if not isinstance(root, dict):
        return []
    return [num for num, _node, leaf in s.walk_pages(root.get("Pages"), rev) if leaf]


def find_signatures(s: PdfStructure, rev: Revision | None = None) -> list[FoundSignature]:
    """Every /Sig value of revision ``rev`` (default: the final one), once, with
    field name, widgets and pages."""

    def get(num: int) -> Any:
        return s.get(num, rev)

    def resolve(value: Any) -> Any:
        return s.resolve(value, rev)

    pages = _page_list(s, rev)
    annot_page: dict[int, int] = {}
    page_annots: list[list[int]] = []
    for idx, pnum in enumerate(pages):
        page = get(pnum)
        annots = resolve(page.get("Annots")) if isinstance(page, dict) else None
        nums = [a.num for a in annots if isinstance(a, Ref)] if isinstance(annots, list) else []
        page_annots.append(nums)
        for n in nums:
            annot_page.setdefault(n, idx + 1)
    page_index = {pnum: i + 1 for i, pnum in enumerate(pages)}

    found: dict[int, FoundSignature] = {}

    def page_of(widget_num: int, widget: dict[str, Any]) -> int | None:
        if widget_num in annot_page:
            return annot_page[widget_num]
        p = widget.get("P")
        return page_index.get(p.num) if isinstance(p, Ref) else None

    def ancestors(node: dict[str, Any]) -> list[dict[str, Any]]:
        out = [node]
        seen: set[int] = set()
        cur: Any = node
        while len(out) < 32:
            parent = cur.get("Parent")
            if not isinstance(parent, Ref) or parent.num in seen:
                break
            seen.add(parent.num)
            cur = get(parent.num)
            if not isinstance(cur, dict):
                break
            out.append(cur)
        return out

    def full_name(node: dict[str, Any]) -> str | None:
        parts = [t for t in (_text(n.get("T")) for n in ancestors(node)) if t is not None]
        return ".".join(reversed(parts)) if parts else None

    def inherited_ft(node: dict[str, Any]) -> str | None:
        return next((str(n["FT"]) for n in ancestors(node) if "FT" in n), None)

    def widgets_of(num: int, node: dict[str, Any], depth: int = 0) -> list[int]:
        out = [num] if node.get("Subtype") == "Widget" else []
        kids = resolve(node.get("Kids"))
        if isinstance(kids, list) and depth < 8:
            for k in kids:
                if not isinstance(k, Ref):
                    continue
                kid = get(k.num)
                if isinstance(kid, dict) and "T" not in kid and "V" not in kid:
                    out.extend(widgets_of(k.num, kid, depth + 1))
        return out

    def record(field_num: int, node: dict[str, Any]) -> None:
        v = node.get("V")
        if not isinstance(v, Ref) or inherited_ft(node) != "Sig":
            return
        fs = found.get(v.num)
        if fs is None:
            fs = found[v.num] = FoundSignature(v.num, full_name(node), field_num)
        for w in widgets_of(field_num, node):
            if w not in fs.widget_nums:
                fs.widget_nums.append(w)

    # 1. the AcroForm field tree
    root = resolve(s.trailer(rev).get("Root"))
    root = root if isinstance(root, dict) else PdfDict()
    acro = resolve(root.get("AcroForm"))
    if isinstance(acro, dict):
        fields = resolve(acro.get("Fields"))
        todo = [(f.num, 0) for f in fields if isinstance(f, Ref)] if isinstance(fields, list) else []
        seen: set[int] = set()
        while todo:
            num, depth = todo.pop(0)
            if num in seen or depth > 32:
                continue
            seen.add(num)
            node = get(num)
            if not isinstance(node, dict):
                continue
            record(num, node)
            kids = resolve(node.get("Kids"))
            if isinstance(kids, list):
                todo.extend((k.num, depth + 1) for k in kids if isinstance(k, Ref))
    # 2. signature widgets on pages that the field tree does not list
    for nums in page_annots:
        for n in nums:
            node = get(n)
            if not isinstance(node, dict) or node.get("Subtype") != "Widget":
                continue
            cur, cur_num = node, n
            for _ in range(32):
                if "V" in cur or not isinstance(cur.get("Parent"), Ref):
                    break
                cur_num = cur["Parent"].num
                parent = get(cur_num)
                if not isinstance(parent, dict):
                    break
                cur = parent
            record(cur_num, cur)
            v = cur.get("V")
            if isinstance(v, Ref) and v.num in found and n not in found[v.num].widget_nums:
                found[v.num].widget_nums.append(n)
    # 3. /Perms /DocMDP (a certification signature)
    perms = resolve(root.get("Perms"))
    if isinstance(perms, dict):
        ref = perms.get("DocMDP")
        if isinstance(ref, Ref):
            fs = found.setdefault(ref.num, FoundSignature(ref.num))
            fs.via_perms = True
    for fs in found.values():
        pages_set: list[int] = []
        for w in fs.widget_nums:
            node = get(w)
            if isinstance(node, dict):
                p = page_of(w, node)
                if p is not None and p not in pages_set:
                    pages_set.append(p)
        fs.pages = sorted(pages_set)
        fs.found_in = rev
    return list(found.values())


def _docmdp_p(sig: dict[str, Any], s: PdfStructure, rev: Revision | None) -> int | None:
    refs = s.resolve(sig.get("Reference"), rev)
    if not isinstance(refs, list):
        return None
    for r in refs:
        r = s.resolve(r, rev)
        if isinstance(r, dict) and r.get("TransformMethod") == "DocMDP":
            params = s.resolve(r.get("TransformParams"), rev)
            p = params.get("P", 2) if isinstance(params, dict) else 2
            return p if isinstance(p, int) and p in (1, 2, 3) else 2
    return None


# -- dates ---------------------------------------------------------------------------------------


def parse_pdf_date(value: str | None) -> datetime | None:
    """``D:YYYYMMDDHHmmSS+HH'mm'`` → aware datetime (UTC when no zone); None if unreadable."""
    if not value:
        return None
    v = value.strip()
    if v.startswith("D:"):
        v = v[2:]
    digits = ""
    i = 0
    while i < len(v) and v[i].isdigit() and len(digits) < 14:
        digits += v[i]
        i += 1
    if len(digits) < 4:
        return None
    digits = digits.ljust(14, "0")
    if digits[4:6] == "00":
        digits = digits[:4] + "01" + digits[6:]
    if digits[6:8] == "00":
        digits = digits[:6] + "01" + digits[8:]
    try:
        dt = datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    rest = v[i:].replace("'", "")
    tz = UTC
    if rest[:1] in ("+", "-") and len(rest) >= 3 and rest[1:3].isdigit():
        mins = int(rest[3:5]) if rest[3:5].isdigit() else 0
        delta = timedelta(hours=int(rest[1:3]), minutes=mins)
        tz = timezone(delta if rest[0] == "+" else -delta)
    return dt.replace(tzinfo=tz)


# -- hashing ------------------------------------------------------------------------------------


class _Hasher:
    """Streams byte ranges through SM3 (and another digest if a time-stamp needs it)."""

    def __init__(self, src: PdfSource, total: int, progress: Progress | None, cancel: Cancel | None,
                 known: KnownDigests | None = None) -> None:
        self.src = src
        self.total = max(total, 1)
        self.done = 0
        self.progress = progress
        self.cancel = cancel
        self.known = known

    def digest(self, ranges: Iterable[tuple[int, int]], extra: str | None = None) -> tuple[bytes, bytes | None]:
        ranges = list(ranges)
        if self.known is not None and extra is None and len(ranges) == 2 and ranges[0][0] == 0:
            (_, b), (c, e) = ranges
            known = self.known((0, b, c, e - c))
            if known is not None:
                return known, None
        h = SM3()
        other = hashlib.new(extra) if extra else None
        for start, end in ranges:
            for chunk in self.src.iter_range(start, end):
                if is_cancelled(self.cancel):
                    raise VerificationCancelled()
                h.update(chunk)
                if other is not None:
                    other.update(chunk)
                self.done += len(chunk)
                if self.progress is not None:
                    self.progress(min(self.done, self.total), self.total, Stage.VERIFY)
        return h.digest(), (other.digest() if other is not None else None)


_HASHLIB_NAMES = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}


# -- the verification context ------------------------------------------------------------------


@dataclass
class _Context:
    s: PdfStructure
    roots: Sequence[Certificate]
    crls: Sequence[Crl]
    at: datetime | None
    hasher: _Hasher
    diffs: dict[tuple[int, int | None], ChangeReport] = field(default_factory=dict)

    def changes(self, rev: Revision, docmdp_p: int | None) -> ChangeReport:
        key = (rev.index, docmdp_p)
        if key not in self.diffs:
            self.diffs[key] = analyse_changes(self.s, rev, docmdp_p=docmdp_p)
        return self.diffs[key]


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


def _verify_signature(ctx: _Context, fs: FoundSignature, index: int) -> SignatureReport:
    s = ctx.s
    rep = SignatureReport(index=index, field_name=fs.field_name, pages=list(fs.pages),
                          widget_count=len(fs.widget_nums), revision_count=len(s.revisions),
                          object_number=fs.sig_num)
    view = fs.found_in
    if fs.removed:
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
    if sub_filter not in _SUPPORTED_SUBFILTERS and not is_ts:
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

    # 3. CMS
    info: gm_cms.SignedDataInfo | None = None
    if br is not None and isinstance(contents, PdfString):
        ranges = [(0, br[1]), (br[2], br[2] + br[3])]
        if is_ts:
            _verify_doc_timestamp(ctx, rep, bytes(contents), ranges)
        else:
            digest, _ = ctx.hasher.digest(ranges)
            info = _verify_cms(rep, bytes(contents), digest)

    # 4. certificate
    if info is not None and info.signer_certificate is not None:
        ts = _embedded_timestamp(ctx, rep, bytes(contents), info) if isinstance(contents, PdfString) else None
        if ts is not None and ts.valid and ts.time is not None:
            rep.signing_time, rep.signing_time_source = ts.time, "timestamp"
        elif info.signing_time is not None:
            rep.signing_time, rep.signing_time_source = info.signing_time, "signing_time"
        elif claimed_time is not None:
            rep.signing_time, rep.signing_time_source = claimed_time, "pdf_m"
            rep.add(_reason("SIGNING_TIME_UNPROTECTED"))
        else:
            rep.signing_time_source = "verification_time"
            rep.add(_reason("SIGNING_TIME_MISSING"))
        try:
            _check_certificate(ctx, rep, info.signer_certificate, info.certificates)
        except GMError as exc:
            rep.add(_reason("CERT_MALFORMED", exc.en))
    elif rep.signing_time is None and claimed_time is not None and rep.kind != "timestamp":
        rep.signing_time, rep.signing_time_source = claimed_time, "pdf_m"

    # 5. later changes
    if signed_rev is not None:
        p = rep.docmdp_permissions if rep.kind == "certification" else None
        ch = ctx.changes(signed_rev, p)
        rep.modification = ch.level.value
        rep.changes = [c.to_dict() for c in ch.changes]
        if ch.level is ModificationLevel.MODIFIED:
            first = ch.disallowed[0]
            sev, zh, en = REASONS["MODIFIED_AFTER_SIGNING"]
            rep.add(Reason("MODIFIED_AFTER_SIGNING", f"{zh}（{first.zh}）", f"{en} ({first.en})", sev,
                           {"first_change": first.code, "object": first.obj}))
    rep.integrity = (
        signed_rev is not None
        and not any(r.code in _INTEGRITY_CODES for r in rep.reasons)
        and (info is None or info.valid or rep.kind == "timestamp")
    )
    rep.finish()
    return rep


_INTEGRITY_CODES = frozenset({
    "BYTERANGE_MALFORMED", "BYTERANGE_OUT_OF_BOUNDS", "CONTENTS_MALFORMED", "BYTERANGE_GAP_MISMATCH",
    "COVERAGE_PARTIAL", "CMS_MALFORMED", "CMS_UNSUPPORTED", "SIGNATURE_INVALID", "DIGEST_MISMATCH",
    "SIGNER_CERT_MISSING", "SIG_DICT_MISSING", "SIG_DICT_COMPRESSED", "TIMESTAMP_INVALID",
})


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


# -- time-stamps ------------------------------------------------------------------------------------


def _first_der(data: bytes) -> bytes:
    """The first DER element of ``data`` (a /Contents string is zero-padded)."""
    _cls, _method, _tag, header, contents, trailer = asn1_parser.parse(data)
    return data[: len(header) + len(contents) + len(trailer)]


def _parse_token(token_der: bytes) -> tuple[Any, Any] | None:
    """(ContentInfo, TSTInfo) of an RFC 3161 token, or None when malformed."""
    try:
        ci = asn1_cms.ContentInfo.load(_first_der(token_der))
        sd = ci["content"]
        encap = sd["encap_content_info"]
        if encap["content_type"].dotted != _OID_TST_INFO:
            return None
        raw = encap["content"]
        body = raw.parsed if hasattr(raw, "parsed") else raw
        tst = body if isinstance(body, asn1_tsp.TSTInfo) else asn1_tsp.TSTInfo.load(bytes(raw.native))
        tst.native  # noqa: B018 - force a full parse
        return ci, tst
    except (ValueError, TypeError, KeyError, AttributeError, GMError):
        return None


def _check_token(ctx: _Context, token_der: bytes, imprint_of: Callable[[str], bytes | None]) -> TimestampReport:
    out = TimestampReport()
    parsed = _parse_token(token_der)
    if parsed is None:
        return out
    _ci, tst = parsed
    alg = tst["message_imprint"]["hash_algorithm"]["algorithm"].dotted
    expected = imprint_of(alg)
    imprint_ok = expected is not None and bytes(tst["message_imprint"]["hashed_message"].native) == expected
    try:
        info = gm_cms.verify_detached(token_der)
    except GMError:
        return out
    gen = tst["gen_time"].native
    if gen is not None and gen.tzinfo is None:
        gen = gen.replace(tzinfo=UTC)
    out.time = gen
    tsa = info.signer_certificate
    out.tsa = tsa.common_name if tsa is not None else None
    out.valid = bool(info.valid and imprint_ok)
    if tsa is not None and out.valid:
        chain = verify_chain(tsa, list(ctx.roots), list(info.certificates), at=gen, crls=list(ctx.crls))
        out.trusted = chain.trusted
    return out


def _embedded_timestamp(ctx: _Context, rep: SignatureReport, contents: bytes,
                        info: gm_cms.SignedDataInfo) -> TimestampReport | None:
    try:
        ci = asn1_cms.ContentInfo.load(_first_der(contents))
        si = ci["content"]["signer_infos"][0]
        unsigned = si["unsigned_attrs"]
        if isinstance(unsigned, core.Void) or unsigned.native is None:
            return None
        token = None
        for attr in unsigned:
            if attr["type"].dotted == _OID_TST_TOKEN:
                token = bytes(attr["values"][0].dump())
                break
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, GMError):
        return None
    if token is None:
        return None

    def imprint(alg: str) -> bytes | None:
        if alg == oids.SM3:
            return SM3(info.signature).digest()
        name = _HASHLIB_NAMES.get(alg)
        return hashlib.new(name, info.signature).digest() if name else None

    ts = _check_token(ctx, token, imprint)
    rep.timestamp = ts
    if not ts.valid:
        rep.add(_reason("TIMESTAMP_INVALID"))
    elif not ts.trusted:
        rep.add(_reason("TIMESTAMP_UNTRUSTED", ts.tsa or ""))
    return ts


def _verify_doc_timestamp(ctx: _Context, rep: SignatureReport, contents: bytes,
                          ranges: list[tuple[int, int]]) -> None:
    parsed = _parse_token(contents)
    alg = parsed[1]["message_imprint"]["hash_algorithm"]["algorithm"].dotted if parsed else oids.SM3
    extra = _HASHLIB_NAMES.get(alg)
    sm3_digest, other = ctx.hasher.digest(ranges, extra)

    def imprint(a: str) -> bytes | None:
        return sm3_digest if a == oids.SM3 else other

    ts = _check_token(ctx, contents, imprint)
    rep.timestamp = ts
    rep.signing_time, rep.signing_time_source = ts.time, "timestamp"
    rep.signer_cn = ts.tsa
    if not ts.valid:
        rep.add(_reason("TIMESTAMP_INVALID"))
        return
    rep.trusted = ts.trusted
    if not ts.trusted:
        rep.add(_reason("NO_TRUST_ROOTS" if not ctx.roots else "CHAIN_UNTRUSTED", ts.tsa or ""))


# -- entry point -------------------------------------------------------------------------------------


def verify_pdf(
    source: str | Path | BinaryIO | bytes,
    *,
    trust_roots: Sequence[Certificate] = (),
    crls: Sequence[Crl] = (),
    at: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> PdfVerificationReport:
    """Verify every signature of a PDF and what changed after each one.

    :param source: a path, a binary file object or the bytes of the file.
    :param trust_roots: trusted root certificates; without them signatures are
        at best ``untrusted``.
    :param crls: revocation lists to consult for the signer chain.
    :param at: time for the chain and revocation check (default: each
        signature's signing time). The signer certificate must always have
        been valid at signing time.
    :param progress: ``progress(done_bytes, total_bytes, Stage.VERIFY)`` while hashing.
    :param cancel: polled while hashing; returning True raises
        :class:`VerificationCancelled`.
    :raises PdfStructureError: empty input, not a PDF, or no readable revision
        (subclasses: ``NotAPdfError``, ``PdfReadError``, ``PdfTruncatedError``).
    """
    return _verify_pdf(source, trust_roots=trust_roots, crls=crls, at=at, progress=progress, cancel=cancel)


def _verify_pdf(
    source: str | Path | BinaryIO | bytes,
    *,
    trust_roots: Sequence[Certificate] = (),
    crls: Sequence[Crl] = (),
    at: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    known_digests: KnownDigests | None = None,
) -> PdfVerificationReport:
    """:func:`verify_pdf`, for the sealing flow's self-check: ``known_digests``
    supplies the SM3 of byte ranges the signer has just re-read and hashed from
    disk itself (on a worker thread, while this parses). Every check is the same;
    only the hashing of those exact ranges is not repeated."""
    src = PdfSource.open(source)
    try:
        s = PdfStructure(src)
        report = PdfVerificationReport(file=src.name, size=s.size, revision_count=len(s.revisions))
        if s.trailing_garbage is not None:
            tail = src[s.trailing_garbage:s.size]
            extra = f"offset {s.trailing_garbage}"
            if b"/ByteRange" in tail:
                extra += ", contains an unreadable signature"
            report.reasons.append(_reason("FILE_INCOMPLETE", extra, offset=s.trailing_garbage))
        found = find_signatures(s)
        known = {fs.sig_num for fs in found}
        for rev in reversed(s.revisions[:-1]):
            try:
                older = find_signatures(s, rev)
            except PdfStructureError:
                continue
            for fs in older:
                if fs.sig_num not in known:
                    known.add(fs.sig_num)
                    found.append(fs)
        sig_offsets: dict[int, int] = {}
        total = 0
        for fs in found:
            loc = s.locate(fs.sig_num, fs.found_in)
            sig_offsets[fs.sig_num] = loc.offset if loc is not None and loc.kind == "n" else s.size
            try:
                d = s.get(fs.sig_num, fs.found_in)
                br = d.get("ByteRange") if isinstance(d, dict) else None
                if isinstance(br, list) and len(br) == 4 and all(isinstance(x, int) for x in br):
                    total += max(0, br[1]) + max(0, min(br[3], s.size))
            except PdfStructureError:
                pass
        found.sort(key=lambda f: sig_offsets[f.sig_num])
        ctx = _Context(s, trust_roots, crls, at, _Hasher(src, total, progress, cancel, known_digests))
        for i, fs in enumerate(found, start=1):
            report.signatures.append(_verify_signature(ctx, fs, i))
        if not found:
            report.reasons.append(_reason("NO_SIGNATURES"))
        report.finish()
        return report
    finally:
        src.close()
