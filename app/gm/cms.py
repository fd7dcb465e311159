"""CMS / PKCS#7 with SM2, SM3 and SM4 (GM/T 0010 = GB/T 35275), via asn1crypto.

Signing (:func:`sign_detached`)
-------------------------------
Detached SignedData, the shape that both OpenSSL-style PDF validators and GM tools
accept (standards.md §3.3): version 1, digestAlgorithms {SM3}, encapContentInfo
``data`` without content, certificates = signer + chain, one SignerInfo (version 1,
issuerAndSerialNumber, SM3, signed attributes contentType, messageDigest,
signingTime, signingCertificateV2 with an SM3 ESSCertIDv2), signatureAlgorithm
SM2-with-SM3 (1.2.156.10197.1.501) and
``signature = SM2(e)``, ``e = SM3(Z(default ID, signer key) || DER(signedAttrs as SET))``.
The signing device is called exactly once. For PDF placeholders the work is split:
:func:`prepare_signed_attributes` → one ``sign_digest(e)`` → :func:`assemble`, and
:func:`estimate_size` builds the same CMS with a 72-byte dummy signature.

Verification (:func:`verify_detached`)
--------------------------------------
Accepts both content-type families (PKCS#7 1.2.840.113549.1.7.x and GM/T 0010
1.2.156.10197.6.1.4.2.x), signature OIDs 501, 301.1, 301 and id-ecPublicKey with
absent or NULL parameters, DER followed by zero padding (PDF ``/Contents``), the
GM default ID and — as a recorded fallback — the empty ID OpenSSL uses.

What exactly is verified:

* with signed attributes: the SM2 signature over
  ``SM3(Z || DER(signedAttrs re-tagged as SET OF, 0x31))`` using the bytes as they
  appear in the message (never re-encoded); the messageDigest attribute is compared
  with the given digest (or SM3 of the given/encapsulated content); contentType must
  be present and equal eContentType; an ESS signingCertificate(V2) hash, when
  present, must match the signer certificate;
* without signed attributes (GM/T 0010 allows it; ofdrw signs this way): with the
  content at hand, the signature over ``SM3(Z(default ID) || content)``, then the
  empty ID, then plain ``e = SM3(content)`` with no Z (what OpenSSL's ``cms -verify``
  checks); with only the digest, ``e = digest`` (no Z) is the only thing that can be
  checked — :attr:`SignedDataInfo.sm2_id` then reads ``"none"``.

Envelopes (:func:`envelope`, :func:`open_envelope`)
---------------------------------------------------
EnvelopedData with SM2 key transport: a random SM4 key encrypts the content in
SM4-CBC (PKCS#7 padding, IV as the OCTET STRING algorithm parameter), and each
recipient gets a KeyTransRecipientInfo (issuerAndSerialNumber, 1.2.156.10197.1.301.3,
encryptedKey = DER SM2Cipher). **EnvelopedData has no integrity protection**: CBC
ciphertext can be altered without detection (only a padding error may show), so
sign the content inside, or use the authenticated bid envelope for bid files.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

import asn1crypto.tsp as asn1_tsp
from asn1crypto import algos, cms, core, parser
from asn1crypto import x509 as asn1_x509

from app.gm import oids, sm2, sm4
from app.gm.errors import GMError
from app.gm.keyops import DigestSigner, SessionKeyUnwrapper
from app.gm.names import Name
from app.gm.sm3 import sm3
from app.gm.x509 import EMPTY_ID, ID_NAMES, Certificate

oids.register()
_ = asn1_tsp  # importing asn1crypto.tsp registers the ESS signingCertificate(V2) attributes

ContentTypeFamily = Literal["pkcs7", "gm"]
#: A signed/unsigned attribute: an asn1crypto CMSAttribute, or (type OID, [DER of each value]).
Attribute: TypeAlias = "cms.CMSAttribute | tuple[str, Sequence[bytes]]"

DUMMY_SIGNATURE_SIZE = 72  # the longest DER SM2 signature

_SIGNED_TYPES = {oids.PKCS7_SIGNED_DATA: "pkcs7", oids.GM_SIGNED_DATA: "gm"}
_ENVELOPED_TYPES = {oids.PKCS7_ENVELOPED_DATA: "pkcs7", oids.GM_ENVELOPED_DATA: "gm"}
_DATA = {"pkcs7": oids.PKCS7_DATA, "gm": oids.GM_DATA}
_SIGNED = {"pkcs7": oids.PKCS7_SIGNED_DATA, "gm": oids.GM_SIGNED_DATA}
_ENVELOPED = {"pkcs7": oids.PKCS7_ENVELOPED_DATA, "gm": oids.GM_ENVELOPED_DATA}

_OID_SIGNING_CERT = "1.2.840.113549.1.9.16.2.12"
_OID_SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"
def _sha(name: str) -> Callable[[bytes], bytes]:
    return lambda b: hashlib.new(name, b).digest()


_HASHES: dict[str, Callable[[bytes], bytes]] = {
    oids.SM3: sm3,
    "2.16.840.1.101.3.4.2.1": _sha("sha256"),
    "2.16.840.1.101.3.4.2.2": _sha("sha384"),
    "2.16.840.1.101.3.4.2.3": _sha("sha512"),
    "1.3.14.3.2.26": _sha("sha1"),  # ESS signingCertificate v1 only
}

#: Problem codes of :class:`SignedDataInfo` with their sentences (zh, en).
PROBLEM_MESSAGES: dict[str, tuple[str, str]] = {
    "BAD_SIGNATURE": ("签名值验证失败：签名后内容或签名被改动，或证书不对。",
                      "The signature does not verify: the signed data or signature was altered, or the certificate is wrong."),
    "SIGNATURE_MALFORMED": ("签名值格式错误。", "The signature value is malformed."),
    "DIGEST_MISMATCH": ("文档摘要与签名时不一致：文档在签名后被修改。",
                        "The document digest differs from the signed one: the document was changed after signing."),
    "MESSAGE_DIGEST_MISSING": ("签名属性中缺少消息摘要。", "The signed attributes lack a message digest."),
    "CONTENT_TYPE_ATTR_MISSING": ("签名属性中缺少内容类型。", "The signed attributes lack a content type."),
    "CONTENT_TYPE_MISMATCH": ("签名属性中的内容类型与签名数据不一致。",
                              "The content-type attribute does not match the signed content type."),
    "SIGNER_CERT_NOT_FOUND": ("签名中找不到签名者证书。", "The signer's certificate is not in the signature."),
    "ESS_CERT_MISMATCH": ("签名属性中的证书摘要与签名者证书不一致（证书被替换）。",
                          "The certificate hash in the signed attributes does not match the signer certificate (certificate swapped)."),
    "SIGNATURE_PARAMS": ("签名算法带有意外的参数。", "The signature algorithm has unexpected parameters."),
    "MULTIPLE_SIGNERS": ("签名中包含多个签名者，PDF 签名只允许一个。",
                         "The signature has more than one signer; a PDF signature must have exactly one."),
    "NOT_SM2": ("签名者证书不是 SM2 证书。", "The signer certificate does not hold an SM2 key."),
}


def _fmt_error(en_detail: str = "") -> GMError:
    return GMError(
        "签名数据（CMS/PKCS#7）格式错误，无法解析：可能已损坏或被截断。",
        "The signature data (CMS/PKCS#7) is malformed and cannot be parsed; it may be damaged or truncated.",
        code="ERR_CMS_FORMAT",
        detail=en_detail,
    )


def _unsupported(zh: str, en: str, **details: Any) -> GMError:
    return GMError(zh, en, code="ERR_CMS_UNSUPPORTED", **details)


# -- building blocks ----------------------------------------------------------------


class _RawAttribute(core.Sequence):
    _fields = [("type", core.ObjectIdentifier), ("values", core.SetOf, {"spec": core.Any})]


def _attribute(attr: Attribute) -> cms.CMSAttribute:
    if isinstance(attr, cms.CMSAttribute):
        return attr
    oid, values = attr
    raw = _RawAttribute({"type": oid, "values": [core.Any.load(v) for v in values]})
    return cms.CMSAttribute.load(raw.dump())


def _cms_time(dt: datetime) -> cms.Time:
    dt = dt.astimezone(UTC).replace(microsecond=0)
    if 1950 <= dt.year < 2050:
        return cms.Time(name="utc_time", value=dt)
    return cms.Time(name="general_time", value=dt)


def _issuer_and_serial(cert: Certificate) -> cms.IssuerAndSerialNumber:
    return cms.IssuerAndSerialNumber({
        "issuer": cert.asn1["tbs_certificate"]["issuer"],
        "serial_number": cert.serial_number,
    })


def _signing_certificate_v2(cert: Certificate) -> cms.CMSAttribute:
    ess = asn1_tsp.SigningCertificateV2({
        "certs": [{
            "hash_algorithm": {"algorithm": oids.SM3},
            "cert_hash": sm3(cert.der),
            "issuer_serial": {
                "issuer": [asn1_x509.GeneralName(name="directory_name",
                                                 value=cert.asn1["tbs_certificate"]["issuer"])],
                "serial_number": cert.serial_number,
            },
        }],
    })
    return cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]})


def _sig_alg(oid: str, null_params: bool) -> algos.SignedDigestAlgorithm:
    value: dict[str, Any] = {"algorithm": oid}
    if null_params:
        value["parameters"] = core.Null()
    return algos.SignedDigestAlgorithm(value)


@dataclass(frozen=True)
class PreparedSignature:
    """Everything fixed before the device signs: the signed attributes and e."""

    signer_cert: Certificate
    chain: tuple[Certificate, ...]
    content_type_oids: ContentTypeFamily
    signature_oid: str
    signature_params_null: bool
    #: DER of the signed attributes as ``SET OF`` (tag 0x31), exactly what e covers.
    signed_attrs_der: bytes
    #: e = SM3(Z(uid, signer key) || signed_attrs_der): the input of SKF_ECCSignData.
    e: bytes
    uid: bytes = sm2.DEFAULT_ID


def prepare_signed_attributes(
    message_digest: bytes,
    signer_cert: Certificate,
    *,
    chain: Sequence[Certificate] = (),
    signing_time: datetime | None = None,
    content_type_oids: ContentTypeFamily = "pkcs7",
    signature_oid: str = oids.SM2_WITH_SM3,
    signature_params_null: bool = False,
    extra_signed_attrs: Sequence[Attribute] = (),
    include_signing_certificate: bool = True,
    uid: bytes = sm2.DEFAULT_ID,
) -> PreparedSignature:
    """Stage one of signing: build the signed attributes and compute e.

    ``message_digest`` is SM3 of the signed content (for a PDF, of the ByteRange).
    ``uid`` is the SM2 ID for Z; keep the GM default (``b""`` only imitates OpenSSL).
    """
    if len(message_digest) != 32:
        raise GMError(
            f"SM3 摘要应为 32 字节，实际为 {len(message_digest)} 字节。",
            f"The SM3 message digest must be 32 bytes, got {len(message_digest)}.",
            length=len(message_digest),
        )
    if content_type_oids not in _DATA:
        raise GMError("未知的内容类型标识族。", "Unknown content-type family.", family=content_type_oids)
    if signature_oid not in oids.SM2_SIGNATURE_OIDS:
        raise GMError("不支持的签名算法标识。", "Unsupported signature algorithm OID.", oid=signature_oid)
    public = signer_cert.public_key
    when = signing_time or datetime.now(UTC)
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": [_DATA[content_type_oids]]}),
        cms.CMSAttribute({"type": "signing_time", "values": [_cms_time(when)]}),
        cms.CMSAttribute({"type": "message_digest", "values": [message_digest]}),
    ]
    if include_signing_certificate:
        attrs.append(_signing_certificate_v2(signer_cert))
    attrs.extend(_attribute(a) for a in extra_signed_attrs)
    signed_attrs_der = bytes(cms.CMSAttributes(attrs).dump(force=True))
    e = sm2.compute_e(public, signed_attrs_der, uid)
    return PreparedSignature(
        signer_cert=signer_cert, chain=tuple(chain), content_type_oids=content_type_oids,
        signature_oid=signature_oid, signature_params_null=signature_params_null,
        signed_attrs_der=signed_attrs_der, e=e, uid=uid,
    )


def _signed_data(
    signer_cert: Certificate,
    chain: Sequence[Certificate],
    family: ContentTypeFamily,
    signer_info: cms.SignerInfo,
    content: bytes | None = None,
) -> bytes:
    certs: list[Certificate] = [signer_cert] + [c for c in chain if c != signer_cert]
    encap: dict[str, Any] = {"content_type": _DATA[family]}
    if content is not None:
        encap["content"] = content
    sd = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [{"algorithm": oids.SM3}],
        "encap_content_info": encap,
        "certificates": [cms.CertificateChoices(name="certificate", value=c.asn1) for c in certs],
        "signer_infos": [signer_info],
    })
    ci = cms.ContentInfo({"content_type": _SIGNED[family], "content": sd})
    return bytes(ci.dump())


def assemble(prepared: PreparedSignature, signature: bytes, *, unsigned_attrs: Sequence[Attribute] = ()) -> bytes:
    """Stage two of signing: wrap the device's DER signature into a ContentInfo (DER)."""
    si_value: dict[str, Any] = {
        "version": "v1",
        "sid": cms.SignerIdentifier(name="issuer_and_serial_number",
                                    value=_issuer_and_serial(prepared.signer_cert)),
        "digest_algorithm": {"algorithm": oids.SM3},
        "signed_attrs": cms.CMSAttributes.load(prepared.signed_attrs_der),
        "signature_algorithm": _sig_alg(prepared.signature_oid, prepared.signature_params_null),
        "signature": bytes(signature),
    }
    if unsigned_attrs:
        si_value["unsigned_attrs"] = cms.CMSAttributes([_attribute(a) for a in unsigned_attrs])
    si = cms.SignerInfo(si_value)
    embedded = bytes(si["signed_attrs"].dump())
    if b"\x31" + embedded[1:] != prepared.signed_attrs_der:  # pragma: no cover - asn1crypto invariant
        raise GMError("签名属性编码不一致。", "Signed attributes changed while assembling.")
    return _signed_data(prepared.signer_cert, prepared.chain, prepared.content_type_oids, si)


