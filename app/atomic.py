"""Outputs that appear whole or not at all, never over something they must not replace,
and no temporary file left behind for long.

Every file BidSeal writes for a bidder (sealed PDFs, envelopes, decrypted bids, demo
keys) goes to a temporary file in the target folder and is renamed into place only
when complete, so a crash, a full disk, a cancelled operation or a failed integrity
check never leaves a half-written file under the real name. The rename stays inside
one folder (one file system), which makes it atomic.

Temporary files are named ``.bidseal-<pid>-<random>.part`` and are created mode 0600
(a decryption in progress is never readable by other users). While it is being
written, the writer holds an exclusive lock on it (``flock`` on POSIX; on Windows an
open file cannot be deleted), so a later BidSeal run can tell an abandoned file (its
writer was killed: SIGKILL, power loss) from one in use, and removes it:

* :func:`sweep_folder` the first time a process writes into a folder;
* :func:`sweep_journal` at start (the CLI calls it): every temporary file is also
  listed in a small journal under :func:`app.paths.runtime_dir`, so an abandoned
  plaintext is removed even if BidSeal never writes to that folder again.

Outputs:

* :func:`check_output` refuses an output that is a directory, device, FIFO or socket
  (replacing ``/dev/null`` as root must be impossible) and, unless told to replace
  it, one that exists (:class:`OutputExists`);
* committed files get the user's normal mode (``0666 & ~umask``, or the mode of the
  file they replace); ``private=True`` (decrypted plaintext, key material) keeps 0600.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import threading
import time
from pathlib import Path
from typing import IO

from app.errors import BidSealError

TEMP_PREFIX = ".bidseal-"
TEMP_SUFFIX = ".part"
_TEMP_RE = re.compile(r"^\.bidseal-(\d+)-[0-9a-f]{16}\.part$")
#: A temporary file younger than this is never removed when its writer cannot be
#: proven gone (it may have been created a microsecond ago and not be locked yet).
STALE_GRACE_SECONDS = 10.0
_JOURNAL = "atomic-pending"

try:  # POSIX advisory locks; Windows relies on "an open file cannot be deleted"
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


# -- errors ------------------------------------------------------------------------------


class OutputError(BidSealError):
    """The output path cannot be used (see the subclasses)."""

    code = "ERR_OUTPUT"


class OutputExists(OutputError):
    """The output file exists and replacing it was not allowed."""

    code = "ERR_OUTPUT_EXISTS"


class OutputNotAFile(OutputError):
    """The output path is a directory, device node, FIFO or socket."""

    code = "ERR_OUTPUT_NOT_A_FILE"


def _kind(mode: int) -> tuple[str, str, str]:
    if stat.S_ISDIR(mode):
        return "directory", "文件夹", "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device", "设备文件", "a device"
    if stat.S_ISFIFO(mode):
        return "fifo", "命名管道", "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket", "套接字", "a socket"
    return "other", "特殊文件", "a special file"


def check_output(dst: str | os.PathLike[str], *, replace: bool = False) -> bool:
    """Refuse an unusable output path; True when ``dst`` exists (as a regular file).

    A directory, device node, FIFO or socket (also through a symbolic link) raises
    :class:`OutputNotAFile`; an existing file raises :class:`OutputExists` unless
    ``replace``. Errors other than "does not exist" while looking are left to the
    write itself.
    """
    path = os.fspath(dst)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        kind, zh, en = _kind(st.st_mode)
        raise OutputNotAFile(
            f"输出路径 {path} 是{zh}，不是普通文件，BidSeal 不会写入或替换它。请指定一个文件名。",
            f"The output path {path} is {en}, not a regular file; BidSeal will not write to or "
            "replace it. Give a file name.",
            details={"path": path, "kind": kind},
        )
    if not replace:
        raise OutputExists(
            f"输出文件 {path} 已存在，未覆盖。如需替换请加 --force，或换一个文件名。",
            f"The output file {path} already exists and was not replaced. Add --force to "
            "replace it, or choose another name.",
            details={"path": path},
        )
    return True


# -- file modes --------------------------------------------------------------------------

_umask_lock = threading.Lock()
_umask: int | None = None


def current_umask() -> int:
    """The process umask (read from /proc where possible: ``os.umask`` has to set it)."""
    global _umask
    with _umask_lock:
        if _umask is None:
            try:
                with open("/proc/self/status", encoding="ascii", errors="replace") as f:
                    for line in f:
                        if line.startswith("Umask:"):
                            _umask = int(line.split()[1], 8)
                            break
            except (OSError, ValueError, IndexError):
                pass
            if _umask is None:
                old = os.umask(0o077)
                os.umask(old)
                _umask = old
        return _umask


def output_mode(dst: str | os.PathLike[str] | None = None, *, private: bool = False) -> int:
    """0600 for private outputs; else the mode of the file ``dst`` replaces, or 0666 & ~umask."""
    if private:
        return 0o600
    if dst is not None:
        with contextlib.suppress(OSError):
            st = os.stat(dst)
            if stat.S_ISREG(st.st_mode):
                return stat.S_IMODE(st.st_mode) & 0o777
    return 0o666 & ~current_umask()


# -- finding abandoned temporary files ------------------------------------------------


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # pragma: no cover - Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _lock(fd: int) -> bool:
    """Take the writer's lock on ``fd`` without waiting; False when someone holds it."""
    if fcntl is None:  # pragma: no cover - Windows: the open handle is the lock
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        # Held by someone: False. A file system without locks: True, and the PID and age
        # tests decide instead.
        return exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
    return True


