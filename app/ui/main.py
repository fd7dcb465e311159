"""Starting the desktop application: ``bidseal`` (no arguments) or ``bidseal gui [FILE.pdf]``.

A second launch hands its file to the running window (:mod:`.single_instance`) and
exits, so only the first one runs the localhost helper (:mod:`.helper_host`, unless the
``helper.enabled`` setting is off). ``bidseal gui --background`` (the autostart entry)
starts quietly in the tray (:mod:`.tray_session`); it does nothing when a window already
runs or the helper is turned off. An exception that escapes a slot is a bug: it is
written to a crash log in the log folder and the bidder sees a sentence saying where,
never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


@dataclass
class Started:
    """What :func:`start` set up; :func:`run` runs the event loop on it, tests drive it."""

    app: Any
    window: Any
    server: Any
    helper: Any = None
    tray: Any = None  # the TraySession, when the helper runs
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Stop listening for later launches, stop the helper, stop the window's work."""
        if self._closed:
            return
        self._closed = True
        self.server.close()
        if self.helper is not None:
            self.helper.stop()
        self.window.shutdown()


def qt_application() -> Any:
    """The process's QApplication, named so Qt's settings and dialogs say "BidSeal"."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("BidSeal")
    app.setOrganizationName("BidSeal")
    return app


def with_language(settings: Any, lang: str | None) -> Any:
    """``settings`` with ``--lang zh|en`` applied for this run only (nothing is saved)."""
    from dataclasses import replace

    if lang in ("zh", "en"):
        return replace(settings, language="en" if lang == "en" else "zh_CN")
    return settings


def start(files: Sequence[str] | None = None, *, lang: str | None = None, background: bool = False,
          tray: bool | Callable[[], bool] | None = None) -> Started | None:
    """Everything before the event loop. None when there is nothing to run here: a window
    already runs (it took ``files``; a background start tells it nothing), or a background
    start with the helper turned off. ``tray``: whether the desktop has a system tray, or a
    probe for it (:func:`app.ui.tray_session.tray_available` when None)."""
    from app import settings as app_settings

    settings = app_settings.load()
    if background and not settings.helper_enabled:
        return None  # the login start is only for the helper

    files = [str(f) for f in (files or [])]
    app = qt_application()

    from app.ui.single_instance import InstanceServer, instance_running, send_to_running

    if instance_running() if background else send_to_running(files):
        return None
    server = InstanceServer()
    server.listen()

    from app.ui.window import MainWindow

    window = MainWindow(with_language(settings, lang))
    install_excepthook(lambda: window)

    def received(paths: list[str]) -> None:
        if paths:
            window.open_any(paths[0])
        window.bring_to_front()

    server.files_received.connect(received)
    if not background:
        window.show()
    helper = None
    if settings.helper_enabled:  # the localhost helper for the hub's web pages, beside the window
        from app.ui.helper_host import start_helper

        helper = start_helper(window)
    from app.ui.update_notice import start_update_check

    start_update_check(window)  # off the UI thread; says something only when an update is offered
    if files:
        window.open_any(files[0])
    started = Started(app, window, server, helper)
    if helper is not None:
        from app.ui.tray_session import TraySession

        started.tray = TraySession(window, helper, background=background, tray=tray)
    return started


def run(files: Sequence[str] | None = None, *, lang: str | None = None, background: bool = False) -> int:
    """Open the window (or hand ``files`` to the one already open); returns the exit code."""
    started = start(files, lang=lang, background=background)
    if started is None:
        return 0
    from app.ui import engine_client
    from app.ui.quit_signals import quit_on_signals

    try:
        with quit_on_signals(started.app) as ending:
            code = int(started.app.exec())
        return ending.exit_code(code)
    finally:
        started.close()
        engine_client.shutdown()
