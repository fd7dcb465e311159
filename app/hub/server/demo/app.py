"""The demo trading system (业务系统): calls the hub (1, 2, 3, 6, 8, 10 and the
``encryptFor`` extension) and receives its callbacks (4, 7, 9).

A small web UI walks the whole flow: register a bidder, log in with the UKey, upload a
bid (encrypted on the platform through the CA service, or an envelope made with
``bidseal encrypt``), open bids, sign a PDF online (with the signed file's
verification), the embedded signing page, and a log of every callback received.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from app.envelope import EnvelopeError, read_info
from app.errors import BidSealError
from app.gm.sm3 import SM3, sm3_chunks
from app.gm.x509 import Certificate
from app.hub import signing
from app.hub.client import HubClient
from app.hub.errors import HubCode, HubError, bad_request
from app.hub.interfaces import interface
from app.hub.payload import Overrides, build_cert_payload
from app.hub.server import pages
from app.hub.server.checks import Limits, MemoryNonces, check_from_hub
from app.hub.server.demo import store as st
from app.hub.server.http import EXCEPTION_HANDLERS, guarded, json_endpoint, read_body
from app.pdfsign.errors import DetailedError
from app.pdfsign.verify import verify_pdf

DEMO_TEXTS = {
    "zh": {"demo_title": "演示交易系统", "demo_name": "辽宁省公共资源交易平台（演示）"},
    "en": {"demo_title": "Demo trading system", "demo_name": "Liaoning public resource trading platform (demo)"},
}


class DemoTradingSystem:
    def __init__(self, *, hub_url: str, ca_unit_id: str, orgcode: str, caller_secret: str, platform_secret: str,
                 data_dir: Path, trust_roots: list[Certificate], helper_ports: tuple[int, ...] | None,
                 public_url: str,
                 hub_api_url: str | None = None, hub_ca_bundle: str | None = None) -> None:
        # hub_api_url: where this server reaches the hub's API when that differs from the
        # hub's public URL (tests: a name only the browser resolves)
        self.hub = HubClient(hub_api_url or hub_url, read_timeout=300, ca_bundle=hub_ca_bundle)
        self.hub_url = hub_url
        self.ca_unit_id = ca_unit_id
        self.orgcode = orgcode
        self.caller_secret = caller_secret
        self.platform_secret = platform_secret
        self.data_dir = data_dir
        self.trust_roots = trust_roots
        self.helper_ports = helper_ports
        self.public_url = public_url
        for sub in ("bids", "opened", "signed"):
            (data_dir / sub).mkdir(parents=True, exist_ok=True)
        self.store = st.DemoStore(f"sqlite:///{data_dir / 'demo.sqlite'}")
        self.nonces = MemoryNonces()
        self.limits = Limits()

    # -- calling the hub ---------------------------------------------------------------
    def call(self, name: str, fields: dict[str, str]) -> dict[str, Any]:
        secret = self.caller_secret
        return self.hub.call(interface(name), fields, lambda path, f: signing.sign_hmac(path, f, secret))

    def new_task(self, kind: str, ref: str | None = None) -> str:
        task_id = f"{kind.upper()}-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
        self.store.insert(st.tasks, task_id=task_id, kind=kind, state="created", ref=ref, created_at=time.time())
        return task_id

    def _base(self, task_id: str) -> dict[str, str]:
        return {"caUnitId": self.ca_unit_id, "taskId": task_id, "orgcode": self.orgcode}

    def register(self, body: dict[str, Any]) -> dict[str, Any]:
        """Interface 1 (or 2 with ``paType``) from certificates the bidder's helper listed."""
        try:
            sign_cert = Certificate.load(base64.b64decode(str(body.get("signCert", ""))))
            enc_cert = Certificate.load(base64.b64decode(str(body.get("encCert", ""))))
            seal = base64.b64decode(str(body.get("seal", "")))
        except (ValueError, binascii.Error, BidSealError) as exc:
            raise bad_request("signCert", "证书或印章数据无效。", "The certificates or the seal image are invalid.") from exc
        pa_type = body.get("paType")
        fields = build_cert_payload(self.ca_unit_id, sign_cert, enc_cert, {"company": seal},
                                    Overrides(legal_name=body.get("legalName") or None,
                                              legal_id=body.get("legalId") or None),
                                    pa_type=pa_type if isinstance(pa_type, str) else None)
        result = self.call("changeCert" if pa_type else "userSynchro", fields)
        self._remember_bidder(fields, "revoked" if pa_type == "revoke" else "active")
        return {"code": 200, "hub": result, "unitName": fields["unitName"]}

    def _remember_bidder(self, fields: dict[str, str], status: str) -> None:
        self.store.upsert_bidder(unit_code=fields["unitCode"], unit_name=fields["unitName"],
                                 id_number=fields["idNumber"], sign_cert_sn=fields["signCertSn"],
                                 enc_cert_sn=fields["encCertSn"], status=status)

    def start_login(self) -> dict[str, Any]:
        task_id = self.new_task("login")
        return {"url": self.call("startCheck", self._base(task_id))["Loginurl"], "taskId": task_id}

    def upload_bid(self, body: bytes, unit_code: str, name: str, mode: str,
                   project: str = "LNGGZY-2026-0001") -> dict[str, Any]:
        bidder = self.store.rows(st.bidders, st.bidders.c.unit_code == unit_code)
        if not bidder:
            raise HubError(HubCode.NOT_FOUND, "ERR_DEMO_BIDDER", "没有该投标人：请先注册。", "No such bidder: register first.")
        bid_id = self.store.insert(st.bids, unit_code=unit_code, file_name=name[:200] or "bid.bin",
                                   plaintext_size=0, mode=mode, uploaded_at=time.time())
        path = self.data_dir / "bids" / f"{bid_id}.bse"
        if mode == "platform":  # plaintext -> hub -> CA service (interface 5) -> envelope
            fields = self._base(self.new_task("encrypt", str(bid_id))) | {
                "idNumber": bidder[0]["id_number"], "unitCode": unit_code,
                "decData": base64.b64encode(body).decode("ascii"),
                "standBy": json.dumps({"fileName": name, "projectId": project}, ensure_ascii=False)}
            envelope = base64.b64decode(self.call("encryptFor", fields)["encdata"])
            path.write_bytes(envelope)
            sm3 = SM3(body).hexdigest()
        else:  # an envelope made on the bidder's PC (bidseal encrypt)
            path.write_bytes(body)
            sm3 = None
        try:
            info = read_info(path)
        except EnvelopeError as exc:
            path.unlink(missing_ok=True)
            raise HubError(HubCode.INVALID_DATA, "ERR_DEMO_NOT_ENVELOPE", f"上传的不是投标文件数字信封：{exc.zh}",
                           f"The upload is not a bid envelope: {exc.en}") from exc
        self.store.update(st.bids, st.bids.c.id == bid_id, plaintext_size=info.plaintext_size,
                          plaintext_sm3=sm3 or info.plaintext_sm3, file_name=info.file_name if mode != "platform" else name)
        return {"code": 200, "bidId": bid_id, "size": info.plaintext_size}

    def open_bid(self, bid_id: int) -> dict[str, Any]:
        path = self.data_dir / "bids" / f"{bid_id}.bse"
        if not path.exists():
            raise HubError(HubCode.NOT_FOUND, "ERR_DEMO_BID", "没有该投标文件。", "No such bid.")
        task_id = self.new_task("decrypt", str(bid_id))
        fields = self._base(task_id) | {"encData": base64.b64encode(path.read_bytes()).decode("ascii")}
        return {"url": self.call("startdecrypt", fields)["decrypturl"], "taskId": task_id}

    def start_signature(self, pdf: bytes) -> dict[str, Any]:
        if not pdf:
            pdf = (pages.RESOURCES / "samples" / "bid-sample.pdf").read_bytes()
        task_id = self.new_task("sign")
        (self.data_dir / "signed" / f"{task_id}.orig.pdf").write_bytes(pdf)
        fields = self._base(task_id) | {"attFile": base64.b64encode(pdf).decode("ascii")}
        return {"url": self.call("startSignature", fields)["signurl"], "taskId": task_id}

    def start_iframe_sign(self) -> dict[str, Any]:
        task_id = self.new_task("iframesign")
        return {"url": self.call("startiframesign", self._base(task_id))["signurl"], "taskId": task_id}

    def iframe_upload(self, task_id: str, pdf: bytes) -> dict[str, Any]:
        """Interface 10's end: the business system uploads the file signed in the iframe."""
        report = self._keep_signed(task_id, "iframesign", pdf)
        self.store.event("startiframesign/upload", task_id, report)
        return {"code": 200, "verification": report}

    # -- receiving the hub's callbacks (4, 7, 9) ---------------------------------------
    def _from_hub(self, body: bytes, name: str) -> dict[str, str]:
        return check_from_hub(body, interface(name), self.platform_secret, self.nonces, self.limits)

    def _unknown_task(self) -> HubError:
        return HubError(HubCode.NOT_FOUND, "ERR_DEMO_TASK", "交易系统没有发起过该任务或任务已完成。",
                        "The trading system did not start this task, or it is already complete.", field="taskId")

    def feedback_result(self, body: bytes) -> dict[str, Any]:
        f = self._from_hub(body, "feedbackResult")
        summary = {k: f[k] for k in ("orgcode", "caUnitId", "taskId", "signCertSn", "idNumber", "encCertSn",
                                     "unitName", "unitCode")}
        if f["orgcode"] != self.orgcode or not self.store.close_task(f["taskId"], "login", summary):
            raise self._unknown_task()
        self.store.upsert_bidder(unit_code=f["unitCode"], unit_name=f["unitName"], id_number=f["idNumber"],
                                 sign_cert_sn=f["signCertSn"], enc_cert_sn=f["encCertSn"], status="active")
        self.store.event("feedbackResult", f["taskId"], summary)
        return {"code": 200, "msg": "登录成功 / logged in", "errData": None, "data": {"session": secrets.token_hex(8)}}

    def decrypted(self, body: bytes) -> dict[str, Any]:
        f = self._from_hub(body, "decrypt")
        task = self.store.task(f["taskId"])
        if task is None or task["kind"] != "decrypt":
            raise self._unknown_task()
        try:
            plain = base64.b64decode(f["decData"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_request("decData", "decData 不是有效的 base64。", "decData is not valid base64.") from exc
        sm3 = sm3_chunks([plain])
        bid_id = int(task["ref"])
        (self.data_dir / "opened" / f"{bid_id}.bin").write_bytes(plain)
        summary = {"taskId": f["taskId"], "bidId": bid_id, "size": len(plain), "sm3": sm3.hex(),
                   "encCertSn": f["encCertSn"]}
        if not self.store.close_task(f["taskId"], "decrypt", summary):
            raise self._unknown_task()
        self.store.update(st.bids, st.bids.c.id == bid_id, opened_sm3=sm3.hex(), opened_at=time.time())
        self.store.event("decrypt", f["taskId"], summary)
        return {"code": 200, "msg": "已接收 / received", "data": "ok", "taskId": f["taskId"]}

    def on_signature(self, body: bytes) -> dict[str, Any]:
        f = self._from_hub(body, "onSignature")
        task = self.store.task(f["taskId"])
        if f["orgcode"] != self.orgcode or task is None or task["kind"] != "sign" or task["state"] != "created":
            raise self._unknown_task()
        try:
            pdf = base64.b64decode(f["attFile"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_request("attFile", "attFile 不是有效的 base64。", "attFile is not valid base64.") from exc
        report = self._keep_signed(f["taskId"], "sign", pdf)
        self.store.event("onSignature", f["taskId"], report)
        return {"code": 200, "msg": "已接收 / received", "errData": None, "data": report}

    def _keep_signed(self, task_id: str, kind: str, pdf: bytes) -> dict[str, Any]:
        try:
            report = verify_pdf(pdf, trust_roots=self.trust_roots)
        except DetailedError as exc:
            raise HubError(HubCode.INVALID_DATA, "ERR_DEMO_PDF", f"签章文件无法验证：{exc.zh}",
                           f"The signed file cannot be verified: {exc.en}") from exc
        summary = {"taskId": task_id, "size": len(pdf), "status": report.status.value,
                   "signatures": [{"signer": s.signer_cn, "unit": s.unit_name, "serial": s.certificate_serial,
                                   "status": s.status.value, "coverage": s.coverage} for s in report.signatures]}
        if not self.store.close_task(task_id, kind, summary):
            raise self._unknown_task()
        (self.data_dir / "signed" / f"{task_id}.pdf").write_bytes(pdf)
        return summary

    def state(self) -> dict[str, Any]:
        def loads(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
            for r in rows:
                r[key] = json.loads(r[key]) if r.get(key) else None
            return rows

        return {
            "bidders": self.store.rows(st.bidders, order=st.bidders.c.id),
            "bids": self.store.rows(st.bids, order=st.bids.c.id),
            "tasks": loads(self.store.rows(st.tasks, order=st.tasks.c.created_at.desc()), "result"),
            "events": loads(self.store.rows(st.events, order=st.events.c.id.desc()), "summary"),
        }

    # -- web ---------------------------------------------------------------------------
    def app(self) -> Starlette:
        def dashboard(request: Request) -> HTMLResponse:
            lang = pages.language(request)
            texts = DEMO_TEXTS[lang]
            return pages.render("demo.html", lang, {"title": texts["demo_title"], **texts,
                                                    "hub_name": texts["demo_name"], "main_class": "wide"},
                                data={"lang": lang, "helperPorts": list(self.helper_ports) if self.helper_ports else None,
                                      "hub": self.hub_url,
                                      "caUnitId": self.ca_unit_id},
                                script="hub/demo.js", frame_src=pages.origin_of(self.hub_url))

        def json_call(fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
            def handler(body: bytes) -> dict[str, Any]:
                data = json.loads(body or b"{}") if body else {}
                if not isinstance(data, dict):
                    raise bad_request("body", "请求体应为 JSON 对象。", "The body must be a JSON object.")
                return fn(data)

            return json_endpoint(handler, 1024 * 1024)

        @guarded
        async def raw(request: Request) -> dict[str, Any]:
            body = await read_body(request, self.limits.max_body)
            q = request.query_params
            path = request.url.path
            if path.endswith("/bids"):
                return await run_in_threadpool(self.upload_bid, body, q.get("unitCode", ""), q.get("name", "bid.bin"),
                                               q.get("mode", "envelope"), q.get("project") or "LNGGZY-2026-0001")
            if path.endswith("/sign"):
                return await run_in_threadpool(self.start_signature, body)
            return await run_in_threadpool(self.iframe_upload, q.get("taskId", ""), body)

        async def state(_request: Request) -> Response:
            return JSONResponse(await run_in_threadpool(self.state))

        async def signed_file(request: Request) -> Response:
            name = request.path_params["task_id"]
            path = self.data_dir / "signed" / f"{name}.pdf"
            if not name.replace("-", "").isalnum() or not path.exists():
                return Response(status_code=404)
            return FileResponse(path, media_type="application/pdf")

        lim = self.limits.max_body
        return Starlette(routes=[
            Route("/", dashboard),
            Route("/api/ca/feedbackResult", json_endpoint(self.feedback_result, lim), methods=["POST"]),
            Route("/api/ca/decrypt", json_endpoint(self.decrypted, lim), methods=["POST"]),
            Route("/api/ca/onSignature", json_endpoint(self.on_signature, lim), methods=["POST"]),
            Route("/demo/api/register", json_call(self.register), methods=["POST"]),
            Route("/demo/api/login", json_call(lambda _b: self.start_login()), methods=["POST"]),
            Route("/demo/api/bids", raw, methods=["POST"]),
            Route("/demo/api/bids/{bid_id:int}/open", _path_call(lambda r: self.open_bid(r.path_params["bid_id"])),
                  methods=["POST"]),
            Route("/demo/api/sign", raw, methods=["POST"]),
            Route("/demo/api/iframesign", json_call(lambda _b: self.start_iframe_sign()), methods=["POST"]),
            Route("/demo/api/iframe-upload", raw, methods=["POST"]),
            Route("/demo/api/state", state),
            Route("/demo/signed/{task_id}.pdf", signed_file),
            Mount("/static", StaticFiles(directory=str(pages.WEB_DIR), check_dir=False), name="static"),
        ], exception_handlers=EXCEPTION_HANDLERS)


def _path_call(fn: Callable[[Request], dict[str, Any]]) -> Any:
    async def endpoint(request: Request) -> dict[str, Any]:
        return await run_in_threadpool(fn, request)

    return guarded(endpoint)
