"""The whole platform flow over real HTTP (hub, CA service, demo trading system), with
software keys standing in for the browser + helper: every callback reaches the
trading system with the right data, and every attempt to fool a page is refused.

(The browser run with the virtual UKey and the helper is tests/hub/test_browser_e2e.py.)"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
import requests

from app.authtoken import create_token
from app.demo.pki import demo_pki
from app.envelope.rewrap import rewrap_file_key
from app.hub.server import db as dbm
from app.hub.server.demo import store as st
from app.pdfsign.placement import RectPlacement, Seal
from app.pdfsign.signer import seal_pdf
from app.pdfsign.verify import verify_pdf
from app.token.seal_images import company_seal
from tests.hub.conftest import Live

SAMPLE_PDF = Path(__file__).resolve().parents[2] / "resources" / "samples" / "bid-sample.pdf"


def _events(live: Live, interface: str) -> list[dict]:
    rows = live.plat.demo.store.rows(st.events, st.events.c.interface == interface, order=st.events.c.id)
    return [json.loads(r["summary"]) for r in rows]


def _page_api(live: Live, url: str, kind: str, action: str, body: object | None = None,
              method: str = "POST") -> requests.Response:
    page_id = url.rsplit("/", 1)[1]
    return requests.request(method, f"{live.hub_url}/hub/api/{kind}/{page_id}/{action}", json=body, timeout=120)


@pytest.fixture(scope="module")
def registered(live: Live) -> Live:
    """Interface 1 through the demo trading system (as its registration page does)."""
    pki = live.pki
    result = live.plat.demo.register({
        "signCert": base64.b64encode(pki.sign_cert.der).decode(),
        "encCert": base64.b64encode(pki.enc_cert.der).decode(),
        "seal": base64.b64encode(company_seal(pki.subject.unit_name, code=pki.subject.unit_code)).decode()})
    assert result["hub"]["code"] == 200
    return live


def _login(live: Live, signer, origin: str | None = None) -> requests.Response:  # type: ignore[no-untyped-def]
    start = live.plat.demo.start_login()
    page = requests.get(start["url"], timeout=10)
    assert page.status_code == 200 and "UKey 登录" in page.text
    nonce = _page_api(live, start["url"], "login", "challenge", {}).json()["nonce"]
    token = create_token(signer, origin or live.hub_url, nonce, allow_http=True)
    return _page_api(live, start["url"], "login", "token", {"token": token.to_dict()})


def test_login_reaches_the_trading_system(registered: Live) -> None:
    live = registered
    before = len(_events(live, "feedbackResult"))
    r = _login(live, live.pki.signer())
    assert r.status_code == 200, r.text
    got = _events(live, "feedbackResult")
    assert len(got) == before + 1
    ev = got[-1]
    assert ev["unitCode"] == live.pki.subject.unit_code and ev["signCertSn"] == live.pki.sign_cert.serial_hex
    assert ev["encCertSn"] == live.pki.enc_cert.serial_hex and ev["orgcode"] == "LNGGZY-DEMO"


def test_login_token_for_another_origin_or_key_is_refused(registered: Live) -> None:
    live = registered
    before = len(_events(live, "feedbackResult"))
    r = _login(live, live.pki.signer(), origin="https://evil.example.com")
    assert r.json()["code"] == 422 and "ERR_AUTH" in r.json()["errData"]
    stranger = demo_pki(unit_name="外省某公司", root_name="Unknown CA")
    assert _login(live, stranger.signer()).json()["code"] == 422
    assert len(_events(live, "feedbackResult")) == before


def test_login_token_cannot_be_replayed(registered: Live) -> None:
    live = registered
    start = live.plat.demo.start_login()
    nonce = _page_api(live, start["url"], "login", "challenge", {}).json()["nonce"]
    token = create_token(live.pki.signer(), live.hub_url, nonce, allow_http=True).to_dict()
    assert _page_api(live, start["url"], "login", "token", {"token": token}).json()["code"] == 200
    again = _page_api(live, start["url"], "login", "token", {"token": token}).json()
    assert again["code"] == 409 and "ERR_HUB_TASK_STATE" in again["errData"]
    # the same token on a fresh task: its nonce was not issued there
    other = live.plat.demo.start_login()
    _page_api(live, other["url"], "login", "challenge", {})
    assert _page_api(live, other["url"], "login", "token", {"token": token}).json()["code"] == 422


def test_platform_encryption_and_bid_opening_through_the_rewrap(registered: Live) -> None:
    live = registered
    demo = live.plat.demo
    plaintext = os.urandom(300_000) + "投标报价：壹佰万元".encode()
    bid = demo.upload_bid(plaintext, live.pki.subject.unit_code or "", "报价.bin", "platform")
    opened = demo.open_bid(bid["bidId"])
    page = requests.get(opened["url"], timeout=10)
    assert page.status_code == 200 and "报价.bin" in page.text and "LNGGZY-2026-0001" in page.text
    head = _page_api(live, opened["url"], "decrypt", "head", method="GET").json()
    hub_cert = live.plat.hub.cfg.hub_enc_cert
    assert base64.b64decode(head["hubCertificate"]) == hub_cert.der
    rewrapped = rewrap_file_key(base64.b64decode(head["head"]), live.pki.unwrapper(), hub_cert)
    r = _page_api(live, opened["url"], "decrypt", "rewrapped", {"rewrapped": base64.b64encode(rewrapped).decode()})
    assert r.status_code == 200, r.text
    ev = _events(live, "decrypt")[-1]
    assert ev["bidId"] == bid["bidId"] and ev["size"] == len(plaintext)
    assert ev["encCertSn"] == live.pki.enc_cert.serial_hex
    assert (demo.data_dir / "opened" / f"{bid['bidId']}.bin").read_bytes() == plaintext
    [row] = demo.store.rows(st.bids, st.bids.c.id == bid["bidId"])
    assert row["opened_sm3"] == row["plaintext_sm3"]
    assert not list(live.plat.hub.files.glob("*.plain")), "the hub keeps no plaintext"
    # a second attempt on the finished task
    again = _page_api(live, opened["url"], "decrypt", "rewrapped", {"rewrapped": base64.b64encode(rewrapped).decode()})
    assert again.json()["code"] == 409


def test_rewrapped_key_of_another_envelope_is_refused(registered: Live, tmp_path: Path) -> None:
    live = registered
    demo = live.plat.demo
    unit = live.pki.subject.unit_code or ""
    a = demo.open_bid(demo.upload_bid(b"A" * 1000, unit, "a.bin", "platform")["bidId"])
    b = demo.open_bid(demo.upload_bid(b"B" * 1000, unit, "b.bin", "platform")["bidId"])
    head_b = base64.b64decode(_page_api(live, b["url"], "decrypt", "head", method="GET").json()["head"])
    rewrapped_b = rewrap_file_key(head_b, live.pki.unwrapper(), live.plat.hub.cfg.hub_enc_cert)
    before = len(_events(live, "decrypt"))
    r = _page_api(live, a["url"], "decrypt", "rewrapped", {"rewrapped": base64.b64encode(rewrapped_b).decode()})
    assert r.json()["code"] == 422
    r = _page_api(live, a["url"], "decrypt", "rewrapped", {"rewrapped": base64.b64encode(b"junk").decode()})
    assert r.json()["code"] == 422
    assert len(_events(live, "decrypt")) == before


def _sign_document(live: Live, url: str, tmp_path: Path, signer) -> bytes:  # type: ignore[no-untyped-def]
    pdf = _page_api(live, url, "sign", "document", method="GET")
    assert pdf.headers["content-type"] == "application/pdf"
    src, dst = tmp_path / "doc.pdf", tmp_path / "signed.pdf"
    src.write_bytes(pdf.content)
    seal = company_seal(signer.certificate.unit_name or "x")
    seal_pdf(src, dst, signer, [Seal(RectPlacement(0, (300, 80, 420, 200)), seal)])
    return dst.read_bytes()


def test_online_signing_delivers_a_verifying_pdf(registered: Live, tmp_path: Path) -> None:
    live = registered
    start = live.plat.demo.start_signature(SAMPLE_PDF.read_bytes())
    page = requests.get(start["url"], timeout=10)
    assert page.status_code == 200 and "在线签章" in page.text
    signed = _sign_document(live, start["url"], tmp_path, live.pki.signer())
    page_id = start["url"].rsplit("/", 1)[1]
    r = requests.post(f"{live.hub_url}/hub/api/sign/{page_id}/signed", data=signed, timeout=120)
    assert r.status_code == 200, r.text
    ev = _events(live, "onSignature")[-1]
    assert ev["taskId"] == start["taskId"] and ev["status"] == "valid"
    delivered = (live.plat.demo.data_dir / "signed" / f"{start['taskId']}.pdf").read_bytes()
    assert delivered == signed
    report = verify_pdf(delivered, trust_roots=live.plat.hub.cfg.trust_roots)
    assert report.all_valid and report.signatures[-1].certificate_serial == live.pki.sign_cert.serial_hex


def test_signed_file_that_changed_the_original_or_is_untrusted_is_refused(registered: Live, tmp_path: Path) -> None:
    live = registered
    start = live.plat.demo.start_signature(SAMPLE_PDF.read_bytes())
    page_id = start["url"].rsplit("/", 1)[1]
    before = len(_events(live, "onSignature"))
    stranger = demo_pki(unit_name="外省某公司", root_name="Unknown CA")
    untrusted = _sign_document(live, start["url"], tmp_path, stranger.signer())
    r = requests.post(f"{live.hub_url}/hub/api/sign/{page_id}/signed", data=untrusted, timeout=120)
    assert r.json()["code"] == 422 and "ERR_HUB_SIGNED_INVALID" in r.json()["errData"]
    good = _sign_document(live, start["url"], tmp_path, live.pki.signer())
    i = good.index(b"/Contents") - 100
    tampered = good[:i] + bytes([good[i] ^ 1]) + good[i + 1:]
    r = requests.post(f"{live.hub_url}/hub/api/sign/{page_id}/signed", data=tampered, timeout=120)
    assert r.json()["code"] == 422
    r = requests.post(f"{live.hub_url}/hub/api/sign/{page_id}/signed", data=SAMPLE_PDF.read_bytes(), timeout=60)
    assert r.json()["code"] == 422 and "NOT_INCREMENTAL" in r.json()["errData"]
    assert len(_events(live, "onSignature")) == before


def test_pages_and_their_scripts_are_served(registered: Live) -> None:
    for base in (live_urls := (registered.hub_url, registered.demo_url)):
        for path in ("/static/bidseal.js", "/static/hub/hub.css"):
            r = requests.get(base + path, timeout=10)
            assert r.status_code == 200 and len(r.content) > 100, (base, path)
    demo = requests.get(registered.demo_url + "/", timeout=10)
    assert demo.status_code == 200 and "/static/hub/demo.js" in demo.text and "演示交易系统" in demo.text
    assert live_urls


def test_iframe_signing_page_and_upload(registered: Live, tmp_path: Path) -> None:
    live = registered
    start = live.plat.demo.start_iframe_sign()
    page = requests.get(start["url"], timeout=10)
    assert page.status_code == 200 and live.demo_url in page.headers["content-security-policy"]
    src, dst = tmp_path / "in.pdf", tmp_path / "out.pdf"
    src.write_bytes(SAMPLE_PDF.read_bytes())
    seal_pdf(src, dst, live.pki.signer(), [Seal(RectPlacement(0, (300, 80, 420, 200)), company_seal("x"))])
    result = live.plat.demo.iframe_upload(start["taskId"], dst.read_bytes())
    assert result["verification"]["status"] in ("valid", "untrusted")


def test_certificate_change_and_revocation(registered: Live) -> None:
    live = registered
    pki = live.pki
    body = {"signCert": base64.b64encode(pki.sign_cert.der).decode(),
            "encCert": base64.b64encode(pki.enc_cert.der).decode(),
            "seal": base64.b64encode(company_seal(pki.subject.unit_name)).decode()}
    assert live.plat.demo.register(body | {"paType": "renew"})["hub"]["data"]["event"] == "renew"
    assert live.plat.demo.register(body | {"paType": "revoke"})["hub"]["data"]["status"] == "revoked"
    with live.plat.hub.db.tx() as c:
        [user] = c.execute(dbm.users.select().where(dbm.users.c.sign_cert_sn == pki.sign_cert.serial_hex)).all()
    assert user.status == "revoked"
    r = _login(live, pki.signer())
    assert r.json()["code"] == 422 and "ERR_HUB_NOT_SYNCED" in r.json()["errData"]
    # a revoked certificate cannot be synchronised again
    from app.hub.client import HubRefused

    with pytest.raises(HubRefused) as exc:
        live.plat.demo.register(body)
    assert exc.value.hub_code == 422
