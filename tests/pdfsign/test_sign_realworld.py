"""Sealing files shaped like the ones bidders really have (issue 10).

Each test builds the odd-but-legal construct byte for byte, seals it (twice where
the second seal is the point) and checks the outcome with tools that share no code
with the sealing engine: raw bytes, pyHanko, poppler (``pdftoppm``).
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import pymupdf
import pytest

from app.pdfsign import RectPlacement, Seal, seal_pdf
from app.pdfsign.errors import PdfSignError
from tests.pdfsign.conftest import red_box, sha256

SEAL_RECT = (100.0, 100.0, 200.0, 200.0)


def raw_pdf(path: Path, objects: dict[int, bytes], *, root: int = 1, trailer_extra: bytes = b"",
            xref_stream: bool = False) -> Path:
    """Write ``objects`` (number -> value text, streams included) exactly as given."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    if xref_stream:
        xnum = size
        size += 1
        offsets[xnum] = len(out)
        rows = b"\x00" + b"\x00" * 4 + b"\xff\xff"
        rows += b"".join(b"\x01" + offsets[n].to_bytes(4, "big") + b"\x00\x00" if n in offsets else
                         b"\x00" + b"\x00" * 6 for n in range(1, size))
        body = (b"<</Type/XRef/Size %d/W[1 4 2]/Root %d 0 R%s/Length %d>>stream\n"
                % (size, root, trailer_extra, len(rows)) + rows + b"\nendstream")
        xref_at = len(out)
        out += b"%d 0 obj\n" % xnum + body + b"\nendobj\n"
    else:
        xref_at = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % size
        for n in range(1, size):
            out += (b"%010d 00000 n \n" % offsets[n]) if n in offsets else b"0000000000 65535 f \n"
        out += b"trailer\n<</Size %d/Root %d 0 R%s>>\n" % (size, root, trailer_extra)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    path.write_bytes(bytes(out))
    return path


def _content(ops: bytes) -> bytes:
    return b"<</Length %d>>stream\n" % len(ops) + ops + b"\nendstream"


#: A page whose values MuPDF would rewrite: long decimals and an empty-name resource key
#: (``/ExtGState<</ 6 0 R>>`` is legal: a name may be empty).
ODD_PAGE = (b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 611.971653543307 791.971653543307]"
            b"/CropBox[0.0000 0.0000 611.971653543307 791.971653543307]/UserUnit 1.000000"
            b"/Resources<</ExtGState<</ 6 0 R>>>>/Contents 4 0 R>>")


def odd_pdf(path: Path, xref_stream: bool = False) -> Path:
    return raw_pdf(path, {
        1: b"<</Type/Catalog/Pages 2 0 R>>",
        2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        3: ODD_PAGE,
        4: _content(b"/ gs 0 0 1 rg 50 50 400 600 re f"),  # a half-transparent blue box
        6: b"<</Type/ExtGState/ca 0.5>>",
    }, xref_stream=xref_stream)


def _page_objects(data: bytes, num: int) -> list[bytes]:
    return [m.group(1) for m in re.finditer(rb"(?<![0-9])%d 0 obj\s*(.*?)\s*endobj" % num, data, re.S)]


