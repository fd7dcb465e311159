"""Fixtures for the recovery key tests: a fast work factor (the default one is tested
on its own, in the test vector), a made recovery key and its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import recovery
from app.recovery import ScryptParams

#: scrypt at 16 MiB: fast enough for many tests, and within OpenSSL's PKCS#8 limit.
FAST = ScryptParams(n=1 << 14, r=8, p=1)
PASSPHRASE = "投标 recovery 口令 2026"


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """New recovery keys made in these tests (also through the CLI) use :data:`FAST`."""
    monkeypatch.setattr("app.recovery.keyfile.DEFAULT_PARAMS", FAST)


@pytest.fixture(scope="session")
def recovery_key() -> recovery.RecoveryKey:
    return recovery.new_recovery_key(PASSPHRASE, unit_name="辽宁示例建设工程有限公司", params=FAST)


@pytest.fixture()
def recovery_file(recovery_key: recovery.RecoveryKey, tmp_path: Path) -> Path:
    return recovery.save(recovery_key, tmp_path / "bidder.bsrk")
