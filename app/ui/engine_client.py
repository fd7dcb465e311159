"""The window's side of the engine processes (:mod:`.engine_host`).

:class:`EngineProcess` runs one call at a time; :meth:`EngineProcess.call` blocks
the calling (worker) thread while the engine works - waiting on a pipe releases the
GIL, so the window's event loop keeps running - and delivers progress and partial
results to callbacks on that thread, answers the engine's callbacks (``handlers``:
e.g. ``sign_digest`` with the UKey session) and forwards cancellation.

:class:`EnginePool` hands out idle processes (one is started ahead of time so the
first operation does not wait for PyMuPDF to import) and replaces dead ones. Qt-free.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from app import paths
from app.cancel import Cancel, is_cancelled
from app.errors import BidSealError
from app.progress import Stage
from app.ui.wire import EngineCrashed, error_from_wire, error_to_wire, read_frame, write_frame

_APP_ROOT = Path(__file__).resolve().parents[2]
_POLL = 0.05

ProgressFn = Callable[[int, int, Stage], None]


class EngineProcess:
    """One engine child process; :meth:`call` is thread-safe (calls are serialised)."""

    _ids = itertools.count(1)

    def __init__(self, name: str = "engine") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.ready = threading.Event()
        self.pid: int | None = None
        env = os.environ.copy()
        env["PYTHONPATH"] = str(_APP_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONUNBUFFERED"] = "1"
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
        log = _engine_log()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "app.ui.engine_host"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log if log is not None else subprocess.DEVNULL, env=env, cwd=str(_APP_ROOT),
                creationflags=flags)
        finally:
            if log is not None:
                log.close()
        threading.Thread(target=self._read_loop, name=f"{name}-reader", daemon=True).start()

    # -- plumbing -----------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def _send(self, message: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        with self._send_lock:
            write_frame(self._proc.stdin, message)

    def _read_loop(self) -> None:
        assert self._proc.stdout is not None
        try:
            while True:
                msg = read_frame(self._proc.stdout)
                if msg.get("t") == "ready":
                    self.pid = msg.get("pid")
                    self.ready.set()
                else:
                    self._inbox.put(msg)
        except (EOFError, OSError, ValueError):
            pass
        self._inbox.put(None)

    def close(self, timeout: float = 2.0) -> None:
        """Ask the engine to quit; kill it if it does not."""
        if self.alive:
            with contextlib.suppress(OSError, ValueError):
                self._send({"t": "quit"})
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout)
        for stream in (self._proc.stdin, self._proc.stdout):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()

    # -- calls --------------------------------------------------------------------------
    def call(
        self,
        op: str,
        kw: Mapping[str, Any] | None = None,
        *,
        progress: ProgressFn | None = None,
        partial: Callable[[Any], None] | None = None,
        handlers: Mapping[str, Callable[..., Any]] | None = None,
        cancel: Cancel | None = None,
    ) -> Any:
        """Run ``op`` in the engine and return its value, or raise its error.

        Raises :class:`~app.ui.wire.EngineCrashed` when the process dies meanwhile."""
        with self._lock:
            if not self.alive:
                raise EngineCrashed(self._proc.returncode)
            call_id = next(self._ids)
            try:
                self._send({"t": "call", "id": call_id, "op": op, "kw": dict(kw or {})})
            except (OSError, ValueError) as exc:
                raise EngineCrashed(self._proc.poll()) from exc
            cancel_sent = False
            while True:
                if not cancel_sent and is_cancelled(cancel):
                    cancel_sent = True
                    with contextlib.suppress(OSError, ValueError):
                        self._send({"t": "cancel", "id": call_id})
                try:
                    msg = self._inbox.get(timeout=_POLL)
                except queue.Empty:
                    continue
                if msg is None:
                    self._inbox.put(None)  # stays dead for later calls
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self._proc.wait(1.0)
                    raise EngineCrashed(self._proc.poll())
                if msg.get("id") != call_id:
                    continue
                kind = msg.get("t")
                if kind == "event":
                    if msg["kind"] == "progress" and progress is not None:
                        done, total, stage = msg["data"]
                        progress(int(done), int(total), Stage(stage))
                    elif msg["kind"] == "partial" and partial is not None:
                        partial(msg["data"])
                elif kind == "callback":
                    self._answer(msg, handlers or {})
                elif kind == "done":
                    if "err" in msg:
                        raise error_from_wire(msg["err"])
                    return msg.get("ok")

    def _answer(self, msg: dict[str, Any], handlers: Mapping[str, Callable[..., Any]]) -> None:
        handler = handlers.get(str(msg.get("name")))
        try:
            if handler is None:
                raise BidSealError("内部错误：未知的回调。", "Internal error: unknown callback.",
                                   code="ERR_INTERNAL", details={"callback": msg.get("name")})
            reply: dict[str, Any] = {"t": "reply", "ok": handler(*msg.get("args", []))}
        except BaseException as exc:  # noqa: BLE001 - the engine re-raises it where it asked
            reply = {"t": "reply", "err": error_to_wire(exc)}
        with contextlib.suppress(OSError, ValueError):  # a dead engine is reported by the read loop
            self._send(reply)


def _engine_log() -> Any:
    """The engines' stderr goes to ``engine.log`` in the log folder (None if unwritable)."""
    try:
        return open(paths.ensure(paths.log_dir()) / "engine.log", "ab")  # noqa: SIM115 - handed to Popen
    except OSError:
        return None


class EnginePool:
    """Idle engine processes for the operations of the window (sealing, verifying, search).

    ``warm`` processes are kept started ahead of use; a process that died is replaced."""

    def __init__(self, warm: int = 1, max_idle: int = 2) -> None:
        self.warm = warm
        self.max_idle = max_idle
        self._idle: list[EngineProcess] = []
        self._all: list[EngineProcess] = []
        self._lock = threading.Lock()
        self._closed = False

    def _spawn(self) -> EngineProcess:
        proc = EngineProcess()
        self._all.append(proc)
        return proc

    def prewarm(self) -> None:
        with self._lock:
            while not self._closed and len(self._idle) < self.warm:
                self._idle.append(self._spawn())

    @contextlib.contextmanager
    def acquire(self) -> Iterator[EngineProcess]:
        with self._lock:
            if self._closed:
                raise EngineCrashed(None)
            self._idle = [p for p in self._idle if p.alive]
            proc = self._idle.pop(0) if self._idle else self._spawn()
        try:
            yield proc
        finally:
            with self._lock:
                if proc.alive and not self._closed and len(self._idle) < self.max_idle:
                    self._idle.append(proc)
                else:
                    threading.Thread(target=proc.close, daemon=True).start()
                    with contextlib.suppress(ValueError):
                        self._all.remove(proc)
        if not self._closed:
            threading.Thread(target=self.prewarm, daemon=True).start()

    def call(self, op: str, kw: Mapping[str, Any] | None = None, **options: Any) -> Any:
        """:meth:`EngineProcess.call` on an idle process."""
        with self.acquire() as proc:
            return proc.call(op, kw, **options)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            procs = list(self._all)
            self._all.clear()
            self._idle.clear()
        for p in procs:
            p.close()


_POOL: EnginePool | None = None
_POOL_LOCK = threading.Lock()


def engine_pool() -> EnginePool:
    """The process-wide pool (created on first use, closed by :func:`shutdown`)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._closed:
            _POOL = EnginePool()
        return _POOL


def shutdown() -> None:
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.close()
