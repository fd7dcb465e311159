"""Interfaces 1-2 from the UKey: the userSynchro / changeCert payload.

Everything comes from what the key holds without a PIN (both certificates and the seal
image); the few facts a certificate may not carry (legal representative, their ID
number) can be supplied by the caller, and a payload that would be incomplete or
inconsistent is refused here, before anything asks for the PIN or touches the network.

Encodings (resources/docs/platform-api.md, "Interfaces 1-2"): certificates as base64
DER, serials as upper-case hex, ``certEndTime`` as ``yyyy-MM-dd HH:mm:ss`` in China
Standard Time (UTC+8), ``signature`` as the base64 PNG of the seal image, ``idType``
``"01"`` (resident ID, GB 11643: a personal certificate) or ``"02"`` (unified social
credit code, GB 32100: a unit certificate).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from app.gm.names import is_valid_resident_id, is_valid_uscc
from app.gm.x509 import Certificate
from app.hub.errors import HubCode, HubError
from app.hub.interfaces import PA_TYPES

ID_TYPE_RESIDENT = "01"
ID_TYPE_USCC = "02"
ID_TYPES = {ID_TYPE_RESIDENT: "居民身份证 / resident ID", ID_TYPE_USCC: "统一社会信用代码 / unified social credit code"}
CST = timezone(timedelta(hours=8), "CST")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_LEGAL_ID_RE = re.compile(r"(?:法定代表人身份证号|法人身份证号?|身份证号码?)\s*[:：=]\s*([0-9]{17}[0-9Xx])")
#: preferred seal for ``signature``: the unit's seal, else the legal representative's
SEAL_ORDER = ("company", "legal")


class PayloadError(HubError):
    """The key's data cannot make a complete, consistent payload (nothing was sent)."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(HubCode.BAD_REQUEST, "ERR_HUB_PAYLOAD", zh, en, field=field)


def format_time(t: datetime) -> str:
    return t.astimezone(CST).strftime(TIME_FORMAT)


def b64_der(cert: Certificate) -> str:
    return base64.b64encode(cert.der).decode("ascii")


def legal_id_in(cert: Certificate) -> str | None:
    """A legal representative's ID number labelled in the subject (``身份证号:…``)."""
    for value in cert.subject.values():
        m = _LEGAL_ID_RE.search(value)
        if m and is_valid_resident_id(m.group(1).upper()):
            return m.group(1).upper()
    return None


def person_id_in(cert: Certificate) -> str | None:
    """The holder's resident ID when the certificate is a personal one (subject serialNumber)."""
    for value in cert.subject.get("2.5.4.5"):
        if is_valid_resident_id(value.upper()):
            return value.upper()
    return None


@dataclass(frozen=True)
class Overrides:
    """Facts the caller adds when the certificate lacks them (CLI options)."""

    legal_name: str | None = None
    legal_id: str | None = None
    user_name: str | None = None
    seal_kind: str | None = None


def build_cert_payload(ca_unit_id: str, sign_cert: Certificate, enc_cert: Certificate | None,
                       seals: Mapping[str, bytes], overrides: Overrides | None = None,
                       *, pa_type: str | None = None) -> dict[str, str]:
    """The userSynchro fields (and ``paType`` for changeCert: renew, change or revoke)
    for one identity; raises :class:`PayloadError` naming the first missing fact."""
    o = overrides or Overrides()
    if not ca_unit_id.strip():
        raise PayloadError("caUnitId", "缺少互认平台分配的标识 caUnitId。", "The caUnitId is missing.")
    if enc_cert is None:
        raise PayloadError("encCert", "UKey 中没有加密证书，无法同步。",
                           "The UKey holds no encryption certificate; nothing can be synchronised.")
    unit_code = sign_cert.unit_code
    if not unit_code or not is_valid_uscc(unit_code):
        raise PayloadError("unitCode", "签名证书中没有有效的统一社会信用代码。",
                           "The signing certificate carries no valid unified social credit code.")
    unit_name = sign_cert.unit_name
    if not unit_name:
        raise PayloadError("unitName", "签名证书中没有单位名称。", "The signing certificate names no unit.")
    if enc_cert.unit_code and enc_cert.unit_code != unit_code:
        raise PayloadError("encCert", "加密证书与签名证书属于不同单位。",
                           "The encryption and signing certificates belong to different units.")
    person_id = person_id_in(sign_cert)
    id_type, id_number = (ID_TYPE_RESIDENT, person_id) if person_id else (ID_TYPE_USCC, unit_code)
    legal_name = o.legal_name or sign_cert.legal_name
    if not legal_name:
        raise PayloadError("legalName", "证书中没有法定代表人姓名：请用 --legal-name 提供。",
                           "The certificate names no legal representative: pass --legal-name.")
    legal_id = (o.legal_id or legal_id_in(sign_cert) or "").upper()
    if not legal_id:
        raise PayloadError("legalIdcard", "证书中没有法定代表人身份证号：请用 --legal-id 提供。",
                           "The certificate has no legal representative ID number: pass --legal-id.")
    if not is_valid_resident_id(legal_id):
        raise PayloadError("legalIdcard", "法定代表人身份证号无效（位数、出生日期或校验位不对）。",
                           "The legal representative's ID number is invalid (length, birth date or check digit).")
    seal = _seal(seals, o.seal_kind)
    fields = {
        "caUnitId": ca_unit_id.strip(),
        "userName": o.user_name or sign_cert.common_name or unit_name,
        "idType": id_type,
        "idNumber": id_number,
        "unitName": unit_name,
        "unitCode": unit_code,
        "signCert": b64_der(sign_cert),
        "encCert": b64_der(enc_cert),
        "signCertSn": sign_cert.serial_hex,
        "encCertSn": enc_cert.serial_hex,
        "certEndTime": format_time(min(sign_cert.not_after, enc_cert.not_after)),
        "legalName": legal_name,
        "legalIdcard": legal_id,
        "signature": base64.b64encode(seal).decode("ascii"),
    }
    if pa_type is not None:
        if pa_type not in PA_TYPES:
            raise PayloadError("paType", f"未知的变更类型：{pa_type}。", f"Unknown change type: {pa_type}.")
        fields["paType"] = PA_TYPES[pa_type]
    return fields


def _seal(seals: Mapping[str, bytes], kind: str | None) -> bytes:
    if kind is not None:
        if kind not in seals:
            raise PayloadError("signature", f"UKey 中没有名为 {kind} 的印章图片。",
                               f"The UKey holds no seal image named {kind}.")
        return seals[kind]
    for k in SEAL_ORDER:
        if k in seals:
            return seals[k]
    if seals:
        return seals[sorted(seals)[0]]
    raise PayloadError("signature", "UKey 中没有印章图片（签章），无法同步。",
                       "The UKey holds no seal image (signature); nothing can be synchronised.")
