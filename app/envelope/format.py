"""Envelope v1 wire format: preamble, DER header, key schedule, record nonces and AAD.

Everything another implementation must reproduce byte for byte lives here; the
normative description is ``resources/docs/envelope-format.md``. This module does no
file I/O and holds no secrets beyond the arguments it is given.

::

    file    = preamble(16) || header DER || headerMac(32) || record_0 .. record_{n-1} || trailer
    preamble = MAGIC(8) || version u16 || flags u16 (0) || headerLength u32     (big-endian)
    record_i = SM4-GCM(Kp, nonce_i, AAD_i, chunk_i) ciphertext || tag(16)
    trailer  = SM4-GCM(Kp, nonce_n, AAD_n, SM3(plaintext)) ciphertext(32) || tag(16)

:func:`parse_header` is the one parser of untrusted bytes; for ANY input it either
returns a :class:`Header` or raises :class:`EnvelopeFormatError` (fuzzed in
``tests/fuzz/fuzz_envelope_parser.py``), and it accepts only the canonical encoding:
the parsed header is re-encoded and must give back the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms as asn1_cms
from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from app.envelope.errors import EnvelopeFormatError
from app.gm import oids
from app.gm.errors import GMError
from app.gm.sm2 import CipherFormat, SM2Ciphertext
from app.gm.sm2.encoding import SM2CipherASN1
from app.gm.sm3 import DIGEST_SIZE, hmac_sm3, kdf, sm3

MAGIC = b"\x89BSE\r\n\x1a\n"
VERSION = 1
PREAMBLE = struct.Struct(">8sHHI")
PREAMBLE_SIZE = PREAMBLE.size  # 16
HEADER_MAC_SIZE = DIGEST_SIZE  # HMAC-SM3
TAG_SIZE = 16
NONCE_SIZE = 12
FILE_ID_SIZE = 16
FILE_KEY_SIZE = 16
SESSION_KEY_SIZE = 16
KCV_SIZE = 16
WRAPPED_KEY_SIZE = FILE_KEY_SIZE + KCV_SIZE  # SM4-ECB(SK_i, FK || KCV): two blocks
TRAILER_PLAINTEXT_SIZE = DIGEST_SIZE
TRAILER_SIZE = TRAILER_PLAINTEXT_SIZE + TAG_SIZE

DEFAULT_CHUNK_SIZE = 1 << 20
MIN_CHUNK_SIZE = 16
MAX_CHUNK_SIZE = 16 << 20
MAX_HEADER_SIZE = 1 << 20
MAX_RECIPIENTS = 64
MAX_PLAINTEXT_SIZE = (1 << 62) - 1
MAX_TEXT = 1024  # characters in any metadata string

KIND_DATA = 0  # a data chunk with more data after it
KIND_LAST = 1  # the last data chunk (possibly empty)
KIND_TRAILER = 2  # the trailer record carrying SM3(plaintext)

PAYLOAD_ALGORITHM = oids.SM4_GCM  # 1.2.156.10197.1.104.8
KEY_ENCRYPTION_ALGORITHM = oids.SM2_ENCRYPT  # 1.2.156.10197.1.301.3

KDF_LABEL = b"BidSeal envelope v1 keys"
KCV_LABEL = b"BidSeal envelope v1 key check"


# -- ASN.1 ---------------------------------------------------------------------------


class _RecipientEntry(core.Sequence):
    _fields = [
        ("rid", asn1_cms.IssuerAndSerialNumber),
        ("ski", core.OctetString, {"implicit": 0, "optional": True}),
        ("unit_name", core.UTF8String, {"implicit": 1, "optional": True}),
        ("common_name", core.UTF8String, {"implicit": 2, "optional": True}),
        ("unit_code", core.UTF8String, {"implicit": 3, "optional": True}),
        ("key_encryption_algorithm", core.ObjectIdentifier),
        # GM/T 0009 SM2Cipher, embedded as is (what SKF_ImportSessionKey and OpenSSL take)
        ("encrypted_session_key", SM2CipherASN1),
        ("wrapped_file_key", core.OctetString),
    ]


class _Recipients(core.SequenceOf):
    _child_spec = _RecipientEntry


class _Metadata(core.Sequence):
    _fields = [
        ("file_name", core.UTF8String),
        ("created_at", core.GeneralizedTime),
        ("project_id", core.UTF8String, {"implicit": 0, "optional": True}),
        ("unit_code", core.UTF8String, {"implicit": 1, "optional": True}),
    ]


class _Header(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("file_id", core.OctetString),
        ("payload_algorithm", core.ObjectIdentifier),
        ("chunk_size", core.Integer),
        ("plaintext_size", core.Integer),
        ("metadata", _Metadata),
        ("recipients", _Recipients),
    ]


# -- model -------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientEntry:
    """One recipient: who (issuer + serial, SKI, names for messages) and the key material."""

    issuer_der: bytes
    serial: int
    ski: bytes | None
    unit_name: str | None
    common_name: str | None
    unit_code: str | None
    encrypted_session_key: SM2Ciphertext
    wrapped_file_key: bytes

    @property
    def serial_hex(self) -> str:
        return format(self.serial, "X") if self.serial >= 0 else "-" + format(-self.serial, "X")


@dataclass(frozen=True)
class Header:
    """The parsed header; ``raw`` is preamble || header DER, exactly as in the file."""

    file_id: bytes
    chunk_size: int
    plaintext_size: int
    file_name: str
    created_at: datetime
    project_id: str | None
    unit_code: str | None
    recipients: tuple[RecipientEntry, ...]
    raw: bytes = field(default=b"", repr=False, compare=False)

    @property
    def header_hash(self) -> bytes:
        """H = SM3(preamble || header DER): bound into every record's AAD."""
        return sm3(self.raw)

    @property
    def chunk_count(self) -> int:
        return chunk_count(self.plaintext_size, self.chunk_size)

    @property
    def envelope_size(self) -> int:
        return envelope_size(len(self.raw), self.plaintext_size, self.chunk_size)


