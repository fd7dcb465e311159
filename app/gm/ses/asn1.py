"""ASN.1 schemas of the electronic seal formats (asn1crypto).

V1 is GM/T 0031-2014, V4 is GB/T 38540-2020 (standards.md §4). Fields whose type
depends on another field (V4's certificate list, the seal inside a TBS_Sign, V1's
``timeInfo``) are ``Any`` and parsed by :mod:`.seal` / :mod:`.signature`, so a
vendor's variant is read instead of rejected by the schema. Signatures and hashes
are BIT STRINGs holding whole bytes (``OctetBitString``).
"""

from __future__ import annotations

from asn1crypto import core, x509


class SESHeader(core.Sequence):
    _fields = [("id", core.IA5String), ("version", core.Integer), ("vid", core.IA5String)]


class CertList(core.SequenceOf):
    """SEQUENCE OF OCTET STRING: DER certificates (V1, and V4 with certListType 1)."""

    _child_spec = core.OctetString


class CertDigestObj(core.Sequence):
    _fields = [("type", core.PrintableString), ("value", core.OctetString)]


class CertDigestList(core.SequenceOf):
    """V4 with certListType 2: digests of the holders' certificates."""

    _child_spec = CertDigestObj


class PropertyInfoV1(core.Sequence):
    _fields = [
        ("type", core.Integer), ("name", core.UTF8String), ("cert_list", CertList),
        ("create_date", x509.Time), ("valid_start", x509.Time), ("valid_end", x509.Time),
    ]


class PropertyInfoV4(core.Sequence):
    _fields = [
        ("type", core.Integer), ("name", core.UTF8String), ("cert_list_type", core.Integer),
        ("cert_list", core.Any),
        ("create_date", x509.Time), ("valid_start", x509.Time), ("valid_end", x509.Time),
    ]


class PictureInfo(core.Sequence):
    _fields = [("type", core.IA5String), ("data", core.OctetString), ("width", core.Integer),
               ("height", core.Integer)]


class ExtData(core.Sequence):
    _fields = [("extn_id", core.ObjectIdentifier), ("critical", core.Boolean, {"default": False}),
               ("extn_value", core.OctetString)]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class SealInfoV1(core.Sequence):
    _fields = [("header", SESHeader), ("es_id", core.IA5String), ("property", PropertyInfoV1),
               ("picture", PictureInfo), ("ext_datas", ExtensionDatas, {"optional": True})]


class SealInfoV4(core.Sequence):
    _fields = [("header", SESHeader), ("es_id", core.IA5String), ("property", PropertyInfoV4),
               ("picture", PictureInfo), ("ext_datas", ExtensionDatas, {"optional": True})]


class SignInfoV1(core.Sequence):
    _fields = [("cert", core.OctetString), ("signature_algorithm", core.ObjectIdentifier),
               ("sign_data", core.OctetBitString)]


class SESealV1(core.Sequence):
    _fields = [("eseal_info", SealInfoV1), ("sign_info", SignInfoV1)]


class SESealV4(core.Sequence):
    _fields = [("eseal_info", SealInfoV4), ("cert", core.OctetString),
               ("sign_alg_id", core.ObjectIdentifier), ("signed_value", core.OctetBitString)]


class MakerSignedV1(core.Sequence):
    """What GM/T 0031's maker signs: SEQUENCE{sealInfo, cert, signatureAlgorithm}."""

    _fields = [("eseal_info", core.Any), ("cert", core.OctetString), ("alg", core.ObjectIdentifier)]


class TBSSignV1(core.Sequence):
    _fields = [("version", core.Integer), ("eseal", core.Any), ("time_info", core.Any),
               ("data_hash", core.OctetBitString), ("property_info", core.IA5String),
               ("cert", core.OctetString), ("signature_algorithm", core.ObjectIdentifier)]


class SESSignatureV1(core.Sequence):
    _fields = [("to_sign", TBSSignV1), ("signature", core.OctetBitString)]


class TBSSignV4(core.Sequence):
    _fields = [("version", core.Integer), ("eseal", core.Any), ("time_info", core.Any),
               ("data_hash", core.OctetBitString), ("property_info", core.IA5String),
               ("ext_datas", ExtensionDatas, {"explicit": 0, "optional": True})]


class SESSignatureV4(core.Sequence):
    _fields = [("to_sign", TBSSignV4), ("cert", core.OctetString), ("signature_alg_id", core.ObjectIdentifier),
               ("signature", core.OctetBitString),
               ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True})]


class AnySequence(core.SequenceOf):
    """Used to count a structure's elements (the version detection ofdrw uses)."""

    _child_spec = core.Any
