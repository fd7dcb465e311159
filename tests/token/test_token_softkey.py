"""The virtual key's provisioning: demo CA persistence, key material, seal images."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from app.demo.pki import Subject
from app.token.device import find_identity
from app.token.seal_images import company_seal, legal_seal
from app.token.softkey import init_softkey, load_demo_ca

from .conftest import ADMIN_PIN, USER_PIN, make_key


def test_demo_ca_is_created_once_and_reused(tmp_path: Path) -> None:
    a = load_demo_ca(tmp_path)
    b = load_demo_ca(tmp_path)
    assert a.certificate == b.certificate and a.key.d == b.key.d
    assert (tmp_path / "root.key.pem").stat().st_mode & 0o077 == 0


def test_certificates_chain_to_the_persisted_root(store: Path, pki_dir: Path) -> None:
    info = make_key(store, pki_dir, "CHAIN-KEY")
    root = load_demo_ca(pki_dir).certificate
    assert info.root_certificate == root
    assert info.sign_certificate.verify_signed_by(root) and info.enc_certificate.verify_signed_by(root)
    assert info.sign_certificate.public_key != info.enc_certificate.public_key


def test_force_reinitialises_with_new_keys(store: Path, pki_dir: Path, softskf_lib: str) -> None:
    first = make_key(store, pki_dir, "FORCE-KEY")
    second = init_softkey(store, "FORCE-KEY", USER_PIN, ADMIN_PIN, pki_dir, force=True)
    assert first.sign_certificate.public_key != second.sign_certificate.public_key
    assert find_identity(softskf_lib, "FORCE-KEY").sign_certificate == second.sign_certificate


def test_custom_subject_without_legal_seal(store: Path, pki_dir: Path, softskf_lib: str) -> None:
    subj = Subject(unit_name="大连港湾监理咨询有限公司")
    make_key(store, pki_dir, "NO-LEGAL", subject=subj)
    ident = find_identity(softskf_lib, "NO-LEGAL")
    assert set(ident.seals) == {"company"}
    assert ident.sign_certificate is not None and ident.sign_certificate.unit_name == "大连港湾监理咨询有限公司"


@pytest.mark.parametrize("png", [company_seal("辽宁示例建设工程有限公司", code="91210100MA0Y8B6K24"),
                                 legal_seal("张三")])
def test_seal_images_are_red_on_transparent(png: bytes) -> None:
    pix = pymupdf.Pixmap(png)
    assert pix.alpha == 1 and pix.width > 200 and pix.height == pix.width
    assert pix.pixel(1, 1)[3] == 0  # transparent corner
    samples = pix.samples
    reds = sum(1 for i in range(0, len(samples), 4 * 7)
               if samples[i + 3] > 200 and samples[i] > 150 and samples[i + 1] < 90 and samples[i + 2] < 90)
    assert reds > 100  # plenty of opaque red ink
