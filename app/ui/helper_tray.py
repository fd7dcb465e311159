"""The helper's tray icon: is it running, on which port, for which hubs, what was asked.

Menu: "open BidSeal" (also a click or double-click on the icon), the listening address
(or "paused"), the allowed hubs, the last requests (origin, operation, result, time),
"open the request log" (the audit file), a "pause" switch that makes the helper answer
every allowed page with ``ERR_HELPER_PAUSED`` (other origins keep getting their bare 403),
and "quit". Opening and quitting are signals (:attr:`HelperTray.open_requested`,
:attr:`HelperTray.quit_requested`): what they do to the window is decided by
:mod:`app.ui.tray_session`. Request notifications arrive on the helper's
thread and are marshalled to the UI thread through a queued signal.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QColor, QDesktopServices, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.helper.server import HelperServer
from app.helper.state import RequestRecord


def seal_icon(paused: bool = False) -> QIcon:
    pix = QPixmap(64, 64)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor("#888888" if paused else "#c00000"), 6))
    p.drawEllipse(6, 6, 52, 52)
    p.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, "印")
    p.end()
    return QIcon(pix)


class HelperTray(QObject):
    _request = Signal(object)
    open_requested = Signal()
    quit_requested = Signal()

    def __init__(self, server: HelperServer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = server
        self.tray = QSystemTrayIcon(seal_icon(), self)
        self.menu = QMenu()
        self.open_action = self.menu.addAction("打开 BidSeal / Open BidSeal")
        self.open_action.triggered.connect(self.open_requested)
        self.menu.setDefaultAction(self.open_action)
        self.menu.addSeparator()
        self.status_action = QAction(self.menu)
        self.status_action.setEnabled(False)
        self.menu.addAction(self.status_action)
        self.hubs_menu = self.menu.addMenu("允许的平台 / Allowed hubs")
        self.recent_menu = self.menu.addMenu("最近的请求 / Recent requests")
        self.menu.addSeparator()
        self.log_action = self.menu.addAction("打开请求日志 / Open the request log")
        self.log_action.triggered.connect(self.open_log)
        self.pause_action = self.menu.addAction("暂停助手 / Pause the helper")
        self.pause_action.setCheckable(True)
        self.pause_action.toggled.connect(self.set_paused)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("退出 / Quit")
        self.quit_action.triggered.connect(self.quit_requested)
        self.tray.activated.connect(self._activated)
        self.menu.aboutToShow.connect(self.refresh)
        self.tray.setContextMenu(self.menu)
        self._request.connect(self._on_request, Qt.ConnectionType.QueuedConnection)
        server.services.recent.listeners.append(self._request.emit)
        self.refresh()

    def show(self) -> None:
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()

    @Slot()
    def refresh(self) -> None:
        paused = self.server.paused
        where = f"127.0.0.1:{self.server.port}"
        text = (f"BidSeal 助手已暂停 / helper paused ({where})" if paused
                else f"BidSeal 助手运行于 / helper on {where}")
        self.status_action.setText(text)
        self.tray.setToolTip(text)
        self.tray.setIcon(seal_icon(paused))
        self.hubs_menu.clear()
        hubs = self.server.policy.hubs if self.server.policy else {}
        for origin, hub in sorted(hubs.items()):
            self.hubs_menu.addAction(f"{hub.name or origin} · {origin}").setEnabled(False)
        if not hubs:
            self.hubs_menu.addAction("无 / none").setEnabled(False)
        self.recent_menu.clear()
        recent = self.server.services.recent.snapshot()[-10:]
        for rec in reversed(recent):
            self.recent_menu.addAction(self.describe(rec)).setEnabled(False)
        if not recent:
            self.recent_menu.addAction("无 / none").setEnabled(False)

    @staticmethod
    def describe(rec: RequestRecord) -> str:
        return f"{time.strftime('%H:%M:%S', time.localtime(rec.time))}  {rec.origin}  {rec.operation}  {rec.result}"

    @Slot(QSystemTrayIcon.ActivationReason)
    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()

    @Slot(object)
    def _on_request(self, rec: RequestRecord) -> None:
        self.tray.setToolTip(f"BidSeal 助手 127.0.0.1:{self.server.port}\n{self.describe(rec)}")

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        self.server.set_paused(paused)
        self.refresh()

    @Slot()
    def open_log(self) -> bool:
        path = self.server.services.audit.path
        path.touch(exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