def chunk_count(plaintext_size: int, chunk_size: int) -> int:
    """Number of data records: ceil(size / chunk), and at least one (an empty file has one
    empty last record, so even an empty plaintext is authenticated)."""
    return max(1, -(-plaintext_size // chunk_size))


def envelope_size(raw_header_size: int, plaintext_size: int, chunk_size: int) -> int:
    """The exact length of a well-formed envelope (anything else is truncation or extension)."""
    return (raw_header_size + HEADER_MAC_SIZE + plaintext_size
            + chunk_count(plaintext_size, chunk_size) * TAG_SIZE + TRAILER_SIZE)


def _bad(en_detail: str, **details: Any) -> EnvelopeFormatError:
    return EnvelopeFormatError(
        "这不是有效的 BidSeal 投标文件数字信封，或文件头已损坏。",
        "This is not a valid BidSeal bid-file envelope, or its header is damaged.",
        reason=en_detail,
        **details,
    )


def _check_text(value: str | None, what: str) -> None:
    if value is None:
        return
    if not isinstance(value, str) or len(value) > MAX_TEXT or any(ord(c) < 0x20 for c in value):
        raise _bad(f"{what} is not a short single-line text")


def _utc_seconds(t: datetime) -> datetime:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).replace(microsecond=0)


def encode_header(header: Header) -> bytes:
    """preamble || DER(EnvelopeHeader) for ``header`` (its ``raw`` is ignored)."""
    _validate(header)
    entries = []
    for r in header.recipients:
        entry: dict[str, object] = {
            "rid": asn1_cms.IssuerAndSerialNumber({
                "issuer": asn1_x509.Name.load(r.issuer_der),
                "serial_number": r.serial,
            }),
            "key_encryption_algorithm": KEY_ENCRYPTION_ALGORITHM,
            "encrypted_session_key": SM2CipherASN1.load(sm2cipher_der(r.encrypted_session_key)),
            "wrapped_file_key": r.wrapped_file_key,
        }
        if r.ski is not None:
            entry["ski"] = r.ski
        for key in ("unit_name", "common_name", "unit_code"):
            value = getattr(r, key)
            if value is not None:
                entry[key] = value
        entries.append(_RecipientEntry(entry))
    metadata: dict[str, object] = {
        "file_name": header.file_name,
        "created_at": _utc_seconds(header.created_at),
    }
    if header.project_id is not None:
        metadata["project_id"] = header.project_id
    if header.unit_code is not None:
        metadata["unit_code"] = header.unit_code
    der: bytes = _Header({
        "version": VERSION,
        "file_id": header.file_id,
        "payload_algorithm": PAYLOAD_ALGORITHM,
        "chunk_size": header.chunk_size,
        "plaintext_size": header.plaintext_size,
        "metadata": _Metadata(metadata),
        "recipients": _Recipients(entries),
    }).dump()
    if len(der) > MAX_HEADER_SIZE:
        raise _bad("header too large (too many or too long recipient entries)", length=len(der))
    return PREAMBLE.pack(MAGIC, VERSION, 0, len(der)) + der


def _validate(h: Header) -> None:
    if len(h.file_id) != FILE_ID_SIZE:
        raise _bad("fileId must be 16 bytes")
    if not MIN_CHUNK_SIZE <= h.chunk_size <= MAX_CHUNK_SIZE:
        raise _bad("chunkSize out of range", chunk_size=h.chunk_size)
    if not 0 <= h.plaintext_size <= MAX_PLAINTEXT_SIZE:
        raise _bad("plaintextSize out of range")
    if not 1 <= len(h.recipients) <= MAX_RECIPIENTS:
        raise _bad("recipient count out of range", recipients=len(h.recipients))
    _check_text(h.file_name, "fileName")
    if not h.file_name or "/" in h.file_name or "\\" in h.file_name or h.file_name in (".", ".."):
        raise _bad("fileName must be a plain base name")
    _check_text(h.project_id, "projectId")
    _check_text(h.unit_code, "unitCode")
    for r in h.recipients:
        if len(r.wrapped_file_key) != WRAPPED_KEY_SIZE:
            raise _bad("wrappedFileKey must be 32 bytes")
        if len(r.encrypted_session_key.c2) != SESSION_KEY_SIZE:
            raise _bad("the encrypted session key must carry 16 bytes")
        if r.ski is not None and not 1 <= len(r.ski) <= 64:
            raise _bad("subjectKeyIdentifier length out of range")
        for text, what in ((r.unit_name, "unitName"), (r.common_name, "commonName"),
                           (r.unit_code, "unitCode")):
            _check_text(text, what)


def read_preamble(data: bytes) -> int:
    """Check the 16-byte preamble; returns the header DER length."""
    if len(data) < PREAMBLE_SIZE:
        raise _bad("file shorter than the preamble", length=len(data))
    magic, version, flags, length = PREAMBLE.unpack_from(data)
    if magic != MAGIC:
        raise _bad("wrong magic")
    if version != VERSION:
        raise EnvelopeFormatError(
            f"此信封的格式版本为 {version}，本程序只支持版本 {VERSION}；请升级 BidSeal。",
            f"This envelope has format version {version}; this program supports version "
            f"{VERSION} only. Please upgrade BidSeal.",
            version=version,
        )
    if flags != 0:
        raise _bad("reserved flags set", flags=flags)
    if not 0 < length <= MAX_HEADER_SIZE:
        raise _bad("header length out of range", length=length)
    return int(length)


_PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError,
                 UnicodeError, RecursionError, GMError)