def estimate_size(
    signer_cert: Certificate,
    *,
    chain: Sequence[Certificate] = (),
    content_type_oids: ContentTypeFamily = "pkcs7",
    signature_oid: str = oids.SM2_WITH_SM3,
    extra_signed_attrs: Sequence[Attribute] = (),
    unsigned_attrs: Sequence[Attribute] = (),
    signing_time: datetime | None = None,
) -> int:
    """Upper bound in bytes of the DER CMS :func:`sign_detached` will produce with the same
    arguments (built with a 72-byte dummy signature; real ones are 70–72 bytes)."""
    prepared = prepare_signed_attributes(
        b"\0" * 32, signer_cert, chain=chain, content_type_oids=content_type_oids,
        signature_oid=signature_oid, extra_signed_attrs=extra_signed_attrs,
        signing_time=signing_time or datetime(2049, 12, 31, tzinfo=UTC),
    )
    return len(assemble(prepared, b"\0" * DUMMY_SIGNATURE_SIZE, unsigned_attrs=unsigned_attrs))


def sign_detached(
    message_digest: bytes,
    signer: DigestSigner,
    *,
    chain: Sequence[Certificate] = (),
    signing_time: datetime | None = None,
    content_type_oids: ContentTypeFamily = "pkcs7",
    signature_oid: str = oids.SM2_WITH_SM3,
    extra_signed_attrs: Sequence[Attribute] = (),
    unsigned_attrs: Sequence[Attribute] = (),
    signature_params_null: bool = False,
) -> bytes:
    """Detached SM2 SignedData over ``message_digest`` (SM3 of the content); one device call.

    The returned signature is checked against the signer certificate before it is
    returned, so a UKey that signed with another container's key is caught here.
    """
    cert = signer.certificate
    prepared = prepare_signed_attributes(
        message_digest, cert, chain=chain, signing_time=signing_time,
        content_type_oids=content_type_oids, signature_oid=signature_oid,
        signature_params_null=signature_params_null, extra_signed_attrs=extra_signed_attrs,
    )
    signature = signer.sign_digest(prepared.e)
    _check_own_signature(cert, prepared.e, signature)
    return assemble(prepared, signature, unsigned_attrs=unsigned_attrs)


