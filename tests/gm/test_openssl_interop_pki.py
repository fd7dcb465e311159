"""Our certificates, CSRs, CMS signatures and envelopes against the OpenSSL 3 command line.

OpenSSL 3.0 uses an EMPTY SM2 ID unless ``distid:1234567812345678`` is passed, so
every command here passes it (setup.md "OpenSSL 3.0").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import cms as acms

from app.demo.pki import build_csr
from app.gm import cms, sm2
from app.gm.sm3 import sm3
from app.gm.x509 import Certificate, verify_chain
from tests.gm.conftest_pki import flip, openssl, shared_demo

pytestmark = pytest.mark.interop

DISTID = "distid:1234567812345678"


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = shared_demo()
    out = tmp_path_factory.mktemp("pki")
    for name, data in {
        "root.pem": d.root_cert.pem, "sign-cert.pem": d.sign_cert.pem, "enc-cert.pem": d.enc_cert.pem,
        "tsa-cert.pem": d.tsa_cert.pem, "sign-key.pem": d.sign_key.to_pem(), "enc-key.pem": d.enc_key.to_pem(),
    }.items():
        (out / name).write_bytes(data)
    return out


def test_openssl_verifies_our_chain(pki_dir: Path) -> None:
    proc = openssl("verify", "-CAfile", pki_dir / "root.pem", "-vfyopt", DISTID,
                   pki_dir / "sign-cert.pem", pki_dir / "enc-cert.pem", pki_dir / "tsa-cert.pem")
    assert proc.stdout.count(": OK") == 3


def test_openssl_rejects_a_wrong_root(pki_dir: Path, tmp_path: Path) -> None:
    from app.demo.pki import CertificateAuthority

    (tmp_path / "other.pem").write_bytes(CertificateAuthority.create_root().certificate.pem)
    proc = openssl("verify", "-CAfile", tmp_path / "other.pem", "-vfyopt", DISTID, pki_dir / "sign-cert.pem",
                   check=False)
    assert proc.returncode != 0 and ": OK" not in proc.stdout


def test_openssl_rejects_without_distid(pki_dir: Path) -> None:
    # Proof that the test above depends on the ID: OpenSSL's default empty ID fails.
    proc = openssl("verify", "-CAfile", pki_dir / "root.pem", pki_dir / "sign-cert.pem", check=False)
    assert proc.returncode != 0


def test_openssl_parses_our_certificate(pki_dir: Path) -> None:
    d = shared_demo()
    proc = openssl("x509", "-in", pki_dir / "sign-cert.pem", "-noout", "-text", "-nameopt", "utf8,sep_comma_plus")
    text = proc.stdout
    assert "SM2-with-SM3" in text and "ASN1 OID: SM2" in text
    assert f"serialNumber={d.sign_cert.unit_code}" in text
    assert "辽宁示例建设工程有限公司" in text
    assert "Digital Signature, Non Repudiation" in text
    serial = openssl("x509", "-in", pki_dir / "sign-cert.pem", "-noout", "-serial").stdout.strip()
    assert serial.startswith("serial=") and int(serial[7:], 16) == d.sign_cert.serial_number
    enc = openssl("x509", "-in", pki_dir / "enc-cert.pem", "-noout", "-ext", "keyUsage").stdout
    assert "Key Encipherment, Data Encipherment, Key Agreement" in enc


@pytest.mark.parametrize("distid", [True, False])
def test_openssl_made_root_and_leaf_chain_verify_with_our_code(tmp_path: Path, distid: bool) -> None:
    sig = ["-sigopt", DISTID] if distid else []
    vfy = ["-vfyopt", DISTID] if distid else []
    for k in ("root", "leaf"):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", tmp_path / f"{k}.key")
    openssl("req", "-x509", "-new", "-key", tmp_path / "root.key", "-sm3", *sig, "-days", "30",
            "-subj", "/C=CN/O=OpenSSL Test CA/CN=OpenSSL SM2 Root", "-utf8",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", tmp_path / "root.pem")
    openssl("req", "-new", "-key", tmp_path / "leaf.key", "-sm3", *sig, "-utf8",
            "-subj", "/C=CN/O=辽宁示例建设工程有限公司/CN=辽宁示例建设工程有限公司/serialNumber=91210100MA0Y8B6K24",
            "-out", tmp_path / "leaf.csr")
    (tmp_path / "ext.cnf").write_text("keyUsage=critical,digitalSignature,nonRepudiation\n")
    openssl("x509", "-req", "-in", tmp_path / "leaf.csr", "-CA", tmp_path / "root.pem",
            "-CAkey", tmp_path / "root.key", "-sm3", *sig, *vfy, "-days", "30", "-CAcreateserial",
            "-extfile", tmp_path / "ext.cnf", "-out", tmp_path / "leaf.pem")
    root = Certificate.load((tmp_path / "root.pem").read_bytes())
    leaf = Certificate.load((tmp_path / "leaf.pem").read_bytes())
    assert leaf.unit_code == "91210100MA0Y8B6K24" and leaf.unit_name == "辽宁示例建设工程有限公司"
    assert leaf.is_signing_cert and not leaf.is_encryption_cert
    assert root.is_ca and leaf.public_key.to_bytes()[0] == 4
    r = verify_chain(leaf, [root])
    assert r.trusted, r.problems
    assert r.link_ids == (["default"] if distid else ["empty"])
    # Our CSR verifier accepts OpenSSL's request too.
    from app.demo.pki import verify_csr

    der = openssl("req", "-in", tmp_path / "leaf.csr", "-outform", "DER", "-out", tmp_path / "leaf.csr.der")
    assert der.returncode == 0
    pub, name = verify_csr((tmp_path / "leaf.csr.der").read_bytes())
    assert pub == leaf.public_key and name.serial_number == "91210100MA0Y8B6K24"
    # A wrong root still fails.
    d = shared_demo()
    assert not verify_chain(leaf, [d.root_cert]).trusted


def test_cms_signed_attributes_verify_with_openssl_dgst(pki_dir: Path, tmp_path: Path) -> None:
    d = shared_demo()
    content = b"%PDF-1.7 pretend byte ranges"
    der = cms.sign_detached(sm3(content), d.signer(), chain=[d.root_cert])
    info = cms.verify_detached(der, content=content)
    assert info.valid and info.signed_attrs_der is not None
    (tmp_path / "attrs.der").write_bytes(info.signed_attrs_der)
    (tmp_path / "sig.der").write_bytes(info.signature)
    (tmp_path / "pub.pem").write_bytes(d.sign_cert.public_key.to_pem())
    proc = openssl("dgst", "-sm3", "-verify", tmp_path / "pub.pem", "-sigopt", DISTID,
                   "-signature", tmp_path / "sig.der", tmp_path / "attrs.der")
    assert "Verified OK" in proc.stdout
    # The messageDigest attribute is OpenSSL's SM3 of the content.
    (tmp_path / "content.bin").write_bytes(content)
    dgst = openssl("dgst", "-sm3", "-binary", "-out", tmp_path / "md.bin", tmp_path / "content.bin")
    assert dgst.returncode == 0 and (tmp_path / "md.bin").read_bytes() == info.message_digest
    # Tampered attributes fail under OpenSSL too.
    (tmp_path / "attrs2.der").write_bytes(flip(info.signed_attrs_der, info.message_digest or b"", 0))
    proc = openssl("dgst", "-sm3", "-verify", tmp_path / "pub.pem", "-sigopt", DISTID,
                   "-signature", tmp_path / "sig.der", tmp_path / "attrs2.der", check=False)
    assert "Verified OK" not in proc.stdout


def test_openssl_signature_over_our_attributes_verifies_in_our_cms(pki_dir: Path, tmp_path: Path) -> None:
    # The device role played by OpenSSL: sign the prepared attributes, we assemble.
    d = shared_demo()
    prepared = cms.prepare_signed_attributes(sm3(b"doc"), d.sign_cert)
    (tmp_path / "attrs.der").write_bytes(prepared.signed_attrs_der)
    openssl("dgst", "-sm3", "-sign", pki_dir / "sign-key.pem", "-sigopt", DISTID,
            "-out", tmp_path / "sig.der", tmp_path / "attrs.der")
    der = cms.assemble(prepared, (tmp_path / "sig.der").read_bytes())
    info = cms.verify_detached(der, sm3(b"doc"))
    assert info.valid and info.sm2_id == "default"


def test_our_csr_verifies_with_openssl(tmp_path: Path) -> None:
    d = shared_demo()
    key = d.sign_key
    der = build_csr(d.subject, key.public_key, lambda e: sm2.sign_digest(key, e))
    (tmp_path / "req.der").write_bytes(der)
    proc = openssl("req", "-in", tmp_path / "req.der", "-inform", "DER", "-verify", "-noout", "-vfyopt", DISTID,
                   check=False)
    out = proc.stdout + proc.stderr
    assert "verify OK" in out and "failure" not in out.lower()
    (tmp_path / "bad.der").write_bytes(flip(der, d.subject.unit_code.encode() if d.subject.unit_code else b"", 3))
    proc = openssl("req", "-in", tmp_path / "bad.der", "-inform", "DER", "-verify", "-noout", "-vfyopt", DISTID,
                   check=False)
    out = proc.stdout + proc.stderr
    assert "verify OK" not in out  # `req -verify` may exit 0 even on failure: read the text


def test_enveloped_key_decrypts_with_openssl_pkeyutl(pki_dir: Path, tmp_path: Path) -> None:
    d = shared_demo()
    content = "开标一览表 bid summary".encode()
    env = cms.envelope(content, [d.enc_cert])
    ed = acms.ContentInfo.load(env)["content"]
    wrapped = bytes(ed["recipient_infos"][0].chosen["encrypted_key"].native)
    (tmp_path / "key.der").write_bytes(wrapped)
    openssl("pkeyutl", "-decrypt", "-inkey", pki_dir / "enc-key.pem", "-in", tmp_path / "key.der",
            "-out", tmp_path / "key.bin")
    sym = (tmp_path / "key.bin").read_bytes()
    assert len(sym) == 16
    eci = ed["encrypted_content_info"]
    from asn1crypto import core

    iv = bytes(core.OctetString.load(eci["content_encryption_algorithm"]["parameters"].dump()).native)
    (tmp_path / "ct.bin").write_bytes(bytes(eci["encrypted_content"].native))
    openssl("enc", "-d", "-sm4-cbc", "-K", sym.hex(), "-iv", iv.hex(), "-in", tmp_path / "ct.bin",
            "-out", tmp_path / "pt.bin")
    assert (tmp_path / "pt.bin").read_bytes() == content
    # And the signing key cannot open it.
    proc = openssl("pkeyutl", "-decrypt", "-inkey", pki_dir / "sign-key.pem", "-in", tmp_path / "key.der",
                   "-out", tmp_path / "nope.bin", check=False)
    assert proc.returncode != 0
