"""The token-host process: the only process that loads an SKF library.

Run as ``python -m app.token.host --library PATH [--monitor]``. It talks to its
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
from app.token.errors import NotSupported, SkfError, StaleHandle, TokenError, TokenProtocolError
from app.token.skf_ffi import SkfApi, load_library

_CLOSERS = {"dev": "disconnect_dev", "app": "close_application", "con": "close_container", "key": "close_handle"}


def _log(msg: str) -> None:
    print(f"[token-host {os.getpid()}] {msg}", file=sys.stderr, flush=True)


class Handles:
    def __init__(self, api: SkfApi) -> None:
        self.api = api
        self.generation = secrets.token_hex(4)
        self._next = 0
        self.table: dict[str, tuple[Any, str, str | None]] = {}

    def add(self, raw: Any, kind: str, parent: str | None) -> str:
        self._next += 1
        hid = f"{self.generation}:{self._next}"
        self.table[hid] = (raw, kind, parent)
        return hid

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
        return entry[0]

    def close(self, hid: str) -> None:
        for child, (_, _, parent) in list(self.table.items()):
            if parent == hid and child in self.table:
                self.close(child)
        entry = self.table.pop(hid, None)
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
    def run(self, op: str, args: list[Any]) -> Any:
        fn: Callable[..., Any] | None = getattr(self, "op_" + op, None)
        if fn is None:
            raise TokenProtocolError("未知的 UKey 服务操作。", "Unknown token host operation.", op=op)
        return fn(*args)

    # -- bookkeeping
    def op_ping(self) -> str:
        return "pong"

    def op_handle_count(self) -> int:
        return len(self.h.table)

    def op_close(self, hid: str) -> None:
        if isinstance(hid, str) and hid.split(":", 1)[0] == self.h.generation:
            self.h.close(hid)

    # -- device
    def op_enum_dev(self, present: bool = True) -> list[str]:
        return self.api.enum_dev(present)

    def op_get_dev_state(self, name: str) -> int:
        return self.api.get_dev_state(name)

    def op_connect_dev(self, name: str) -> str:
        return self.h.add(self.api.connect_dev(name), "dev", None)

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
        self.api.verify_pin(self.h.get(happ, "app"), int(pin_type), pin)

    def op_change_pin(self, happ: str, pin_type: int, old: bytearray, new: bytearray) -> None:
        self.api.change_pin(self.h.get(happ, "app"), int(pin_type), old, new)

    def op_unblock_pin(self, happ: str, admin: bytearray, new_user: bytearray) -> None:
        self.api.unblock_pin(self.h.get(happ, "app"), admin, new_user)

    def op_get_pin_info(self, happ: str, pin_type: int) -> list[Any]:
        return list(self.api.get_pin_info(self.h.get(happ, "app"), int(pin_type)))

    def op_clear_secure_state(self, happ: str) -> None:
        self.api.clear_secure_state(self.h.get(happ, "app"))

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
        return self.h.add(self.api.create_container(self.h.get(happ, "app"), name), "con", happ)

    def op_open_container(self, happ: str, name: str) -> str:
        return self.h.add(self.api.open_container(self.h.get(happ, "app"), name), "con", happ)

    def op_delete_container(self, happ: str, name: str) -> None:
        self.api.delete_container(self.h.get(happ, "app"), name)

    def op_get_container_type(self, hcon: str) -> int:
        return self.api.get_container_type(self.h.get(hcon, "con"))

    def op_import_certificate(self, hcon: str, sign: bool, der: bytes) -> None:
        self.api.import_certificate(self.h.get(hcon, "con"), bool(sign), bytes(der))

    def op_export_certificate(self, hcon: str, sign: bool) -> bytes:
        return self.api.export_certificate(self.h.get(hcon, "con"), bool(sign))

    def op_export_public_key(self, hcon: str, sign: bool) -> bytes:
        return self.api.export_public_key(self.h.get(hcon, "con"), bool(sign))

    # -- asymmetric
    def op_gen_ecc_key_pair(self, hcon: str, alg: int) -> bytes:
        return self.api.gen_ecc_key_pair(self.h.get(hcon, "con"), int(alg))

    def op_import_ecc_key_pair(self, hcon: str, blob: bytearray) -> None:
        self.api.import_ecc_key_pair(self.h.get(hcon, "con"), bytes(blob))

    def op_ecc_sign_data(self, hcon: str, data: bytes) -> bytes:
        return self.api.ecc_sign_data(self.h.get(hcon, "con"), bytes(data))

    def op_ecc_verify(self, hdev: str, pub: bytes, data: bytes, sig: bytes) -> None:
        self.api.ecc_verify(self.h.get(hdev, "dev"), bytes(pub), bytes(data), bytes(sig))

    # -- symmetric
    def op_import_session_key(self, hcon: str, alg: int, wrapped: bytes) -> str:
        return self.h.add(self.api.import_session_key(self.h.get(hcon, "con"), int(alg), bytes(wrapped)),
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

    def op_encrypt(self, hkey: str, data: bytes) -> bytes:
        return self.api.encrypt(self.h.get(hkey, "key"), bytes(data))


def _wire(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, TokenError):
        return exc.to_wire()
    if isinstance(exc, BidSealError):
        return {"cls": "TokenError", "code": exc.code, "zh": exc.zh, "en": exc.en, "details": exc.details}
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
            args = protocol.decode(msg.get("args") or [], mutable=True)
            try:
                result = d.run(str(msg.get("op")), args)
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
    parser = argparse.ArgumentParser(prog="python -m app.token.host")
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
