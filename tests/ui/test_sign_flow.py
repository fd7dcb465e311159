"""The daily job through the real widgets: drag a seal from the palette onto page 2 with
mouse events, sign with the virtual UKey through BidSeal's PIN dialog, and check the
output file independently (verify_pdf: a real SM2 signature at that position)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from app.pdfsign.verify import verify_pdf
from tests.ui.conftest import (
    PIN,
    drag_seal,
    enter_pin,
    open_doc,
    seal_in_middle,
    trusted_roots,
    wait_flow,
)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def widget_rects(path: Path) -> dict[int, list[tuple[float, float, float, float]]]:
    """Signature widget rectangles per 0-based page, in displayed page coordinates."""
    from app.pdfsign.placement import page_geometry

    out: dict[int, list[tuple[float, float, float, float]]] = {}
    doc = pymupdf.open(path)
    for i in range(doc.page_count):
        geo = page_geometry(doc, i)
        for w in doc[i].widgets() or []:
            if w.field_type == pymupdf.PDF_WIDGET_TYPE_SIGNATURE:
                kind, raw = doc.xref_get_key(w.xref, "Rect")
                nums = tuple(float(v) for v in raw.strip("[] ").split()[:4])
                out.setdefault(i, []).append(geo.pdf_to_visible(nums))
    doc.close()
    return out


def test_drag_seal_onto_page_2_and_sign(qtbot: Any, window: Any, bid_pdf: Path, root_der: bytes) -> None:
    before = sha(bid_pdf)
    open_doc(qtbot, window, bid_pdf)
    drag_seal(window, "key:company", 1, 300.0, 420.0)
    plan = window.viewer.plan
    assert len(plan.seals) == 1
    placed = plan.seals[0]
    assert placed.page == 1
    cx = (placed.rect[0] + placed.rect[2]) / 2
    cy = (placed.rect[1] + placed.rect[3]) / 2
    assert abs(cx - 300.0) < 2 and abs(cy - 420.0) < 2, placed.rect
    assert window.act_sign.isEnabled()

    window.sign()
    dialog = enter_pin(qtbot, window)
    assert "6" in dialog.tries.text()  # tries left shown
    flow = wait_flow(qtbot, window)
    assert flow.error is None, flow.error
    out = bid_pdf.with_name("bid-已签章.pdf")
    assert Path(flow.result["output"]) == out
    assert sha(bid_pdf) == before, "the original must stay byte-identical"

    report = verify_pdf(out, trust_roots=trusted_roots(root_der))
    assert report.status == "valid", report.to_text()
    assert len(report.signatures) == 1
    sig = report.signatures[0]
    assert sig.pages == [2]
    assert sig.unit_name == "辽宁示例建设工程有限公司"
    assert sig.signature_algorithm and "1.2.156.10197.1.501" in sig.signature_algorithm or sig.sm2_id
    rects = widget_rects(out)
    assert list(rects) == [1]
    x0, y0, x1, y1 = rects[1][0]
    assert abs((x0 + x1) / 2 - cx) < 1.0 and abs((y0 + y1) / 2 - cy) < 1.0

    # the workspace reopened the signed file and shows the new signature
    qtbot.waitUntil(lambda: window.doc is not None and Path(window.doc.path) == out, timeout=20000)
    qtbot.waitUntil(lambda: window.verification is not None and len(window.verification.signatures) == 1)
    assert window.verification.signatures[0].verdict == "valid"
    assert window.viewer.plan.empty
    assert window.sig_panel.list.count() == 1
    # no temporary file left beside the output
    assert sorted(p.name for p in bid_pdf.parent.iterdir()) == ["bid-已签章.pdf", "bid.pdf"]


def test_second_signing_gets_a_new_name(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    taken = bid_pdf.with_name("bid-已签章.pdf")
    taken.write_bytes(b"someone else's file")
    flow = seal_in_middle(qtbot, window, bid_pdf)
    assert flow.error is None, flow.error
    assert Path(flow.result["output"]).name == "bid-已签章(2).pdf"
    assert taken.read_bytes() == b"someone else's file"


def test_pin_is_wiped_and_not_kept(qtbot: Any, window: Any, bid_pdf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.token

    seen: list[bytearray] = []
    real = app.token.open_session

    def spy(identity: Any, pin: bytearray, **kw: Any) -> Any:
        seen.append(pin)
        return real(identity, pin, **kw)

    monkeypatch.setattr(app.token, "open_session", spy)
    open_doc(qtbot, window, bid_pdf)
    window._place_in_middle(window.seal_choices()[0])
    window.sign()
    dialog = enter_pin(qtbot, window)
    assert dialog.edit.text() == ""
    flow = wait_flow(qtbot, window)
    assert flow.error is None, flow.error
    assert len(seen) == 1, "one PIN entry, one login for the whole operation"
    assert isinstance(seen[0], bytearray) and len(seen[0]) == len(PIN) and not any(seen[0])
    assert all(v != PIN and v != PIN.encode() for v in vars(flow).values() if isinstance(v, (str, bytes)))
    from app.settings import settings_file
    from app.ui.state import state_path

    for path in (settings_file(), state_path()):
        if path.exists():
            assert PIN not in path.read_text(encoding="utf-8")


def test_cancel_while_sealing_leaves_nothing(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    from PySide6.QtCore import Qt

    before = sha(bid_pdf)
    open_doc(qtbot, window, bid_pdf)
    window._place_in_middle(window.seal_choices()[0])
    flow = window.sign()
    enter_pin(qtbot, window)
    qtbot.waitUntil(lambda: flow.progress is not None and flow.progress.isVisible())
    qtbot.mouseClick(flow.progress.cancel, Qt.MouseButton.LeftButton)
    wait_flow(qtbot, window)
    assert flow.result is None and flow.error is not None and flow.error.code == "ERR_CANCELLED"
    assert "取消" in window.last_notice
    assert sha(bid_pdf) == before
    assert sorted(p.name for p in bid_pdf.parent.iterdir()) == ["bid.pdf"]


def test_a_picture_file_as_a_seal(qtbot: Any, window: Any, bid_pdf: Path, tmp_path: Path, root_der: bytes) -> None:
    from app.token.seal_images import legal_seal

    picture = tmp_path / "我的章.png"
    picture.write_bytes(legal_seal("李四"))
    not_a_picture = tmp_path / "notes.png"
    not_a_picture.write_bytes(b"not an image at all")
    open_doc(qtbot, window, bid_pdf)
    window.add_seal_image(not_a_picture)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10000)
    assert window.last_error.code == "ERR_SEAL_IMAGE"
    window.add_seal_image(picture)
    qtbot.waitUntil(lambda: any(c.source == "file" for c in window.seal_choices()), timeout=10000)
    key = next(c.key for c in window.seal_choices() if c.source == "file")
    drag_seal(window, key, 0, 200.0, 300.0)
    window.sign()
    enter_pin(qtbot, window)
    flow = wait_flow(qtbot, window)
    assert flow.error is None, flow.error
    report = verify_pdf(flow.result["output"], trust_roots=trusted_roots(root_der))
    assert report.status == "valid" and report.signatures[0].pages == [1]


def test_sealed_copy_goes_to_the_configured_output_folder(qtbot: Any, window: Any, bid_pdf: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from app import settings as app_settings

    out = tmp_path / "sealed-bids"
    out.mkdir()
    config = tmp_path / "config.json"
    monkeypatch.setenv("BIDSEAL_CONFIG", str(config))
    app_settings.save(app_settings.Settings(output_folder=str(out), sealed_name="{stem}-signed{suffix}"), config)
    flow = seal_in_middle(qtbot, window, bid_pdf)
    assert flow.error is None, flow.error
    assert Path(flow.result["output"]) == out / "bid-signed.pdf"
