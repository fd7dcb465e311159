"""GM/T 0010 EnvelopedData export and import (no integrity: documented, and shown here)."""

from __future__ import annotations

import pytest

from app.envelope import (
    EnvelopeError,
    NotARecipientError,
    RecipientCertificateError,
    export_cms,
    import_cms,
    is_cms,
    is_envelope,
)
from app.gm import cms

from .conftest import leftovers


def test_export_then_import_with_key_and_unwrapper(pki, make_file, tmp_path):
    src = make_file(5000)
    p7 = tmp_path / "bid.p7"
    export_cms(src, p7, [pki.enc_cert, pki.emergency_cert])
    assert is_cms(p7) and not is_envelope(p7)
    assert {r.serial for r in cms.recipient_ids(p7.read_bytes())} == {
        pki.enc_cert.serial_number, pki.emergency_cert.serial_number}  # a SET: DER order
    import_cms(p7, tmp_path / "a", pki.enc_key)
    import_cms(p7, tmp_path / "b", pki.emergency_unwrapper())
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == src.read_bytes()


def test_export_refuses_signing_certificate(pki, make_file, tmp_path):
    with pytest.raises(RecipientCertificateError):
        export_cms(make_file(10), tmp_path / "x.p7", [pki.sign_cert])
    assert leftovers(tmp_path, {"bid.bin"}) == []


def test_import_not_a_recipient(pki, other_pki, make_file, tmp_path):
    p7 = tmp_path / "bid.p7"
    export_cms(make_file(10), p7, [pki.enc_cert])
    with pytest.raises(NotARecipientError) as ei:
        import_cms(p7, tmp_path / "out", other_pki.unwrapper())
    assert ei.value.details["needed"][0]["serial"] == pki.enc_cert.serial_hex
    assert not (tmp_path / "out").exists()


def test_cms_has_no_integrity_a_flipped_block_decrypts(pki, make_file, tmp_path):
    """What the standard container loses: a bit flip in an early CBC block goes unnoticed."""
    src = make_file(4096)
    p7 = tmp_path / "bid.p7"
    export_cms(src, p7, [pki.enc_cert])
    data = bytearray(p7.read_bytes())
    data[-4096 + 40] ^= 1  # inside the ciphertext, far from the padding
    p7.write_bytes(bytes(data))
    try:
        import_cms(p7, tmp_path / "out", pki.enc_key)
    except EnvelopeError:
        return  # refused: fine too
    assert (tmp_path / "out").read_bytes() != src.read_bytes()
