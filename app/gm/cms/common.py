"""What SignedData and EnvelopedData share: OIDs and content-type families, attribute
and name building blocks, errors, and loading a ContentInfo (with PDF zero padding)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

import asn1crypto.tsp as asn1_tsp
from asn1crypto import cms, core, parser

from app.gm import oids
from app.gm.errors import GMError
from app.gm.x509 import Certificate

oids.register()
_ = asn1_tsp  # importing asn1crypto.tsp registers the ESS signingCertificate(V2) attributes

ContentTypeFamily = Literal["pkcs7", "gm"]
#: A signed/unsigned attribute: an asn1crypto CMSAttribute, or (type OID, [DER of each value]).
Attribute: TypeAlias = "cms.CMSAttribute | tuple[str, Sequence[bytes]]"

DUMMY_SIGNATURE_SIZE = 72  # the longest DER SM2 signature

_SIGNED_TYPES = {oids.PKCS7_SIGNED_DATA: "pkcs7", oids.GM_SIGNED_DATA: "gm"}
_ENVELOPED_TYPES = {oids.PKCS7_ENVELOPED_DATA: "pkcs7", oids.GM_ENVELOPED_DATA: "gm"}
_DATA = {"pkcs7": oids.PKCS7_DATA, "gm": oids.GM_DATA}
_SIGNED = {"pkcs7": oids.PKCS7_SIGNED_DATA, "gm": oids.GM_SIGNED_DATA}
_ENVELOPED = {"pkcs7": oids.PKCS7_ENVELOPED_DATA, "gm": oids.GM_ENVELOPED_DATA}

_OID_SIGNING_CERT = "1.2.840.113549.1.9.16.2.12"
_OID_SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"


def _fmt_error(en_detail: str = "") -> GMError:
    return GMError(
        "签名数据（CMS/PKCS#7）格式错误，无法解析：可能已损坏或被截断。",
        "The signature data (CMS/PKCS#7) is malformed and cannot be parsed; it may be damaged or truncated.",
        code="ERR_CMS_FORMAT",
        detail=en_detail,
    )


def _unsupported(zh: str, en: str, **details: Any) -> GMError:
    return GMError(zh, en, code="ERR_CMS_UNSUPPORTED", **details)


# -- building blocks ----------------------------------------------------------------


class _RawAttribute(core.Sequence):
    _fields = [("type", core.ObjectIdentifier), ("values", core.SetOf, {"spec": core.Any})]


def _attribute(attr: Attribute) -> cms.CMSAttribute:
    if isinstance(attr, cms.CMSAttribute):
        return attr
    oid, values = attr
    raw = _RawAttribute({"type": oid, "values": [core.Any.load(v) for v in values]})
    return cms.CMSAttribute.load(raw.dump())


def _cms_time(dt: datetime) -> cms.Time:
    dt = dt.astimezone(UTC).replace(microsecond=0)
    if 1950 <= dt.year < 2050:
        return cms.Time(name="utc_time", value=dt)
    return cms.Time(name="general_time", value=dt)


def _issuer_and_serial(cert: Certificate) -> cms.IssuerAndSerialNumber:
    return cms.IssuerAndSerialNumber({
        "issuer": cert.asn1["tbs_certificate"]["issuer"],
        "serial_number": cert.serial_number,
    })


def strip_padding(data: bytes) -> bytes:
    """The first DER/BER element of ``data`` (e.g. a PDF ``/Contents`` value); anything
    after it must be zero bytes, otherwise :class:`GMError`."""
    data = bytes(data)
    if not data:
        raise _fmt_error("empty input")
    try:
        _cls, _method, _tag, header, contents, trailer = parser.parse(data)
    except ValueError as exc:
        raise _fmt_error(str(exc)[:200]) from exc
    end = len(header) + len(contents) + len(trailer)
    if any(data[end:]):
        raise _fmt_error("non-zero bytes after the CMS structure")
    return data[:end]


_strip_padding = strip_padding  # kept for callers that used the private name


def _load_content_info(data: bytes, accepted: dict[str, str]) -> tuple[cms.ContentInfo, str]:
    der = strip_padding(data)
    try:
        ci = cms.ContentInfo.load(der, strict=True)
        ctype = ci["content_type"].dotted
    except (ValueError, TypeError, KeyError) as exc:
        raise _fmt_error(str(exc)[:200]) from exc
    if ctype not in accepted:
        raise _unsupported(
            "不是所需类型的 CMS 数据（内容类型不符）。",
            "This CMS data is not of the expected type (content type differs).",
            content_type=ctype,
        )
    return ci, accepted[ctype]
