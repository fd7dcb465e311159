"""The vendor library's own output never reaches an error: it goes to a capped local log.

``SOFTSKF_FAULTS=...:chatter`` makes libsoftskf print a debug line the way vendor
drivers print APDUs (a VerifyPIN APDU carries the PIN) on stdout and stderr; then a
crash. The TokenCrashed error a CLI would print and a helper would return names the
log file, and holds none of that text; the log file (0600) has it.
"""

from __future__ import annotations

import os
import stat

import pytest

from app.gm import sm2
from app.token import hostlog
from app.token.errors import TokenCrashed
from app.token.host_client import HostPool
from app.token.identity import Identity
from app.token.session import open_session

from .conftest import USER_PIN

APDU = f"APDU 00 20 00 00 08 {USER_PIN.encode().hex()} PIN={USER_PIN}"


def test_vendor_output_goes_to_the_log_not_into_errors(identity: Identity, pool: HostPool) -> None:
    pool.env["SOFTSKF_FAULTS"] = "SKF_VerifyPIN:1:chatter,SKF_ECCSignData:1:crash"
    pool.env["SOFTSKF_CHATTER"] = APDU
    assert identity.sign_certificate is not None
    e = sm2.compute_e(identity.sign_certificate.public_key, b"log test")
    with open_session(identity, USER_PIN, pool=pool) as s, pytest.raises(TokenCrashed) as info:
        s.signer.sign_digest(e)
    err = info.value
    text = repr(err.to_dict()) + str(err)
    assert USER_PIN not in text and USER_PIN.encode().hex() not in text and "softskf-debug" not in text and "injected" not in text
    log = hostlog.log_path()
    assert err.details["log"] == str(log)
    assert str(log) in err.en and str(log) in err.zh  # "see log FILE"
    content = log.read_text(encoding="utf-8")
    assert APDU in content and "injected crash" in content
    assert os.path.basename(identity.library) in content
    if os.name == "posix":
        assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_the_log_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostlog, "MAX_BYTES", 4096)
    for i in range(200):
        hostlog.write_lines([f"line {i} " + "x" * 80], pid=1, library="/x/libvendor.so")
    log = hostlog.log_path()
    old = log.with_name(hostlog.LOG_NAME + ".1")
    assert log.stat().st_size <= 4096 and old.stat().st_size <= 4096
    assert "line 199 " in log.read_text(encoding="utf-8")
    assert not log.with_name(hostlog.LOG_NAME + ".2").exists()


def test_a_long_line_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    hostlog.write_lines(["y" * 100_000], pid=2, library="/x/libvendor.so")
    last = hostlog.log_path().read_text(encoding="utf-8").splitlines()[-1]
    assert len(last) < hostlog.MAX_LINE + 100
