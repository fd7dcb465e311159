"""Electronic seals (GM/T 0031 V1, GB/T 38540 V4): public samples, round trips and the
alterations a signer might try (another picture, a longer validity, another holder)."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import core

from app.demo.ses_maker import make_demo_seal
from app.gm import sm2
from app.gm.ses import (
    SESBindingError,
    SESDataHashError,
    SESeal,
    SESFormatError,
    SESMakerSignatureError,
    SESSignature,
    SESSignatureError,
    SESValidityError,
    build_signature,
)
from app.gm.ses.common import asn1_time, default_sign_fn
from app.gm.ses.seal import FORM_SEALINFO, FORM_SEQUENCE
from app.gm.sm3 import sm3
from tests.gm.conftest_pki import flip, shared_demo, spare_key

SAMPLES = Path(__file__).parent / "ses_samples"
OFD_SEALED = ["v4signed", "signedFile", "SignScaleError"]  # GOMAIN x2, antchain


def tiny_png(rgb: tuple[int, int, int] = (200, 20, 20)) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + bytes(rgb) * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def other_cert():
    demo = shared_demo()
    return demo.root.issue(spare_key(3).public_key, demo.subject, "sign")


@pytest.fixture(scope="module", params=[1, 4])
def seal(request: pytest.FixtureRequest) -> SESeal:
    demo = shared_demo()
    return make_demo_seal(demo.root, [demo.sign_cert], tiny_png(), version=request.param, name="辽宁示例投标专用章")


# -- public samples ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "version", "form"), [("UserV1.esl", 1, FORM_SEQUENCE),
                                                       ("UserV4.esl", 4, FORM_SEALINFO)])
def test_ofdrw_seals_parse_and_verify(name: str, version: int, form: str) -> None:
    s = SESeal.decode((SAMPLES / name).read_bytes())
    assert (s.version, s.picture_type, s.width_mm, s.certs and len(s.certs)) == (version, "PNG", 40, 1)
    assert s.picture.startswith(b"\x89PNG")
    check = s.verify_maker()
    assert check.signed_form == form and check.sm2_id == sm2.DEFAULT_ID
    assert check.maker.common_name == "Test Certificate"


def test_hebei_gede_seal_parses_but_its_maker_signature_form_is_unknown() -> None:
    s = SESeal.decode((SAMPLES / "hebei-gede-SESealData.der").read_bytes())
    assert (s.version, s.vid, s.picture_type, len(s.certs), len(s.ext_datas)) == (4, "Vid HebeiGede", "GIF", 2, 3)
    assert s.name == "测试单位名称 合同专用章" and s.picture.startswith(b"GIF89a")
    # Neither known signed form (nor a canonical re-encoding) verifies with its embedded certificate.
    with pytest.raises(SESMakerSignatureError):
        s.verify_maker()


@pytest.mark.parametrize("name", OFD_SEALED)
def test_vendor_sealed_ofd_signatures_verify(name: str) -> None:
    sig = SESSignature.decode((SAMPLES / f"{name}.SignedValue.dat").read_bytes())
    document = (SAMPLES / f"{name}.Signature.xml").read_bytes()
    check = sig.verify(document)
    assert sig.version == 4 and sig.property_info == "/Doc_0/Signs/Sign_0/Signature.xml"
    assert check.seal.valid_start <= check.signing_time <= check.seal.valid_end
    with pytest.raises(SESDataHashError):
        sig.verify(flip(document, b"<ofd:SignedInfo", 8))


def test_ofdrw_2026_signature_with_expired_2022_seal_is_refused() -> None:
    sig = SESSignature.decode((SAMPLES / "SESV4SignDoc.SignedValue.dat").read_bytes())
    document = (SAMPLES / "SESV4SignDoc.Signature.xml").read_bytes()
    with pytest.raises(SESValidityError):
        sig.verify(document)
    assert sig.verify(document, check_validity=False).signer.common_name == "Test Certificate"


@pytest.mark.parametrize("data", [b"", b"\x30\x00", b"\x04\x03abc", b"\x30\x03\x02\x01\x01",
                                  (SAMPLES / "UserV4.esl").read_bytes()[:-10]])
def test_garbage_is_a_format_error(data: bytes) -> None:
    with pytest.raises(SESFormatError) as e:
        SESeal.decode(data)
    assert e.value.code == "ERR_SES_FORMAT" and e.value.zh and e.value.en
    with pytest.raises(SESFormatError):
        SESSignature.decode(data)


# -- the demo maker: round trips -----------------------------------------------------------


def test_round_trip(seal: SESeal) -> None:
    again = SESeal.decode(seal.der)
    assert again == seal
    demo = shared_demo()
    assert seal.certs == (demo.sign_cert.der,) and seal.name == "辽宁示例投标专用章"
    assert seal.maker_certificate == demo.root_cert
    assert seal.verify(signer=demo.sign_cert, at=datetime.now(UTC)).sm2_id == sm2.DEFAULT_ID
    # the bytes re-encode identically (canonical DER)
    from app.gm.ses import asn1
    schema = asn1.SESealV1 if seal.version == 1 else asn1.SESealV4
    assert schema.load(seal.der).dump(force=True) == seal.der


def test_v4_digest_list_binds_by_sm3() -> None:
    demo = shared_demo()
    s = make_demo_seal(demo.root, [demo.sign_cert], tiny_png(), digest_list=True)
    assert s.cert_list_type == 2 and s.cert_digests == (("SM3", sm3(demo.sign_cert.der)),)
    s.verify(signer=demo.sign_cert)
    with pytest.raises(SESBindingError):
        s.check_binding(other_cert())


def test_binding_fails_for_another_certificate(seal: SESeal) -> None:
    with pytest.raises(SESBindingError) as e:
        seal.check_binding(other_cert())
    assert e.value.code == "ERR_SES_BINDING"


def test_validity_period(seal: SESeal) -> None:
    seal.check_validity(seal.valid_start)
    seal.check_validity(seal.valid_end)
    for t in (seal.valid_start - timedelta(seconds=1), seal.valid_end + timedelta(seconds=1)):
        with pytest.raises(SESValidityError):
            seal.check_validity(t)


# -- alterations the maker's signature must catch ----------------------------------------------


def _time_bytes(seal: SESeal, dt: datetime) -> bytes:
    return asn1_time(dt, seal.version != 1).chosen.dump()


def test_altered_picture_fails(seal: SESeal) -> None:
    altered = SESeal.decode(flip(seal.der, seal.picture[-20:]))
    assert altered.picture != seal.picture
    with pytest.raises(SESMakerSignatureError):
        altered.verify_maker()


def test_extended_validity_fails(seal: SESeal) -> None:
    old = _time_bytes(seal, seal.valid_end)
    new = _time_bytes(seal, seal.valid_end + timedelta(days=3650))
    pos = seal.der.index(old, seal.der.index(seal.certs[0]) + len(seal.certs[0]))  # after the holder list
    assert len(old) == len(new)
    altered = SESeal.decode(seal.der[:pos] + new + seal.der[pos + len(new):])
    assert altered.valid_end > seal.valid_end
    with pytest.raises(SESMakerSignatureError):
        altered.verify_maker()


def test_swapped_holder_certificate_fails(seal: SESeal) -> None:
    demo = shared_demo()
    intruder = other_cert()
    from app.gm.ses import asn1
    raw = (asn1.SESealV1 if seal.version == 1 else asn1.SESealV4).load(seal.der)
    holders = asn1.CertList([intruder.der])
    raw["eseal_info"]["property"]["cert_list"] = holders if seal.version == 1 else core.Any.load(holders.dump())
    altered = SESeal.decode(raw.dump(force=True))
    assert altered.signed_value == seal.signed_value and not altered.binds(demo.sign_cert)
    assert altered.binds(intruder)
    with pytest.raises(SESMakerSignatureError):
        altered.verify(signer=intruder)


def test_seal_signed_by_another_maker_fails(seal: SESeal) -> None:
    """A self-made seal claiming the demo CA as maker: signed with another key."""
    demo = shared_demo()
    from app.demo.pki import CertificateAuthority
    fake = CertificateAuthority(demo.root_cert, spare_key(5))
    forged = make_demo_seal(fake, [demo.sign_cert], tiny_png(), version=seal.version)
    with pytest.raises(SESMakerSignatureError):
        forged.verify_maker()


# -- SES_Signature ---------------------------------------------------------------------------


DOC = b"%PDF-1.7 bid price 1,000,000 yuan"


def _sign(seal: SESeal, document: bytes = DOC, *, cert=None, key=None, at: datetime | None = None) -> SESSignature:
    demo = shared_demo()
    return build_signature(seal, document, (cert or demo.sign_cert).der, default_sign_fn(key or demo.sign_key),
                           property_info="bid.pdf", signing_time=at or datetime.now(UTC))


def test_signature_round_trip_and_verify(seal: SESeal) -> None:
    sig = _sign(seal)
    assert SESSignature.decode(sig.der) == sig and sig.version == seal.version
    check = sig.verify(DOC)
    assert check.signer == shared_demo().sign_cert and check.seal.der == seal.der
    assert abs((check.signing_time - datetime.now(UTC)).total_seconds()) < 120


def test_signature_data_hash_mismatch(seal: SESeal) -> None:
    with pytest.raises(SESDataHashError) as e:
        _sign(seal).verify(DOC.replace(b"1,000,000", b"9,000,000"))
    assert e.value.code == "ERR_SES_DATA_HASH"


def test_signature_altered_tbs_fails(seal: SESeal) -> None:
    sig = _sign(seal)
    altered = SESSignature.decode(flip(sig.der, b"bid.pdf"))
    with pytest.raises(SESSignatureError):
        altered.verify(DOC)


def test_signature_by_a_key_not_matching_the_certificate_fails(seal: SESeal) -> None:
    with pytest.raises(SESSignatureError):
        _sign(seal, key=spare_key(4)).verify(DOC)


def test_signer_not_holder_of_the_seal_fails(seal: SESeal) -> None:
    with pytest.raises(SESBindingError):
        _sign(seal, cert=other_cert(), key=spare_key(3)).verify(DOC)


def test_signer_who_alters_the_seal_then_signs_is_caught(seal: SESeal) -> None:
    """The signer's own signature is fine; the seal inside is not the one the maker made."""
    forged_seal = SESeal.decode(flip(seal.der, seal.picture[-20:]))
    with pytest.raises(SESMakerSignatureError):
        _sign(forged_seal).verify(DOC)


def test_sealing_outside_the_seal_validity_fails(seal: SESeal) -> None:
    with pytest.raises(SESValidityError):
        _sign(seal, at=seal.valid_end + timedelta(days=1)).verify(DOC)


def test_v1_time_info_is_read(seal: SESeal) -> None:
    at = datetime(2026, 5, 1, 8, 30, 0, tzinfo=UTC)
    sig = _sign(seal, at=at)
    assert sig.signing_time == at
    assert isinstance(core.Asn1Value.load(sig.time_raw), core.BitString if seal.version == 1 else core.GeneralizedTime)
