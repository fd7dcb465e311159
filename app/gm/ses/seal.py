"""SESeal: an electronic seal (picture, validity, holders' certificates, signed by the
seal maker), V1 = GM/T 0031-2014 and V4 = GB/T 38540-2020.

Decoding keeps the exact DER that was read: every signature is checked over the
bytes as they arrived, never over a re-encoding (a vendor's non-canonical DER would
otherwise break a genuine seal, and a re-encoder could hide an alteration).

What the maker signs differs between writers: GM/T 0031 (and ofdrw's V1 writer) sign
``SEQUENCE{sealInfo, cert, signatureAlgorithm}``; ofdrw's V4 writer signs the DER of
``eSealInfo`` alone. Both are accepted (they cannot be confused: one starts with the
header, the other with the whole sealInfo) and :attr:`MakerCheck.signed_form` says
which one verified. This module's own maker signs the first form for V1 and
``eSealInfo`` for V4, as ofdrw does, so its seals read in ofdrw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
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
from app.gm.ses.errors import SESBindingError, SESMakerSignatureError, SESValidityError
from app.gm.sm3 import sm3
from app.gm.x509 import Certificate

#: ``SES_ESPropertyInfo.type`` values named by the standards.
SEAL_TYPES = {1: "单位印章", 2: "个人印章"}
#: Digest names met in ``CertDigestObj.type`` and how to compute them.


def _sha1(data: bytes) -> bytes:
    return hashlib.sha1(data).digest()


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sm3": sm3, oids.SM3: sm3, "sha1": _sha1, "1.3.14.3.2.26": _sha1,
    "sha256": _sha256, "2.16.840.1.101.3.4.2.1": _sha256,
}
FORM_SEQUENCE = "sealInfo+cert+alg"
FORM_SEALINFO = "sealInfo"


@dataclass(frozen=True)
class MakerCheck:
    """The maker's signature verified: with which certificate, over which form, which SM2 ID."""

    maker: Certificate
    signed_form: str
    sm2_id: bytes


