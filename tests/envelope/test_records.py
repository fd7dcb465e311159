"""The certificate lifecycle guard: envelopes recorded on encryption, warnings when a
certificate they depend on expires before the opening or is renewed/changed."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.cli.main import main
from app.demo.pki import demo_pki
from app.envelope import encrypt_file
from app.envelope.records import RENEWAL_EN, RENEWAL_ZH, EnvelopeRecords, db_path
from app.gm.names import make_uscc
from app.recovery import ScryptParams, new_recovery_key

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A private BIDSEAL_HOME: each test starts with no records."""
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def short_pki():
    """A bidder whose encryption certificate expires in 10 days."""
    return demo_pki(days=10)


@pytest.fixture(scope="module")
def long_pki():
    return demo_pki(days=400)


@pytest.fixture(scope="module")
def rk():
    return new_recovery_key("lifecycle guard passphrase", params=ScryptParams(n=1 << 12))


def _make(tmp_path: Path, certs, name="bid.bse", project="LN-1"):
    src = tmp_path / "bid.pdf"
    src.write_bytes(b"%PDF-1.7 secret bid content 1234567")
    dst = tmp_path / name
    return dst, encrypt_file(src, dst, certs, project_id=project)


def test_record_holds_no_plaintext_and_is_private(tmp_path, home, long_pki):
    dst, info = _make(tmp_path, [long_pki.enc_cert])
    rec = EnvelopeRecords().add(dst, info, [long_pki.enc_cert], opening=NOW + timedelta(days=5))
    assert rec.state() == "waiting" and rec.project == "LN-1" and rec.path == str(dst)
    assert rec.recipients[0].serial == long_pki.enc_cert.serial_hex
    assert rec.recipients[0].not_after == long_pki.enc_cert.not_after
    assert db_path().parent == home / "data"
    assert stat.S_IMODE(os.stat(db_path()).st_mode) == 0o600
    raw = db_path().read_bytes()
    assert b"secret bid content" not in raw
    assert not rec.warnings()


def test_certificate_expiring_before_the_opening_is_warned(tmp_path, short_pki):
    dst, info = _make(tmp_path, [short_pki.enc_cert])
    rec = EnvelopeRecords().add(dst, info, [short_pki.enc_cert], opening=NOW + timedelta(days=20))
    [w] = rec.warnings()
    assert w.code == "expires_before_opening" and not w.has_fallback
    assert short_pki.enc_cert.serial_hex in w.zh and "早于开标时间" in w.zh
    assert "before the opening" in w.en and "re-encrypt" in w.en


def test_recovery_recipient_is_a_fallback(tmp_path, short_pki, rk):
    certs = [short_pki.enc_cert, rk.certificate]
    dst, info = _make(tmp_path, certs)
    rec = EnvelopeRecords().add(dst, info, certs, opening=NOW + timedelta(days=20),
                                recovery=[rk.certificate])
    assert [r.role for r in rec.recipients] == ["certificate", "recovery"]
    [w] = rec.warnings()
    assert w.has_fallback and "仍可用" in w.zh


def test_opening_before_expiry_gives_no_warning(tmp_path, short_pki):
    dst, info = _make(tmp_path, [short_pki.enc_cert])
    rec = EnvelopeRecords().add(dst, info, [short_pki.enc_cert], opening=NOW + timedelta(days=3))
    assert rec.warnings() == []


def test_no_opening_date_warns_only_when_expiry_is_near(tmp_path, short_pki, long_pki):
    store = EnvelopeRecords()
    d1, i1 = _make(tmp_path, [short_pki.enc_cert], "a.bse")
    d2, i2 = _make(tmp_path, [long_pki.enc_cert], "b.bse")
    assert [w.code for w in store.add(d1, i1, [short_pki.enc_cert]).warnings()] == ["expiring_soon"]
    assert store.add(d2, i2, [long_pki.enc_cert]).warnings() == []


def test_states_and_maintenance(tmp_path, long_pki):
    store = EnvelopeRecords()
    dst, info = _make(tmp_path, [long_pki.enc_cert])
    store.add(dst, info, [long_pki.enc_cert])
    assert store.get(info.file_id).state() == "waiting"
    assert store.set_opening(info.file_id, NOW - timedelta(hours=1)).state() == "due"
    dst.unlink()
    assert store.get(info.file_id).state() == "missing"
    assert store.mark_opened(info.file_id).state() == "opened"
    assert store.entries() == [] and len(store.entries(include_opened=True)) == 1
    store.forget(info.file_id)
    assert store.entries(include_opened=True) == []


