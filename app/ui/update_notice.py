"""The desktop app's update notice: check once at start, off the UI thread, say so quietly.

:func:`start_update_check` submits :func:`app.update.check_at_start` (the settings' URL,
the shipped release keys only) to the window's :class:`~app.ui.runner.TaskRunner`, so a
slow or hanging update server never delays the window: the UI thread only receives the
result. When a newer version is offered, the window's own notice line
(:meth:`MainWindow.notify`, the status bar) names the version and where to get it; a
refusal, an unreachable server or no configured URL shows nothing (the engine logged
it). Nothing is downloaded or installed from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.gm.sm2 import PublicKey
from app.ui.i18n import tr
from app.ui.runner import TaskContext, TaskHandle
from app.update import DEFAULT_TIMEOUT, UpdateCheck, check_at_start, check_for_update


def notice_text(result: UpdateCheck) -> str:
    """The sentence for an offered update: version, where to get it, how to fetch it."""
    m, pkg = result.manifest, result.package
    assert m is not None and pkg is not None
    where = m.page or pkg.url
    return tr(f"有新版本 BidSeal {m.version}（当前 {result.to_dict()['current']}）：{where}"
              f" —— 可用 bidseal update download 下载并校验安装包。",
              f"BidSeal {m.version} is available (this is {result.to_dict()['current']}): {where}"
              f" — bidseal update download fetches and verifies the installer.")


def start_update_check(window: Any, *, url: str | None = None, keys: Sequence[PublicKey] | None = None,
                       timeout: float = DEFAULT_TIMEOUT) -> TaskHandle:
    """Run the update check on ``window.runner``; notify when an update is offered.

    Without ``url`` / ``keys`` it is the start-up check (settings + shipped keys); tests
    pass their own server and key. The result is kept as ``window.update_check``."""

    def run(ctx: TaskContext) -> UpdateCheck:
        if url is None and keys is None:
            return check_at_start(timeout)
        return check_for_update(url, keys=list(keys or []), timeout=timeout)

    def done(result: UpdateCheck) -> None:
        window.update_check = result
        if result.offered:
            text = notice_text(result)
            window.notify(text)
            if not window.isVisible():  # a login start in the tray: nobody sees the status bar
                show_in_tray(window, text)

    handle: TaskHandle = window.runner.submit(run, name="update-check", on_result=done,
                                              on_error=lambda exc: None)  # a bug is crash-logged by the runner
    return handle


def show_in_tray(window: Any, text: str) -> bool:
    """A balloon from the helper's tray icon (a hidden window is in the tray only once the
    helper runs); whether there was an icon to say it. Without a system tray Qt drops it."""
    from PySide6.QtWidgets import QSystemTrayIcon

    tray = getattr(getattr(window, "helper_host", None), "tray", None)
    icon = getattr(tray, "tray", None)
    if icon is None:
        return False
    icon.showMessage("BidSeal", text, QSystemTrayIcon.MessageIcon.Information, 15000)
    window.last_tray_message = text
    return True