@dataclass(frozen=True)
class SESeal:
    """A decoded seal. ``der`` is the whole seal as read; ``seal_info_der`` the exact
    bytes of ``SES_SealInfo``."""

    version: int
    der: bytes
    seal_info_der: bytes
    vid: str
    es_id: str
    seal_type: int
    name: str
    cert_list_type: int  # 1 = certificates, 2 = certificate digests (V1 always 1)
    certs: tuple[bytes, ...]
    cert_digests: tuple[tuple[str, bytes], ...]
    create_date: datetime
    valid_start: datetime
    valid_end: datetime
    picture_type: str
    picture: bytes
    width_mm: int
    height_mm: int
    maker_cert_der: bytes
    sign_alg: str
    signed_value: bytes
    ext_datas: tuple[tuple[str, bool, bytes], ...] = field(default=())

    # -- reading ---------------------------------------------------------------------

    @classmethod
    def decode(cls, der: bytes) -> SESeal:
        """Read a V1 or V4 seal. Version detection as ofdrw: 2 elements is V1, 4 is
        V4 (header version 4; a header version 5 with the same layout, ofdrw's
        "V5" test seal, is read as such and reported as version 5)."""
        outer = load(asn1.AnySequence, der, "SESeal")
        if len(outer) == 2:
            return cls._from_v1(load(asn1.SESealV1, der, "SESeal(V1)"), bytes(der))
        if len(outer) == 4:
            return cls._from_v4(load(asn1.SESealV4, der, "SESeal(V4)"), bytes(der))
        raise bad_format(f"SESeal 有 {len(outer)} 个元素（V1 为 2 个，V4 为 4 个）。",
                         f"SESeal has {len(outer)} elements (V1 has 2, V4 has 4).", elements=len(outer))

    @staticmethod
    def _info_common(info: Any, version: int) -> dict[str, Any]:
        header = info["header"]
        if header["id"].native != "ES":
            raise bad_format("印章头标识不是 \"ES\"。", "The seal header ID is not \"ES\".")
        if header["version"].native != version:
            raise bad_format(f"印章头版本号 {header['version'].native} 与结构（V{version}）不符。",
                             f"Header version {header['version'].native} does not match the layout (V{version}).")
        prop, pic = info["property"], info["picture"]
        exts = info["ext_datas"]
        return dict(
            seal_info_der=info.dump(), vid=header["vid"].native, es_id=info["es_id"].native,
            seal_type=prop["type"].native, name=prop["name"].native,
            create_date=aware(prop["create_date"].native), valid_start=aware(prop["valid_start"].native),
            valid_end=aware(prop["valid_end"].native),
            picture_type=pic["type"].native, picture=pic["data"].native,
            width_mm=pic["width"].native, height_mm=pic["height"].native,
            ext_datas=tuple((e["extn_id"].dotted, bool(e["critical"].native), e["extn_value"].native)
                            for e in exts) if exts.native is not None else (),
        )

    @classmethod
    def _from_v1(cls, seal: Any, der: bytes) -> SESeal:
        info, sign = seal["eseal_info"], seal["sign_info"]
        return cls(version=1, der=der, **cls._info_common(info, 1), cert_list_type=1,
                   certs=tuple(info["property"]["cert_list"].native), cert_digests=(),
                   maker_cert_der=sign["cert"].native, sign_alg=sign["signature_algorithm"].dotted,
                   signed_value=sign["sign_data"].native)

    @classmethod
    def _from_v4(cls, seal: Any, der: bytes) -> SESeal:
        info = seal["eseal_info"]
        version = info["header"]["version"].native
        if version not in (4, 5):
            raise bad_format(f"不支持的印章版本 {version}。", f"Unsupported seal version {version}.",
                             version=version)
        prop = info["property"]
        list_type = prop["cert_list_type"].native
        raw_list = prop["cert_list"].dump()
        certs: tuple[bytes, ...] = ()
        digests: tuple[tuple[str, bytes], ...] = ()
        if list_type == 1:
            certs = tuple(load(asn1.CertList, raw_list, "certList").native)
        elif list_type == 2:
            digests = tuple((d["type"], d["value"]) for d in load(asn1.CertDigestList, raw_list, "certList").native)
        else:
            raise bad_format(f"证书列表类型 {list_type} 未知（应为 1 或 2）。",
                             f"Unknown certListType {list_type} (1 or 2 expected).")
        return cls(version=version, der=der, **cls._info_common(info, version), cert_list_type=list_type,
                   certs=certs, cert_digests=digests, maker_cert_der=seal["cert"].native,
                   sign_alg=seal["sign_alg_id"].dotted, signed_value=seal["signed_value"].native)

    # -- checks ----------------------------------------------------------------------

    @property
    def maker_certificate(self) -> Certificate:
        return certificate(self.maker_cert_der, "制章人证书 (maker certificate)")

    def _signed_forms(self) -> list[tuple[str, bytes]]:
        sequence = asn1.MakerSignedV1({"eseal_info": core.Any.load(self.seal_info_der),
                                       "cert": self.maker_cert_der, "alg": self.sign_alg}).dump()
        forms = [(FORM_SEQUENCE, sequence), (FORM_SEALINFO, self.seal_info_der)]
        return forms if self.version == 1 else forms[::-1]

    def verify_maker(self) -> MakerCheck:
        """Check the maker's SM2 signature with the maker certificate carried in the
        seal. Whether that certificate is trusted (chains to a known seal-making CA)
        is the caller's decision: this says only that the seal is as the maker signed it."""
        check_alg(self.sign_alg, "印章 (seal)")
        maker = self.maker_certificate
        for form, message in self._signed_forms():
            uid = sm2_verifies(maker, message, self.signed_value)
            if uid is not None:
                return MakerCheck(maker, form, uid)
        raise SESMakerSignatureError(
            "电子印章的制章人签名验证失败：印章数据在制章后被改动，或不是该制章人制作的。",
            "The seal maker's signature does not verify: the seal was altered after it was made, "
            "or was not made by this maker.", es_id=self.es_id, maker=maker.summary().get("subject"))

    def check_validity(self, at: datetime) -> None:
        """Raise :class:`SESValidityError` unless ``valid_start <= at <= valid_end``."""
        at = aware(at)
        if at < self.valid_start or at > self.valid_end:
            raise SESValidityError(
                f"电子印章“{self.name}”在 {at:%Y-%m-%d %H:%M} (UTC) 不在有效期内"
                f"（{self.valid_start:%Y-%m-%d} 至 {self.valid_end:%Y-%m-%d}）。",
                f"The seal \"{self.name}\" is not valid at {at:%Y-%m-%d %H:%M} UTC "
                f"(valid {self.valid_start:%Y-%m-%d} to {self.valid_end:%Y-%m-%d}).",
                at=at.isoformat(), valid_start=self.valid_start.isoformat(), valid_end=self.valid_end.isoformat())

    def binds(self, cert: Certificate) -> bool:
        """True when ``cert`` is one of the seal's holders (by DER, or by digest in V4's digest form)."""
        if self.cert_list_type == 1:
            return cert.der in self.certs
        for alg, value in self.cert_digests:
            digest = _DIGESTS.get(alg.strip().lower()) or _DIGESTS.get(alg.strip())
            if digest is None:
                raise bad_format(f"证书摘要算法 {alg} 不受支持。", f"Certificate digest algorithm {alg} is not supported.")
            if digest(cert.der) == value:
                return True
        return False

    def check_binding(self, cert: Certificate) -> None:
        """Raise :class:`SESBindingError` unless ``cert`` is in the seal's certificate list."""
        if not self.binds(cert):
            raise SESBindingError(
                f"签章证书不属于电子印章“{self.name}”：该印章只能由其证书列表中的证书使用。",
                f"The signing certificate is not bound to the seal \"{self.name}\": only the certificates "
                "in its certificate list may use it.", es_id=self.es_id, cert=cert.fingerprint_sm3)

    def verify(self, signer: Certificate | None = None, at: datetime | None = None) -> MakerCheck:
        """Maker signature, then validity at ``at`` and binding to ``signer`` when given."""
        result = self.verify_maker()
        if at is not None:
            self.check_validity(at)
        if signer is not None:
            self.check_binding(signer)
        return result

    def summary(self) -> dict[str, Any]:
        """What a GUI or report shows about the seal (no picture bytes)."""
        return {"version": self.version, "es_id": self.es_id, "vid": self.vid, "name": self.name,
                "type": self.seal_type, "type_name": SEAL_TYPES.get(self.seal_type, str(self.seal_type)),
                "valid_start": self.valid_start.isoformat(), "valid_end": self.valid_end.isoformat(),
                "picture_type": self.picture_type, "width_mm": self.width_mm, "height_mm": self.height_mm,
                "cert_list_type": self.cert_list_type,
                "holders": len(self.certs) or len(self.cert_digests)}


