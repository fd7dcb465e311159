"""The engine processes the window uses for every PyMuPDF-bound job: bad files, cancellation,
a crashing engine, callbacks into the window."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pymupdf
import pytest

from app.cancel import CancelToken, OperationCancelled
from app.demo.pki import demo_pki
from app.errors import BidSealError
from app.token.seal_images import company_seal
from app.ui.engine_client import EngineProcess
from app.ui.wire import EngineCrashed
from tests.ui.conftest import make_bid


@pytest.fixture(scope="module")
def engine() -> EngineProcess:
    proc = EngineProcess()
    yield proc
    proc.close()


def test_open_reports_pages_and_sealability(engine: EngineProcess, tmp_path: Path) -> None:
    pdf = make_bid(tmp_path / "b.pdf", pages=5)
    info = engine.call("open", {"path": str(pdf)})
    assert info.page_count == 5 and info.sealable and info.pages[0].width == 595
    sizes = engine.call("geometry", {"path": str(pdf), "start": 0, "count": 100})
    assert [p.index for p in sizes] == [0, 1, 2, 3, 4]
    w, h, stride, data = engine.call("render", {"path": str(pdf), "page": 0, "scale": 0.5})
    assert (w, h) == (298, 421) and stride % 4 == 0 and stride >= w * 3 and len(data) == stride * h


def _password_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="open-me", owner_pw="owner")
    return path


def _owner_only_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "locked for editing")
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", permissions=pymupdf.PDF_PERM_PRINT)
    return path


def _writer(data: bytes):
    def make(path: Path) -> Path:
        path.write_bytes(data)
        return path

    return make


@pytest.mark.parametrize(("maker", "code", "words"), [
    (_writer(b""), "ERR_PDF_OPEN", "0 字节"),
    (_writer(b"just some text, not a PDF"), "ERR_PDF_OPEN", "不是 PDF"),
    (_writer(b"\x89PNG\r\n\x1a\n" + b"\0" * 64), "ERR_PDF_OPEN", "不是 PDF"),
    (_password_pdf, "ERR_PDF_ENCRYPTED", "密码"),
])
def test_unusable_files_are_refused_with_a_sentence(engine: EngineProcess, tmp_path: Path, maker, code: str,
                                                    words: str) -> None:
    path = maker(tmp_path / "in.pdf")
    with pytest.raises(BidSealError) as info:
        engine.call("open", {"path": str(path)})
    assert info.value.code == code
    assert words in info.value.zh and info.value.en


def test_damaged_or_owner_locked_files_open_view_only(engine: EngineProcess, tmp_path: Path) -> None:
    full = make_bid(tmp_path / "full.pdf", pages=4)
    damaged = tmp_path / "damaged.pdf"
    data = full.read_bytes()
    damaged.write_bytes(data[: len(data) - 200])  # xref and trailer cut off: MuPDF repairs it
    info = engine.call("open", {"path": str(damaged)})
    assert not info.sealable and info.refusal["code"] == "ERR_PDF_DAMAGED"
    locked = engine.call("open", {"path": str(_owner_only_pdf(tmp_path / "owner.pdf"))})
    assert not locked.sealable and locked.refusal["code"] == "ERR_PDF_ENCRYPTED"


def test_missing_file(engine: EngineProcess, tmp_path: Path) -> None:
    with pytest.raises(BidSealError) as info:
        engine.call("open", {"path": str(tmp_path / "nope.pdf")})
    assert info.value.code == "ERR_PDF_OPEN"


def test_search_streams_hits_and_can_be_cancelled(engine: EngineProcess, tmp_path: Path) -> None:
    pdf = make_bid(tmp_path / "many.pdf", pages=120, keyword_pages=tuple(range(120)))
    hits: list[tuple[int, list]] = []
    total = engine.call("search", {"path": str(pdf), "text": "投标人"}, partial=hits.append)
    assert total == 120 and [h[0] for h in hits] == list(range(120))
    x0, y0, x1, y1 = hits[0][1][0]
    assert 60 < x0 < 80 and 580 < y1 < 610
    token = CancelToken()
    got: list[object] = []

    def first(hit: object) -> None:
        got.append(hit)
        token.cancel()

    total = engine.call("search", {"path": str(pdf), "text": "投标人"}, partial=first, cancel=token)
    assert total < 120


def test_sealing_asks_the_window_to_sign_and_honours_cancel(engine: EngineProcess, tmp_path: Path) -> None:
    pki = demo_pki()
    signer = pki.signer()
    pdf = make_bid(tmp_path / "s.pdf", pages=2)
    out = tmp_path / "s-out.pdf"
    png = company_seal("测试单位")
    specs = [{"kind": "rect", "page": 0, "rect": (100, 100, 220, 220), "image": png}]
    asked: list[bytes] = []

    def sign(e: bytes) -> bytes:
        asked.append(e)
        return signer.sign_digest(e)

    result = engine.call("seal", {"input_path": str(pdf), "output_path": str(out), "specs": specs,
                                  "certificate": signer.certificate.der,
                                  "extra_roots": [pki.root.certificate.der]}, handlers={"sign_digest": sign})
    assert len(asked) == 1 and len(asked[0]) == 32
    assert result["verification"].signatures[0].verdict == "valid"
    out.unlink()

    token = CancelToken()
    token.cancel()
    with pytest.raises(OperationCancelled):
        engine.call("seal", {"input_path": str(pdf), "output_path": str(out), "specs": specs,
                             "certificate": signer.certificate.der}, handlers={"sign_digest": sign}, cancel=token)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["s.pdf"]

    def refuse(e: bytes) -> bytes:
        from app.token.errors import DeviceRemoved

        raise DeviceRemoved("UKey 已被拔出。", "The UKey was removed.")

    with pytest.raises(BidSealError) as info:
        engine.call("seal", {"input_path": str(pdf), "output_path": str(out), "specs": specs,
                             "certificate": signer.certificate.der}, handlers={"sign_digest": refuse})
    assert info.value.code == "ERR_DEVICE_REMOVED" and not out.exists()


def test_a_dead_engine_is_reported_not_hung(tmp_path: Path) -> None:
    proc = EngineProcess()
    try:
        assert proc.call("ping") == proc.pid
        pdf = make_bid(tmp_path / "k.pdf", pages=2)
        signer = demo_pki().signer()

        def die_while_signing(e: bytes) -> bytes:  # the engine waits for this answer: it cannot finish
            os.kill(proc.pid, signal.SIGKILL)
            time.sleep(0.2)
            return signer.sign_digest(e)

        started = time.monotonic()
        with pytest.raises(EngineCrashed):
            proc.call("seal", {"input_path": str(pdf), "output_path": str(tmp_path / "out.pdf"),
                               "specs": [{"kind": "rect", "page": 0, "rect": (100, 100, 200, 200),
                                          "image": company_seal("单位")}],
                               "certificate": signer.certificate.der}, handlers={"sign_digest": die_while_signing})
        assert time.monotonic() - started < 20
        # the engine held its temporary output when it died; the shared sweep removes it
        from app.atomic import sweep_folder

        sweep_folder(tmp_path, force=True)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pdf"]
        with pytest.raises(EngineCrashed):
            proc.call("ping")
    finally:
        proc.close()
