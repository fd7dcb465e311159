"""The caller's side of the token host: spawn, talk, time out, restart.

:class:`TokenHost` owns one ``python -m app.token.host`` process for one library.
Calls are serialised with a lock (SKF handles are not thread-safe) and each has a
timeout (default 30 s, ``BIDSEAL_TOKEN_TIMEOUT`` or ``timeout=``). When the
process dies (EOF) the call raises :class:`TokenCrashed`; when it does not answer
in time it is killed and the call raises :class:`TokenTimeout`. Either way the
next call starts a fresh process, and handle ids from the old one are refused
with :class:`StaleHandle`.

The interpreter that runs the host is configurable (``python=``, env
``BIDSEAL_TOKEN_HOST_PYTHON`` or config key ``token.host_python``): on Windows a
32-bit Python can host a 32-bit vendor DLL for a 64-bit BidSeal. The host only
needs ``cffi`` and BidSeal's ``app`` package on its path (set via PYTHONPATH).
"""

from __future__ import annotations

import collections
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from app.token import protocol
from app.token.errors import TokenCrashed, TokenProtocolError, TokenTimeout, error_from_wire
from app.token.skf_ffi import probe_library

DEFAULT_TIMEOUT = 30.0
START_TIMEOUT = 30.0
_APP_ROOT = Path(__file__).resolve().parent.parent.parent


def default_timeout() -> float:
    """Per-call timeout: env ``BIDSEAL_TOKEN_TIMEOUT``, config ``token.timeout``, else 30 s."""
    value: object = os.environ.get("BIDSEAL_TOKEN_TIMEOUT")
    if not value:
        from app.token.registry import load_config

        value = load_config().get("timeout")
    try:
        t = float(value) if value else DEFAULT_TIMEOUT  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT
    return t if t > 0 else DEFAULT_TIMEOUT


def host_python() -> str:
    env = os.environ.get("BIDSEAL_TOKEN_HOST_PYTHON")
    if env:
        return env
    from app.token.registry import load_config

    cfg = load_config().get("host_python")
    return str(cfg) if cfg else sys.executable


_EOF = object()


