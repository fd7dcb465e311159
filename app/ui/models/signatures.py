"""What the signature panel shows (Qt-free): one :class:`SignatureView` per signature.

Built from :func:`app.pdfsign.verify.verify_pdf`'s report by :func:`report_view` -
in the engine process, so the window never imports the PDF engine - and carried
back as plain data with every sentence in both languages.

Verdicts, worst first: ``invalid`` (the signature does not verify, bytes changed),
``modified`` (intact, but the document was changed after signing or the seal
removed), ``expired`` (the certificate was not valid at signing time),
``untrusted`` (intact, signer not chained to a trusted root), ``valid``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.ui.i18n import Text

Box = tuple[float, float, float, float]


class Verdict(enum.StrEnum):
    VALID = "valid"
    UNTRUSTED = "untrusted"
    EXPIRED = "expired"
    MODIFIED = "modified"
    INVALID = "invalid"


VERDICT_TEXT: dict[Verdict, Text] = {
    Verdict.VALID: ("有效", "Valid"),
    Verdict.UNTRUSTED: ("签名完好，签署人不受信任", "Intact, signer not trusted"),
    Verdict.EXPIRED: ("签署时证书已过期或未生效", "Certificate expired at signing"),
    Verdict.MODIFIED: ("签名后文档被修改", "Modified after signing"),
    Verdict.INVALID: ("无效（内容被改动或签名损坏）", "Invalid (content changed or signature broken)"),
}
VERDICT_COLOURS = {
    Verdict.VALID: "#1b7a3a",
    Verdict.UNTRUSTED: "#b07d00",
    Verdict.EXPIRED: "#c25e00",
    Verdict.MODIFIED: "#c0392b",
    Verdict.INVALID: "#a00000",
}
VERDICT_ICONS = {Verdict.VALID: "✔", Verdict.UNTRUSTED: "!", Verdict.EXPIRED: "⌛",
                 Verdict.MODIFIED: "✎", Verdict.INVALID: "✖"}

#: The issuer name of the demo CA that provisions the virtual key (app.demo.pki).
DEMO_ISSUER = "BidSeal Demo"

_EXPIRED_CODES = {"CERT_EXPIRED_AT_SIGNING", "CERT_NOT_YET_VALID_AT_SIGNING"}
_MODIFIED_CODES = {"MODIFIED_AFTER_SIGNING", "SIGNATURE_REMOVED"}
_BROKEN_CODES = {"DIGEST_MISMATCH", "SIGNATURE_INVALID", "BYTERANGE_GAP_MISMATCH", "COVERAGE_PARTIAL",
                 "BYTERANGE_OUT_OF_BOUNDS", "BYTERANGE_MALFORMED", "CONTENTS_MALFORMED", "CMS_MALFORMED",
                 "SIG_DICT_MISSING", "SIGNER_CERT_MISSING"}


def verdict_of(status: str, codes: set[str], modification: str) -> Verdict:
    """Collapse a report's status and reason codes into the panel's verdict."""
    if status == "valid":
        return Verdict.VALID
    if status == "untrusted":
        return Verdict.UNTRUSTED
    if codes & _BROKEN_CODES:
        return Verdict.INVALID
    if codes & _MODIFIED_CODES or modification == "modified":
        return Verdict.MODIFIED
    if codes & _EXPIRED_CODES:
        return Verdict.EXPIRED
    return Verdict.INVALID


@dataclass(frozen=True)
class ReasonView:
    code: str
    severity: str
    text: Text


@dataclass(frozen=True)
class SignatureView:
    index: int
    field_name: str
    verdict: Verdict
    signer: str
    unit_name: str
    unit_code: str
    certificate_serial: str
    issuer: str
    not_before: datetime | None
    not_after: datetime | None
    signing_time: datetime | None
    time_source: str
    pages: tuple[int, ...]  # 1-based, as the report gives them
    coverage: Text
    modification: Text
    reasons: tuple[ReasonView, ...]
    changes: tuple[Text, ...]
    reason: str = ""
    location: str = ""
    object_number: int | None = None
    #: Where the seal is drawn: (0-based page, displayed rectangle in points).
    spots: tuple[tuple[int, Box], ...] = ()
    details: Text = ("", "")
    #: Signed with a certificate of BidSeal's demo CA (the virtual key): never a real bid.
    demo: bool = False

    @property
    def verdict_text(self) -> Text:
        return VERDICT_TEXT[self.verdict]

    @property
    def colour(self) -> str:
        return VERDICT_COLOURS[self.verdict]

    @property
    def title(self) -> Text:
        return (f"{VERDICT_ICONS[self.verdict]} 签名 {self.index}", f"{VERDICT_ICONS[self.verdict]} Signature {self.index}")

    @property
    def who(self) -> str:
        return self.unit_name or self.signer or "?"


@dataclass(frozen=True)
class VerificationView:
    """The whole file: each signature and document-level findings."""

    path: str
    size: int
    revision_count: int
    signatures: tuple[SignatureView, ...]
    findings: tuple[ReasonView, ...] = field(default_factory=tuple)
    trusted_roots: int = 0

    @property
    def summary(self) -> Text:
        n = len(self.signatures)
        if n == 0:
            return ("此文件没有签名。", "This file has no signatures.")
        bad = sum(1 for s in self.signatures if s.verdict is not Verdict.VALID)
        if bad == 0:
            return (f"共 {n} 个签名，全部有效。", f"{n} signature(s), all valid.")
        return (f"共 {n} 个签名，其中 {bad} 个需要注意。", f"{n} signature(s); {bad} need attention.")


def _reason_view(r: Any) -> ReasonView:
    return ReasonView(str(r.code), str(getattr(r.severity, "value", r.severity)), (str(r.zh), str(r.en)))


def signature_view(rep: Any, spots: tuple[tuple[int, Box], ...] = ()) -> SignatureView:
    """One :class:`app.pdfsign.report.SignatureReport` as the panel shows it."""
    from app.pdfsign.report import COVERAGE_TEXT, MODIFICATION_TEXT

    codes = {r.code for r in rep.reasons}
    verdict = verdict_of(str(rep.status), codes, str(rep.modification))
    changes = tuple((str(c.get("zh", "")), str(c.get("en", ""))) for c in rep.changes
                    if c.get("level") == "modified")
    return SignatureView(
        index=int(rep.index), field_name=rep.field_name or "", verdict=verdict,
        signer=rep.signer_cn or "", unit_name=rep.unit_name or "", unit_code=rep.unit_code or "",
        certificate_serial=rep.certificate_serial or "", issuer=rep.issuer or "",
        not_before=rep.certificate_not_before, not_after=rep.certificate_not_after,
        signing_time=rep.signing_time, time_source=rep.signing_time_source or "",
        pages=tuple(int(p) for p in rep.pages),
        coverage=COVERAGE_TEXT.get(rep.coverage, (rep.coverage, rep.coverage)),
        modification=MODIFICATION_TEXT.get(rep.modification, (rep.modification, rep.modification)),
        reasons=tuple(_reason_view(r) for r in rep.reasons), changes=changes,
        reason=rep.reason or "", location=rep.location or "", object_number=rep.object_number,
        spots=spots, details=(rep.to_text("zh"), rep.to_text("en")),
        demo=DEMO_ISSUER in (rep.issuer or ""),
    )


def report_view(report: Any, spots: dict[int, tuple[tuple[int, Box], ...]] | None = None,
                trusted_roots: int = 0) -> VerificationView:
    """A :class:`app.pdfsign.report.PdfVerificationReport` as the panel shows it;
    ``spots`` maps a signature's object number to where its seal is drawn."""
    spots = spots or {}
    return VerificationView(
        path=str(report.file), size=int(report.size), revision_count=int(report.revision_count),
        signatures=tuple(signature_view(s, spots.get(s.object_number or -1, ())) for s in report.signatures),
        findings=tuple(_reason_view(r) for r in report.reasons if r.code != "NO_SIGNATURES"),
        trusted_roots=trusted_roots,
    )
