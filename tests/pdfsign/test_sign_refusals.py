"""Every refusal leaves no output file, no temporary file and the input unchanged."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from app.errors import BidSealError
from app.pdfsign import CrossPagePlacement, KeywordPlacement, RectPlacement, Seal, seal_pdf
from app.pdfsign.errors import PdfSignError
from tests.pdfsign.conftest import KEYWORD, make_pdf, sha256


def _refused(tmp_path: Path, src: Path, signer, seals, code: str, out: Path | None = None) -> BidSealError:
    before = sha256(src)
    listing = sorted(p.name for p in tmp_path.iterdir())
    out = out or tmp_path / "out.pdf"
    existed = out.exists()
    with pytest.raises(BidSealError) as ei:
        seal_pdf(src, out, signer, seals)
    err = ei.value
    assert err.code == code, err.to_dict()
    assert err.zh and err.en and err.zh != err.en
    assert isinstance(err, PdfSignError)
    if not existed:
        assert not out.exists()
    assert sha256(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no temp file left
    return err


@pytest.mark.parametrize("user_pw", ["", "user"])
def test_encrypted_pdf_is_refused(tmp_path, signer, seal_png, user_pw):
    src = tmp_path / "enc.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    doc.save(src, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw=user_pw)
    doc.close()
    err = _refused(tmp_path, src, signer, [Seal(RectPlacement(0, (10, 10, 60, 60)), seal_png)],
                   "ERR_PDF_ENCRYPTED")
    assert "加密" in err.zh


@pytest.mark.parametrize("damage", ["startxref", "xref-keyword"])
def test_damaged_pdf_that_needs_repair_is_refused(tmp_path, signer, seal_png, damage):
    good = make_pdf(tmp_path / "good.pdf", pages=1)
    data = good.read_bytes()
    good.unlink()
    if damage == "startxref":
        i = data.rfind(b"startxref")
        data = data[:i] + b"startxref\n999\n%%EOF\n"
    else:
        j = data.find(b"\nxref")
        data = data[:j + 1] + b"garbage" + data[j + 8:]
    src = tmp_path / "damaged.pdf"
    src.write_bytes(data)
    _refused(tmp_path, src, signer, [Seal(RectPlacement(0, (10, 10, 60, 60)), seal_png)], "ERR_PDF_DAMAGED")


def test_not_a_pdf_is_refused(tmp_path, signer, seal_png):
    src = tmp_path / "x.pdf"
    src.write_bytes(b"hello, not a pdf")
    _refused(tmp_path, src, signer, [Seal(RectPlacement(0, (10, 10, 60, 60)), seal_png)], "ERR_PDF_OPEN")


def test_expired_certificate_is_refused(tmp_path, bid_pdf, expired_signer, seal_png):
    _refused(tmp_path, bid_pdf, expired_signer, [Seal(KeywordPlacement(KEYWORD), seal_png)], "ERR_CERT_EXPIRED")


def test_not_yet_valid_certificate_is_refused(tmp_path, bid_pdf, future_signer, seal_png):
    _refused(tmp_path, bid_pdf, future_signer, [Seal(KeywordPlacement(KEYWORD), seal_png)],
             "ERR_CERT_NOT_YET_VALID")


def test_encryption_only_certificate_is_refused(tmp_path, bid_pdf, enc_only_signer, seal_png):
    _refused(tmp_path, bid_pdf, enc_only_signer, [Seal(KeywordPlacement(KEYWORD), seal_png)],
             "ERR_CERT_NOT_SIGNING")


@pytest.mark.parametrize("rect", [(500, 700, 700, 900), (-50, 10, 40, 100), (10, 10, 10, 50)])
def test_seal_outside_page_is_refused(tmp_path, bid_pdf, signer, seal_png, rect):
    _refused(tmp_path, bid_pdf, signer, [Seal(RectPlacement(0, rect), seal_png)], "ERR_SEAL_OUTSIDE_PAGE")


def test_seal_outside_rotated_page_is_refused(tmp_path, signer, seal_png):
    # 595 x 842 rotated by 90 is 842 wide and 595 high: y 650 is off the visible page
    src = make_pdf(tmp_path / "rot.pdf", pages=1, rotations={0: 90})
    _refused(tmp_path, src, signer, [Seal(RectPlacement(0, (600, 560, 700, 650)), seal_png)],
             "ERR_SEAL_OUTSIDE_PAGE")


def test_keyword_seal_larger_than_page_is_refused(tmp_path, bid_pdf, signer, seal_png):
    _refused(tmp_path, bid_pdf, signer, [Seal(KeywordPlacement(KEYWORD, size_mm=400), seal_png)],
             "ERR_SEAL_OUTSIDE_PAGE")


def test_missing_keyword_is_refused(tmp_path, bid_pdf, signer, seal_png):
    err = _refused(tmp_path, bid_pdf, signer, [Seal(KeywordPlacement("不存在的关键字"), seal_png)],
                   "ERR_KEYWORD_NOT_FOUND")
    assert "不存在的关键字" in err.zh


def test_missing_nth_occurrence_is_refused(tmp_path, bid_pdf, signer, seal_png):
    _refused(tmp_path, bid_pdf, signer, [Seal(KeywordPlacement(KEYWORD, occurrence=2), seal_png)],
             "ERR_KEYWORD_NOT_FOUND")


def test_page_out_of_range_is_refused(tmp_path, bid_pdf, signer, seal_png):
    _refused(tmp_path, bid_pdf, signer, [Seal(RectPlacement(9, (10, 10, 60, 60)), seal_png)],
             "ERR_PAGE_OUT_OF_RANGE")


def test_cross_page_on_one_page_is_refused(tmp_path, signer, seal_png):
    src = make_pdf(tmp_path / "one.pdf", pages=1)
    _refused(tmp_path, src, signer, [Seal(CrossPagePlacement(), seal_png)], "ERR_PAGE_OUT_OF_RANGE")


def test_output_equal_to_input_is_refused(tmp_path, bid_pdf, signer, seal_png):
    _refused(tmp_path, bid_pdf, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)], "ERR_OUTPUT_IS_INPUT",
             out=bid_pdf)
    _refused(tmp_path, bid_pdf, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)], "ERR_OUTPUT_IS_INPUT",
             out=tmp_path / "." / "bid.pdf")


def test_output_hardlinked_to_input_is_refused(tmp_path, bid_pdf, signer, seal_png):
    link = tmp_path / "link.pdf"
    link.hardlink_to(bid_pdf)
    _refused(tmp_path, bid_pdf, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)], "ERR_OUTPUT_IS_INPUT",
             out=link)


def test_bad_seal_image_is_refused(tmp_path, bid_pdf, signer):
    _refused(tmp_path, bid_pdf, signer, [Seal(KeywordPlacement(KEYWORD), b"not a png")], "ERR_SEAL_IMAGE")


def test_missing_output_folder_is_refused(tmp_path, bid_pdf, signer, seal_png):
    _refused(tmp_path, bid_pdf, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)], "ERR_OUTPUT_WRITE",
             out=tmp_path / "nope" / "out.pdf")


@pytest.mark.parametrize("p, refused", [(1, True), (2, False)])
def test_certified_no_changes_pdf_is_refused(tmp_path, signer, seal_png, p, refused):
    src = make_pdf(tmp_path / "cert.pdf", pages=1)
    doc = pymupdf.open(src)
    sig = doc.get_new_xref()
    doc.update_object(sig, "<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached"
                           f"/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</P {p}/V/1.2>>>>]>>")
    doc.xref_set_key(doc.pdf_catalog(), "Perms", f"<</DocMDP {sig} 0 R>>")
    doc.saveIncr()
    doc.close()
    if refused:
        _refused(tmp_path, src, signer, [Seal(RectPlacement(0, (10, 10, 60, 60)), seal_png)],
                 "ERR_PDF_CERTIFIED_LOCKED")
    else:
        from app.pdfsign.incremental import SourcePdf
        from app.pdfsign.prepare import docmdp_permission

        with SourcePdf(src) as base:
            assert docmdp_permission(base) == 2
