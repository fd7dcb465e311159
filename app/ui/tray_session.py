"""The window and the helper's tray icon together, and the quiet start at login.

The autostart entry runs ``bidseal gui --background`` so the localhost helper is there
for the hub's web pages, the way Web eID's app and the CA clients start: no window, an
icon in the system tray. :class:`TraySession` is what ties the window to the icon
(:class:`app.ui.helper_tray.HelperTray`, which exists once the helper is running):

* "Open BidSeal" (or a click on the icon) brings the window up; "Quit" closes it, stops
  the helper and ends the application;
* a background start keeps the window hidden when the desktop has a system tray, and
  shows it minimized when there is none (some desktops, a bare X server): the bidder is
  never left with a running helper and no way to reach it. At login the panel that hosts
  the tray may start after BidSeal, so a tray that is missing at first is waited for
  (:data:`TRAY_WAIT_MS`) before the window is shown minimized. If the helper does not
  start, the window is shown, since its status bar says why;
* in a background start with a tray, closing the window only hides it (the helper keeps
  serving), and the first time a tray message says so and how to quit. A normal start
  keeps "closing quits".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

HIDDEN_NOTICE = (
    "BidSeal 网页助手仍在后台运行，交易平台网页可以继续使用 UKey。"
    "点击托盘图标可打开窗口，右键选择“退出”可完全退出。\n"
    "The BidSeal web helper keeps running for the hub's web pages. Click the tray icon to "
    "open the window; right-click it and choose Quit to stop it."
)


#: How long a login start waits for the desktop's tray to appear before it shows the window
#: minimized (the panel and the autostart programs start side by side).
TRAY_WAIT_MS = 15000
TRAY_POLL_MS = 500


def tray_available() -> bool:
    """Whether the desktop shows tray icons (false on some desktops and a bare X server)."""
    return QSystemTrayIcon.isSystemTrayAvailable()


class TraySession(QObject):
    """See the module docstring. Create it after the window's :class:`HelperHost`, so its
    event filter sees the window's close first (Qt asks the last installed filter first).

    ``tray`` says whether the desktop has a system tray: a fixed answer, or a probe asked
    again while waiting for it (:func:`tray_available` when None)."""

    def __init__(self, window: Any, host: Any, *, background: bool,
                 tray: bool | Callable[[], bool] | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.host = host
        self.background = background
        self._probe: Callable[[], bool] | None = tray_available if tray is None else (
            tray if callable(tray) else None)
        self.has_tray = self._probe() if self._probe is not None else bool(tray)
        self.hide_on_close = False
        self.notice_shown = False
        self.quitting = False
        self._wired: Any = None
        self._tray_wait: QTimer | None = None
        host.state_changed.connect(self._helper_state)
        window.installEventFilter(self)
        if background and self.has_tray:
            self._use_tray()
        elif background and self._probe is not None and TRAY_WAIT_MS > 0:
            self._wait_for_tray()
        elif background:
            window.showMinimized()
        self._helper_state(host.state)

    def _use_tray(self) -> None:
        self.has_tray = self.hide_on_close = True
        # a dialog closing while the window is hidden must not end the application
        QApplication.setQuitOnLastWindowClosed(False)

    def _wait_for_tray(self) -> None:
        deadline = time.monotonic() + TRAY_WAIT_MS / 1000
        timer = self._tray_wait = QTimer(self)
        timer.setInterval(TRAY_POLL_MS)

        def check() -> None:
            if self._probe is not None and self._probe():
                timer.stop()
                self._use_tray()
                if self.tray is not None:
                    self.tray.tray.show()  # the helper started before the tray did
            elif time.monotonic() >= deadline:
                timer.stop()
                if not self.window.isVisible():
                    self.window.showMinimized()

        timer.timeout.connect(check)
        timer.start()

    @property
    def tray(self) -> Any:
        """The helper's :class:`HelperTray` once the helper runs, else None."""
        return self.host.tray

    @Slot(str)
    def _helper_state(self, state: str) -> None:
        tray = self.host.tray
        if state == "running" and tray is not None and self._wired is not tray:
            self._wired = tray
            tray.open_requested.connect(self.open_window)
            tray.quit_requested.connect(self.quit)
        elif state == "failed" and self.background and not self.window.isVisible():
            if self._tray_wait is not None:
                self._tray_wait.stop()
            self.window.bring_to_front()  # no tray icon to reach it by; the status bar says why

    @Slot()
    def open_window(self) -> None:
        self.window.bring_to_front()

    @Slot()
    def quit(self) -> None:
        """Close the window for real, stop the helper now, end the event loop."""
        self.quitting = True
        self.window.close()
        self.host.stop()
        QApplication.quit()

    def put_away(self) -> None:
        """Hide the window to the tray; the helper keeps serving."""
        self.window.drop_pending("window hidden to the tray")
        self.window.hide()
        if not self.notice_shown and self.tray is not None:
            self.notice_shown = True
            self.tray.tray.showMessage("BidSeal", HIDDEN_NOTICE, QSystemTrayIcon.MessageIcon.Information, 10000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.window and event.type() == QEvent.Type.Close and not self.quitting:
            if self.hide_on_close and self.host.state == "running":
                event.ignore()
                self.put_away()
                return True  # neither the window nor the helper host sees a close
            if self.hide_on_close:  # closed for real while not in the tray: quit by hand
                QTimer.singleShot(0, QApplication.quit)
        return False
