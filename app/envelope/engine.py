"""The three entry points: :func:`encrypt_file`, :func:`decrypt_file`, :func:`read_info`.

Plain functions, safe to run off the UI thread: no printing, no global state, no Qt.
Progress is reported through ``progress(done, total, stage)`` (:mod:`app.progress`;
plaintext bytes, ``Stage.ENCRYPT`` / ``Stage.DECRYPT``), and a
``cancel`` token (anything with ``is_set()``, e.g. :class:`CancelToken` or a
``threading.Event``) is checked before every chunk.

Output discipline (architecture.md "Rules"):

* the input is only read; the output is written to a hidden temporary file in the
  target folder (``.bidseal-*.part``, mode 0600) and renamed into place only after
  the last record and, on decryption, the plaintext SM3 in the trailer verified;
* on ANY failure (integrity, truncation, wrong key, cancellation, a token error such
  as ``DeviceRemoved``, a full disk, Ctrl-C) the temporary file is removed;
* a chunk's plaintext is written (to the temporary file) only after its GCM tag
  verified.

Speed: one pass, constant memory (a few chunk-sized buffers reused with
``update_into``), SM4-GCM on all cores with SM3 and the writes on their own threads
(:mod:`app.envelope.pipeline`). Measured numbers: ``tests/benchmarks/bench_envelope.py``.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from app.atomic import AtomicFile, same_file
from app.cancel import Cancel, is_cancelled
from app.envelope import format as fmt
from app.envelope.errors import (
    EnvelopeArgumentError,
    EnvelopeCancelled,
    EnvelopeError,
    EnvelopeIntegrityError,
    EnvelopeIOError,
)
from app.envelope.info import EnvelopeInfo
from app.envelope.pipeline import Pipeline, Slot
from app.envelope.recipients import check_recipient, find_matches, make_entry, open_entry
from app.gm import sm4
from app.gm.errors import GMError
from app.gm.keyops import SessionKeyUnwrapper
from app.gm.sm3 import SM3
from app.gm.x509 import Certificate
from app.progress import Progress, Stage

StrPath = str | os.PathLike[str]


# -- helpers ---------------------------------------------------------------------------


def _check_cancel(cancel: Cancel | None) -> None:
    if is_cancelled(cancel):
        raise EnvelopeCancelled("操作已取消，未留下输出文件。",
                                "The operation was cancelled; no output file was left.")


def _io_error(exc: OSError, path: StrPath, what: str) -> EnvelopeIOError:
    zh_what, en_what = {"read": ("读取", "read"), "write": ("写入", "write")}[what]
    return EnvelopeIOError(
        f"无法{zh_what}文件 {os.fspath(path)}：{exc.strerror or exc}。",
        f"Cannot {en_what} file {os.fspath(path)}: {exc.strerror or exc}.",
        path=os.fspath(path), errno=exc.errno,
    )


def _read_exact(f: IO[bytes], view: memoryview, path: Path) -> int:
    """Fill ``view`` from ``f``; returns how many bytes were read (short only at EOF)."""
    got = 0
    n = len(view)
    try:
        while got < n:
            k = f.readinto(view[got:])  # type: ignore[attr-defined]
            if not k:
                break
            got += k
    except OSError as exc:
        raise _io_error(exc, path, "read") from exc
    return got


def _file_size(f: IO[bytes], path: Path) -> int:
    try:
        return os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise _io_error(exc, path, "read") from exc


def _check_distinct(src: Path, dst: Path, **details: Any) -> None:
    """Refuse an output that is the input itself."""
    if same_file(src, dst):
        raise EnvelopeIOError("输出文件不能与输入文件相同。",
                              "The output file must differ from the input file.", **details)


def _open_input(src: Path, dst: Path, cancel: Cancel | None) -> IO[bytes]:
    """Refuse ``dst`` == ``src``, honour ``cancel``, then open ``src`` unbuffered (the caller
    closes it)."""
    _check_distinct(src, dst, path=os.fspath(dst))
    _check_cancel(cancel)
    try:
        return open(src, "rb", buffering=0)
    except OSError as exc:
        raise _io_error(exc, src, "read") from exc


class _Output(AtomicFile):
    """The envelope engine's :class:`app.atomic.AtomicFile`: file errors become
    :class:`EnvelopeIOError` sentences naming ``dst``. Plaintext (``private``) stays 0600;
    an envelope gets the user's normal mode."""

    def __init__(self, dst: Path, *, private: bool, replace: bool = True) -> None:
        try:
            super().__init__(dst, private=private, replace=replace)
        except OSError as exc:
            raise _io_error(exc, dst, "write") from exc

    def commit(self, fsync: bool = True) -> None:
        try:
            super().commit(fsync)
        except OSError as exc:
            raise _io_error(exc, self.dst, "write") from exc


