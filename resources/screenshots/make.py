"""Screenshots of the sealing workspace's main flows, rendered by the real window on a real
X server (Xvfb), for the README.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python resources/screenshots/make.py [--out DIR]

(Without a display the script starts itself under ``xvfb-run``.) It provisions the
virtual UKey in a throw-away folder, opens ``resources/samples/bid-sample.pdf`` and
captures: the window with the key and no document, a bid with seals placed (keyword
placement and a cross-page seal), BidSeal's PIN dialog, the signature panel after
signing, and the English window (then ``part2.py``'s dialogs and ``helper_shots.py``'s
web-helper consent and review). It fails (exit 1) when a screenshot is blank or when
Chinese would render as boxes (the CJK glyphs are missing from the font Qt uses).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SAMPLE = REPO / "resources" / "samples" / "bid-sample.pdf"
SHOTS = ("01-start.png", "02-seals-placed.png", "03-pin-dialog.png", "04-signature-panel.png", "05-english.png")
from resources.screenshots import helper_shots, part2  # noqa: E402  (envelopes, batch, ...; the web helper)

SHOTS += part2.SHOTS + helper_shots.SHOTS
CJK_SAMPLE = "投标文件签章验证口令"


# -- checks -----------------------------------------------------------------------------------
def cjk_renders() -> tuple[bool, str]:
    """True when the application font has glyphs for Chinese (no tofu boxes)."""
    from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QRawFont

    font = QFont()
    metrics = QFontMetrics(font)
    missing = [c for c in CJK_SAMPLE if not metrics.inFontUcs4(ord(c))]
    if missing:
        # Qt may still fall back to another font; check the glyphs that would really be drawn
        raw = QRawFont.fromFont(font)
        missing = [c for c in missing if not raw.supportsCharacter(c)]

    def draw(text: str) -> QImage:
        img = QImage(400, 60, QImage.Format.Format_RGB32)
        img.fill(QColor("white"))
        p = QPainter(img)
        p.setFont(font)
        p.setPen(QColor("black"))
        p.drawText(5, 40, text)
        p.end()
        return img

    tofu = draw("\U000f0000\U000f0001\U000f0002\U000f0003")  # private-use: drawn as boxes, if at all
    real = draw(CJK_SAMPLE[:4])
    distinct = real != tofu and _ink(real) > 30
    family = QFontMetrics(font).fontDpi(), font.family()
    ok = not missing and distinct
    return ok, f"font={family[1]} missing={''.join(missing)!r} distinct_from_tofu={distinct}"


def _ink(image: object) -> int:
    from PySide6.QtGui import QImage

    assert isinstance(image, QImage)
    dark = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            if image.pixelColor(x, y).lightness() < 128:
                dark += 1
    return dark


def not_blank(path: Path) -> tuple[bool, str]:
    """A screenshot is blank when (almost) all of it is one colour."""
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    if image.isNull() or image.width() < 200:
        return False, "unreadable or tiny"
    counts: dict[int, int] = {}
    step = 4
    total = 0
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            rgb = image.pixel(x, y) & 0xFFFFFF
            counts[rgb] = counts.get(rgb, 0) + 1
            total += 1
    top = max(counts.values()) / total
    return len(counts) > 50 and top < 0.9, f"{len(counts)} colours, most common {top:.0%}"


# -- the flows ------------------------------------------------------------------------------
def _setup(tmp: Path) -> Path:
    os.environ["BIDSEAL_HOME"] = str(tmp / "home")
    os.environ["SOFTSKF_STORE"] = str(tmp / "store")
    os.environ["BIDSEAL_CONFIG"] = str(tmp / "no-config.json")
    lib = REPO / "native" / "softskf" / "build" / "libsoftskf.so"
    if not lib.exists():
        subprocess.run(["make", "-C", str(REPO / "native" / "softskf")], check=True, capture_output=True)
    os.environ["BIDSEAL_SKF_LIB"] = str(lib)
    from app.token.softkey import init_softkey

    init_softkey(tmp / "store", pki_dir=tmp / "pki")
    bid = tmp / "bids" / "沈阳某道路改造工程-投标文件.pdf"
    bid.parent.mkdir()
    shutil.copyfile(SAMPLE, bid)
    return bid


def _wait(app: object, cond: object, timeout: float = 60.0) -> None:
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    end = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def _settle(app: object, seconds: float = 0.6) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def _shoot(app: object, window: object, path: Path) -> None:
    _settle(app)
    screen = app.primaryScreen()  # type: ignore[attr-defined]
    pix = screen.grabWindow(0, 0, 0, window.width(), window.height())  # type: ignore[attr-defined]
    pix.save(str(path))


def make(out: Path) -> list[str]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    problems: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="bidseal-shots-"))
    try:
        bid = _setup(tmp)
        app = QApplication.instance() or QApplication([sys.argv[0]])
        ok, why = cjk_renders()
        if not ok:
            problems.append(f"Chinese text would render as boxes ({why}); install fonts-wqy-microhei")
        from app.settings import Settings
        from app.ui.engine_client import shutdown
        from app.ui.window import MainWindow

        window = MainWindow(Settings())
        # the demo CA's root in the trust list, as a bidder's trust store would hold their CA's root
        window.trust_roots_der = [(tmp / "pki" / "root.pem").read_bytes()]
        window.move(0, 0)
        window.resize(1280, 800)
        window.show()
        _wait(app, lambda: window.key_panel.current is not None and window.key_panel.pin is not None)
        _shoot(app, window, out / SHOTS[0])

        window.open_file(bid)
        _wait(app, lambda: window.doc is not None and window.sig_panel.state == "done")
        dialog = window.keyword_dialog()
        dialog.request_preview()
        _wait(app, lambda: dialog.spots is not None)
        dialog.accept()
        cross = window.cross_page_dialog()
        cross.pages.setText(f"1-{window.doc.page_count}")
        cross.request_preview()
        _wait(app, lambda: cross.spots is not None)
        cross.accept()
        page = window.viewer.plan.seals[0].page
        rect = window.viewer.plan.seals[0].rect
        window.viewer.set_zoom("width")
        _settle(app, 0.2)
        window.viewer.go_to_page(page, max(rect[1] - 330, 0))
        _wait(app, lambda: window.renderer.image(page, window.viewer.render_scale) is not None)
        _shoot(app, window, out / SHOTS[1])

        flow = window.sign()
        _wait(app, lambda: flow.pin_dialog is not None and flow.pin_dialog.isVisible())
        QTest.keyClicks(flow.pin_dialog.edit, "12345678")
        _shoot(app, window, out / SHOTS[2])
        flow.pin_dialog.ok.click()
        _wait(app, lambda: flow.done, 120)
        if flow.error is not None:
            problems.append(f"signing failed: {flow.error}")
        else:
            _wait(app, lambda: window.verification is not None and len(window.verification.signatures) == 2)
            window.sig_panel.select(0)
            _settle(app)
            page = window.verification.signatures[0].spots[0][0]
            _wait(app, lambda: window.renderer.image(page, window.viewer.render_scale) is not None)
            _shoot(app, window, out / SHOTS[3])
            window.act_en.trigger()
            window.sig_panel.select(0)
            _shoot(app, window, out / SHOTS[4])
            window.act_zh.trigger()
            problems += part2.shoot(app, window, tmp, out, lambda path: _shoot(app, window, path))
            problems += helper_shots.shoot(app, window, tmp, out, lambda path: _shoot(app, window, path))
        window.shutdown()
        window.close()
        shutdown()
        app.processEvents()
        del Qt
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name in SHOTS:
        path = out / name
        if not path.exists():
            problems.append(f"{name}: missing")
            continue
        ok, why = not_blank(path)
        print(f"{name}: {why}")
        if not ok:
            problems.append(f"{name} is blank ({why})")
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    from tests.ui.xvfb import needs_display, rerun_under_xvfb

    if needs_display():
        return rerun_under_xvfb(__file__, argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    args.out.mkdir(parents=True, exist_ok=True)
    problems = make(args.out)
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
