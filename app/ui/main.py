"""Starting the desktop application: ``bidseal`` (no arguments) or ``bidseal gui [FILE.pdf]``.

A second launch hands its file to the running window (:mod:`.single_instance`) and
exits, so only the first one runs the localhost helper (:mod:`.helper_host`, unless the
``helper.enabled`` setting is off). An exception that escapes a slot is a bug: it is
written to a crash log in the log folder and the bidder sees a sentence saying where,
never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import TracebackType
from typing import Any


def install_excepthook(window_getter: Any) -> None:
    """Unexpected exceptions in Qt slots: crash log + an error dialog."""
    from app.ui.crashlog import format_exception, write_crash_log
    from app.ui.wire import UnexpectedError

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        trace = format_exception(exc_type, exc, tb)
        path = write_crash_log(trace, "ui")
        err = UnexpectedError("", f"{exc_type.__name__}: {exc}"[:300])
        err.details.pop("trace", None)
        err.details["log"] = str(path) if path else None
        window = window_getter()
        try:
            if window is not None:
                window.show_error(err)
        except Exception:  # noqa: BLE001 - the hook must not raise
            sys.__excepthook__(exc_type, exc, tb)

    sys.excepthook = hook


def run(files: Sequence[str] | None = None, *, lang: str | None = None) -> int:
    """Open the window (or hand ``files`` to the one already open); returns the exit code."""
    from PySide6.QtWidgets import QApplication

    files = [str(f) for f in (files or [])]
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("BidSeal")
    app.setOrganizationName("BidSeal")

    from app.ui.single_instance import InstanceServer, send_to_running

    if send_to_running(files):
        return 0
    server = InstanceServer()
    server.listen()

    from dataclasses import replace

    from app import settings as app_settings
    from app.ui import engine_client
    from app.ui.window import MainWindow

    settings = app_settings.load()
    if lang in ("zh", "en"):  # for this run only
        settings = replace(settings, language="en" if lang == "en" else "zh_CN")
    window = MainWindow(settings)
    install_excepthook(lambda: window)

    def received(paths: list[str]) -> None:
        if paths:
            window.open_any(paths[0])
        window.showNormal()
        window.raise_()
        window.activateWindow()

    server.files_received.connect(received)
    window.show()
    helper = None
    if settings.helper_enabled:  # the localhost helper for the hub's web pages, beside the window
        from app.ui.helper_host import start_helper

        helper = start_helper(window)
    __import__("app.ui.update_notice", fromlist=["start_update_check"]).start_update_check(window)
    if files:
        window.open_any(files[0])
    try:
        return int(app.exec())
    finally:
        server.close()
        if helper is not None:
            helper.stop()
        window.shutdown()
        engine_client.shutdown()
