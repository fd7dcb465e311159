"""Interface 5 (encrypt) from the hub's side, and BidSeal's ``encryptFor`` extension.

The seed's interface 5 is called by the hub on the CA service; the seed gives the
business system no way to ask for it. ``/api/bidseal/encrypt`` (an extension, same
``sign`` rules) lets a trading system have a bid encrypted for a registered bidder:
the hub looks up the bidder's current encryption certificate (interface 1-2 data) and
calls the CA service with its serial; ``encdata`` is a BidSeal envelope (base64), which
the decryption flow (6 -> 7) opens.
"""

from __future__ import annotations

from typing import Any

from app.hub.errors import HubCode, HubError
from app.hub.server.checks import Checked
from app.hub.server.service import Hub, ok


def encrypt_for(hub: Hub, req: Checked) -> dict[str, Any]:
    f = req.fields
    user = hub.db.user(f["caUnitId"], f["idNumber"])
    if user is None or user["unit_code"] != f["unitCode"] or user["status"] != "active":
        raise HubError(HubCode.NOT_FOUND, "ERR_HUB_UNKNOWN_USER", "互认平台没有该投标人的有效证书：请先进行数据同步（接口 1）。",
                       "The hub has no valid certificate for this bidder: synchronise it first (interface 1).",
                       field="idNumber")
    fields = {"idNumber": f["idNumber"], "unitCode": f["unitCode"], "taskId": f["taskId"],
              "decData": f["decData"], "encCertSn": user["enc_cert_sn"]}
    if f.get("standBy"):
        fields["standBy"] = f["standBy"]
    answer = hub.call_ca_service(fields)
    encdata = answer.get("encdata")
    if not isinstance(encdata, str) or not encdata:
        raise HubError(HubCode.UPSTREAM, "ERR_HUB_CA_SERVICE", "CA 服务没有返回密文。", "The CA service returned no ciphertext.")
    return ok(encdata=encdata, encCertSn=user["enc_cert_sn"], taskId=f["taskId"])
