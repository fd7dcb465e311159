"""The helper on the virtual UKey (native/softskf through app.token): PIN from BidSeal's
own PinSource, wrong-PIN retries, cancel without losing a retry, no PIN in the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.authtoken import MemoryNonceStore, TokenVerifier
from app.helper.keys import TokenKeys
from app.helper.pins import PinPrompt
from app.token.device import find_identity, pin_info
from app.token.softkey import init_softkey
from tests.helper.conftest import HUB, start_helper
from tests.support import softkey as virtual_ukey
from tests.support.softkey import ADMIN_PIN, USER_PIN

softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store


class ScriptedPins:
    def __init__(self, *pins: str | None) -> None:
        self.pins = list(pins)
        self.prompts: list[PinPrompt] = []

    async def get_pin(self, prompt: PinPrompt) -> bytearray | None:
        self.prompts.append(prompt)
        pin = self.pins.pop(0)
        return bytearray(pin.encode()) if pin is not None else None


@pytest.fixture(scope="module")
def ukey(store: Path, tmp_path_factory, softskf_lib: str):
    pki_dir = tmp_path_factory.mktemp("pki")
    info = init_softkey(store, "HELPER-KEY", USER_PIN, ADMIN_PIN, pki_dir)
    return info


def test_login_with_the_virtual_ukey_and_a_wrong_pin_first(ukey, tmp_path: Path, softskf_lib: str) -> None:
    running = start_helper(tmp_path, TokenKeys([softskf_lib]))
    pins = ScriptedPins("99999999", USER_PIN)
    running.services.pins = pins
    try:
        certs = running.post("certificates").json()["certificates"]
        assert any(c["device"] == "HELPER-KEY" for c in certs)
        nonces = MemoryNonceStore()
        nonce = nonces.issue()
        cert_id = next(c["id"] for c in certs if c["device"] == "HELPER-KEY")
        r = running.post("login", {"nonce": nonce, "certificate": cert_id})
        assert r.status_code == 200, r.text
        login = TokenVerifier(HUB, [ukey.root_certificate], nonces).verify(r.json(), nonce)
        assert login.certificate == ukey.sign_certificate
        assert [p.retries_left for p in pins.prompts] == [None, 5]
        log = running.audit_path.read_text(encoding="utf-8")
        assert USER_PIN not in log and "99999999" not in log
        ident = find_identity(softskf_lib, "HELPER-KEY")
        assert pin_info(ident).remaining == pin_info(ident).max_retries  # the right PIN reset the counter
    finally:
        running.server.stop()


def test_cancelling_the_pin_costs_no_retry_and_signs_nothing(ukey, tmp_path: Path, softskf_lib: str) -> None:
    ident = find_identity(softskf_lib, "HELPER-KEY")
    before = pin_info(ident).remaining
    running = start_helper(tmp_path, TokenKeys([softskf_lib]))
    running.services.pins = ScriptedPins(None)
    try:
        r = running.post("login", {"nonce": "N" * 44})
        assert r.json()["error"]["code"] == "ERR_USER_CANCELLED"
        assert pin_info(ident).remaining == before
    finally:
        running.server.stop()
