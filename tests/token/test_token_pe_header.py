"""A 32-bit Windows DLL (the common case for vendor SKF drivers) is refused by bitness."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from app.token.errors import LibraryWrongBitness
from app.token.skf_ffi import probe_library, read_binary_info


def _pe(path: Path, machine: int) -> Path:
    """Smallest file with a DOS stub pointing at a PE signature and a COFF machine field."""
    dos = bytearray(64)
    dos[:2] = b"MZ"
    dos[60:64] = struct.pack("<I", 64)
    path.write_bytes(bytes(dos) + b"PE\0\0" + struct.pack("<H", machine) + bytes(18))
    return path


def test_32bit_dll_is_wrong_bitness_for_a_64bit_process(tmp_path: Path) -> None:
    dll = _pe(tmp_path / "mtoken_gm3000.dll", 0x14C)
    info = read_binary_info(dll)
    assert info is not None and (info.format, info.bits, info.machine) == ("PE", 32, "x86")
    with pytest.raises(LibraryWrongBitness) as exc:
        probe_library(dll)
    assert "32" in exc.value.zh and "32-bit" in exc.value.en


def test_64bit_dll_header_is_read_as_such(tmp_path: Path) -> None:
    info = read_binary_info(_pe(tmp_path / "SKFAPI30373.dll", 0x8664))
    assert info is not None and (info.format, info.bits, info.machine) == ("PE", 64, "x86_64")
