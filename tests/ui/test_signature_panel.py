"""The signature panel's verdicts on a valid, a tampered, a modified-after-signing and an
untrusted file; clicking a signature jumps to its seal and highlights it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymupdf
import pytest

from app.demo.pki import Subject
from app.gm import sm2
from app.gm.keyops import SoftwareSigner
from app.pdfsign import RectPlacement, Seal, seal_pdf
from app.token.seal_images import company_seal
from app.token.softkey import load_demo_ca
from tests.ui.conftest import make_bid, open_doc


@pytest.fixture(scope="module")
def demo_signer(pki_dir: Path, ukey: Any) -> SoftwareSigner:
    """A software signer issued by the same demo CA as the virtual key."""
    ca = load_demo_ca(pki_dir)
    key = sm2.PrivateKey.generate()
    cert = ca.issue(key.public_key, Subject(unit_name="辽宁示例建设工程有限公司"), "sign")
    return SoftwareSigner(cert, key)


@pytest.fixture
def signed_pdf(tmp_path: Path, demo_signer: SoftwareSigner) -> Path:
    src = make_bid(tmp_path / "src.pdf", pages=4)
    out = tmp_path / "signed.pdf"
    seal_pdf(src, out, demo_signer, [Seal(RectPlacement(2, (300, 500, 420, 620)), company_seal("辽宁示例"))])
    return out


def _verdicts(window: Any) -> list[str]:
    return [s.verdict.value for s in window.verification.signatures]


def test_valid_signature_and_jump_to_seal(qtbot: Any, window: Any, signed_pdf: Path) -> None:
    open_doc(qtbot, window, signed_pdf)
    assert _verdicts(window) == ["valid"]
    panel = window.sig_panel
    assert panel.list.count() == 1 and "有效" in panel.list.item(0).text()
    assert "全部有效" in panel.summary.text()
    assert "辽宁示例建设工程有限公司" in panel.details.toPlainText()
    sig = window.verification.signatures[0]
    assert sig.spots and sig.spots[0][0] == 2
    x0, y0, x1, y1 = sig.spots[0][1]
    assert abs(x0 - 300) < 1 and abs(y0 - 500) < 1 and abs(x1 - 420) < 1 and abs(y1 - 620) < 1
    window.viewer.go_to_page(0)
    assert 2 not in window.viewer.visible_pages()
    panel.select(0)
    qtbot.waitUntil(lambda: 2 in window.viewer.visible_pages())
    assert window.viewer.highlight_count == 1


def test_untrusted_when_the_root_is_not_configured(qtbot: Any, window: Any, signed_pdf: Path) -> None:
    window.trust_roots_der = []
    open_doc(qtbot, window, signed_pdf)
    assert _verdicts(window) == ["untrusted"]
    assert "不受信任" in window.sig_panel.list.item(0).text()
    assert "未配置信任根" in window.sig_panel.summary.text()


def test_tampered_file_is_invalid(qtbot: Any, window: Any, signed_pdf: Path) -> None:
    data = bytearray(signed_pdf.read_bytes())
    at = data.index(b"stream", 200) + 20  # inside the first page's content, within the signed range
    data[at] ^= 0x01
    tampered = signed_pdf.with_name("tampered.pdf")
    tampered.write_bytes(bytes(data))
    open_doc(qtbot, window, tampered)
    assert _verdicts(window) == ["invalid"]
    sig = window.verification.signatures[0]
    assert any(r.code == "DIGEST_MISMATCH" for r in sig.reasons)
    assert "无效" in window.sig_panel.list.item(0).text()
    assert "需要注意" in window.sig_panel.summary.text()


def test_modified_after_signing(qtbot: Any, window: Any, signed_pdf: Path) -> None:
    doc = pymupdf.open(signed_pdf)
    doc[0].insert_text((72, 300), "价格改为 1 元", fontname="china-s", fontsize=20)
    doc.saveIncr()
    doc.close()
    open_doc(qtbot, window, signed_pdf)
    assert _verdicts(window) == ["modified"]
    assert "签名后文档被修改" in window.sig_panel.list.item(0).text()
    window.sig_panel.select(0)
    assert "签名后的改动" in window.sig_panel.details.toPlainText() or "修改" in window.sig_panel.details.toPlainText()


def test_file_without_signatures(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    open_doc(qtbot, window, bid_pdf)
    assert window.verification.signatures == ()
    assert "没有签名" in window.sig_panel.summary.text()
    assert not window.sig_panel.list.isVisible()