def _slot(pipe: Pipeline, i: int, dst: Path) -> Slot:
    try:
        return pipe.slot(i)
    except OSError as exc:  # a write of an earlier chunk failed (disk full...)
        raise _io_error(exc, dst, "write") from exc


def _drain(pipe: Pipeline, dst: Path) -> None:
    try:
        pipe.drain()
    except OSError as exc:
        raise _io_error(exc, dst, "write") from exc


def _records(pipe: Pipeline, header: fmt.Header, dst: Path, cancel: Cancel | None,
             progress: Progress | None, stage: Stage) -> Iterator[tuple[int, Slot, int, int]]:
    """The data records of ``header`` in order, as (index, slot, plaintext length, AAD kind);
    cancellation is checked before each record and progress reported after it."""
    size, chunk, n = header.plaintext_size, header.chunk_size, header.chunk_count
    done = 0
    if progress:
        progress(0, max(size, 1), stage)
    for i in range(n):
        _check_cancel(cancel)
        slot = _slot(pipe, i, dst)
        length = min(chunk, size - done)
        yield i, slot, length, fmt.KIND_LAST if i == n - 1 else fmt.KIND_DATA
        done += length
        if progress:
            progress(done, max(size, 1), stage)


# -- encryption ------------------------------------------------------------------------


