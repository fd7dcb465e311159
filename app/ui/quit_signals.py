"""SIGTERM, SIGHUP and Ctrl-C end the desktop application like its "Quit".

A Python signal handler runs only when the interpreter gets control, and Qt's event loop
is C++: a signal arriving while the window (or a background helper) idles would wait for
the next Python slot and then be raised as an exception inside it. So the C-level handler
writes to a socket (:func:`signal.set_wakeup_fd`) that a :class:`QSocketNotifier` watches:
the loop wakes, the Python handler runs and asks the event loop to quit, and
:func:`app.ui.main.run` stops the helper and the window as after "Quit". The exit code is
then ``128 + signal`` as for the CLI (143 for SIGTERM). Main thread only; elsewhere (and
where a signal does not exist) nothing is installed.
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication

SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, n))


@dataclass
class Ending:
    """The signal that ended the event loop, if one did."""

    signum: int | None = None

    def exit_code(self, loop_code: int) -> int:
        return 128 + self.signum if self.signum is not None else loop_code


@contextlib.contextmanager
def quit_on_signals(app: QApplication) -> Iterator[Ending]:
    ending = Ending()
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(lambda *_: _drain(reader))

    def handler(signum: int, _frame: Any) -> None:
        ending.signum = signum
        app.quit()

    old: dict[int, Any] = {}
    old_fd = None
    try:
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
            for sig in SIGNALS:
                old[sig] = signal.signal(sig, handler)
        yield ending
    finally:
        for sig, previous in old.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, previous)
        if old_fd is not None:
            with contextlib.suppress(ValueError, OSError):
                signal.set_wakeup_fd(old_fd)
        notifier.setEnabled(False)
        reader.close()
        writer.close()


def _drain(reader: socket.socket) -> None:
    with contextlib.suppress(OSError):
        reader.recv(512)
