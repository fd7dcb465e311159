"""A small SM2/SM3 demo PKI: root CA, CSRs, dual certificates, CRLs, key envelopes.

Pure: every function returns objects or bytes and writes nothing; the CLI
(``bidseal pki demo``) decides where files go. Everything here is for demos and
tests; a real bidder's keys come from their CA and stay in the UKey.

Subject layout (our choice, modelled on common Chinese unit certificates, and read
back by :class:`app.gm.x509.Certificate`):

* unit certificate (机构证书, ``person_name`` unset):
  ``C, ST, L, O=<unit>, [OU=<ou>], CN=<unit>, serialNumber=<USCC>`` and, when a
  legal representative is given, ``description="法定代表人:<name>[;身份证号:<id>]"``;
* personal certificate of a unit's employee (机构个人证书, ``person_name`` set):
  ``C, ST, L, O=<unit>, [OU=<ou>], OU=<USCC>, CN=<person>,
  serialNumber=<person ID, else USCC>`` — the unit code moves to an OU so that the
  person's ID number can sit in serialNumber, as several CAs do.

Key usages: ``sign`` = digitalSignature + nonRepudiation; ``enc`` =
keyEncipherment + dataEncipherment + keyAgreement; ``ca`` = keyCertSign + cRLSign
with basicConstraints CA; ``tsa`` = digitalSignature + nonRepudiation with a
critical extendedKeyUsage timeStamping. Key identifiers are the first 20 bytes of
SM3 over the public key BIT STRING (RFC 5280 method 1 with SM3 instead of SHA-1).
All signatures are SM2-with-SM3 (1.2.156.10197.1.501, no parameters) with the
GM/T 0009 default ID, so ``openssl verify -vfyopt distid:1234567812345678`` accepts
them.

:func:`enveloped_key_for` builds the GB/T 35276 ``SM2EnvelopedKey`` a CA's key
management centre sends with an encryption certificate (GM/T 0092), and
:func:`skf_enveloped_key_blob` turns it into the SKF ``ENVELOPEDKEYBLOB`` for
``SKF_ImportECCKeyPair``. The private key is SM4-ECB encrypted as the full 64-byte
SKF field (32 zero bytes, then the key), the convention of GmSSL's helper; the
standard's "effective length (ulBits+7)/8" wording may mean only the 32 key bytes —
:func:`open_enveloped_key` accepts both, the SKF conversion only the 64-byte form.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from asn1crypto import core
from asn1crypto import crl as asn1_crl
from asn1crypto import csr as asn1_csr
from asn1crypto import x509 as asn1_x509

from app.gm import oids, sm2, sm4
from app.gm.errors import GMError
from app.gm.keyops import SoftwareSigner, SoftwareUnwrapper
from app.gm.names import (
    Name,
    build_name,
    is_valid_resident_id,
    is_valid_uscc,
    make_resident_id,
    make_uscc,
)
from app.gm.names import resident_id_check_digit as resident_id_check_digit  # re-exported
from app.gm.names import uscc_check_digit as uscc_check_digit  # re-exported
from app.gm.sm2.encoding import SKF_FIELD, SKF_PUBLIC_KEY_BLOB_SIZE
from app.gm.sm3 import sm3
from app.gm.x509 import Certificate, Crl, sm2_id_that_verifies

oids.register()

Usage = Literal["sign", "enc", "ca", "tsa"]
SignerFn = Callable[[bytes], bytes]

#: The demo unit's code: a valid GB 32100 USCC (Shenyang region 210100).
DEMO_UNIT_CODE = make_uscc("91210100MA0Y8B6K2")
#: The demo legal representative's resident ID (valid GB 11643 check digit).
DEMO_LEGAL_ID = make_resident_id("21010219800101001")
#: The trading centre that owns the emergency decryption key.
DEMO_CENTRE_NAME = "沈阳市公共资源交易中心"
DEMO_CENTRE_CODE = make_uscc("12210100MB1234567")

_SIG_ALG = {"algorithm": oids.SM2_WITH_SM3}
SGD_SM4_ECB = 0x401
ENVELOPED_KEY_BLOB_SIZE = 12 + SKF_FIELD + SKF_PUBLIC_KEY_BLOB_SIZE + 164 + 16


# -- subjects ------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Who a certificate is for (see the module docstring for the layout)."""

    unit_name: str
    unit_code: str | None = None
    legal_name: str | None = None
    legal_id: str | None = None
    person_name: str | None = None
    person_id: str | None = None
    country: str = "CN"
    province: str | None = "辽宁省"
    locality: str | None = "沈阳市"
    ou: str | None = None
    #: CN override (CAs, TSA); defaults to the person or unit name.
    common_name: str | None = None

    def validate(self) -> None:
        if not self.unit_name.strip():
            raise GMError("单位名称不能为空。", "The unit name must not be empty.")
        if self.unit_code is not None and not is_valid_uscc(self.unit_code):
            raise GMError(
                f"统一社会信用代码“{self.unit_code}”无效：应为 18 位，且校验位正确（GB 32100）。",
                f"The unified social credit code '{self.unit_code}' is invalid: it must have 18 "
                "characters and a correct check character (GB 32100).",
                code="ERR_INVALID_UNIT_CODE",
                unit_code=self.unit_code,
            )
        for label_zh, label_en, value in (("法定代表人", "legal representative", self.legal_id),
                                          ("持证人", "holder", self.person_id)):
            if value is not None and not is_valid_resident_id(value):
                raise GMError(
                    f"{label_zh}身份证号码无效（位数、出生日期或校验位不对）。",
                    f"The {label_en}'s resident ID number is invalid (length, birth date or check digit).",
                    code="ERR_INVALID_ID_NUMBER",
                )

    def to_name(self) -> asn1_x509.Name:
        self.validate()
        attrs: list[tuple[str, str]] = [("country_name", self.country)]
        if self.province:
            attrs.append(("state_or_province_name", self.province))
        if self.locality:
            attrs.append(("locality_name", self.locality))
        attrs.append(("organization_name", self.unit_name))
        if self.ou:
            attrs.append(("organizational_unit_name", self.ou))
        if self.person_name:
            if self.unit_code:
                attrs.append(("organizational_unit_name", self.unit_code))
            attrs.append(("common_name", self.common_name or self.person_name))
            serial = self.person_id or self.unit_code
        else:
            attrs.append(("common_name", self.common_name or self.unit_name))
            serial = self.unit_code
        if serial:
            attrs.append(("serial_number", serial))
        if self.legal_name:
            desc = f"法定代表人:{self.legal_name}"
            if self.legal_id:
                desc += f";身份证号:{self.legal_id}"
            attrs.append(("2.5.4.13", desc))
        return build_name(attrs)


