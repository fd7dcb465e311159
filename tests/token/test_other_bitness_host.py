"""A 32-bit vendor library in a 64-bit installation starts the 32-bit token host the Windows
installer's optional component puts in ``x86/`` - per library, so a 64-bit library (another
CA's key, the virtual UKey) keeps running in the 64-bit host beside it.

No 32-bit interpreter exists on this machine, so the "32-bit host" here is a script that
records how it was started and then runs the real (64-bit) host: the routing is what is
tested, and the real host then judges the library by its own bitness, as a real 32-bit host
would judge a 64-bit one.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from app.token import host_client
from app.token.errors import LibraryWrongBitness
from app.token.host_client import TokenHost, host_command, other_bitness_host
from app.token.registry import softskf_path

from .test_token_loader import _elf32
from .test_token_pe_header import _pe

REPO = Path(__file__).resolve().parents[2]


def _install(tmp_path: Path) -> tuple[Path, Path]:
    """An installation folder with bidseal (the 'running executable') and x86/bidseal-token-host."""
    app_dir = tmp_path / "BidSeal"
    (app_dir / "x86").mkdir(parents=True)
    me = app_dir / "bidseal"
    me.write_text("#!/bin/sh\n")
    log = tmp_path / "x86-host.log"
    host = app_dir / "x86" / "bidseal-token-host"
    host.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n'
                    f'PYTHONPATH="{REPO}" exec "{sys.executable}" -m app.token.host "$@"\n')
    host.chmod(host.stat().st_mode | stat.S_IXUSR)
    return me, log


def test_a_32bit_library_is_given_the_x86_host_and_a_64bit_one_is_not(tmp_path: Path) -> None:
    me, _ = _install(tmp_path)
    dirs = [me.parent]
    assert other_bitness_host(_elf32(tmp_path / "libgm3000.so"), dirs) == me.parent / "x86" / "bidseal-token-host"
    assert other_bitness_host(softskf_path(), dirs) is None  # fits this process
    assert other_bitness_host(tmp_path / "missing.so", dirs) is None  # probe_library says why
    text = tmp_path / "skf.so"
    text.write_text("not a library")
    assert other_bitness_host(text, dirs) is None
    assert other_bitness_host(_elf32(tmp_path / "other.so"), [tmp_path / "nowhere"]) is None


def test_the_windows_header_of_a_32bit_dll_selects_the_x86_host_too(tmp_path: Path) -> None:
    me, _ = _install(tmp_path)
    dll = _pe(tmp_path / "mtoken_gm3000.dll", 0x14C)
    assert other_bitness_host(dll, [me.parent]) == me.parent / "x86" / "bidseal-token-host"
    assert other_bitness_host(_pe(tmp_path / "SKFAPI30373.dll", 0x8664), [me.parent]) is None


def test_token_host_starts_the_x86_host_for_a_32bit_library_only(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    me, log = _install(tmp_path)
    for var in ("BIDSEAL_TOKEN_HOST", "BIDSEAL_TOKEN_HOST_PYTHON"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "executable", str(me))
    lib = _elf32(tmp_path / "libgm3000.1.0.so")
    argv, _env, same = host_command(None, lib)
    assert argv == [str(me.parent / "x86" / "bidseal-token-host")] and same is False
    with pytest.raises(LibraryWrongBitness) as info:
        TokenHost(lib).start()
    # The x86 host was started with the library; the refusal is the host's own verdict.
    assert f"--library {lib}" in log.read_text()
    assert info.value.details["library_bits"] == 32
    # A library of this process's bitness never goes to the x86 host.
    assert host_command(None, softskf_path())[0][0] != str(me.parent / "x86" / "bidseal-token-host")


def test_without_the_x86_host_the_bidder_is_told_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(LibraryWrongBitness) as info:
        TokenHost(_elf32(tmp_path / "libgm3000.so")).start()
    assert "32 位 UKey 驱动支持" in info.value.zh and "32-bit UKey driver support" in info.value.en
    assert host_client.OTHER_BITNESS_DIRS[32] == "x86"
