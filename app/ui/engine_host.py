"""The engine process: runs PDF work for the window (``python -m app.ui.engine_host``).

PyMuPDF keeps the GIL for the whole of each call, so a page render or an
incremental save on a thread of the window's process would freeze its event loop.
The window therefore starts engine processes (:mod:`.engine_client`) and sends them
calls by name; the operations themselves are thin wrappers over the engines
(:mod:`.engine_ops`). Nothing here imports Qt.

Protocol (frames of :mod:`.wire`), window -> engine::

    {"t": "call", "id": n, "op": name, "kw": {...}}
    {"t": "cancel", "id": n}                 # sets that call's CancelToken
    {"t": "reply", "ok": value} | {"t": "reply", "err": wire}   # answer to a callback
    {"t": "quit"}

engine -> window::

    {"t": "event", "id": n, "kind": "progress" | "partial", "data": ...}
    {"t": "callback", "id": n, "name": "sign_digest", "args": [...]}
    {"t": "done", "id": n, "ok": value} | {"t": "done", "id": n, "err": wire}

A callback is how the signer stays in the window's process: the engine asks the
window to sign a digest with the logged-in UKey session and waits for the answer,
so neither the PIN nor the session ever reaches this process.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from typing import Any, BinaryIO

from app.cancel import CancelToken
from app.progress import Stage
from app.ui.wire import error_from_wire, error_to_wire, read_frame, write_frame


class OpContext:
    """What an operation gets besides its arguments: progress, partial results,
    cancellation and calls back into the window."""

    def __init__(self, host: EngineHost, call_id: int) -> None:
        self._host = host
        self.id = call_id
        self.cancel = CancelToken()

    def progress(self, done: int, total: int, stage: Stage) -> None:
        self._host.send({"t": "event", "id": self.id, "kind": "progress", "data": (done, total, str(stage))})

    def partial(self, data: Any) -> None:
        self._host.send({"t": "event", "id": self.id, "kind": "partial", "data": data})

    def call_parent(self, name: str, *args: Any) -> Any:
        """Ask the window to run its handler ``name``; returns its value or raises its error."""
        self._host.send({"t": "callback", "id": self.id, "name": name, "args": list(args)})
        reply = self._host.replies.get()
        if reply is None:
            raise EOFError("the window went away")
        if "err" in reply:
            raise error_from_wire(reply["err"], import_missing=True)
        return reply.get("ok")


class EngineHost:
    def __init__(self, inp: BinaryIO, out: BinaryIO) -> None:
        self._in = inp
        self._out = out
        self._send_lock = threading.Lock()
        self.calls: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.current: OpContext | None = None
        self._state = threading.Lock()
        self._cancelled: set[int] = set()

    def send(self, message: dict[str, Any]) -> None:
        with self._send_lock:
            write_frame(self._out, message)

    def _read_loop(self) -> None:
        try:
            while True:
                msg = read_frame(self._in)
                kind = msg.get("t")
                if kind == "call":
                    self.calls.put(msg)
                elif kind == "cancel":
                    with self._state:
                        cur = self.current
                        if cur is not None and cur.id == msg.get("id"):
                            cur.cancel.cancel()
                        else:  # not started yet: cancelled as soon as it starts
                            self._cancelled.add(int(msg.get("id", -1)))
                elif kind == "reply":
                    self.replies.put(msg)
                elif kind == "quit":
                    break
        except (EOFError, OSError, ValueError):
            pass
        cur = self.current
        if cur is not None:
            cur.cancel.cancel()
        self.replies.put(None)
        self.calls.put(None)

    def serve(self) -> None:
        from app.ui import engine_ops

        threading.Thread(target=self._read_loop, name="engine-reader", daemon=True).start()
        self.send({"t": "ready", "pid": os.getpid()})
        while True:
            msg = self.calls.get()
            if msg is None:
                return
            ctx = OpContext(self, int(msg["id"]))
            with self._state:
                self.current = ctx
                if ctx.id in self._cancelled:
                    self._cancelled.discard(ctx.id)
                    ctx.cancel.cancel()
            try:
                fn = engine_ops.OPS[msg["op"]]
                result = fn(ctx, **msg.get("kw", {}))
                reply: dict[str, Any] = {"t": "done", "id": ctx.id, "ok": result}
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the window
                reply = {"t": "done", "id": ctx.id, "err": error_to_wire(exc)}
            finally:
                with self._state:
                    self.current = None
            try:
                self.send(reply)
            except (OSError, ValueError):
                return


def main() -> int:
    # The protocol owns the original stdout; anything a library prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    EngineHost(sys.stdin.buffer, out).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
