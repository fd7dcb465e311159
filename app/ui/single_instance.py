"""One window per user: a second ``bidseal gui FILE`` hands its file to the running
window over a local socket (QLocalServer) and exits.

The socket lives in the user's runtime folder (:func:`app.paths.runtime_dir`, private
to the user) on Unix, and is a per-user named pipe on Windows; the server accepts
connections from the same user only (``UserAccessOption``). Messages are one JSON
line ``{"open": ["/abs/file.pdf"]}`` answered by ``ok``; any message shows the window.
A background start (``bidseal gui --background`` at login) only asks whether a window is
running (:func:`instance_running`: connect, send nothing), so it never pops one up.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app import paths

MAX_MESSAGE = 64 * 1024


def server_name() -> str:
    if sys.platform == "win32":
        user = getpass.getuser()
        tag = hashlib.sha256(f"{user}|{paths.runtime_dir()}".encode()).hexdigest()[:16]
        return f"bidseal-gui-{tag}"
    return str(paths.ensure(paths.runtime_dir()) / "gui.sock")


def send_to_running(files: Sequence[str], name: str | None = None, timeout_ms: int = 1500) -> bool:
    """True when a running window took ``files`` (an empty list just raises it)."""
    sock = QLocalSocket()
    sock.connectToServer(name or server_name())
    if not sock.waitForConnected(timeout_ms):
        return False
    payload = json.dumps({"open": [os.path.abspath(f) for f in files]}, ensure_ascii=False) + "\n"
    sock.write(payload.encode("utf-8"))
    sock.waitForBytesWritten(timeout_ms)
    ok = sock.waitForReadyRead(timeout_ms) and bytes(sock.readAll().data()).startswith(b"ok")
    sock.disconnectFromServer()
    return ok


def instance_running(name: str | None = None, timeout_ms: int = 1500) -> bool:
    """True when a BidSeal window answers on the channel; it is told nothing (not shown)."""
    sock = QLocalSocket()
    sock.connectToServer(name or server_name())
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Listens for later launches; emits ``files_received(list[str])`` on the UI thread."""

    files_received = Signal(list)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytearray] = {}

    def listen(self) -> bool:
        """Serve unless another window already answers on the name (a socket file left by a
        crashed window, which nobody answers, is replaced)."""
        if instance_running(self.name, 300):
            return False
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            self._buffers[sock] = bytearray()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda s=sock: self._drop(s))

    def _drop(self, sock: QLocalSocket) -> None:
        self._buffers.pop(sock, None)
        sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        buf = self._buffers.setdefault(sock, bytearray())
        buf += bytes(sock.readAll().data())
        if len(buf) > MAX_MESSAGE:
            sock.abort()
            return
        if b"\n" not in buf:
            return
        line = bytes(buf.split(b"\n", 1)[0])
        try:
            message = json.loads(line.decode("utf-8"))
            files = [str(f) for f in message.get("open", []) if isinstance(f, str)]
        except (ValueError, AttributeError):
            sock.abort()
            return
        sock.write(b"ok\n")
        sock.flush()
        self.files_received.emit(files)
