"""Verification results: dataclasses, stable JSON and human text (Chinese first).

:class:`PdfVerificationReport` is what :func:`app.pdfsign.verify.verify_pdf`
returns; the CLI prints :meth:`PdfVerificationReport.to_text` or
:meth:`PdfVerificationReport.to_dict`, the GUI shows the same facts. JSON keys
are part of the interface: add keys, never rename them.

Statuses (per signature and overall):

``valid``
    intact, covering the whole file or a whole revision, signed by a certificate
    that chains to a configured root, nothing disallowed changed afterwards;
``untrusted``
    everything checks except trust: the chain does not reach a configured root
    (or no roots were configured);
``invalid``
    anything else; :attr:`SignatureReport.reasons` says why.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.gm.x509 import Certificate

__all__ = [
    "COVERAGE_TEXT",
    "MODIFICATION_TEXT",
    "PdfVerificationReport",
    "Reason",
    "Severity",
    "SignatureReport",
    "Status",
    "TimestampReport",
]


class Status(enum.StrEnum):
    """A ``str`` enum, so ``report.status == "valid"`` works too."""

    VALID = "valid"
    UNTRUSTED = "untrusted"
    INVALID = "invalid"


class Severity(enum.StrEnum):
    """What a reason does to the status: ``invalid`` and ``untrusted`` lower it,
    ``info`` is reported only (e.g. the empty SM2 ID was used)."""

    INVALID = "invalid"
    UNTRUSTED = "untrusted"
    INFO = "info"


@dataclass(frozen=True)
class Reason:
    """A finding with a stable ``code`` and a sentence in Chinese and English."""

    code: str
    zh: str
    en: str
    severity: Severity = Severity.INVALID
    details: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "zh") -> str:
        return self.en if lang.lower().startswith("en") else self.zh

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity.value, "zh": self.zh, "en": self.en,
                "details": self.details}


@dataclass
class TimestampReport:
    """An RFC 3161 token: embedded in a signature or a document time-stamp."""

    time: datetime | None = None
    tsa: str | None = None
    valid: bool = False
    trusted: bool = False
    #: why a valid token is not trusted: ``chain`` (the TSA does not chain to a trusted
    #: root) or ``not_tsa_certificate`` (no critical timeStamping extended key usage)
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"time": _iso(self.time), "tsa": self.tsa, "valid": self.valid, "trusted": self.trusted,
                "problem": self.problem}


def _status_of(severities: set[Severity]) -> Status:
    """The worst status the severities allow: any ``invalid`` makes it invalid, else any
    ``untrusted`` makes it untrusted, else (only ``info`` or nothing) it is valid."""
    if Severity.INVALID in severities:
        return Status.INVALID
    if Severity.UNTRUSTED in severities:
        return Status.UNTRUSTED
    return Status.VALID


def _where(details: dict[str, Any], en: bool) -> str:
    """" — kind, page N, [x1 y1 x2 y2]" for a change that names what a reader sees."""
    parts = []
    if details.get("kind"):
        parts.append(f"/{details['kind']}")
    if details.get("page"):
        parts.append(f"page {details['page']}" if en else f"第 {details['page']} 页")
    rect = details.get("rect")
    if rect:
        parts.append("[" + " ".join(f"{x:g}" for x in rect) + "]")
    return (" — " + ", ".join(parts)) if parts else ""


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


COVERAGE_TEXT: dict[str, tuple[str, str]] = {
    "entire_file": ("整个文件", "the entire file"),
    "entire_revision": ("签名时的完整修订版本", "the entire revision that was signed"),
    "partial": ("部分内容（无效）", "only part of the file (invalid)"),
    "unknown": ("无法确定", "unknown"),
}

#: One text per modification level. The exact sentence for one signature (which says
#: "only signatures were added" only when that is true) is
#: :meth:`SignatureReport.modification_text`.
MODIFICATION_TEXT: dict[str, tuple[str, str]] = {
    "none": ("签名后未修改", "not modified after signing"),
    "signature_added": ("签名后追加了签名或验证信息", "signatures or validation data added after signing"),
    "form_filled": ("签名后填写了表单（认证签名允许）", "form fields filled in after signing (the certification allows it)"),
    "modified": ("签名后被修改", "modified after signing"),
    "unknown": ("无法确定", "unknown"),
}
_ONLY_SIGNATURES = ("签名后仅追加了签名", "only signatures were added after signing")
_ONLY_BOOKKEEPING = ("签名后仅更新了元数据或验证信息", "only metadata or validation data was updated after signing")
_SIGNATURES_AND_BOOKKEEPING = ("签名后追加了签名，并更新了元数据或验证信息",
                               "signatures were added after signing, and metadata or validation data was updated")

_STATUS_TEXT = {
    Status.VALID: ("有效", "valid"),
    Status.UNTRUSTED: ("签名完好但签署人证书不受信任", "intact, but the signer is not trusted here"),
    Status.INVALID: ("无效", "INVALID"),
}
_DEMO_MARK = ("（演示证书）", " (DEMO certificate)")
_DEMO_VERDICT = ("注意：签署人证书来自演示 CA（虚拟 UKey），签名只能用于演示，不代表真实单位身份。",
                 "Note: a signer's certificate comes from a demo CA (the virtual UKey); such signatures "
                 "are demos, not real identities.")
_VERDICT_TEXT = {
    Status.VALID: ("结论：全部签名有效，签名后没有不允许的修改。",
                   "Result: every signature is valid; nothing disallowed changed after signing."),
    Status.UNTRUSTED: ("结论：签名完好，但有签署人证书不受信任（未配置或不在信任根中）。",
                       "Result: the signatures are intact, but a signer is not trusted here."),
    Status.INVALID: ("结论：验证未通过，原因见下。", "Result: INVALID — see the reasons below."),
}
_KIND_TEXT = {
    "approval": ("签名", "signature"),
    "certification": ("认证签名", "certification signature"),
    "timestamp": ("文档时间戳", "document time-stamp"),
}
_ID_TEXT = {
    "default": ("默认标识 1234567812345678", "default ID 1234567812345678"),
    "empty": ("空标识（非 GM/T 0009 默认值）", "empty ID (not the GM/T 0009 default)"),
    "none": ("无（直接签摘要）", "none (digest signed directly)"),
}
_TIME_SOURCE = {
    "timestamp": ("可信时间戳", "trusted time-stamp"),
    "signing_time": ("签署人自报的 signingTime，未经时间戳证明", "signingTime claimed by the signer, not proven"),
    "pdf_m": ("PDF /M，签署人自报且未受签名保护", "PDF /M, claimed by the signer and not protected by the signature"),
    "verification_time": ("验证时间（签名中无时间）", "verification time (the signature has no time)"),
    "timestamp_untrusted": ("不可信的时间戳，仅供参考", "untrusted time-stamp, for information only"),
}
_VALIDATION_SOURCE = {
    "timestamp": ("按可信时间戳的时间", "at the trusted time-stamp's time"),
    "verification_time": ("按验证时的当前时间（无可信时间戳）", "now, at verification (no trusted time-stamp)"),
    "requested": ("按指定的验证时间", "at the requested validation time"),
}


@dataclass
class SignatureReport:
    """Everything known about one signature (one /Sig value, however many widgets)."""

    index: int
    field_name: str | None = None
    kind: str = "approval"
    status: Status = Status.INVALID
    reasons: list[Reason] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    widget_count: int = 0
    signer_cn: str | None = None
    unit_name: str | None = None
    unit_code: str | None = None
    certificate_serial: str | None = None
    issuer: str | None = None
    certificate_not_before: datetime | None = None
    certificate_not_after: datetime | None = None
    #: the signing time as claimed (signingTime, /M) or proven (a trusted time-stamp)
    signing_time: datetime | None = None
    signing_time_source: str | None = None
    #: when the certificate's validity and revocation were judged, and why then:
    #: ``timestamp`` (a trusted time-stamp), ``verification_time`` (now: claims of the
    #: signer never count) or ``requested`` (the caller's ``at``)
    validation_time: datetime | None = None
    validation_time_source: str | None = None
    timestamp: TimestampReport | None = None
    reason: str | None = None
    location: str | None = None
    contact_info: str | None = None
    name: str | None = None
    sub_filter: str | None = None
    byte_range: list[int] | None = None
    coverage: str = "unknown"
    signed_revision: int | None = None
    signed_revision_end: int | None = None
    revision_count: int = 0
    modification: str = "unknown"
    changes: list[dict[str, Any]] = field(default_factory=list)
    sm2_id: str | None = None
    oid_family: str | None = None
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None
    integrity: bool = False
    trusted: bool = False
    chain: list[str] = field(default_factory=list)
    docmdp_permissions: int | None = None
    object_number: int | None = None
    #: the chain ends at a demo root (the virtual UKey's CA): a demo, not a real identity
    demo: bool = False


    def describe_signer(self, cert: Certificate) -> None:
        """Fill the signer fields from the signer's certificate (CMS and SES signatures alike)."""
        self.signer_cn = cert.subject.common_name
        self.unit_name = cert.unit_name
        self.unit_code = cert.unit_code
        self.certificate_serial = cert.serial_hex
        self.issuer = cert.issuer.rfc4514()
        self.certificate_not_before = cert.not_before
        self.certificate_not_after = cert.not_after
    def add(self, reason: Reason) -> None:
        if all(r.code != reason.code for r in self.reasons):
            self.reasons.append(reason)

    def modification_text(self, lang: str = "zh") -> str:
        """What happened after signing, in one sentence: "only signatures were added"
        exactly when every later change is a new signature."""
        i = 1 if lang.lower().startswith("en") else 0
        if self.modification == "signature_added":
            codes = {c.get("code") for c in self.changes}
            if codes <= {"signature_added"}:
                return _ONLY_SIGNATURES[i]
            if "signature_added" not in codes:
                return _ONLY_BOOKKEEPING[i]
            return _SIGNATURES_AND_BOOKKEEPING[i]
        return MODIFICATION_TEXT.get(self.modification, (self.modification, self.modification))[i]

    def finish(self) -> None:
        """Derive :attr:`status` from the reasons."""
        self.status = _status_of({r.severity for r in self.reasons})

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "field_name": self.field_name,
            "kind": self.kind,
            "status": self.status.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "pages": list(self.pages),
            "widget_count": self.widget_count,
            "signer": {
                "common_name": self.signer_cn,
                "unit_name": self.unit_name,
                "unit_code": self.unit_code,
                "certificate_serial": self.certificate_serial,
                "issuer": self.issuer,
                "not_before": _iso(self.certificate_not_before),
                "not_after": _iso(self.certificate_not_after),
            },
            "signing_time": _iso(self.signing_time),
            "signing_time_source": self.signing_time_source,
            "validation_time": _iso(self.validation_time),
            "validation_time_source": self.validation_time_source,
            "timestamp": self.timestamp.to_dict() if self.timestamp else None,
            "reason": self.reason,
            "location": self.location,
            "contact_info": self.contact_info,
            "name": self.name,
            "sub_filter": self.sub_filter,
            "byte_range": self.byte_range,
            "coverage": self.coverage,
            "signed_revision": self.signed_revision,
            "signed_revision_end": self.signed_revision_end,
            "revision_count": self.revision_count,
            "modification": self.modification,
            "modification_text": {"zh": self.modification_text("zh"), "en": self.modification_text("en")},
            "changes": list(self.changes),
            "sm2_id": self.sm2_id,
            "oid_family": self.oid_family,
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "integrity": self.integrity,
            "trusted": self.trusted,
            "chain": list(self.chain),
            "docmdp_permissions": self.docmdp_permissions,
            "object_number": self.object_number,
            "demo": self.demo,
        }

    def to_text(self, lang: str = "zh") -> str:
        en = lang.lower().startswith("en")
        i = 1 if en else 0

        def line(zh: str, eng: str, value: Any) -> str:
            return f"  {eng if en else zh}: {value}"

        kind = _KIND_TEXT.get(self.kind, (self.kind, self.kind))[i]
        title = (f"Signature {self.index} ({kind}) field '{self.field_name or '-'}': "
                 if en else f"签名 {self.index}（{kind}）域「{self.field_name or '-'}」：")
        out = [title + _STATUS_TEXT[self.status][i] + (_DEMO_MARK[i] if self.demo else "")]
        if self.signer_cn or self.unit_name:
            out.append(line("签署人", "Signer", self.signer_cn or "-"))
            out.append(line("单位", "Unit", self.unit_name or "-"))
            out.append(line("统一社会信用代码", "Unit code (USCC)", self.unit_code or "-"))
            out.append(line("证书序列号", "Certificate serial", self.certificate_serial or "-"))
            out.append(line("颁发者", "Issuer", self.issuer or "-"))
        if self.signing_time:
            src = _TIME_SOURCE.get(self.signing_time_source or "", ("", ""))[i]
            out.append(line("签署时间", "Signing time", f"{self.signing_time.isoformat()} ({src})"))
        if self.validation_time:
            src = _VALIDATION_SOURCE.get(self.validation_time_source or "", ("", ""))[i]
            out.append(line("证书有效性与吊销检查", "Certificate validity and revocation checked",
                            f"{self.validation_time.isoformat()} ({src})"))
        if self.pages:
            out.append(line("所在页", "Pages", ", ".join(str(p) for p in self.pages)))
        if self.reason:
            out.append(line("签署原因", "Reason", self.reason))
        if self.location:
            out.append(line("签署地点", "Location", self.location))
        cov = COVERAGE_TEXT.get(self.coverage, (self.coverage, self.coverage))[i]
        if self.coverage == "entire_revision" and self.signed_revision:
            cov += (f" (revision {self.signed_revision} of {self.revision_count})" if en
                    else f"（第 {self.signed_revision} 版，共 {self.revision_count} 版）")
        out.append(line("签名覆盖", "Covers", cov))
        out.append(line("签名后修改", "After signing", self.modification_text(lang)))
        if self.sm2_id:
            out.append(line("SM2 用户标识", "SM2 ID", _ID_TEXT.get(self.sm2_id, (self.sm2_id,) * 2)[i]))
        if self.oid_family:
            fam = {"pkcs7": "PKCS#7", "gm": "GM/T 0010"}.get(self.oid_family, self.oid_family)
            out.append(line("CMS 类型", "CMS OIDs", fam))
        for r in self.reasons:
            mark = {"invalid": "✗", "untrusted": "!", "info": "i"}[r.severity.value]
            out.append(f"  {mark} [{r.code}] {r.message(lang)}")
        for c in self.changes:
            if c.get("level") == "modified":
                out.append(f"    - {c['en'] if en else c['zh']}{_where(c.get('details') or {}, en)}"
                           + (f" (obj {c['object']})" if c.get("object") is not None else ""))
        return "\n".join(out)