def _remove_if_abandoned(path: Path, pid: int) -> bool:
    """Remove the temporary file ``path`` (written by ``pid``) if its writer is gone.

    Abandoned = nobody holds its lock, and its writer process no longer exists or the
    file is older than :data:`STALE_GRACE_SECONDS` (a PID can be reused)."""
    if pid == os.getpid() and str(path) in _OPEN:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        if not _lock(fd):
            return False
        young = time.time() - st.st_mtime < STALE_GRACE_SECONDS
        if _pid_alive(pid) and young:
            return False
        if os.name == "nt":  # pragma: no cover - Windows cannot delete an open file
            os.close(fd)
            fd = -1
        try:
            path.unlink()
        except OSError:
            return False
        return True
    finally:
        if fd >= 0:
            os.close(fd)


_swept: set[str] = set()
_swept_lock = threading.Lock()


def sweep_folder(folder: str | os.PathLike[str], *, force: bool = False) -> list[Path]:
    """Remove abandoned BidSeal temporary files in ``folder`` (once per folder and process
    unless ``force``); returns what was removed. Never raises."""
    key = os.path.abspath(os.fspath(folder) or ".")
    with _swept_lock:
        if key in _swept and not force:
            return []
        _swept.add(key)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(key))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if m and _remove_if_abandoned(Path(entry.path), int(m.group(1))):
            removed.append(Path(entry.path))
    return removed


def _journal_dir() -> Path | None:
    import warnings

    try:
        from app import paths

        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            return paths.ensure(paths.runtime_dir() / _JOURNAL)
    except OSError:
        return None


def sweep_journal() -> list[Path]:
    """Remove the abandoned temporary files listed in the journal, wherever they are
    (run at start, so a killed decryption leaves no plaintext behind for long).
    Returns what was removed. Never raises."""
    removed: list[Path] = []
    jdir = _journal_dir()
    if jdir is None:
        return removed
    try:
        entries = list(os.scandir(jdir))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.endswith(".path"):
            continue
        try:
            target = Path(Path(entry.path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        m = _TEMP_RE.match(target.name)
        if m is None:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
            continue
        pid = int(m.group(1))
        if not target.exists():
            if not (pid == os.getpid() and str(target) in _OPEN):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
            continue
        if _remove_if_abandoned(target, pid):
            removed.append(target)
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
    return removed


# -- the atomic output -------------------------------------------------------------------

#: temporary files this process is writing (never swept by itself)
_OPEN: set[str] = set()


def _new_temp(folder: Path) -> tuple[int, Path]:
    for _ in range(100):
        name = f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{TEMP_SUFFIX}"
        path = folder / name
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        return fd, path
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))


