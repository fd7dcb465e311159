"""``bidseal hub sync|change-cert|secret`` with the virtual UKey against the reference hub:
the payload comes from the key, SM2 signing uses the key (PIN), HMAC uses the keyring,
a command that cannot succeed fails before the PIN, and the hub's refusals are printed."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from app.cli.main import main
from app.hub.server import db as dbm
from app.token import find_identity, pin_info
from app.token.softkey import init_softkey
from tests.hub.conftest import DEMO_CA_UNIT_ID, Live, free_ports
from tests.support import softkey as virtual_ukey
from tests.support.softkey import ADMIN_PIN, USER_PIN

softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    old = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    try:
        yield kr
    finally:
        keyring.set_keyring(old)


@pytest.fixture(scope="module")
def ukey(store: Path, hub_pki_dir: Path):  # type: ignore[no-untyped-def]
    init_softkey(store, "HUB-KEY", USER_PIN, ADMIN_PIN, hub_pki_dir)
    return find_identity(device="HUB-KEY")


LAST_STDIN: list[io.StringIO] = []


def run(args: list[str], stdin: str = "") -> int:
    """Run the CLI in-process with ``stdin``; :func:`pin_was_read` tells whether it read it."""
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    LAST_STDIN[:] = [sys.stdin]
    try:
        return main(args)
    finally:
        sys.stdin = old


def pin_was_read() -> bool:
    return LAST_STDIN[0].tell() > 0


def _user(live: Live, serial: str) -> dict | None:
    with live.plat.hub.db.tx() as c:
        row = c.execute(dbm.users.select().where(dbm.users.c.sign_cert_sn == serial)).mappings().first()
        return dict(row) if row else None


def _remaining(ukey) -> int:  # type: ignore[no-untyped-def]
    return pin_info(ukey).remaining


def test_sync_signed_by_the_ukey(live: Live, ukey, capsys, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    rc = run(["hub", "sync", "--hub", live.hub_url, "--ca-unit-id", DEMO_CA_UNIT_ID, "--device", "HUB-KEY",
              "--auth", "sm2", "--pin-stdin"], USER_PIN + "\n")
    out = capsys.readouterr()
    assert rc == 0, out.err
    user = _user(live, ukey.sign_certificate.serial_hex)
    assert user and user["unit_code"] == ukey.sign_certificate.unit_code and user["status"] == "active"
    assert user["signature"] and user["legal_name"]
    assert "已同步" in out.out


def test_sync_with_the_keyring_secret_needs_no_pin(live: Live, ukey, capsys, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    assert run(["hub", "secret", "set", "--hub", live.hub_url, "--ca-unit-id", DEMO_CA_UNIT_ID, "--stdin"],
               live.caller_secret + "\n") == 0
    assert list(memory_keyring.items.values()) == [live.caller_secret]
    before = _remaining(ukey)
    rc = run(["hub", "sync", "--hub", live.hub_url, "--ca-unit-id", DEMO_CA_UNIT_ID, "--device", "HUB-KEY",
              "--json"], "")
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert '"auth": "hmac"' in out.out and _remaining(ukey) == before
    assert run(["hub", "secret", "delete", "--hub", live.hub_url, "--ca-unit-id", DEMO_CA_UNIT_ID]) == 0
    assert not memory_keyring.items


def test_a_wrong_secret_is_reported_bilingually(live: Live, ukey, capsys, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    run(["hub", "secret", "set", "--hub", live.hub_url, "--ca-unit-id", DEMO_CA_UNIT_ID, "--stdin"], "wrong\n")
    rc = run(["hub", "sync", "--hub", live.hub_url, "--ca-unit-id", DEMO_CA_UNIT_ID, "--device", "HUB-KEY"])
    err = capsys.readouterr().err
    assert rc == 2 and "互认平台拒绝" in err and "The hub refused" in err and "ERR_HUB_SIGN_INVALID" in err
    assert "Traceback" not in err


def test_change_cert_revoke(live: Live, ukey, capsys, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    run(["hub", "sync", "--hub", live.hub_url, "--ca-unit-id", DEMO_CA_UNIT_ID, "--device", "HUB-KEY",
         "--auth", "sm2", "--pin-stdin"], USER_PIN + "\n")
    rc = run(["hub", "change-cert", "--type", "revoke", "--hub", live.hub_url, "--ca-unit-id", DEMO_CA_UNIT_ID,
              "--device", "HUB-KEY", "--auth", "sm2", "--pin-stdin"], USER_PIN + "\n")
    assert rc == 0, capsys.readouterr().err
    assert _user(live, ukey.sign_certificate.serial_hex)["status"] == "revoked"  # type: ignore[index]
    # revoked: syncing again is refused by the hub
    rc = run(["hub", "sync", "--hub", live.hub_url, "--ca-unit-id", DEMO_CA_UNIT_ID, "--device", "HUB-KEY",
              "--auth", "sm2", "--pin-stdin"], USER_PIN + "\n")
    assert rc == 2 and "ERR_HUB_CERT_REVOKED" in capsys.readouterr().err
    with live.plat.hub.db.tx() as c:
        c.execute(dbm.users.delete())


def test_unreachable_hub_fails_before_the_pin(ukey, capsys, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    [port] = free_ports(1)
    before = _remaining(ukey)
    rc = run(["hub", "sync", "--hub", f"http://127.0.0.1:{port}", "--ca-unit-id", DEMO_CA_UNIT_ID,
              "--device", "HUB-KEY", "--auth", "sm2", "--pin-stdin"], "00000000\n")
    err = capsys.readouterr().err
    assert rc == 2 and "无法连接互认平台" in err and "Cannot connect" in err
    assert _remaining(ukey) == before, "the PIN must not have been tried"
    assert not pin_was_read()


def test_missing_secret_and_bad_url_fail_before_the_pin(ukey, capsys, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    before = _remaining(ukey)
    rc = run(["hub", "sync", "--hub", "http://127.0.0.1:9", "--ca-unit-id", "X", "--device", "HUB-KEY",
              "--auth", "hmac", "--pin-stdin"], "00000000\n")
    assert rc == 2 and "bidseal hub secret set" in capsys.readouterr().err
    rc = run(["hub", "sync", "--hub", "ftp://hub", "--ca-unit-id", "X", "--device", "HUB-KEY", "--pin-stdin"],
             "00000000\n")
    assert rc == 2 and "ERR_HUB_URL" in capsys.readouterr().err
    assert _remaining(ukey) == before and not pin_was_read()


def test_key_without_seal_fails_before_the_pin(store: Path, hub_pki_dir: Path, capsys, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    init_softkey(store, "NOSEAL-KEY", USER_PIN, ADMIN_PIN, hub_pki_dir, seals=False)
    ident = find_identity(device="NOSEAL-KEY")
    before = pin_info(ident).remaining
    rc = run(["hub", "sync", "--hub", "http://127.0.0.1:9", "--ca-unit-id", "X", "--device", "NOSEAL-KEY",
              "--auth", "sm2", "--pin-stdin"], "00000000\n")
    err = capsys.readouterr().err
    assert rc == 2 and "印章图片" in err and "seal image" in err and "ERR_HUB_PAYLOAD" in err
    assert pin_info(ident).remaining == before and not pin_was_read()


def test_no_keyring_backend_gets_a_clear_message(capsys) -> None:  # type: ignore[no-untyped-def]
    old = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        rc = run(["hub", "secret", "set", "--hub", "https://hub.example", "--ca-unit-id", "X", "--stdin"], "s\n")
    finally:
        keyring.set_keyring(old)
    err = capsys.readouterr().err
    assert rc == 2 and "密钥环不可用" in err and "No system keyring" in err and "Traceback" not in err


def test_dry_run_shows_the_payload_without_secrets(ukey, capsys, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    rc = run(["hub", "sync", "--hub", "http://127.0.0.1:9", "--ca-unit-id", "X", "--device", "HUB-KEY",
              "--auth", "sm2", "--dry-run"])
    out = capsys.readouterr().out
    assert rc == 0 and ukey.sign_certificate.serial_hex in out and '"idType": "02"' in out
    assert "signCert\"" not in out
