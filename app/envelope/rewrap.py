"""Bid opening through a hub's web page: re-wrap an envelope's file key to the hub.

At bid opening the hub holds the (large) envelopes; the bidder's UKey is on the
bidder's PC. Instead of shipping gigabytes through the browser, or handing the file key
to a web page, the page gives BidSeal's helper only the envelope's **head** (preamble,
header with the recipient entries, header MAC: a few hundred bytes), and:

1. the bidder's UKey opens the bidder's recipient entry (``SKF_ImportSessionKey`` + one
   32-byte ``SKF_Decrypt``, :class:`~app.gm.keyops.SessionKeyUnwrapper`), giving FK;
2. the helper checks the key check value and then the **header MAC** with FK (so the
   project, unit and recipients the bidder approved are exactly the envelope's, not a
   forged head);
3. FK is wrapped again for the hub's **encryption certificate** (from the helper's own
   per-origin configuration, never from the request) as an ordinary recipient entry, and
   bound to this envelope by the header hash: :func:`rewrap_file_key` returns that
   ``RewrappedKey`` DER; FK is wiped.

The hub then decrypts the whole envelope on its side with its software (or HSM) key:
:func:`decrypt_rewrapped`. The page only ever sees ciphertext. Format:
``resources/docs/envelope-format.md`` §9.

::

    RewrappedKey ::= SEQUENCE {
        version     INTEGER (1),
        headerHash  OCTET STRING (SIZE (32)),   -- SM3(preamble || headerDER) of the envelope
        entry       RecipientEntry }           -- §4.2, for the hub's encryption certificate
"""

from __future__ import annotations

import dataclasses
import hmac
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import core

from app.cancel import Cancel
from app.envelope import format as fmt
from app.envelope.engine import decrypt_opened
from app.envelope.errors import (
    EnvelopeFormatError,
    EnvelopeIntegrityError,
    EnvelopeIOError,
    NotARecipientError,
)
from app.envelope.info import EnvelopeInfo
from app.envelope.recipients import (
    check_recipient,
    describe_certificate,
    describe_entry,
    find_matches,
    make_entry,
    matches,
    open_entry,
)
from app.gm.keyops import SessionKeyUnwrapper
from app.gm.x509 import Certificate
from app.progress import Progress
from app.sensitive import wipe

REWRAP_VERSION = 1
MAX_HEAD_SIZE = fmt.PREAMBLE_SIZE + fmt.MAX_HEADER_SIZE + fmt.HEADER_MAC_SIZE


class _RewrappedKey(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("header_hash", core.OctetString),
        ("entry", core.Any),
    ]


def _bad(reason: str) -> EnvelopeFormatError:
    return EnvelopeFormatError("转封装的文件密钥格式不正确。", "The re-wrapped file key is malformed.",
                               reason=reason)


def split_head(head: bytes) -> tuple[fmt.Header, bytes]:
    """Parse an envelope head (preamble || header DER || header MAC, nothing more) into
    the header and its MAC; :class:`EnvelopeFormatError` otherwise."""
    head = bytes(head)
    if len(head) > MAX_HEAD_SIZE:
        raise fmt._bad("envelope head too large")
    length = fmt.read_preamble(head[: fmt.PREAMBLE_SIZE])
    end = fmt.PREAMBLE_SIZE + length
    if len(head) != end + fmt.HEADER_MAC_SIZE:
        raise fmt._bad("the envelope head must be preamble, header and header MAC exactly",
                       expected=end + fmt.HEADER_MAC_SIZE, actual=len(head))
    return fmt.parse_header(head[:end]), head[end:]


def read_head(path: str | os.PathLike[str]) -> bytes:
    """The head of the envelope file ``path`` (what a hub page hands to the helper)."""
    try:
        with open(path, "rb") as f:
            pre = f.read(fmt.PREAMBLE_SIZE)
            length = fmt.read_preamble(pre)
            rest = f.read(length + fmt.HEADER_MAC_SIZE)
    except OSError as exc:
        raise EnvelopeIOError(f"无法读取文件 {os.fspath(path)}。", f"Cannot read file {os.fspath(path)}.",
                              path=os.fspath(path)) from exc
    if len(rest) != length + fmt.HEADER_MAC_SIZE:
        raise EnvelopeIntegrityError("信封文件不完整（文件头被截断）。", "The envelope file is incomplete "
                                     "(its header is truncated).", reason="truncated_header")
    return pre + rest


def rewrap_file_key(head: bytes, unwrapper: SessionKeyUnwrapper, hub_cert: Certificate, *,
                    now: datetime | None = None) -> bytes:
    """Open the entry of ``unwrapper``'s certificate in the envelope ``head``, check the
    header MAC, and return a ``RewrappedKey`` DER carrying FK for ``hub_cert``.

    Refuses a hub certificate that cannot receive envelopes (signing-only, expired, CA:
    :class:`RecipientCertificateError`) before the UKey is used, a head that is not this
    key's (:class:`NotARecipientError`), and a head whose MAC does not verify
    (:class:`EnvelopeIntegrityError`: nothing is re-wrapped).
    """
    check_recipient(hub_cert, now)
    header, mac = split_head(head)
    file_key: bytearray | None = None
    try:
        last: Exception | None = None
        for index, candidate in find_matches(header, [unwrapper]):
            try:
                file_key = open_entry(header, index, candidate)
                break
            except EnvelopeIntegrityError as exc:
                last = exc
        if file_key is None:
            assert last is not None
            raise last
        keys = fmt.derive_keys(file_key, header.file_id)
        if not hmac.compare_digest(mac, fmt.header_mac(keys, header.raw)):
            raise EnvelopeIntegrityError(
                "信封文件头已被改动（校验码不符），未转封装文件密钥。",
                "The envelope header was altered (its MAC does not verify); the file key was not "
                "re-wrapped.", reason="header_mac")
        entry = make_entry(hub_cert, file_key, header.file_id)
    finally:
        if file_key is not None:
            wipe(file_key)
    return encode_rewrapped(header.header_hash, entry)


