"""Fetching the offered package: all of it, exactly it, or nothing.

The package is streamed into an :class:`app.atomic.AtomicFile` in the chosen folder
while its size and SM3 are checked: more bytes than the signed manifest declares stop
the download at once, and the file gets its real name only when both the size and the
SM3 match. A mismatch, a broken connection or a cancel discards the temporary file, so
nothing half-downloaded or altered is ever left under an installer's name. Nothing is
installed or started: the bidder (or an administrator) runs the installer.
"""

from __future__ import annotations

import hmac
from pathlib import Path

from app.atomic import AtomicFile
from app.cancel import Cancel
from app.gm.sm3 import SM3
from app.progress import Progress, Stage
from app.update.errors import PackageMismatch, UpdateRefused
from app.update.fetch import iter_body, open_stream
from app.update.manifest import Package

DOWNLOAD_TIMEOUT = 30.0


def _file_matches(path: Path, package: Package) -> bool:
    """True when ``path`` already holds exactly the package (a download repeated)."""
    try:
        if not path.is_file() or path.stat().st_size != package.size:
            return False
        h = SM3()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        return hmac.compare_digest(h.hexdigest(), package.sm3)
    except OSError:
        return False


def download_package(package: Package, folder: str | Path, *, timeout: float = DOWNLOAD_TIMEOUT,
                     progress: Progress | None = None, cancel: Cancel | None = None) -> Path:
    """Download ``package`` into ``folder`` under its manifest name; returns the path.

    Raises :class:`~app.update.errors.PackageMismatch` (size or SM3), an
    :class:`~app.update.errors.UpdateError` for the network, :class:`app.atomic.OutputExists`
    when another file has that name, :class:`app.cancel.OperationCancelled`; in every
    case nothing is left behind."""
    dst = Path(folder) / package.name
    if _file_matches(dst, package):
        if progress:
            progress(package.size, package.size, Stage.DONE)
        return dst
    with AtomicFile(dst, replace=False) as out, open_stream(package.url, timeout=timeout) as resp:
        h = SM3()
        done = 0
        try:
            for chunk in iter_body(resp, package.url, limit=package.size, cancel=cancel):
                out.file.write(chunk)
                h.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, package.size, Stage.DIGEST)
        except UpdateRefused as exc:  # longer than the signed size: stopped at the limit
            raise PackageMismatch("size", f"服务器发送的安装包大于更新清单声明的 {package.size} 字节，已中止，未保存。",
                                  f"The server sent more than the {package.size} bytes the update manifest declares; "
                                  "the download was stopped and nothing was kept.", expected=package.size) from exc
        if done != package.size:
            raise PackageMismatch("size", f"安装包下载不完整（{done} / {package.size} 字节），未保存。",
                                  f"The package download is incomplete ({done} of {package.size} bytes); "
                                  "nothing was kept.", got=done, expected=package.size)
        if not hmac.compare_digest(h.hexdigest(), package.sm3):
            raise PackageMismatch("sm3", "安装包的 SM3 与签名的更新清单不符（可能被篡改），未保存。",
                                  "The package's SM3 does not match the signed update manifest (it may have "
                                  "been altered); nothing was kept.", got=h.hexdigest(), expected=package.sm3)
        if progress:
            progress(done, package.size, Stage.FINISH)
        out.commit()
    return dst
