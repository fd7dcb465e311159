"""X.509 certificates and CRLs with SM2/SM3, read the way a bidder needs them.

:class:`Certificate` is an immutable wrapper around an asn1crypto certificate that
answers the questions the client asks: who is this (unit name, unified social credit
code, ID number), is it the signing or the encryption certificate, is it valid now,
and was it signed by that issuer (SM2 over the DER tbsCertificate, SM3).

Where the identity numbers are looked for
-----------------------------------------
Chinese CAs put the unit's unified social credit code (USCC, GB 32100) and a
person's resident ID number (GB 11643) in different places, so
:attr:`Certificate.unit_code` and :attr:`Certificate.id_number` search, in this order:

1. subject ``serialNumber`` (2.5.4.5) — the most common place (CFCA, most provincial
   CAs, and our demo PKI); values may carry prefixes (``"SF91…"``) or suffixes;
2. subject ``organizationIdentifier`` (2.5.4.97), ``x500UniqueIdentifier``
   (2.5.4.45) and ``UID`` (0.9.2342.19200300.100.1.1) — used by some CAs for codes;
3. subject ``OU`` values — several CAs write the code (or ``"统一社会信用代码:…"``)
   as an organisational unit;
4. subject ``CN`` — unit certificates named ``"公司名@9121…"`` or ``"公司名(9121…)"``;
5. extensions: the GM/T 0015 identity extensions 1.2.156.10260.4.1.1–.5 (first
   registered by CFCA: identity code, insurance number, business registration
   number, organisation code, tax number), 1.2.86.11.7.x and
   1.2.156.112562.2.1.1.x (seen from some provincial CAs), then any other private
   extension under 1.2.156 or 1.2.86; the value is parsed as DER when possible and
   every string inside is read, otherwise the raw bytes are read as UTF-8/GB18030;
6. subjectAltName: otherName values and directoryName attributes;
7. any other subject attribute (description, title…).

Only strings of exactly the right shape whose check digit is right are accepted
(:mod:`app.gm.names`), so certificate serial numbers, hashes and old 15-digit
registration numbers are never mistaken for a code. The first valid hit in the
order above wins; :attr:`Certificate.unit_code_source` says where it was found.

The legal representative's name is rare in certificates; :attr:`legal_name` reads a
``法定代表人:姓名`` (or ``法人:``) label from the same places (our demo PKI writes it
as a subject ``description``).

Signatures and the SM2 ID
-------------------------
GM/T 0009 signs with the default ID ``1234567812345678``; OpenSSL 3.0 uses an EMPTY
ID unless ``-sigopt distid:…`` was given. :meth:`Certificate.signature_id` tries the
default ID first and then the empty ID, and returns which one verified.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asn1crypto import core, parser, pem
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from app.gm import oids, sm2
from app.gm.errors import GMError
from app.gm.names import Name, decode_text, find_resident_ids, find_uscc
from app.gm.sm3 import sm3

oids.register()

EMPTY_ID = b""
#: SM2 IDs tried when verifying, in order.
VERIFY_IDS: tuple[bytes, ...] = (sm2.DEFAULT_ID, EMPTY_ID)

_IDENTITY_EXT_PREFIXES = ("1.2.156.10260.4.1.", "1.2.86.11.7.", "1.2.156.112562.2.1.1.")
_PRIVATE_EXT_PREFIXES = ("1.2.156.", "1.2.86.")
_LEGAL_RE = re.compile(r"(?:法定代表人|法人代表|法人)\s*[:：=]\s*([^;；,，/|\s]+)")
_CN_CODE_RE = re.compile(r"\s*[@#(（]\s*[0-9A-Za-z]{15,20}\s*[)）]?\s*$")

_STRING_TAGS = {12: "utf-8", 19: "latin-1", 22: "latin-1", 20: "latin-1", 26: "latin-1",
                18: "latin-1", 30: "utf-16-be", 28: "utf-32-be"}

ID_NAMES = {sm2.DEFAULT_ID: "default", EMPTY_ID: "empty"}


def _bad_cert(en_detail: str = "") -> GMError:
    return GMError(
        "无法读取证书：文件不是有效的数字证书，或已损坏、不完整。",
        "Cannot read the certificate: the data is not a valid certificate, or it is damaged or truncated.",
        code="ERR_CERT_FORMAT",
        detail=en_detail,
    )


def texts_from_der(raw: bytes, depth: int = 0) -> list[str]:
    """Every string inside a DER value (recursively), or the bytes as text when not DER."""
    out: list[str] = []
    if depth > 8 or not raw:
        return out
    pos = 0
    parsed_any = False
    while pos < len(raw):
        try:
            class_, method, tag, header, contents, trailer = parser.parse(raw[pos:])
        except ValueError:
            break
        parsed_any = True
        pos += len(header) + len(contents) + len(trailer)
        if method == 1:
            out.extend(texts_from_der(contents, depth + 1))
        elif class_ == 0 and tag in _STRING_TAGS:
            enc = _STRING_TAGS[tag]
            try:
                out.append(contents.decode("utf-8" if enc == "latin-1" else enc))
            except UnicodeDecodeError:
                out.append(decode_text(contents))
        elif class_ == 0 and tag == 4:  # OCTET STRING: nested DER or text
            inner = texts_from_der(contents, depth + 1)
            out.extend(inner or [decode_text(contents)])
        elif class_ == 2:  # context-specific primitive: IA5-like in GeneralName
            out.append(decode_text(contents))
    if not parsed_any or pos != len(raw):
        out.append(decode_text(raw))
    return out


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def sm2_id_that_verifies(public: sm2.PublicKey, signature: bytes, message: bytes | None = None, *,
                         e_of: Callable[[bytes], bytes] | None = None) -> bytes | None:
    """The SM2 ID under which ``signature`` (DER) verifies: GM/T 0009's default ID
    first, then the empty ID OpenSSL uses without ``distid`` (:data:`VERIFY_IDS`);
    None when neither does. The one place for that order (certificate links, CRLs,
    CMS, CSRs). ``e_of(uid)`` supplies e = SM3(Z || message) when the message is not
    at hand (a PDF hashed from disk); otherwise e is computed over ``message``.
    A malformed signature raises :class:`GMError`."""
    for uid in VERIFY_IDS:
        if e_of is not None:
            e = e_of(uid)
        else:
            assert message is not None, "message or e_of is required"
            e = sm2.compute_e(public, message, uid)
        if sm2.verify_digest(public, e, signature):
            return uid
    return None


def _verify_sm2(public: sm2.PublicKey, message: bytes, signature: bytes) -> bytes | None:
    """:func:`sm2_id_that_verifies`, with a malformed signature counting as not verifying."""
    try:
        return sm2_id_that_verifies(public, signature, message)
    except GMError:
        return None


def _sig_alg_ok(algo: Any) -> bool:
    try:
        if algo["algorithm"].dotted not in oids.SM2_SIGNATURE_OIDS:
            return False
        params = algo["parameters"]
        return params.native is None or isinstance(params, core.Null) or params.dump() == b"\x05\x00"
    except (ValueError, KeyError, TypeError):
        return False


class Certificate:
    """An immutable X.509 certificate (SM2 or other; only SM2 keys are usable)."""

    __slots__ = ("_asn1", "_der", "_sig_cache")

    _asn1: asn1_x509.Certificate
    _der: bytes
    _sig_cache: dict[bytes, bytes | None]

    def __init__(self, asn1: asn1_x509.Certificate, der: bytes) -> None:
        object.__setattr__(self, "_asn1", asn1)
        object.__setattr__(self, "_der", der)
        object.__setattr__(self, "_sig_cache", {})

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Certificate is immutable")

    # -- loading ---------------------------------------------------------------------
    @classmethod
    def from_der(cls, der: bytes) -> Certificate:
        der = bytes(der)
        if not der:
            raise _bad_cert("empty input")
        try:
            cert = asn1_x509.Certificate.load(der, strict=True)
            tbs = cert["tbs_certificate"]
            tbs["version"].native  # noqa: B018 - force parsing of the fields we use
            tbs["serial_number"].native  # noqa: B018
            tbs["signature"]["algorithm"].dotted  # noqa: B018
            tbs["issuer"].native  # noqa: B018
            tbs["subject"].native  # noqa: B018
            tbs["validity"].native  # noqa: B018
            tbs["subject_public_key_info"]["algorithm"]["algorithm"].dotted  # noqa: B018
            cert["signature_algorithm"]["algorithm"].dotted  # noqa: B018
            cert["signature_value"].native  # noqa: B018
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise _bad_cert(str(exc)[:200]) from exc
        return cls(cert, der)

    @classmethod
    def from_pem(cls, data: bytes) -> Certificate:
        certs = cls.load_all(data)
        if not certs:
            raise _bad_cert("no CERTIFICATE block in PEM")
        return certs[0]

    @classmethod
    def load(cls, data: bytes) -> Certificate:
        """PEM or DER, whichever ``data`` is."""
        data = bytes(data)
        if pem.detect(data):
            return cls.from_pem(data)
        return cls.from_der(data)

    @classmethod
    def load_all(cls, data: bytes) -> list[Certificate]:
        """Every certificate of a PEM bundle (or the one DER certificate)."""
        data = bytes(data)
        if not pem.detect(data):
            return [cls.from_der(data)]
        out = []
        try:
            for kind, _headers, der in pem.unarmor(data, multiple=True):
                if kind in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
                    out.append(cls.from_der(der))
        except ValueError as exc:
            raise _bad_cert("malformed PEM") from exc
        return out

    # -- encodings -------------------------------------------------------------------
    @property
    def asn1(self) -> asn1_x509.Certificate:
        return self._asn1

    @property
    def der(self) -> bytes:
        return self._der

    @property
    def pem(self) -> bytes:
        return bytes(pem.armor("CERTIFICATE", self._der))

    @property
    def tbs_der(self) -> bytes:
        return bytes(self._asn1["tbs_certificate"].dump())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and other._der == self._der

    def __hash__(self) -> int:
        return hash(self._der)

    def __repr__(self) -> str:
        return f"Certificate(subject={self.subject.rfc4514()!r}, serial={self.serial_hex})"

    # -- names -----------------------------------------------------------------------
    @property
    def _tbs(self) -> Any:
        return self._asn1["tbs_certificate"]

    @property
    def subject(self) -> Name:
        return Name.from_asn1(self._tbs["subject"])

    @property
    def issuer(self) -> Name:
        return Name.from_asn1(self._tbs["issuer"])

    @property
    def common_name(self) -> str | None:
        return self.subject.common_name

    @property
    def is_self_issued(self) -> bool:
        return self.subject.matches(self.issuer)

    @property
    def unit_name(self) -> str | None:
        """The unit (O), or the CN without a trailing code when the unit is named there."""
        subj = self.subject
        if subj.organization:
            return subj.organization
        if subj.common_name:
            return _CN_CODE_RE.sub("", subj.common_name) or subj.common_name
        return None

    def _identity_sources(self) -> list[tuple[str, str]]:
        subj = self.subject
        out: list[tuple[str, str]] = []
        used: set[int] = set()
        order = (
            ("subject.serialNumber", ("2.5.4.5",)),
            ("subject.identifier", ("2.5.4.97", "2.5.4.45", "0.9.2342.19200300.100.1.1")),
            ("subject.OU", ("2.5.4.11",)),
            ("subject.CN", ("2.5.4.3",)),
        )
        for label, wanted in order:
            for i, (oid, _l, value) in enumerate(subj.rdns):
                if oid in wanted:
                    out.append((label, value))
                    used.add(i)
        exts = self._extensions()
        for oid, raw in exts:
            if oid.startswith(_IDENTITY_EXT_PREFIXES):
                out.extend((f"extension:{oid}", t) for t in texts_from_der(raw))
        for oid, raw in exts:
            if oid.startswith(_PRIVATE_EXT_PREFIXES) and not oid.startswith(_IDENTITY_EXT_PREFIXES):
                out.extend((f"extension:{oid}", t) for t in texts_from_der(raw))
        for oid, raw in exts:
            if oid == "2.5.29.17":
                out.extend(("subjectAltName", t) for t in texts_from_der(raw))
        for i, (_oid, label, value) in enumerate(subj.rdns):
            if i not in used:
                out.append((f"subject.{label}", value))
        return out

    def _extensions(self) -> list[tuple[str, bytes]]:
        out = []
        try:
            for ext in self._tbs["extensions"]:
                out.append((ext["extn_id"].dotted, bytes(ext["extn_value"].contents)))
        except (ValueError, TypeError, KeyError):
            pass
        return out

    def _find(self, finder: Any) -> tuple[str, str] | None:
        for label, text in self._identity_sources():
            hits = finder([text])
            if hits:
                return hits[0], label
        return None

    @property
    def unit_code(self) -> str | None:
        """The 18-character unified social credit code, if any (see module docstring)."""
        hit = self._find(find_uscc)
        return hit[0] if hit else None

    @property
    def unit_code_source(self) -> str | None:
        """Where :attr:`unit_code` was found (``"subject.serialNumber"``, ``"extension:1.2…"``…)."""
        hit = self._find(find_uscc)
        return hit[1] if hit else None

    @property
    def id_number(self) -> str | None:
        """An 18-digit resident ID number with a valid check digit, if any."""
        hit = self._find(find_resident_ids)
        return hit[0] if hit else None

    @property
    def legal_name(self) -> str | None:
        """The legal representative's name when the certificate labels one."""
        for _label, text in self._identity_sources():
            m = _LEGAL_RE.search(text)
            if m:
                return m.group(1)
        return None

    # -- serial, validity --------------------------------------------------------------
    @property
    def serial_number(self) -> int:
        return int(self._tbs["serial_number"].native)

    @property
    def serial_hex(self) -> str:
        n = self.serial_number
        return format(n, "X") if n >= 0 else "-" + format(-n, "X")

    @property
    def not_before(self) -> datetime:
        return _aware(self._tbs["validity"]["not_before"].native)

    @property
    def not_after(self) -> datetime:
        return _aware(self._tbs["validity"]["not_after"].native)

    def is_valid_at(self, t: datetime | None = None) -> bool:
        t = _aware(t) if t else _now()
        return self.not_before <= t <= self.not_after

    # -- extensions --------------------------------------------------------------------
    def _ext(self, name: str) -> Any:
        try:
            for ext in self._tbs["extensions"]:
                if ext["extn_id"].native == name:
                    return ext["extn_value"].parsed
        except (ValueError, TypeError, KeyError) as exc:
            raise _bad_cert(f"bad extension {name}") from exc
        return None

    @property
    def key_usage(self) -> frozenset[str]:
        """keyUsage bit names (``digital_signature``, ``key_encipherment``…); empty when absent."""
        ku = self._ext("key_usage")
        if ku is None:
            return frozenset()
        try:
            return frozenset(str(x) for x in ku.native)
        except (ValueError, TypeError) as exc:
            raise _bad_cert("bad keyUsage") from exc

    @property
    def has_key_usage(self) -> bool:
        return self._ext("key_usage") is not None

    @property
    def extended_key_usage(self) -> frozenset[str]:
        eku = self._ext("extended_key_usage")
        return frozenset(str(x) for x in eku.native) if eku is not None else frozenset()

    @property
    def is_timestamping_cert(self) -> bool:
        """RFC 3161 section 2.3: an extendedKeyUsage extension that is critical and
        names id-kp-timeStamping. Only such a certificate may sign time-stamp tokens."""
        try:
            for ext in self._tbs["extensions"]:
                if ext["extn_id"].native == "extended_key_usage":
                    purposes = {str(x) for x in ext["extn_value"].parsed.native}
                    return bool(ext["critical"].native) and "time_stamping" in purposes
        except (ValueError, TypeError, KeyError) as exc:
            raise _bad_cert("bad extendedKeyUsage") from exc
        return False

    @property
    def is_signing_cert(self) -> bool:
        """digitalSignature or nonRepudiation set (a cert without keyUsage counts as both kinds)."""
        if not self.has_key_usage:
            return True
        return bool(self.key_usage & {"digital_signature", "non_repudiation"})

    @property
    def is_encryption_cert(self) -> bool:
        """keyEncipherment, dataEncipherment or keyAgreement set (or no keyUsage at all)."""
        if not self.has_key_usage:
            return True
        return bool(self.key_usage & {"key_encipherment", "data_encipherment", "key_agreement"})

    @property
    def is_ca(self) -> bool:
        bc = self._ext("basic_constraints")
        return bool(bc is not None and bc["ca"].native)

    @property
    def path_len_constraint(self) -> int | None:
        bc = self._ext("basic_constraints")
        if bc is None:
            return None
        v = bc["path_len_constraint"].native
        return int(v) if v is not None else None

    @property
    def ski(self) -> bytes | None:
        v = self._ext("key_identifier")
        return bytes(v.native) if v is not None else None

    @property
    def aki(self) -> bytes | None:
        v = self._ext("authority_key_identifier")
        if v is None or v["key_identifier"].native is None:
            return None
        return bytes(v["key_identifier"].native)

    # -- keys, fingerprints, signatures ------------------------------------------------
    @property
    def public_key(self) -> sm2.PublicKey:
        """The SM2 public key; :class:`GMError` for RSA or other curves."""
        return sm2.PublicKey.from_asn1(self._tbs["subject_public_key_info"])

    @property
    def is_sm2(self) -> bool:
        try:
            self.public_key  # noqa: B018
        except GMError:
            return False
        return True

    @property
    def fingerprint_sm3(self) -> str:
        return sm3(self._der).hex()

    @property
    def issuer_serial(self) -> tuple[bytes, int]:
        """(issuer Name DER, serial) — what a CMS IssuerAndSerialNumber names."""
        return bytes(self._tbs["issuer"].dump()), self.serial_number

    @property
    def signature_algorithm_oid(self) -> str:
        return str(self._asn1["signature_algorithm"]["algorithm"].dotted)

    def signature_id(self, issuer: Certificate) -> bytes | None:
        """The SM2 ID (``DEFAULT_ID`` or ``b""``) under which ``issuer`` signed this
        certificate, or None when the signature does not verify."""
        key = issuer.der
        if key in self._sig_cache:
            return self._sig_cache[key]
        result: bytes | None = None
        try:
            outer, inner = self._asn1["signature_algorithm"], self._tbs["signature"]
            if _sig_alg_ok(outer) and outer["algorithm"].dotted == inner["algorithm"].dotted:
                pub = issuer.public_key
                sig = bytes(self._asn1["signature_value"].native)
                result = _verify_sm2(pub, self.tbs_der, sig)
        except GMError:
            result = None
        self._sig_cache[key] = result
        return result

    def verify_signed_by(self, issuer: Certificate) -> bool:
        """True when ``issuer``'s SM2 key signed this certificate (default ID, else empty ID)."""
        return self.signature_id(issuer) is not None

    # -- display -----------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """JSON-friendly facts for the CLI/GUI."""
        subj = self.subject
        return {
            "subject": subj.to_dict(),
            "issuer": self.issuer.to_dict(),
            "issuer_common_name": self.issuer.common_name,
            "common_name": subj.common_name,
            "unit_name": self.unit_name,
            "unit_code": self.unit_code,
            "unit_code_source": self.unit_code_source,
            "id_number": self.id_number,
            "legal_name": self.legal_name,
            "serial_hex": self.serial_hex,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "valid_now": self.is_valid_at(),
            "key_usage": sorted(self.key_usage),
            "extended_key_usage": sorted(self.extended_key_usage),
            "kind": self.kind,
            "is_ca": self.is_ca,
            "sm2": self.is_sm2,
            "signature_algorithm": self.signature_algorithm_oid,
            "fingerprint_sm3": self.fingerprint_sm3,
        }

    @property
    def kind(self) -> str:
        """``"ca"``, ``"sign"``, ``"enc"``, ``"sign+enc"`` or ``"other"``."""
        if self.is_ca:
            return "ca"
        s, e = self.is_signing_cert, self.is_encryption_cert
        return "sign+enc" if s and e else "sign" if s else "enc" if e else "other"