def _check_own_signature(cert: Certificate, e: bytes, signature: bytes) -> None:
    try:
        ok = sm2.verify_digest(cert.public_key, e, signature)
    except GMError:
        ok = False
    if not ok:
        raise GMError(
            "签名与签名证书不匹配：UKey 可能用错了容器或证书。",
            "The signature does not match the signing certificate; the UKey may have used the wrong container or certificate.",
            code="ERR_SIGNER_MISMATCH",
        )


def sign_content_without_attributes(
    content: bytes,
    signer: DigestSigner,
    *,
    chain: Sequence[Certificate] = (),
    content_type_oids: ContentTypeFamily = "gm",
    signature_oid: str = oids.SM2_SIGN,
    attached: bool = False,
) -> bytes:
    """GM/T 0010 SignedData with no signed attributes (OFD "Sign" style, ofdrw):
    signature = SM2 over ``content`` with the default ID, e = SM3(Z || content)."""
    cert = signer.certificate
    e = sm2.compute_e(cert.public_key, content)
    signature = signer.sign_digest(e)
    _check_own_signature(cert, e, signature)
    si = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier(name="issuer_and_serial_number", value=_issuer_and_serial(cert)),
        "digest_algorithm": {"algorithm": oids.SM3},
        "signature_algorithm": _sig_alg(signature_oid, False),
        "signature": signature,
    })
    return _signed_data(cert, chain, content_type_oids, si, content if attached else None)


