"""Interfaces 6 (startdecrypt) -> decryption page -> 7 (decrypt) at bid opening.

6: the business system sends the bid envelope (``encData``: base64 of a BidSeal
envelope, as made by ``bidseal encrypt`` or by the CA service of interface 5). The hub
keeps it as a file, reads its header (project, unit, recipients; no key needed) and
answers ``decrypturl``.

The page hands the helper only the envelope's head (a few hundred bytes). After the
bidder's consent and PIN in BidSeal's own window, the UKey opens the bidder's entry and
the helper re-wraps the file key to the hub's encryption certificate
(``app.envelope.rewrap``); the page posts that ``RewrappedKey`` back. The hub decrypts
the whole envelope itself (every record, the header MAC and the plaintext SM3 checked),
so a large bid never travels through the browser, and a page cannot hand the hub a
made-up plaintext. Then 7 delivers ``decData`` (base64 of the plaintext) to the
business system, and the hub deletes its plaintext copy.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
from typing import Any

from app.envelope import EnvelopeError, read_info
from app.gm.keyops import SoftwareUnwrapper
from app.hub.errors import HubCode, HubError, bad_request
from app.hub.server.checks import Checked
from app.hub.server.service import Delivery, Hub, ok


def start_decrypt(hub: Hub, req: Checked) -> dict[str, Any]:
    try:
        data = base64.b64decode(req.fields["encData"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request("encData", "encData 不是有效的 base64。", "encData is not valid base64.") from exc
    tmp = hub.files / f"incoming-{os.getpid()}-{id(data)}.bse"
    tmp.write_bytes(data)
    del data
    try:
        info = read_info(tmp)
    except EnvelopeError as exc:
        tmp.unlink(missing_ok=True)
        raise HubError(HubCode.INVALID_DATA, "ERR_HUB_NOT_ENVELOPE", f"encData 不是有效的投标文件数字信封：{exc.zh}",
                       f"encData is not a valid bid envelope: {exc.en}", field="encData") from exc
    meta = {"fileName": info.file_name, "size": info.plaintext_size, "projectId": info.project_id,
            "unitCode": info.unit_code,
            "recipients": [{"unitName": r.unit_name or r.common_name, "unitCode": r.unit_code,
                            "serial": r.serial_hex} for r in info.recipients]}
    try:
        task = hub.new_task("decrypt", req.fields, meta)
    except HubError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(hub.task_file(task, "bse"))
    return ok(decrypturl=hub.page_url(task), taskId=req.fields["taskId"])


def head(hub: Hub, page_id: str) -> dict[str, Any]:
    """What the page gives the helper: the envelope head, and what the page shows."""
    task = hub.open_task(page_id, "decrypt")
    from app.envelope.rewrap import read_head

    return {"head": base64.b64encode(read_head(hub.task_file(task, "bse"))).decode("ascii"),
            "taskId": task["task_id"], "info": task["meta"],
            "hubCertificate": base64.b64encode(hub.cfg.hub_enc_cert.der).decode("ascii")}


def complete(hub: Hub, page_id: str, rewrapped_b64: str) -> Delivery:
    """Decrypt with the re-wrapped file key: interface 7 to deliver (the hub's plaintext
    copy is deleted once the delivery ended, whatever its outcome)."""
    task = hub.open_task(page_id, "decrypt")
    from app.envelope.rewrap import decrypt_rewrapped

    try:
        rewrapped = base64.b64decode(rewrapped_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request("rewrapped", "rewrapped 不是有效的 base64。", "rewrapped is not valid base64.") from exc
    out = hub.task_file(task, "plain")
    key = SoftwareUnwrapper(hub.cfg.hub_enc_cert, hub.cfg.hub_enc_key)

    def cleanup() -> None:
        with contextlib.suppress(OSError):
            out.unlink()

    try:
        info = decrypt_rewrapped(hub.task_file(task, "bse"), out, rewrapped, key, fsync=False)
    except EnvelopeError as exc:
        raise HubError(HubCode.INVALID_DATA, exc.code, f"解密失败：{exc.zh}", f"Decryption failed: {exc.en}") from exc
    try:
        serial, cert = _bidder_enc_cert(hub, info)
        fields = {"taskId": task["task_id"], "decData": base64.b64encode(out.read_bytes()).decode("ascii"),
                  "encCert": cert, "encCertSn": serial}
    except BaseException:
        cleanup()
        raise
    if task.get("standby"):
        fields["standBy"] = task["standby"]
    result = {"fileName": info.file_name, "size": info.plaintext_size, "sm3": info.plaintext_sm3,
              "encCertSn": serial, "recipients": len(info.recipients)}
    return Delivery(task, "decrypt", fields, result, cleanup)


def _bidder_enc_cert(hub: Hub, info: Any) -> tuple[str, str]:
    """(serial, base64 certificate) of the registered encryption certificate among the
    envelope's recipients (the bidder's), for 7's encCert/encCertSn."""
    for r in info.recipients:
        found = hub.db.enc_cert_by_sn(r.serial_hex)
        if found:
            return r.serial_hex, found[1]
    raise HubError(HubCode.INVALID_DATA, "ERR_HUB_NOT_SYNCED", "信封的接收者中没有在互认平台登记的加密证书。",
                   "None of the envelope's recipients is an encryption certificate registered with the hub.")
