"""Our seals checked by tools that share no code with us: OpenSSL's SM2/SM3 and pyHanko."""

from __future__ import annotations

import subprocess

import pytest
from asn1crypto import cms

from app.pdfsign import CrossPagePlacement, KeywordPlacement, RectPlacement, Seal, seal_pdf
from tests.pdfsign.conftest import FIXTURES, KEYWORD, LEGAL_KEYWORD, signatures_in

pytestmark = pytest.mark.interop


@pytest.fixture
def sealed(tmp_path, signer, seal_png):
    src = tmp_path / "lo.pdf"
    src.write_bytes((FIXTURES / "libreoffice-bid.pdf").read_bytes())
    out = tmp_path / "sealed.pdf"
    seal_pdf(src, out, signer, [
        Seal(KeywordPlacement(KEYWORD), seal_png),
        Seal(KeywordPlacement(LEGAL_KEYWORD, size_mm=20), seal_png),
        Seal(RectPlacement(0, (400, 700, 500, 800)), seal_png),
    ])
    return out


def _openssl(openssl_bin, *args, input=None):
    return subprocess.run([openssl_bin, *args], capture_output=True, input=input, check=False)


def test_message_digest_equals_openssl_sm3_of_byte_ranges(tmp_path, sealed, openssl_bin):
    data = sealed.read_bytes()
    sigs = signatures_in(sealed)
    assert len(sigs) == 3
    for i, (br, der) in enumerate(sigs):
        assert br[0] == 0 and br[2] - br[1] == len(data[br[1]:br[2]]) and data[br[1]:br[1] + 1] == b"<"
        ranges = tmp_path / f"ranges{i}.bin"
        ranges.write_bytes(data[br[0]:br[0] + br[1]] + data[br[2]:br[2] + br[3]])
        res = _openssl(openssl_bin, "dgst", "-sm3", "-binary", str(ranges))
        assert res.returncode == 0, res.stderr
        si = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
        md = next(a for a in si["signed_attrs"] if a["type"].native == "message_digest")
        assert bytes(md["values"][0].native) == res.stdout
    # the last signature covers the whole file
    br = sigs[-1][0]
    assert br[2] + br[3] == len(data)


def test_signed_attributes_verify_with_openssl_sm2(tmp_path, sealed, openssl_bin, pki):
    pub = tmp_path / "pub.pem"
    pub.write_bytes(pki.sign_cert.public_key.to_pem())
    for i, (_br, der) in enumerate(signatures_in(sealed)):
        sd = cms.ContentInfo.load(der)["content"]
        si = sd["signer_infos"][0]
        assert si["signature_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.501"
        assert si["digest_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.401"
        attrs = tmp_path / f"attrs{i}.der"
        attrs.write_bytes(b"\x31" + si["signed_attrs"].dump()[1:])
        sig = tmp_path / f"sig{i}.der"
        sig.write_bytes(bytes(si["signature"].native))
        res = _openssl(openssl_bin, "dgst", "-sm3", "-verify", str(pub), "-sigopt",
                       "distid:1234567812345678", "-signature", str(sig), str(attrs))
        assert res.returncode == 0 and b"Verified OK" in res.stdout, res.stdout + res.stderr
        # and a flipped attribute byte fails
        bad = bytearray(attrs.read_bytes())
        bad[-1] ^= 1
        attrs.write_bytes(bytes(bad))
        res = _openssl(openssl_bin, "dgst", "-sm3", "-verify", str(pub), "-sigopt",
                       "distid:1234567812345678", "-signature", str(sig), str(attrs))
        assert res.returncode != 0


def test_openssl_parses_the_cms_structure(tmp_path, sealed, openssl_bin):
    _br, der = signatures_in(sealed)[0]
    f = tmp_path / "sig.p7"
    f.write_bytes(der)
    res = _openssl(openssl_bin, "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(f))
    assert res.returncode == 0, res.stderr
    assert b"pkcs7-signedData" in res.stdout or b"signedData" in res.stdout


def test_pyhanko_validates_every_revision(sealed, pki, validate_pyhanko):
    results = validate_pyhanko(sealed, [pki.root_cert])
    assert [r["coverage"] for r in results] == ["ENTIRE_REVISION", "ENTIRE_REVISION", "ENTIRE_FILE"]
    for r in results:
        assert r["intact"] and r["valid"] and r["trusted"], r
    assert [r["modification"] for r in results] == ["FORM_FILLING", "FORM_FILLING", "NONE"]


def test_pyhanko_untrusted_with_another_root_but_intact(sealed, other_root, validate_pyhanko):
    results = validate_pyhanko(sealed, [other_root.certificate])
    assert all(r["intact"] and r["valid"] and not r["trusted"] for r in results)


def test_pyhanko_detects_a_flipped_byte(tmp_path, sealed, pki, validate_pyhanko):
    data = bytearray(sealed.read_bytes())
    br, _ = signatures_in(sealed)[-1]
    data[br[1] // 2] ^= 0x01  # inside the first signed range of every signature
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    # The flipped byte is in page content, so pyHanko still reads the file: every signature
    # must be reported, each one not intact (a digest mismatch), none valid overall.
    results = validate_pyhanko(bad, [pki.root_cert])
    assert len(results) == 3
    assert all(not r["intact"] and not r["bottom_line"] and r["summary"] == "INVALID" for r in results), results


def test_cross_page_single_signature_with_openssl(tmp_path, signer, seal_png, openssl_bin, pki):
    src = tmp_path / "lo.pdf"
    src.write_bytes((FIXTURES / "libreoffice-bid.pdf").read_bytes())
    # the LibreOffice fixture has one page; add a second page through a pymupdf re-save
    import pymupdf

    doc = pymupdf.open(src)
    doc.new_page().insert_text((72, 72), "附件")
    two = tmp_path / "two.pdf"
    doc.save(two)
    out = tmp_path / "x.pdf"
    seal_pdf(two, out, signer, [Seal(CrossPagePlacement(), seal_png)])
    (br, der), = signatures_in(out)
    data = out.read_bytes()
    ranges = tmp_path / "r.bin"
    ranges.write_bytes(data[:br[1]] + data[br[2]:])
    res = _openssl(openssl_bin, "dgst", "-sm3", "-binary", str(ranges))
    si = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    md = next(a for a in si["signed_attrs"] if a["type"].native == "message_digest")
    assert bytes(md["values"][0].native) == res.stdout
