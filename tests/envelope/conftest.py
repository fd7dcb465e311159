"""Fixtures for the envelope tests: a demo PKI (bidder + trading centre), helpers to
write plaintexts and locate records inside an envelope."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.demo.pki import DemoPKI, demo_pki
from app.envelope import format as fmt
from app.gm.keyops import SoftwareUnwrapper
from app.token.device import find_identity
from app.token.identity import Identity
from app.token.softkey import init_softkey
from tests.support import softkey as virtual_ukey
from tests.support.softkey import ADMIN_PIN, USER_PIN

# the shared virtual-UKey fixtures (libsoftskf, a store per module, a private host pool)
softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store
pool = virtual_ukey.pool


@pytest.fixture(scope="session")
def pki() -> DemoPKI:
    return demo_pki()


@pytest.fixture(scope="session")
def other_pki() -> DemoPKI:
    """A second bidder from another CA (for 'not a recipient')."""
    return demo_pki(unit_name="大连另一家投标有限公司", root_name="Other Demo CA")


@pytest.fixture()
def bidder(pki: DemoPKI) -> SoftwareUnwrapper:
    return pki.unwrapper()


@pytest.fixture()
def make_file(tmp_path: Path) -> Callable[[int, str], Path]:
    def make(size: int, name: str = "bid.bin") -> Path:
        p = tmp_path / name
        p.write_bytes(os.urandom(size))
        return p

    return make


@dataclass(frozen=True)
class Layout:
    """Where things are inside an envelope file (computed independently of the engine)."""

    header_len: int
    chunk_size: int
    plaintext_size: int

    @property
    def payload_start(self) -> int:
        return fmt.PREAMBLE_SIZE + self.header_len + fmt.HEADER_MAC_SIZE

    @property
    def n(self) -> int:
        return max(1, -(-self.plaintext_size // self.chunk_size))

    def record(self, i: int) -> tuple[int, int]:
        """(offset, length including the tag) of data record i."""
        start = self.payload_start + i * (self.chunk_size + fmt.TAG_SIZE)
        length = min(self.chunk_size, self.plaintext_size - i * self.chunk_size) + fmt.TAG_SIZE
        return start, length

    @property
    def trailer(self) -> int:
        off, length = self.record(self.n - 1)
        return off + length


def layout(path: Path) -> Layout:
    data = path.read_bytes()
    _magic, _v, _f, hlen = struct.unpack(">8sHHI", data[:16])
    header = fmt.parse_header(data[: 16 + hlen])
    return Layout(hlen, header.chunk_size, header.plaintext_size)


def flip(path: Path, offset: int, bit: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    """Files in ``folder`` other than ``keep`` (temp files, partial outputs)."""
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# -- the virtual UKey (native/softskf through app.token) -------------------------------

PIN = USER_PIN


@pytest.fixture(scope="module")
def ukey(store, softskf_lib, tmp_path_factory) -> Identity:
    pki_dir = tmp_path_factory.mktemp("ukey-pki")
    init_softkey(store, "ENV-KEY", PIN, ADMIN_PIN, pki_dir)
    return find_identity(softskf_lib, "ENV-KEY")
