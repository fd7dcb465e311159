"""Outputs appear whole or not at all, never over a device, and leave no temp file for long."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app import atomic
from app.atomic import (
    AtomicFile,
    OutputExists,
    OutputNotAFile,
    check_output,
    same_file,
    sweep_folder,
    sweep_journal,
    write_atomic,
)

REPO = Path(__file__).resolve().parents[1]


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(atomic.TEMP_PREFIX))


def test_commit_renames_and_sets_modes(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic._umask = None  # re-read: this test changes it
        dst = tmp_path / "key.pem"
        write_atomic(dst, b"secret", private=True)
        assert dst.read_bytes() == b"secret"
        assert stat.S_IMODE(dst.stat().st_mode) == 0o600
        # a replaced file keeps its mode (a private file is never widened)
        write_atomic(dst, b"public")
        assert stat.S_IMODE(dst.stat().st_mode) == 0o600
        fresh = tmp_path / "bid.pdf"
        write_atomic(fresh, b"public")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o640  # 0666 & ~umask, not 0600
    finally:
        os.umask(old)
        atomic._umask = None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bid.pdf", "key.pem"]


def test_temp_file_is_private_and_named_for_its_writer(tmp_path: Path) -> None:
    with AtomicFile(tmp_path / "out.pdf") as out:
        out.file.write(b"plaintext")
        assert stat.S_IMODE(out.path.stat().st_mode) == 0o600
        assert out.path.name.startswith(f".bidseal-{os.getpid()}-") and out.path.suffix == ".part"
        # a running writer's file is never swept, not even by itself
        assert sweep_folder(tmp_path, force=True) == []
        assert sweep_journal() == []
        assert out.path.exists()
    assert _temps(tmp_path) == []


def test_failure_leaves_nothing_and_keeps_the_old_file(tmp_path: Path) -> None:
    dst = tmp_path / "bid.pdf"
    dst.write_bytes(b"old")
    with pytest.raises(RuntimeError), AtomicFile(dst) as out:
        out.file.write(b"half")
        raise RuntimeError("disk unplugged")
    assert dst.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["bid.pdf"]


def test_missing_folder_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write_atomic(tmp_path / "no" / "such" / "x", b"x")


def test_existing_output_is_kept_unless_replace(tmp_path: Path) -> None:
    dst = tmp_path / "bid.pdf"
    dst.write_bytes(b"the original")
    with pytest.raises(OutputExists) as exc:
        write_atomic(dst, b"new", replace=False)
    assert exc.value.code == "ERR_OUTPUT_EXISTS" and "--force" in exc.value.zh and "--force" in exc.value.en
    assert dst.read_bytes() == b"the original" and _temps(tmp_path) == []


def test_output_appearing_during_the_write_is_not_replaced(tmp_path: Path) -> None:
    dst = tmp_path / "bid.pdf"
    out = AtomicFile(dst, replace=False)
    out.file.write(b"ours")
    dst.write_bytes(b"someone else's")  # created while we were writing
    with pytest.raises(OutputExists):
        out.commit()
    assert dst.read_bytes() == b"someone else's" and _temps(tmp_path) == []


@pytest.mark.parametrize("kind", ["directory", "fifo", "socket", "device", "link-to-device"])
def test_special_outputs_are_refused(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out"
    sock = None
    if kind == "directory":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
    elif kind == "device":
        target = Path(os.devnull)
    else:
        target.symlink_to(os.devnull)
    try:
        before = os.stat(target)
        for replace in (False, True):
            with pytest.raises(OutputNotAFile) as exc:
                write_atomic(target, b"x", replace=replace)
            assert exc.value.code == "ERR_OUTPUT_NOT_A_FILE"
            assert "不是普通文件" in exc.value.zh and "not a regular file" in exc.value.en
        after = os.stat(target)
        assert (before.st_ino, before.st_mode) == (after.st_ino, after.st_mode)
    finally:
        if sock is not None:
            sock.close()
    assert _temps(tmp_path) == [] and _temps(Path(os.devnull).parent) == []


def test_device_appearing_before_commit_is_not_replaced(tmp_path: Path) -> None:
    dst = tmp_path / "out.bin"
    out = AtomicFile(dst)
    out.file.write(b"data")
    os.mkfifo(dst)
    with pytest.raises(OutputNotAFile):
        out.commit()
    assert stat.S_ISFIFO(os.lstat(dst).st_mode) and _temps(tmp_path) == []


def test_check_output_reports_existing(tmp_path: Path) -> None:
    assert check_output(tmp_path / "new.pdf") is False
    (tmp_path / "old.pdf").write_bytes(b"x")
    assert check_output(tmp_path / "old.pdf", replace=True) is True


_WRITER = textwrap.dedent("""
    import sys, time
    from app.atomic import AtomicFile
    out = AtomicFile(sys.argv[1], private=True)
    out.file.write(b"secret plaintext" * 4096)
    print(out.path, flush=True)
    time.sleep(60)
""")


def _killed_writer(dst: Path, sig: int = signal.SIGKILL) -> Path:
    """A BidSeal process that was killed while writing ``dst``: its temp file path."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(dst)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    temp = Path(proc.stdout.readline().strip())
    assert temp.exists() and stat.S_IMODE(temp.stat().st_mode) == 0o600
    proc.send_signal(sig)
    proc.wait(10)
    return temp


def test_next_run_removes_a_killed_writers_temp_file(tmp_path: Path) -> None:
    temp = _killed_writer(tmp_path / "bid.pdf")
    assert temp.exists()  # SIGKILL: nothing could clean up
    removed = sweep_folder(tmp_path, force=True)
    assert removed == [temp] and not temp.exists()


def test_journal_removes_a_killed_decryption_anywhere(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    temp = _killed_writer(folder / "plain.pdf")
    assert temp in sweep_journal()
    assert not temp.exists() and list(folder.iterdir()) == []


def test_a_live_writer_in_another_process_is_left_alone(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path / "x.pdf")], stdout=subprocess.PIPE,
                            text=True, env=env)
    try:
        assert proc.stdout is not None
        temp = Path(proc.stdout.readline().strip())
        os.utime(temp, (time.time() - 3600, time.time() - 3600))  # old, but its writer holds the lock
        assert sweep_folder(tmp_path, force=True) == [] and sweep_journal() == []
        assert temp.exists()
    finally:
        proc.kill()
        proc.wait(10)
    sweep_folder(tmp_path, force=True)
    assert _temps(tmp_path) == []


def test_foreign_files_are_never_swept(tmp_path: Path) -> None:
    keep = [".bidseal-notes.part", ".bidseal-123.part", "bid.pdf.part", ".bidseal-1-xyz.part"]
    for name in keep:
        (tmp_path / name).write_bytes(b"mine")
    assert sweep_folder(tmp_path, force=True) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)


def test_same_file_sees_links(tmp_path: Path) -> None:
    a = tmp_path / "bid.pdf"
    a.write_bytes(b"x")
    (tmp_path / "hard.pdf").hardlink_to(a)
    (tmp_path / "soft.pdf").symlink_to(a)
    assert same_file(a, a) and same_file(a, tmp_path / "hard.pdf") and same_file(a, tmp_path / "soft.pdf")
    assert not same_file(a, tmp_path / "other.pdf")
    (tmp_path / "copy.pdf").write_bytes(b"x")
    assert not same_file(a, tmp_path / "copy.pdf")