def encrypt_file(
    src: StrPath,
    dst: StrPath,
    recipients: Sequence[Certificate],
    *,
    project_id: str | None = None,
    unit_code: str | None = None,
    chunk_size: int = fmt.DEFAULT_CHUNK_SIZE,
    file_name: str | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    fsync: bool = True,
    now: datetime | None = None,
    workers: int | None = None,
    replace: bool = True,
) -> EnvelopeInfo:
    """Encrypt ``src`` to every certificate in ``recipients`` into the envelope ``dst``.

    Each certificate must be a valid SM2 encryption certificate (see
    :func:`app.envelope.recipients.check_recipient`); duplicates are merged. Returns
    the (authenticated) :class:`EnvelopeInfo`, including the plaintext SM3.
    ``replace=False`` refuses an existing ``dst`` (:class:`app.atomic.OutputExists`).
    """
    src_p, dst_p = Path(src), Path(dst)
    check_metadata(project_id, "项目/标段编号", "project identifier", "--project")
    check_metadata(unit_code, "投标单位代码", "unit code", "--unit-code")
    if not recipients:
        raise EnvelopeError("至少需要一个接收者证书（--to）。",
                            "At least one recipient certificate is needed (--to).")
    if not fmt.MIN_CHUNK_SIZE <= chunk_size <= fmt.MAX_CHUNK_SIZE:
        raise EnvelopeError(
            f"分块大小必须在 {fmt.MIN_CHUNK_SIZE} 到 {fmt.MAX_CHUNK_SIZE} 字节之间。",
            f"The chunk size must be between {fmt.MIN_CHUNK_SIZE} and {fmt.MAX_CHUNK_SIZE} bytes.",
            chunk_size=chunk_size,
        )
    now = now or datetime.now(UTC)
    unique: list[Certificate] = []
    for cert in recipients:
        check_recipient(cert, now)
        if cert not in unique:
            unique.append(cert)
    if len(unique) > fmt.MAX_RECIPIENTS:
        raise EnvelopeError(f"接收者过多（最多 {fmt.MAX_RECIPIENTS} 个）。",
                            f"Too many recipients (at most {fmt.MAX_RECIPIENTS}).")
    fin = _open_input(src_p, dst_p, cancel)
    file_key = bytearray(secrets.token_bytes(fmt.FILE_KEY_SIZE))
    out: _Output | None = None
    try:
        size = _file_size(fin, src_p)
        file_id = secrets.token_bytes(fmt.FILE_ID_SIZE)
        header = fmt.Header(
            file_id=file_id,
            chunk_size=chunk_size,
            plaintext_size=size,
            file_name=_base_name(file_name or src_p.name),
            created_at=now,
            project_id=project_id,
            unit_code=unit_code,
            recipients=tuple(make_entry(c, file_key, file_id) for c in unique),
        )
        raw = fmt.encode_header(header)
        header = fmt.parse_header(raw)  # our own output must pass our own parser
        keys = fmt.derive_keys(file_key, file_id)
        h = header.header_hash
        out = _Output(dst_p, private=False, replace=replace)
        _write(out, raw + fmt.header_mac(keys, raw), dst_p)

        n = header.chunk_count
        hasher = SM3()
        with Pipeline(chunk_size, workers) as pipe:
            for i, slot, length, kind in _records(pipe, header, dst_p, cancel, progress, Stage.ENCRYPT):
                got = _read_exact(fin, memoryview(slot.inbuf)[:length], src_p)
                if got != length:
                    raise _source_changed(src_p)
                pipe.encrypt(slot, length, keys.payload_key, fmt.nonce(i), fmt.aad(h, i, kind),
                             hasher, out.file)
            if fin.read(1):
                raise _source_changed(src_p)
            _drain(pipe, dst_p)
        digest = hasher.digest()
        trailer = sm4.gcm_encrypt(keys.payload_key, fmt.nonce(n), digest,
                                  fmt.aad(h, n, fmt.KIND_TRAILER))
        _write(out, trailer, dst_p)
        _check_cancel(cancel)
        written = out.file.tell()
        if written != header.envelope_size:  # pragma: no cover - internal consistency
            raise EnvelopeError("内部错误：信封长度不符。", "Internal error: envelope size mismatch.")
        out.commit(fsync)
        out = None
        return EnvelopeInfo.from_header(header, authenticated=True, plaintext_sm3=digest.hex())
    finally:
        file_key[:] = bytes(len(file_key))
        if out is not None:
            out.discard()
        fin.close()


def check_metadata(value: str | None, zh_what: str, en_what: str, option: str) -> None:
    """Refuse a metadata text the header cannot carry, as a wrong argument (not as a
    damaged envelope): empty, control characters, not Unicode text, too long."""
    if value is None:
        return
    problem = None
    if not value.strip():
        problem = ("为空", "is empty")
    elif len(value) > fmt.MAX_TEXT:
        problem = (f"过长（最多 {fmt.MAX_TEXT} 个字符）", f"is too long (at most {fmt.MAX_TEXT} characters)")
    elif any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        problem = ("含有控制字符（如换行）", "contains control characters (such as a line break)")
    else:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            problem = ("不是有效的文本（含无法识别的字节）", "is not valid text (it holds undecodable bytes)")
    if problem is not None:
        raise EnvelopeArgumentError(f"{option} {zh_what}{problem[0]}，请改正后重试。",
                                    f"The {en_what} ({option}) {problem[1]}; correct it and retry.",
                                    option=option)


def _base_name(name: str) -> str:
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c if ord(c) >= 0x20 else "_" for c in name)[: fmt.MAX_TEXT]
    return name if name not in ("", ".", "..") else "bid-file"


