"""A minimal SM2 PDF signer for verifier tests, plus tampering helpers.

It follows pdf-signing.md's recipe (pymupdf incremental save, placeholder
patching, :func:`app.gm.cms.sign_detached`) and exposes the knobs the tamper
tests need (OID family, SM2 ID, wrong digest, wrong key). It is deliberately
independent of the production signer (:func:`app.pdfsign.seal_pdf`), which the
tests also use, so a bug in one does not hide in the other.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pymupdf

from app.demo.pki import CertificateAuthority, DemoPKI, Subject, demo_pki
from app.gm import cms, oids, sm2
from app.gm.keyops import SoftwareSigner
from app.gm.sm3 import SM3
from app.gm.x509 import Certificate

CONTENTS_SIZE = 6000
_BR_PLACEHOLDER = "[0 9999999999 9999999999 9999999999]"

_PKI: DemoPKI | None = None


def pki() -> DemoPKI:
    """One demo PKI per test session (key generation is the slow part)."""
    global _PKI
    if _PKI is None:
        _PKI = demo_pki()
    return _PKI


def make_pdf(pages: int = 2, text: str = "Bid document") -> bytes:
    """A small unsigned PDF with some page content."""
    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 72), f"{text} - page {i + 1}")
    data = doc.tobytes()
    doc.close()
    return data


def make_pdf_with_text_field(text: str = "Bid document") -> bytes:
    """A one-page PDF with an (empty) text form field ``amount``."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 72), text)
    w = pymupdf.Widget()
    w.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
    w.field_name = "amount"
    w.rect = pymupdf.Rect(72, 100, 272, 130)
    w.field_value = ""
    page.add_widget(w)
    data = doc.tobytes()
    doc.close()
    return data


