"""Input and output paths checked before anything costly (and before the PIN).

* :func:`check_input` - the file exists, is a regular file and can be read;
* :func:`check_output` - the name is usable (UTF-8, not too long), the output is not a
  device/FIFO/socket/folder, an existing file is replaced only with ``--force`` or
  after a "yes" on the terminal, and the folder really accepts a new file (a
  temporary file is created and removed);
* :func:`check_output_folder` - the same for a batch output folder.

Each failure is a :class:`app.errors.BidSealError` with code ``ERR_IO``,
``ERR_FILE_NAME``, ``ERR_OUTPUT_EXISTS`` or ``ERR_OUTPUT_NOT_A_FILE``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from app.atomic import AtomicFile, OutputExists
from app.atomic import check_output as _check_output
from app.cli.common import ask_yes_no, shown
from app.errors import BidSealError

#: a file name longer than this (bytes, one path component) is refused before any work
MAX_NAME_BYTES = 255


class FileNameError(BidSealError):
    code = "ERR_FILE_NAME"


class CliIOError(BidSealError):
    code = "ERR_IO"


def _io_error(path: Path | str, exc: OSError, zh_what: str, en_what: str) -> BidSealError:
    if exc.errno == errno.ENAMETOOLONG:
        return _too_long(path)
    reason = exc.strerror or str(exc)
    return CliIOError(f"无法{zh_what} {shown(path)}：{reason}。", f"Cannot {en_what} {shown(path)}: {reason}.",
                      details={"path": shown(path), "errno": exc.errno})


def _too_long(path: Path | str) -> FileNameError:
    return FileNameError(
        f"文件名过长（单个名称最多 {MAX_NAME_BYTES} 字节）：{shown(path)[:80]}…。请换一个短一些的名称。",
        f"The file name is too long (at most {MAX_NAME_BYTES} bytes per name): {shown(path)[:80]}... "
        "Choose a shorter name.",
        details={"path": shown(path)},
    )


def check_name(path: Path | str, *, creating: bool) -> None:
    """Refuse names BidSeal should not create: not valid UTF-8, or a component too long."""
    text = os.fspath(path)
    for part in Path(text).parts:
        try:
            size = len(part.encode("utf-8"))
        except UnicodeEncodeError:
            if not creating:
                continue
            raise FileNameError(
                f"输出文件名 {shown(path)} 不是有效的 UTF-8 文本（含无法显示的字节），BidSeal 不会用它创建文件，"
                "以免上传平台无法识别。请换一个文件名。",
                f"The output file name {shown(path)} is not valid UTF-8 (it holds bytes that cannot be shown); "
                "BidSeal will not create a file under it, as an upload platform could not read it. "
                "Choose another name.",
                details={"path": shown(path)},
            ) from None
        if size > MAX_NAME_BYTES:
            raise _too_long(path)


def check_input(path: Path | str) -> Path:
    """The input exists, is a regular file and can be opened for reading."""
    p = Path(path)
    check_name(p, creating=False)
    try:
        st = os.stat(p)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise CliIOError(f"找不到文件 {shown(p)}。", f"The file {shown(p)} does not exist.",
                             details={"path": shown(p)}) from None
        raise _io_error(p, exc, "读取文件", "read the file") from None
    if not stat.S_ISREG(st.st_mode):
        raise CliIOError(f"{shown(p)} 不是普通文件。", f"{shown(p)} is not a regular file.",
                         details={"path": shown(p)})
    try:
        with open(p, "rb"):
            pass
    except OSError as exc:
        raise _io_error(p, exc, "读取文件", "read the file") from None
    return p


def confirm_replace(path: Path, force: bool, *, interactive: bool = True) -> bool:
    """Whether an existing ``path`` may be replaced: ``--force``, or "yes" on a terminal.

    Raises :class:`app.atomic.OutputExists` otherwise (and OutputNotAFile for devices)."""
    try:
        return _check_output(path, replace=force)
    except OutputExists:
        if interactive and ask_yes_no(f"{shown(path)} 已存在，是否替换？/ already exists; replace it? [y/N] "):
            return True
        raise


def probe_folder(folder: Path) -> None:
    """The folder exists and accepts a new file (created and removed at once)."""
    if not folder.is_dir():
        raise CliIOError(f"输出文件夹 {shown(folder)} 不存在。", f"The output folder {shown(folder)} does not exist.",
                         details={"folder": shown(folder)})
    try:
        with AtomicFile(folder / ".bidseal-probe"):
            pass  # created and removed: the folder accepts new files
    except OSError as exc:
        raise _io_error(folder, exc, "在此文件夹中写入", "write into the folder") from None


def check_output(path: Path | str, *, force: bool = False, interactive: bool = True,
                 source: Path | str | None = None) -> bool:
    """Everything about an output file that can fail before the work starts.

    Returns True when an existing file will be replaced (``--force`` or confirmed)."""
    p = Path(path)
    check_name(p, creating=True)
    if source is not None:
        from app.atomic import same_file

        if same_file(source, p):
            raise CliIOError("输出文件不能与输入文件相同：原文件必须保持不变，请另选输出文件名。",
                             "The output file must differ from the input: the original is never modified. "
                             "Choose another output name.",
                             code="ERR_OUTPUT_IS_INPUT", details={"path": shown(p)})
    replace = confirm_replace(p, force, interactive=interactive)
    probe_folder(p.parent if str(p.parent) else Path("."))
    return replace


def check_output_folder(folder: Path | str) -> Path:
    """A batch output folder: a folder (created if missing), writable; never an existing file."""
    p = Path(folder)
    check_name(p, creating=True)
    if p.exists() and not p.is_dir():
        raise CliIOError(
            f"批量输出位置 {shown(p)} 是一个已存在的文件，不是文件夹。请指定一个文件夹。",
            f"The batch output {shown(p)} is an existing file, not a folder. Give a folder.",
            details={"path": shown(p)},
        )
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _io_error(p, exc, "创建输出文件夹", "create the output folder") from None
    probe_folder(p)
    return p


def read_input(path: Path | str) -> bytes:
    """The whole content of a small input (a certificate, a key, a seal picture)."""
    p = check_input(path)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise _io_error(p, exc, "读取文件", "read the file") from None