class AtomicFile:
    """A temporary file beside ``dst``: write to :attr:`file`, then :meth:`commit` or :meth:`discard`.

    ``private`` keeps the committed file at 0600 (plaintext, keys); otherwise it gets
    :func:`output_mode`. ``replace=False`` refuses to replace an existing ``dst``, both
    here and, atomically, at commit (:class:`OutputExists`). An output that is not a
    regular file is always refused (:class:`OutputNotAFile`). File operations raise
    ``OSError``; callers turn it into their own sentence. Used as a context manager it
    discards unless committed.
    """

    def __init__(self, dst: str | os.PathLike[str], *, private: bool = False, replace: bool = True) -> None:
        self.dst = Path(dst)
        self.private = private
        self.replace = replace
        check_output(self.dst, replace=replace)
        folder = self.dst.parent if str(self.dst.parent) else Path(".")
        sweep_folder(folder)
        self.committed = False
        self._journal: Path | None = None
        fd, self.path = _new_temp(folder)
        try:  # a Ctrl-C/SIGTERM arriving here must not leak the new file
            _OPEN.add(str(self.path))
            if fcntl is not None:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.file: IO[bytes] = os.fdopen(fd, "wb", buffering=0)
        except BaseException:
            os.close(fd)
            self.path.unlink(missing_ok=True)
            _OPEN.discard(str(self.path))
            raise
        try:
            self._journal = self._journal_add()
        except BaseException:
            self.discard()
            raise

    def _journal_add(self) -> Path | None:
        jdir = _journal_dir()
        if jdir is None:
            return None
        entry = jdir / f"{self.path.name}-{secrets.token_hex(4)}.path"
        try:
            entry.write_text(os.path.abspath(self.path), encoding="utf-8")
        except OSError:
            return None
        return entry

    def _journal_remove(self) -> None:
        if self._journal is not None:
            with contextlib.suppress(OSError):
                self._journal.unlink()
            self._journal = None

    def commit(self, fsync: bool = True) -> None:
        """Flush (and fsync) the data, then rename it to ``dst``; discards on failure."""
        try:
            if fsync:
                os.fsync(self.file.fileno())
            mode = output_mode(self.dst, private=self.private)
            if hasattr(os, "fchmod"):
                os.fchmod(self.file.fileno(), mode)
            else:  # pragma: no cover - Windows
                os.chmod(self.path, mode)
            if os.name == "nt":  # pragma: no cover - an open file cannot be renamed there
                self.file.close()
            check_output(self.dst, replace=self.replace)
            if self.replace:
                os.replace(self.path, self.dst)
            else:
                self._rename_no_replace()
            # keep the file open (and locked) until it has its final name: a sweeping
            # BidSeal process must never see it unlocked under the temporary name
            self.file.close()
            if fsync:
                _fsync_folder(self.dst.parent)
        except BaseException:
            self.discard()
            raise
        _OPEN.discard(str(self.path))
        self._journal_remove()
        self.committed = True

    def _rename_no_replace(self) -> None:
        """Give the file its name only if ``dst`` still does not exist (hard link, then
        unlink; file systems without hard links fall back to a check and a rename)."""
        try:
            os.link(self.path, self.dst)
        except FileExistsError:
            check_output(self.dst, replace=False)
            raise
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK,
                                 errno.ENOSYS, errno.EACCES):
                raise
            check_output(self.dst, replace=False)
            os.replace(self.path, self.dst)
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        if not self.committed:
            with contextlib.suppress(OSError):
                self.path.unlink()
        _OPEN.discard(str(self.path))
        self._journal_remove()

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self.committed:
            self.discard()


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    if os.name == "nt":  # pragma: no cover
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``b`` names the file ``a`` (same path after links, or a hard link to it).

    Engines refuse such an output: the original must never be overwritten."""
    try:
        if os.path.realpath(a) == os.path.realpath(b):
            return True
        return os.path.exists(b) and os.path.samefile(a, b)
    except OSError:
        return False


def write_atomic(dst: str | os.PathLike[str], data: bytes, *, private: bool = False,
                 fsync: bool = True, replace: bool = True) -> None:
    """Write ``data`` to ``dst`` through an :class:`AtomicFile`."""
    with AtomicFile(dst, private=private, replace=replace) as out:
        out.file.write(data)
        out.commit(fsync)


__all__ = [
    "STALE_GRACE_SECONDS", "TEMP_PREFIX", "TEMP_SUFFIX", "AtomicFile", "OutputError", "OutputExists",
    "OutputNotAFile", "check_output", "current_umask", "output_mode", "same_file", "sweep_folder",
    "sweep_journal", "write_atomic",
]
