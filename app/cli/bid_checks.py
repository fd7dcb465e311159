"""What a bidder should hear before encrypting a bid (warnings, not refusals).

* an empty file; a file named ``.pdf`` that is not a PDF; a PDF that carries no
  signature at all ("the bid is not sealed");
* none of the recipients is a key inserted here: the bidder will not be able to open
  the envelope to check it before uploading.

Each warning is a (zh, en) pair; the caller prints them (or puts them in JSON) and,
on a terminal, asks whether to go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.gm.x509 import Certificate

Warning_ = tuple[str, str, str]  # (code, zh, en)

#: how much of a PDF is scanned for a signature dictionary (covers any real bid quickly)
_SCAN_CHUNK = 1 << 20
_SIG_MARKERS = (b"/ByteRange",)


def _has_signature(path: Path) -> bool:
    """True when the PDF holds a signature dictionary (``/ByteRange``; never inside an
    object stream, since the signed byte ranges must be directly in the file)."""
    keep = max(len(m) for m in _SIG_MARKERS) - 1
    tail = b""
    with open(path, "rb") as f:
        while True:
            block = f.read(_SCAN_CHUNK)
            if not block:
                return False
            data = tail + block
            if any(m in data for m in _SIG_MARKERS):
                return True
            tail = data[-keep:]


def content_warnings(path: Path) -> list[Warning_]:
    """Warnings about the plaintext itself (empty, fake PDF, unsealed PDF)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        return []  # the engine reports the read error itself
    if size == 0:
        return [("EMPTY_FILE", f"要加密的文件 {path.name} 是空文件（0 字节）。",
                 f"The file to encrypt, {path.name}, is empty (0 bytes).")]
    if path.suffix.lower() != ".pdf":
        return []
    if b"%PDF-" not in head:
        return [("NOT_A_PDF", f"{path.name} 的扩展名是 .pdf，但内容不是 PDF 文件。",
                 f"{path.name} is named .pdf but its content is not a PDF.")]
    try:
        signed = _has_signature(path)
    except OSError:
        return []
    if not signed:
        return [("NOT_SEALED", f"{path.name} 中没有任何签名：投标文件尚未签章。",
                 f"{path.name} carries no signature at all: the bid is not sealed.")]
    return []


def own_key_warning(recipients: Sequence[Certificate], own: Sequence[Certificate]) -> list[Warning_]:
    """A warning when none of the encryption certificates on the inserted keys (``own``)
    is a recipient: the bidder could not open the envelope to check it."""
    if any(cert in recipients for cert in own):
        return []
    if own:
        return [("OWN_KEY_NOT_RECIPIENT",
                 "接收者中没有本机插入的 UKey 的加密证书：加密后您无法自行解密检查该文件。"
                 "如需自查，请加 --to-key 把自己的 UKey 加入接收者。",
                 "None of the recipients is the encryption certificate of a key inserted here: you will "
                 "not be able to decrypt the file to check it before upload. Add --to-key to include your key.")]
    return [("OWN_KEY_UNKNOWN",
             "本机没有检测到 UKey，无法确认您自己是否在接收者中；若不在，您将无法自行解密检查该文件。",
             "No key is inserted here, so it is unknown whether you are a recipient; if not, you will not "
             "be able to decrypt the file to check it before upload.")]
