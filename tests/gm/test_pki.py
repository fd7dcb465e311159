"""Demo PKI builder: subjects, CSRs, issuing, CRLs, the GB/T 35276 key envelope and its SKF blob."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import core
from asn1crypto import csr as asn1_csr

from app.demo.pki import (
    DEMO_CENTRE_CODE,
    DEMO_LEGAL_ID,
    DEMO_UNIT_CODE,
    ENVELOPED_KEY_BLOB_SIZE,
    SGD_SM4_ECB,
    CertificateAuthority,
    SM2EnvelopedKey,
    Subject,
    build_csr,
    demo_pki,
    enveloped_key_for,
    key_identifier,
    open_enveloped_key,
    parse_enveloped_key,
    parse_skf_enveloped_key_blob,
    random_serial,
    skf_enveloped_key_blob,
    verify_csr,
)
from app.gm import oids, sm2, sm4
from app.gm.errors import GMError
from app.gm.names import is_valid_resident_id, is_valid_uscc
from app.gm.x509 import Certificate, verify_chain
from tests.gm.conftest_pki import flip, shared_demo, spare_key


def _sign_fn(key: sm2.PrivateKey):  # type: ignore[no-untyped-def]
    return lambda e: sm2.sign_digest(key, e)


def test_demo_constants_are_valid() -> None:
    assert is_valid_uscc(DEMO_UNIT_CODE) and is_valid_uscc(DEMO_CENTRE_CODE)
    assert is_valid_resident_id(DEMO_LEGAL_ID)


def test_subject_validation() -> None:
    Subject("某公司", DEMO_UNIT_CODE).validate()
    bad = DEMO_UNIT_CODE[:-1] + ("0" if DEMO_UNIT_CODE[-1] != "0" else "1")
    with pytest.raises(GMError) as ei:
        Subject("某公司", bad).validate()
    assert ei.value.code == "ERR_INVALID_UNIT_CODE" and "统一社会信用代码" in ei.value.zh
    with pytest.raises(GMError):
        Subject("某公司", "123").to_name()
    with pytest.raises(GMError):
        Subject("某公司", DEMO_UNIT_CODE, legal_id="110105194912310021").validate()
    with pytest.raises(GMError):
        Subject("  ").validate()


def test_demo_pki_contents() -> None:
    d = demo_pki(unit_name="沈阳测试工程有限公司", unit_code=DEMO_CENTRE_CODE, legal_name="王五")
    root = d.root_cert
    assert root.is_ca and root.common_name == "BidSeal Demo Root CA"
    assert root.subject.organization == "BidSeal 演示 CA"
    for cert in (d.sign_cert, d.enc_cert, d.emergency_cert, d.tsa_cert):
        assert verify_chain(cert, [root]).trusted
        assert cert.signature_algorithm_oid == oids.SM2_WITH_SM3
        assert cert.aki == root.ski and cert.ski == key_identifier(cert.public_key)
        assert not cert.is_ca
    assert d.sign_cert.public_key == d.sign_key.public_key and d.sign_cert.kind == "sign"
    assert d.enc_cert.public_key == d.enc_key.public_key and d.enc_cert.kind == "enc"
    assert d.emergency_cert.public_key == d.emergency_key.public_key and d.emergency_cert.kind == "enc"
    assert d.tsa_cert.public_key == d.tsa_key.public_key
    assert d.tsa_cert.extended_key_usage == {"time_stamping"}
    assert d.sign_cert.unit_name == "沈阳测试工程有限公司" == d.enc_cert.unit_name
    assert d.sign_cert.unit_code == DEMO_CENTRE_CODE and d.sign_cert.legal_name == "王五"
    assert d.emergency_cert.unit_name == "沈阳市公共资源交易中心"
    assert d.emergency_cert.subject.organizational_units == ("应急解密",)
    assert len({c.serial_number for c in (d.sign_cert, d.enc_cert, d.emergency_cert, d.tsa_cert)}) == 4
    assert d.signer().certificate == d.sign_cert and d.unwrapper().certificate == d.enc_cert
    assert open_enveloped_key(d.enc_key_envelope, d.sign_key).d == d.enc_key.d
    with pytest.raises(GMError):
        demo_pki(unit_code="91210100MA0Y8B6K2Z")


def test_issue_options() -> None:
    d = shared_demo()
    nb = datetime(2030, 1, 1, tzinfo=UTC)
    c = d.root.issue(spare_key(0).public_key, d.subject, "enc", serial=1, not_before=nb,
                     not_after=nb + timedelta(days=10))
    assert c.serial_number == 1 and c.serial_hex == "1"
    assert c.not_before == nb and c.not_after == nb + timedelta(days=10)
    late = d.root.issue(spare_key(0).public_key, d.subject, "sign", not_before=datetime(2051, 1, 1, tzinfo=UTC))
    assert late.not_before.year == 2051  # GeneralizedTime from 2050 on
    with pytest.raises(GMError):
        d.root.issue(spare_key(0).public_key, d.subject, "sign", serial=0)
    with pytest.raises(GMError):
        d.root.issue(spare_key(0).public_key, d.subject, "sign", not_before=nb, not_after=nb)
    with pytest.raises(GMError):
        d.root.issue(spare_key(0).public_key, d.subject, "bogus")  # type: ignore[arg-type]
    serials = {random_serial() for _ in range(50)}
    assert len(serials) == 50 and all(0 < s < 2**127 for s in serials)
    assert all(s.bit_length() == 127 for s in serials)  # always 16 DER bytes


def test_root_with_given_key() -> None:
    key = spare_key(6)
    ca = CertificateAuthority.create_root(name="Other Root", org="其他 CA", days=10, key=key)
    assert ca.certificate.public_key == key.public_key
    assert ca.certificate.common_name == "Other Root"
    assert (ca.certificate.not_after - ca.certificate.not_before).days == 10
    assert ca.certificate.verify_signed_by(ca.certificate)


# -- CSR ------------------------------------------------------------------------------------


def test_csr_round_trip_and_issue() -> None:
    d = shared_demo()
    key = spare_key(7)
    subj = Subject("辽宁示例建设工程有限公司", DEMO_UNIT_CODE, person_name="李四")
    der = build_csr(subj, key.public_key, _sign_fn(key))
    req = asn1_csr.CertificationRequest.load(der)
    assert req["signature_algorithm"]["algorithm"].dotted == oids.SM2_WITH_SM3
    pub, name = verify_csr(der)
    assert pub == key.public_key and name.common_name == "李四"
    assert name.organizational_units == (DEMO_UNIT_CODE,)
    cert = d.root.issue_from_csr(der, "sign", days=30)
    assert cert.public_key == key.public_key and cert.common_name == "李四"
    assert cert.unit_code == DEMO_UNIT_CODE


def test_csr_signer_must_hold_the_key() -> None:
    key = spare_key(7)
    with pytest.raises(GMError):
        build_csr(Subject("某公司"), key.public_key, _sign_fn(spare_key(0)))


def test_csr_tampered_or_garbage() -> None:
    key = spare_key(7)
    der = build_csr(Subject("某公司", DEMO_UNIT_CODE), key.public_key, _sign_fn(key))
    with pytest.raises(GMError) as ei:
        verify_csr(flip(der, DEMO_UNIT_CODE.encode(), 2))
    assert ei.value.code == "ERR_CSR_SIGNATURE"
    for bad in (b"", b"junk", der[:40]):
        with pytest.raises(GMError):
            verify_csr(bad)
    with pytest.raises(GMError):
        shared_demo().root.issue_from_csr(b"junk")


def test_csr_with_empty_id_signature_is_accepted() -> None:
    # What `openssl req` does without -sigopt distid.
    key = spare_key(7)
    der = build_csr(Subject("某公司"), key.public_key, _sign_fn(key))
    req = asn1_csr.CertificationRequest.load(der)
    info = bytes(req["certification_request_info"].dump())
    req["signature"] = sm2.sign(key, info, b"")
    pub, _name = verify_csr(bytes(req.dump(force=True)))
    assert pub == key.public_key


# -- CRL ------------------------------------------------------------------------------------


def test_make_crl() -> None:
    d = shared_demo()
    now = datetime.now(UTC).replace(microsecond=0)
    crl = d.root.make_crl([(5, now), (d.sign_cert.serial_number, now)], next_update=now + timedelta(days=3),
                          crl_number=42)
    assert crl.revoked_serials == {5: now, d.sign_cert.serial_number: now}
    assert crl.is_revoked(d.sign_cert) == now
    assert crl.verify_signed_by(d.root_cert)
    assert crl.next_update == now + timedelta(days=3)
    assert crl.issuer.matches(d.root_cert.subject)
    tampered = type(crl).from_der(flip(crl.der, (5).to_bytes(1, "big") + b"\x17", 0))
    assert not tampered.verify_signed_by(d.root_cert)


# -- GB/T 35276 SM2EnvelopedKey and the SKF ENVELOPEDKEYBLOB ------------------------------------


def test_enveloped_key_structure_and_round_trip() -> None:
    d = shared_demo()
    der = enveloped_key_for(d.enc_key, d.sign_key.public_key)
    env = SM2EnvelopedKey.load(der)
    assert env["sym_alg_id"]["algorithm"].dotted == oids.SM4_ECB
    assert bytes(env["sm2_public_key"].native) == d.enc_key.public_key.to_bytes()
    assert len(bytes(env["sm2_encrypted_private_key"].native)) == 64
    p = parse_enveloped_key(der)
    assert p.public_key == d.enc_key.public_key and len(p.sym_encrypted_key.c2) == 16
    assert open_enveloped_key(der, d.sign_key).d == d.enc_key.d
    with pytest.raises(GMError):
        open_enveloped_key(der, d.enc_key)  # protected by the SIGNING key, not the enc key
    with pytest.raises(GMError):
        parse_enveloped_key(b"junk")


def test_enveloped_key_with_32_byte_private_key_is_opened() -> None:
    d = shared_demo()
    sym = bytes(range(16))
    env = SM2EnvelopedKey({
        "sym_alg_id": {"algorithm": oids.SM4_ECB},
        "sym_encrypted_key": core.Any.load(sm2.encrypt(d.sign_key.public_key, sym, sm2.CipherFormat.ASN1)),
        "sm2_public_key": d.enc_key.public_key.to_bytes(),
        "sm2_encrypted_private_key": sm4.ecb_encrypt(sym, d.enc_key.to_bytes()),
    })
    der = bytes(env.dump())
    assert open_enveloped_key(der, d.sign_key).d == d.enc_key.d
    with pytest.raises(GMError):
        skf_enveloped_key_blob(der)  # the 64-byte SKF layout cannot be derived


def test_enveloped_key_mismatched_public_key_refused() -> None:
    d = shared_demo()
    env = SM2EnvelopedKey.load(enveloped_key_for(d.enc_key, d.sign_key.public_key))
    env["sm2_public_key"] = d.emergency_key.public_key.to_bytes()
    with pytest.raises(GMError):
        open_enveloped_key(bytes(env.dump(force=True)), d.sign_key)


def test_skf_enveloped_key_blob_layout() -> None:
    d = shared_demo()
    der = enveloped_key_for(d.enc_key, d.sign_key.public_key)
    blob = skf_enveloped_key_blob(der)
    assert len(blob) == ENVELOPED_KEY_BLOB_SIZE == 388
    assert blob[0:4] == (1).to_bytes(4, "little")
    assert blob[4:8] == (0x401).to_bytes(4, "little") and SGD_SM4_ECB == 0x401
    assert blob[8:12] == (256).to_bytes(4, "little")
    p = parse_enveloped_key(der)
    assert blob[12:76] == p.encrypted_private_key
    assert blob[76:208] == d.enc_key.public_key.to_skf_blob()
    assert blob[76:80] == (256).to_bytes(4, "little") and blob[80:112] == b"\0" * 32
    assert blob[208:] == p.sym_encrypted_key.to_skf_blob()
    assert int.from_bytes(blob[208 + 160:208 + 164], "little") == 16
    # What the UKey does on SKF_ImportECCKeyPair: decrypt the SM4 key with the
    # signing key, then the right-aligned private key field.
    parsed = parse_skf_enveloped_key_blob(blob)
    assert (parsed.version, parsed.sym_alg_id, parsed.bits) == (1, 0x401, 256)
    assert parsed.public_key == d.enc_key.public_key
    sym = sm2.decrypt_parts(d.sign_key, parsed.cipher)
    field = sm4.ecb_decrypt(sym, parsed.encrypted_private_key)
    assert field[:32] == b"\0" * 32 and field[32:] == d.enc_key.to_bytes()
    with pytest.raises(GMError):
        parse_skf_enveloped_key_blob(blob[:300])


def test_certificate_for_enveloped_key_matches() -> None:
    d = shared_demo()
    blob = parse_skf_enveloped_key_blob(skf_enveloped_key_blob(d.enc_key_envelope))
    assert Certificate.from_der(d.enc_cert.der).public_key == blob.public_key
