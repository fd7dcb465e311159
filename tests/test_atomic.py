"""Outputs appear whole or not at all."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.atomic import AtomicFile, write_atomic


def test_commit_renames_and_sets_mode(tmp_path: Path) -> None:
    dst = tmp_path / "key.pem"
    write_atomic(dst, b"secret", private=True)
    assert dst.read_bytes() == b"secret"
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600
    write_atomic(dst, b"public")
    assert stat.S_IMODE(dst.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["key.pem"]


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


def test_same_file_sees_links(tmp_path: Path) -> None:
    from app.atomic import same_file

    a = tmp_path / "bid.pdf"
    a.write_bytes(b"x")
    (tmp_path / "hard.pdf").hardlink_to(a)
    (tmp_path / "soft.pdf").symlink_to(a)
    assert same_file(a, a) and same_file(a, tmp_path / "hard.pdf") and same_file(a, tmp_path / "soft.pdf")
    assert not same_file(a, tmp_path / "other.pdf")
    (tmp_path / "copy.pdf").write_bytes(b"x")
    assert not same_file(a, tmp_path / "copy.pdf")