def fill_text_field(path: str | os.PathLike[str], value: str, name: str = "amount") -> None:
    """Fill text field ``name`` in place as an incremental update: a new /V and a new
    normal appearance stream, nothing else (what a careful form filler does)."""
    doc = pymupdf.open(path)
    try:
        for page in doc:
            for w in page.widgets():
                if w.field_name != name:
                    continue
                ap = doc.get_new_xref()
                doc.update_object(ap, "<</Type/XObject/Subtype/Form/BBox[0 0 200 30]/Resources<<>>>>")
                doc.update_stream(ap, f"BT /Helv 12 Tf 2 10 Td ({value}) Tj ET".encode())
                doc.xref_set_key(w.xref, "V", pymupdf.get_pdf_str(value))
                doc.xref_set_key(w.xref, "AP", f"<</N {ap} 0 R>>")
        doc.save(path, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
    finally:
        doc.close()


def restyle_text_field(path: str | os.PathLike[str], value: str, name: str = "amount") -> None:
    """Fill a field the way pymupdf's ``Widget.update`` does (it also rewrites /BS, /MK…)."""
    doc = pymupdf.open(path)
    try:
        for page in doc:
            for w in page.widgets():
                if w.field_name == name:
                    w.field_value = value
                    w.update()
        doc.save(path, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
    finally:
        doc.close()


@dataclass
class SignOptions:
    field_name: str = "Sig1"
    pages: Sequence[int] = (0,)
    content_type_oids: str = "pkcs7"
    signature_oid: str = oids.SM2_WITH_SM3
    uid: bytes = sm2.DEFAULT_ID
    wrong_digest: bool = False
    other_key: sm2.PrivateKey | None = None
    signing_time: datetime | None = None
    chain: Sequence[Certificate] = ()
    reason: str = "投标"
    #: DocMDP /P for a certification signature (None: an ordinary approval signature)
    docmdp: int | None = None
    #: embed an RFC 3161 token (from the demo TSA) over the signature value
    timestamp: bool = False
    #: time written into the token (default: now)
    timestamp_time: datetime | None = None
    #: write a document time-stamp (/Type/DocTimeStamp, ETSI.RFC3161) instead of a signature
    doc_timestamp: bool = False
    #: corrupt the time-stamp token's imprint
    bad_timestamp: bool = False
    #: who signs the time-stamp token: (certificate, key); default the demo TSA
    tsa: tuple[Certificate, sm2.PrivateKey] | None = None
    #: write /ByteRange after /Contents in the signature dictionary (the SWA shape)
    byterange_after_contents: bool = False
    #: the field's /Lock dictionary, as PDF text (e.g. "<</Action/All/P 1>>")
    field_lock: str | None = None
    #: a FieldMDP /TransformParams dictionary for the signature's /Reference, as PDF text
    fieldmdp: str | None = None
    #: the CMS shape: "standard", "no_signed_attrs", "no_content_type",
    #: "no_message_digest", "content_type_mismatch"
    cms_variant: str = "standard"
    #: sign e = SM3(message) without Z (not a standard SM2 signature)
    bare_digest: bool = False
    #: the widget rectangle and the content stream of its appearance
    rect: tuple[float, float, float, float] = (400, 80, 500, 180)
    appearance: bytes = b"1 0 0 rg 10 10 80 80 re f"


def _pdf_str(s: str) -> str:
    return pymupdf.get_pdf_str(s)


def _append_ref(doc: pymupdf.Document, xref: int, key: str, ref: int) -> None:
    kind, value = doc.xref_get_key(xref, key)
    if kind == "array":
        doc.xref_set_key(xref, key, value[:-1].rstrip() + f" {ref} 0 R]")
    elif kind == "xref":
        arr = int(value.split()[0])
        body = doc.xref_object(arr, compressed=True)
        doc.update_object(arr, body[:-1].rstrip() + f" {ref} 0 R]")
    else:
        doc.xref_set_key(xref, key, f"[{ref} 0 R]")


def sign_pdf(data: bytes, signer: SoftwareSigner | None = None, opts: SignOptions | None = None) -> bytes:
    """Append one signature to ``data`` (an incremental update) and return the new file."""
    opts = opts or SignOptions()
    signer = signer or pki().signer()
    with tempfile.TemporaryDirectory() as tmpdir:
        path = os.path.join(tmpdir, "in.pdf")
        with open(path, "wb") as f:
            f.write(data)
        prev_len = len(data)
        doc = pymupdf.open(path)
        when = (opts.signing_time or datetime.now(UTC)).astimezone(UTC)
        sig = doc.get_new_xref()
        kind = ("/Type/DocTimeStamp/Filter/Adobe.PPKLite/SubFilter/ETSI.RFC3161" if opts.doc_timestamp
                else "/Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached")
        refs = []
        if opts.docmdp is not None:
            refs.append("<</Type/SigRef/TransformMethod/DocMDP"
                        f"/TransformParams<</Type/TransformParams/P {opts.docmdp}/V/1.2>>>>")
        if opts.fieldmdp is not None:
            refs.append(f"<</Type/SigRef/TransformMethod/FieldMDP/TransformParams{opts.fieldmdp}>>")
        br_contents = f"/ByteRange{_BR_PLACEHOLDER}/Contents<{'00' * CONTENTS_SIZE}>"
        if opts.byterange_after_contents:
            br_contents = f"/Contents<{'00' * CONTENTS_SIZE}>/ByteRange{_BR_PLACEHOLDER}"
        doc.update_object(
            sig,
            f"<<{kind}{br_contents}"
            f"/M(D:{when:%Y%m%d%H%M%S}+00'00')/Reason{_pdf_str(opts.reason)}/Location(Shenyang)"
            + (f"/Reference[{''.join(refs)}]" if refs else "")
            + ">>",
        )
        x0, y0, x1, y1 = opts.rect

        def appearance() -> int:
            ap = doc.get_new_xref()
            doc.update_object(ap, f"<</Type/XObject/Subtype/Form/BBox[0 0 {x1 - x0:g} {y1 - y0:g}]"
                                  "/Resources<<>>>>")
            doc.update_stream(ap, opts.appearance)
            return ap

        lock = f"/Lock {opts.field_lock}" if opts.field_lock else ""

        page_xrefs = [doc[p].xref for p in opts.pages]
        widgets: list[int] = []
        name = _pdf_str(opts.field_name)
        if len(page_xrefs) == 1:
            field = doc.get_new_xref()
            doc.update_object(
                field,
                f"<</Type/Annot/Subtype/Widget/FT/Sig/T{name}/F 132/Rect[{x0:g} {y0:g} {x1:g} {y1:g}]"
                f"/P {page_xrefs[0]} 0 R/AP<</N {appearance()} 0 R>>/V {sig} 0 R{lock}>>",
            )
            widgets.append(field)
        else:
            field = doc.get_new_xref()
            for px in page_xrefs:
                kid = doc.get_new_xref()
                doc.update_object(
                    kid,
                    f"<</Type/Annot/Subtype/Widget/F 132/Rect[545 300 595 400]/P {px} 0 R"
                    f"/AP<</N {appearance()} 0 R>>/Parent {field} 0 R>>",
                )
                widgets.append(kid)
            kids = " ".join(f"{k} 0 R" for k in widgets)
            doc.update_object(field, f"<</FT/Sig/T{name}/Kids[{kids}]/V {sig} 0 R{lock}>>")
        for px, w in zip(page_xrefs, widgets, strict=True):
            _append_ref(doc, px, "Annots", w)
        cat = doc.pdf_catalog()
        kind, value = doc.xref_get_key(cat, "AcroForm")
        if kind == "xref":
            form, prefix = int(value.split()[0]), ""
        elif kind == "dict":
            form, prefix = cat, "AcroForm/"
        else:
            form = doc.get_new_xref()
            doc.update_object(form, "<</Fields[]>>")
            doc.xref_set_key(cat, "AcroForm", f"{form} 0 R")
            prefix = ""
        _append_ref(doc, form, prefix + "Fields", field)
        doc.xref_set_key(form, prefix + "SigFlags", "3")
        if opts.docmdp is not None:
            doc.xref_set_key(cat, "Perms", f"<</DocMDP {sig} 0 R>>")
        doc.save(path, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
        doc.close()
        with open(path, "rb") as f:
            buf = bytearray(f.read())
    return _finish_signature(buf, prev_len, sig, signer, opts, when)


def _finish_signature(buf: bytearray, prev_len: int, sig: int, signer: SoftwareSigner, opts: SignOptions,
                      when: datetime) -> bytes:
    """Patch /ByteRange, hash, sign and write the CMS into the placeholder of /Sig ``sig``."""
    tail = bytes(buf[prev_len:])
    m = re.search(rb"(?<![0-9])%d 0 obj" % sig, tail)
    assert m, "signature object not found"
    obj_start = prev_len + m.start()
    obj_end = buf.index(b"endobj", obj_start)
    c0 = buf.index(b"/Contents", obj_start, obj_end) + len(b"/Contents")
    while buf[c0] in b" \r\n":
        c0 += 1
    assert buf[c0:c0 + 1] == b"<"
    c1 = buf.index(b">", c0) + 1
    assert c1 - c0 == 2 * CONTENTS_SIZE + 2
    b0 = buf.index(b"/ByteRange", obj_start, obj_end) + len(b"/ByteRange")
    b1 = buf.index(b"]", b0) + 1
    br = f"[0 {c0} {c1} {len(buf) - c1}]".encode()
    width = b1 - b0
    assert len(br) <= width
    buf[b0:b1] = br + b" " * (width - len(br))
    h = SM3()
    h.update(bytes(buf[:c0]))
    h.update(bytes(buf[c1:]))
    digest = h.digest()
    if opts.wrong_digest:
        digest = bytes(32 - i for i in range(32))
    if opts.doc_timestamp:
        der = make_timestamp_token(digest, opts.timestamp_time, corrupt=opts.bad_timestamp, tsa=opts.tsa)
        hexed = der.hex().upper().encode()
        buf[c0 + 1:c0 + 1 + len(hexed)] = hexed
        return bytes(buf)
    if opts.cms_variant != "standard" or opts.bare_digest:
        der = _variant_cms(bytes(buf[:c0]) + bytes(buf[c1:]), digest, signer, opts, when)
        hexed = der.hex().upper().encode()
        buf[c0 + 1:c0 + 1 + len(hexed)] = hexed
        return bytes(buf)
    prepared = cms.prepare_signed_attributes(
        digest, signer.certificate, chain=list(opts.chain), signing_time=when,
        content_type_oids=opts.content_type_oids,  # type: ignore[arg-type]
        signature_oid=opts.signature_oid, uid=opts.uid,
    )
    if opts.other_key is not None:
        signature = sm2.sign_digest(opts.other_key, prepared.e)
    else:
        signature = signer.sign_digest(prepared.e)
    unsigned: list[tuple[str, list[bytes]]] = []
    if opts.timestamp:
        token = make_timestamp_token(SM3(signature).digest(), opts.timestamp_time, corrupt=opts.bad_timestamp,
                                     tsa=opts.tsa)
        unsigned.append(("1.2.840.113549.1.9.16.2.14", [token]))
    der = cms.assemble(prepared, signature, unsigned_attrs=unsigned)
    hexed = der.hex().upper().encode()
    assert len(hexed) <= 2 * CONTENTS_SIZE
    buf[c0 + 1:c0 + 1 + len(hexed)] = hexed
    return bytes(buf)


def sign_pdf_raw(data: bytes, signer: SoftwareSigner | None = None, opts: SignOptions | None = None) -> bytes:
    """Like :func:`sign_pdf` (one widget on the first page) but written by hand with
    :func:`append_update`, for inputs MuPDF would repair (and then refuse to save
    incrementally): the signed file keeps every byte of ``data`` as its prefix."""
    from app.pdfsign.pdfstructure import PdfSource, PdfStructure

    opts = opts or SignOptions()
    signer = signer or pki().signer()
    s = PdfStructure(PdfSource(data))
    root_num = s.trailer()["Root"].num
    page = next(num for num, _node, leaf in s.walk_pages(s.get(root_num)["Pages"]) if leaf)
    size = int(s.trailer()["Size"])
    sig, field, ap, form = size, size + 1, size + 2, size + 3
    when = (opts.signing_time or datetime.now(UTC)).astimezone(UTC)
    page_body = object_body(data, page)
    if b"/Annots" in page_body:
        page_body = re.sub(rb"/Annots\s*\[", b"/Annots[%d 0 R " % field, page_body)
    else:
        page_body = page_body[:page_body.rindex(b">>")] + b"/Annots[%d 0 R]>>" % field
    root_body = object_body(data, root_num)
    root_body = root_body[:root_body.rindex(b">>")] + b"/AcroForm %d 0 R>>" % form
    x0, y0, x1, y1 = opts.rect
    buf = bytearray(append_update(data, {
        sig: (f"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/ByteRange{_BR_PLACEHOLDER}"
              f"/Contents<{'00' * CONTENTS_SIZE}>/M(D:{when:%Y%m%d%H%M%S}+00'00')>>").encode(),
        field: (f"<</Type/Annot/Subtype/Widget/FT/Sig/T{_pdf_str(opts.field_name)}/F 132"
                f"/Rect[{x0:g} {y0:g} {x1:g} {y1:g}]/P {page} 0 R/AP<</N {ap} 0 R>>/V {sig} 0 R>>").encode(),
        ap: (f"<</Type/XObject/Subtype/Form/BBox[0 0 {x1 - x0:g} {y1 - y0:g}]/Resources<<>>"
             f"/Length {len(opts.appearance)}>>\nstream\n").encode() + opts.appearance + b"\nendstream",
        form: b"<</Fields[%d 0 R]/SigFlags 3>>" % field,
        page: page_body,
        root_num: root_body,
    }))
    return _finish_signature(buf, len(data), sig, signer, opts, when)


def signed_pdf(**kwargs: object) -> bytes:
    """Shortcut: a fresh two-page PDF signed once with ``SignOptions(**kwargs)``."""
    return sign_pdf(make_pdf(), None, SignOptions(**kwargs))  # type: ignore[arg-type]


def _variant_cms(content: bytes, digest: bytes, signer: SoftwareSigner, opts: SignOptions,
                 when: datetime) -> bytes:
    """A SignedData in one of the shapes :attr:`SignOptions.cms_variant` names, signed
    with or without Z (:attr:`SignOptions.bare_digest`); ``content`` is the signed bytes."""
    from asn1crypto import cms as asn1_cms
    from asn1crypto import x509 as asn1_x509

    cert = signer.certificate
    attrs_list = []
    if opts.cms_variant not in ("no_content_type", "no_signed_attrs"):
        ctype = "signed_data" if opts.cms_variant == "content_type_mismatch" else "data"
        attrs_list.append(asn1_cms.CMSAttribute({"type": "content_type", "values": [ctype]}))
    attrs_list.append(asn1_cms.CMSAttribute({"type": "signing_time", "values": [
        asn1_cms.Time(name="utc_time", value=when.replace(microsecond=0))]}))
    if opts.cms_variant != "no_message_digest":
        attrs_list.append(asn1_cms.CMSAttribute({"type": "message_digest", "values": [digest]}))
    si_value: dict[str, object] = {
        "version": "v1",
        "sid": asn1_cms.SignerIdentifier(name="issuer_and_serial_number", value={
            "issuer": asn1_x509.Name.load(cert.issuer_serial[0]), "serial_number": cert.serial_number}),
        "digest_algorithm": {"algorithm": oids.SM3},
        "signature_algorithm": {"algorithm": oids.SM2_WITH_SM3},
    }
    if opts.cms_variant == "no_signed_attrs":
        message = content
    else:
        attrs = asn1_cms.CMSAttributes(attrs_list)
        message = bytes(attrs.dump(force=True))
        si_value["signed_attrs"] = attrs
    e = SM3(message).digest() if opts.bare_digest else sm2.compute_e(cert.public_key, message, opts.uid)
    si_value["signature"] = signer.sign_digest(e)
    sd = asn1_cms.SignedData({
        "version": "v1",
        "digest_algorithms": [{"algorithm": oids.SM3}],
        "encap_content_info": {"content_type": "data"},
        "certificates": [asn1_cms.CertificateChoices(name="certificate", value=cert.asn1)],
        "signer_infos": [asn1_cms.SignerInfo(si_value)],
    })
    return bytes(asn1_cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


def make_timestamp_token(imprint: bytes, when: datetime | None = None, *, corrupt: bool = False,
                         tsa: tuple[Certificate, sm2.PrivateKey] | None = None) -> bytes:
    """An RFC 3161 TimeStampToken over an SM3 ``imprint`` from the demo TSA, or from
    ``tsa`` = (certificate, key) (SignedData, eContentType id-ct-TSTInfo, SM2 with the
    default ID)."""
    from asn1crypto import cms as asn1_cms
    from asn1crypto import tsp as asn1_tsp

    p = pki()
    tsa_cert, tsa_key = tsa if tsa is not None else (p.tsa_cert, p.tsa_key)
    gen = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    if corrupt:
        imprint = bytes(b ^ 0xFF for b in imprint)
    tst = asn1_tsp.TSTInfo({
        "version": "v1",
        "policy": "1.2.156.1.1",
        "message_imprint": {"hash_algorithm": {"algorithm": oids.SM3}, "hashed_message": imprint},
        "serial_number": int.from_bytes(os.urandom(8), "big"),
        "gen_time": gen,
    })
    tst_der = bytes(tst.dump())
    attrs = asn1_cms.CMSAttributes([
        asn1_cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
        asn1_cms.CMSAttribute({"type": "message_digest", "values": [SM3(tst_der).digest()]}),
    ])
    attrs_der = bytes(attrs.dump(force=True))
    signature = sm2.sign(tsa_key, attrs_der)
    issuer, serial = tsa_cert.issuer_serial
    from asn1crypto import x509 as asn1_x509

    si = asn1_cms.SignerInfo({
        "version": "v1",
        "sid": asn1_cms.SignerIdentifier(name="issuer_and_serial_number", value={
            "issuer": asn1_x509.Name.load(issuer), "serial_number": serial}),
        "digest_algorithm": {"algorithm": oids.SM3},
        "signed_attrs": attrs,
        "signature_algorithm": {"algorithm": oids.SM2_WITH_SM3},
        "signature": signature,
    })
    sd = asn1_cms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": oids.SM3}],
        "encap_content_info": {"content_type": "tst_info",
                               "content": asn1_cms.ParsableOctetString(tst_der)},
        "certificates": [asn1_cms.CertificateChoices(name="certificate", value=tsa_cert.asn1)],
        "signer_infos": [si],
    })
    return bytes(asn1_cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


# -- certificates for negative tests -----------------------------------------------------------


def expired_signer() -> SoftwareSigner:
    """A signing certificate from the demo root whose validity ended yesterday."""
    p = pki()
    key = sm2.PrivateKey.generate()
    nb = datetime.now(UTC) - timedelta(days=400)
    cert = p.root.issue(key.public_key, p.subject, "sign", not_before=nb,
                        not_after=datetime.now(UTC) - timedelta(days=1))
    return SoftwareSigner(cert, key)


def encryption_signer() -> SoftwareSigner:
    """The demo encryption certificate and key (keyEncipherment only)."""
    p = pki()
    return SoftwareSigner(p.enc_cert, p.enc_key)


def foreign_signer() -> tuple[SoftwareSigner, Certificate]:
    """A signer under a different root (returned too, for trust tests)."""
    root = CertificateAuthority.create_root(name="Other Root CA")
    key = sm2.PrivateKey.generate()
    cert = root.issue(key.public_key, Subject(unit_name="其他单位有限公司", unit_code=None), "sign")
    return SoftwareSigner(cert, key), root.certificate


# -- tampering helpers ------------------------------------------------------------------------------


def append_update(data: bytes, objects: dict[int, bytes], *, root_override: bytes | None = None,
                  junk: bytes = b"", free: tuple[int, ...] = (), entries: dict[int, int] | None = None,
                  prev: int | None = None, size: int | None = None) -> bytes:
    """Append a classic incremental update that (re)defines ``objects`` (num → body
    without ``obj``/``endobj``), with a correct xref table and trailer /Prev.
    ``junk`` is written between the objects and the xref table, unregistered;
    ``free`` numbers get free entries; ``entries`` maps numbers to raw offsets (an
    xref entry pointing wherever the attacker likes); ``prev`` overrides /Prev (-1:
    no /Prev at all) and ``size`` the trailer's /Size."""
    from app.pdfsign.pdfstructure import PdfSource, PdfStructure

    s = PdfStructure(PdfSource(data))
    tr = s.trailer()
    prev = s.revisions[-1].startxref if prev is None else prev
    raw = dict(entries or {})
    size = size or max([int(tr.get("Size", 0))] + [n + 1 for n in list(objects) + list(free) + list(raw)])
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: dict[int, int] = {}
    for num, body in sorted(objects.items()):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    out += junk
    xref_pos = len(out)
    out += b"xref\n"
    table = {**{n: b"%010d 00000 n " % o for n, o in offsets.items()},
             **{n: b"%010d 00000 n " % o for n, o in raw.items()},
             **{n: b"0000000000 00001 f " for n in free}}
    for num in sorted(table):
        out += b"%d 1\n%s\n" % (num, table[num])
    root = root_override or str(tr["Root"]).encode()
    prev_text = b"" if prev < 0 else b"/Prev %d" % prev
    out += b"trailer\n<</Size %d/Root %s%s>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, prev_text, xref_pos)
    return bytes(out)


def next_free_number(data: bytes) -> int:
    """The trailer's /Size: the first object number nothing uses."""
    from app.pdfsign.pdfstructure import PdfSource, PdfStructure

    return int(PdfStructure(PdfSource(data)).trailer()["Size"])


def render(data: bytes, page: int = 0, dpi: int = 36) -> bytes:
    """The page rendered by MuPDF (RGB samples), to confirm that an attack is visible."""
    doc = pymupdf.open(stream=data, filetype="pdf")
    try:
        return bytes(doc[page].get_pixmap(dpi=dpi, alpha=False).samples)
    finally:
        doc.close()


def signed_revision(data: bytes, index: int = -1) -> bytes:
    """The bytes of a signature's signed revision: up to its /ByteRange's end."""
    ranges = [m for m in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)]
    _a, _b, c, d = (int(x) for x in ranges[index].groups())
    return data[:c + d]


def object_body(data: bytes, num: int) -> bytes:
    """The current source text of object ``num`` (between ``obj`` and ``endobj``)."""
    from app.pdfsign.pdfstructure import PdfSource, PdfStructure

    s = PdfStructure(PdfSource(data))
    obj = s.object_span(num)
    assert obj is not None
    text = data[obj.start:obj.end]
    head = re.match(rb"\d+\s+\d+\s+obj", text)
    assert head
    return text[head.end():-len(b"endobj")].strip()


def page_object_numbers(data: bytes) -> list[int]:
    doc = pymupdf.open(stream=data, filetype="pdf")
    try:
        return [p.xref for p in doc]
    finally:
        doc.close()


# -- pyHanko as an independent oracle -------------------------------------------------------------


def pyhanko_results(data: bytes, roots: Sequence[Certificate] = ()) -> list[dict[str, object]]:
    """Validate every signature with pyHanko, SM2 plugged in as pdf-signing.md describes
    (a :class:`SignatureValidator` subclass verifying with :mod:`app.gm.sm2`)."""
    import io

    from asn1crypto import x509 as asn1_x509
    from cryptography.exceptions import InvalidSignature
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.sig_validate import SignatureValidator

    class SM2Validator(SignatureValidator):  # type: ignore[misc]
        def validate_signature(self, signature, signed_data, public_key_info, signature_algorithm,  # type: ignore[no-untyped-def]
                               context=None):
            if signature_algorithm["algorithm"].dotted not in (oids.SM2_WITH_SM3, oids.SM2_SIGN):
                raise InvalidSignature("not SM2")
            public = sm2.PublicKey.from_asn1(public_key_info)
            if not any(sm2.verify(public, signed_data, signature, uid) for uid in (sm2.DEFAULT_ID, b"")):
                raise InvalidSignature("SM2 signature does not verify")

    vc = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(c.der) for c in roots],
        signature_validator=SM2Validator(), allow_fetching=False,
    )
    out: list[dict[str, object]] = []
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    for emb in reader.embedded_signatures:
        st = validate_pdf_signature(emb, vc)
        out.append({
            "field": emb.field_name,
            "intact": st.intact,
            "valid": st.valid,
            "trusted": st.trusted,
            "coverage": st.coverage.name if st.coverage is not None else None,
            "modification": st.modification_level.name if st.modification_level is not None else None,
            "bottom_line": st.bottom_line,
        })
    return out