# -- verification -------------------------------------------------------------------


def strip_padding(data: bytes) -> bytes:
    """The first DER/BER element of ``data`` (e.g. a PDF ``/Contents`` value); anything
    after it must be zero bytes, otherwise :class:`GMError`."""
    data = bytes(data)
    if not data:
        raise _fmt_error("empty input")
    try:
        _cls, _method, _tag, header, contents, trailer = parser.parse(data)
    except ValueError as exc:
        raise _fmt_error(str(exc)[:200]) from exc
    end = len(header) + len(contents) + len(trailer)
    if any(data[end:]):
        raise _fmt_error("non-zero bytes after the CMS structure")
    return data[:end]


_strip_padding = strip_padding  # kept for callers that used the private name


def _load_content_info(data: bytes, accepted: dict[str, str]) -> tuple[cms.ContentInfo, str]:
    der = strip_padding(data)
    try:
        ci = cms.ContentInfo.load(der, strict=True)
        ctype = ci["content_type"].dotted
    except (ValueError, TypeError, KeyError) as exc:
        raise _fmt_error(str(exc)[:200]) from exc
    if ctype not in accepted:
        raise _unsupported(
            "不是所需类型的 CMS 数据（内容类型不符）。",
            "This CMS data is not of the expected type (content type differs).",
            content_type=ctype,
        )
    return ci, accepted[ctype]


