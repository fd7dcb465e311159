"""Build native/softskf and run its C test suite: plain, under ASan/UBSan,
and under valgrind (leak check). Thin wrapper only: the checks live in
native/softskf/tests/test_softskf.c."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOFTSKF = ROOT / "native" / "softskf"
BUILD = SOFTSKF / "build"

# The bootstrap installs make, gcc and valgrind; their absence is a set-up failure, not a skip.
assert shutil.which("make") and shutil.which("cc"), "needs make and a C compiler (installer/bootstrap.sh)"


def _env(tmp_path: Path, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(extra or {})
    env.pop("SOFTSKF_FAULTS", None)
    env.pop("SOFTSKF_STORE", None)  # the C test makes its own temporary store
    env["TMPDIR"] = str(tmp_path)
    return env


def _run(
    cmd: list[str], tmp_path: Path, timeout: int, extra: dict | None = None
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        cmd, cwd=SOFTSKF, env=_env(tmp_path, extra), capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout ---\n{proc.stdout[-6000:]}"
            f"\n--- stderr ---\n{proc.stderr[-12000:]}"
        )
    return proc


@pytest.fixture(scope="module")
def built() -> Path:
    proc = subprocess.run(
        ["make", "-C", str(SOFTSKF), "all", "build/test_softskf", "check-exports"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lib = BUILD / "libsoftskf.so"
    assert lib.is_file()
    return lib


def test_c_suite(built: Path, tmp_path: Path) -> None:
    proc = _run([str(BUILD / "test_softskf"), str(built)], tmp_path, timeout=120)
    assert "OK:" in proc.stderr


def test_c_suite_asan(tmp_path: Path) -> None:
    build = subprocess.run(
        ["make", "-C", str(SOFTSKF), "asan"], capture_output=True, text=True, timeout=300
    )
    assert build.returncode == 0, build.stdout + build.stderr
    proc = _run(
        [str(BUILD / "asan" / "test_softskf"), str(BUILD / "asan" / "libsoftskf.so")],
        tmp_path,
        timeout=180,
        extra={"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0"},
    )
    assert "OK:" in proc.stderr


def test_c_suite_valgrind(built: Path, tmp_path: Path) -> None:
    assert shutil.which("valgrind"), "valgrind is installed by installer/bootstrap.sh"
    proc = _run(
        [
            "valgrind",
            "-q",
            "--error-exitcode=1",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            str(BUILD / "test_softskf"),
            str(built),
        ],
        tmp_path,
        timeout=240,
    )
    assert "OK:" in proc.stderr
