"""Shared helpers for the X.509 / CMS / PKI tests (imported explicitly, not a conftest)."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from app.demo.pki import DemoPKI, demo_pki
from app.gm import sm2


@lru_cache(maxsize=1)
def shared_demo() -> DemoPKI:
    """One demo PKI per test session (key generation is cheap, but keep tests fast)."""
    return demo_pki()


@lru_cache(maxsize=8)
def spare_key(i: int) -> sm2.PrivateKey:
    return sm2.PrivateKey.generate()


def flip(data: bytes, needle: bytes, offset: int = 0) -> bytes:
    """``data`` with one byte changed inside the first occurrence of ``needle``."""
    pos = data.index(needle) + offset
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1:]


def openssl(*args: str | Path, input_: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("openssl")
    assert exe is not None, "the openssl command line is required (installer/bootstrap.sh installs it)"
    proc = subprocess.run([exe, *map(str, args)], input=input_.decode("latin-1") if input_ else None,
                          capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc
