"""Screenshots of the localhost helper inside the desktop window, taken by ``make.py`` with
the real window under Xvfb (after the part-2 dialogs).

``shoot(app, window, tmp, out, shoot_window)`` allows one hub origin, starts the window's
helper (:mod:`app.ui.helper_host`) and plays the hub's page: ``sign-pdf`` with the sample
bid and a keyword hint. It captures the consent dialog over the window
(``13-helper-consent.png``) and then the workspace with the web site's review banner and
the seal placed at the keyword (``14-helper-review.png``), then declines (the page must get
``ERR_USER_CANCELLED``) and stops the helper.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

SHOTS = ("13-helper-consent.png", "14-helper-review.png")
HUB = "https://ggzy.ln.gov.cn"
KEYWORD = "投标人（盖章）"


def shoot(app: Any, window: Any, tmp: Path, out: Path, shoot_window: Callable[[Path], None]) -> list[str]:
    """Capture both screenshots into ``out``; returns problems (empty when all went well)."""
    import httpx

    from app.helper.config import save_user_hubs
    from app.ui.helper_host import HelperHost
    from tests.support.qt_wait import run_events, wait_until

    problems: list[str] = []
    bid = next((tmp / "bids").glob("*.pdf"))
    save_user_hubs([{"origin": HUB, "name": "辽宁省公共资源交易平台"}])
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

    threading.Thread(target=page, daemon=True).start()
    try:
        wait_until(lambda: host.consent.current is not None and host.consent.current.isVisible())
        dialog = host.consent.current
        wait_until(dialog.ok_button.isEnabled)
        dialog.adjustSize()
        dialog.move((1280 - dialog.width()) // 2, max((800 - dialog.height()) // 2, 10))
        shoot_window(out / SHOTS[0])
        dialog.ok_button.click()
        wait_until(lambda: window.review is not None and window.doc is not None
                   and window.placement_dialog is not None and window.placement_dialog.spots is not None)
        window.placement_dialog.confirm.click()
        seal = window.viewer.plan.seals[0]
        window.viewer.go_to_page(seal.page, max(seal.rect[1] - 330, 0))
        wait_until(lambda: window.renderer.image(seal.page, window.viewer.render_scale) is not None)
        run_events(300)
        shoot_window(out / SHOTS[1])
        window.banner.decline_button.click()
        wait_until(lambda: "r" in result, 60)
        code = result["r"].json().get("error", {}).get("code")
        if code != "ERR_USER_CANCELLED":
            problems.append(f"declining answered the page with {code}")
    finally:
        host.stop()
    return problems