def _source_changed(path: Path) -> EnvelopeIOError:
    return EnvelopeIOError(
        f"加密过程中输入文件 {path} 被修改了，请关闭其他正在写入它的程序后重试。",
        f"The input file {path} changed while it was being encrypted; close any program "
        "writing to it and try again.",
        path=os.fspath(path),
    )


def _write(out: _Output, data: bytes | memoryview, dst: Path) -> None:
    try:
        out.file.write(data)
    except OSError as exc:
        raise _io_error(exc, dst, "write") from exc


# -- reading the header ---------------------------------------------------------------


def _read_header(f: IO[bytes], path: StrPath) -> fmt.Header:
    try:
        pre = f.read(fmt.PREAMBLE_SIZE)
        length = fmt.read_preamble(pre)
        der = f.read(length)
    except OSError as exc:
        raise _io_error(exc, path, "read") from exc
    if len(der) != length:
        raise EnvelopeIntegrityError(
            "信封文件不完整（文件头被截断），请重新下载或复制。",
            "The envelope file is incomplete (its header is truncated); download or copy "
            "it again.",
            reason="truncated_header",
        )
    return fmt.parse_header(pre + der)


def read_info(src: StrPath) -> EnvelopeInfo:
    """Metadata and recipients of the envelope ``src`` (no key needed, not authenticated)."""
    try:
        with open(src, "rb") as f:
            header = _read_header(f, src)
            actual = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise _io_error(exc, src, "read") from exc
    info = EnvelopeInfo.from_header(header)
    if actual != header.envelope_size:
        _size_mismatch(actual, header.envelope_size)
    return info


def recipient_entries(src: StrPath) -> tuple[fmt.RecipientEntry, ...]:
    """The recipient entries of the envelope ``src`` (to find the key that opens it, before
    asking for a PIN: see :func:`app.envelope.recipients.matches`)."""
    try:
        with open(src, "rb") as f:
            return _read_header(f, src).recipients
    except OSError as exc:
        raise _io_error(exc, src, "read") from exc


def _size_mismatch(actual: int, expected: int) -> None:
    if actual < expected:
        raise EnvelopeIntegrityError(
            "信封文件不完整（被截断），请重新下载或复制。",
            "The envelope file is incomplete (truncated); download or copy it again.",
            reason="truncated", expected=expected, actual=actual,
        )
    raise EnvelopeIntegrityError(
        "信封文件末尾多出了数据，文件已被改动。",
        "The envelope file has extra data at its end; it was altered.",
        reason="extra_bytes", expected=expected, actual=actual,
    )


def is_envelope(src: StrPath) -> bool:
    """True when ``src`` starts with the envelope magic (cheap format sniffing)."""
    try:
        with open(src, "rb") as f:
            return f.read(len(fmt.MAGIC)) == fmt.MAGIC
    except OSError:
        return False


# -- decryption ------------------------------------------------------------------------


def _integrity(reason: str, **details: Any) -> EnvelopeIntegrityError:
    return EnvelopeIntegrityError(
        "信封完整性校验失败：文件已被篡改、损坏或截断，未输出任何明文。",
        "Envelope integrity check failed: the file was altered, damaged or truncated; no "
        "plaintext was released.",
        reason=reason, **details,
    )


def decrypt_file(
    src: StrPath,
    dst: StrPath,
    unwrapper_or_unwrappers: SessionKeyUnwrapper | Sequence[SessionKeyUnwrapper],
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    fsync: bool = True,
    workers: int | None = None,
    replace: bool = True,
) -> EnvelopeInfo:
    """Decrypt the envelope ``src`` into ``dst`` with one of the offered key(s).

    The recipient entry is found by issuer+serial (or SKI) of each unwrapper's
    certificate; :class:`NotARecipientError` lists what the file needs and what was
    offered. ``dst`` appears only when every record and the plaintext SM3 verified.
    """
    if isinstance(unwrapper_or_unwrappers, Sequence):
        unwrappers = list(unwrapper_or_unwrappers)
    else:
        unwrappers = [unwrapper_or_unwrappers]
    if not unwrappers:
        raise EnvelopeError("没有可用于解密的密钥。", "No key was offered for decryption.")

    def open_key(header: fmt.Header) -> tuple[bytearray, int]:
        last_exc: EnvelopeError | None = None
        for index, unwrapper in find_matches(header, unwrappers):
            _check_cancel(cancel)
            try:
                return open_entry(header, index, unwrapper), index
            except EnvelopeError as exc:  # wrong key for this entry: try the next one
                last_exc = exc
        assert last_exc is not None
        raise last_exc

    return decrypt_opened(src, dst, open_key, progress=progress, cancel=cancel, fsync=fsync,
                          workers=workers, replace=replace)