# -- CRLs ------------------------------------------------------------------------------


class Crl:
    """An X.509 CRL (v2); no fetching, the caller supplies it."""

    __slots__ = ("_asn1", "_der", "_revoked")

    def __init__(self, asn1: asn1_crl.CertificateList, der: bytes) -> None:
        self._asn1 = asn1
        self._der = der
        revoked: dict[int, datetime] = {}
        for entry in asn1["tbs_cert_list"]["revoked_certificates"]:
            revoked[int(entry["user_certificate"].native)] = _aware(entry["revocation_date"].native)
        self._revoked = revoked

    @classmethod
    def from_der(cls, der: bytes) -> Crl:
        der = bytes(der)
        try:
            c = asn1_crl.CertificateList.load(der, strict=True)
            c["tbs_cert_list"]["issuer"].native  # noqa: B018
            c["tbs_cert_list"]["this_update"].native  # noqa: B018
            c["signature"].native  # noqa: B018
            return cls(c, der)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise GMError(
                "无法读取证书吊销列表（CRL）：数据无效或已损坏。",
                "Cannot read the certificate revocation list (CRL): the data is invalid or damaged.",
                code="ERR_CRL_FORMAT",
            ) from exc

    @classmethod
    def load(cls, data: bytes) -> Crl:
        data = bytes(data)
        if pem.detect(data):
            try:
                _kind, _h, der = pem.unarmor(data)
            except ValueError as exc:
                raise GMError("CRL 的 PEM 格式错误。", "Malformed CRL PEM.", code="ERR_CRL_FORMAT") from exc
            return cls.from_der(der)
        return cls.from_der(data)

    @property
    def der(self) -> bytes:
        return self._der

    @property
    def pem(self) -> bytes:
        return bytes(pem.armor("X509 CRL", self._der))

    @property
    def issuer(self) -> Name:
        return Name.from_asn1(self._asn1["tbs_cert_list"]["issuer"])

    @property
    def this_update(self) -> datetime:
        return _aware(self._asn1["tbs_cert_list"]["this_update"].native)

    @property
    def next_update(self) -> datetime | None:
        v = self._asn1["tbs_cert_list"]["next_update"].native
        return _aware(v) if v is not None else None

    @property
    def revoked_serials(self) -> dict[int, datetime]:
        return dict(self._revoked)

    def is_revoked(self, cert: Certificate) -> datetime | None:
        """The revocation date when ``cert`` (same issuer) is listed, else None."""
        if not cert.issuer.matches(self.issuer):
            return None
        return self._revoked.get(cert.serial_number)

    def verify_signed_by(self, issuer: Certificate) -> bool:
        try:
            if not _sig_alg_ok(self._asn1["signature_algorithm"]):
                return False
            tbs = bytes(self._asn1["tbs_cert_list"].dump())
            return _verify_sm2(issuer.public_key, tbs, bytes(self._asn1["signature"].native)) is not None
        except GMError:
            return False


