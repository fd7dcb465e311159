"""PC/SC reader and card presence: which readers exist, which hold a card.

Why this module exists
----------------------
Most e-bidding UKeys are driven through their vendor's SKF library
(``SKF_WaitForDevEvent`` tells us when a key is plugged in or pulled out). Many
of those keys, however, also expose a USB CCID interface: the operating system's
smart-card stack (pcscd on Debian/UOS, the "Smart Card" service SCardSvr on
Windows) then shows the key as a *reader* holding a *card*. Watching PC/SC next
to ``SKF_WaitForDevEvent`` gives us:

* hot-plug events even when a vendor's SKF library has no working event API
  (or blocks in it forever), and a second opinion when it has one;
* the card's ATR, which identifies the chip family without loading any vendor
  library;
* a clear diagnosis when the smart-card service itself is not running, which is
  the most common "my UKey is not detected" cause on a fresh Linux machine.

The module talks to pyscard's low-level ``smartcard.scard`` API only. It has no
Qt and never prints: events go to a plain callback (the GUI marshals them to its
own thread), problems go to :mod:`logging` and to :class:`PcscUnavailable`.

Why not pyscard's ``ReaderMonitor``/``CardMonitor``
---------------------------------------------------
They are process-wide singletons, print tracebacks to stderr, stop for good the
first time the service disappears (``SCARD_E_NO_SERVICE``), poll the reader list
once a second, and the card monitor's thread cannot be stopped promptly (it
waits up to 60 s). :class:`PcscMonitor` instead runs its own thread blocked in
``SCardGetStatusChange`` on every reader *and* on the ``\\\\?PnP?\\Notification``
pseudo-reader, so both card and reader changes wake it immediately; ``stop()``
interrupts the wait with ``SCardCancel``. When the service goes away (pcscd
stopped, or Windows stopping SCardSvr after the last reader is unplugged) the
monitor reports every card and reader as removed and quietly reconnects once
the service is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from app.token.errors import TokenError

__all__ = [
    "PcscError",
    "PcscUnavailable",
    "ReaderEvent",
    "EventKind",
    "PcscMonitor",
    "available",
    "ensure_available",
    "list_readers",
]

log = logging.getLogger(__name__)

EventKind = Literal["reader_added", "reader_removed", "card_inserted", "card_removed"]

#: Pseudo-reader whose state changes when a reader is added or removed
#: (pcsc-lite and Windows both support it).
PNP_READER = "\\\\?PnP?\\Notification"

# Return codes, as unsigned 32-bit values (pyscard hands them back signed on
# some platforms, so every comparison goes through _u32()).
_S_SUCCESS = 0x00000000
_E_CANCELLED = 0x80100002
_E_INVALID_HANDLE = 0x80100003
_E_TIMEOUT = 0x8010000A
_E_UNKNOWN_READER = 0x80100009
_E_READER_UNAVAILABLE = 0x80100017
_E_NO_SERVICE = 0x8010001D
_E_SERVICE_STOPPED = 0x8010001E
_E_NO_READERS_AVAILABLE = 0x8010002E
_E_NO_READERS_AVAILABLE_OLD = 0x80100030  # SCARD_E_NO_READERS_AVAILABLE before pcsc-lite 1.6
_F_COMM_ERROR = 0x80100013
_E_SYSTEM_CANCELLED = 0x80100012

#: Codes meaning "there is no smart-card service to talk to" (or it just went away).
_SERVICE_GONE = frozenset(
    {_E_NO_SERVICE, _E_SERVICE_STOPPED, _E_INVALID_HANDLE, _F_COMM_ERROR, _E_SYSTEM_CANCELLED}
)
_NO_READERS = frozenset({_E_NO_READERS_AVAILABLE, _E_NO_READERS_AVAILABLE_OLD})

# Reader state bits (WinSCard / pcsc-lite values).
_STATE_UNAWARE = 0x0000
_STATE_IGNORE = 0x0001
_STATE_CHANGED = 0x0002
_STATE_UNKNOWN = 0x0004
_STATE_UNAVAILABLE = 0x0008
_STATE_EMPTY = 0x0010
_STATE_PRESENT = 0x0020

_ZH_UNAVAILABLE = (
    "智能卡服务（PC/SC）未运行，无法检测 UKey。"
    "Debian/统信 UOS 请执行 “sudo systemctl start pcscd” 启动服务"
    "（开机自动启动：“sudo systemctl enable --now pcscd.socket”）；"
    "Windows 请在“服务”中启动“Smart Card”（SCardSvr）服务，"
    "或以管理员身份运行 “sc start SCardSvr”。"
)
_EN_UNAVAILABLE = (
    "The smart-card service (PC/SC) is not running, so UKeys cannot be detected. "
    'On Debian/UOS start it with "sudo systemctl start pcscd" '
    '(to start it at boot: "sudo systemctl enable --now pcscd.socket"); '
    'on Windows start the "Smart Card" service (SCardSvr) in Services, '
    'or run "sc start SCardSvr" as administrator.'
)


def _u32(code: int) -> int:
    return code & 0xFFFFFFFF


class PcscError(TokenError):
    """A PC/SC call failed for a reason other than a missing service.

    A :class:`~app.token.errors.TokenError` (hence a ``BidSealError``), so code
    that catches token errors, and the token host's wire format, cover it too.
    """

    code = "ERR_PCSC"


class PcscUnavailable(PcscError):
    """The smart-card service (pcscd / SCardSvr) cannot be reached.

    Raised by :func:`list_readers` and :func:`ensure_available`; the sentence
    tells the bidder how to start the service on Debian/UOS and on Windows.
    ``details`` holds the raw PC/SC return code (``hresult``) or the import
    error when pyscard/libpcsclite itself is missing.
    """

    code = "ERR_PCSC_UNAVAILABLE"

    def __init__(self, zh: str = _ZH_UNAVAILABLE, en: str = _EN_UNAVAILABLE, **details: Any):
        super().__init__(zh, en, **details)


def _scard() -> Any:
    """Import pyscard's low-level module, turning a missing pyscard or libpcsclite
    into :class:`PcscUnavailable` (the fix is the same: install/start PC/SC)."""
    try:
        from smartcard import scard
    except (ImportError, OSError) as exc:  # pragma: no cover - depends on the machine
        raise PcscUnavailable(reason="pyscard cannot be loaded", error=repr(exc)) from exc
    return scard


def _hresult_details(hresult: int, scard: Any, call: str) -> dict[str, Any]:
    code = _u32(hresult)
    try:
        text = scard.SCardGetErrorMessage(hresult)
    except Exception:  # pragma: no cover - defensive, message lookup only
        text = ""
    return {"call": call, "hresult": f"0x{code:08X}", "message": text}


def _raise_for(hresult: int, scard: Any, call: str) -> None:
    code = _u32(hresult)
    if code == _S_SUCCESS:
        return
    details = _hresult_details(hresult, scard, call)
    if code in _SERVICE_GONE:
        raise PcscUnavailable(**details)
    raise PcscError(
        f"智能卡服务调用失败（{call}）：{details['message'] or details['hresult']}。",
        f"A smart-card service call failed ({call}): {details['message'] or details['hresult']}.",
        **details,
    )


def _establish(scard: Any) -> Any:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    _raise_for(hresult, scard, "SCardEstablishContext")
    return context


def _release(scard: Any, context: Any) -> None:
    try:
        scard.SCardReleaseContext(context)
    except Exception:  # pragma: no cover - the service may already be gone
        log.debug("SCardReleaseContext failed", exc_info=True)


def _list(scard: Any, context: Any) -> list[str]:
    hresult, readers = scard.SCardListReaders(context, [])
    if _u32(hresult) in _NO_READERS:
        return []
    _raise_for(hresult, scard, "SCardListReaders")
    return list(readers)


def list_readers() -> list[str]:
    """Names of the PC/SC readers present now (a CCID UKey is one of them).

    Returns ``[]`` when the service runs but no reader is attached; raises
    :class:`PcscUnavailable` when the service is not running.
    """
    scard = _scard()
    context = _establish(scard)
    try:
        return _list(scard, context)
    finally:
        _release(scard, context)


def ensure_available() -> None:
    """Raise :class:`PcscUnavailable` unless the smart-card service answers."""
    scard = _scard()
    _release(scard, _establish(scard))


def available() -> bool:
    """True when the smart-card service (pcscd / SCardSvr) can be reached.

    Never raises for a missing service; use :func:`ensure_available` to get the
    bidder-facing :class:`PcscUnavailable` sentence instead of a bool.
    """
    try:
        ensure_available()
    except PcscError:
        return False
    return True


@dataclass(frozen=True)
class ReaderEvent:
    """One change seen by :class:`PcscMonitor`.

    ``atr`` is the card's Answer-To-Reset for ``card_inserted`` (it may be
    empty for a mute card) and ``None`` for every other kind.
    """

    kind: EventKind
    reader: str
    atr: bytes | None = None


@dataclass
class _ReaderState:
    state: int = _STATE_UNAWARE
    present: bool = False
    atr: bytes = b""
    events: int = field(default=-1)


Callback = Callable[[ReaderEvent], None]


class PcscMonitor:
    """Watch PC/SC readers and cards on a background thread.

    ``start(callback)`` first reports what is already there (``reader_added``
    for each reader, then ``card_inserted`` for each card), then every change,
    in order, from a single daemon thread. The callback must be quick and must
    not touch GUI objects directly (a Qt front end should emit a signal from it).
    Exceptions raised by the callback are logged and swallowed so one bad
    handler cannot kill hot-plug detection.

    When the service is not running the monitor keeps retrying every
    ``retry_interval`` seconds; when it stops while we watch, every known card
    and reader is reported removed, and re-added once it comes back. Use
    :func:`available` to tell the bidder *why* nothing shows up.

    ``poll_timeout`` bounds one ``SCardGetStatusChange`` wait; it only matters
    as a safety net, since changes and ``stop()`` wake the wait immediately.
    """

    def __init__(self, *, poll_timeout: float = 1.0, retry_interval: float = 1.0) -> None:
        self._poll_ms = max(1, int(poll_timeout * 1000))
        self._retry = retry_interval
        self._callback: Callback | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._context: Any = None
        self._readers: dict[str, _ReaderState] = {}

    # -- public API ---------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, callback: Callback) -> None:
        """Start delivering :class:`ReaderEvent` objects to ``callback``."""
        if self.running:
            raise RuntimeError("PcscMonitor is already running")
        self._scard = _scard()
        self._callback = callback
        self._stop.clear()
        self._readers = {}
        self._thread = threading.Thread(target=self._run, name="bidseal-pcsc-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread; safe to call twice or from inside the callback."""
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        self._cancel_wait()
        if thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():  # pragma: no cover - libpcsclite stuck
                log.warning("PC/SC monitor thread did not stop within %.1f s", timeout)
        self._thread = None

    def __enter__(self) -> PcscMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- thread -------------------------------------------------------------
    def _cancel_wait(self) -> None:
        with self._lock:
            context = self._context
        if context is not None:
            try:
                self._scard.SCardCancel(context)
            except Exception:  # pragma: no cover - context already released
                log.debug("SCardCancel failed", exc_info=True)

    def _emit(self, kind: EventKind, reader: str, atr: bytes | None = None) -> None:
        callback = self._callback
        if callback is None or self._stop.is_set():
            return
        try:
            callback(ReaderEvent(kind, reader, atr))
        except Exception:
            log.exception("PC/SC event callback failed for %s %s", kind, reader)

    def _run(self) -> None:
        scard = self._scard
        while not self._stop.is_set():
            hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if _u32(hresult) != _S_SUCCESS:
                log.debug("PC/SC service not reachable (0x%08X)", _u32(hresult))
                self._stop.wait(self._retry)
                continue
            with self._lock:
                self._context = context
            try:
                self._watch(context)
            except Exception:  # pragma: no cover - unexpected pyscard failure
                log.exception("PC/SC monitor error; reconnecting")
            finally:
                with self._lock:
                    self._context = None
                _release(scard, context)
                self._forget_all()
            if not self._stop.is_set():
                self._stop.wait(self._retry)

    def _forget_all(self) -> None:
        """The service went away (or we stop): report everything as removed."""
        for name, st in list(self._readers.items()):
            if st.present:
                self._emit("card_removed", name)
            self._emit("reader_removed", name)
        self._readers.clear()

    def _sync_readers(self, context: Any) -> None:
        current = _list(self._scard, context)
        for name in list(self._readers):
            if name not in current:
                if self._readers.pop(name).present:
                    self._emit("card_removed", name)
                self._emit("reader_removed", name)
        for name in current:
            if name not in self._readers:
                self._readers[name] = _ReaderState()
                self._emit("reader_added", name)

    def _watch(self, context: Any) -> None:
        """Loop on SCardGetStatusChange until stop or until the service is gone."""
        scard = self._scard
        pnp_state = _STATE_UNAWARE
        pnp_supported = True
        relist = True
        while not self._stop.is_set():
            if relist:
                try:
                    self._sync_readers(context)
                except PcscUnavailable:
                    return
                relist = False
            states = [(name, st.state) for name, st in self._readers.items()]
            if pnp_supported:
                states.append((PNP_READER, pnp_state))
            if not states:  # no reader and no PnP support: plain polling
                self._stop.wait(self._poll_ms / 1000)
                relist = True
                continue
            hresult, results = scard.SCardGetStatusChange(context, self._poll_ms, states)
            code = _u32(hresult)
            if code == _E_TIMEOUT:
                relist = not pnp_supported
                continue
            if code == _E_CANCELLED:
                continue  # stop() or a foreign cancel; the loop condition decides
            if code in _SERVICE_GONE:
                log.info("PC/SC service went away (0x%08X)", code)
                return
            if code in (_E_UNKNOWN_READER, _E_READER_UNAVAILABLE) or code in _NO_READERS:
                if pnp_supported and not self._readers:
                    # Some stacks reject the PnP pseudo-reader on its own.
                    pnp_supported = code not in (_E_UNKNOWN_READER,)
                relist = True
                self._stop.wait(0.05)
                continue
            if code != _S_SUCCESS:
                log.warning("SCardGetStatusChange failed (0x%08X); reconnecting", code)
                return
            for name, event_state, atr in results:
                if name == PNP_READER:
                    if event_state & _STATE_CHANGED:
                        relist = True
                    pnp_state = event_state & ~_STATE_CHANGED
                    continue
                st = self._readers.get(name)
                if st is None:
                    continue
                st.state = event_state & ~_STATE_CHANGED
                if event_state & (_STATE_UNKNOWN | _STATE_IGNORE | _STATE_UNAVAILABLE):
                    relist = True  # reader vanished or is being re-enumerated
                    continue
                self._card_state(name, st, event_state, bytes(atr or b""))

    def _card_state(self, name: str, st: _ReaderState, event_state: int, atr: bytes) -> None:
        present = bool(event_state & _STATE_PRESENT)
        # The high word counts insertions and removals; a change while the
        # reader held a card both times means the card was swapped between
        # two waits (the ATR alone cannot tell: a warm reset may change it).
        events = (event_state >> 16) & 0xFFFF
        swapped = present and st.present and st.events >= 0 and events != st.events
        if swapped:
            self._emit("card_removed", name)
        if present and (swapped or not st.present):
            self._emit("card_inserted", name, atr)
        elif not present and st.present:
            self._emit("card_removed", name)
        st.present = present
        st.atr = atr if present else b""
        st.events = events