def _as_name(subject: Subject | Name | asn1_x509.Name) -> asn1_x509.Name:
    if isinstance(subject, Subject):
        return subject.to_name()
    if isinstance(subject, Name):
        return subject.to_asn1()
    return subject


# -- helpers -------------------------------------------------------------------------


def _time(dt: datetime) -> asn1_x509.Time:
    dt = dt.astimezone(UTC).replace(microsecond=0)
    if dt.year < 2050:
        return asn1_x509.Time(name="utc_time", value=dt)
    return asn1_x509.Time(name="general_time", value=dt)


def key_identifier(public_key: sm2.PublicKey) -> bytes:
    """SKI: first 20 bytes of SM3 over the public key bits (04||X||Y)."""
    return sm3(public_key.to_bytes())[:20]


def random_serial() -> int:
    """A positive serial of exactly 16 bytes (top bit clear, so DER needs no sign byte)."""
    return secrets.randbits(127) | (1 << 126)


def _software_sign(key: sm2.PrivateKey) -> SignerFn:
    return lambda e: sm2.sign_digest(key, e)


def _ext(name: str, value: Any, critical: bool = False) -> dict[str, Any]:
    return {"extn_id": name, "critical": critical, "extn_value": value}


def _usage_extensions(usage: Usage, path_len: int | None = None) -> list[dict[str, Any]]:
    if usage == "ca":
        bc: dict[str, Any] = {"ca": True}
        if path_len is not None:
            bc["path_len_constraint"] = path_len
        return [
            _ext("basic_constraints", bc, True),
            _ext("key_usage", {"key_cert_sign", "crl_sign"}, True),
        ]
    exts = [_ext("basic_constraints", {"ca": False}, True)]
    if usage in ("sign", "tsa"):
        exts.append(_ext("key_usage", {"digital_signature", "non_repudiation"}, True))
    elif usage == "enc":
        exts.append(_ext("key_usage", {"key_encipherment", "data_encipherment", "key_agreement"}, True))
    else:
        raise GMError(f"未知的证书用途：{usage}", f"Unknown certificate usage: {usage}")
    if usage == "tsa":
        exts.append(_ext("extended_key_usage", ["time_stamping"], True))
    return exts