#: Recovers (FK, index of the recipient entry that opened it) from a parsed header.
FileKeyOpener = Callable[[fmt.Header], tuple[bytearray, int]]


def decrypt_opened(
    src: StrPath,
    dst: StrPath,
    open_key: FileKeyOpener,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    fsync: bool = True,
    workers: int | None = None,
    replace: bool = True,
) -> EnvelopeInfo:
    """Decrypt ``src`` into ``dst`` with the file key ``open_key`` recovers from the header
    (:func:`decrypt_file` with its recipient keys, or a hub with a re-wrapped entry,
    :mod:`app.envelope.rewrap`). Same checks and output discipline as :func:`decrypt_file`;
    the returned ``opened_by`` is the index ``open_key`` reported (-1: not a header entry)."""
    src_p, dst_p = Path(src), Path(dst)
    fin = _open_input(src_p, dst_p, cancel)
    out: _Output | None = None
    file_key: bytearray | None = None
    try:
        header = _read_header(fin, src_p)
        actual = _file_size(fin, src_p)
        if actual != header.envelope_size:
            _size_mismatch(actual, header.envelope_size)
        file_key, opened_by = open_key(header)
        keys = fmt.derive_keys(file_key, header.file_id)
        try:
            mac = fin.read(fmt.HEADER_MAC_SIZE)
        except OSError as exc:
            raise _io_error(exc, src_p, "read") from exc
        if not hmac.compare_digest(mac, fmt.header_mac(keys, header.raw)):
            raise _integrity("header_mac")

        h = header.header_hash
        n = header.chunk_count
        hasher = SM3()
        out = _Output(dst_p, private=True, replace=replace)
        with Pipeline(header.chunk_size, workers) as pipe:
            for i, slot, length, kind in _records(pipe, header, dst_p, cancel, progress, Stage.DECRYPT):
                got = _read_exact(fin, memoryview(slot.inbuf)[: length + fmt.TAG_SIZE], src_p)
                if got != length + fmt.TAG_SIZE:
                    raise _integrity("truncated", chunk=i)
                pipe.decrypt(slot, length, keys.payload_key, fmt.nonce(i), fmt.aad(h, i, kind),
                             hasher, out.file, i)
            _drain(pipe, dst_p)
        try:
            trailer = fin.read(fmt.TRAILER_SIZE)
            extra = fin.read(1)
        except OSError as exc:
            raise _io_error(exc, src_p, "read") from exc
        if len(trailer) != fmt.TRAILER_SIZE:
            raise _integrity("truncated_trailer")
        if extra:
            raise _integrity("extra_bytes")
        try:
            expected = sm4.gcm_decrypt(keys.payload_key, fmt.nonce(n), trailer,
                                       fmt.aad(h, n, fmt.KIND_TRAILER))
        except GMError as exc:
            raise _integrity("trailer_tag") from exc
        digest = hasher.digest()
        if not hmac.compare_digest(digest, expected):
            raise _integrity("plaintext_sm3")
        _check_cancel(cancel)
        out.commit(fsync)
        out = None
        return EnvelopeInfo.from_header(header, authenticated=True, plaintext_sm3=digest.hex(),
                                        opened_by=opened_by)
    finally:
        if file_key is not None:
            file_key[:] = bytes(len(file_key))
        if out is not None:
            out.discard()
        fin.close()
