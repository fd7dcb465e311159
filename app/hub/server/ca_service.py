"""The CA service's end of interface 5 (``/api/ca/encrypt``): encrypt ``decData`` to the
encryption certificate ``encCertSn``.

The service knows the certificates it issued (``lookup``: serial -> certificate); it
refuses a request whose ``idNumber``/``unitCode`` do not belong to that certificate's
holder, and answers the seed's bare ``{encdata, taskId}`` (plus ``code``/``msg``).
``decData`` is base64 of the plaintext bytes; ``encdata`` is base64 of a BidSeal
envelope (resources/docs/envelope-format.md) made to that one certificate.
"""

from __future__ import annotations

import base64
import binascii
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from app.envelope import EnvelopeError, encrypt_file
from app.gm.x509 import Certificate
from app.hub.errors import HubCode, HubError, bad_request
from app.hub.interfaces import interface
from app.hub.server.checks import Limits, MemoryNonces, check_from_hub
from app.hub.server.http import EXCEPTION_HANDLERS, json_endpoint

CertificateLookup = Callable[[str], "tuple[Certificate, str, str] | None"]  # serial -> (cert, idNumber, unitCode)


def encrypt_bytes(data: bytes, recipients: list[Certificate], *, name: str = "data.bin",
                  project_id: str | None = None, unit_code: str | None = None) -> bytes:
    """A BidSeal envelope of ``data`` (through temporary files: the engine streams files)."""
    with tempfile.TemporaryDirectory(prefix="bidseal-ca-") as tmp:
        src, dst = Path(tmp) / name, Path(tmp) / "out.bse"
        src.write_bytes(data)
        encrypt_file(src, dst, recipients, project_id=project_id, unit_code=unit_code, fsync=False)
        return dst.read_bytes()


def _stand_by(fields: dict[str, str]) -> tuple[str, str | None]:
    """(file name, project ID) for the envelope: ``standBy`` may carry
    ``{"fileName": ..., "projectId": ...}`` (the project the bid belongs to, which the
    helper checks against the hub's allowed projects at opening)."""
    try:
        extra = json.loads(fields.get("standBy") or "{}")
    except ValueError:
        extra = None
    extra = extra if isinstance(extra, dict) else {}
    name, project = extra.get("fileName"), extra.get("projectId")
    ok_name = isinstance(name, str) and name.strip() and "/" not in name and "\\" not in name and len(name) <= 120
    ok_project = isinstance(project, str) and 0 < len(project.strip()) <= 64
    return (name.strip() if ok_name else f"{fields['taskId'][:60]}.bin"), (project.strip() if ok_project else None)


class CaService:
    def __init__(self, secret: str, lookup: CertificateLookup, limits: Limits | None = None) -> None:
        self.secret = secret
        self.lookup = lookup
        self.limits = limits or Limits()
        self.nonces = MemoryNonces()

    def encrypt(self, body: bytes) -> dict[str, Any]:
        f = check_from_hub(body, interface("encrypt"), self.secret, self.nonces, self.limits)
        found = self.lookup(f["encCertSn"].upper())
        if found is None:
            raise HubError(HubCode.NOT_FOUND, "ERR_CA_UNKNOWN_CERT", "本 CA 没有该序列号的加密证书。",
                           "This CA has no encryption certificate with that serial number.", field="encCertSn")
        cert, id_number, unit_code = found
        if f["idNumber"] != id_number or f["unitCode"] != unit_code:
            raise HubError(HubCode.INVALID_DATA, "ERR_CA_HOLDER_MISMATCH", "证件号码或统一社会信用代码与该证书的持有人不符。",
                           "The ID number or unit code does not belong to this certificate's holder.",
                           field="idNumber")
        try:
            data = base64.b64decode(f["decData"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_request("decData", "decData 应为明文的 base64。", "decData must be base64 of the plaintext.") from exc
        try:
            name, project = _stand_by(f)
            env = encrypt_bytes(data, [cert], name=name, project_id=project, unit_code=unit_code)
        except EnvelopeError as exc:
            raise HubError(HubCode.INVALID_DATA, exc.code, exc.zh, exc.en, field="encCertSn") from exc
        return {"code": 200, "msg": "成功 / OK", "encdata": base64.b64encode(env).decode("ascii"), "taskId": f["taskId"]}

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/ca/encrypt", json_endpoint(self.encrypt, self.limits.max_body),
                                       methods=["POST"])], exception_handlers=EXCEPTION_HANDLERS)