class TokenHost:
    """One token-host process for one SKF library (restarted on demand)."""

    def __init__(self, library: str | os.PathLike[str], *, env: Mapping[str, str] | None = None,
                 timeout: float | None = None, python: str | None = None, monitor: bool = False) -> None:
        self.library = os.path.abspath(os.fspath(library))
        self.env: dict[str, str] = dict(env or {})
        self.timeout = timeout if timeout is not None else default_timeout()
        self.python = python
        self.monitor = monitor
        self.hello: dict[str, Any] | None = None
        self.starts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._replies: queue.Queue[Any] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._lock = threading.RLock()
        self._next_id = 0
        self.on_event: Any = None  # monitor mode: callable(dict)

    # -- lifecycle -------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def generation(self) -> str | None:
        return self.hello.get("generation") if self.hello else None

    def start(self) -> dict[str, Any]:
        with self._lock:
            if self.alive and self.hello is not None:
                return self.hello
            self._kill()
            python = self.python or host_python()
            if Path(python).resolve() == Path(sys.executable).resolve():
                probe_library(self.library)  # fail fast: missing file, wrong bitness, not a binary
            elif not Path(self.library).exists():
                probe_library(self.library)  # LibraryMissing; bitness is the host's to judge
            env = os.environ.copy()
            env.update(self.env)
            env["PYTHONPATH"] = str(_APP_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            env["PYTHONUNBUFFERED"] = "1"
            cmd = [python, "-m", "app.token.host", "--library", self.library]
            if self.monitor:
                cmd.append("--monitor")
            flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
            self._replies = queue.Queue()
            self._stderr.clear()
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=env, cwd=str(_APP_ROOT), creationflags=flags)
            self._proc = proc
            self.starts += 1
            threading.Thread(target=self._read_stdout, args=(proc, self._replies), daemon=True).start()
            threading.Thread(target=self._read_stderr, args=(proc,), daemon=True).start()
            msg = self._wait(START_TIMEOUT + self.timeout, "start")
            if msg.get("hello") is None:
                self._kill()
                if "error" in msg:
                    raise error_from_wire(msg["error"])
                raise TokenProtocolError("UKey 服务进程启动失败。", "The token host failed to start.")
            self.hello = dict(msg["hello"])
            return self.hello

    def close(self) -> None:
        """Stop the process (it closes every open handle on EOF)."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._kill()

    def _kill(self) -> None:
        proc, self._proc, self.hello = self._proc, None, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        for s in (proc.stdin, proc.stdout, proc.stderr):
            try:
                if s:
                    s.close()
            except OSError:
                pass

    def __enter__(self) -> TokenHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- I/O threads -------------------------------------------------------------------
    def _read_stdout(self, proc: subprocess.Popen[bytes], replies: queue.Queue[Any]) -> None:
        assert proc.stdout is not None
        try:
            while True:
                msg = protocol.read_frame(proc.stdout)  # type: ignore[arg-type]
                if msg is None:
                    break
                if "event" in msg and self.on_event is not None:
                    try:
                        self.on_event(msg["event"])
                    except Exception:  # noqa: BLE001 - a callback must not kill the reader
                        import logging

                        logging.getLogger(__name__).exception("device event callback failed")
                    continue
                replies.put(msg)
        except (OSError, ValueError):
            pass
        replies.put(_EOF)

    def _read_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        try:
            for line in proc.stderr:
                self._stderr.append(line.decode("utf-8", "replace").rstrip())
        except (OSError, ValueError):
            pass

    def _wait(self, timeout: float, op: str) -> dict[str, Any]:
        proc = self._proc
        try:
            msg = self._replies.get(timeout=timeout)
        except queue.Empty:
            self._kill()
            raise TokenTimeout(
                f"UKey 在 {timeout:g} 秒内没有响应，已重置与 UKey 的连接。请重新插拔 UKey 后重试。",
                f"The UKey did not answer within {timeout:g} s; the connection was reset. "
                "Unplug and re-insert the key, then retry.",
                op=op, timeout=timeout, library=self.library,
            ) from None
        if msg is _EOF:
            rc = None
            if proc is not None:
                try:
                    rc = proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    rc = None
            time.sleep(0.05)  # let the stderr reader catch the last lines
            tail = " | ".join(list(self._stderr)[-5:])
            self._kill()
            raise TokenCrashed(
                "UKey 驱动程序意外退出，已重置与 UKey 的连接。请重试；如反复出现，请重新安装 CA 提供的驱动。",
                "The UKey driver stopped unexpectedly; the connection was reset. Retry; if it keeps happening, "
                "reinstall the driver from your CA.",
                op=op, exit_code=rc, library=self.library, stderr=tail[-500:],
            )
        return dict(msg)

    # -- calls -----------------------------------------------------------------------------
    def call(self, op: str, *args: Any, timeout: float | None = None) -> Any:
        """Run one operation in the host; raises the typed error the host raised."""
        with self._lock:
            if not self.alive or self.hello is None:
                self.start()
            proc = self._proc
            assert proc is not None and proc.stdin is not None
            self._next_id += 1
            rid = self._next_id
            with suppress(OSError, ValueError):  # a dead host: the reader reports EOF below
                protocol.write_frame(proc.stdin, {"id": rid, "op": op, "args": list(args)})  # type: ignore[arg-type]
            while True:
                msg = self._wait(timeout if timeout is not None else self.timeout, op)
                if msg.get("id") == rid:
                    break
            if "error" in msg:
                raise error_from_wire(msg["error"])
            return protocol.decode(msg.get("ok"))

    def send(self, message: dict[str, Any]) -> None:
        """Write a raw frame (monitor control)."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.stdin is not None:
                with suppress(OSError, ValueError):
                    protocol.write_frame(proc.stdin, message)  # type: ignore[arg-type]

    def stderr_tail(self) -> list[str]:
        return list(self._stderr)


class HostPool:
    """Token hosts shared by the process, one per (library, device).

    Enumeration uses the host keyed ``(library, None)``; a session on a device uses
    the host keyed by that device, so each device is owned by one process and its
    calls are serialised there.
    """

    def __init__(self, timeout: float | None = None, python: str | None = None) -> None:
        self.timeout = timeout
        self.python = python
        self.env: dict[str, str] = {}
        self._hosts: dict[tuple[str, str | None], TokenHost] = {}
        self._lock = threading.Lock()

    def get(self, library: str | os.PathLike[str], device: str | None = None) -> TokenHost:
        key = (str(library), device)
        with self._lock:
            host = self._hosts.get(key)
            if host is None:
                host = TokenHost(library, env=self.env, timeout=self.timeout, python=self.python)
                self._hosts[key] = host
            return host

    def hosts(self) -> list[TokenHost]:
        with self._lock:
            return list(self._hosts.values())

    def close(self) -> None:
        with self._lock:
            hosts, self._hosts = list(self._hosts.values()), {}
        for h in hosts:
            h.close()


_POOL: HostPool | None = None


def get_pool() -> HostPool:
    global _POOL
    if _POOL is None:
        _POOL = HostPool()
        import atexit

        atexit.register(_POOL.close)
    return _POOL


def configure(*, timeout: float | None = None, python: str | None = None,
              env: Mapping[str, str] | None = None) -> HostPool:
    """Replace the shared pool (closing its hosts) with one using these settings."""
    global _POOL
    old = _POOL
    pool = HostPool(timeout=timeout, python=python)
    if env:
        pool.env.update(env)
    _POOL = pool
    if old is not None:
        old.close()
    else:
        import atexit

        atexit.register(lambda: _POOL.close() if _POOL else None)
    return pool
