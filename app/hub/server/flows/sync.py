"""Interfaces 1 (userSynchro) and 2 (changeCert): the bidder's certificate data.

The hub accepts a record only when it is consistent: both certificates parse, were
issued by a CA the hub trusts, are valid now, the serials in the request are theirs,
the unit code and ID numbers are well-formed and match the certificate, and the seal
image is a PNG. A revoked certificate cannot be synchronised again.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.gm.names import is_valid_resident_id, is_valid_uscc
from app.gm.x509 import Certificate, verify_chain
from app.hub.errors import HubCode, HubError, bad_request
from app.hub.payload import CST, ID_TYPE_RESIDENT, ID_TYPE_USCC, ID_TYPES, TIME_FORMAT
from app.hub.server.checks import Checked, certificate_field
from app.hub.server.service import Hub, ok

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PA_EVENTS = {"0": "renew", "1": "change", "2": "revoke"}


def _invalid(field: str, zh: str, en: str, reason: str = "ERR_HUB_DATA") -> HubError:
    return HubError(HubCode.INVALID_DATA, reason, zh, en, field=field)


def check_trusted(hub: Hub, cert: Certificate, field: str) -> None:
    """Chains to a root the hub trusts, every certificate of the path valid now."""
    result = verify_chain(cert, hub.cfg.trust_roots)
    if not result.problems:
        return
    expired = any(p in ("EXPIRED", "NOT_YET_VALID") for p in result.problems)
    if expired:
        raise _invalid(field, f"{field} 不在有效期内。", f"{field} is not within its validity period.",
                       "ERR_HUB_CERT_EXPIRED")
    raise _invalid(field, f"{field} 不是互认平台认可的 CA 签发的证书。",
                   f"{field} was not issued by a CA the hub recognises.", "ERR_HUB_CERT_UNTRUSTED")


def _record(hub: Hub, f: Mapping[str, str]) -> dict[str, Any]:
    sign_cert = certificate_field(f, "signCert")
    enc_cert = certificate_field(f, "encCert")
    for cert, name in ((sign_cert, "signCert"), (enc_cert, "encCert")):
        check_trusted(hub, cert, name)
    if f["signCertSn"].upper() != sign_cert.serial_hex:
        raise _invalid("signCertSn", "signCertSn 与签名证书的序列号不一致。",
                       "signCertSn is not the signing certificate's serial number.")
    if f["encCertSn"].upper() != enc_cert.serial_hex:
        raise _invalid("encCertSn", "encCertSn 与加密证书的序列号不一致。",
                       "encCertSn is not the encryption certificate's serial number.")
    if sign_cert.public_key == enc_cert.public_key or not enc_cert.is_encryption_cert:
        raise _invalid("encCert", "encCert 不是加密证书。", "encCert is not an encryption certificate.")
    if not is_valid_uscc(f["unitCode"]):
        raise bad_request("unitCode", "统一社会信用代码格式或校验位错误。",
                          "The unified social credit code is malformed or its check character is wrong.")
    if sign_cert.unit_code and sign_cert.unit_code != f["unitCode"]:
        raise _invalid("unitCode", "unitCode 与证书中的统一社会信用代码不一致。",
                       "unitCode differs from the code in the certificate.")
    if f["idType"] not in ID_TYPES:
        raise bad_request("idType", "idType 应为 01（居民身份证）或 02（统一社会信用代码）。",
                          "idType must be 01 (resident ID) or 02 (unified social credit code).")
    valid_id = is_valid_resident_id(f["idNumber"]) if f["idType"] == ID_TYPE_RESIDENT else \
        f["idType"] == ID_TYPE_USCC and f["idNumber"] == f["unitCode"]
    if not valid_id:
        raise bad_request("idNumber", "证件号码与证件类型不符或校验位错误。",
                          "The ID number does not fit its type or its check digit is wrong.")
    if not is_valid_resident_id(f["legalIdcard"]):
        raise bad_request("legalIdcard", "法定代表人身份证号无效。", "The legal representative's ID number is invalid.")
    try:
        datetime.strptime(f["certEndTime"], TIME_FORMAT).replace(tzinfo=CST)
    except ValueError as exc:
        raise bad_request("certEndTime", "certEndTime 格式应为 yyyy-MM-dd HH:mm:ss。",
                          "certEndTime must be yyyy-MM-dd HH:mm:ss.") from exc
    try:
        seal = base64.b64decode(f["signature"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request("signature", "signature（签章图片）不是有效的 base64。",
                          "signature (the seal image) is not valid base64.") from exc
    if not seal.startswith(PNG_MAGIC):
        raise _invalid("signature", "signature（签章图片）应为 PNG 图片。", "signature (the seal image) must be a PNG.")
    return {
        "ca_unit_id": f["caUnitId"], "id_type": f["idType"], "id_number": f["idNumber"],
        "user_name": f["userName"], "unit_name": f["unitName"], "unit_code": f["unitCode"],
        "sign_cert": f["signCert"], "enc_cert": f["encCert"], "sign_cert_sn": sign_cert.serial_hex,
        "enc_cert_sn": enc_cert.serial_hex, "cert_end_time": f["certEndTime"], "legal_name": f["legalName"],
        "legal_idcard": f["legalIdcard"], "signature": f["signature"],
    }


def _refuse_revoked(hub: Hub, record: Mapping[str, Any]) -> None:
    for user in hub.db.user_by_sign_sn(str(record["sign_cert_sn"])):
        if user["status"] == "revoked" and user["sign_cert_sn"] == record["sign_cert_sn"]:
            raise _invalid("signCertSn", "该证书已注销，不能再次同步。", "This certificate was revoked; it cannot be synchronised.",
                           "ERR_HUB_CERT_REVOKED")


def user_synchro(hub: Hub, req: Checked) -> dict[str, Any]:
    """Interface 1: create or refresh the user of (caUnitId, idNumber)."""
    record = _record(hub, req.fields)
    _refuse_revoked(hub, record)
    uid, created = hub.db.upsert_user(record | {"status": "active"}, "sync")
    return ok(data={"userId": uid, "created": created, "signCertSn": record["sign_cert_sn"]})


def change_cert(hub: Hub, req: Checked) -> dict[str, Any]:
    """Interface 2: renewal (0), change (1) or revocation (2) of a synchronised user."""
    pa_type = req.fields["paType"]
    if pa_type not in PA_EVENTS:
        raise bad_request("paType", "paType 应为 0（延期）、1（变更）或 2（注销）。",
                          "paType must be 0 (renewal), 1 (change) or 2 (revocation).")
    record = _record(hub, req.fields)
    current = hub.db.user(req.fields["caUnitId"], req.fields["idNumber"])
    if current is None:
        raise HubError(HubCode.NOT_FOUND, "ERR_HUB_UNKNOWN_USER", "互认平台没有该用户：请先进行数据同步（接口 1）。",
                       "The hub has no such user: synchronise it first (interface 1).", field="idNumber")
    event = PA_EVENTS[pa_type]
    if event == "revoke":
        if current["sign_cert_sn"] != record["sign_cert_sn"]:
            raise _invalid("signCertSn", "注销的证书不是该用户当前的证书。", "The certificate to revoke is not the user's current one.")
        status = "revoked"
    else:
        _refuse_revoked(hub, record)
        status = "active"
    uid, _created = hub.db.upsert_user(record | {"status": status}, event)
    return ok(data={"userId": uid, "event": event, "status": status, "signCertSn": record["sign_cert_sn"],
                    "previousSignCertSn": current["sign_cert_sn"]})
