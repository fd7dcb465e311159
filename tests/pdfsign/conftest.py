"""Fixtures for the sealing tests: a demo PKI, seal pictures, sample PDFs of several
origins, a pyHanko validator with SM2 plugged in, and a render-based position check."""

from __future__ import annotations

import hashlib
import struct
import subprocess
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymupdf
import pytest

from app.demo.pki import CertificateAuthority, DemoPKI, Subject, demo_pki
from app.gm import sm2
from app.gm.keyops import SoftwareSigner
from app.gm.x509 import Certificate
from tests.pdfsign import verify_fixtures as vf

FIXTURES = Path(__file__).parent / "fixtures"
KEYWORD = "投标人（盖章）"
LEGAL_KEYWORD = "法定代表人（签字或盖章）"


# -- pictures -------------------------------------------------------------------------
def png_rgba(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int, int]]) -> bytes:
    """A truecolour+alpha PNG built with zlib only."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def make_seal_png(size: int = 120, bar: bool = True) -> bytes:
    """A red ring on transparent background with a solid bar at the TOP (orientation marker)."""
    c = size / 2

    def px(x: int, y: int) -> tuple[int, int, int, int]:
        d2 = (x - c) ** 2 + (y - c) ** 2
        if (0.40 * size) ** 2 < d2 < (0.48 * size) ** 2:
            return (220, 0, 0, 255)
        if bar and 0.12 * size < y < 0.30 * size and 0.3 * size < x < 0.7 * size:
            return (220, 0, 0, 255)
        return (255, 255, 255, 0)

    return png_rgba(size, size, px)


@pytest.fixture(scope="session")
def seal_png() -> bytes:
    return make_seal_png()


# -- keys ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pki() -> DemoPKI:
    return demo_pki()


@pytest.fixture(scope="session")
def signer(pki: DemoPKI) -> SoftwareSigner:
    return pki.signer()


@dataclass
class CountingSigner:
    """Wraps a signer and counts device operations."""

    inner: SoftwareSigner
    calls: list[bytes] = field(default_factory=list)

    @property
    def certificate(self) -> Certificate:
        return self.inner.certificate

    def sign_digest(self, e: bytes) -> bytes:
        self.calls.append(e)
        return self.inner.sign_digest(e)


@pytest.fixture
def counting_signer(signer: SoftwareSigner) -> CountingSigner:
    return CountingSigner(signer)


def issue_signer(pki: DemoPKI, usage: str = "sign", *, not_before: datetime | None = None,
                 not_after: datetime | None = None) -> SoftwareSigner:
    key = sm2.PrivateKey.generate()
    subject = Subject(unit_name="辽宁测试建设有限公司")
    cert = pki.root.issue(key.public_key, subject, usage, not_before=not_before, not_after=not_after)  # type: ignore[arg-type]
    return SoftwareSigner(cert, key)


@pytest.fixture(scope="session")
def expired_signer(pki: DemoPKI) -> SoftwareSigner:
    now = datetime.now(UTC)
    return issue_signer(pki, not_before=now - timedelta(days=800), not_after=now - timedelta(days=1))


@pytest.fixture(scope="session")
def future_signer(pki: DemoPKI) -> SoftwareSigner:
    now = datetime.now(UTC)
    return issue_signer(pki, not_before=now + timedelta(days=3), not_after=now + timedelta(days=300))


@pytest.fixture(scope="session")
def enc_only_signer(pki: DemoPKI) -> SoftwareSigner:
    return issue_signer(pki, "enc")


@pytest.fixture(scope="session")
def other_root() -> CertificateAuthority:
    return CertificateAuthority.create_root(name="Other Root")


# -- PDFs ----------------------------------------------------------------------------
def make_pdf(path: Path, pages: int = 3, *, rotations: dict[int, int] | None = None,
             cropboxes: dict[int, tuple[float, float, float, float]] | None = None,
             keyword_pages: tuple[int, ...] = (-1,), use_objstms: bool = False) -> Path:
    """A pymupdf-made A4 bid with the keywords on ``keyword_pages`` (default: the last page)."""
    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 80), f"第 {i + 1} 页 投标文件", fontname="china-s", fontsize=14)
        if i in keyword_pages or (i - pages) in keyword_pages:
            page.insert_text((72, 600), KEYWORD, fontname="china-s", fontsize=14)
            page.insert_text((72, 680), LEGAL_KEYWORD, fontname="china-s", fontsize=14)
    for i, r in (rotations or {}).items():
        doc[i].set_rotation(r)
    for i, box in (cropboxes or {}).items():
        doc[i].set_cropbox(pymupdf.Rect(box))
    doc.save(path, garbage=3, deflate=True, use_objstms=1 if use_objstms else 0)
    doc.close()
    return path


@pytest.fixture
def bid_pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "bid.pdf")


@pytest.fixture
def form_pdf(tmp_path: Path) -> Path:
    """A PDF with existing AcroForm fields (text, checkbox) and their appearances."""
    path = tmp_path / "form.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 600), KEYWORD, fontname="china-s", fontsize=14)
    w = pymupdf.Widget()
    w.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
    w.field_name = "bidder"
    w.field_value = "ACME"
    w.rect = pymupdf.Rect(72, 100, 300, 130)
    page.add_widget(w)
    cb = pymupdf.Widget()
    cb.field_type = pymupdf.PDF_WIDGET_TYPE_CHECKBOX
    cb.field_name = "agree"
    cb.field_value = True
    cb.rect = pymupdf.Rect(72, 150, 90, 168)
    page.add_widget(cb)
    doc.new_page().insert_text((72, 72), "page 2")
    doc.save(path)
    doc.close()
    return path


def signatures_in(path: Path) -> list[tuple[list[int], bytes]]:
    """(ByteRange, CMS DER without padding) of every signature, in file order, read from raw bytes."""
    import re

    from asn1crypto import core

    data = path.read_bytes()
    out = []
    for m in re.finditer(rb"/ByteRange\s*\[([0-9 ]+)\]", data):
        br = [int(v) for v in m.group(1).split()]
        hexed = data[br[1] + 1: br[2] - 1]
        raw = bytes.fromhex(hexed.decode())
        length = len(core.Asn1Value.load(raw, strict=False).dump())
        out.append((br, raw[:length]))
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- verifier tests (tests.pdfsign.verify_fixtures' PKI and signer) ------------------------
@pytest.fixture(scope="module")
def roots() -> list[Certificate]:
    """The verifier fixtures' trusted root."""
    return [vf.pki().root_cert]


