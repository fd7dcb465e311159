"""The caller's side of the token host: spawn, talk, time out, cancel, restart.

:class:`TokenHost` owns one token-host process for one library. Calls are
serialised with a lock (SKF handles are not thread-safe) and each has a timeout
(default 30 s, ``BIDSEAL_TOKEN_TIMEOUT`` or ``timeout=``). When the process dies
(EOF) the call raises :class:`TokenCrashed`; when it does not answer in time it is
killed and the call raises :class:`TokenTimeout`; when the caller cancels (a
:class:`app.cancel.CancelToken` passed as ``cancel=``, or :meth:`TokenHost.abort`
from any thread) it is killed at once and the call raises :class:`TokenCancelled`.
Either way the next call starts a fresh process, and handle ids from the old one
are refused with :class:`StaleHandle`. Every reply is checked
(:func:`app.token.protocol.check_reply`); a malformed one kills the host and raises
:class:`TokenProtocolError`.

The host's stderr (the vendor library's own output) goes to a private log file
(:mod:`app.token.hostlog`); errors only say where it is.

How the host is started (:func:`host_command`): ``BIDSEAL_TOKEN_HOST`` / config
``token.host`` (an executable); a configured interpreter (``python=``,
``BIDSEAL_TOKEN_HOST_PYTHON`` or config ``token.host_python``: on Windows a 32-bit
Python can host a 32-bit vendor DLL for a 64-bit BidSeal) with ``-m
app.token.host``; for a library of the other bitness, the host the installer put in
``x86/`` (32-bit) beside the executable (:func:`other_bitness_host`), so a 32-bit vendor DLL
and a 64-bit one work side by side; in a frozen application the ``bidseal-token-host`` executable
next to it; in an installed one the ``bidseal-token-host`` console script; from a
source tree ``python -m app.token.host`` with the tree on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from app.cancel import Cancel, is_cancelled
from app.token import hostlog, protocol
from app.token.errors import (
    LibraryMissing,
    TokenCancelled,
    TokenCrashed,
    TokenError,
    TokenProtocolError,
    TokenTimeout,
    error_from_wire,
)
from app.token.skf_ffi import host_bits, probe_library, read_binary_info

DEFAULT_TIMEOUT = 30.0
START_TIMEOUT = 30.0
HOST_SCRIPT = "bidseal-token-host"
_APP_ROOT = Path(__file__).resolve().parent.parent.parent
#: How often a call waiting for its reply looks at its cancel token (seconds).
CANCEL_POLL = 0.05


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


def host_python() -> str | None:
    """A configured interpreter for the host (``BIDSEAL_TOKEN_HOST_PYTHON`` / ``token.host_python``)."""
    env = os.environ.get("BIDSEAL_TOKEN_HOST_PYTHON")
    if env:
        return env
    from app.token.registry import load_config

    cfg = load_config().get("host_python")
    return str(cfg) if cfg else None


def _script_name() -> str:
    return HOST_SCRIPT + (".exe" if sys.platform == "win32" else "")


def _beside_executable() -> list[Path]:
    """The running executable's folder, through its symlink and as named (``/usr/bin/bidseal``
    → ``/opt/bidseal``; a venv's ``bin`` whose ``python`` links elsewhere)."""
    return [Path(sys.executable).resolve().parent, Path(sys.executable).parent]


def installed_host() -> Path | None:
    """The ``bidseal-token-host`` executable of this installation, if there is one:
    next to the running executable (a frozen app, a venv's ``bin``/``Scripts``) or in
    the interpreter's scripts folder."""
    dirs = _beside_executable()
    with suppress(KeyError, OSError):
        dirs.append(Path(sysconfig.get_path("scripts")))
    for d in dirs:
        p = d / _script_name()
        if p.is_file():
            return p
    return None


#: Where an installation keeps the token host of the other bitness, by the library's bits.
OTHER_BITNESS_DIRS = {32: "x86"}


