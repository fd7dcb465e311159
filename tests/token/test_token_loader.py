"""Loading a library: the header, checks before loading, and clear errors for bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.token import protocol
from app.token.errors import LibraryMissing, LibraryWrongBitness, NotAnSkfLibrary
from app.token.host_client import TokenHost
from app.token.registry import candidates, softskf_path
from app.token.skf_ffi import cdef_sources, get_ffi, header_path, probe_library, read_binary_info

REPO = Path(__file__).resolve().parents[2]


def test_struct_layout_matches_the_standard() -> None:
    ffi = get_ffi()
    assert ffi.sizeof("DEVINFO") == 294 and ffi.offsetof("DEVINFO", "AlgSymCap") == 198
    assert ffi.sizeof("ECCPUBLICKEYBLOB") == 132
    assert ffi.sizeof("ECCCIPHERBLOB") == 165
    assert ffi.sizeof("BLOCKCIPHERPARAM") == 44
    assert ffi.offsetof("ENVELOPEDKEYBLOB", "PubKey") == 76
    assert ffi.offsetof("ENVELOPEDKEYBLOB", "ECCCipherBlob") == 208


def test_devapi_becomes_stdcall_on_windows_only() -> None:
    text = header_path().read_text(encoding="utf-8")
    _, win = cdef_sources(text, windows=True)
    _, posix = cdef_sources(text, windows=False)
    assert "ULONG __stdcall SKF_EnumDev" in win
    assert "DEVAPI" not in posix and "__stdcall" not in posix


def _elf32(path: Path) -> Path:
    head = bytearray(64)
    head[:4] = b"\x7fELF"
    head[4] = 1  # EI_CLASS = ELFCLASS32
    head[5] = 1  # little endian
    head[6] = 1
    head[16:18] = (3).to_bytes(2, "little")  # ET_DYN
    head[18:20] = (3).to_bytes(2, "little")  # EM_386
    path.write_bytes(bytes(head) + b"\0" * 256)
    return path


def test_missing_library_is_reported_before_spawning(tmp_path: Path) -> None:
    with pytest.raises(LibraryMissing) as info:
        TokenHost(tmp_path / "mtoken_gm3000.so").start()
    assert "mtoken_gm3000.so" in info.value.zh and "driver" in info.value.en


def test_32bit_elf_is_wrong_bitness(tmp_path: Path) -> None:
    lib = _elf32(tmp_path / "libgm3000.1.0.so")
    assert read_binary_info(lib).bits == 32  # type: ignore[union-attr]
    with pytest.raises(LibraryWrongBitness) as info:
        TokenHost(lib).start()
    exc = info.value
    assert "32 位" in exc.zh and "32-bit" in exc.en and "64-bit" in exc.en
    assert exc.details["library_bits"] == 32 and exc.details["host_bits"] == 64


def test_host_itself_refuses_a_32bit_library(tmp_path: Path) -> None:
    """The host judges bitness by its own interpreter (a configured 32-bit Python may differ)."""
    lib = _elf32(tmp_path / "x.so")
    proc = subprocess.run([sys.executable, "-m", "app.token.host", "--library", str(lib)], cwd=REPO,
                          capture_output=True, timeout=60)
    import io

    msg = protocol.read_frame(io.BytesIO(proc.stdout))
    assert msg is not None and msg["hello"] is None
    assert msg["error"]["cls"] == "LibraryWrongBitness"
    assert proc.returncode == 3


def test_a_program_is_not_an_skf_library() -> None:
    with pytest.raises(NotAnSkfLibrary) as info:
        TokenHost("/bin/ls").start()
    assert "/bin/ls" in info.value.zh


def test_libc_lacks_the_skf_functions() -> None:
    libc = next(p for p in (Path("/lib/x86_64-linux-gnu/libc.so.6"), Path("/usr/lib/x86_64-linux-gnu/libc.so.6"),
                            Path("/lib64/libc.so.6")) if p.exists())
    with pytest.raises(NotAnSkfLibrary) as info:
        TokenHost(libc).start()
    assert "SKF_EnumDev" in info.value.details["missing"]


def test_text_file_is_not_a_library(tmp_path: Path) -> None:
    f = tmp_path / "skf.dll"
    f.write_text("hello")
    with pytest.raises(NotAnSkfLibrary):
        probe_library(f)


def test_softskf_loads_like_a_vendor_library(softskf_lib: str) -> None:
    with TokenHost(softskf_lib) as host:
        hello = host.start()
        assert hello["bits"] == 64 and hello["format"] == "ELF"
        assert host.pid != __import__("os").getpid()  # never in the caller's process
        assert host.call("ping") == "pong"


def test_candidates_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BIDSEAL_SKF_LIB", f"/a/libskf.so{__import__('os').pathsep}/b/libes_3000gm.so.1.0.0")
    got = candidates()
    assert [c.path for c in got] == ["/a/libskf.so", "/b/libes_3000gm.so.1.0.0"]
    assert all("BIDSEAL_SKF_LIB" in c.reason for c in got)


def test_candidates_config_vendor_and_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BIDSEAL_SKF_LIB", raising=False)
    monkeypatch.delenv("BIDSEAL_SOFTSKF_LIB", raising=False)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"token": {"libraries": ["/opt/ca/libskf.so"], "softskf": True}}))
    vendor_dir = tmp_path / "lib"
    vendor_dir.mkdir()
    (vendor_dir / "libgm3000.1.0.so").write_bytes(b"x")
    got = candidates(config=cfg, vendor_dirs=[vendor_dir])
    assert [c.source for c in got] == ["config", "vendor", "embedded"]
    assert "Longmai" in got[1].reason
    assert got[2].path == str(softskf_path()) and got[2].is_demo and "DEMO" in got[2].reason
    # nothing configured and no vendor library: still no virtual key unless it was enabled
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BIDSEAL_SOFTKEY", raising=False)
    cfg.write_text("{}")
    assert candidates(config=cfg, vendor_dirs=[tmp_path / "empty"]) == []