@dataclass
class PdfVerificationReport:
    """The whole file: every signature plus document-level findings."""

    file: str
    size: int
    revision_count: int = 0
    signatures: list[SignatureReport] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    status: Status = Status.INVALID

    @property
    def signature_count(self) -> int:
        return len(self.signatures)

    @property
    def demo(self) -> bool:
        """True when any signature chains to a demo root (see :attr:`SignatureReport.demo`)."""
        return any(s.demo for s in self.signatures)

    @property
    def all_valid(self) -> bool:
        """True only when there is at least one signature, every one is valid
        (trusted) and nothing disallowed happened after signing."""
        return self.status is Status.VALID

    def finish(self) -> None:
        sev = {r.severity for r in self.reasons} | {
            Severity.INVALID if s.status is Status.INVALID
            else Severity.UNTRUSTED if s.status is Status.UNTRUSTED else Severity.INFO
            for s in self.signatures
        }
        self.status = _status_of(sev) if self.signatures else Status.INVALID

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "size": self.size,
            "status": self.status.value,
            "revision_count": self.revision_count,
            "signature_count": self.signature_count,
            "demo": self.demo,
            "reasons": [r.to_dict() for r in self.reasons],
            "signatures": [s.to_dict() for s in self.signatures],
        }

    def to_text(self, lang: str = "zh") -> str:
        en = lang.lower().startswith("en")
        if en:
            head = [f"File: {self.file} ({self.size} bytes, {self.revision_count} revision(s), "
                    f"{self.signature_count} signature(s))"]
        else:
            head = [f"文件：{self.file}（{self.size} 字节，{self.revision_count} 个修订版本，"
                    f"{self.signature_count} 个签名）"]
        head.append(_VERDICT_TEXT[self.status][1 if en else 0])
        if self.demo:
            head.append(_DEMO_VERDICT[1 if en else 0])
        for r in self.reasons:
            head.append(f"  [{r.code}] {r.message(lang)}")
        body = [s.to_text(lang) for s in self.signatures]
        return "\n".join(head + [""] + body if body else head)
