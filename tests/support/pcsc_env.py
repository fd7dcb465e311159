"""A real PC/SC stack for tests: pcscd + Debian's virtual reader and card.

Nothing here is mocked. :class:`PcscEnv` gives a test

* a real ``pcscd`` (started as our child: ``pcscd --foreground --debug --apdu``,
  socket ``/run/pcscd/pcscd.comm``) with Debian's ``vsmartcard-vpcd`` driver,
  which adds two readers, ``Virtual PCD 00 00`` and ``Virtual PCD 00 01``, fed
  by a virtual card over TCP ``127.0.0.1:35963`` and ``:35964``;
* a virtual ISO 7816 card: :meth:`PcscEnv.insert_card` starts Debian's
  ``vicc`` (python3-virtualsmartcard 3.3) against a reader's port and
  :meth:`PcscEnv.remove_card` kills it, which is a card insertion / removal as
  far as every PC/SC client can tell.

Debian's ``vicc`` needs three workarounds (see docs/setup.md, "PC/SC"):

1. ``PYTHONPATH=/usr/lib/python3/site-packages/virtualsmartcard`` (Debian
   installs the package outside ``sys.path``);
2. PyPI ``pycryptodome`` (it imports ``Crypto``, which Debian does not ship):
   we run ``/usr/bin/vicc`` with the interpreter of a small dedicated venv made
   with ``/usr/bin/python3 -m venv --system-site-packages`` under
   ``$BIDSEAL_TEST_CACHE`` (default ``~/.cache/bidseal-test``)``/vicc-venv``,
   created once (~5 s) and reused; a file lock makes concurrent runs safe;
3. SELECT must use P2=0C (P2=00 crashes the emulator) - a rule for the tests.

Which pcscd is used
-------------------
* No pcscd answering: we start our own child and, on :meth:`PcscEnv.stop`,
  send SIGTERM to *that pid only* (pcscd needs ~1.7 s to exit), then SIGKILL
  after 10 s. Its pid and start time are recorded in the cache dir, so a pcscd
  left behind by a test run that was killed is recognised (same pid *and*
  same start time) and stopped at the next start; no other pcscd is ever
  signalled.
* A pcscd already answering that has the vpcd readers (e.g. the system
  service: installing vsmartcard-vpcd configures it for every pcscd): reused,
  never stopped. :attr:`PcscEnv.owned` is then False and
  :meth:`PcscEnv.stop_service` refuses to run (tests then check "service
  unavailable" through ``PCSCLITE_CSOCK_NAME`` in a subprocess instead).
* A pcscd answering *without* the vpcd readers cannot be used (the socket path
  is fixed in pcscd): :class:`PcscEnvError` says how to stop it.

Everything that goes wrong raises :class:`PcscEnvError` with the log tail, so
a test FAILS with a reason instead of being skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

PCSCD = "/usr/sbin/pcscd"
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
PCSCD_PIDFILE = Path("/run/pcscd/pcscd.pid")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VICC = "/usr/bin/vicc"
VICC_PYTHONPATH = "/usr/lib/python3/site-packages/virtualsmartcard"
SYSTEM_PYTHON = "/usr/bin/python3"

#: vpcd reader name -> TCP port its virtual card connects to.
VPCD_READERS: dict[str, int] = {"Virtual PCD 00 00": 35963, "Virtual PCD 00 01": 35964}
READER_0, READER_1 = VPCD_READERS

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPS_FILE = REPO_ROOT / "installer" / "linux" / "pcsc-test-deps.txt"

_SCARD_STATE_UNAWARE = 0x0000
_SCARD_STATE_PRESENT = 0x0020


class PcscEnvError(RuntimeError):
    """The real PC/SC test environment could not be set up or driven."""


def _apt_hint() -> str:
    try:
        pkgs = " ".join(DEPS_FILE.read_text().split())
    except OSError:
        pkgs = "pcscd vsmartcard-vpcd vsmartcard-vpicc python3-virtualsmartcard libpcsclite-dev"
    return f"install them with: apt-get install --no-install-recommends {pkgs}"


def cache_dir() -> Path:
    base = os.environ.get("BIDSEAL_TEST_CACHE")
    path = Path(base) if base else Path.home() / ".cache" / "bidseal-test"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _tail(path: Path | None, lines: int = 25) -> str:
    if path is None:
        return ""
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"\n--- last lines of {path} ---\n" + "\n".join(text)


# -- vicc venv ---------------------------------------------------------------
def vicc_python() -> Path:
    """Interpreter able to run Debian's vicc: a cached venv with pycryptodome.

    ``--system-site-packages`` keeps Debian's dist-packages visible;
    virtualsmartcard itself comes from :data:`VICC_PYTHONPATH`.
    """
    root = cache_dir()
    venv = root / "vicc-venv"
    python = venv / "bin" / "python"
    marker = venv / ".bidseal-ready"
    if marker.exists() and python.exists():
        return python
    with open(root / "vicc-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and python.exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        steps = [
            [SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(venv)],
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "pycryptodome",
            ],
            [str(python), "-c", "import Crypto, virtualsmartcard.VirtualSmartcard"],
        ]
        env = dict(os.environ, PYTHONPATH=VICC_PYTHONPATH)
        for cmd in steps:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                raise PcscEnvError(
                    f"cannot prepare the vicc venv at {venv}: {' '.join(cmd)} exited "
                    f"{proc.returncode}\n{proc.stdout}\n{proc.stderr}"
                )
        marker.write_text("pycryptodome\n")
    return python


# -- process bookkeeping ------------------------------------------------------
def _start_time(pid: int) -> str | None:
    """Kernel start time of ``pid`` (field 22 of /proc/pid/stat), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; treat it as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _terminate(proc: subprocess.Popen[bytes], grace: float = 10.0) -> float:
    """SIGTERM our child by pid, SIGKILL after ``grace`` s; return seconds taken."""
    t0 = time.monotonic()
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return time.monotonic() - t0