@dataclass(frozen=True)
class SignedDataInfo:
    """What :func:`verify_detached` found. ``valid`` needs a verified signature, a
    matching digest and no problem at all."""

    content_type_family: str
    signer_certificate: Certificate | None
    certificates: list[Certificate]
    signing_time: datetime | None
    digest_algorithm: str
    signature_algorithm: str
    signature_params: str  # "absent", "null" or "other"
    signature_valid: bool
    digest_matches: bool | None
    #: "default" or "empty" (SM2 ID of Z), "none" (no Z, e = SM3(content)), None when invalid.
    sm2_id: str | None
    signed_attrs_present: bool
    signer_count: int
    message_digest: bytes | None
    signature: bytes
    signed_attrs_der: bytes | None
    content: bytes | None
    ess_cert_matches: bool | None
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.signature_valid and self.digest_matches is True and not self.problems

    def messages(self, lang: str = "zh") -> list[str]:
        en = lang.lower().startswith("en")
        return [PROBLEM_MESSAGES[p][1 if en else 0] for p in self.problems]


def _collect_certs(sd: Any) -> list[Certificate]:
    out: list[Certificate] = []
    if sd["certificates"].native is None:
        return out
    for choice in sd["certificates"]:
        if choice.name == "certificate":
            out.append(Certificate.from_der(bytes(choice.chosen.dump())))
    return out


def _match_sid(sid: Any, certs: Sequence[Certificate]) -> Certificate | None:
    if sid.name == "issuer_and_serial_number":
        issuer = Name.from_asn1(sid.chosen["issuer"])
        serial = int(sid.chosen["serial_number"].native)
        for c in certs:
            if c.serial_number == serial and c.issuer.matches(issuer):
                return c
    elif sid.name == "subject_key_identifier":
        ski = bytes(sid.chosen.native)
        for c in certs:
            if c.ski == ski:
                return c
    return None


def _params_kind(algo: Any) -> str:
    params = algo["parameters"]
    if isinstance(params, core.Void) or params.contents is None:
        return "absent"
    return "null" if params.dump() == b"\x05\x00" else "other"


def _ess_check(attr_type: str, values: Any, cert: Certificate) -> bool:
    value = values[0]
    if not isinstance(value, asn1_tsp.SigningCertificateV2 | asn1_tsp.SigningCertificate):
        value = (asn1_tsp.SigningCertificateV2 if attr_type == _OID_SIGNING_CERT_V2
                 else asn1_tsp.SigningCertificate).load(value.dump())
    first = value["certs"][0]
    if attr_type == _OID_SIGNING_CERT_V2:
        halg = first["hash_algorithm"]["algorithm"].dotted
    else:
        halg = "1.3.14.3.2.26"
    fn = _HASHES.get(halg)
    if fn is None:
        return False
    if not hmac.compare_digest(fn(cert.der), bytes(first["cert_hash"].native)):
        return False
    iss = first["issuer_serial"]
    return not (iss.native is not None and int(iss["serial_number"].native) != cert.serial_number)


