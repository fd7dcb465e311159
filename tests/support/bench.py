"""Helpers shared by the benchmark scripts in tests/benchmarks (also run as plain scripts,
which put the repository on ``sys.path`` before importing this)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any


def openssl_command() -> str:
    """The ``openssl`` command line, the benchmarks' baseline (required)."""
    exe = shutil.which("openssl")
    if not exe:
        raise RuntimeError("openssl command line is required")
    return exe


def run_json_child(cmd: list[str], cwd: Path) -> dict[str, Any]:
    """Run a benchmark child process; the last line it prints is its JSON report."""
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stdout}\n{proc.stderr}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def parse_size(text: str) -> int:
    """``"64K"``, ``"10M"``, ``"1GiB"``, ``"4096"`` -> bytes (the scripts' size options)."""
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text and text[-1] in mult:
        return int(float(text[:-1]) * mult[text[-1]])
    return int(text)
