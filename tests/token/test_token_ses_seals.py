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
