"""SESeal files on a key: the virtual key provisioned with a demo GB/T 38540 seal, found
by name and by content, verified against the key's signing certificate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.gm.ses import SESBindingError
from app.token.device import find_identity
from app.token.softkey import load_demo_ca

from .conftest import make_key


@pytest.mark.parametrize("file_name", ["seal_company.esl", "VENDOR01"])
def test_demo_ses_seal_is_found_and_verifies(store: Path, pki_dir: Path, softskf_lib: str, file_name: str) -> None:
    label = f"SES-{file_name[:8]}"
    info = make_key(store, pki_dir, label, ses_seal=file_name)
    assert file_name in info.seals
    ident = find_identity(softskf_lib, label)
    assert set(ident.seals) == {"company", "legal"}  # the PNG seals are still there
    assert list(ident.ses_seals) == [file_name]
    seal = ident.ses_seals[file_name]
    assert ident.sign_certificate is not None
    check = seal.verify(signer=ident.sign_certificate, at=datetime.now(UTC))
    assert check.maker == load_demo_ca(pki_dir).certificate
    assert seal.picture.startswith(b"\x89PNG") and seal.version == 4
    with pytest.raises(SESBindingError):
        seal.check_binding(info.enc_certificate)
    summary = ident.summary()["ses_seals"][file_name]
    assert summary["maker_signature"] == "valid" and "BidSeal Demo Root CA" in summary["maker"]
    assert summary["name"].endswith("投标专用章") and summary["picture_type"] == "PNG"
    assert not ident.warnings


def test_other_files_on_the_key(store: Path, pki_dir: Path, softskf_lib: str) -> None:
    """A vendor's SESeal under any name is found; a file named like a seal that is not one
    gives a warning; vendor data under other names is ignored silently."""
    from app.gm.ses import SESeal
    from app.token.host_client import TokenHost
    from app.token.skf_ffi import SECURE_ANYONE_ACCOUNT, SECURE_USER_ACCOUNT, USER_TYPE
    from app.token.softkey import DEFAULT_APPLICATION

    from .conftest import USER_PIN

    label = "SES-OTHER"
    make_key(store, pki_dir, label)
    vendor_seal = (Path(__file__).parents[1] / "gm" / "ses_samples" / "UserV4.esl").read_bytes()
    files = {"SEAL_BAD.ESL": b"\x30\x03\x02\x01\x05 not a seal", "VENDORDATA": b"\x01\x02\x03", "X1": vendor_seal}
    host = TokenHost(softskf_lib, env={"SOFTSKF_STORE": str(store)})
    try:
        hdev = host.call("connect_dev", label)
        happ = host.call("open_application", hdev, DEFAULT_APPLICATION)
        host.call("verify_pin", happ, USER_TYPE, bytearray(USER_PIN.encode()))
        for name, data in files.items():
            host.call("create_file", happ, name, len(data), SECURE_ANYONE_ACCOUNT, SECURE_USER_ACCOUNT)
            host.call("write_file_all", happ, name, data)
        host.call("clear_secure_state", happ)
        host.call("close", happ)
        host.call("close", hdev)
    finally:
        host.close()
    ident = find_identity(softskf_lib, label)
    assert list(ident.ses_seals) == ["X1"] and ident.ses_seals["X1"] == SESeal.decode(vendor_seal)
    assert ident.ses_seals["X1"].verify_maker().signed_form == "sealInfo"
    assert ident.sign_certificate is not None and not ident.ses_seals["X1"].binds(ident.sign_certificate)
    assert [w for w in ident.warnings if "SEAL_BAD.ESL" in w] and not [w for w in ident.warnings if "VENDORDATA" in w]
    assert ident.summary()["ses_seals"]["X1"]["maker_signature"] == "valid"