# -- PC/SC probes (pyscard, independent of the code under test) ------------------
def _scard() -> Any:
    try:
        from smartcard import scard
    except ImportError as exc:  # pragma: no cover - pyscard is a hard dependency
        raise PcscEnvError(f"pyscard is not importable: {exc!r}") from exc
    return scard


def service_readers() -> list[str] | None:
    """Readers of the pcscd behind the socket, or None when nobody answers."""
    scard = _scard()
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return None
    try:
        hresult, readers = scard.SCardListReaders(ctx, [])
        return list(readers) if hresult == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(ctx)


def card_present(reader: str) -> bool:
    scard = _scard()
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise PcscEnvError("pcscd does not answer")
    try:
        hresult, states = scard.SCardGetStatusChange(ctx, 0, [(reader, _SCARD_STATE_UNAWARE)])
        if hresult != scard.SCARD_S_SUCCESS:
            code = hresult & 0xFFFFFFFF
            raise PcscEnvError(f"SCardGetStatusChange({reader!r}) failed: 0x{code:08X}")
        return bool(states[0][1] & _SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(ctx)


def _wait(
    predicate: Callable[[], bool], timeout: float, what: str, log: Path | None = None
) -> float:
    t0 = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise PcscEnvError(f"timed out after {timeout:.1f} s waiting for {what}{_tail(log)}")
        time.sleep(0.02)


# -- the environment -------------------------------------------------------------
class PcscEnv:
    """Real pcscd + vpcd readers + vicc cards. Use as a context manager.

    ``with PcscEnv() as env: env.insert_card(); ...`` - everything started is
    stopped on exit (cards first, then our pcscd if we started it).
    """

    def __init__(self, log_dir: Path | None = None, *, start_timeout: float = 10.0) -> None:
        self._own_logs = log_dir is None
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="bidseal-pcsc-"))
        self.start_timeout = start_timeout
        self.pcscd: subprocess.Popen[bytes] | None = None
        self.pcscd_log = self.log_dir / "pcscd.log"
        self.cards: dict[str, subprocess.Popen[bytes]] = {}
        self.owned = False
        self.timings: dict[str, float] = {}
        self._state_file = cache_dir() / "pcscd-owned.pid"

    # context manager ------------------------------------------------------------
    def __enter__(self) -> PcscEnv:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # pcscd ----------------------------------------------------------------------
    def check_installed(self) -> None:
        missing = [p for p in (PCSCD, VICC, str(VPCD_DRIVER)) if not Path(p).exists()]
        if not Path(VICC_PYTHONPATH, "virtualsmartcard").is_dir():
            missing.append(VICC_PYTHONPATH + "/virtualsmartcard")
        if missing:
            raise PcscEnvError(f"missing {', '.join(missing)}; {_apt_hint()}")

    def start(self) -> None:
        """Make sure a pcscd with both vpcd readers answers; prepare vicc."""
        self.check_installed()
        self.vicc_python = vicc_python()
        self._stop_own_leftover()
        readers = service_readers()
        if readers is not None:
            if all(r in readers for r in VPCD_READERS):
                self.owned = False  # someone else's pcscd (system service): reuse it
                return
            raise PcscEnvError(
                f"a pcscd not started by the tests is running without the vpcd readers "
                f"(readers: {readers}). Stop it (systemctl stop pcscd.socket pcscd) or "
                f"install vsmartcard-vpcd and restart it."
            )
        self.start_service()

    def start_service(self) -> None:
        """Start our own ``pcscd --foreground --debug --apdu`` and wait for the readers."""
        if self.pcscd is not None and self.pcscd.poll() is None:
            return
        if service_readers() is not None:
            raise PcscEnvError("another pcscd is already answering on " + str(PCSCD_SOCKET))
        t0 = time.monotonic()
        with open(self.pcscd_log, "ab") as log:
            self.pcscd = subprocess.Popen(
                [PCSCD, "--foreground", "--debug", "--apdu"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C aimed at pytest must not kill it first
            )
        self.owned = True
        proc = self.pcscd
        me = os.getpid()
        self._state_file.write_text(f"{proc.pid} {_start_time(proc.pid)} {me} {_start_time(me)}\n")

        def ready() -> bool:
            if proc.poll() is not None:
                raise PcscEnvError(
                    f"pcscd exited with {proc.returncode} during start-up"
                    f" (is /run writable, are you root?){_tail(self.pcscd_log)}"
                )
            readers = service_readers()
            return readers is not None and all(r in readers for r in VPCD_READERS)

        _wait(ready, self.start_timeout, "pcscd and the vpcd readers", self.pcscd_log)
        self.timings["pcscd_start"] = time.monotonic() - t0

    def stop_service(self) -> float:
        """Stop the pcscd we started (SIGTERM to its pid); returns seconds taken."""
        if not self.owned:
            raise PcscEnvError("refusing to stop a pcscd these tests did not start")
        self._remove_all_cards()
        took = 0.0
        if self.pcscd is not None:
            took = _terminate(self.pcscd)
            self.pcscd = None
        self._state_file.unlink(missing_ok=True)
        self.timings["pcscd_stop"] = took
        return took

    def _stop_own_leftover(self) -> None:
        """Stop a pcscd that an earlier, killed test run started (and only that)."""
        try:
            pid_s, start, owner_s, owner_start = self._state_file.read_text().split()
            pid, owner = int(pid_s), int(owner_s)
        except (OSError, ValueError):
            return
        if _start_time(owner) == owner_start and owner_start != "None":
            return  # the test run that started it is still alive: leave both alone
        if _start_time(pid) == start and start != "None":
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                cmdline = b""
            if cmdline.endswith(b"pcscd"):
                os.kill(pid, signal.SIGTERM)
                with contextlib.suppress(PcscEnvError):
                    _wait(lambda: not _alive(pid), 10, f"leftover pcscd {pid} to exit")
        self._state_file.unlink(missing_ok=True)

    # cards --------------------------------------------------------------------------
    def insert_card(
        self, reader: str = READER_0, *, wait: bool = True, timeout: float = 10
    ) -> None:
        """Start a vicc ISO 7816 card on ``reader``'s port; optionally wait until present."""
        port = VPCD_READERS[reader]
        if reader in self.cards and self.cards[reader].poll() is None:
            raise PcscEnvError(f"a card is already inserted in {reader}")
        if card_present(reader):
            raise PcscEnvError(f"{reader} already holds a card we did not insert (stray vicc?)")
        log_path = self.log_dir / f"vicc-{port}.log"
        env = dict(os.environ, PYTHONPATH=VICC_PYTHONPATH)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [str(self.vicc_python), VICC, "-t", "iso7816", "-H", "127.0.0.1", "-P", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.cards[reader] = proc
        if wait:

            def present() -> bool:
                if proc.poll() is not None:
                    raise PcscEnvError(f"vicc exited with {proc.returncode}{_tail(log_path)}")
                return card_present(reader)

            self.timings["insert"] = _wait(present, timeout, f"a card in {reader}", log_path)

    def remove_card(
        self, reader: str = READER_0, *, wait: bool = True, timeout: float = 10
    ) -> None:
        """Kill the vicc of ``reader`` (by its pid); optionally wait until the reader is empty."""
        proc = self.cards.pop(reader, None)
        if proc is None:
            raise PcscEnvError(f"no card of ours in {reader}")
        _terminate(proc, grace=3)
        if wait:
            self.timings["remove"] = _wait(
                lambda: not card_present(reader), timeout, f"{reader} to be empty", self.pcscd_log
            )

    def _remove_all_cards(self) -> None:
        for reader in list(self.cards):
            proc = self.cards.pop(reader)
            _terminate(proc, grace=3)

    # teardown -----------------------------------------------------------------------
    def stop(self) -> None:
        """Remove our cards, stop our pcscd (never anybody else's)."""
        self._remove_all_cards()
        if self.owned and self.pcscd is not None:
            self.stop_service()
        if self._own_logs and not os.environ.get("BIDSEAL_KEEP_PCSC_LOGS"):
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def describe(self) -> str:
        who = f"own pcscd pid {self.pcscd.pid}" if self.pcscd else "reused system pcscd"
        return f"{who}; logs in {self.log_dir}; python {sys.version.split()[0]}"


@contextlib.contextmanager
def pcsc_environment(log_dir: Path | None = None) -> Iterator[PcscEnv]:
    """``with pcsc_environment() as env:`` - shorthand for ``with PcscEnv() as env``.

    In a test module: ``@pytest.fixture(scope="module")`` +
    ``with pcsc_environment() as env: yield env``.
    """
    with PcscEnv(log_dir) as env:
        yield env
