"""Certificate model: fields, identity codes in every supported place, chains, CRLs, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from app.demo.pki import DEMO_LEGAL_ID, DEMO_UNIT_CODE, CertificateAuthority, Subject
from app.gm import oids, sm2
from app.gm.errors import GMError
from app.gm.names import (
    build_name,
    find_resident_ids,
    find_uscc,
    is_valid_resident_id,
    is_valid_uscc,
    make_resident_id,
    make_uscc,
    resident_id_check_digit,
    uscc_check_digit,
)
from app.gm.sm3 import sm3
from app.gm.x509 import Certificate, Crl, verify_chain
from tests.gm.conftest_pki import flip, shared_demo, spare_key

# The shared demo PKI is made at import (collection) time, before NOW is read: its
# certificates start five minutes before they are made, so NOW lies inside their validity
# however long the suite takes to reach these tests on a loaded machine.
shared_demo()
NOW = datetime.now(UTC)
CODE = make_uscc("91440300MA5FABCD1")  # a second valid code, different from the demo's


# -- check digits ---------------------------------------------------------------------


def test_uscc_check_digit_known_values() -> None:
    # The example printed in GB 32100-2015 and our demo code.
    assert uscc_check_digit("91350100M000100Y4") == "3"
    assert is_valid_uscc("91350100M000100Y43")
    assert not is_valid_uscc("91350100M000100Y44")
    assert not is_valid_uscc("91350100M000100Y4")  # 17 characters
    assert not is_valid_uscc("91350100I000100Y43")  # I is not in the alphabet
    assert is_valid_uscc(DEMO_UNIT_CODE) and is_valid_uscc(CODE)
    with pytest.raises(GMError):
        uscc_check_digit("9135")


def test_resident_id_check_digit_known_values() -> None:
    assert resident_id_check_digit("11010519491231002") == "X"  # GB 11643 example
    assert is_valid_resident_id("11010519491231002X")
    assert is_valid_resident_id("11010519491231002x")
    assert not is_valid_resident_id("110105194912310021")
    assert not is_valid_resident_id(make_resident_id("11010519491331002"))  # month 13
    assert is_valid_resident_id(DEMO_LEGAL_ID)
    with pytest.raises(GMError):
        resident_id_check_digit("1101051949123100X")


def test_scanner_finds_codes_in_text_and_rejects_wrong_check_digits() -> None:
    bad = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")
    assert find_uscc([f"辽宁示例公司@{CODE}"]) == [CODE]
    assert find_uscc([f"SF{CODE}"]) == [CODE]
    assert find_uscc([f"统一社会信用代码：{bad}"]) == []
    # A resident ID is never reported as a unit code, and vice versa.
    assert find_uscc([DEMO_LEGAL_ID]) == []
    assert find_resident_ids([f"身份证:{DEMO_LEGAL_ID}"]) == [DEMO_LEGAL_ID]
    assert find_resident_ids([CODE]) == []


# -- the demo certificates ----------------------------------------------------------------


def test_demo_signing_certificate_fields_read_back() -> None:
    d = shared_demo()
    c = d.sign_cert
    s = c.subject
    assert s.common_name == "辽宁示例建设工程有限公司" == c.common_name
    assert s.organization == "辽宁示例建设工程有限公司"
    assert (s.country, s.province, s.locality) == ("CN", "辽宁省", "沈阳市")
    assert s.serial_number == DEMO_UNIT_CODE
    assert c.unit_name == "辽宁示例建设工程有限公司"
    assert c.unit_code == DEMO_UNIT_CODE
    assert c.unit_code_source == "subject.serialNumber"
    assert c.id_number == DEMO_LEGAL_ID
    assert c.legal_name == "张三"
    assert c.issuer.common_name == "BidSeal Demo Root CA"
    assert c.issuer.matches(d.root_cert.subject)
    assert c.serial_hex == format(c.serial_number, "X") and c.serial_hex == c.serial_hex.upper()
    assert not c.serial_hex.startswith("0")
    assert c.not_before.tzinfo is not None and c.not_before.utcoffset() == timedelta(0)
    assert c.not_before < datetime.now(UTC) < c.not_after
    assert c.is_valid_at(datetime.now(UTC)) and not c.is_valid_at(c.not_after + timedelta(seconds=1))
    assert not c.is_valid_at(c.not_before - timedelta(seconds=1))
    assert c.key_usage == frozenset({"digital_signature", "non_repudiation"})
    assert c.is_signing_cert and not c.is_encryption_cert and c.kind == "sign"
    assert c.public_key == d.sign_key.public_key
    assert c.ski is not None and len(c.ski) == 20
    assert c.aki == d.root_cert.ski
    assert c.fingerprint_sm3 == sm3(c.der).hex()
    assert c.issuer_serial == (bytes(c.asn1["tbs_certificate"]["issuer"].dump()), c.serial_number)
    assert c.signature_algorithm_oid == oids.SM2_WITH_SM3
    assert c.verify_signed_by(d.root_cert) and c.signature_id(d.root_cert) == sm2.DEFAULT_ID
    assert not c.verify_signed_by(d.enc_cert)
    summary = c.summary()
    json.dumps(summary, ensure_ascii=False)
    assert summary["unit_code"] == DEMO_UNIT_CODE and summary["kind"] == "sign"
    assert summary["issuer_common_name"] == "BidSeal Demo Root CA"
    assert summary["key_usage"] == ["digital_signature", "non_repudiation"]


def test_encryption_tsa_and_root_certificates_are_classified() -> None:
    d = shared_demo()
    enc = d.enc_cert
    assert enc.key_usage == frozenset({"key_encipherment", "data_encipherment", "key_agreement"})
    assert enc.is_encryption_cert and not enc.is_signing_cert and enc.kind == "enc"
    assert enc.unit_code == DEMO_UNIT_CODE
    assert d.emergency_cert.unit_name == "沈阳市公共资源交易中心"
    assert d.emergency_cert.is_encryption_cert
    assert d.tsa_cert.extended_key_usage == frozenset({"time_stamping"})
    assert d.tsa_cert.is_signing_cert
    root = d.root_cert
    assert root.is_ca and root.kind == "ca" and root.is_self_issued
    assert root.key_usage == frozenset({"key_cert_sign", "crl_sign"})
    assert root.aki == root.ski


def test_encodings_round_trip() -> None:
    d = shared_demo()
    c = d.sign_cert
    assert Certificate.from_der(c.der) == c
    assert Certificate.from_pem(c.pem) == c
    assert Certificate.load(c.pem) == c == Certificate.load(c.der)
    bundle = c.pem + b"\n" + d.root_cert.pem
    assert Certificate.load_all(bundle) == [c, d.root_cert]
    assert hash(Certificate.from_der(c.der)) == hash(c)
    assert "辽宁" in repr(c)


def test_person_certificate_layout() -> None:
    d = shared_demo()
    pid = make_resident_id("21010319900307123")
    subj = Subject(unit_name="辽宁示例建设工程有限公司", unit_code=DEMO_UNIT_CODE, person_name="李四",
                   person_id=pid, ou="投标部")
    c = d.root.issue(spare_key(0).public_key, subj, "sign")
    assert c.common_name == "李四"
    assert c.unit_name == "辽宁示例建设工程有限公司"
    assert c.subject.organizational_units == ("投标部", DEMO_UNIT_CODE)
    assert c.id_number == pid
    assert c.unit_code == DEMO_UNIT_CODE and c.unit_code_source == "subject.OU"
    assert c.legal_name is None


# -- identity codes in every supported location -----------------------------------------------


def _name(*extra: tuple[str, str], cn: str = "测试单位") -> asn1_x509.Name:
    return build_name([("country_name", "CN"), ("organization_name", "测试单位"), *extra, ("common_name", cn)])


def _san_other_name(value: str) -> bytes:
    gn = asn1_x509.GeneralName(name="other_name", value={"type_id": "1.2.156.10260.4.1.4",
                                                         "value": core.UTF8String(value)})
    return bytes(asn1_x509.GeneralNames([gn]).dump())


def _san_dir_name(value: str) -> bytes:
    gn = asn1_x509.GeneralName(name="directory_name", value=build_name([("serial_number", value)]))
    return bytes(asn1_x509.GeneralNames([gn]).dump())


LOCATIONS = {
    "serialNumber": (dict(name=_name(("serial_number", CODE))), "subject.serialNumber"),
    "serialNumber-prefixed": (dict(name=_name(("serial_number", "SF" + CODE))), "subject.serialNumber"),
    "organizationIdentifier": (dict(name=_name(("organization_identifier", "NTRCN-" + CODE))), "subject.identifier"),
    "UID": (dict(name=_name(("user_id", CODE))), "subject.identifier"),
    "x500UniqueIdentifier": (dict(name=_name(("unique_identifier", CODE))), "subject.identifier"),
    "OU": (dict(name=_name(("organizational_unit_name", "统一社会信用代码:" + CODE))), "subject.OU"),
    "CN@suffix": (dict(name=_name(cn="测试单位@" + CODE)), "subject.CN"),
    "CN(suffix)": (dict(name=_name(cn=f"测试单位（{CODE}）")), "subject.CN"),
    "ext-GM/T0015": (dict(ext=("1.2.156.10260.4.1.1", core.PrintableString(CODE).dump())),
                     "extension:1.2.156.10260.4.1.1"),
    "ext-1.2.86-raw": (dict(ext=("1.2.86.11.7.3", b"USCC:" + CODE.encode())), "extension:1.2.86.11.7.3"),
    "ext-112562-utf8": (dict(ext=("1.2.156.112562.2.1.1.1", core.UTF8String("代码" + CODE).dump())),
                        "extension:1.2.156.112562.2.1.1.1"),
    "ext-private-seq": (dict(ext=("1.2.156.99999.1", core.Sequence.load(
        b"\x30" + bytes([20]) + core.IA5String(CODE).dump()).dump())), "extension:1.2.156.99999.1"),
    "SAN-otherName": (dict(ext=("2.5.29.17", _san_other_name(CODE))), "subjectAltName"),
    "SAN-dirName": (dict(ext=("2.5.29.17", _san_dir_name(CODE))), "subjectAltName"),
}


@pytest.mark.parametrize("where", sorted(LOCATIONS))
def test_unit_code_found_in_each_location(where: str) -> None:
    spec, source = LOCATIONS[where]
    name = spec.get("name", _name())
    exts = [(spec["ext"][0], spec["ext"][1], False)] if "ext" in spec else []
    cert = shared_demo().root.issue(spare_key(1).public_key, name, "sign", extra_extensions=exts)
    again = Certificate.from_der(cert.der)
    assert again.unit_code == CODE
    assert again.unit_code_source == source
    assert again.unit_name == "测试单位"


def test_wrong_check_digit_is_not_reported_and_id_is_not_a_unit_code() -> None:
    bad = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")
    cert = shared_demo().root.issue(spare_key(1).public_key, _name(("serial_number", bad)), "sign")
    assert cert.unit_code is None and cert.unit_code_source is None
    cert = shared_demo().root.issue(spare_key(1).public_key, _name(("serial_number", DEMO_LEGAL_ID)), "sign")
    assert cert.unit_code is None
    assert cert.id_number == DEMO_LEGAL_ID


def test_unit_name_from_cn_without_o() -> None:
    name = build_name([("country_name", "CN"), ("common_name", f"辽宁某某公司@{CODE}")])
    cert = shared_demo().root.issue(spare_key(1).public_key, name, "sign")
    assert cert.unit_name == "辽宁某某公司"
    assert cert.unit_code == CODE


def test_certificate_without_key_usage_counts_as_both() -> None:
    from asn1crypto import x509 as ax

    c = shared_demo().sign_cert
    tbs = ax.TbsCertificate.load(c.tbs_der)
    tbs["extensions"] = [e for e in tbs["extensions"] if e["extn_id"].native != "key_usage"]
    cert = ax.Certificate({"tbs_certificate": tbs, "signature_algorithm": c.asn1["signature_algorithm"],
                           "signature_value": c.asn1["signature_value"]})
    c2 = Certificate.from_der(cert.dump())
    assert c2.key_usage == frozenset() and not c2.has_key_usage
    assert c2.is_signing_cert and c2.is_encryption_cert and c2.kind == "sign+enc"
    assert not c2.verify_signed_by(shared_demo().root_cert)  # tbs changed


# -- chains ----------------------------------------------------------------------------


def test_chain_ok() -> None:
    d = shared_demo()
    r = verify_chain(d.sign_cert, [d.root_cert])
    assert r.trusted and r.problems == [] and r.path == [d.sign_cert, d.root_cert]
    assert r.link_ids == ["default"]
    for c in (d.enc_cert, d.emergency_cert, d.tsa_cert, d.root_cert):
        assert verify_chain(c, [d.root_cert]).trusted


def test_chain_wrong_root() -> None:
    d = shared_demo()
    other = CertificateAuthority.create_root()  # same name, different key
    r = verify_chain(d.sign_cert, [other.certificate])
    assert not r.trusted and r.problems == ["NO_ISSUER"]
    assert r.messages("en") and "trusted" in r.messages("en")[0]
    assert r.messages("zh")[0].startswith("辽宁示例建设工程有限公司")
    r = verify_chain(d.sign_cert, [])
    assert not r.trusted


def test_chain_same_name_without_key_ids_fails_on_signature() -> None:
    d = shared_demo()
    impostor_key = spare_key(2)
    root_name = d.root_cert.asn1["tbs_certificate"]["subject"]
    # A self-signed "root" with the same name and no key identifiers.
    fake = CertificateAuthority.create_root(key=impostor_key)
    leaf = fake.issue(spare_key(3).public_key, root_name, "sign")
    assert not verify_chain(leaf, [d.root_cert]).trusted


def test_chain_expired_and_not_yet_valid() -> None:
    d = shared_demo()
    k = spare_key(1).public_key
    old_root = CertificateAuthority.create_root(not_before=NOW - timedelta(days=1000))
    expired = old_root.issue(k, d.subject, "sign", not_before=NOW - timedelta(days=800), days=365)
    r = verify_chain(expired, [old_root.certificate])
    assert not r.trusted and r.problems == ["EXPIRED"]
    assert verify_chain(expired, [old_root.certificate], at=NOW - timedelta(days=700)).trusted
    # The root itself must be valid at that time as well.
    r = verify_chain(d.sign_cert, [d.root_cert], at=NOW - timedelta(days=700))
    assert not r.trusted and r.problems == ["NOT_YET_VALID"] and len(r.details) == 2
    future = d.root.issue(k, d.subject, "sign", not_before=NOW + timedelta(days=1))
    r = verify_chain(future, [d.root_cert])
    assert not r.trusted and r.problems == ["NOT_YET_VALID"]
    # A naive datetime is taken as UTC.
    assert verify_chain(future, [d.root_cert], at=(NOW + timedelta(days=2)).replace(tzinfo=None)).trusted


def test_chain_tampered_tbs() -> None:
    d = shared_demo()
    tampered = Certificate.from_der(flip(d.sign_cert.der, DEMO_UNIT_CODE.encode(), 3))
    assert tampered.subject.serial_number != DEMO_UNIT_CODE
    assert not tampered.verify_signed_by(d.root_cert)
    r = verify_chain(tampered, [d.root_cert])
    assert not r.trusted and "BAD_SIGNATURE" in r.problems


def test_chain_tampered_signature_value() -> None:
    d = shared_demo()
    der = d.sign_cert.der
    tampered = Certificate.from_der(der[:-3] + bytes([der[-3] ^ 0x40]) + der[-2:])
    r = verify_chain(tampered, [d.root_cert])
    assert not r.trusted and "BAD_SIGNATURE" in r.problems


def test_chain_ca_flag_missing() -> None:
    d = shared_demo()
    not_a_ca_key = spare_key(4)
    name = build_name([("country_name", "CN"), ("common_name", "Not A CA")])
    not_a_ca = d.root.issue(not_a_ca_key.public_key, name, "sign")
    leaf = CertificateAuthority(not_a_ca, not_a_ca_key).issue(spare_key(1).public_key, d.subject, "sign")
    r = verify_chain(leaf, [d.root_cert], [not_a_ca])
    assert not r.trusted
    assert "NOT_CA" in r.problems and "NO_KEY_CERT_SIGN" in r.problems
    assert len(r.path) == 3


def test_chain_with_intermediate_and_path_length() -> None:
    d = shared_demo()
    inter = d.root.create_intermediate("BidSeal Demo Sub CA", path_len=0)
    leaf = inter.issue(spare_key(1).public_key, d.subject, "sign")
    r = verify_chain(leaf, [d.root_cert], [inter.certificate])
    assert r.trusted and len(r.path) == 3
    assert not verify_chain(leaf, [d.root_cert]).trusted  # intermediate missing
    inter2 = inter.create_intermediate("BidSeal Demo Sub-Sub CA")
    leaf2 = inter2.issue(spare_key(1).public_key, d.subject, "sign")
    r = verify_chain(leaf2, [d.root_cert], [inter.certificate, inter2.certificate])
    assert not r.trusted and r.problems == ["PATH_TOO_LONG"]


def test_chain_empty_id_signature_accepted_and_recorded() -> None:
    d = shared_demo()
    c = d.root.issue(spare_key(1).public_key, d.subject, "sign", sign_id=b"")
    assert c.signature_id(d.root_cert) == b""
    r = verify_chain(c, [d.root_cert])
    assert r.trusted and r.link_ids == ["empty"]
    other_id = d.root.issue(spare_key(1).public_key, d.subject, "sign", sign_id=b"ALICE123@YAHOO.COM")
    assert not other_id.verify_signed_by(d.root_cert)


def test_chain_revoked_via_crl() -> None:
    # The clock now, not at import: under load the suite reaches this test minutes later,
    # and the victim certificate is issued now.
    now = datetime.now(UTC)
    d = shared_demo()
    now = datetime.now(UTC)  # not the import-time NOW: a slow run must not move the test
    victim = d.root.issue(spare_key(1).public_key, d.subject, "sign")
    when = now - timedelta(seconds=30)
    crl = d.root.make_crl([(victim.serial_number, when), (12345, when)])
    assert crl.verify_signed_by(d.root_cert) and not crl.verify_signed_by(d.sign_cert)
    assert crl.is_revoked(victim) is not None
    assert abs((crl.is_revoked(victim) or now) - when) < timedelta(seconds=1)
    assert crl.is_revoked(d.sign_cert) is None
    r = verify_chain(victim, [d.root_cert], crls=[crl])
    assert not r.trusted and r.problems == ["REVOKED"]
    assert verify_chain(victim, [d.root_cert], at=now - timedelta(minutes=2), crls=[crl]).trusted
    assert verify_chain(d.sign_cert, [d.root_cert], crls=[crl]).trusted
    # A CRL from an impostor with the same issuer name is ignored and flagged.
    fake = CertificateAuthority.create_root().make_crl([(d.sign_cert.serial_number, when)])
    r = verify_chain(d.sign_cert, [d.root_cert], crls=[fake])
    assert not r.trusted and r.problems == ["CRL_BAD_SIGNATURE"]


def test_crl_codecs_and_fields() -> None:
    d = shared_demo()
    crl = d.root.make_crl([(7, NOW)], next_update=NOW + timedelta(days=1), this_update=NOW)
    assert Crl.load(crl.pem).der == crl.der == Crl.load(crl.der).der
    assert crl.issuer.common_name == "BidSeal Demo Root CA"
    assert crl.this_update <= NOW and crl.next_update is not None and crl.next_update > NOW
    assert set(crl.revoked_serials) == {7}
    stale = d.root.make_crl([], next_update=NOW - timedelta(days=1), this_update=NOW - timedelta(days=8))
    r = verify_chain(d.sign_cert, [d.root_cert], crls=[stale])
    assert r.problems == ["CRL_EXPIRED"]


def test_non_sm2_certificate() -> None:
    from cryptography import x509 as cx
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = cx.Name([cx.NameAttribute(NameOID.COMMON_NAME, "P-256 test")])
    cert = (cx.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(5).not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    c = Certificate.from_der(cert.public_bytes(serialization.Encoding.DER))
    assert not c.is_sm2 and c.summary()["sm2"] is False
    with pytest.raises(GMError):
        c.public_key  # noqa: B018
    assert not c.verify_signed_by(c)
    r = verify_chain(c, [c])
    assert not r.trusted and "NOT_SM2" in r.problems
    assert not shared_demo().sign_cert.verify_signed_by(c)


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    b"", b"hello", b"\x30\x03\x02\x01\x01", b"\x30\x82\xff\xff" + b"\0" * 10, bytes(range(256)),
])
def test_garbage_is_rejected_with_a_sentence(data: bytes) -> None:
    with pytest.raises(GMError) as ei:
        Certificate.load(data)
    assert "证书" in ei.value.zh and "certificate" in ei.value.en
    assert ei.value.code == "ERR_CERT_FORMAT"


def test_truncated_and_trailing_data_rejected() -> None:
    der = shared_demo().sign_cert.der
    for cut in (1, 10, len(der) // 2, len(der) - 1):
        with pytest.raises(GMError):
            Certificate.from_der(der[:cut])
    with pytest.raises(GMError):
        Certificate.from_der(der + b"\0")


def test_other_structures_are_not_certificates() -> None:
    d = shared_demo()
    crl = d.root.make_crl([])
    with pytest.raises(GMError):
        Certificate.from_der(crl.der)
    with pytest.raises(GMError):
        Crl.from_der(d.sign_cert.der)
    with pytest.raises(GMError):
        Crl.load(b"-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n")
    with pytest.raises(GMError):
        Certificate.from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(GMError):
        Certificate.from_pem(d.sign_key.to_pem())  # a PEM, but no certificate in it
    with pytest.raises(GMError):
        Certificate.from_der(d.sign_key.to_der())


def test_certificate_is_immutable() -> None:
    c = Certificate.from_der(shared_demo().sign_cert.der)
    with pytest.raises(AttributeError):
        c._der = b""  # type: ignore[misc]
    with pytest.raises(AttributeError):
        c.extra = 1  # type: ignore[attr-defined]
    assert c.der == shared_demo().sign_cert.der
