"""Fixtures for the diagnostics tests: the virtual UKey (real SKF library through the
token host), a private BIDSEAL_HOME per test, a fake-free SNTP server on localhost."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.token.device import find_identity
from app.token.identity import Identity
from app.token.softkey import init_softkey, plug, unplug
from tests.support import softkey as virtual_ukey
from tests.support.softkey import ADMIN_PIN, USER_PIN

softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store
pool = virtual_ukey.pool


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BIDSEAL_CONFIG", raising=False)
    return tmp_path / "home"


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("diag-pki")


def provision(store: Path, pki_dir: Path, label: str, softskf_lib: str) -> Identity:
    init_softkey(store, label, USER_PIN, ADMIN_PIN, pki_dir)
    return find_identity(softskf_lib, label)


@pytest.fixture(scope="module")
def ukey(store, pki_dir, softskf_lib) -> Identity:
    """One plugged-in virtual key for the module (label DIAG-A)."""
    return provision(store, pki_dir, "DIAG-A", softskf_lib)


@pytest.fixture()
def unplugged(store, ukey) -> Iterator[None]:
    """Every virtual key of the store pulled out for one test, then plugged back."""
    labels = [p.parent.name for p in store.glob("*/present")]
    for label in labels:
        unplug(store, label)
    try:
        yield
    finally:
        for label in labels:
            plug(store, label)


class NtpServer:
    """A tiny real SNTP server on 127.0.0.1 answering with its clock shifted by ``offset``."""

    def __init__(self, offset: float = 0.0, echo_origin: bool = True) -> None:
        self.offset = offset
        self.echo_origin = echo_origin
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @staticmethod
    def _ts(t: float) -> bytes:
        return struct.pack("!II", int(t) + 2208988800, int((t % 1) * 2**32))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                continue
            now = time.time() + self.offset
            origin = data[40:48] if self.echo_origin else bytes(8)
            reply = bytes([0x24, 2, 6, 0xEC]) + bytes(8) + b"LOCL" + self._ts(now) + origin \
                + self._ts(now) + self._ts(now)
            self.sock.sendto(reply, peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture()
def ntp_server():
    servers: list[NtpServer] = []

    def start(offset: float = 0.0, echo_origin: bool = True) -> NtpServer:
        s = NtpServer(offset, echo_origin)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


@pytest.fixture()
def readonly_folder(tmp_path) -> Iterator[Path]:
    from tests.support.small_disk import readonly_folder as ro

    with ro(tmp_path / "readonly") as (folder, _how):
        yield folder