def verify_detached(
    cms_der: bytes,
    message_digest: bytes | None = None,
    *,
    content: bytes | None = None,
    extra_certs: Sequence[Certificate] = (),
    require_single_signer: bool = False,
) -> SignedDataInfo:
    """Verify an SM2 SignedData (see the module docstring for exactly what is checked).

    ``message_digest`` is SM3 of the detached content; alternatively pass ``content``.
    ``extra_certs`` supplies a signer certificate that is not embedded. With
    ``require_single_signer`` (PDF), more than one SignerInfo is a problem. The first
    SignerInfo is the one verified. Malformed input raises :class:`GMError`.
    """
    ci, family = _load_content_info(cms_der, _SIGNED_TYPES)
    problems: list[str] = []
    try:
        sd = ci["content"]
        signer_infos = list(sd["signer_infos"])
        certs = _collect_certs(sd)
        encap = sd["encap_content_info"]
        econtent_type = encap["content_type"].dotted
        econtent = encap["content"]
        embedded_content = None if isinstance(econtent, core.Void) else bytes(econtent)
        if not signer_infos:
            raise _fmt_error("no SignerInfo")
        si = signer_infos[0]
        digest_oid = si["digest_algorithm"]["algorithm"].dotted
        sig_algo = si["signature_algorithm"]
        sig_oid = sig_algo["algorithm"].dotted
        params = _params_kind(sig_algo)
        signature = bytes(si["signature"].native)
        sid = si["sid"]
        attrs = si["signed_attrs"]
        attrs_present = not isinstance(attrs, core.Void) and attrs.contents is not None
    except GMError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _fmt_error(str(exc)[:200]) from exc

    if require_single_signer and len(signer_infos) != 1:
        problems.append("MULTIPLE_SIGNERS")
    if digest_oid != oids.SM3:
        raise _unsupported("签名使用的摘要算法不是 SM3，本程序只验证国密签名。",
                           "The signature's digest algorithm is not SM3; only SM2/SM3 signatures are verified here.",
                           algorithm=digest_oid)
    if sig_oid not in oids.SM2_SIGNATURE_OIDS:
        raise _unsupported("签名算法不是 SM2，本程序只验证国密签名。",
                           "The signature algorithm is not SM2; only SM2/SM3 signatures are verified here.",
                           algorithm=sig_oid)
    if params == "other":
        problems.append("SIGNATURE_PARAMS")

    if content is not None:
        content_digest: bytes | None = sm3(content)
        body: bytes | None = content
    elif embedded_content is not None:
        content_digest, body = sm3(embedded_content), embedded_content
    else:
        content_digest, body = None, None
    expected = message_digest if message_digest is not None else content_digest

    signer = _match_sid(sid, list(certs) + list(extra_certs))
    public: sm2.PublicKey | None = None
    if signer is None:
        problems.append("SIGNER_CERT_NOT_FOUND")
    else:
        try:
            public = signer.public_key
        except GMError:
            problems.append("NOT_SM2")

    md: bytes | None = None
    signing_time: datetime | None = None
    ess: bool | None = None
    attrs_der: bytes | None = None
    digest_matches: bool | None = None
    sm2_id: str | None = None
    malformed = False

    if attrs_present:
        try:
            attrs_der = b"\x31" + bytes(attrs.dump())[1:]
            seen: dict[str, Any] = {}
            for attr in attrs:
                seen.setdefault(attr["type"].dotted, attr["values"])
            ct = seen.get("1.2.840.113549.1.9.3")
            if ct is None:
                problems.append("CONTENT_TYPE_ATTR_MISSING")
            elif len(ct) != 1 or ct[0].dotted != econtent_type:
                problems.append("CONTENT_TYPE_MISMATCH")
            mdv = seen.get("1.2.840.113549.1.9.4")
            if mdv is None or len(mdv) != 1:
                problems.append("MESSAGE_DIGEST_MISSING")
            else:
                md = bytes(mdv[0].native)
            st = seen.get("1.2.840.113549.1.9.5")
            if st is not None and len(st):
                signing_time = st[0].native
                if signing_time is not None and signing_time.tzinfo is None:
                    signing_time = signing_time.replace(tzinfo=UTC)
            for ess_type in (_OID_SIGNING_CERT_V2, _OID_SIGNING_CERT):
                if ess_type in seen and signer is not None:
                    ok = _ess_check(ess_type, seen[ess_type], signer)
                    ess = ok if ess is None else (ess and ok)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise _fmt_error(f"signed attributes: {str(exc)[:200]}") from exc
        if ess is False:
            problems.append("ESS_CERT_MISMATCH")
        if md is not None and expected is not None:
            digest_matches = hmac.compare_digest(md, expected)
        if public is not None:
            for uid in (sm2.DEFAULT_ID, EMPTY_ID):
                try:
                    ok = sm2.verify_digest(public, sm2.compute_e(public, attrs_der, uid), signature)
                except GMError:
                    malformed = True
                    break
                if ok:
                    sm2_id = ID_NAMES[uid]
                    break
    elif public is not None:
        tries: list[tuple[str, bytes]] = []
        if body is not None:
            tries = [(ID_NAMES[uid], sm2.compute_e(public, body, uid)) for uid in (sm2.DEFAULT_ID, EMPTY_ID)]
            tries.append(("none", sm3(body)))
        elif message_digest is not None:
            tries.append(("none", message_digest))
        for name, e in tries:
            try:
                ok = sm2.verify_digest(public, e, signature)
            except GMError:
                malformed = True
                break
            if ok:
                sm2_id = name
                break
        if sm2_id is not None:
            digest_matches = True

    signature_valid = sm2_id is not None
    if malformed:
        problems.append("SIGNATURE_MALFORMED")
    elif public is not None and not signature_valid:
        problems.append("BAD_SIGNATURE")
    if digest_matches is False:
        problems.append("DIGEST_MISMATCH")
    return SignedDataInfo(
        content_type_family=family, signer_certificate=signer, certificates=certs,
        signing_time=signing_time, digest_algorithm=digest_oid, signature_algorithm=sig_oid,
        signature_params=params, signature_valid=signature_valid, digest_matches=digest_matches,
        sm2_id=sm2_id, signed_attrs_present=attrs_present, signer_count=len(signer_infos),
        message_digest=md, signature=signature, signed_attrs_der=attrs_der,
        content=embedded_content, ess_cert_matches=ess, problems=list(dict.fromkeys(problems)),
    )


