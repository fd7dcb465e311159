"""Verifying SM2 SignedData (see the package docstring for exactly what is checked)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asn1crypto.tsp as asn1_tsp
from asn1crypto import core

from app.gm import oids, sm2
from app.gm.cms.common import (
    _OID_SIGNING_CERT,
    _OID_SIGNING_CERT_V2,
    _SIGNED_TYPES,
    _fmt_error,
    _load_content_info,
    _unsupported,
)
from app.gm.errors import GMError
from app.gm.names import Name
from app.gm.sm3 import sm3
from app.gm.x509 import ID_NAMES, Certificate, sm2_id_that_verifies


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
    "SM2_WITHOUT_Z": ("签名是对裸摘要（不含 Z 值）做的，不是标准 SM2 签名（GM/T 0009），默认不接受。",
                      "The signature was computed over a bare digest without Z; that is not a standard SM2 "
                      "signature (GM/T 0009) and is not accepted by default."),
}


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
    content_hasher: Callable[[bytes], bytes] | None = None,
    allow_no_z: bool = False,
) -> SignedDataInfo:
    """Verify an SM2 SignedData (see the package docstring for exactly what is checked).

    ``message_digest`` is SM3 of the detached content; alternatively pass ``content``,
    or ``content_hasher(prefix)`` returning SM3(prefix || content) for content that is
    not in memory (a PDF's byte ranges): without signed attributes the signature is
    over SM3(Z || content), and Z depends on the signer's key. ``extra_certs``
    supplies a signer certificate that is not embedded. With ``require_single_signer``
    (PDF), more than one SignerInfo is a problem. The first SignerInfo is the one
    verified. Malformed input raises :class:`GMError`.

    A signature over a bare digest without Z (e = SM3(signed attributes) or
    e = SM3(content)) is not an SM2 signature: it is reported as the problem
    ``SM2_WITHOUT_Z`` unless ``allow_no_z`` (a compatibility switch for non-standard
    signers, off by default), which accepts it with :attr:`SignedDataInfo.sm2_id`
    ``"none"``.
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
    no_z = False

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
            try:
                uid = sm2_id_that_verifies(public, signature, attrs_der)
                if uid is not None:
                    sm2_id = ID_NAMES[uid]
                elif sm2.verify_digest(public, sm3(attrs_der), signature):
                    no_z = True
            except GMError:
                malformed = True
    elif public is not None:
        pub = public
        hasher = content_hasher
        if hasher is None and body is not None:
            content_bytes = body

            def hasher(prefix: bytes) -> bytes:
                return sm3(prefix + content_bytes)
        try:
            if hasher is not None:
                h = hasher
                uid = sm2_id_that_verifies(pub, signature, e_of=lambda u: h(sm2.compute_z(pub, u)))
                if uid is not None:
                    sm2_id = ID_NAMES[uid]
                elif sm2.verify_digest(pub, h(b""), signature):
                    no_z = True
            elif message_digest is not None and sm2.verify_digest(pub, message_digest, signature):
                no_z = True  # only the digest is known: nothing with a Z can be checked
        except GMError:
            malformed = True
    if no_z and allow_no_z:
        sm2_id = "none"
    if sm2_id is not None and not attrs_present:
        digest_matches = True

    signature_valid = sm2_id is not None
    if malformed:
        problems.append("SIGNATURE_MALFORMED")
    elif no_z and not allow_no_z:
        problems.append("SM2_WITHOUT_Z")
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