def parse_header(raw: bytes) -> Header:
    """Parse preamble || header DER (exactly, nothing after it) into a :class:`Header`.

    Raises only :class:`EnvelopeFormatError`.
    """
    raw = bytes(raw)
    length = read_preamble(raw)
    der = raw[PREAMBLE_SIZE:]
    if len(der) != length:
        raise _bad("header length does not match", expected=length, actual=len(der))
    try:
        h = _Header.load(der, strict=True)
        if h["version"].native != VERSION:
            raise _bad("header version differs from the preamble")
        if h["payload_algorithm"].dotted != PAYLOAD_ALGORITHM:
            raise _bad("unsupported payload algorithm", algorithm=h["payload_algorithm"].dotted)
        md = h["metadata"]
        created = md["created_at"].native
        if not isinstance(created, datetime):
            raise _bad("createdAt is not a time")
        recipients = []
        for e in h["recipients"]:
            if e["key_encryption_algorithm"].dotted not in oids.SM2_ENCRYPTION_OIDS:
                raise _bad("unsupported key encryption algorithm")
            rid = e["rid"]
            issuer_der = bytes(rid["issuer"].dump())
            asn1_x509.Name.load(issuer_der, strict=True).native  # noqa: B018 - force parse
            c = e["encrypted_session_key"]
            sk = SM2Ciphertext(int(c["x"].native), int(c["y"].native),
                               bytes(c["hash"].native), bytes(c["ciphertext"].native))
            sk.validate()
            ski = e["ski"].native
            recipients.append(RecipientEntry(
                issuer_der=issuer_der,
                serial=int(rid["serial_number"].native),
                ski=bytes(ski) if ski is not None else None,
                unit_name=e["unit_name"].native,
                common_name=e["common_name"].native,
                unit_code=e["unit_code"].native,
                encrypted_session_key=sk,
                wrapped_file_key=bytes(e["wrapped_file_key"].native),
            ))
        header = Header(
            file_id=bytes(h["file_id"].native),
            chunk_size=int(h["chunk_size"].native),
            plaintext_size=int(h["plaintext_size"].native),
            file_name=md["file_name"].native,
            created_at=created,
            project_id=md["project_id"].native,
            unit_code=md["unit_code"].native,
            recipients=tuple(recipients),
            raw=raw,
        )
        canonical = encode_header(header)
    except EnvelopeFormatError:
        raise
    except _PARSE_ERRORS as exc:
        raise _bad(f"malformed header DER: {type(exc).__name__}") from exc
    if canonical != raw:
        raise _bad("header is not in canonical DER")
    return header


