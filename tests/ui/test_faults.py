"""Bad input and faults: files that are not PDFs, damaged, encrypted or empty dropped on
the window; the key pulled out while signing; plug and unplug; a read-only output folder;
a PDF already sealed by someone else. Each gives a clear sentence, the original stays
byte-identical and no partial output remains."""

from __future__ import annotations

import hashlib
import time
import warnings
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.demo.pki import CertificateAuthority, Subject
from app.errors import BidSealError
from app.gm import sm2
from app.gm.keyops import SoftwareSigner
from app.pdfsign import RectPlacement, Seal, seal_pdf
from app.pdfsign.verify import verify_pdf
from app.token.seal_images import company_seal
from app.token.softkey import DEFAULT_LABEL, plug, unplug
from app.ui.dialogs.error_dialog import ErrorDialog
from tests.ui.conftest import enter_pin, make_bid, open_doc, spin, trusted_roots, wait_flow


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def drop_files(window: Any, *paths: Path) -> None:
    """What the platform sends when files are dragged from a file manager onto the window."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPoint(window.width() // 2, window.height() // 2)
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with warnings.catch_warnings():  # PySide6 flags these constructors; Qt has no other
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(pos, *args)
        move = QDragMoveEvent(pos, *args)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, move)
    QApplication.sendEvent(window, QDropEvent(QPointF(pos), *args))


def error_dialogs(window: Any) -> list[ErrorDialog]:
    return [d for d in window.findChildren(ErrorDialog) if d.isVisible()]


def close_errors(window: Any) -> None:
    for d in window.findChildren(ErrorDialog):
        d.accept()
    spin(0.05)


def _password_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="open-me", owner_pw="owner")
    return path


@pytest.mark.parametrize(("name", "make", "words"), [
    ("empty.pdf", lambda p: p.write_bytes(b""), "0 字节"),
    ("notes.pdf", lambda p: p.write_bytes(b"This is a text file, not a PDF.\n" * 20), "不是 PDF"),
    ("photo.png", lambda p: p.write_bytes(company_seal("单位")), "不是 PDF"),
    ("locked.pdf", _password_pdf, "密码"),
])
def test_unusable_file_dropped_gives_a_sentence(qtbot: Any, window: Any, bid_pdf: Path, tmp_path: Path,
                                               name: str, make: Any, words: str) -> None:
    open_doc(qtbot, window, bid_pdf)
    bad = tmp_path / name
    make(bad)
    before = bad.read_bytes()
    drop_files(window, bad)
    qtbot.waitUntil(lambda: bool(error_dialogs(window)), timeout=20000)
    dialog = error_dialogs(window)[0]
    assert words in dialog.message.text()
    assert dialog.other.text() and not any(c in dialog.other.text() for c in "的是")  # the English sentence
    assert "Traceback" not in dialog.message.text() + dialog.details.toPlainText()
    assert not dialog.details.isVisible()
    dialog.toggle.click()
    assert dialog.details.isVisible() and "ERR_" in dialog.details.toPlainText()
    assert Path(window.doc.path) == bid_pdf, "the open document stays"
    assert bad.read_bytes() == before
    close_errors(window)


def test_damaged_file_opens_view_only(qtbot: Any, window: Any, tmp_path: Path) -> None:
    full = make_bid(tmp_path / "full.pdf", pages=3)
    damaged = tmp_path / "damaged.pdf"
    data = full.read_bytes()
    damaged.write_bytes(data[: len(data) - 180])
    before = sha(damaged)
    open_doc(qtbot, window, damaged)
    assert window.banner.isVisible() and window.banner.kind == "warn"
    assert "损坏" in window.banner.text.text()
    window._place_in_middle(window.seal_choices()[0])
    assert not window.act_sign.isEnabled()
    assert window.sign() is None
    qtbot.waitUntil(lambda: bool(error_dialogs(window)))
    assert sha(damaged) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.pdf", "full.pdf"]
    close_errors(window)


def test_key_removed_while_signing(qtbot: Any, window: Any, bid_pdf: Path, faults: Any, store: Path) -> None:
    before = sha(bid_pdf)
    open_doc(qtbot, window, bid_pdf)
    window._place_in_middle(window.seal_choices()[0])
    faults("SKF_ECCSignData:1:remove")
    try:
        window.sign()
        enter_pin(qtbot, window)
        flow = wait_flow(qtbot, window)
        assert flow.result is None and flow.error is not None
        assert flow.error.code == "ERR_DEVICE_REMOVED", flow.error
        qtbot.waitUntil(lambda: bool(error_dialogs(window)))
        assert "拔出" in error_dialogs(window)[0].message.text() or "移除" in error_dialogs(window)[0].message.text()
        assert sha(bid_pdf) == before
        assert sorted(p.name for p in bid_pdf.parent.iterdir()) == ["bid.pdf"], "no partial output"
        assert window.viewer.plan.count == 1, "the placed seals stay for another try"
        # the monitor saw the key go
        qtbot.waitUntil(lambda: window.key_panel.current is None, timeout=5000)
    finally:
        plug(store, DEFAULT_LABEL)
    qtbot.waitUntil(lambda: window.key_panel.current is not None, timeout=5000)
    close_errors(window)


def test_plug_and_unplug_update_the_panel_within_2s(qtbot: Any, window: Any, store: Path) -> None:
    assert window.key_panel.current is not None and window.key_panel.current.is_demo
    assert window.key_panel.demo.isVisible()
    qtbot.waitUntil(lambda: window.keys._monitor is not None, timeout=10000)
    time.sleep(0.3)
    try:
        started = time.monotonic()
        unplug(store, DEFAULT_LABEL)
        qtbot.waitUntil(lambda: window.key_panel.current is None, timeout=2000)
        gone = time.monotonic() - started
        assert "未检测到 UKey" in window.key_panel.status.text()
        assert window.key_panel.palette_.count() == 0
    finally:
        started = time.monotonic()
        plug(store, DEFAULT_LABEL)
    qtbot.waitUntil(lambda: window.key_panel.current is not None, timeout=2000)
    back = time.monotonic() - started
    assert gone < 2.0 and back < 2.0
    assert window.key_panel.palette_.count() == 2


def test_read_only_output_folder_is_refused_before_the_pin(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    open_doc(qtbot, window, bid_pdf)
    window._place_in_middle(window.seal_choices()[0])
    # /proc takes no new files, whoever runs the test (chmod does not stop root)
    flow = window.sign("/proc/bid-已签章.pdf")
    wait_flow(qtbot, window)
    assert flow.pin_dialog is None and flow.attempts == 0, "no PIN asked for an operation that cannot succeed"
    assert flow.error is not None and flow.error.code == "ERR_SIGN_REFUSED"
    assert "只读" in flow.error.zh and "read-only" in flow.error.en
    qtbot.waitUntil(lambda: bool(error_dialogs(window)))
    close_errors(window)


def test_output_onto_the_original_is_refused(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    before = sha(bid_pdf)
    open_doc(qtbot, window, bid_pdf)
    window._place_in_middle(window.seal_choices()[0])
    flow = window.sign(bid_pdf)
    wait_flow(qtbot, window)
    assert flow.attempts == 0 and flow.error is not None and "原文件" in flow.error.zh
    assert sha(bid_pdf) == before
    close_errors(window)


def test_nothing_placed_is_refused_before_the_pin(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    open_doc(qtbot, window, bid_pdf)
    flow = window.sign()
    wait_flow(qtbot, window)
    assert flow.attempts == 0 and "没有放置" in flow.error.zh
    close_errors(window)


def _other_signer() -> SoftwareSigner:
    ca = CertificateAuthority.create_root(name="Other CA Root")
    key = sm2.PrivateKey.generate()
    cert = ca.issue(key.public_key, Subject(unit_name="沈阳其他单位有限公司"), "sign")
    return SoftwareSigner(cert, key)


def test_pdf_sealed_by_someone_else_keeps_its_signature(qtbot: Any, window: Any, tmp_path: Path,
                                                        root_der: bytes) -> None:
    plain = make_bid(tmp_path / "plain.pdf", pages=2)
    theirs = tmp_path / "theirs.pdf"
    seal_pdf(plain, theirs, _other_signer(), [Seal(RectPlacement(0, (60, 700, 180, 820)), company_seal("沈阳其他单位"))])
    before = sha(theirs)
    open_doc(qtbot, window, theirs)
    (first,) = window.verification.signatures
    assert first.unit_name == "沈阳其他单位有限公司" and first.verdict == "untrusted"
    window._place_in_middle(window.seal_choices()[0])
    window.sign()
    enter_pin(qtbot, window)
    flow = wait_flow(qtbot, window)
    assert flow.error is None, flow.error
    assert sha(theirs) == before
    report = verify_pdf(flow.result["output"], trust_roots=trusted_roots(root_der))
    assert len(report.signatures) == 2
    assert report.signatures[0].status == "untrusted" and report.signatures[0].integrity
    assert report.signatures[0].modification in ("signature_added", "none", "form_filled")
    assert report.signatures[1].status == "valid"
    qtbot.waitUntil(lambda: window.verification is not None and len(window.verification.signatures) == 2,
                    timeout=20000)
    assert window.sig_panel.list.count() == 2


def test_unexpected_error_goes_to_a_log_not_a_traceback(qtbot: Any, window: Any) -> None:
    from app import paths

    errors: list[BidSealError] = []

    def boom(ctx: Any) -> None:
        raise RuntimeError("a bug")

    window.runner.submit(boom, name="bug", on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    err = errors[0]
    assert err.code == "ERR_INTERNAL" and "Traceback" not in err.zh + err.en
    log = Path(err.details["log"])
    assert log.parent == paths.log_dir() and "RuntimeError: a bug" in log.read_text()
    dialog = window.show_error(err)
    assert str(log) in dialog.log_hint.text()
    dialog.accept()


def test_exception_in_a_slot_is_logged_and_explained(qtbot: Any, window: Any) -> None:
    import sys

    from app.ui.main import install_excepthook

    old = sys.excepthook
    install_excepthook(lambda: window)
    try:
        try:
            raise ValueError("slot bug")
        except ValueError:
            sys.excepthook(*sys.exc_info())
        qtbot.waitUntil(lambda: bool(error_dialogs(window)))
        dialog = error_dialogs(window)[0]
        assert "crash-" in dialog.log_hint.text() and "ValueError" not in dialog.message.text()
    finally:
        sys.excepthook = old
        close_errors(window)


def test_window_drop_of_several_files_opens_the_first(qtbot: Any, window: Any, tmp_path: Path) -> None:
    a = make_bid(tmp_path / "a.pdf", pages=1)
    b = make_bid(tmp_path / "b.pdf", pages=2)
    drop_files(window, a, b)
    qtbot.waitUntil(lambda: window.doc is not None and Path(window.doc.path) == a, timeout=20000)
    assert "第一个" in window.last_notice


def test_full_output_folder_leaves_no_partial_file(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from tests.support.small_disk import small_disk

    pdf = make_bid(tmp_path / "big.pdf", pages=40)
    data = bytearray(pdf.read_bytes())
    before = sha(pdf)
    open_doc(qtbot, window, pdf)
    window._place_in_middle(window.seal_choices()[0])
    with small_disk(tmp_path / "full", max(len(data) // 3, 8192)) as (folder, how):
        flow = window.sign(folder / "out.pdf")
        if flow.pin_dialog is None:
            qtbot.waitUntil(lambda: flow.done or (flow.pin_dialog is not None and flow.pin_dialog.isVisible()),
                            timeout=20000)
        if not flow.done:
            enter_pin(qtbot, window)
        wait_flow(qtbot, window)
        assert flow.result is None and flow.error is not None, how
        assert flow.error.code in ("ERR_OUTPUT_WRITE", "ERR_SIGN_REFUSED"), flow.error
        assert "磁盘已满" in flow.error.zh or "写入" in flow.error.zh
        assert list(folder.iterdir()) == [], "no partial output"
    assert sha(pdf) == before
    close_errors(window)


def test_engine_dying_while_sealing_leaves_nothing(qtbot: Any, window: Any, bid_pdf: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    from app.token.session import TokenSigner
    from app.ui.engine_client import engine_pool

    real = TokenSigner.sign_digest

    def kill_engine_first(self: Any, e: bytes) -> bytes:
        for proc in list(engine_pool()._all):
            if proc.pid:
                os.kill(proc.pid, signal.SIGKILL)
        return real(self, e)

    monkeypatch.setattr(TokenSigner, "sign_digest", kill_engine_first)
    before = sha(bid_pdf)
    open_doc(qtbot, window, bid_pdf)
    window._place_in_middle(window.seal_choices()[0])
    window.sign()
    enter_pin(qtbot, window)
    flow = wait_flow(qtbot, window)
    assert flow.error is not None and flow.error.code == "ERR_ENGINE_CRASHED", flow.error
    assert "原文件没有改动" in flow.error.zh
    assert sha(bid_pdf) == before
    assert sorted(p.name for p in bid_pdf.parent.iterdir()) == ["bid.pdf"], "no partial output"
    close_errors(window)