# -- chain verification ------------------------------------------------------------------

#: Problem codes of :class:`ChainResult` with their sentences (zh, en).
PROBLEM_MESSAGES: dict[str, tuple[str, str]] = {
    "NO_ISSUER": ("找不到签发该证书的受信任 CA 证书。", "No trusted CA certificate issued this certificate."),
    "UNTRUSTED_ROOT": ("证书链的根证书不在受信任列表中。", "The chain ends at a root that is not trusted."),
    "BAD_SIGNATURE": ("证书签名验证失败，证书可能被篡改。", "The certificate signature does not verify; it may have been altered."),
    "EXPIRED": ("证书已过期。", "The certificate has expired."),
    "NOT_YET_VALID": ("证书尚未生效。", "The certificate is not yet valid."),
    "NOT_CA": ("签发者证书不是 CA 证书（缺少 CA 标志）。", "The issuer certificate is not a CA (basicConstraints CA flag missing)."),
    "NO_KEY_CERT_SIGN": ("签发者证书不允许签发证书（缺少 keyCertSign）。", "The issuer certificate may not sign certificates (keyCertSign missing)."),
    "PATH_TOO_LONG": ("证书链长度超过 CA 的限制。", "The chain is longer than a CA allows."),
    "REVOKED": ("证书已被吊销。", "The certificate has been revoked."),
    "CRL_BAD_SIGNATURE": ("吊销列表的签名无效，已忽略。", "A revocation list has an invalid signature and was ignored."),
    "CRL_EXPIRED": ("吊销列表已过期，吊销状态可能不是最新。", "A revocation list is out of date; revocation status may be stale."),
    "NOT_SM2": ("证书不是 SM2 证书。", "The certificate does not hold an SM2 key."),
}


