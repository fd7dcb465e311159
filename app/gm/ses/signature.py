"""SES_Signature: a sealing (GM/T 0031 V1, GB/T 38540 V4): the signer's SM2 signature
over ``TBS_Sign`` = {version, the seal, time, hash of the signed data, what was
signed, ...}.

:meth:`SESSignature.verify` checks, in this order, each with its own error code:
the signer's signature over the exact DER of ``TBS_Sign``, the embedded seal's maker
signature, that the signer's certificate is in the seal's certificate list, that the
seal was valid at the signing time the signature claims, and that the data hash is
SM3 of the document bytes given. Whether the signer's and the maker's certificates are
trusted (chain, revocation) is the caller's part, as for CMS.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import core

from app.gm import oids
from app.gm.ses import asn1
from app.gm.ses.common import (
    SignFn,
    asn1_time,
    aware,
    bad_format,
    certificate,
    check_alg,
    load,
    sm2_verifies,
)
from app.gm.ses.errors import SESDataHashError, SESFormatError, SESSignatureError
from app.gm.ses.seal import MakerCheck, SESeal
from app.gm.sm3 import sm3
from app.gm.x509 import Certificate


@dataclass(frozen=True)
class SignatureCheck:
    """Everything :meth:`SESSignature.verify` established."""

    signer: Certificate
    sm2_id: bytes
    seal: SESeal
    maker: MakerCheck
    signing_time: datetime | None


@dataclass(frozen=True)
class SESSignature:
    """A decoded SES_Signature; ``tbs_der`` is the exact ``TBS_Sign`` that was read."""

    version: int
    der: bytes
    tbs_der: bytes
    seal: SESeal
    time_raw: bytes  # the timeInfo element as read (DER)
    signing_time: datetime | None
    data_hash: bytes
    property_info: str
    signer_cert_der: bytes
    sign_alg: str
    signature: bytes
    time_stamp: bytes | None = None

    @classmethod
    def decode(cls, der: bytes) -> SESSignature:
        """Read a V1 (TBS version 1) or V4 (version 4; ofdrw's "5" has the same layout) signature."""
        outer = load(asn1.AnySequence, der, "SES_Signature")
        if len(outer) == 2:
            sig: Any = load(asn1.SESSignatureV1, der, "SES_Signature(V1)")
            tbs = sig["to_sign"]
            cert, alg, version = tbs["cert"].native, tbs["signature_algorithm"].dotted, 1
            stamp = None
        elif len(outer) in (4, 5):
            sig = load(asn1.SESSignatureV4, der, "SES_Signature(V4)")
            tbs = sig["to_sign"]
            cert, alg = sig["cert"].native, sig["signature_alg_id"].dotted
            version = tbs["version"].native
            stamp = sig["time_stamp"].native
        else:
            raise bad_format(f"SES_Signature 有 {len(outer)} 个元素。", f"SES_Signature has {len(outer)} elements.")
        if tbs["version"].native != version or (version != 1 and version not in (4, 5)):
            raise bad_format(f"TBS_Sign 版本号 {tbs['version'].native} 与结构不符。",
                             f"TBS_Sign version {tbs['version'].native} does not match the layout.")
        seal = SESeal.decode(tbs["eseal"].dump())
        if (seal.version == 1) != (version == 1):
            raise bad_format("签章与其中的印章版本不一致。", "The signature and its seal have different versions.")
        time_raw = tbs["time_info"].dump()
        return cls(version=version, der=bytes(der), tbs_der=tbs.dump(), seal=seal, time_raw=time_raw,
                   signing_time=_time_of(time_raw), data_hash=tbs["data_hash"].native,
                   property_info=tbs["property_info"].native, signer_cert_der=cert, sign_alg=alg,
                   signature=sig["signature"].native, time_stamp=stamp)

    @property
    def signer_certificate(self) -> Certificate:
        return certificate(self.signer_cert_der, "签章人证书 (signer certificate)")

    def check_signer_signature(self) -> tuple[Certificate, bytes]:
        """The signer's SM2 signature over the exact ``TBS_Sign`` bytes."""
        check_alg(self.sign_alg, "签章 (SES_Signature)")
        signer = self.signer_certificate
        uid = sm2_verifies(signer, self.tbs_der, self.signature)
        if uid is None:
            raise SESSignatureError("电子签章的签名值验证失败：签章数据被改动，或不是该证书签的。",
                                    "The electronic signature does not verify: the signature data was altered, "
                                    "or was not made with this certificate.")
        return signer, uid

    def check_data(self, document: bytes) -> None:
        """Raise :class:`SESDataHashError` unless the signed hash is SM3 of ``document``."""
        if not hmac.compare_digest(sm3(document), self.data_hash):
            raise SESDataHashError("文档内容与电子签章签署时的内容不一致：签章后文档被改动。",
                                   "The document does not match what was sealed: it was changed after sealing.")

    def verify(self, document: bytes | None = None, *, check_validity: bool = True) -> SignatureCheck:
        """All checks; ``document`` (the bytes whose SM3 is ``dataHash``) when the caller has it."""
        signer, uid = self.check_signer_signature()
        maker = self.seal.verify_maker()
        self.seal.check_binding(signer)
        if check_validity and self.signing_time is not None:
            self.seal.check_validity(self.signing_time)
        if document is not None:
            self.check_data(document)
        return SignatureCheck(signer, uid, self.seal, maker, self.signing_time)


def der_prefix(data: bytes) -> bytes:
    """The first DER element of ``data`` (a PDF /Contents is zero-padded after it)."""
    if len(data) < 2 or data[0] != 0x30:
        raise bad_format("数据不是 DER 序列。", "The data is not a DER SEQUENCE.")
    first = data[1]
    if first < 0x80:
        end = 2 + first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or len(data) < 2 + n:
            raise bad_format("DER 长度字段错误。", "Bad DER length field.")
        end = 2 + n + int.from_bytes(data[2:2 + n], "big")
    if end > len(data):
        raise bad_format("数据被截断。", "The data is truncated.")
    return data[:end]


def looks_like_ses_signature(data: bytes) -> bool:
    """An SES_Signature starts SEQUENCE{SEQUENCE{INTEGER version, ...}}; a CMS ContentInfo
    starts SEQUENCE{OBJECT IDENTIFIER}. Used to recognise an SES_Signature placed under
    an ``adbe.pkcs7.detached`` dictionary (a practice reported for some vendors)."""
    try:
        body = der_prefix(data)
    except SESFormatError:
        return False
    hdr = 2 if body[1] < 0x80 else 2 + (body[1] & 0x7F)
    inner = body[hdr:hdr + 8]
    if len(inner) < 2 or inner[0] != 0x30:
        return False
    ihdr = 2 if inner[1] < 0x80 else 2 + (inner[1] & 0x7F)
    return len(inner) > ihdr and inner[ihdr] == 0x02


def _time_of(raw: bytes) -> datetime | None:
    """``timeInfo``: GeneralizedTime (V4), or a BIT/OCTET STRING holding time text (V1)."""
    value = core.Asn1Value.load(raw)
    try:
        if isinstance(value, (core.GeneralizedTime, core.UTCTime)):
            return aware(value.native)
        text = value.contents.lstrip(b"\x00").decode("ascii").strip() if isinstance(
            value, (core.BitString, core.OctetString)) else ""
        for cls_ in (core.GeneralizedTime, core.UTCTime):
            try:
                return aware(cls_.load(cls_(text).dump()).native) if text else None
            except (ValueError, TypeError):
                continue
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return None


def build_signature(seal: SESeal, document: bytes | None, signer_cert_der: bytes, sign: SignFn, *,
                    property_info: str, signing_time: datetime, data_hash: bytes | None = None) -> SESSignature:
    """Seal ``document`` (its SM3 becomes ``dataHash``; or pass ``data_hash`` when the
    document was hashed while streaming) with ``seal``, in the seal's version.
    ``sign`` is the signer's SM3withSM2 (in production the UKey through app/token)."""
    if data_hash is None:
        if document is None:
            raise bad_format("没有要签章的数据。", "Nothing to seal: no document and no data hash.")
        data_hash = sm3(document)
    if seal.version == 1:
        stamp = aware(signing_time).strftime("%Y%m%d%H%M%SZ").encode()
        tbs: Any = asn1.TBSSignV1({"version": 1, "eseal": core.Any.load(seal.der),
                                   "time_info": core.Any.load(core.OctetBitString(stamp).dump()),
                                   "data_hash": data_hash, "property_info": property_info,
                                   "cert": signer_cert_der, "signature_algorithm": oids.SM2_WITH_SM3})
        der = asn1.SESSignatureV1({"to_sign": tbs, "signature": sign(tbs.dump())}).dump()
    else:
        tbs = asn1.TBSSignV4({"version": 4, "eseal": core.Any.load(seal.der),
                              "time_info": core.Any.load(asn1_time(signing_time, True).chosen.dump()),
                              "data_hash": data_hash, "property_info": property_info})
        der = asn1.SESSignatureV4({"to_sign": tbs, "cert": signer_cert_der, "signature_alg_id": oids.SM2_WITH_SM3,
                                   "signature": sign(tbs.dump())}).dump()
    return SESSignature.decode(der)