# -- keys, nonces, AAD ---------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class FileKeys:
    """Kp (SM4-GCM payload key) and Km (HMAC-SM3 header key), derived from FK."""

    payload_key: bytes
    mac_key: bytes

    def __repr__(self) -> str:
        return "FileKeys(…)"


def derive_keys(file_key: bytes | bytearray, file_id: bytes) -> FileKeys:
    """Kp || Km = KDF(FK || fileId || "BidSeal envelope v1 keys", 48) (GM/T 0003 KDF)."""
    okm = kdf(bytes(file_key) + file_id + KDF_LABEL, 16 + 32)
    return FileKeys(okm[:16], okm[16:])


def key_check_value(file_key: bytes | bytearray, file_id: bytes) -> bytes:
    """KCV = SM3("BidSeal envelope v1 key check" || FK || fileId)[:16]."""
    return sm3(KCV_LABEL + bytes(file_key) + file_id)[:KCV_SIZE]


def header_mac(keys: FileKeys, raw_header: bytes) -> bytes:
    return hmac_sm3(keys.mac_key, raw_header)


def nonce(index: int) -> bytes:
    """12-byte GCM nonce: 4 zero bytes || u64 record index (trailer index = chunk count)."""
    return b"\0\0\0\0" + index.to_bytes(8, "big")


def aad(header_hash: bytes, index: int, kind: int) -> bytes:
    """AAD = SM3(preamble || header DER) || u64 index || u8 kind (0 data, 1 last, 2 trailer)."""
    return header_hash + index.to_bytes(8, "big") + bytes((kind,))


def sm2cipher_der(ct: SM2Ciphertext) -> bytes:
    """The GM/T 0009 SM2Cipher DER of a recipient's session key (OpenSSL pkeyutl input)."""
    return bytes(ct.encode(CipherFormat.ASN1))
