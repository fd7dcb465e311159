"""Several keys at once: the panel lists every identity and the one the bidder picks signs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.demo.pki import Subject
from app.gm.names import make_uscc
from app.pdfsign.verify import verify_pdf
from app.token.softkey import init_softkey
from tests.ui.conftest import ADMIN_PIN, PIN, enter_pin, open_doc, trusted_roots, wait_flow

OTHER_UNIT = "大连另一建筑工程有限公司"


@pytest.fixture(scope="module")
def second_key(ukey: Any, store: Path, pki_dir: Path) -> Any:
    return init_softkey(store, "SECOND-KEY", PIN, ADMIN_PIN, pki_dir,
                        subject=Subject(unit_name=OTHER_UNIT, unit_code=make_uscc("91210200MA0XYQ123")))


def test_the_chosen_identity_signs(qtbot: Any, window: Any, second_key: Any, bid_pdf: Path,
                                   root_der: bytes) -> None:
    window.keys.rescan()
    qtbot.waitUntil(lambda: len(window.key_panel.views) == 2, timeout=20000)
    assert "2" in window.key_panel.status.text()
    combo = window.key_panel.combo
    index = next(i for i in range(combo.count()) if OTHER_UNIT in combo.itemText(i))
    combo.setCurrentIndex(index)
    assert window.key_panel.current.unit_name == OTHER_UNIT
    qtbot.waitUntil(lambda: window.key_panel.pin is not None, timeout=10000)
    open_doc(qtbot, window, bid_pdf)
    window._place_in_middle(window.seal_choices()[0])
    window.sign()
    dialog = enter_pin(qtbot, window)
    assert OTHER_UNIT in dialog.who.text()
    flow = wait_flow(qtbot, window)
    assert flow.error is None, flow.error
    report = verify_pdf(flow.result["output"], trust_roots=trusted_roots(root_der))
    (sig,) = report.signatures
    assert sig.unit_name == OTHER_UNIT and sig.certificate_serial == second_key.sign_certificate.serial_hex


def test_a_failing_driver_is_named_not_hidden(qtbot: Any, window: Any, softskf_lib: str,
                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    bogus = tmp_path / "libvendor_skf.so"
    bogus.write_bytes(b"not a shared library")
    monkeypatch.setenv("BIDSEAL_SKF_LIB", os.pathsep.join([softskf_lib, str(bogus)]))
    window.keys.rescan()
    qtbot.waitUntil(lambda: bool(window.key_panel.problems), timeout=20000)
    assert window.key_panel.current is not None, "the working key is still listed"
    text = window.key_panel.status.text()
    assert "libvendor_skf.so" in text and "LoadLibrary" in text