def _raw_extension(oid: str, value: bytes, critical: bool = False) -> asn1_x509.Extension:
    ext = asn1_x509.Extension({"extn_id": oid, "critical": critical})
    ext["extn_value"] = core.ParsableOctetString(value)
    return ext


def _sign_tbs(tbs: Any, key: sm2.PrivateKey, uid: bytes) -> bytes:
    return sm2.sign(key, bytes(tbs.dump()), uid)


# -- certificate authority -------------------------------------------------------------


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA certificate with its software SM2 key (demo and tests only)."""

    certificate: Certificate
    key: sm2.PrivateKey

    @classmethod
    def create_root(
        cls,
        name: str = "BidSeal Demo Root CA",
        org: str = "BidSeal 演示 CA",  # DEMO_CA_ORG
        days: int = 3650,
        key: sm2.PrivateKey | None = None,
        *,
        not_before: datetime | None = None,
    ) -> CertificateAuthority:
        """A self-signed SM2 root CA."""
        key = key or sm2.PrivateKey.generate()
        subject = build_name([("country_name", "CN"), ("organization_name", org), ("common_name", name)])
        nb = not_before or datetime.now(UTC) - timedelta(minutes=5)
        cert = _issue(
            issuer_name=subject, issuer_key=key, issuer_ski=key_identifier(key.public_key),
            public_key=key.public_key, subject=subject, usage="ca", serial=random_serial(),
            not_before=nb, not_after=nb + timedelta(days=days),
        )
        return cls(cert, key)

    def create_intermediate(
        self,
        name: str,
        org: str = "BidSeal 演示 CA",
        days: int = 1825,
        key: sm2.PrivateKey | None = None,
        path_len: int | None = 0,
    ) -> CertificateAuthority:
        key = key or sm2.PrivateKey.generate()
        subject = build_name([("country_name", "CN"), ("organization_name", org), ("common_name", name)])
        cert = self.issue(key.public_key, subject, "ca", days=days, path_len=path_len)
        return CertificateAuthority(cert, key)

    def issue(
        self,
        public_key: sm2.PublicKey,
        subject: Subject | Name | asn1_x509.Name,
        usage: Usage = "sign",
        serial: int | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        days: int = 730,
        *,
        extra_extensions: Sequence[tuple[str, bytes, bool]] = (),
        path_len: int | None = None,
        sign_id: bytes = sm2.DEFAULT_ID,
    ) -> Certificate:
        """Issue a certificate for ``public_key``.

        ``extra_extensions`` are ``(oid, DER value, critical)`` triples added verbatim
        (tests use them to place identity codes the way other CAs do); ``sign_id`` is
        the SM2 ID used for the CA signature (``b""`` imitates OpenSSL without distid).
        """
        nb = not_before or datetime.now(UTC) - timedelta(minutes=5)
        na = not_after or nb + timedelta(days=days)
        if na <= nb:
            raise GMError("证书有效期结束时间早于开始时间。", "The validity period ends before it starts.")
        return _issue(
            issuer_name=self.certificate.asn1["tbs_certificate"]["subject"],
            issuer_key=self.key, issuer_ski=self.certificate.ski,
            public_key=public_key, subject=_as_name(subject), usage=usage,
            serial=serial if serial is not None else random_serial(),
            not_before=nb, not_after=na, extra_extensions=extra_extensions,
            path_len=path_len, sign_id=sign_id,
        )

    def issue_from_csr(self, csr_der: bytes, usage: Usage = "sign", **kwargs: Any) -> Certificate:
        """Verify a PKCS#10 request and issue a certificate for its key and subject."""
        public_key, name = verify_csr(csr_der)
        return self.issue(public_key, name, usage, **kwargs)

    def make_crl(
        self,
        revoked: Sequence[tuple[int, datetime]],
        next_update: datetime | None = None,
        *,
        this_update: datetime | None = None,
        crl_number: int = 1,
    ) -> Crl:
        """A v2 CRL listing ``(serial, revocation date)`` pairs, signed with SM2-with-SM3."""
        tu = this_update or datetime.now(UTC) - timedelta(minutes=1)
        nu = next_update or tu + timedelta(days=7)
        entries = [
            {"user_certificate": serial, "revocation_date": _time(when)} for serial, when in revoked
        ]
        exts: list[dict[str, Any]] = [{"extn_id": "crl_number", "critical": False, "extn_value": crl_number}]
        if self.certificate.ski:
            exts.append({"extn_id": "authority_key_identifier", "critical": False,
                         "extn_value": {"key_identifier": self.certificate.ski}})
        tbs = asn1_crl.TbsCertList({
            "version": "v2",
            "signature": _SIG_ALG,
            "issuer": self.certificate.asn1["tbs_certificate"]["subject"],
            "this_update": _time(tu),
            "next_update": _time(nu),
            "revoked_certificates": entries,
            "crl_extensions": exts,
        })
        sig = _sign_tbs(tbs, self.key, sm2.DEFAULT_ID)
        crl = asn1_crl.CertificateList({"tbs_cert_list": tbs, "signature_algorithm": _SIG_ALG, "signature": sig})
        return Crl.from_der(bytes(crl.dump()))


