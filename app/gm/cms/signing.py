"""Building SM2 SignedData: signed attributes, one device call, assembly, size estimate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asn1crypto.tsp as asn1_tsp
from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509

from app.gm import oids, sm2
from app.gm.cms.common import (
    _DATA,
    _SIGNED,
    DUMMY_SIGNATURE_SIZE,
    Attribute,
    ContentTypeFamily,
    _attribute,
    _cms_time,
    _issuer_and_serial,
)
from app.gm.errors import GMError
from app.gm.keyops import DigestSigner
from app.gm.sm3 import sm3
from app.gm.x509 import Certificate


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
