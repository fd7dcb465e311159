"""The token-host process: the only process that loads an SKF library.

Run as ``bidseal-token-host --library PATH [--monitor]`` (the console script / frozen
executable of an installation) or ``python -m app.token.host ...``. It talks to its
parent over stdin/stdout with :mod:`app.token.protocol` frames (the library's own
prints are redirected to stderr so they cannot corrupt the protocol). A vendor
library that crashes, hangs or leaks can only take this process down; the
caller (:mod:`app.token.host_client`) sees EOF or a timeout, kills it and starts
a new one on the next call.

SKF handles stay here. The caller gets opaque ids ``"<generation>:<n>"``; the
generation is random per process, so an id from a host that has since been
restarted is refused with :class:`~app.token.errors.StaleHandle` instead of
reaching the library. Closing a handle closes its children first (keys before
containers before applications before the device), and everything still open is
closed when the caller hangs up.

Handles and logins have owners. A request may carry ``"owner"`` (a session's random
token); every handle it creates belongs to that owner, and a request with another
owner (or none) that names the handle is refused with
:class:`~app.token.errors.NotOwner` before the library sees it. A successful
``SKF_VerifyPIN`` records which owner logged in on that application handle; the
operations that need a login (signing, importing a session key, creating or
writing keys and certificates) run only for that owner. So code in the caller's
process cannot ride on a login it did not make, even on a key whose login state is
shared by every handle. PIN operations run under a lock file per device
(:func:`app.token.locks.pin_lock`), so BidSeal processes verifying PINs on the same
key in parallel cannot lose retry-counter updates.

With ``--monitor`` the process instead loops on ``SKF_WaitForDevEvent`` and
sends ``{"event": ...}`` frames until told to stop (``SKF_CancelWaitForDevEvent``).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, BinaryIO

from app.errors import BidSealError
from app.sensitive import wipe
from app.token import protocol
from app.token.errors import (
    DeviceBusy,
    NotOwner,
    NotSupported,
    SkfError,
    StaleHandle,
    TokenError,
    TokenProtocolError,
    safe_details,
)
from app.token.locks import pin_lock
from app.token.skf_ffi import USER_TYPE, SkfApi, load_library

#: How long the host waits for another process's PIN operation on the same key.
PIN_LOCK_WAIT = 20.0

_CLOSERS = {"dev": "disconnect_dev", "app": "close_application", "con": "close_container", "key": "close_handle"}


def _log(msg: str) -> None:
    print(f"[token-host {os.getpid()}] {msg}", file=sys.stderr, flush=True)


class Handles:
    def __init__(self, api: SkfApi) -> None:
        self.api = api
        self.generation = secrets.token_hex(4)
        self._next = 0
        self.table: dict[str, tuple[Any, str, str | None]] = {}
        self.owners: dict[str, str | None] = {}
        self.names: dict[str, str] = {}  # device handle -> device name
        #: application handle -> the owner whose VerifyPIN succeeded on it
        self.logins: dict[str, str | None] = {}
        #: the owner of the request being served
        self.owner: str | None = None

    def add(self, raw: Any, kind: str, parent: str | None, name: str | None = None) -> str:
        self._next += 1
        hid = f"{self.generation}:{self._next}"
        self.table[hid] = (raw, kind, parent)
        self.owners[hid] = self.owner
        if name is not None:
            self.names[hid] = name
        return hid

    def parent(self, hid: str) -> str | None:
        entry = self.table.get(hid)
        return entry[2] if entry else None

    def device_name(self, hid: str) -> str:
        """The device name behind any handle (its ``connect_dev`` ancestor)."""
        h: str | None = hid
        while h is not None and h not in self.names:
            h = self.parent(h)
        return self.names.get(h or "", "")

    def require_login(self, happ: str) -> None:
        """Refuse an operation that needs a login unless this owner logged in on ``happ``."""
        if happ not in self.logins or self.logins[happ] != self.owner:
            raise NotOwner(
                "该操作需要先在本会话中输入 UKey 口令；不能使用其他会话的登录。",
                "This operation needs the UKey PIN entered in this session; another session's login "
                "cannot be used.",
                handle=happ,
            )

    def get(self, hid: Any, kind: str) -> Any:
        if not isinstance(hid, str) or ":" not in hid:
            raise TokenProtocolError("无效的句柄标识。", "Invalid handle id.", handle=str(hid))
        gen = hid.split(":", 1)[0]
        if gen != self.generation:
            raise StaleHandle(
                "与 UKey 的连接已重新建立，原来的操作已失效。请重新执行该操作。",
                "The connection to the UKey was re-established; the earlier operation is no longer valid. "
                "Please start it again.",
                handle=hid,
            )
        entry = self.table.get(hid)
        if entry is None:
            raise StaleHandle("该 UKey 句柄已关闭。", "This UKey handle is already closed.", handle=hid)
        if entry[1] != kind:
            raise TokenProtocolError("句柄类型不符。", "Wrong handle kind.", handle=hid, expected=kind,
                                     actual=entry[1])
        if self.owners.get(hid) != self.owner:
            raise NotOwner(
                "该 UKey 句柄属于另一个会话，不能使用。",
                "This UKey handle belongs to another session and cannot be used.",
                handle=hid,
            )
        return entry[0]

    def close(self, hid: str) -> None:
        for child, (_, _, parent) in list(self.table.items()):
            if parent == hid and child in self.table:
                self.close(child)
        entry = self.table.pop(hid, None)
        self.owners.pop(hid, None)
        self.names.pop(hid, None)
        self.logins.pop(hid, None)
        if entry is None:
            return
        raw, kind, _ = entry
        try:
            getattr(self.api, _CLOSERS[kind])(raw)
        except BidSealError as exc:  # closing never fails the caller
            _log(f"closing {kind} handle: {exc.en}")

    def close_all(self) -> None:
        for hid in [h for h, (_, _, parent) in self.table.items() if parent is None]:
            self.close(hid)
        for hid in list(self.table):
            self.close(hid)


class Dispatcher:
    def __init__(self, api: SkfApi) -> None:
        self.api = api
        self.h = Handles(api)

    # ops that take or return handles are explicit; the rest map 1:1 to SkfApi
    def run(self, op: str, args: list[Any], owner: str | None = None) -> Any:
        fn: Callable[..., Any] | None = getattr(self, "op_" + op, None)
        if fn is None:
            raise TokenProtocolError("未知的 UKey 服务操作。", "Unknown token host operation.", op=op)
        if owner is not None and not isinstance(owner, str):
            raise TokenProtocolError("无效的会话标识。", "Invalid session owner.", op=op)
        self.h.owner = owner
        try:
            return fn(*args)
        finally:
            self.h.owner = None

    def _pin_op(self, happ: str, run: Callable[[Any], None]) -> None:
        """``run(raw app handle)`` under the device's PIN lock file."""
        raw = self.h.get(happ, "app")
        device = self.h.device_name(happ)
        lock = pin_lock(device)
        if not lock.acquire(PIN_LOCK_WAIT):
            raise DeviceBusy(
                f"另一个 BidSeal 程序正在 UKey「{device}」上验证口令，请稍后再试。",
                f"Another BidSeal program is verifying a PIN on the UKey '{device}'; try again shortly.",
                device=device,
            )
        try:
            run(raw)
        finally:
            lock.release()

    # -- bookkeeping
    def op_ping(self) -> str:
        return "pong"

    def op_handle_count(self) -> int:
        return len(self.h.table)

    def op_close(self, hid: str) -> None:
        if isinstance(hid, str) and hid.split(":", 1)[0] == self.h.generation and hid in self.h.table:
            if self.h.owners.get(hid) != self.h.owner:
                raise NotOwner("该 UKey 句柄属于另一个会话，不能关闭。",
                               "This UKey handle belongs to another session and cannot be closed.", handle=hid)
            self.h.close(hid)

    # -- device
    def op_enum_dev(self, present: bool = True) -> list[str]:
        return self.api.enum_dev(present)

    def op_get_dev_state(self, name: str) -> int:
        return self.api.get_dev_state(name)

    def op_connect_dev(self, name: str) -> str:
        return self.h.add(self.api.connect_dev(name), "dev", None, name=str(name))

    def op_get_dev_info(self, hdev: str) -> dict[str, Any]:
        return self.api.get_dev_info(self.h.get(hdev, "dev"))

    def op_set_label(self, hdev: str, label: str) -> None:
        self.api.set_label(self.h.get(hdev, "dev"), label)

    def op_gen_random(self, hdev: str, n: int) -> bytes:
        return self.api.gen_random(self.h.get(hdev, "dev"), int(n))

    def op_dev_auth(self, hdev: str, data: bytes) -> None:
        self.api.dev_auth(self.h.get(hdev, "dev"), bytes(data))

    def op_change_dev_auth_key(self, hdev: str, key: bytes) -> None:
        self.api.change_dev_auth_key(self.h.get(hdev, "dev"), bytes(key))

    # -- applications
    def op_enum_application(self, hdev: str) -> list[str]:
        return self.api.enum_application(self.h.get(hdev, "dev"))

    def op_create_application(self, hdev: str, name: str, admin_pin: bytearray, admin_retry: int,
                              user_pin: bytearray, user_retry: int, rights: int) -> str:
        raw = self.api.create_application(self.h.get(hdev, "dev"), name, admin_pin, int(admin_retry), user_pin,
                                          int(user_retry), int(rights))
        return self.h.add(raw, "app", hdev)

    def op_open_application(self, hdev: str, name: str) -> str:
        return self.h.add(self.api.open_application(self.h.get(hdev, "dev"), name), "app", hdev)

    def op_delete_application(self, hdev: str, name: str) -> None:
        self.api.delete_application(self.h.get(hdev, "dev"), name)

    def op_verify_pin(self, happ: str, pin_type: int, pin: bytearray) -> None:
        self.h.logins.pop(happ, None)  # a failed verify logs out, as on the key
        self._pin_op(happ, lambda raw: self.api.verify_pin(raw, int(pin_type), pin))
        if int(pin_type) == USER_TYPE:
            self.h.logins[happ] = self.h.owner

    def op_change_pin(self, happ: str, pin_type: int, old: bytearray, new: bytearray) -> None:
        self._pin_op(happ, lambda raw: self.api.change_pin(raw, int(pin_type), old, new))

    def op_unblock_pin(self, happ: str, admin: bytearray, new_user: bytearray) -> None:
        self._pin_op(happ, lambda raw: self.api.unblock_pin(raw, admin, new_user))

    def op_get_pin_info(self, happ: str, pin_type: int) -> list[Any]:
        return list(self.api.get_pin_info(self.h.get(happ, "app"), int(pin_type)))

    def op_clear_secure_state(self, happ: str) -> None:
        raw = self.h.get(happ, "app")
        self.h.logins.pop(happ, None)
        self.api.clear_secure_state(raw)

    # -- files
    def op_enum_files(self, happ: str) -> list[str]:
        return self.api.enum_files(self.h.get(happ, "app"))

    def op_create_file(self, happ: str, name: str, size: int, rd: int, wr: int) -> None:
        self.api.create_file(self.h.get(happ, "app"), name, int(size), int(rd), int(wr))

    def op_delete_file(self, happ: str, name: str) -> None:
        self.api.delete_file(self.h.get(happ, "app"), name)

    def op_get_file_info(self, happ: str, name: str) -> dict[str, Any]:
        return self.api.get_file_info(self.h.get(happ, "app"), name)

    def op_read_file_all(self, happ: str, name: str, chunk: int = 2048) -> bytes:
        raw = self.h.get(happ, "app")
        size = self.api.get_file_info(raw, name)["size"]
        out = bytearray()
        while len(out) < size:
            part = self.api.read_file(raw, name, len(out), min(int(chunk), size - len(out)))
            if not part:
                break
            out += part
        return bytes(out)

    def op_write_file_all(self, happ: str, name: str, data: bytes, chunk: int = 2048) -> None:
        raw = self.h.get(happ, "app")
        data = bytes(data)
        for off in range(0, len(data), int(chunk)):
            self.api.write_file(raw, name, off, data[off:off + int(chunk)])

    # -- containers
    def op_enum_container(self, happ: str) -> list[str]:
        return self.api.enum_container(self.h.get(happ, "app"))

    def op_create_container(self, happ: str, name: str) -> str:
        raw = self.h.get(happ, "app")
        self.h.require_login(happ)
        return self.h.add(self.api.create_container(raw, name), "con", happ)

    def op_open_container(self, happ: str, name: str) -> str:
        return self.h.add(self.api.open_container(self.h.get(happ, "app"), name), "con", happ)

    def op_delete_container(self, happ: str, name: str) -> None:
        raw = self.h.get(happ, "app")
        self.h.require_login(happ)
        self.api.delete_container(raw, name)

    def op_get_container_type(self, hcon: str) -> int:
        return self.api.get_container_type(self.h.get(hcon, "con"))

    def _logged_in_con(self, hcon: str) -> Any:
        """The raw container handle, if this owner logged in on its application."""
        raw = self.h.get(hcon, "con")
        self.h.require_login(self.h.parent(hcon) or "")
        return raw

    def op_import_certificate(self, hcon: str, sign: bool, der: bytes) -> None:
        self.api.import_certificate(self._logged_in_con(hcon), bool(sign), bytes(der))

    def op_export_certificate(self, hcon: str, sign: bool) -> bytes:
        return self.api.export_certificate(self.h.get(hcon, "con"), bool(sign))

    def op_export_public_key(self, hcon: str, sign: bool) -> bytes:
        return self.api.export_public_key(self.h.get(hcon, "con"), bool(sign))

    # -- asymmetric
    def op_gen_ecc_key_pair(self, hcon: str, alg: int) -> bytes:
        return self.api.gen_ecc_key_pair(self._logged_in_con(hcon), int(alg))

    def op_import_ecc_key_pair(self, hcon: str, blob: bytearray) -> None:
        self.api.import_ecc_key_pair(self._logged_in_con(hcon), bytes(blob))

    def op_ecc_sign_data(self, hcon: str, data: bytes) -> bytes:
        return self.api.ecc_sign_data(self._logged_in_con(hcon), bytes(data))

    def op_ecc_verify(self, hdev: str, pub: bytes, data: bytes, sig: bytes) -> None:
        self.api.ecc_verify(self.h.get(hdev, "dev"), bytes(pub), bytes(data), bytes(sig))

    # -- symmetric
    def op_import_session_key(self, hcon: str, alg: int, wrapped: bytes) -> str:
        return self.h.add(self.api.import_session_key(self._logged_in_con(hcon), int(alg), bytes(wrapped)),
                          "key", hcon)

    def op_set_symm_key(self, hdev: str, key: bytearray, alg: int) -> str:
        return self.h.add(self.api.set_symm_key(self.h.get(hdev, "dev"), bytes(key), int(alg)), "key", hdev)

    def op_decrypt_init(self, hkey: str, iv: bytes, padding: int, feed_bits: int = 0) -> None:
        self.api.decrypt_init(self.h.get(hkey, "key"), bytes(iv), int(padding), int(feed_bits))

    def op_encrypt_init(self, hkey: str, iv: bytes, padding: int, feed_bits: int = 0) -> None:
        self.api.encrypt_init(self.h.get(hkey, "key"), bytes(iv), int(padding), int(feed_bits))

    def op_decrypt(self, hkey: str, data: bytes) -> bytes:
        return self.api.decrypt(self.h.get(hkey, "key"), bytes(data))

    def op_decrypt_update(self, hkey: str, data: bytes) -> bytes:
        return self.api.decrypt_update(self.h.get(hkey, "key"), bytes(data))

    def op_decrypt_final(self, hkey: str) -> bytes:
        return self.api.decrypt_final(self.h.get(hkey, "key"))

    def op_decrypt_stream(self, hkey: str, data: bytes, chunk: int) -> bytes:
        """``SKF_DecryptUpdate`` over ``data`` in pieces of ``chunk`` bytes (the device's
        MaxBufferSize), so one round trip carries many device calls."""
        raw = self.h.get(hkey, "key")
        step = int(chunk)
        if step < 16 or step % 16:
            raise TokenProtocolError("分块大小无效。", "Invalid chunk size.", chunk=step)
        data = bytes(data)
        return b"".join(self.api.decrypt_update(raw, data[off:off + step]) for off in range(0, len(data), step))

    def op_encrypt(self, hkey: str, data: bytes) -> bytes:
        return self.api.encrypt(self.h.get(hkey, "key"), bytes(data))