def _issue(
    *,
    issuer_name: asn1_x509.Name,
    issuer_key: sm2.PrivateKey,
    issuer_ski: bytes | None,
    public_key: sm2.PublicKey,
    subject: asn1_x509.Name,
    usage: Usage,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    extra_extensions: Sequence[tuple[str, bytes, bool]] = (),
    path_len: int | None = None,
    sign_id: bytes = sm2.DEFAULT_ID,
) -> Certificate:
    if serial <= 0:
        raise GMError("证书序列号必须为正数。", "A certificate serial number must be positive.")
    exts = [asn1_x509.Extension(e) for e in _usage_extensions(usage, path_len)]
    exts.append(asn1_x509.Extension(_ext("key_identifier", key_identifier(public_key))))
    if issuer_ski:
        exts.append(asn1_x509.Extension(_ext("authority_key_identifier", {"key_identifier": issuer_ski})))
    exts.extend(_raw_extension(oid, value, critical) for oid, value, critical in extra_extensions)
    tbs = asn1_x509.TbsCertificate({
        "version": "v3",
        "serial_number": serial,
        "signature": _SIG_ALG,
        "issuer": issuer_name,
        "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
        "subject": subject,
        "subject_public_key_info": public_key.to_asn1(),
        "extensions": exts,
    })
    sig = _sign_tbs(tbs, issuer_key, sign_id)
    cert = asn1_x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": _SIG_ALG,
                                  "signature_value": sig})
    return Certificate.from_der(bytes(cert.dump()))


# -- PKCS#10 ---------------------------------------------------------------------------


def build_csr(subject: Subject | Name | asn1_x509.Name, public_key: sm2.PublicKey, signer_fn: SignerFn) -> bytes:
    """A PKCS#10 request signed with SM2-with-SM3 (default ID).

    ``signer_fn(e)`` receives e = SM3(Z(default ID, public_key) || DER(info)) and
    returns the DER signature, so a UKey can sign its own request (SKF_ECCSignData).
    """
    info = asn1_csr.CertificationRequestInfo({
        "version": "v1",
        "subject": _as_name(subject),
        "subject_pk_info": public_key.to_asn1(),
        "attributes": [],
    })
    e = sm2.compute_e(public_key, bytes(info.dump()))
    sig = signer_fn(e)
    if not sm2.verify_digest(public_key, e, sig):
        raise GMError("证书请求的签名与公钥不匹配。", "The request signature does not match the public key.")
    req = asn1_csr.CertificationRequest({
        "certification_request_info": info,
        "signature_algorithm": _SIG_ALG,
        "signature": sig,
    })
    return bytes(req.dump())


