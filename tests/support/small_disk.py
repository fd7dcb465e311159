"""Small or read-only real file systems for fault tests (disk full, unwritable folder).

As root (the CI container and this machine) these are real tmpfs mounts: a write past
the size fails in the kernel with ENOSPC, a read-only mount with EROFS. Without root a
mount is impossible, so :func:`small_disk` falls back to ``RLIMIT_FSIZE`` (the kernel
refuses writes past the limit with EFBIG; Python ignores SIGXFSZ) and
:func:`readonly_folder` to a folder without write permission. Each yields ``how`` so a
test can say which one it exercised.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path


def can_mount() -> bool:
    return os.geteuid() == 0


def _mount(target: Path, options: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True,
                   capture_output=True, timeout=30)


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True, timeout=30)


@contextlib.contextmanager
def small_disk(folder: Path, size_bytes: int) -> Iterator[tuple[Path, str]]:
    """``folder`` with only about ``size_bytes`` of room: (path, "tmpfs" | "rlimit")."""
    folder.mkdir(parents=True, exist_ok=True)
    if can_mount():
        _mount(folder, f"size={max(size_bytes, 4096)},mode=0700")
        try:
            yield folder, "tmpfs"
        finally:
            _umount(folder)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size_bytes, hard))
    try:
        yield folder, "rlimit"
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@contextlib.contextmanager
def readonly_folder(folder: Path) -> Iterator[tuple[Path, str]]:
    """An existing folder nobody may write to: (path, "tmpfs-ro" | "chmod")."""
    folder.mkdir(parents=True, exist_ok=True)
    if can_mount():
        _mount(folder, "ro,size=64k")
        try:
            yield folder, "tmpfs-ro"
        finally:
            _umount(folder)
        return
    folder.chmod(0o500)
    try:
        yield folder, "chmod"
    finally:
        folder.chmod(0o700)