def _wire(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, TokenError):
        return exc.to_wire()
    if isinstance(exc, BidSealError):
        return {"cls": "TokenError", "code": exc.code, "zh": exc.zh, "en": exc.en,
                "details": safe_details(exc.details)}
    return TokenProtocolError(
        "UKey 服务进程内部错误。", "Internal error in the token host process.",
        error_type=type(exc).__name__, error=str(exc)[:300],
    ).to_wire()


def _wipe_args(args: list[Any]) -> None:
    for a in args:
        if isinstance(a, bytearray):
            wipe(a)


def _protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """Take fds 0/1 for the protocol; the library's stdout goes to stderr, stdin to /dev/null."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = sys.stderr
    return proto_in, proto_out


def serve(api: SkfApi, rin: BinaryIO, wout: BinaryIO) -> None:
    d = Dispatcher(api)
    protocol.write_frame(wout, {"hello": _hello(api, d.h.generation)})
    try:
        while True:
            msg = protocol.read_frame(rin)
            if msg is None:
                return
            try:
                args = protocol.decode(msg.get("args") or [], mutable=True)
                if not isinstance(args, list):
                    raise TokenProtocolError("请求参数格式错误。", "Malformed request arguments.")
            except TokenProtocolError as exc:
                protocol.write_frame(wout, {"id": msg.get("id"), "error": _wire(exc)})
                continue
            try:
                result = d.run(str(msg.get("op")), args, msg.get("owner"))
                reply: dict[str, Any] = {"id": msg.get("id"), "ok": result}
            except Exception as exc:  # noqa: BLE001 - everything goes back to the caller
                reply = {"id": msg.get("id"), "error": _wire(exc)}
            finally:
                _wipe_args(args)
            protocol.write_frame(wout, reply)
    finally:
        d.h.close_all()


def _hello(api: SkfApi, generation: str) -> dict[str, Any]:
    return {"pid": os.getpid(), "generation": generation, "library": str(api.path), "bits": api.info.bits,
            "format": api.info.format, "machine": api.info.machine, "python": sys.version.split()[0]}


def monitor(api: SkfApi, rin: BinaryIO, wout: BinaryIO, poll: float = 1.0) -> None:
    lock = threading.Lock()
    stop = threading.Event()

    def send(msg: dict[str, Any]) -> None:
        with lock:
            protocol.write_frame(wout, msg)

    def reader() -> None:
        try:
            while True:
                msg = protocol.read_frame(rin)
                if msg is None or msg.get("op") == "stop":
                    break
        except (OSError, ValueError):
            pass
        stop.set()
        with suppress(BidSealError):
            api.cancel_wait_for_dev_event()

    send({"hello": _hello(api, "monitor")})
    threading.Thread(target=reader, daemon=True).start()
    known = set(api.enum_dev(True))
    send({"event": {"kind": "ready", "devices": sorted(known)}})
    use_wait = True
    while not stop.is_set():
        try:
            if use_wait:
                name, ev = api.wait_for_dev_event()
                if stop.is_set():
                    break
                if ev == 1:
                    known.add(name)
                    send({"event": {"kind": "inserted", "device": name}})
                elif ev == 2:
                    known.discard(name)
                    send({"event": {"kind": "removed", "device": name}})
            else:  # library without SKF_WaitForDevEvent: poll SKF_EnumDev
                stop.wait(poll)
                now = set(api.enum_dev(True))
                for name in sorted(now - known):
                    send({"event": {"kind": "inserted", "device": name}})
                for name in sorted(known - now):
                    send({"event": {"kind": "removed", "device": name}})
                known = now
        except NotSupported:
            use_wait = False
            known = set(api.enum_dev(True))
        except SkfError as exc:
            send({"event": {"kind": "error", "error": exc.to_wire()}})
            stop.wait(poll)


def _no_core_dumps() -> None:
    """A crashing library must not leave a core file (it could hold a PIN or key material)."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bidseal-token-host",
                                     description="BidSeal token host: runs one SKF library for a BidSeal process.")
    parser.add_argument("--library", required=True)
    parser.add_argument("--monitor", action="store_true")
    args = parser.parse_args(argv)
    _no_core_dumps()
    with suppress(ValueError, OSError):  # Ctrl-C in the caller's terminal is the caller's to handle
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
    rin, wout = _protocol_streams()
    try:
        api = load_library(args.library)
    except BaseException as exc:  # noqa: BLE001 - reported to the caller, then exit
        protocol.write_frame(wout, {"hello": None, "error": _wire(exc)})
        return 3
    if args.monitor:
        monitor(api, rin, wout)
    else:
        serve(api, rin, wout)
    time.sleep(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
