"""一键检测 with a real (virtual) UKey: present, absent, locked, expired; drivers missing;
clock against a real SNTP exchange; disk; envelope records; isolation of failing checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.cancel import CancelToken, OperationCancelled
from app.diagnostics import CHECKS, Status, emergency_guide, run_diagnostics
from app.diagnostics import runner as diag_runner
from app.diagnostics.model import Check, Text
from app.diagnostics.ntp import NtpError, query_offset
from app.token.errors import PinIncorrect, PinLocked
from app.token.session import open_session

from .conftest import provision


def _only(report, cid):
    checks = report.get(cid)
    assert checks, f"no {cid} check in {[c.id for c in report.checks]}"
    return checks


def test_virtual_key_present(ukey, softskf_lib, pool):
    report = run_diagnostics(libraries=[softskf_lib], pool=pool)
    [libs] = _only(report, "skf_libraries")
    assert libs.status is Status.OK and libs.details["libraries"][0]["bits"] == 64
    assert libs.details["libraries"][0]["manufacturers"] == ["BidSeal SoftSKF"]
    [keys] = _only(report, "keys")
    assert keys.status is Status.INFO and "演示密钥" in keys.summary.zh and "DEMO KEY" in keys.summary.en.upper()
    assert keys.summary.zh.count("演示密钥") == 1
    certs = _only(report, "certificates")
    assert {c.details["kind"] for c in certs} == {"signing certificate", "encryption certificate"}
    assert all(c.status is Status.OK for c in certs)
    pins = _only(report, "pin")
    assert pins[0].details["remaining"] == pins[0].details["max_retries"]
    # the virtual key reports its PIN as the factory default: a hint, not a problem
    assert pins[0].status is (Status.INFO if pins[0].details["is_default"] else Status.OK)
    assert report.certificates and report.certificates[0]["demo_key"] is True
    assert {c.id for c in report.checks} >= {cid for cid, _ in CHECKS}


def test_no_key_inserted(unplugged, softskf_lib, pool):
    report = run_diagnostics(libraries=[softskf_lib], pool=pool)
    [keys] = _only(report, "keys")
    assert keys.status is Status.ERROR and "没有检测到 UKey" in keys.summary.zh
    assert "USB" in keys.fix.zh and "USB" in keys.fix.en
    assert _only(report, "pin")[0].status is Status.SKIPPED
    assert report.status is Status.ERROR
    guide = emergency_guide("cert_unreadable", report)
    assert guide.steps[0].highlighted and guide.steps[1].highlighted


def test_locked_pin_is_an_error_with_the_unblock_fix(store, pki_dir, softskf_lib, pool):
    ident = provision(store, pki_dir, "DIAG-LOCK", softskf_lib)
    warned = False
    for _ in range(20):
        try:
            with open_session(ident, "00000000", pool=pool):
                pass
        except PinIncorrect as exc:
            if not warned and exc.retries_left is not None and 0 < exc.retries_left <= 3:
                low = run_diagnostics(libraries=[softskf_lib], pool=pool, only={"pin"})
                mine = [c for c in low.checks if c.details.get("device") == "DIAG-LOCK"]
                assert mine[0].status is Status.WARNING and "次重试机会" in mine[0].summary.zh
                warned = True
        except PinLocked:
            break
    assert warned
    report = run_diagnostics(libraries=[softskf_lib], pool=pool, only={"pin", "keys"})
    [mine] = [c for c in report.checks if c.id == "pin" and c.details.get("device") == "DIAG-LOCK"]
    assert mine.status is Status.ERROR and mine.details["locked"] is True
    assert "管理员口令" in mine.fix.zh and "admin PIN" in mine.fix.en
    guide = emergency_guide("cannot_decrypt", report)
    assert [s.highlighted for s in guide.steps][1:3] == [True, True]
    # the other key's PIN is untouched
    assert any(c.status in (Status.OK, Status.INFO) for c in report.checks if c.id == "pin")


def test_expired_and_not_yet_valid_certificates(ukey, softskf_lib, pool):
    cert = ukey.sign_certificate
    later = run_diagnostics(libraries=[softskf_lib], pool=pool, only={"certificates"},
                            now=cert.not_after + timedelta(days=1))
    mine = [c for c in later.checks if c.details.get("device") == "DIAG-A"]
    assert all(c.status is Status.ERROR for c in mine) and "过期" in mine[0].summary.zh
    assert "更新会重新签发加密密钥" in mine[0].fix.zh
    soon = run_diagnostics(libraries=[softskf_lib], pool=pool, only={"certificates"},
                           now=cert.not_after - timedelta(days=10))
    assert any(c.status is Status.WARNING for c in soon.checks if c.details.get("device") == "DIAG-A")
    earlier = run_diagnostics(libraries=[softskf_lib], pool=pool, only={"certificates"},
                              now=cert.not_before - timedelta(days=1))
    mine = [c for c in earlier.checks if c.details.get("device") == "DIAG-A"]
    assert mine[0].status is Status.ERROR and "电脑的日期和时间" in mine[0].fix.zh


def test_missing_and_non_library_drivers(tmp_path, pool):
    text = tmp_path / "skf.dll"
    text.write_text("not a dll")
    report = run_diagnostics(libraries=[str(tmp_path / "missing.so"), str(text)], pool=pool,
                             only={"skf_libraries", "keys"})
    [libs] = report.get("skf_libraries")
    assert libs.status is Status.ERROR and "都无法加载" in libs.summary.zh
    codes = [lib["error"]["code"] for lib in libs.details["libraries"]]
    assert codes == ["ERR_LIBRARY_MISSING", "ERR_NOT_SKF_LIBRARY"]
    assert "设置" in libs.fix.zh


def test_one_good_one_bad_driver_is_a_warning(ukey, softskf_lib, tmp_path, pool):
    report = run_diagnostics(libraries=[softskf_lib, str(tmp_path / "gone.so")], pool=pool,
                             only={"skf_libraries"})
    [libs] = report.get("skf_libraries")
    assert libs.status is Status.WARNING and "32/64" in libs.fix.zh


def test_clock_against_a_time_server(ntp_server, home):
    good = ntp_server(offset=0.0)
    [c] = run_diagnostics(only={"clock"}, time_server=good.address).checks
    assert c.status is Status.OK and abs(c.details["offset_seconds"]) < 1
    drift = ntp_server(offset=120.0)
    [c] = run_diagnostics(only={"clock"}, time_server=drift.address).checks
    assert c.status is Status.WARNING and 119 < c.details["offset_seconds"] < 121
    assert "慢了 2 分钟" in c.summary.zh
    far = ntp_server(offset=-3 * 3600.0)
    [c] = run_diagnostics(only={"clock"}, time_server=far.address).checks
    assert c.status is Status.ERROR and "快了 3.0 小时" in c.summary.zh
    assert "过期" in c.fix.zh


def test_clock_ignores_a_reply_to_someone_else(ntp_server):
    spoof = ntp_server(offset=9999.0, echo_origin=False)
    with pytest.raises(NtpError):
        query_offset(spoof.address, timeout=1.0)
    [c] = run_diagnostics(only={"clock"}, time_server=spoof.address).checks
    assert c.status is Status.WARNING and "无法连接时间服务器" in c.summary.zh


def test_clock_without_server_and_silent_server(home):
    [c] = run_diagnostics(only={"clock"}).checks
    assert c.status is Status.INFO and "ntp.ntsc.ac.cn" in c.fix.zh
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))
        [c] = run_diagnostics(only={"clock"}, time_server=f"127.0.0.1:{quiet.getsockname()[1]}").checks
    assert c.status is Status.WARNING
    [c] = run_diagnostics(only={"clock"}, now=datetime(2001, 1, 1, tzinfo=UTC)).checks
    assert c.status is Status.ERROR


def test_disk_space_and_unwritable_folder(tmp_path, monkeypatch):
    [c] = run_diagnostics(only={"disk"}, output_folder=tmp_path).checks
    assert c.status is Status.OK and c.details["free_bytes"] > 0
    monkeypatch.setattr("app.diagnostics.system_checks.DISK_WARNING", c.details["free_bytes"] + 1)
    [c] = run_diagnostics(only={"disk"}, output_folder=tmp_path / "not" / "yet").checks
    assert c.status is Status.WARNING and "可用空间" in c.summary.zh


def test_unwritable_bid_folder(readonly_folder):
    [c] = run_diagnostics(only={"disk"}, output_folder=readonly_folder).checks
    assert c.status is Status.ERROR and "不可写入" in c.summary.zh


def test_pending_envelope_with_expiring_certificate_is_reported(tmp_path):
    from app.demo.pki import demo_pki
    from app.envelope import encrypt_file
    from app.envelope.records import EnvelopeRecords

    pki = demo_pki(days=5)
    src = tmp_path / "bid.pdf"
    src.write_bytes(b"%PDF-1.7 x")
    info = encrypt_file(src, tmp_path / "bid.bse", [pki.enc_cert])
    EnvelopeRecords().add(tmp_path / "bid.bse", info, [pki.enc_cert],
                          opening=datetime.now(UTC) + timedelta(days=9))
    [c] = run_diagnostics(only={"envelopes"}).checks
    assert c.status is Status.ERROR and c.details["pending"] == 1
    assert "早于开标时间" in c.summary.zh and "恢复密钥" in c.fix.zh


def test_helper_and_trust_report_what_this_build_has():
    report = run_diagnostics(only={"helper", "trust"})
    for c in report.checks:
        assert c.status in (Status.SKIPPED, Status.OK, Status.INFO, Status.WARNING)


def test_backend_and_versions():
    report = run_diagnostics(only={"crypto_backend", "versions", "settings"})
    [backend] = report.get("crypto_backend")
    assert backend.details["sm2_backend"] in backend.details["available"]
    [versions] = report.get("versions")
    assert versions.details["bidseal"] and versions.details["packages"]["cryptography"]


def test_gmssl_fallback_is_a_warning(monkeypatch):
    monkeypatch.setenv("BIDSEAL_SM2_BACKEND", "gmssl")
    [c] = run_diagnostics(only={"crypto_backend"}).checks
    assert c.status is Status.WARNING and "gmssl" in c.summary.zh


def test_settings_problems_are_reported(home):
    cfg = home / "config" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('{"ui": {"language": "xx"}, "token": {"libraries": ["/nowhere/libskf.so"]}}')
    [c] = run_diagnostics(only={"settings"}).checks
    assert c.status is Status.WARNING and "/nowhere/libskf.so" in c.summary.zh


def test_a_broken_check_does_not_hide_the_others(monkeypatch):
    def boom(ctx):
        raise RuntimeError("driver exploded")

    monkeypatch.setattr(diag_runner, "CHECKS", (("disk", boom), *[c for c in CHECKS if c[0] == "versions"]))
    report = run_diagnostics()
    assert [c.id for c in report.checks] == ["disk", "versions"]
    assert report.checks[0].status is Status.ERROR and "RuntimeError" in report.checks[0].summary.en


def test_progress_and_cancel():
    seen = []
    run_diagnostics(only={"versions", "disk"}, progress=lambda d, t, s: seen.append((d, t, s)))
    assert [(d, t) for d, t, _ in seen] == [(1, 2), (2, 2)]
    token = CancelToken()
    token.cancel()
    with pytest.raises(OperationCancelled):
        run_diagnostics(cancel=token)


def test_report_text_marks_and_json():
    report = run_diagnostics(only={"versions", "clock"})
    text = report.text("en")
    assert "[i]" in text and "Versions" in text
    d = report.to_dict()
    assert d["status"] == "ok" and len(d["checks"]) == 2
    check = Check("x", Status.ERROR, Text("a", "b"), Text("s", "s"), Text("c", "d"))
    assert check.to_dict()["fix"] == {"zh": "c", "en": "d"}


def test_helper_listening_and_reachable(home):
    """The check reads the helper's own configuration (ports, allowed origins) and connects."""
    import json
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        (home / "config").mkdir(parents=True, exist_ok=True)
        (home / "config" / "helper.json").write_text(json.dumps(
            {"hubs": [{"origin": "https://ggzy.ln.gov.cn", "name": "辽宁"}], "ports": [port]}), encoding="utf-8")
        [c] = run_diagnostics(only={"helper"}).checks
        assert c.status is Status.OK and c.details["listening"] == [port]
        assert c.details["origins"] == ["https://ggzy.ln.gov.cn"]
    [c] = run_diagnostics(only={"helper"}).checks
    assert c.status is Status.WARNING and "没有运行" in c.summary.zh


def test_helper_without_allowed_origins(home):
    [c] = run_diagnostics(only={"helper"}).checks
    assert c.status in (Status.INFO, Status.WARNING) and "没有允许" in c.summary.zh