@pytest.mark.parametrize("xref_stream", [False, True])
def test_untouched_page_values_are_copied_byte_for_byte(tmp_path, signer, seal_png, pki, validate_pyhanko,
                                                        xref_stream):
    src = odd_pdf(tmp_path / "odd.pdf", xref_stream)
    one, two = tmp_path / "one.pdf", tmp_path / "two.pdf"
    seal_pdf(src, one, signer, [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
    seal_pdf(one, two, signer, [Seal(RectPlacement(0, (300, 300, 400, 400)), seal_png)])
    data = two.read_bytes()
    versions = _page_objects(data, 3)
    assert len(versions) == 3  # the original and one rewrite per seal
    for v in versions[1:]:
        # the only change: an /Annots entry right after "<<"; everything else the same bytes
        assert re.sub(rb"^<</Annots\[[0-9 R]+\]", b"<<", v) == ODD_PAGE, v
    assert b"611.971653543307" in versions[2] and b"/ExtGState<</ 6 0 R>>" in versions[2]
    tail = data[len(src.read_bytes()):]
    assert (b"/Type/XRef" in tail) == xref_stream and (b"\nxref\n" in tail) != xref_stream  # same xref kind
    results = validate_pyhanko(two, [pki.root_cert])
    assert [(r["intact"], r["valid"], r["coverage"]) for r in results] == [
        (True, True, "ENTIRE_REVISION"), (True, True, "ENTIRE_FILE")]
    assert results[0]["modification"] == "FORM_FILLING"


def test_transparency_through_an_empty_name_survives_sealing(tmp_path, signer, seal_png):
    """poppler draws the half-transparent box the same way before and after (only the seal differs)."""
    import subprocess

    src = odd_pdf(tmp_path / "odd.pdf")
    out = tmp_path / "out.pdf"
    seal_pdf(src, out, signer, [Seal(RectPlacement(0, (450, 650, 550, 750)), seal_png)])

    def render(p: Path) -> pymupdf.Pixmap:
        base = tmp_path / p.stem
        subprocess.run(["pdftoppm", "-cropbox", "-r", "36", "-png", "-singlefile", str(p), str(base)], check=True,
                       capture_output=True)
        return pymupdf.Pixmap(str(base) + ".png")

    a, b = render(src), render(out)
    k = 36 / 72
    x = int(200 * k)
    y = int((792 - 300) * k)  # inside the blue box, far from the seal
    i = (y * a.width + x) * a.n
    assert a.samples[i:i + 3] == b.samples[i:i + 3]
    assert a.samples[i + 2] > 200 and 100 < a.samples[i] < 160  # blue at 50 % over white, not opaque blue


def test_need_appearances_is_removed_and_the_seal_is_visible_in_poppler(tmp_path, signer, seal_png):
    src = tmp_path / "form.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    w = pymupdf.Widget()
    w.field_type, w.field_name, w.field_value = pymupdf.PDF_WIDGET_TYPE_TEXT, "bidder", "ACME"
    w.rect = pymupdf.Rect(72, 100, 300, 130)
    page.add_widget(w)
    doc.save(src)
    doc.close()
    doc = pymupdf.open(src)
    doc.xref_set_key(doc.pdf_catalog(), "AcroForm/NeedAppearances", "true")
    doc.saveIncr()
    doc.close()
    out = tmp_path / "out.pdf"
    seal_pdf(src, out, signer, [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
    tail = out.read_bytes()[src.stat().st_size:]
    assert b"NeedAppearances" not in tail and b"/Fields[" in tail
    box, _top = red_box(out, 0, renderer="poppler")
    assert abs(box[0] - 100) <= 3 and abs(box[1] - 100) <= 3


def test_filled_field_without_appearance_is_refused_when_need_appearances(tmp_path, signer, seal_png):
    src = raw_pdf(tmp_path / "noap.pdf", {
        1: b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[5 0 R]/NeedAppearances true/DA(/Helv 0 Tf 0 g)>>>>",
        2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Annots[5 0 R]>>",
        5: b"<</Type/Annot/Subtype/Widget/FT/Tx/T(price)/V(1000000)/Rect[72 700 300 730]/P 3 0 R>>",
    })
    before = sha256(src)
    with pytest.raises(PdfSignError) as ei:
        seal_pdf(src, tmp_path / "out.pdf", signer, [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
    assert ei.value.code == "ERR_PDF_UNSUPPORTED" and ei.value.details["fields"] == ["price"]
    assert "外观" in ei.value.zh and "appearance" in ei.value.en
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noap.pdf"] and sha256(src) == before


def _certified(tmp_path: Path, p: int, lock: bool = False) -> Path:
    sig = (b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Contents<00>/ByteRange[0 1 2 3]"
           b"/Reference[<</Type/SigRef/TransformMethod/%s/TransformParams<</P %d/V/1.2%s>>>>]>>"
           % (b"FieldMDP" if lock else b"DocMDP", p, b"/Action/All" if lock else b""))
    catalog = b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[5 0 R]/SigFlags 3>>%s>>" % (
        b"" if lock else b"/Perms<</DocMDP 6 0 R>>")
    field = b"<</FT/Sig/T(Approval)/V 6 0 R/Rect[0 0 0 0]/Type/Annot/Subtype/Widget/P 3 0 R%s>>" % (
        b"/Lock<</Type/SigFieldLock/Action/All/P %d>>" % p if lock else b"")
    return raw_pdf(tmp_path / f"cert{p}{lock}.pdf", {
        1: catalog, 2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Annots[5 0 R]>>", 5: field, 6: sig,
    })


@pytest.mark.parametrize("p, lock, refused", [(1, False, True), (2, False, False), (3, False, False),
                                              (1, True, True), (2, True, False)])
def test_docmdp_and_field_lock_permissions(tmp_path, signer, seal_png, p, lock, refused):
    src = _certified(tmp_path, p, lock)
    out = tmp_path / "out.pdf"
    if refused:
        with pytest.raises(PdfSignError) as ei:
            seal_pdf(src, out, signer, [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
        assert ei.value.code == "ERR_PDF_CERTIFIED_LOCKED" and not out.exists()
    else:
        from app.pdfsign.incremental import SourcePdf
        from app.pdfsign.prepare import build_revision  # noqa: F401 - the writer is what P=2/3 allow

        with SourcePdf(src) as base:
            from app.pdfsign.prepare import docmdp_permission, lock_permission

            assert (lock_permission(base) if lock else docmdp_permission(base)) == p
        # the fake certification carries no real signature, so only the writer part is run here
        from app.pdfsign import SealOptions

        seal_pdf(src, out, signer, [Seal(RectPlacement(0, SEAL_RECT), seal_png)], options=SealOptions(verify=False))
        tail = out.read_bytes()[src.stat().st_size:]
        assert b"/FT/Sig/T(BidSeal1)" in tail and b"(Approval)" not in tail  # the locked field is untouched


def test_brotli_filter_gets_a_specific_message(tmp_path, signer, seal_png):
    data = b"0 0 1 rg 0 0 10 10 re f"
    src = raw_pdf(tmp_path / "brotli.pdf", {
        1: b"<</Type/Catalog/Pages 2 0 R>>", 2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>",
        4: b"<</Length %d/Filter/BrotliDecode>>stream\n" % len(data) + data + b"\nendstream",
    })
    try:
        seal_pdf(src, tmp_path / "out.pdf", signer, [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
    except PdfSignError as exc:
        assert exc.code not in ("ERR_PDF_SIGN", "ERR_PDF_OPEN") and "truncated" not in exc.en, exc.to_dict()
    else:  # the page content is never decoded by sealing: then it must have been sealed properly
        assert (tmp_path / "out.pdf").read_bytes().startswith(src.read_bytes())


def test_object_stream_brotli_is_refused_specifically(tmp_path, signer, seal_png):
    """An object stream we must read (it holds the page) in a filter we cannot decode."""
    inner = b"3 0 <</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>"
    src = raw_pdf(tmp_path / "objstm-brotli.pdf", {
        1: b"<</Type/Catalog/Pages 2 0 R>>", 2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
        7: b"<</Type/ObjStm/N 1/First 4/Length %d/Filter/BrotliDecode>>stream\n" % len(inner) + inner
           + b"\nendstream",
    })
    out = tmp_path / "out.pdf"
    seal_pdf(src, out, signer, [Seal(RectPlacement(0, SEAL_RECT), seal_png)])  # 7 is unused: fine
    assert out.read_bytes().startswith(src.read_bytes())


def test_damaged_xref_entry_is_refused_up_front(tmp_path, signer, seal_png):
    """An entry pointing into the wrong object: refused before anything is signed."""
    good = odd_pdf(tmp_path / "good.pdf")
    data = bytearray(good.read_bytes())
    i = data.index(b"xref\n")
    entries = data[i:].split(b"\n")
    off6 = int(entries[7][:10])  # object 6's entry (line 0 xref, 1 "0 7", 2 free, 3.. objects 1..6)
    bad_entry = b"%010d 00000 n " % (off6 + 3)
    j = data.index(entries[7], i)
    data[j:j + len(bad_entry)] = bad_entry
    src = tmp_path / "damaged.pdf"
    src.write_bytes(bytes(data))
    good.unlink()
    with pytest.raises(PdfSignError) as ei:
        seal_pdf(src, tmp_path / "out.pdf", signer, [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
    assert ei.value.code == "ERR_PDF_DAMAGED" and "重新导出" in ei.value.zh and "Export" in ei.value.en
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.pdf"]


def test_json_mode_prints_only_json_when_mupdf_complains(tmp_path, pki, seal_png, capfd):
    """A page-tree cycle makes MuPDF print "MuPDF error: ..." by default; --json must stay clean."""
    from app.cli.main import main

    src = raw_pdf(tmp_path / "cycle.pdf", {
        1: b"<</Type/Catalog/Pages 2 0 R>>",
        2: b"<</Type/Pages/Kids[3 0 R 4 0 R]/Count 2>>",
        3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
        4: b"<</Type/Pages/Parent 2 0 R/Kids[2 0 R]/Count 1>>",
    })
    key, cert, png = tmp_path / "k.pem", tmp_path / "c.pem", tmp_path / "s.png"
    key.write_bytes(pki.sign_key.to_pem())
    cert.write_bytes(pki.sign_cert.pem)
    png.write_bytes(seal_png)
    out = tmp_path / "out.pdf"
    rc = main(["sign", str(src), "-o", str(out), "--page", "1", "--rect", "100,100,200,200", "--json",
               "--soft-key", str(key), "--cert", str(cert), "--seal-image", str(png)])
    cap = capfd.readouterr()
    assert "MuPDF" not in cap.out + cap.err
    if cap.out.strip():
        json.loads(cap.out)  # nothing but one JSON document
    assert rc != 0 and not out.exists()
    assert "ERR_PDF_UNSUPPORTED" in cap.out + cap.err  # a cycle in the page tree, said as such


def test_public_key_encryption_gets_the_encrypted_message(tmp_path, signer, seal_png):
    src = raw_pdf(tmp_path / "pubkey.pdf", {
        1: b"<</Type/Catalog/Pages 2 0 R>>", 2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
        5: b"<</Filter/Adobe.PubSec/SubFilter/adbe.pkcs7.s5/V 4/Length 128/Recipients[<3000>]"
           b"/CF<</DefaultCryptFilter<</CFM/AESV2/Recipients[<3000>]>>>>/StmF/DefaultCryptFilter"
           b"/StrF/DefaultCryptFilter>>",
    }, trailer_extra=b"/Encrypt 5 0 R/ID[<00112233445566778899AABBCCDDEEFF><00112233445566778899AABBCCDDEEFF>]")
    with pytest.raises(PdfSignError) as ei:
        seal_pdf(src, tmp_path / "out.pdf", signer, [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
    assert ei.value.code == "ERR_PDF_ENCRYPTED"


def test_new_objects_are_compressed_and_the_image_has_no_foreign_references(tmp_path, signer, seal_png):
    src = odd_pdf(tmp_path / "odd.pdf")
    out = tmp_path / "out.pdf"
    seal_pdf(src, out, signer, [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
    tail = out.read_bytes()[src.stat().st_size:]
    image = re.search(rb"<<[^>]*/Subtype/Image[^>]*>>", tail)
    assert image and b"/ColorSpace/DeviceRGB" in image.group(0) and b"/SMask" in image.group(0)
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", tail, re.S):
        zlib.decompress(m.group(1))  # every new stream is Flate


def test_preflight_refuses_before_any_signing(tmp_path, seal_png):
    """The checks front ends run before the PIN: same refusals as sealing, nothing written."""
    from app.pdfsign.signer import preflight

    preflight(odd_pdf(tmp_path / "ok.pdf"), [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
    with pytest.raises(PdfSignError) as ei:
        preflight(_certified(tmp_path, 1), [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
    assert ei.value.code == "ERR_PDF_CERTIFIED_LOCKED"
    cycle = raw_pdf(tmp_path / "cycle.pdf", {
        1: b"<</Type/Catalog/Pages 2 0 R>>", 2: b"<</Type/Pages/Kids[3 0 R 4 0 R]/Count 2>>",
        3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>", 4: b"<</Type/Pages/Parent 2 0 R/Kids[2 0 R]/Count 1>>",
    })
    with pytest.raises(PdfSignError) as ei:
        preflight(cycle, [Seal(RectPlacement(0, SEAL_RECT), seal_png)])
    assert ei.value.code == "ERR_PDF_UNSUPPORTED"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert1False.pdf", "cycle.pdf", "ok.pdf"]
