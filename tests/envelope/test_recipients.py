"""Which certificates may receive an envelope; the refusal names the certificate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.demo.pki import Subject
from app.envelope import RecipientCertificateError, check_recipient, encrypt_file
from app.gm import sm2

from .conftest import leftovers


def _issue(pki, usage="enc", **kw):
    key = sm2.PrivateKey.generate()
    subject = Subject(unit_name="测试证书单位", unit_code=None)
    return pki.root.issue(key.public_key, subject, usage, **kw)


def _refusal(cert) -> RecipientCertificateError:
    with pytest.raises(RecipientCertificateError) as ei:
        check_recipient(cert)
    return ei.value


def test_encryption_certificates_are_accepted(pki):
    check_recipient(pki.enc_cert)
    check_recipient(pki.emergency_cert)


def test_signing_certificate_is_refused_with_its_name(pki):
    err = _refusal(pki.sign_cert)
    assert err.details["reason"] == "signing_only"
    assert pki.subject.unit_name in err.zh and pki.sign_cert.serial_hex in err.en
    assert "加密证书" in err.zh and "encryption certificate" in err.en


def test_expired_certificate_is_refused(pki):
    past = datetime.now(UTC) - timedelta(days=400)
    cert = _issue(pki, not_before=past, not_after=past + timedelta(days=30))
    err = _refusal(cert)
    assert err.details["reason"] == "expired" and "过期" in err.zh and "expired" in err.en


def test_not_yet_valid_certificate_is_refused(pki):
    cert = _issue(pki, not_before=datetime.now(UTC) + timedelta(days=2))
    assert _refusal(cert).details["reason"] == "not_yet_valid"


def test_ca_certificate_is_refused(pki):
    assert _refusal(pki.root_cert).details["reason"] == "ca_certificate"


def test_timestamp_certificate_is_refused(pki):
    assert _refusal(pki.tsa_cert).details["reason"] == "signing_only"


def test_encrypt_refuses_before_writing_anything(pki, make_file, tmp_path):
    src = make_file(10)
    with pytest.raises(RecipientCertificateError):
        encrypt_file(src, tmp_path / "e", [pki.enc_cert, pki.sign_cert])
    assert leftovers(tmp_path, {"bid.bin"}) == []


def test_validity_checked_at_given_time(pki):
    later = datetime.now(UTC) + timedelta(days=3650)
    with pytest.raises(RecipientCertificateError):
        check_recipient(pki.enc_cert, later)