def other_bitness_host(library: str | os.PathLike[str], dirs: list[Path] | None = None) -> Path | None:
    """The installed token host that can load ``library`` when this process cannot.

    A Windows bidder may hold keys from two CAs, one with a 64-bit SKF DLL and one that
    ships only a 32-bit DLL. The installer's optional component puts a 32-bit
    ``bidseal-token-host`` in ``x86\\`` beside ``bidseal.exe``; the library's own header
    decides which host starts, per library, so neither key is given up for the other.
    ``None`` when the library fits this process, cannot be read, or no such host is installed
    (then :func:`probe_library` gives the bidder the bitness sentence)."""
    try:
        info = read_binary_info(Path(library))
    except OSError:
        return None
    if info is None or not info.bits or info.bits == host_bits() or info.bits not in OTHER_BITNESS_DIRS:
        return None
    for d in dirs if dirs is not None else _beside_executable():
        exe = d / OTHER_BITNESS_DIRS[info.bits] / _script_name()
        if exe.is_file():
            return exe
    return None


def host_command(python: str | None = None, library: str | os.PathLike[str] | None = None,
                 ) -> tuple[list[str], dict[str, str], bool]:
    """``(argv prefix, extra environment, runs in this interpreter)`` to start a host.

    The third value tells whether the host is this same interpreter build, so the
    caller may check a library's bitness before spawning (another interpreter judges
    for itself). With ``library``, a host of the library's bitness installed beside this
    one is chosen when this process could not load it (:func:`other_bitness_host`)."""
    explicit = os.environ.get("BIDSEAL_TOKEN_HOST")
    if not explicit:
        from app.token.registry import load_config

        cfg = load_config().get("host")
        explicit = str(cfg) if cfg else None
    if explicit:
        return [explicit], {}, False
    python = python or host_python()
    if not python and library is not None:
        other = other_bitness_host(library)
        if other is not None:
            return [str(other)], {}, False
    if python and Path(python).resolve() != Path(sys.executable).resolve():
        return [python, "-m", "app.token.host"], _source_path_env(), False
    if getattr(sys, "frozen", False):
        exes = [d / _script_name() for d in reversed(_beside_executable())]
        exe = next((e for e in exes if e.is_file()), None)
        if exe is None:
            raise LibraryMissing(
                "安装不完整：找不到 UKey 服务程序 bidseal-token-host。请重新安装 BidSeal。",
                "The installation is incomplete: the UKey service program bidseal-token-host is missing. "
                "Reinstall BidSeal.",
                searched=os.pathsep.join(str(e) for e in exes),
            )
        return [str(exe)], {}, True
    script = installed_host()
    if script is not None:
        return [str(script)], {}, True
    return [sys.executable, "-m", "app.token.host"], _source_path_env(), True


def _source_path_env() -> dict[str, str]:
    """PYTHONPATH for ``-m app.token.host`` when BidSeal runs from a source tree."""
    current = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": str(_APP_ROOT) + (os.pathsep + current if current else "")}


class _Signal:
    """Sentinels the reader thread or :meth:`TokenHost.abort` put in the reply queue."""

    def __init__(self, name: str, reason: str = "") -> None:
        self.name = name
        self.reason = reason