# -- EnvelopedData --------------------------------------------------------------------


def envelope(
    content: bytes,
    recipients: Sequence[Certificate],
    *,
    content_type_oids: ContentTypeFamily = "gm",
    cipher: str = "sm4-cbc",
    check_usage: bool = True,
) -> bytes:
    """EnvelopedData: SM4-CBC content, the SM4 key SM2-encrypted to each recipient.

    With ``check_usage`` a recipient certificate must allow encryption (keyUsage), so
    a bid is never encrypted to a signing certificate by mistake. No integrity
    protection (see the module docstring).
    """
    if cipher != "sm4-cbc":
        raise GMError(f"不支持的对称算法：{cipher}", f"Unsupported content cipher: {cipher}", cipher=cipher)
    if content_type_oids not in _DATA:
        raise GMError("未知的内容类型标识族。", "Unknown content-type family.", family=content_type_oids)
    if not recipients:
        raise GMError("至少需要一个接收者证书。", "At least one recipient certificate is needed.")
    key = secrets.token_bytes(sm4.KEY_SIZE)
    iv = secrets.token_bytes(sm4.BLOCK_SIZE)
    infos = []
    for cert in recipients:
        if check_usage and not cert.is_encryption_cert:
            raise GMError(
                f"证书“{cert.common_name}”是签名证书，不能用于加密；请使用加密证书。",
                f"Certificate '{cert.common_name}' is a signing certificate and cannot be used for encryption; "
                "use the encryption certificate.",
                code="ERR_CERT_USAGE",
            )
        wrapped = sm2.encrypt(cert.public_key, key, sm2.CipherFormat.ASN1)
        infos.append(cms.RecipientInfo(name="ktri", value=cms.KeyTransRecipientInfo({
            "version": "v0",
            "rid": cms.RecipientIdentifier(name="issuer_and_serial_number", value=_issuer_and_serial(cert)),
            "key_encryption_algorithm": {"algorithm": oids.SM2_ENCRYPT},
            "encrypted_key": wrapped,
        })))
    ed = cms.EnvelopedData({
        "version": "v1" if content_type_oids == "gm" else "v0",
        "recipient_infos": infos,
        "encrypted_content_info": {
            "content_type": _DATA[content_type_oids],
            "content_encryption_algorithm": {"algorithm": oids.SM4_CBC, "parameters": core.OctetString(iv)},
            "encrypted_content": sm4.cbc_encrypt(key, iv, content),
        },
    })
    return bytes(cms.ContentInfo({"content_type": _ENVELOPED[content_type_oids], "content": ed}).dump())


@dataclass(frozen=True)
class RecipientId:
    issuer: Name | None
    serial: int | None
    ski: bytes | None
    key_encryption_oid: str
    encrypted_key: bytes = field(repr=False, default=b"")

    def matches(self, cert: Certificate) -> bool:
        if self.ski is not None:
            return cert.ski == self.ski
        return (self.serial == cert.serial_number and self.issuer is not None
                and self.issuer.matches(cert.issuer))