@pytest.fixture(scope="module")
def signed() -> bytes:
    """A two-page PDF signed once (field ``Sig1``) by the verifier fixtures' signer."""
    return vf.signed_pdf()


@pytest.fixture
def foreign_root_pem(tmp_path: Path) -> Path:
    """``other.pem``: the root of an unrelated PKI, for ``--trust`` (our signatures are untrusted)."""
    _signer, other = vf.foreign_signer()
    path = tmp_path / "other.pem"
    path.write_bytes(other.pem)
    return path


# -- validation -------------------------------------------------------------------------
def pyhanko_validate(path: Path, roots: list[Certificate] | tuple[Certificate, ...] = ()) -> list[dict]:
    """Validate every signature with pyHanko (SM2 plugged in as in pdf-signing.md)."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.exceptions import InvalidSignature
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.sig_validate import SignatureValidator

    class SM2SignatureValidator(SignatureValidator):
        def validate_signature(self, signature, signed_data, public_key_info, signature_algorithm,
                               context=None):  # type: ignore[no-untyped-def]
            if signature_algorithm["algorithm"].dotted not in ("1.2.156.10197.1.501", "1.2.156.10197.1.301.1"):
                raise InvalidSignature("not an SM2 signature")
            if not sm2.verify(sm2.PublicKey.from_asn1(public_key_info), signed_data, signature):
                raise InvalidSignature("SM2 signature does not verify")

    vc = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(c.der) for c in roots],
        signature_validator=SM2SignatureValidator(), allow_fetching=False,
    )
    out = []
    with open(path, "rb") as f:
        reader = PdfFileReader(f)
        for emb in reader.embedded_signatures:
            st = validate_pdf_signature(emb, vc)
            out.append({
                "field": emb.field_name, "intact": st.intact, "valid": st.valid, "trusted": st.trusted,
                "coverage": st.coverage.name, "modification": st.modification_level.name
                if st.modification_level is not None else None,
                "summary": st.summary(), "bottom_line": st.bottom_line,
            })
    return out


@pytest.fixture
def validate_pyhanko() -> Callable[..., list[dict]]:
    return pyhanko_validate


def red_box(path: Path, page: int, renderer: str = "mupdf") -> tuple[tuple[int, int, int, int], float]:
    """Bounding box (visible points, 72 dpi) of the seal's red pixels and the share of red
    pixels in the top half of that box (an orientation check: the bar is at the top)."""
    if renderer == "mupdf":
        doc = pymupdf.open(path)
        pix = doc[page].get_pixmap(dpi=72, alpha=False)
        doc.close()
    else:
        out = path.parent / f"render-{page}"
        subprocess.run(["pdftoppm", "-cropbox", "-r", "72", "-f", str(page + 1), "-l", str(page + 1), "-png",
                        "-singlefile", str(path), str(out)], check=True, capture_output=True)
        pix = pymupdf.Pixmap(str(out) + ".png")
        if pix.alpha:
            pix = pymupdf.Pixmap(pix, 0)
    w, h, n, s = pix.width, pix.height, pix.n, pix.samples
    xs, ys = [], []
    for y in range(h):
        row = y * w * n
        for x in range(w):
            i = row + x * n
            if s[i] > 150 and s[i + 1] < 90 and s[i + 2] < 90:
                xs.append(x)
                ys.append(y)
    assert xs, "no seal pixels rendered"
    box = (min(xs), min(ys), max(xs) + 1, max(ys) + 1)
    mid = (box[1] + box[3]) / 2
    top = sum(1 for y in ys if y < mid) / len(ys)
    return box, top


@pytest.fixture
def render_red_box() -> Callable[..., tuple[tuple[int, int, int, int], float]]:
    return red_box
