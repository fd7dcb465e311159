"""No leftovers: SIGTERM/SIGHUP cancel like Ctrl-C; after SIGKILL (at random moments) the
next BidSeal run removes the abandoned temporary file, and a decryption's temporary
plaintext is private (0600) while it exists."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REPO, bidseal

SIZE = 48 << 20


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, Path]:
    """(plaintext, envelope, key, cert): a large envelope opened with a software key."""
    root = tmp_path_factory.mktemp("big")
    pki = root / "pki"
    assert bidseal("pki", "demo", "--out", pki).returncode == 0
    plain = root / "bid.bin"
    with open(plain, "wb") as f:
        f.write(os.urandom(SIZE))
    env = root / "bid.bse"
    res = bidseal("encrypt", plain, "-o", env, "--to", pki / "enc-cert.pem", "--yes", "--chunk-size", "65536")
    assert res.returncode == 0, res.stderr
    return plain, env, pki / "enc-key.pem", pki / "enc-cert.pem"


def _temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(".bidseal-"))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _start_decrypt(big: tuple[Path, Path, Path, Path], out: Path) -> subprocess.Popen[bytes]:
    _plain, env, key, cert = big
    return subprocess.Popen([sys.executable, "-m", "app.cli.main", "decrypt", env, "-o", out, "--soft-key", key,
                             "--cert", cert], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)


def _wait_for_temp(folder: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> Path:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = [t for t in _temps(folder) if _size(t) > 0]
        if found:  # the decryption's output (the folder probe is empty and short-lived)
            return found[0]
        assert proc.poll() is None, "the decryption ended before its temporary file was seen"
        time.sleep(0.005)
    raise AssertionError("no temporary file appeared")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_term_and_hup_cancel_like_ctrl_c(big: tuple[Path, Path, Path, Path], tmp_path: Path, sig: int,
                                         code: int) -> None:
    out = tmp_path / "opened.bin"
    proc = _start_decrypt(big, out)
    temp = _wait_for_temp(tmp_path, proc)
    assert stat.S_IMODE(temp.stat().st_mode) == 0o600  # plaintext in progress is private
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err.decode()
    assert "已取消" in err.decode() and "Cancelled" in err.decode() and b"Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file


def test_sigkill_at_random_moments_leaves_nothing_after_the_next_run(big: tuple[Path, Path, Path, Path],
                                                                     tmp_path: Path) -> None:
    plain = big[0]
    rng = random.Random(20260611)
    outcomes = set()
    for i in range(6):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        out = folder / "opened.bin"
        proc = _start_decrypt(big, out)
        if i < 3:
            _wait_for_temp(folder, proc)  # surely in the middle of writing
        time.sleep(rng.uniform(0, 0.4))
        proc.kill()
        proc.wait(30)
        temps = _temps(folder)
        for t in temps:
            assert stat.S_IMODE(t.stat().st_mode) == 0o600
        outcomes.add("temp" if temps else ("done" if out.exists() else "none"))
        # the next BidSeal run (any command, anywhere) removes what the killed one abandoned
        assert bidseal("envelope", "info", big[1], "--json").returncode == 0
        assert _temps(folder) == []
        if out.exists():
            assert out.stat().st_size == plain.stat().st_size  # whole or not at all
    assert "temp" in outcomes


def test_a_run_in_the_same_folder_removes_stale_files_without_the_journal(big: tuple[Path, Path, Path, Path],
                                                                          tmp_path: Path) -> None:
    """Power loss can take the journal with it: a write into the folder still sweeps it."""
    plain, env, key, cert = big
    out = tmp_path / "opened.bin"
    proc = _start_decrypt(big, out)
    temp = _wait_for_temp(tmp_path, proc)
    proc.kill()
    proc.wait(30)
    assert temp.exists()
    home = tmp_path.parent / f"{tmp_path.name}-fresh-home"  # an empty journal
    small = tmp_path / "note.txt"
    small.write_text("x")
    res = bidseal("encrypt", small, "-o", tmp_path / "note.bse", "--to", cert, "--yes",
                  env={"BIDSEAL_HOME": str(home)})
    assert res.returncode == 0, res.stderr
    assert not temp.exists() and _temps(tmp_path) == []
    del plain, env, key
