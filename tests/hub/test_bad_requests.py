"""Bad requests to every endpoint get a non-200 ``code`` with a clear ``msg`` and change
nothing: missing, extra, empty and wrongly typed fields, bad ``sign`` (wrong key,
altered field, stale timestamp, malformed), a replayed request, unknown callers and
platforms, unknown and expired tasks, oversized bodies and attachments.

Every receiver is covered: the hub (1, 2, 3, 6, 8, 10 and the encryptFor extension),
the CA service (5) and the demo trading system's callbacks (4, 7, 9)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from app.demo.pki import DEMO_LEGAL_ID
from app.hub import signing
from app.hub.interfaces import interface
from app.hub.server import db as dbm
from app.hub.server.ca_service import encrypt_bytes
from app.hub.server.demo import store as demo_store
from tests.hub.conftest import DEMO_CA_UNIT_ID, DEMO_ORGCODE, Live, start_live

SAMPLE_PDF = Path(__file__).resolve().parents[2] / "resources" / "samples" / "bid-sample.pdf"


@pytest.fixture(scope="module", autouse=True)
def _synced(live: Live) -> None:
    assert live.post("userSynchro", live.sync_payload()).json()["code"] == 200


def _wrong_check(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def _task() -> str:
    return "T-" + secrets.token_hex(6)


def _valid(live: Live, name: str) -> tuple[dict[str, str], str, str]:
    """(fields, base URL, secret) of a request that would be accepted."""
    base = {"caUnitId": DEMO_CA_UNIT_ID, "taskId": _task(), "orgcode": DEMO_ORGCODE}
    pki = live.pki
    hub, secret = live.hub_url, live.caller_secret
    if name == "userSynchro":
        return live.sync_payload(), hub, secret
    if name == "changeCert":
        return live.sync_payload(paType="0"), hub, secret
    if name in ("startCheck", "startiframesign"):
        return base, hub, secret
    if name == "startdecrypt":
        env = encrypt_bytes(b"bid", [pki.enc_cert])
        return base | {"encData": base64.b64encode(env).decode()}, hub, secret
    if name == "startSignature":
        return base | {"attFile": base64.b64encode(SAMPLE_PDF.read_bytes()).decode()}, hub, secret
    if name == "encryptFor":
        return base | {"idNumber": pki.subject.unit_code or "", "unitCode": pki.subject.unit_code or "",
                       "decData": base64.b64encode(b"x").decode()}, hub, secret
    if name == "encrypt":
        return {"idNumber": pki.subject.unit_code or "", "unitCode": pki.subject.unit_code or "",
                "taskId": _task(), "decData": "eA==", "encCertSn": pki.enc_cert.serial_hex}, \
            live.ca_url, live.plat.secrets["ca_service"]
    demo, psecret = live.demo_url, live.plat.secrets["platform"]
    if name == "feedbackResult":
        return base | {"signCertSn": pki.sign_cert.serial_hex, "idNumber": "x", "signCert": "x", "encCert": "x",
                       "encCertSn": "x", "unitName": "x", "unitCode": "x"}, demo, psecret
    if name == "decrypt":
        return {"taskId": _task(), "decData": "eA==", "encCert": "x", "encCertSn": "x"}, demo, psecret
    if name == "onSignature":
        return base | {"attFile": "eA=="}, demo, psecret
    raise AssertionError(name)


ALL = ["userSynchro", "changeCert", "startCheck", "feedbackResult", "encrypt", "startdecrypt", "decrypt",
       "startSignature", "onSignature", "startiframesign", "encryptFor"]


def _snapshot(live: Live) -> dict[str, object]:
    db = live.plat.hub.db
    with db.tx() as c:
        hub = {t.name: [tuple(r) for r in c.execute(t.select()).all()]
               for t in (dbm.users, dbm.cert_history, dbm.tasks)}
    demo = {t.name: live.plat.demo.store.rows(t) for t in (demo_store.tasks, demo_store.events, demo_store.bids)}
    return {"hub": hub, "demo": demo, "files": sorted(p.name for p in live.plat.hub.files.iterdir())}


def _post(url: str, name: str, body: object, raw: bytes | None = None) -> requests.Response:
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(url + interface(name).path, data=data, headers={"Content-Type": "application/json"},
                         timeout=60)


def _refused(resp: requests.Response, code: int, reason: str | None = None) -> dict:
    assert resp.status_code < 500, resp.text
    body = resp.json()
    assert body["code"] == code, body
    assert body["msg"] and " / " in body["msg"], body  # Chinese / English
    if reason:
        assert reason in (body.get("errData") or ""), body
    return body


def _sign(name: str, fields: dict, secret: str, **kw: object) -> str:
    return signing.sign_hmac(interface(name).path, fields, secret, **kw)  # type: ignore[arg-type]


Mutation = Callable[[str, dict, str], tuple[object, int, str]]


def _missing(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    first = interface(name).required[0]
    f = {k: v for k, v in fields.items() if k != first}
    return f | {"sign": _sign(name, f, secret)}, 400, f"ERR_HUB_BAD_REQUEST: {first}"


def _extra(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    f = fields | {"zExtra": "1"}
    return f | {"sign": _sign(name, f, secret)}, 400, "zExtra"


def _wrong_type(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    last = interface(name).required[-1]
    return fields | {last: 12345, "sign": _sign(name, fields, secret)}, 400, last


def _null(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    first = interface(name).required[0]
    return fields | {first: None, "sign": _sign(name, fields, secret)}, 400, first


def _empty(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    first = interface(name).required[0]
    f = fields | {first: "  "}
    return f | {"sign": _sign(name, f, secret)}, 400, first


def _no_sign(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    return dict(fields), 400, "sign"


def _wrong_secret(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    return fields | {"sign": _sign(name, fields, secret + "x")}, 401, "ERR_HUB_SIGN_INVALID"


def _altered(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    sign = _sign(name, fields, secret)
    f = dict(fields)
    f["taskId" if "taskId" in f else "userName"] = f.get("taskId", f.get("userName", "")) + "9"
    return f | {"sign": sign}, 401, "ERR_HUB_SIGN_INVALID"


def _stale(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    return fields | {"sign": _sign(name, fields, secret, timestamp=int(time.time()) - 3600)}, 401, \
        "ERR_HUB_SIGN_EXPIRED"


def _malformed(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    return fields | {"sign": "md5=0123456789abcdef"}, 401, "ERR_HUB_SIGN_FORMAT"


def _other_path(name: str, fields: dict, secret: str) -> tuple[object, int, str]:
    # a signature made for another interface with the same fields
    return fields | {"sign": signing.sign_hmac("/api/ca/other", fields, secret)}, 401, "ERR_HUB_SIGN_INVALID"


MUTATIONS = [_missing, _extra, _wrong_type, _null, _empty, _no_sign, _wrong_secret, _altered, _stale, _malformed,
             _other_path]


@pytest.mark.parametrize("name", ALL)
def test_bad_requests_are_refused_and_change_nothing(live: Live, name: str) -> None:
    fields, url, secret = _valid(live, name)
    before = _snapshot(live)
    for mutate in MUTATIONS:
        body, code, reason = mutate(name, fields, secret)
        _refused(_post(url, name, body), code, reason)
    _refused(_post(url, name, None, raw=b"{not json"), 400, "body")
    _refused(_post(url, name, None, raw=b"[1, 2]"), 400, "body")
    _refused(_post(url, name, None, raw=b'"text"'), 400, "body")
    assert _snapshot(live) == before


@pytest.mark.parametrize("name", ["userSynchro", "startCheck", "startdecrypt", "startSignature",
                                  "startiframesign", "encrypt"])
def test_replayed_request_is_refused(live: Live, name: str) -> None:
    fields, url, secret = _valid(live, name)
    body = fields | {"sign": _sign(name, fields, secret)}
    first = _post(url, name, body)
    assert first.json()["code"] == 200, first.text
    after_first = _snapshot(live)
    _refused(_post(url, name, body), 409, "ERR_HUB_REPLAY")
    assert _snapshot(live) == after_first


def test_task_id_cannot_be_started_twice(live: Live) -> None:
    fields, url, secret = _valid(live, "startCheck")
    assert live.post("startCheck", fields).json()["code"] == 200
    before = _snapshot(live)
    _refused(live.post("startCheck", fields), 409, "ERR_HUB_TASK_EXISTS")
    assert _snapshot(live) == before


def test_unknown_caller_and_foreign_orgcode(live: Live) -> None:
    fields, _url, _secret = _valid(live, "startCheck")
    before = _snapshot(live)
    _refused(live.post("startCheck", fields | {"caUnitId": "NOBODY"}), 403, "ERR_HUB_UNKNOWN_CALLER")
    _refused(live.post("startCheck", fields | {"orgcode": "OTHER-PLATFORM"}), 403, "ERR_HUB_ORGCODE")
    assert _snapshot(live) == before


def test_sync_data_checks(live: Live, hub_pki) -> None:
    from app.demo.pki import demo_pki

    stranger = demo_pki(unit_name="外省某公司", root_name="Unknown CA")
    before = _snapshot(live)
    cases = [
        (live.sync_payload(signCertSn="ABCDEF"), 422, "signCertSn"),
        (live.sync_payload(encCert=live.sync_payload()["signCert"]), 422, "encCert"),
        (live.sync_payload(unitCode="91210100MA0Y8B6K20"), 400, "unitCode"),
        (live.sync_payload(idType="99"), 400, "idType"),
        (live.sync_payload(legalIdcard=_wrong_check(DEMO_LEGAL_ID)), 400, "legalIdcard"),
        (live.sync_payload(certEndTime="tomorrow"), 400, "certEndTime"),
        (live.sync_payload(signature=base64.b64encode(b"GIF89a....").decode()), 422, "signature"),
        (live.sync_payload(signature="***"), 400, "signature"),
        (live.sync_payload(signCert="bm90IGEgY2VydA=="), 422, "ERR_HUB_CERT_FORMAT"),
        (live.sync_payload(signCert=base64.b64encode(stranger.sign_cert.der).decode(),
                           signCertSn=stranger.sign_cert.serial_hex), 422, "ERR_HUB_CERT_UNTRUSTED"),
        (live.sync_payload(paType="7"), 400, "paType"),
    ]
    for fields, code, reason in cases:
        name = "changeCert" if "paType" in fields else "userSynchro"
        _refused(live.post(name, fields), code, reason)
    assert _snapshot(live) == before


def test_change_cert_of_an_unknown_user(live: Live) -> None:
    fields = live.sync_payload(paType="1", idNumber=live.pki.subject.unit_code or "")
    from app.hub.server import db as d

    with live.plat.hub.db.tx() as c:
        c.execute(d.users.delete())
    before = _snapshot(live)
    _refused(live.post("changeCert", fields), 404, "ERR_HUB_UNKNOWN_USER")
    assert _snapshot(live) == before


def test_unknown_and_finished_tasks_at_the_trading_system(live: Live) -> None:
    before = _snapshot(live)
    for name in ("feedbackResult", "decrypt", "onSignature"):
        fields, url, secret = _valid(live, name)
        _refused(_post(url, name, fields | {"sign": _sign(name, fields, secret)}), 404, "ERR_DEMO_TASK")
    assert _snapshot(live) == before


def test_unknown_pages_and_page_apis(live: Live) -> None:
    before = _snapshot(live)
    for kind in ("login", "decrypt", "sign", "iframesign"):
        r = requests.get(f"{live.hub_url}/hub/{kind}/not-a-task", timeout=10)
        assert r.status_code == 404 and "任务不存在" in r.text
    for method, path in (("POST", "login/x/challenge"), ("POST", "login/x/token"), ("GET", "decrypt/x/head"),
                         ("POST", "decrypt/x/rewrapped"), ("GET", "sign/x/document")):
        r = requests.request(method, f"{live.hub_url}/hub/api/{path}", json={"token": {}, "rewrapped": "eA=="},
                             timeout=10)
        _refused(r, 404, "ERR_HUB_UNKNOWN_TASK")
    r = requests.post(f"{live.hub_url}/hub/api/sign/x/signed", data=b"%PDF-1.7", timeout=10)
    _refused(r, 404, "ERR_HUB_UNKNOWN_TASK")
    assert _snapshot(live) == before


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory, hub_pki, hub_pki_dir):
    lv, servers = start_live(tmp_path_factory.mktemp("hub-short"), hub_pki, hub_pki_dir, task_ttl=1,
                             max_att_file=4096, max_body=256 * 1024)
    try:
        yield lv
    finally:
        servers.stop()
        lv.plat.hub.db.dispose()


def test_expired_task(short_lived: Live) -> None:
    live = short_lived
    fields, _url, _secret = _valid(live, "startCheck")
    url = live.post("startCheck", fields).json()["Loginurl"]
    time.sleep(1.3)
    before = _snapshot(live)
    r = requests.get(url, timeout=10)
    assert r.status_code == 410 and "过期" in r.text
    page_id = url.rsplit("/", 1)[1]
    _refused(requests.post(f"{live.hub_url}/hub/api/login/{page_id}/challenge", json={}, timeout=10), 410,
             "ERR_HUB_TASK_EXPIRED")
    assert _snapshot(live) == before


def test_oversized_att_file_and_body(short_lived: Live) -> None:
    live = short_lived
    fields, _url, _secret = _valid(live, "startSignature")
    before = _snapshot(live)
    big = fields | {"attFile": base64.b64encode(b"%PDF-1.7\n" + b"0" * 8000).decode()}
    _refused(live.post("startSignature", big), 413, "attFile")
    huge = fields | {"attFile": "A" * (300 * 1024)}
    _refused(live.post("startSignature", huge), 413, "ERR_HUB_TOO_LARGE")
    assert _snapshot(live) == before