_EOF = _Signal("eof")
_ABORT = _Signal("abort")


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

    @property
    def busy(self) -> bool:
        """True while a call (or a start) holds the host."""
        if self._lock.acquire(blocking=False):
            self._lock.release()
            return False
        return True

    def start(self, *, cancel: Cancel | None = None) -> dict[str, Any]:
        with self._lock:
            if self.alive and self.hello is not None:
                return self.hello
            self._kill()
            argv, extra_env, same_interpreter = host_command(self.python, self.library)
            if same_interpreter:
                probe_library(self.library)  # fail fast: missing file, wrong bitness, not a binary
            elif not Path(self.library).exists():
                probe_library(self.library)  # LibraryMissing; bitness is the host's to judge
            env = os.environ.copy()
            env.update(extra_env)
            env.update(self.env)
            env["PYTHONUNBUFFERED"] = "1"
            env.setdefault("BIDSEAL_TOKEN_LOCK_DIR", str(_lock_dir()))
            cmd = [*argv, "--library", self.library]
            if self.monitor:
                cmd.append("--monitor")
            flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
            replies: queue.Queue[Any] = queue.Queue()
            self._replies = replies
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=env, cwd=str(Path(self.library).parent), creationflags=flags)
            except OSError as exc:
                raise LibraryMissing(
                    "无法启动 UKey 服务进程，安装可能不完整。请重新安装 BidSeal。",
                    "Cannot start the token host process; the installation may be incomplete. Reinstall BidSeal.",
                    command=cmd[0], os_error=exc.strerror or str(exc),
                ) from exc
            self._proc = proc
            self._next_id = 0  # request ids count per host process
            self.starts += 1
            threading.Thread(target=self._read_stdout, args=(proc, replies), daemon=True,
                             name=f"token-host-{proc.pid}-out").start()
            threading.Thread(target=self._read_stderr, args=(proc,), daemon=True,
                             name=f"token-host-{proc.pid}-err").start()
            raw = self._wait(START_TIMEOUT + self.timeout, "start", cancel)
            try:
                checked = protocol.check_hello(raw)
            except TokenProtocolError:
                self._kill()
                raise
            if "error" in checked:
                self._kill()
                raise error_from_wire(checked["error"])
            self.hello = dict(checked["hello"])
            return self.hello

    def close(self) -> None:
        """Stop the process (it closes every open handle on EOF). A call in flight in
        another thread is aborted first (:meth:`abort`), so closing never waits for a
        hanging vendor call."""
        if not self._lock.acquire(timeout=0.2):
            self.abort("closed")
            self._lock.acquire()
        try:
            proc = self._proc
            if proc is None:
                return
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
            self._kill()
        finally:
            self._lock.release()

    def abort(self, reason: str = "cancelled") -> None:
        """Kill the host now, from any thread, without waiting for the call in flight:
        that call raises :class:`TokenCancelled`; the next call starts a new host."""
        proc = self._proc
        self._replies.put(_Signal("abort", reason))
        if proc is not None and proc.poll() is None:
            with suppress(OSError):
                proc.kill()

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
                if "event" in msg and self.monitor:
                    self._deliver_event(msg)
                    continue
                replies.put(msg)
        except TokenProtocolError as exc:
            replies.put(_Signal("malformed", str(exc.details.get("problem", ""))))
            return
        except (OSError, ValueError):
            pass
        replies.put(_EOF)

    def _deliver_event(self, msg: dict[str, Any]) -> None:
        import logging

        try:
            if set(msg) != {"event"}:
                raise protocol.malformed("event frame with other members")
            event = protocol.check_event(msg["event"])
        except TokenProtocolError as exc:
            logging.getLogger(__name__).warning("token host sent a malformed event: %s", exc.details.get("problem"))
            return
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # noqa: BLE001 - a callback must not kill the reader
            logging.getLogger(__name__).exception("device event callback failed")

    def _read_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        try:
            for line in proc.stderr:
                hostlog.write_lines([line.decode("utf-8", "replace").rstrip()], pid=proc.pid, library=self.library)
        except (OSError, ValueError):
            pass

    def _log_hint(self) -> dict[str, str]:
        return {"log": str(hostlog.log_path())}

    def _wait(self, timeout: float, op: str, cancel: Cancel | None = None) -> dict[str, Any]:
        proc = self._proc
        replies = self._replies
        deadline = time.monotonic() + timeout
        while True:
            if is_cancelled(cancel):
                self._kill()
                raise _cancelled(op, self.library)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._kill()
                raise TokenTimeout(
                    f"UKey 在 {timeout:g} 秒内没有响应，已重置与 UKey 的连接。请重新插拔 UKey 后重试。",
                    f"The UKey did not answer within {timeout:g} s; the connection was reset. "
                    "Unplug and re-insert the key, then retry.",
                    op=op, timeout=timeout, library=self.library,
                )
            try:
                msg = replies.get(timeout=min(remaining, CANCEL_POLL) if cancel is not None else remaining)
            except queue.Empty:
                continue
            break
        if isinstance(msg, _Signal):
            if msg.name == "abort":
                self._kill()
                raise _cancelled(op, self.library)
            if msg.name == "malformed":
                self._kill()
                raise protocol.malformed(msg.reason, op=op, library=self.library)
            rc = None
            if proc is not None:
                try:
                    rc = proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    rc = None
            self._kill()
            log = str(hostlog.log_path())
            raise TokenCrashed(
                "UKey 驱动程序意外退出，已重置与 UKey 的连接。请重试；如反复出现，请重新安装 CA 提供的驱动。"
                f"详情见日志 {log}",
                "The UKey driver stopped unexpectedly; the connection was reset. Retry; if it keeps happening, "
                f"reinstall the driver from your CA. Details: see log {log}",
                op=op, exit_code=rc, library=self.library, log=log,
            )
        return dict(msg)

    # -- calls -----------------------------------------------------------------------------
    def call(self, op: str, *args: Any, timeout: float | None = None, cancel: Cancel | None = None,
             owner: str | None = None) -> Any:
        """Run one operation in the host; raises the typed error the host raised.

        ``cancel`` is watched while waiting (a set token kills the host at once:
        :class:`TokenCancelled`); ``owner`` is the session token that owns the handles
        used (see :mod:`app.token.host`)."""
        with self._lock:
            if is_cancelled(cancel):
                raise _cancelled(op, self.library)
            if not self.alive or self.hello is None:
                self.start(cancel=cancel)
            proc = self._proc
            assert proc is not None and proc.stdin is not None
            self._next_id += 1
            rid = self._next_id
            request: dict[str, Any] = {"id": rid, "op": op, "args": list(args)}
            if owner is not None:
                request["owner"] = owner
            with suppress(OSError, ValueError):  # a dead host: the reader reports EOF below
                protocol.write_frame(proc.stdin, request)  # type: ignore[arg-type]
            msg = self._wait(timeout if timeout is not None else self.timeout, op, cancel)
            try:
                checked = protocol.check_reply(msg, rid, op, self.generation)
            except TokenProtocolError:
                self._kill()
                raise
            if "error" in checked:
                raise error_from_wire(checked["error"])
            return checked["ok"]

    def send(self, message: dict[str, Any]) -> None:
        """Write a raw frame (monitor control)."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.stdin is not None:
                with suppress(OSError, ValueError):
                    protocol.write_frame(proc.stdin, message)  # type: ignore[arg-type]


def _cancelled(op: str, library: str) -> TokenCancelled:
    return TokenCancelled(
        "已取消 UKey 操作。", "The UKey operation was cancelled.", op=op, library=library,
    )


def _lock_dir() -> Path:
    from app.token.locks import lock_dir

    return lock_dir()


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
        key = (os.path.abspath(os.fspath(library)), device)
        with self._lock:
            host = self._hosts.get(key)
            if host is None:
                host = TokenHost(library, env=self.env, timeout=self.timeout, python=self.python)
                self._hosts[key] = host
            return host

    def hosts(self) -> list[TokenHost]:
        with self._lock:
            return list(self._hosts.values())

    def abort_all(self, reason: str = "cancelled") -> None:
        """:meth:`TokenHost.abort` on every host of the pool (e.g. the app is quitting)."""
        for h in self.hosts():
            h.abort(reason)

    def close(self) -> None:
        with self._lock:
            hosts, self._hosts = list(self._hosts.values()), {}
        for h in hosts:
            with suppress(TokenError, OSError):
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