# -- writing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SealContent:
    """What a seal maker puts in a seal (the maker's certificate and key come separately)."""

    es_id: str
    name: str
    holders: tuple[bytes, ...]  # DER certificates of those who may use the seal
    valid_start: datetime
    valid_end: datetime
    picture: bytes
    picture_type: str = "PNG"
    width_mm: int = 40
    height_mm: int = 40
    seal_type: int = 1
    vid: str = "BidSeal"
    create_date: datetime | None = None
    digest_list: bool = False  # V4 only: list SM3 digests of the holders instead of the certificates


def _seal_info(content: SealContent, version: int) -> Any:
    generalized = version != 1
    created = content.create_date or content.valid_start
    dates = {"create_date": asn1_time(created, generalized), "valid_start": asn1_time(content.valid_start, generalized),
             "valid_end": asn1_time(content.valid_end, generalized)}
    if version == 1:
        prop: Any = asn1.PropertyInfoV1({"type": content.seal_type, "name": content.name,
                                         "cert_list": list(content.holders), **dates})
        info_cls: Any = asn1.SealInfoV1
    else:
        cert_list: Any = (asn1.CertDigestList([{"type": "SM3", "value": sm3(c)} for c in content.holders])
                          if content.digest_list else asn1.CertList(list(content.holders)))
        prop = asn1.PropertyInfoV4({"type": content.seal_type, "name": content.name,
                                    "cert_list_type": 2 if content.digest_list else 1,
                                    "cert_list": core.Any.load(cert_list.dump()), **dates})
        info_cls = asn1.SealInfoV4
    return info_cls({
        "header": {"id": "ES", "version": version, "vid": content.vid}, "es_id": content.es_id,
        "property": prop,
        "picture": {"type": content.picture_type, "data": content.picture, "width": content.width_mm,
                    "height": content.height_mm},
    })


def build_seal(content: SealContent, maker_cert_der: bytes, sign: SignFn, version: int = 4) -> SESeal:
    """Make and sign a seal (``version`` 1 or 4); ``sign`` is the maker's SM3withSM2."""
    if version not in (1, 4):
        raise bad_format(f"只能制作 V1 或 V4 印章，不能制作 V{version}。", f"Only V1 and V4 seals can be made, not V{version}.")
    if content.digest_list and version == 1:
        raise bad_format("V1 印章不支持证书摘要列表。", "V1 seals cannot list certificate digests.")
    info = _seal_info(content, version)
    info_der = info.dump()
    if version == 1:
        signed = asn1.MakerSignedV1({"eseal_info": core.Any.load(info_der), "cert": maker_cert_der,
                                     "alg": oids.SM2_WITH_SM3}).dump()
        seal: Any = asn1.SESealV1({"eseal_info": info, "sign_info": {
            "cert": maker_cert_der, "signature_algorithm": oids.SM2_WITH_SM3, "sign_data": sign(signed)}})
    else:
        seal = asn1.SESealV4({"eseal_info": info, "cert": maker_cert_der, "sign_alg_id": oids.SM2_WITH_SM3,
                              "signed_value": sign(info_der)})
    return SESeal.decode(seal.dump())
