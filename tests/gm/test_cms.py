"""CMS SignedData / EnvelopedData with SM2: round trips, tampering, OID variants, bad input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from asn1crypto import cms as acms
from asn1crypto import core
from hypothesis import given, settings
from hypothesis import strategies as st

from app.demo.pki import CertificateAuthority
from app.gm import cms, oids, sm2
from app.gm.errors import GMError
from app.gm.keyops import SoftwareSigner
from app.gm.sm3 import sm3
from app.gm.x509 import Certificate
from tests.gm.conftest_pki import flip, shared_demo, spare_key

CONTENT = "投标文件 bid document".encode() * 10
DIGEST = sm3(CONTENT)
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass
class CountingSigner:
    """A DigestSigner that records every device call."""

    certificate: Certificate
    key: sm2.PrivateKey
    calls: list[bytes] = field(default_factory=list)

    def sign_digest(self, e: bytes) -> bytes:
        self.calls.append(e)
        return sm2.sign_digest(self.key, e)


def _signer() -> CountingSigner:
    d = shared_demo()
    return CountingSigner(d.sign_cert, d.sign_key)


def _sign(**kw: object) -> bytes:
    return cms.sign_detached(DIGEST, _signer(), chain=[shared_demo().root_cert], signing_time=WHEN, **kw)  # type: ignore[arg-type]


def _rebuild(der: bytes, edit: object) -> bytes:
    ci = acms.ContentInfo.load(der)
    edit(ci)  # type: ignore[operator]
    return bytes(ci.dump(force=True))


# -- signing ---------------------------------------------------------------------------


def test_round_trip_and_every_reported_fact() -> None:
    d = shared_demo()
    signer = _signer()
    der = cms.sign_detached(DIGEST, signer, chain=[d.root_cert], signing_time=WHEN)
    assert len(signer.calls) == 1
    info = cms.verify_detached(der, DIGEST)
    assert info.valid and info.signature_valid and info.digest_matches is True
    assert info.problems == [] and info.messages() == []
    assert info.sm2_id == "default"
    assert info.content_type_family == "pkcs7"
    assert info.signer_certificate == d.sign_cert
    assert set(info.certificates) == {d.sign_cert, d.root_cert}  # a DER SET: sorted, not in our order
    assert info.signing_time == WHEN
    assert info.digest_algorithm == oids.SM3
    assert info.signature_algorithm == oids.SM2_WITH_SM3
    assert info.signature_params == "absent"
    assert info.signed_attrs_present and info.signer_count == 1
    assert info.message_digest == DIGEST
    assert info.ess_cert_matches is True
    assert info.content is None
    # e is exactly SM3(Z(default ID) || DER(signed attributes as SET)).
    assert info.signed_attrs_der is not None and info.signed_attrs_der[0] == 0x31
    assert signer.calls[0] == sm2.compute_e(d.sign_cert.public_key, info.signed_attrs_der)
    assert cms.verify_detached(der, content=CONTENT).valid


def test_structure_matches_the_profile() -> None:
    ci = acms.ContentInfo.load(_sign())
    assert ci["content_type"].dotted == oids.PKCS7_SIGNED_DATA
    sd = ci["content"]
    assert sd["version"].native == "v1"
    assert [a["algorithm"].dotted for a in sd["digest_algorithms"]] == [oids.SM3]
    assert sd["encap_content_info"]["content_type"].dotted == oids.PKCS7_DATA
    assert sd["encap_content_info"]["content"].native is None
    si = sd["signer_infos"][0]
    assert si["version"].native == "v1" and si["sid"].name == "issuer_and_serial_number"
    assert si["signature_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.501"
    types = [a["type"].dotted for a in si["signed_attrs"]]
    assert set(types) == {"1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4", "1.2.840.113549.1.9.5",
                          "1.2.840.113549.1.9.16.2.47"}
    ess = [a for a in si["signed_attrs"] if a["type"].native == "signing_certificate_v2"][0]
    cert_id = ess["values"][0]["certs"][0]
    assert cert_id["hash_algorithm"]["algorithm"].dotted == oids.SM3
    assert bytes(cert_id["cert_hash"].native) == sm3(shared_demo().sign_cert.der)


def test_two_stage_signing_and_size_estimate() -> None:
    d = shared_demo()
    est = cms.estimate_size(d.sign_cert, chain=[d.root_cert])
    prepared = cms.prepare_signed_attributes(DIGEST, d.sign_cert, chain=[d.root_cert], signing_time=WHEN)
    sig = sm2.sign_digest(d.sign_key, prepared.e)
    der = cms.assemble(prepared, sig)
    assert len(der) <= est <= len(der) + 2  # DER SM2 signatures are 70..72 bytes
    assert cms.verify_detached(der, DIGEST).valid
    extra = ("1.2.840.113549.1.9.16.2.14", [core.OctetString(b"x" * 100).dump()])  # any unsigned attribute
    est2 = cms.estimate_size(d.sign_cert, chain=[d.root_cert], unsigned_attrs=[extra])
    der2 = cms.assemble(prepared, sig, unsigned_attrs=[extra])
    assert len(der2) <= est2 <= len(der2) + 2 and est2 > est
    assert cms.verify_detached(der2, DIGEST).valid


def test_extra_signed_attribute_is_covered() -> None:
    attr = ("1.2.156.10197.6.1.4.2.99", [core.UTF8String("招标编号 2026-001").dump()])
    der = _sign(extra_signed_attrs=[attr])
    assert cms.verify_detached(der, DIGEST).valid
    tampered = flip(der, b"2026-001", 0)
    assert not cms.verify_detached(tampered, DIGEST).signature_valid


def test_signer_with_wrong_key_is_refused() -> None:
    d = shared_demo()
    with pytest.raises(GMError) as ei:
        cms.sign_detached(DIGEST, SoftwareSigner(d.sign_cert, d.enc_key))
    assert ei.value.code == "ERR_SIGNER_MISMATCH"
    with pytest.raises(GMError):
        cms.sign_detached(b"short", _signer())


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_random_digests_round_trip(digest: bytes) -> None:
    der = cms.sign_detached(digest, _signer())
    info = cms.verify_detached(der, digest)
    assert info.valid
    other = bytes([digest[0] ^ 1]) + digest[1:]
    assert not cms.verify_detached(der, other).valid


# -- tampering ---------------------------------------------------------------------------


def test_tampered_signed_attributes() -> None:
    der = _sign()
    tampered = flip(der, b"260102030405Z", 11)  # the signing time's seconds
    info = cms.verify_detached(tampered, DIGEST)
    assert info.digest_matches is True and not info.signature_valid and not info.valid
    assert info.problems == ["BAD_SIGNATURE"] and info.sm2_id is None
    assert info.signing_time != WHEN


def test_wrong_digest() -> None:
    info = cms.verify_detached(_sign(), sm3(b"other document"))
    assert info.signature_valid and info.digest_matches is False and not info.valid
    assert info.problems == ["DIGEST_MISMATCH"]
    assert "modified" in " ".join(info.messages("en")) or "changed" in " ".join(info.messages("en"))
    assert not cms.verify_detached(_sign(), content=CONTENT + b"!").valid


def test_tampered_signature_value() -> None:
    der = _sign()
    sig = cms.verify_detached(der, DIGEST).signature
    tampered = flip(der, sig, 10)
    info = cms.verify_detached(tampered, DIGEST)
    assert not info.signature_valid and not info.valid and info.problems == ["BAD_SIGNATURE"]
    # A signature that is no longer DER is reported, not raised.
    broken = der.replace(sig, b"\x31" + sig[1:])
    info = cms.verify_detached(broken, DIGEST)
    assert not info.valid and info.problems == ["SIGNATURE_MALFORMED"]


def test_certificate_swapped_for_another_with_same_issuer_and_serial() -> None:
    d = shared_demo()
    impostor_ca = CertificateAuthority.create_root()  # same issuer name, other key
    forged = impostor_ca.issue(spare_key(5).public_key, d.subject, "sign", serial=d.sign_cert.serial_number)
    assert forged.issuer_serial == d.sign_cert.issuer_serial

    def swap(ci: acms.ContentInfo) -> None:
        ci["content"]["certificates"] = [acms.CertificateChoices(name="certificate", value=forged.asn1)]

    info = cms.verify_detached(_rebuild(_sign(), swap), DIGEST)
    assert info.signer_certificate == forged
    assert not info.signature_valid and not info.valid
    assert "ESS_CERT_MISMATCH" in info.problems and "BAD_SIGNATURE" in info.problems


def test_signer_certificate_missing() -> None:
    d = shared_demo()

    def other_cert(ci: acms.ContentInfo) -> None:
        ci["content"]["certificates"] = [acms.CertificateChoices(name="certificate", value=d.enc_cert.asn1)]

    der = _rebuild(_sign(), other_cert)
    info = cms.verify_detached(der, DIGEST)
    assert not info.valid and info.signer_certificate is None
    assert info.problems == ["SIGNER_CERT_NOT_FOUND"]
    # ... unless the caller supplies it (e.g. from the UKey).
    assert cms.verify_detached(der, DIGEST, extra_certs=[d.sign_cert]).valid


# -- accepted variants ---------------------------------------------------------------------


def test_gm_content_type_family() -> None:
    der = _sign(content_type_oids="gm")
    ci = acms.ContentInfo.load(der)
    assert ci["content_type"].dotted == oids.GM_SIGNED_DATA
    assert ci["content"]["encap_content_info"]["content_type"].dotted == oids.GM_DATA
    info = cms.verify_detached(der, DIGEST)
    assert info.valid and info.content_type_family == "gm"


@pytest.mark.parametrize("oid", sorted(oids.SM2_SIGNATURE_OIDS))
@pytest.mark.parametrize("null_params", [False, True])
def test_signature_oids_and_parameters_accepted(oid: str, null_params: bool) -> None:
    der = _sign(signature_oid=oid, signature_params_null=null_params)
    info = cms.verify_detached(der, DIGEST)
    assert info.valid and info.signature_algorithm == oid
    assert info.signature_params == ("null" if null_params else "absent")


def test_unexpected_signature_parameters_flagged_and_foreign_algorithms_refused() -> None:
    def params(ci: acms.ContentInfo) -> None:
        ci["content"]["signer_infos"][0]["signature_algorithm"]["parameters"] = core.Integer(1)

    info = cms.verify_detached(_rebuild(_sign(), params), DIGEST)
    assert info.signature_valid and not info.valid and info.problems == ["SIGNATURE_PARAMS"]

    def rsa(ci: acms.ContentInfo) -> None:
        ci["content"]["signer_infos"][0]["signature_algorithm"] = {"algorithm": "sha256_rsa"}

    with pytest.raises(GMError) as ei:
        cms.verify_detached(_rebuild(_sign(), rsa), DIGEST)
    assert ei.value.code == "ERR_CMS_UNSUPPORTED"

    def sha(ci: acms.ContentInfo) -> None:
        ci["content"]["signer_infos"][0]["digest_algorithm"] = {"algorithm": "sha256"}

    with pytest.raises(GMError):
        cms.verify_detached(_rebuild(_sign(), sha), DIGEST)


def test_empty_id_signature_accepted_with_flag() -> None:
    d = shared_demo()
    prepared = cms.prepare_signed_attributes(DIGEST, d.sign_cert, uid=b"")
    der = cms.assemble(prepared, sm2.sign_digest(d.sign_key, prepared.e))
    info = cms.verify_detached(der, DIGEST)
    assert info.valid and info.sm2_id == "empty"
    prepared = cms.prepare_signed_attributes(DIGEST, d.sign_cert, uid=b"another id")
    der = cms.assemble(prepared, sm2.sign_digest(d.sign_key, prepared.e))
    assert not cms.verify_detached(der, DIGEST).signature_valid


def test_subject_key_identifier_sid() -> None:
    d = shared_demo()

    def ski(ci: acms.ContentInfo) -> None:
        ci["content"]["signer_infos"][0]["sid"] = acms.SignerIdentifier(
            name="subject_key_identifier", value=d.sign_cert.ski)

    info = cms.verify_detached(_rebuild(_sign(), ski), DIGEST)
    assert info.valid and info.signer_certificate == d.sign_cert


def test_trailing_zero_padding_accepted_other_trailing_data_refused() -> None:
    der = _sign()
    assert cms.verify_detached(der + b"\0" * 4096, DIGEST).valid
    with pytest.raises(GMError):
        cms.verify_detached(der + b"\0\0\x01", DIGEST)


def test_single_signer_flag() -> None:
    def twice(ci: acms.ContentInfo) -> None:
        si = ci["content"]["signer_infos"][0]
        ci["content"]["signer_infos"] = [si, acms.SignerInfo.load(si.dump())]

    der = _rebuild(_sign(), twice)
    info = cms.verify_detached(der, DIGEST)
    assert info.valid and info.signer_count == 2
    info = cms.verify_detached(der, DIGEST, require_single_signer=True)
    assert not info.valid and info.problems == ["MULTIPLE_SIGNERS"]
    assert cms.verify_detached(_sign(), DIGEST, require_single_signer=True).valid


def test_missing_attributes_flagged() -> None:
    def drop(ci: acms.ContentInfo) -> None:
        si = ci["content"]["signer_infos"][0]
        si["signed_attrs"] = [a for a in si["signed_attrs"] if a["type"].native != "content_type"]

    info = cms.verify_detached(_rebuild(_sign(), drop), DIGEST)
    assert "CONTENT_TYPE_ATTR_MISSING" in info.problems and not info.valid

    def gm_type(ci: acms.ContentInfo) -> None:
        ci["content"]["encap_content_info"]["content_type"] = oids.GM_DATA

    info = cms.verify_detached(_rebuild(_sign(), gm_type), DIGEST)
    assert info.problems == ["CONTENT_TYPE_MISMATCH"]


def test_without_signed_attributes() -> None:
    d = shared_demo()
    # GM/T 0010 style: SM2 over the content itself (default ID), attached and detached.
    for attached in (False, True):
        der = cms.sign_content_without_attributes(CONTENT, _signer(), attached=attached)
        info = cms.verify_detached(der, content=None if attached else CONTENT)
        assert info.valid and info.sm2_id == "default" and not info.signed_attrs_present
        assert info.content_type_family == "gm" and info.signature_algorithm == oids.SM2_SIGN
        assert info.content == (CONTENT if attached else None)
        assert not cms.verify_detached(der, content=CONTENT + b"x").valid
    # Only the digest is known: a Z-less signature (OpenSSL cms style) can be checked ...
    der = cms.sign_content_without_attributes(CONTENT, _signer(), content_type_oids="pkcs7")

    def no_z(ci: acms.ContentInfo) -> None:
        ci["content"]["signer_infos"][0]["signature"] = sm2.sign_digest(d.sign_key, DIGEST)

    der_no_z = _rebuild(der, no_z)
    # ... but a bare digest without Z is not an SM2 signature: refused by default ...
    for info in (cms.verify_detached(der_no_z, DIGEST), cms.verify_detached(der_no_z, content=CONTENT)):
        assert not info.valid and info.sm2_id is None and info.problems == ["SM2_WITHOUT_Z"]
    # ... and accepted only with the compatibility switch, reported as sm2_id "none".
    info = cms.verify_detached(der_no_z, DIGEST, allow_no_z=True)
    assert info.valid and info.sm2_id == "none"
    assert cms.verify_detached(der_no_z, content=CONTENT, allow_no_z=True).sm2_id == "none"
    # A Z-based one needs the content, or the caller hashing SM3(prefix || content).
    info = cms.verify_detached(der, DIGEST)
    assert not info.signature_valid and info.digest_matches is None and not info.valid
    info = cms.verify_detached(der, DIGEST, content_hasher=lambda prefix: sm3(prefix + CONTENT))
    assert info.valid and info.sm2_id == "default"
    assert not cms.verify_detached(der, DIGEST, content_hasher=lambda prefix: sm3(prefix + CONTENT + b"x")).valid


def test_signed_attributes_over_a_bare_digest_without_z() -> None:
    """e = SM3(DER(signedAttrs)) with no Z: SM2_WITHOUT_Z unless the switch is on."""
    d = shared_demo()

    def no_z(ci: acms.ContentInfo) -> None:
        si = ci["content"]["signer_infos"][0]
        attrs = b"\x31" + si["signed_attrs"].dump()[1:]
        si["signature"] = sm2.sign_digest(d.sign_key, sm3(attrs))

    der = _rebuild(_sign(), no_z)
    info = cms.verify_detached(der, DIGEST)
    assert not info.valid and info.problems == ["SM2_WITHOUT_Z"]
    info = cms.verify_detached(der, DIGEST, allow_no_z=True)
    assert info.valid and info.sm2_id == "none"


@pytest.mark.parametrize("data", [b"", b"\x00", b"not a cms", b"\x30\x80", b"\x30\x03\x06\x01\x00"])
def test_malformed_input(data: bytes) -> None:
    with pytest.raises(GMError):
        cms.verify_detached(data, DIGEST)


def test_truncated_input() -> None:
    der = _sign()
    for cut in (10, len(der) // 2, len(der) - 1):
        with pytest.raises(GMError):
            cms.verify_detached(der[:cut], DIGEST)


def test_envelope_is_not_signed_data() -> None:
    env = cms.envelope(b"x", [shared_demo().enc_cert])
    with pytest.raises(GMError) as ei:
        cms.verify_detached(env, DIGEST)
    assert ei.value.code == "ERR_CMS_UNSUPPORTED"


# -- EnvelopedData -------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["gm", "pkcs7"])
def test_envelope_round_trip(family: str) -> None:
    d = shared_demo()
    env = cms.envelope(CONTENT, [d.enc_cert, d.emergency_cert], content_type_oids=family)  # type: ignore[arg-type]
    ci = acms.ContentInfo.load(env)
    assert ci["content_type"].dotted == (oids.GM_ENVELOPED_DATA if family == "gm" else oids.PKCS7_ENVELOPED_DATA)
    ed = ci["content"]
    ktri = ed["recipient_infos"][0].chosen
    assert ktri["key_encryption_algorithm"]["algorithm"].dotted == oids.SM2_ENCRYPT
    alg = ed["encrypted_content_info"]["content_encryption_algorithm"]
    assert alg["algorithm"].dotted == oids.SM4_CBC
    assert len(core.OctetString.load(alg["parameters"].dump()).native) == 16
    assert cms.open_envelope(env, d.enc_key) == CONTENT
    assert cms.open_envelope(env, d.emergency_key) == CONTENT
    assert cms.open_envelope(env, d.unwrapper()) == CONTENT
    assert cms.open_envelope(env + b"\0" * 10, d.emergency_unwrapper()) == CONTENT
    ids = sorted(cms.recipient_ids(env), key=lambda r: r.serial != d.enc_cert.serial_number)
    assert [(r.serial, r.ski) for r in ids] == [(d.enc_cert.serial_number, None),
                                               (d.emergency_cert.serial_number, None)]
    assert ids[0].issuer is not None and ids[0].issuer.matches(d.enc_cert.issuer)
    assert ids[0].matches(d.enc_cert) and not ids[0].matches(d.emergency_cert)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 63, 64, 65, 1000])
def test_envelope_sizes_through_the_unwrapper(size: int) -> None:
    d = shared_demo()
    data = bytes(range(256)) * 4
    env = cms.envelope(data[:size], [d.enc_cert])
    assert cms.open_envelope(env, d.unwrapper()) == data[:size]


def test_envelope_wrong_key_and_signing_cert() -> None:
    d = shared_demo()
    env = cms.envelope(CONTENT, [d.enc_cert])
    with pytest.raises(GMError) as ei:
        cms.open_envelope(env, d.sign_key)
    assert ei.value.code == "ERR_NOT_RECIPIENT"
    with pytest.raises(GMError):
        cms.open_envelope(env, d.emergency_unwrapper())
    with pytest.raises(GMError) as ei:
        cms.envelope(CONTENT, [d.sign_cert])
    assert ei.value.code == "ERR_CERT_USAGE"
    assert cms.open_envelope(cms.envelope(CONTENT, [d.sign_cert], check_usage=False), d.sign_key) == CONTENT
    with pytest.raises(GMError):
        cms.envelope(CONTENT, [])


@pytest.mark.parametrize("kt_oid", sorted(oids.SM2_ENCRYPTION_OIDS))
def test_envelope_key_transport_oids_and_bare_sm4(kt_oid: str) -> None:
    d = shared_demo()

    def edit(ci: acms.ContentInfo) -> None:
        ed = ci["content"]
        ed["recipient_infos"][0].chosen["key_encryption_algorithm"] = {"algorithm": kt_oid}
        eci = ed["encrypted_content_info"]
        params = eci["content_encryption_algorithm"]["parameters"]
        eci["content_encryption_algorithm"] = {"algorithm": oids.SM4, "parameters": params}

    env = _rebuild(cms.envelope(CONTENT, [d.enc_cert]), edit)
    assert cms.open_envelope(env, d.enc_key) == CONTENT
    assert cms.open_envelope(env, d.unwrapper()) == CONTENT


def test_envelope_ski_recipient() -> None:
    d = shared_demo()

    def ski(ci: acms.ContentInfo) -> None:
        ci["content"]["recipient_infos"][0].chosen["rid"] = acms.RecipientIdentifier(
            name="subject_key_identifier", value=d.enc_cert.ski)

    env = _rebuild(cms.envelope(CONTENT, [d.enc_cert]), ski)
    (rid,) = cms.recipient_ids(env)
    assert rid.ski == d.enc_cert.ski and rid.serial is None
    assert cms.open_envelope(env, d.unwrapper()) == CONTENT


def test_envelope_has_no_integrity_protection() -> None:
    # Documented limitation: a changed ciphertext block is not always detected.
    d = shared_demo()
    env = cms.envelope(b"A" * 64, [d.enc_cert])
    ct = bytes(acms.ContentInfo.load(env)["content"]["encrypted_content_info"]["encrypted_content"].native)
    tampered = env.replace(ct, bytes([ct[0] ^ 1]) + ct[1:])
    out = cms.open_envelope(tampered, d.enc_key)
    assert out != b"A" * 64 and len(out) == 64


def test_envelope_malformed() -> None:
    d = shared_demo()
    for bad in (b"", b"junk", cms.envelope(CONTENT, [d.enc_cert])[:50]):
        with pytest.raises(GMError):
            cms.open_envelope(bad, d.enc_key)
        with pytest.raises(GMError):
            cms.recipient_ids(bad)
    with pytest.raises(GMError):
        cms.open_envelope(_sign(), d.enc_key)
