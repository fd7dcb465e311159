"""Interfaces 1-2 at the reference hub: good data is stored, every kind of bad request
is refused with a non-200 code and a clear msg, and changes nothing."""

from __future__ import annotations

from app.hub import signing
from app.hub.server import db as dbm
from tests.hub.conftest import Live


def _users(live: Live) -> list[dict]:
    with live.plat.hub.db.tx() as c:
        return [dict(r) for r in c.execute(dbm.users.select()).mappings()]


def test_user_synchro_stores_the_record(live: Live) -> None:
    fields = live.sync_payload()
    r = live.post("userSynchro", fields)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["code"] == 200 and body["data"]["signCertSn"] == live.pki.sign_cert.serial_hex
    [user] = [u for u in _users(live) if u["id_number"] == fields["idNumber"]]
    assert user["unit_code"] == live.pki.subject.unit_code and user["status"] == "active"
    assert user["enc_cert_sn"] == live.pki.enc_cert.serial_hex


def test_sync_signed_by_the_bidders_own_key(live: Live) -> None:
    fields = live.sync_payload()
    sign = signing.sign_sm2("/api/ca/userSynchro", fields, live.pki.sign_cert.public_key,
                            live.pki.signer().sign_digest, alg=signing.SM2_CERT)
    r = live.post("userSynchro", fields, sign=sign)
    assert r.json()["code"] == 200, r.text


def test_sync_signed_by_another_key_is_refused(live: Live, tmp_path) -> None:
    from app.gm.sm2 import PrivateKey

    fields = live.sync_payload()
    other = PrivateKey.generate()
    sign = signing.sign_sm2("/api/ca/userSynchro", fields, other.public_key,
                            lambda e: __import__("app.gm.sm2", fromlist=["x"]).sign_digest(other, e),
                            alg=signing.SM2_CERT)
    r = live.post("userSynchro", fields, sign=sign)
    assert r.status_code == 401 and r.json()["code"] == 401
    assert "ERR_HUB_SIGN_INVALID" in r.json()["errData"]
