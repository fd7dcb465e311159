"""Interfaces 8 (startSignature) -> signing page -> 9 (onSignature), and 10 (startiframesign).

8: the business system sends the document (``attFile``, base64 PDF); the hub keeps it
and answers ``signurl``. The page hands the PDF to the helper, which shows it, lets the
bidder place the seal, signs with the UKey and returns the signed PDF. Before calling 9
the hub checks what came back: the original bytes are untouched at the start of the
signed file (an incremental update), ``verify_pdf`` finds a new valid signature by a
trusted certificate covering the whole file, and that certificate belongs to a user
synchronised through interface 1.

10: the page of the CA's own signing service, to embed in an iframe; the signed file
goes back to the embedding page (``postMessage``) and the business system uploads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from app.gm.sm3 import SM3
from app.hub.errors import HubCode, HubError, bad_request
from app.hub.server.checks import Checked
from app.hub.server.service import Delivery, Hub, ok
from app.pdfsign.errors import DetailedError
from app.pdfsign.verify import verify_pdf


def _decode_pdf(value: str, field: str) -> bytes:
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request(field, f"{field} 不是有效的 base64。", f"{field} is not valid base64.") from exc
    if not data.startswith(b"%PDF-"):
        raise HubError(HubCode.INVALID_DATA, "ERR_HUB_NOT_PDF", f"{field} 不是 PDF 文件。", f"{field} is not a PDF file.",
                       field=field)
    return data


def start_signature(hub: Hub, req: Checked) -> dict[str, Any]:
    pdf = _decode_pdf(req.fields["attFile"], "attFile")
    meta = {"size": len(pdf), "sm3": SM3(pdf).hexdigest(), "name": f"{req.fields['taskId']}.pdf"}
    task = hub.new_task("sign", req.fields, meta)
    path = hub.task_file(task, "pdf")
    path.write_bytes(pdf)
    return ok(taskId=req.fields["taskId"], signurl=hub.page_url(task))


def start_iframe_sign(hub: Hub, req: Checked) -> dict[str, Any]:
    task = hub.new_task("iframesign", req.fields)
    return ok(signurl=hub.page_url(task), taskId=req.fields["taskId"])


def document(hub: Hub, page_id: str) -> tuple[bytes, dict[str, Any]]:
    task = hub.open_task(page_id, "sign")
    return hub.task_file(task, "pdf").read_bytes(), task


def check_signed(hub: Hub, original: bytes, signed: bytes) -> dict[str, Any]:
    """What the hub demands of a signed document before it is delivered (see module doc)."""
    if len(signed) <= len(original) or not signed.startswith(original):
        raise HubError(HubCode.INVALID_DATA, "ERR_HUB_SIGNED_NOT_INCREMENTAL",
                       "签章后的文件改动了原文件的内容（应只在末尾追加签名）。",
                       "The signed file changed the original bytes (a signature must only be appended).")
    try:
        report = verify_pdf(signed, trust_roots=hub.cfg.trust_roots)
    except DetailedError as exc:
        raise HubError(HubCode.INVALID_DATA, "ERR_HUB_SIGNED_UNREADABLE", f"签章后的文件无法验证：{exc.zh}",
                       f"The signed file cannot be verified: {exc.en}") from exc
    new = [s for s in report.signatures if (s.byte_range and s.byte_range[0] == 0
                                            and s.byte_range[2] + s.byte_range[3] == len(signed))]
    if not report.all_valid or not new:
        raise HubError(HubCode.INVALID_DATA, "ERR_HUB_SIGNED_INVALID", "签章后的文件验证未通过，未提交给交易系统。",
                       "The signed file did not verify; it was not delivered to the trading system.",
                       verdict=report.status.value)
    sig = new[-1]
    users = [u for u in hub.db.user_by_sign_sn(sig.certificate_serial or "") if u["status"] == "active"]
    if not users:
        raise HubError(HubCode.INVALID_DATA, "ERR_HUB_NOT_SYNCED", "签章证书未在互认平台登记或已注销。",
                       "The signing certificate is not registered with the hub or was revoked.")
    return {"status": report.status.value, "signatures": report.signature_count, "signer": sig.signer_cn,
            "unitName": sig.unit_name, "unitCode": sig.unit_code, "signCertSn": sig.certificate_serial,
            "sha256": hashlib.sha256(signed).hexdigest()}


def deliver_signed(hub: Hub, page_id: str, signed: bytes) -> Delivery:
    """Check the signed document: interface 9 to deliver."""
    original, task = document(hub, page_id)
    summary = check_signed(hub, original, signed)
    fields = {"caUnitId": task["ca_unit_id"], "taskId": task["task_id"], "orgcode": task["orgcode"],
              "attFile": base64.b64encode(signed).decode("ascii")}
    if task.get("standby"):
        fields["standBy"] = task["standby"]
    return Delivery(task, "onSignature", fields, summary)