def verify_csr(der: bytes) -> tuple[sm2.PublicKey, Name]:
    """Check a PKCS#10 request's SM2 self-signature (default ID, then empty ID)."""
    try:
        req = asn1_csr.CertificationRequest.load(bytes(der), strict=True)
        info = req["certification_request_info"]
        info["subject"].native  # noqa: B018
        algo = req["signature_algorithm"]["algorithm"].dotted
        sig = bytes(req["signature"].native)
        public_key = sm2.PublicKey.from_asn1(info["subject_pk_info"])
        name = Name.from_asn1(info["subject"])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise GMError("证书请求（CSR）格式错误。", "The certificate request (CSR) is malformed.",
                      code="ERR_CSR_FORMAT") from exc
    if algo not in oids.SM2_SIGNATURE_OIDS:
        raise GMError("证书请求不是 SM2 签名。", "The certificate request is not SM2-signed.", algorithm=algo)
    tbs = bytes(info.dump())
    if sm2_id_that_verifies(public_key, sig, tbs) is not None:
        return public_key, name
    raise GMError("证书请求的签名无效。", "The certificate request signature is invalid.", code="ERR_CSR_SIGNATURE")


# -- GB/T 35276 SM2EnvelopedKey ------------------------------------------------------------


class _AlgId(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class SM2EnvelopedKey(core.Sequence):
    """GB/T 35276 / GM/T 0092 SM2EnvelopedKey."""

    _fields = [
        ("sym_alg_id", _AlgId),
        ("sym_encrypted_key", core.Any),  # SM2Cipher
        ("sm2_public_key", core.OctetBitString),
        ("sm2_encrypted_private_key", core.OctetBitString),
    ]


def enveloped_key_for(enc_key: sm2.PrivateKey, protect_with: sm2.PublicKey) -> bytes:
    """Wrap an encryption key pair for delivery to a UKey.

    A random SM4 key encrypts (ECB, no padding) the 64-byte SKF private-key field;
    the SM4 key is SM2-encrypted to ``protect_with`` — the container's SIGNING public
    key, whose private half is already inside the UKey.
    """
    sym = secrets.token_bytes(sm4.KEY_SIZE)
    field64 = enc_key.to_bytes().rjust(SKF_FIELD, b"\0")
    enc_priv = sm4.ecb_encrypt(sym, field64)
    cipher = sm2.encrypt(protect_with, sym, sm2.CipherFormat.ASN1)
    env = SM2EnvelopedKey({
        "sym_alg_id": {"algorithm": oids.SM4_ECB},
        "sym_encrypted_key": core.Any.load(cipher),
        "sm2_public_key": enc_key.public_key.to_bytes(),
        "sm2_encrypted_private_key": enc_priv,
    })
    return bytes(env.dump())


@dataclass(frozen=True)
class ParsedEnvelopedKey:
    sym_alg_oid: str
    sym_encrypted_key: sm2.SM2Ciphertext
    public_key: sm2.PublicKey
    encrypted_private_key: bytes


def parse_enveloped_key(der: bytes) -> ParsedEnvelopedKey:
    try:
        env = SM2EnvelopedKey.load(bytes(der), strict=True)
        alg = env["sym_alg_id"]["algorithm"].dotted
        ct = sm2.SM2Ciphertext.decode(env["sym_encrypted_key"].dump(), sm2.CipherFormat.ASN1)
        pub = sm2.PublicKey.from_bytes(bytes(env["sm2_public_key"].native))
        enc_priv = bytes(env["sm2_encrypted_private_key"].native)
    except (ValueError, TypeError, KeyError) as exc:
        raise GMError("加密密钥信封（SM2EnvelopedKey）格式错误。", "The SM2EnvelopedKey is malformed.",
                      code="ERR_ENVELOPED_KEY") from exc
    if alg not in (oids.SM4_ECB, oids.SM4):
        raise GMError("加密密钥信封使用了不支持的对称算法。", "The SM2EnvelopedKey uses an unsupported cipher.",
                      code="ERR_ENVELOPED_KEY", algorithm=alg)
    if len(enc_priv) not in (32, 64):
        raise GMError("加密私钥长度不正确。", "The encrypted private key has the wrong length.",
                      code="ERR_ENVELOPED_KEY", length=len(enc_priv))
    return ParsedEnvelopedKey(alg, ct, pub, enc_priv)


def open_enveloped_key(der: bytes, protect_key: sm2.PrivateKey) -> sm2.PrivateKey:
    """Software inverse of :func:`enveloped_key_for` (what the UKey does on import)."""
    p = parse_enveloped_key(der)
    sym = sm2.decrypt_parts(protect_key, p.sym_encrypted_key)
    plain = sm4.ecb_decrypt(sym, p.encrypted_private_key)
    if len(plain) == 64:
        if any(plain[:32]):
            raise GMError("解出的私钥格式不对（高位不为零）。", "The unwrapped private key field is malformed.",
                          code="ERR_ENVELOPED_KEY")
        plain = plain[32:]
    key = sm2.PrivateKey.from_bytes(plain)
    if key.public_key != p.public_key:
        raise GMError("解出的私钥与信封中的公钥不匹配。", "The unwrapped private key does not match its public key.",
                      code="ERR_ENVELOPED_KEY")
    return key


@dataclass(frozen=True)
class SkfEnvelopedKeyBlob:
    version: int
    sym_alg_id: int
    bits: int
    encrypted_private_key: bytes
    public_key: sm2.PublicKey
    cipher: sm2.SM2Ciphertext


def skf_enveloped_key_blob(envelope_der: bytes) -> bytes:
    """SKF ENVELOPEDKEYBLOB (GM/T 0016) for SKF_ImportECCKeyPair.

    Layout (little-endian ULONGs): Version=1 @0, ulSymmAlgID=0x401 (SM4-ECB) @4,
    ulBits=256 @8, cbEncryptedPriKey[64] @12, PubKey ECCPUBLICKEYBLOB(132) @76,
    ECCCipherBlob (164 + 16 bytes) @208 — 388 bytes in total.
    """
    p = parse_enveloped_key(envelope_der)
    if len(p.encrypted_private_key) != 64:
        raise GMError(
            "该加密私钥只有 32 字节，无法确定 SKF 所需的 64 字节格式。",
            "The encrypted private key is 32 bytes; the 64-byte SKF layout cannot be derived from it.",
            code="ERR_ENVELOPED_KEY",
        )
    if len(p.sym_encrypted_key.c2) != sm4.KEY_SIZE:
        raise GMError("信封中的对称密钥不是 16 字节。", "The wrapped symmetric key is not 16 bytes.",
                      code="ERR_ENVELOPED_KEY")
    blob = (
        (1).to_bytes(4, "little") + SGD_SM4_ECB.to_bytes(4, "little") + (256).to_bytes(4, "little")
        + p.encrypted_private_key + p.public_key.to_skf_blob() + p.sym_encrypted_key.to_skf_blob()
    )
    assert len(blob) == ENVELOPED_KEY_BLOB_SIZE
    return blob


def parse_skf_enveloped_key_blob(blob: bytes) -> SkfEnvelopedKeyBlob:
    """Inverse of :func:`skf_enveloped_key_blob` (tests, diagnostics)."""
    if len(blob) < 208 + 165:
        raise GMError("ENVELOPEDKEYBLOB 数据过短。", "The ENVELOPEDKEYBLOB is too short.", length=len(blob))
    return SkfEnvelopedKeyBlob(
        version=int.from_bytes(blob[0:4], "little"),
        sym_alg_id=int.from_bytes(blob[4:8], "little"),
        bits=int.from_bytes(blob[8:12], "little"),
        encrypted_private_key=bytes(blob[12:76]),
        public_key=sm2.PublicKey.from_skf_blob(bytes(blob[76:208])),
        cipher=sm2.SM2Ciphertext.from_skf_blob(bytes(blob[208:])),
    )


# -- the demo PKI ------------------------------------------------------------------------

#: The organisation every certificate of the demo CA (and the CA itself) carries.
DEMO_CA_ORG = "BidSeal 演示 CA"


def is_demo_certificate(cert: Certificate) -> bool:
    """True for a certificate issued by (or being) a BidSeal demo CA: it may appear in a
    demo or a test, never on a real bid. A marker for reports, not a trust decision."""
    issuer = cert.issuer
    return issuer.organization == DEMO_CA_ORG or (issuer.common_name or "").startswith("BidSeal Demo")


@dataclass(frozen=True)
class DemoPKI:
    """A root CA and everything a demo bidder and trading centre need."""

    root: CertificateAuthority
    subject: Subject
    sign_cert: Certificate
    sign_key: sm2.PrivateKey
    enc_cert: Certificate
    enc_key: sm2.PrivateKey
    #: GB/T 35276 envelope of ``enc_key`` protected by the signing public key.
    enc_key_envelope: bytes
    emergency_cert: Certificate
    emergency_key: sm2.PrivateKey
    tsa_cert: Certificate
    tsa_key: sm2.PrivateKey

    @property
    def root_cert(self) -> Certificate:
        return self.root.certificate

    def signer(self) -> SoftwareSigner:
        return SoftwareSigner(self.sign_cert, self.sign_key)

    def unwrapper(self) -> SoftwareUnwrapper:
        return SoftwareUnwrapper(self.enc_cert, self.enc_key)

    def emergency_unwrapper(self) -> SoftwareUnwrapper:
        return SoftwareUnwrapper(self.emergency_cert, self.emergency_key)


def demo_pki(
    unit_name: str = "辽宁示例建设工程有限公司",
    unit_code: str = DEMO_UNIT_CODE,
    legal_name: str | None = "张三",
    legal_id: str | None = DEMO_LEGAL_ID,
    *,
    root_name: str = "BidSeal Demo Root CA",
    days: int = 730,
) -> DemoPKI:
    """Build a complete demo PKI in memory (all SM2/SM3, realistic Chinese subjects).

    The signing certificate goes through the real flow: a CSR signed by the
    "UKey" signing key, verified and issued by the root.
    """
    subject = Subject(unit_name=unit_name, unit_code=unit_code, legal_name=legal_name, legal_id=legal_id)
    subject.validate()
    root = CertificateAuthority.create_root(name=root_name)
    sign_key = sm2.PrivateKey.generate()
    csr = build_csr(subject, sign_key.public_key, _software_sign(sign_key))
    sign_cert = root.issue_from_csr(csr, "sign", days=days)
    enc_key = sm2.PrivateKey.generate()
    enc_cert = root.issue(enc_key.public_key, subject, "enc", days=days)
    envelope = enveloped_key_for(enc_key, sign_key.public_key)
    centre = Subject(unit_name=DEMO_CENTRE_NAME, unit_code=DEMO_CENTRE_CODE, ou="应急解密")
    em_key = sm2.PrivateKey.generate()
    em_cert = root.issue(em_key.public_key, centre, "enc", days=days)
    tsa_key = sm2.PrivateKey.generate()
    tsa_subject = Subject(unit_name="BidSeal 演示 CA", common_name="BidSeal 演示时间戳服务",
                          province=None, locality=None)
    tsa_cert = root.issue(tsa_key.public_key, tsa_subject, "tsa", days=days)
    return DemoPKI(
        root=root, subject=subject, sign_cert=sign_cert, sign_key=sign_key,
        enc_cert=enc_cert, enc_key=enc_key, enc_key_envelope=envelope,
        emergency_cert=em_cert, emergency_key=em_key, tsa_cert=tsa_cert, tsa_key=tsa_key,
    )