def test_renewal_warning_names_the_dependent_envelopes(tmp_path, long_pki, rk):
    store = EnvelopeRecords()
    d1, i1 = _make(tmp_path, [long_pki.enc_cert], "a.bse", "LN-A")
    d2, i2 = _make(tmp_path, [long_pki.enc_cert, rk.certificate], "b.bse", "LN-B")
    store.add(d1, i1, [long_pki.enc_cert])
    store.add(d2, i2, [long_pki.enc_cert, rk.certificate], recovery=[rk.certificate])
    warnings = store.renewal_warnings(long_pki.enc_cert)
    assert len(warnings) == 2 and all(RENEWAL_ZH in w.zh and RENEWAL_EN in w.en for w in warnings)
    by_project = {("LN-A" in w.zh): w for w in warnings}
    assert not by_project[True].has_fallback and by_project[False].has_fallback
    assert store.renewal_warnings(demo_pki().enc_cert) == []


def test_changed_certificate_on_the_key_is_noticed(tmp_path, long_pki):
    """The bidder's key now holds a renewed encryption certificate (same unit, new serial)."""
    store = EnvelopeRecords()
    dst, info = _make(tmp_path, [long_pki.enc_cert, long_pki.emergency_cert])
    store.add(dst, info, [long_pki.enc_cert, long_pki.emergency_cert])
    renewed = long_pki.root.issue(long_pki.enc_key.public_key, long_pki.subject, "enc", days=400)
    assert store.changed_certificate_warnings([long_pki.enc_cert]) == []
    [w] = store.changed_certificate_warnings([renewed])
    assert w.code == "certificate_changed" and w.serial == long_pki.enc_cert.serial_hex
    assert w.has_fallback  # the centre's emergency certificate is still a recipient
    other = demo_pki(unit_name="大连另一家投标有限公司", unit_code=make_uscc("91210200MA0Y8B6K3"))
    assert store.changed_certificate_warnings([other.enc_cert]) == []


def test_unwritable_store_is_a_clear_error(tmp_path, long_pki, monkeypatch):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    store = EnvelopeRecords(blocker / "records.sqlite3")
    dst, info = _make(tmp_path, [long_pki.enc_cert])
    with pytest.raises(Exception) as excinfo:
        store.add(dst, info, [long_pki.enc_cert])
    assert getattr(excinfo.value, "code", "") == "ERR_RECORDS"


def test_cli_encrypt_records_and_warns(tmp_path, short_pki, capsys):
    (tmp_path / "enc.pem").write_bytes(short_pki.enc_cert.pem)
    src = tmp_path / "bid.pdf"
    src.write_bytes(b"%PDF-1.7 another secret")
    env = tmp_path / "bid.bse"
    opening = (datetime.now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    assert main(["encrypt", str(src), "-o", str(env), "--to", str(tmp_path / "enc.pem"),
                 "--project", "LN-9", "--opening", opening]) == 0
    assert "早于开标时间" in capsys.readouterr().err
    assert main(["envelope", "records", "--json"]) == 0
    [rec] = json.loads(capsys.readouterr().out)
    assert rec["project"] == "LN-9" and rec["state"] == "waiting"
    assert rec["warnings"][0]["code"] == "expires_before_opening"
    assert main(["envelope", "records"]) == 0
    assert "LN-9" in capsys.readouterr().out
    assert main(["envelope", "records", "opening", str(env), "2020-01-01"]) == 0
    assert main(["envelope", "records", "opened", rec["file_id"][:8]]) == 0
    capsys.readouterr()
    assert main(["envelope", "records", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["envelope", "records", "forget", "ffffffff"]) == 2
    assert "ERR_RECORDS" in capsys.readouterr().err


def test_cli_rejects_a_bad_date(tmp_path, capsys):
    assert main(["envelope", "records", "opening", "x", "next tuesday"]) == 2
    err = capsys.readouterr().err
    assert "next tuesday" in err and "ERR_USAGE" in err


def test_schema_is_versioned(tmp_path, long_pki):
    dst, info = _make(tmp_path, [long_pki.enc_cert])
    EnvelopeRecords().add(dst, info, [long_pki.enc_cert])
    con = sqlite3.connect(db_path())
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    con.close()
