"""``bidseal gui --self-test``: start the real window, open a PDF, wait until it is drawn and
its signatures are checked, save a screenshot, print what happened as JSON, and quit.

Why it exists: an installed package (or a frozen build on a bidder's machine) has no test
hooks and often no display. This start goes through the same window, page renderer and
engine process as a bidder's, so "the window opens from the installed files" is something a
package test, an installer check or a support engineer can prove in a few seconds, also
with ``QT_QPA_PLATFORM=offscreen``. It never starts the localhost helper and never hands
the file to a window already open (it must test *this* installation, not another process).

Exit codes: 0 the document was shown and verified, 1 something failed or timed out (the
JSON says which step), 2 bad arguments.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def sample_pdf() -> Path:
    """The bundled sample bid (the same file ``bidseal demo`` seals)."""
    from app.cli.commands.demo import SAMPLE

    return SAMPLE


def run_self_test(file: str | None = None, *, screenshot: str | None = None, timeout: float = 60.0,
                  lang: str | None = None) -> int:
    """Open ``file`` (default: the sample bid) in a fresh window; see the module docstring."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from app.ui.main import qt_application, with_language

    path = Path(file) if file else sample_pdf()
    if not path.is_file():
        _print({"ok": False, "step": "file", "error": f"no such file: {path}"})
        return 2
    started = time.monotonic()
    app = qt_application()

    from app import settings as app_settings
    from app.ui import engine_client
    from app.ui.window import MainWindow

    window = MainWindow(with_language(app_settings.load(), lang))
    result: dict[str, Any] = {"ok": False, "step": "start", "file": str(path),
                              "qt_platform": QGuiApplication.platformName(), "frozen": bool(getattr(sys, "frozen", False))}

    def elapsed() -> float:
        return round(time.monotonic() - started, 3)

    def finish(ok: bool, step: str, error: str | None = None) -> None:
        if result.get("done"):
            return
        result["done"] = True
        result.update(ok=ok, step=step, total_s=elapsed())
        if error:
            result["error"] = error
        if screenshot:
            app.processEvents()
            result["screenshot"] = screenshot if window.grab().save(screenshot) else None
        app.exit(0 if ok else 1)

    def opened(info: Any) -> None:
        result.update(step="render", opened_s=elapsed(), pages=info.page_count)

    def page_ready(page: int, _key: int) -> None:
        if "first_page_s" not in result:
            result["first_page_s"] = elapsed()
            _maybe_done()

    def verified(view: Any) -> None:
        result.update(verified_s=elapsed(), signatures=len(view.signatures),
                      verdicts=[str(getattr(s.verdict, "value", s.verdict)) for s in view.signatures],
                      summary=view.summary[1])
        _maybe_done()

    def _maybe_done() -> None:
        if "first_page_s" in result and "verified_s" in result:
            QTimer.singleShot(300, lambda: finish(True, "done"))  # let the panels paint

    window.document_opened.connect(opened)
    window.renderer.page_ready.connect(page_ready)
    window.verification_ready.connect(verified)
    window.renderer.failed.connect(lambda exc: finish(False, "render", getattr(exc, "en", str(exc))))
    def watch_errors() -> None:  # an error the window shows the bidder ends the test with it
        exc = getattr(window, "last_error", None)
        if exc is not None:
            finish(False, str(result["step"]), getattr(exc, "en", None) or str(exc))

    errors = QTimer(window)
    errors.timeout.connect(watch_errors)
    errors.start(100)
    QTimer.singleShot(int(timeout * 1000), lambda: finish(False, str(result["step"]), f"timed out after {timeout:g} s"))
    window.resize(1200, 760)
    window.show()
    result["window_s"] = elapsed()
    window.open_any(str(path))
    try:
        code = int(app.exec())
    finally:
        window.shutdown()
        engine_client.shutdown()
    result.pop("done", None)
    _print(result)
    return code


def _print(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + os.linesep)
    sys.stdout.flush()
