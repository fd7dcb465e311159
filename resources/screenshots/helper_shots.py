"""Screenshots of the localhost helper inside the desktop window, rendered under Xvfb.

    .venv/bin/python resources/screenshots/helper_shots.py [--out DIR]

(Without a display the script starts itself under ``xvfb-run``.) It provisions the
virtual UKey in a throw-away folder, allows one hub origin, starts the window with its
helper (:mod:`app.ui.helper_host`) and plays the hub's page: ``sign-pdf`` with the sample
bid and a keyword hint. It captures the consent dialog over the window
(``13-helper-consent.png``) and then the workspace with the web site's review banner and
the seal placed at the keyword (``14-helper-review.png``), then declines. It fails
(exit 1) when a screenshot is blank or Chinese would render as boxes (same checks as
``make.py``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from resources.screenshots.make import _setup, _shoot, cjk_renders, not_blank  # noqa: E402

SHOTS = ("13-helper-consent.png", "14-helper-review.png")
HUB = "https://ggzy.ln.gov.cn"
KEYWORD = "投标人（盖章）"


def make(out: Path) -> list[str]:
    import httpx
    from PySide6.QtWidgets import QApplication

    from tests.support.qt_wait import run_events, wait_until

    problems: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="bidseal-helper-shots-"))
    try:
        bid = _setup(tmp)
        app = QApplication.instance() or QApplication([sys.argv[0]])
        ok, why = cjk_renders()
        if not ok:
            problems.append(f"Chinese text would render as boxes ({why}); install fonts-wqy-microhei")
        from app.helper.config import save_user_hubs
        from app.settings import Settings
        from app.ui.engine_client import shutdown
        from app.ui.helper_host import HelperHost
        from app.ui.window import MainWindow

        save_user_hubs([{"origin": HUB, "name": "辽宁省公共资源交易平台"}])
        window = MainWindow(Settings())
        window.move(0, 0)
        window.resize(1280, 800)
        window.show()
        wait_until(lambda: window.key_panel.current is not None and window.key_panel.pin is not None)
        host = HelperHost(window, ports=(0,))
        host.start()
        wait_until(lambda: host.state in ("running", "failed"))
        if host.state != "running":
            return [f"the helper did not start: {host.error}"]
        result: dict[str, Any] = {}

        def page() -> None:
            with httpx.Client(headers={"Origin": HUB, "BidSeal-Protocol": "1"}, timeout=300) as c:
                result["r"] = c.post(f"http://127.0.0.1:{host.server.port}/v1/sign-pdf", content=bid.read_bytes(),
                                     params={"keyword": KEYWORD, "fileName": bid.name},
                                     headers={"Content-Type": "application/pdf"})

        thread = threading.Thread(target=page, daemon=True)
        thread.start()
        wait_until(lambda: host.consent.current is not None and host.consent.current.isVisible())
        dialog = host.consent.current
        wait_until(dialog.ok_button.isEnabled)
        dialog.adjustSize()
        dialog.move((1280 - dialog.width()) // 2, max((800 - dialog.height()) // 2, 10))
        _shoot(app, window, out / SHOTS[0])
        dialog.ok_button.click()
        wait_until(lambda: window.review is not None and window.doc is not None
                   and window.placement_dialog is not None and window.placement_dialog.spots is not None)
        window.placement_dialog.confirm.click()
        seal = window.viewer.plan.seals[0]
        window.viewer.go_to_page(seal.page, max(seal.rect[1] - 330, 0))
        wait_until(lambda: window.renderer.image(seal.page, window.viewer.render_scale) is not None)
        run_events(300)
        _shoot(app, window, out / SHOTS[1])
        window.banner.decline_button.click()
        wait_until(lambda: "r" in result, 60)
        code = result["r"].json().get("error", {}).get("code")
        if code != "ERR_USER_CANCELLED":
            problems.append(f"declining answered the page with {code}")
        host.stop()
        window.shutdown()
        window.close()
        shutdown()
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