@dataclass(frozen=True)
class ChainProblem:
    code: str
    subject: str
    zh: str
    en: str


@dataclass(frozen=True)
class ChainResult:
    """Outcome of :func:`verify_chain`; ``trusted`` is True only without problems."""

    trusted: bool
    path: list[Certificate]
    problems: list[str]
    details: list[ChainProblem] = field(default_factory=list)
    #: SM2 ID that verified each link (path[i] signed by path[i+1]): "default" or "empty".
    link_ids: list[str] = field(default_factory=list)

    def messages(self, lang: str = "zh") -> list[str]:
        en = lang.lower().startswith("en")
        return [f"{p.subject}: {p.en if en else p.zh}" for p in self.details]


def _issuer_candidates(cert: Certificate, pool: Iterable[Certificate]) -> list[Certificate]:
    out = []
    aki = cert.aki
    for cand in pool:
        if cand == cert and not cert.is_self_issued:
            continue
        if not cand.subject.matches(cert.issuer):
            continue
        ski = cand.ski
        if aki is not None and ski is not None and aki != ski:
            continue
        out.append(cand)
    # Prefer candidates whose key actually verifies.
    out.sort(key=lambda c: not cert.verify_signed_by(c))
    return out


def verify_chain(
    leaf: Certificate,
    roots: Sequence[Certificate],
    intermediates: Sequence[Certificate] = (),
    at: datetime | None = None,
    crls: Sequence[Crl] = (),
) -> ChainResult:
    """Build and check a path from ``leaf`` to one of ``roots`` (trust anchors).

    Checks every link's SM2 signature (default ID, then empty ID), validity of every
    certificate at ``at`` (default now), CA flag, keyCertSign and pathLen on issuers,
    issuer/subject names and AKI/SKI, and revocation in the given CRLs (only CRLs
    signed by the certificate's issuer count). The anchor's own signature is not
    checked: it is trusted because it is configured.
    """
    t = _aware(at) if at else _now()
    details: list[ChainProblem] = []
    link_ids: list[str] = []

    def problem(code: str, cert: Certificate) -> None:
        zh, en = PROBLEM_MESSAGES[code]
        details.append(ChainProblem(code, cert.common_name or cert.subject.rfc4514(), zh, en))

    root_set = set(roots)
    pool = list(roots) + [c for c in intermediates if c not in root_set]
    path = [leaf]
    cur = leaf
    anchored = cur in root_set
    while not anchored and len(path) < 10:
        cands = _issuer_candidates(cur, pool)
        cands = [c for c in cands if c not in path]
        if not cands:
            if cur.is_self_issued:
                problem("UNTRUSTED_ROOT", cur)
            else:
                problem("NO_ISSUER", cur)
            break
        issuer = cands[0]
        uid = cur.signature_id(issuer)
        if uid is None:
            problem("BAD_SIGNATURE", cur)
        else:
            link_ids.append(ID_NAMES[uid])
        path.append(issuer)
        cur = issuer
        anchored = cur in root_set

    if not leaf.is_sm2:
        problem("NOT_SM2", leaf)
    non_self_issued_below = 0
    for i, cert in enumerate(path):
        if t < cert.not_before:
            problem("NOT_YET_VALID", cert)
        elif t > cert.not_after:
            problem("EXPIRED", cert)
        if i > 0:
            if not cert.is_ca:
                problem("NOT_CA", cert)
            if cert.has_key_usage and "key_cert_sign" not in cert.key_usage:
                problem("NO_KEY_CERT_SIGN", cert)
            plc = cert.path_len_constraint
            if plc is not None and non_self_issued_below - 1 > plc:
                problem("PATH_TOO_LONG", cert)
        if not cert.is_self_issued:
            non_self_issued_below += 1
        if i + 1 < len(path):
            _check_revocation(cert, path[i + 1], crls, t, problem)

    codes = list(dict.fromkeys(p.code for p in details))
    trusted = anchored and not codes
    return ChainResult(trusted=trusted, path=path, problems=codes, details=details, link_ids=link_ids)


def _check_revocation(cert: Certificate, issuer: Certificate, crls: Sequence[Crl], t: datetime,
                      problem: Callable[[str, Certificate], None]) -> None:
    for crl in crls:
        if not crl.issuer.matches(cert.issuer):
            continue
        if not crl.verify_signed_by(issuer):
            problem("CRL_BAD_SIGNATURE", cert)
            continue
        nu = crl.next_update
        if nu is not None and t > nu:
            problem("CRL_EXPIRED", cert)
        when = crl.is_revoked(cert)
        if when is not None and when <= t:
            problem("REVOKED", cert)
            return