def _recipients(ed: Any) -> list[RecipientId]:
    out = []
    for ri in ed["recipient_infos"]:
        if ri.name != "ktri":
            continue
        k = ri.chosen
        rid = k["rid"]
        if rid.name == "issuer_and_serial_number":
            rec = RecipientId(Name.from_asn1(rid.chosen["issuer"]), int(rid.chosen["serial_number"].native),
                              None, k["key_encryption_algorithm"]["algorithm"].dotted,
                              bytes(k["encrypted_key"].native))
        else:
            rec = RecipientId(None, None, bytes(rid.chosen.native),
                              k["key_encryption_algorithm"]["algorithm"].dotted, bytes(k["encrypted_key"].native))
        out.append(rec)
    return out


def recipient_ids(der: bytes) -> list[RecipientId]:
    """The key-transport recipients of an EnvelopedData (issuer, serial or SKI)."""
    ci, _family = _load_content_info(der, _ENVELOPED_TYPES)
    try:
        return _recipients(ci["content"])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _fmt_error(str(exc)[:200]) from exc


def _cbc_decrypt_with_unwrapper(unwrapper: SessionKeyUnwrapper, wrapped: sm2.SM2Ciphertext,
                                iv: bytes, data: bytes) -> bytes:
    """SM4-CBC decryption through a device that only offers SM4-ECB under an imported
    session key (64 bytes per call, so a hardware key never releases the SM4 key)."""
    if not data or len(data) % sm4.BLOCK_SIZE:
        raise GMError("加密内容长度不正确。", "The encrypted content has the wrong length.")
    out = bytearray()
    prev = iv
    for off in range(0, len(data), 64):
        chunk = data[off:off + 64]
        plain = unwrapper.unwrap(wrapped, chunk)
        for i in range(0, len(chunk), sm4.BLOCK_SIZE):
            block = plain[i:i + sm4.BLOCK_SIZE]
            out += bytes(a ^ b for a, b in zip(block, prev, strict=True))
            prev = chunk[i:i + sm4.BLOCK_SIZE]
    return sm4.pkcs7_unpad(bytes(out))


def open_envelope(der: bytes, key: sm2.PrivateKey | SessionKeyUnwrapper) -> bytes:
    """Decrypt an EnvelopedData addressed to ``key``.

    ``key`` is a software :class:`app.gm.sm2.PrivateKey` (every SM2 recipient is tried)
    or a :class:`SessionKeyUnwrapper` (the recipient matching its certificate by
    issuer+serial or SKI). Key transport OIDs 301.3, 301.2, 301 and id-ecPublicKey;
    content SM4-CBC (104.2, or bare 104 as CFCA writes it).
    """
    ci, _family = _load_content_info(der, _ENVELOPED_TYPES)
    try:
        ed = ci["content"]
        recs = [r for r in _recipients(ed) if r.key_encryption_oid in oids.SM2_ENCRYPTION_OIDS]
        eci = ed["encrypted_content_info"]
        alg = eci["content_encryption_algorithm"]
        alg_oid = alg["algorithm"].dotted
        params = alg["parameters"]
        iv = bytes(core.OctetString.load(params.dump()).native) if params.contents is not None else b""
        data = eci["encrypted_content"].native
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _fmt_error(str(exc)[:200]) from exc
    if alg_oid not in (oids.SM4_CBC, oids.SM4):
        raise _unsupported("数字信封使用了不支持的对称算法。", "The envelope uses an unsupported content cipher.",
                           algorithm=alg_oid)
    if len(iv) != sm4.BLOCK_SIZE:
        raise _fmt_error("bad SM4-CBC IV")
    if data is None:
        raise GMError("数字信封中没有加密内容。", "The envelope carries no encrypted content.", code="ERR_CMS_FORMAT")
    data = bytes(data)
    if not recs:
        raise _unsupported("数字信封中没有 SM2 接收者。", "The envelope has no SM2 recipient.")

    if isinstance(key, sm2.PrivateKey):
        for rec in recs:
            try:
                sym = sm2.decrypt(key, rec.encrypted_key, sm2.CipherFormat.ASN1)
            except GMError:
                continue
            if len(sym) != sm4.KEY_SIZE:
                continue
            return sm4.cbc_decrypt(sym, iv, data)
    else:
        cert = key.certificate
        for rec in recs:
            if rec.matches(cert):
                wrapped = sm2.SM2Ciphertext.decode(rec.encrypted_key, sm2.CipherFormat.ASN1)
                return _cbc_decrypt_with_unwrapper(key, wrapped, iv, data)
    raise GMError(
        "该数字信封不是发给这个密钥/证书的，无法解密。",
        "This envelope is not addressed to this key or certificate and cannot be decrypted.",
        code="ERR_NOT_RECIPIENT",
    )
