"""Distinguished names and the Chinese identity numbers found in them.

* :class:`Name` — a small, immutable view of an X.509 ``Name`` with the fields a
  bidder recognises (CN, O, OU, C, ST, L, e-mail, serialNumber) plus every raw RDN,
  so nothing an unusual CA writes is lost.
* Unified social credit codes (统一社会信用代码, GB 32100-2015) and resident identity
  numbers (公民身份号码, GB 11643-1999): check-digit helpers and a scanner
  (:func:`find_uscc`, :func:`find_resident_ids`) that pulls validated codes out of
  free text such as ``"辽宁示例建设工程有限公司@91210100MA0Y8B6K2X"``.

Why validate the check digit: Chinese CAs put codes in many places, next to other
18-character values (serial numbers, hashes, old registration numbers). Accepting
only strings whose GB 32100 / GB 11643 check digit is right keeps random
alphanumerics from being shown to a bidder as their unit's code.

Ambiguity: an 18-digit string can pass both checks. A resident ID starts with a
region digit 1–8 and carries a real birth date in positions 7–14; a USCC issued
by the market regulator starts with ``9``. A candidate that is a valid resident ID
with a plausible birth date and does not start with ``9``/``Y`` is treated as an ID
number, not as a unit code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from app.gm.errors import GMError

# -- GB 32100-2015 unified social credit code ---------------------------------------

#: The 31 characters of GB 32100 (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def uscc_check_digit(first17: str) -> str:
    """The 18th character of a USCC computed from the first 17 (GB 32100-2015 §5)."""
    body = first17.upper()
    if len(body) != 17 or any(c not in USCC_ALPHABET for c in body):
        raise GMError(
            "统一社会信用代码前 17 位格式不正确。",
            "The first 17 characters of a unified social credit code are malformed.",
            value=first17,
        )
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """True for an 18-character USCC whose check character is right."""
    code = code.upper()
    return bool(_USCC_RE.match(code)) and uscc_check_digit(code[:17]) == code[17]


def make_uscc(first17: str) -> str:
    """Append the GB 32100 check character (demo data, tests)."""
    return first17.upper() + uscc_check_digit(first17)


# -- GB 11643-1999 resident identity number --------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[1-9]\d{16}[\dX]$")


def resident_id_check_digit(first17: str) -> str:
    """The 18th character of a resident identity number (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise GMError(
            "身份证号码前 17 位应为数字。",
            "The first 17 characters of a resident ID number must be digits.",
        )
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _plausible_birth_date(code: str) -> bool:
    try:
        born = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2100


def is_valid_resident_id(code: str) -> bool:
    """True for an 18-character resident ID with a right check digit and a real birth date."""
    code = code.upper()
    return (
        bool(_ID_RE.match(code))
        and resident_id_check_digit(code[:17]) == code[17]
        and _plausible_birth_date(code)
    )


def make_resident_id(first17: str) -> str:
    """Append the GB 11643 check digit (demo data, tests)."""
    return first17 + resident_id_check_digit(first17)


_TOKEN_RE = re.compile(r"[0-9A-Za-z]+")


def _candidates(text: str) -> Iterator[str]:
    """18-character windows worth checking: whole tokens, and the head/tail of longer ones
    (``"SF"+code`` or ``code+"01"`` styles). Chinese text and punctuation separate tokens."""
    for token in _TOKEN_RE.findall(text):
        token = token.upper()
        if len(token) == 18:
            yield token
        elif len(token) > 18:
            yield token[-18:]
            yield token[:18]


def _looks_like_person(code: str) -> bool:
    return is_valid_resident_id(code) and code[0] not in "9Y"


def find_uscc(texts: Iterable[str]) -> list[str]:
    """Validated USCCs in ``texts``, first occurrence first, without duplicates."""
    out: list[str] = []
    for text in texts:
        for cand in _candidates(text):
            if is_valid_uscc(cand) and not _looks_like_person(cand) and cand not in out:
                out.append(cand)
    return out


def find_resident_ids(texts: Iterable[str]) -> list[str]:
    """Validated resident ID numbers in ``texts``, first occurrence first."""
    out: list[str] = []
    for text in texts:
        for cand in _candidates(text):
            if is_valid_resident_id(cand) and cand not in out:
                out.append(cand)
    return out


# -- names -----------------------------------------------------------------------------

#: Short labels used in :meth:`Name.rfc4514` and in summaries.
SHORT_NAMES = {
    "2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C",
    "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "street", "2.5.4.10": "O",
    "2.5.4.11": "OU", "2.5.4.12": "title", "2.5.4.13": "description", "2.5.4.42": "GN",
    "2.5.4.45": "x500UniqueIdentifier", "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress", "0.9.2342.19200300.100.1.1": "UID",
}


def attribute_text(value: core.Asn1Value) -> str:
    """Best-effort text of an attribute value (DirectoryString, IA5, BIT STRING, unknown)."""
    try:
        native = value.native
    except (ValueError, TypeError, KeyError):
        native = None
    if isinstance(native, str):
        return native
    raw: bytes | None = None
    if isinstance(native, bytes | bytearray):
        raw = bytes(native)
    elif isinstance(native, tuple):  # a BIT STRING given as bits
        bits = "".join(str(b) for b in native)
        if bits and len(bits) % 8 == 0:
            raw = int(bits, 2).to_bytes(len(bits) // 8, "big")
    if raw is None:
        try:
            raw = bytes(value.contents or b"")
        except (AttributeError, TypeError):
            return ""
    return decode_text(raw)


def decode_text(raw: bytes) -> str:
    """Text of bytes whose encoding a CA did not say: UTF-8, then GB 18030, then Latin-1."""
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


@dataclass(frozen=True)
class Name:
    """An X.509 name: the common fields plus every RDN as ``(oid, label, text)``."""

    common_name: str | None = None
    organization: str | None = None
    organizational_units: tuple[str, ...] = ()
    country: str | None = None
    province: str | None = None
    locality: str | None = None
    email: str | None = None
    serial_number: str | None = None
    rdns: tuple[tuple[str, str, str], ...] = ()
    der: bytes = field(default=b"", repr=False)

    @property
    def organizational_unit(self) -> str | None:
        return self.organizational_units[0] if self.organizational_units else None

    @classmethod
    def from_asn1(cls, name: asn1_x509.Name) -> Name:
        try:
            rdns: list[tuple[str, str, str]] = []
            for rdn in name.chosen:
                for atv in rdn:
                    oid = atv["type"].dotted
                    rdns.append((oid, SHORT_NAMES.get(oid, oid), attribute_text(atv["value"])))
            der = bytes(name.dump())
        except (ValueError, TypeError, KeyError) as exc:
            raise GMError("证书中的名称字段格式错误。", "A name in the certificate is malformed.") from exc

        def first(oid: str) -> str | None:
            return next((v for o, _l, v in rdns if o == oid), None)

        return cls(
            common_name=first("2.5.4.3"),
            organization=first("2.5.4.10"),
            organizational_units=tuple(v for o, _l, v in rdns if o == "2.5.4.11"),
            country=first("2.5.4.6"),
            province=first("2.5.4.8"),
            locality=first("2.5.4.7"),
            email=first("1.2.840.113549.1.9.1"),
            serial_number=first("2.5.4.5"),
            rdns=tuple(rdns),
            der=der,
        )

    @classmethod
    def from_der(cls, der: bytes) -> Name:
        try:
            name = asn1_x509.Name.load(der, strict=True)
        except ValueError as exc:
            raise GMError("名称字段格式错误。", "Malformed name.") from exc
        return cls.from_asn1(name)

    def to_asn1(self) -> asn1_x509.Name:
        return asn1_x509.Name.load(self.der)

    def values(self) -> list[str]:
        return [v for _o, _l, v in self.rdns]

    def get(self, oid: str) -> list[str]:
        """All values of attribute ``oid`` (dotted), in order."""
        return [v for o, _l, v in self.rdns if o == oid]

    def rfc4514(self) -> str:
        """Readable one-line form, most significant RDN last (``CN=…,O=…,C=CN``)."""
        def esc(v: str) -> str:
            return re.sub(r'([,+"\\<>;])', r"\\\1", v)

        return ",".join(f"{label}={esc(v)}" for _o, label, v in reversed(self.rdns))

    def __str__(self) -> str:
        return self.rfc4514()

    def to_dict(self) -> dict[str, object]:
        return {
            "common_name": self.common_name,
            "organization": self.organization,
            "organizational_units": list(self.organizational_units),
            "country": self.country,
            "province": self.province,
            "locality": self.locality,
            "email": self.email,
            "serial_number": self.serial_number,
            "rfc4514": self.rfc4514(),
        }

    def matches(self, other: Name) -> bool:
        """Name equality for chaining (asn1crypto's RFC 5280 comparison; exact DER first)."""
        if self.der == other.der:
            return True
        try:
            return bool(self.to_asn1() == other.to_asn1())
        except (ValueError, TypeError, KeyError):
            return False


def build_name(attrs: Iterable[tuple[str, str]]) -> asn1_x509.Name:
    """An X.509 name from ``(type, value)`` pairs in the given order, one attribute per RDN.

    ``type`` is an asn1crypto name (``"common_name"``) or a dotted OID. Country and
    serialNumber are PrintableString, e-mail IA5String, everything else UTF8String
    (Chinese text).
    """
    rdns = []
    for typ, value in attrs:
        typ = asn1_x509.NameType.map(typ)
        val: core.Asn1Value
        if typ == "email_address":
            val = asn1_x509.EmailAddress(value)
        elif typ in ("country_name", "serial_number", "dn_qualifier"):
            val = asn1_x509.DirectoryString(name="printable_string", value=core.PrintableString(value))
        elif typ == "unique_identifier":  # x500UniqueIdentifier is a BIT STRING
            val = core.OctetBitString(value.encode("utf-8"))
        elif typ in asn1_x509.NameTypeAndValue._oid_specs:
            val = asn1_x509.DirectoryString(name="utf8_string", value=core.UTF8String(value))
        else:  # unknown attribute types: a bare UTF8String
            val = core.UTF8String(value)
        rdns.append(asn1_x509.RelativeDistinguishedName([
            asn1_x509.NameTypeAndValue({"type": typ, "value": val})
        ]))
    return asn1_x509.Name(name="", value=asn1_x509.RDNSequence(rdns))