def encode_rewrapped(header_hash: bytes, entry: fmt.RecipientEntry) -> bytes:
    """DER ``RewrappedKey`` for ``entry`` bound to the envelope with ``header_hash``."""
    entry_der = _entry_der(entry)
    return bytes(_RewrappedKey({"version": REWRAP_VERSION, "header_hash": header_hash,
                                "entry": core.Any.load(entry_der)}).dump())


def _minimal_header(entries: list[fmt._RecipientEntry]) -> fmt._Header:
    """A header around ``entries`` (fixed metadata): lets the one header parser and
    encoder of :mod:`app.envelope.format` read and write a single recipient entry."""
    return fmt._Header({
        "version": fmt.VERSION, "file_id": b"\0" * fmt.FILE_ID_SIZE, "payload_algorithm": fmt.PAYLOAD_ALGORITHM,
        "chunk_size": fmt.DEFAULT_CHUNK_SIZE, "plaintext_size": 0,
        "metadata": fmt._Metadata({"file_name": "x", "created_at": datetime(2000, 1, 1, tzinfo=UTC)}),
        "recipients": fmt._Recipients(entries),
    })


def _entry_der(entry: fmt.RecipientEntry) -> bytes:
    """The DER of one RecipientEntry, exactly as it appears inside a header."""
    probe = fmt.Header(file_id=b"\0" * fmt.FILE_ID_SIZE, chunk_size=fmt.DEFAULT_CHUNK_SIZE, plaintext_size=0,
                       file_name="x", created_at=datetime(2000, 1, 1, tzinfo=UTC), project_id=None,
                       unit_code=None, recipients=(entry,))
    der = fmt.encode_header(probe)[fmt.PREAMBLE_SIZE:]
    return bytes(fmt._Header.load(der)["recipients"][0].dump())


def parse_rewrapped(der: bytes) -> tuple[bytes, fmt.RecipientEntry]:
    """(header hash, recipient entry) of a ``RewrappedKey``; canonical DER only, the entry
    checked by the envelope header parser."""
    der = bytes(der)
    if len(der) > 64 * 1024:
        raise _bad("too large")
    try:
        rk = _RewrappedKey.load(der, strict=True)
        if rk["version"].native != REWRAP_VERSION:
            raise _bad("unsupported version")
        header_hash = bytes(rk["header_hash"].native)
        entry_der = bytes(rk["entry"].dump())
        probe = bytes(_minimal_header([fmt._RecipientEntry.load(entry_der, strict=True)]).dump(force=True))
        entry = fmt.parse_header(fmt.PREAMBLE.pack(fmt.MAGIC, fmt.VERSION, 0, len(probe)) + probe).recipients[0]
    except EnvelopeFormatError as exc:
        raise _bad(str(exc.details.get("reason", "bad recipient entry"))) from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _bad(type(exc).__name__) from exc
    if len(header_hash) != 32 or encode_rewrapped(header_hash, entry) != der:
        raise _bad("not canonical DER")
    return header_hash, entry


def decrypt_rewrapped(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    rewrapped: bytes,
    hub_keys: SessionKeyUnwrapper | Sequence[SessionKeyUnwrapper],
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    fsync: bool = True,
) -> EnvelopeInfo:
    """The hub's half: decrypt the envelope ``src`` into ``dst`` with the re-wrapped entry
    and the hub's encryption key(s). The entry must be bound to this very envelope (header
    hash) and addressed to one of ``hub_keys``; every record, the header MAC and the
    plaintext SM3 are checked exactly as in :func:`app.envelope.decrypt_file`."""
    header_hash, entry = parse_rewrapped(rewrapped)
    keys = list(hub_keys) if isinstance(hub_keys, Sequence) else [hub_keys]
    mine = [k for k in keys if matches(entry, k.certificate)]
    if not mine:
        raise NotARecipientError(
            "转封装的文件密钥不是给本平台加密证书的。",
            "The re-wrapped file key is not addressed to this hub's encryption certificate.",
            needed=[describe_entry(entry)], offered=[describe_certificate(k.certificate) for k in keys])

    def open_key(header: fmt.Header) -> tuple[bytearray, int]:
        if not hmac.compare_digest(header.header_hash, header_hash):
            raise EnvelopeIntegrityError(
                "转封装的文件密钥属于另一个信封。",
                "The re-wrapped file key belongs to another envelope.", reason="header_hash")
        bound = dataclasses.replace(header, recipients=(entry,))
        last: Exception | None = None
        for k in mine:
            try:
                return open_entry(bound, 0, k), -1
            except EnvelopeIntegrityError as exc:
                last = exc
        assert last is not None
        raise last

    return decrypt_opened(Path(src), Path(dst), open_key, progress=progress, cancel=cancel, fsync=fsync)
