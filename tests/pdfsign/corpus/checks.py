"""Seal one real-world PDF twice and check the outputs without BidSeal's own verifier.

Used by ``tests/pdfsign/test_sign_corpus.py`` (committed files) and by
``run_corpus.py`` (the whole corpus). For one input, :func:`check_file`:

1. seals it through the CLI in JSON mode (``bidseal sign --json``, in process, with
   file-descriptor-level capture so that text a C library writes is caught too):
   stdout must be exactly one JSON document;
2. seals that output again through :func:`app.pdfsign.seal_pdf` on the last page;
3. checks each output independently:

   * the input is an exact byte prefix of the output;
   * each new signature: ``openssl dgst -sm3`` of its byte ranges equals the CMS
     messageDigest, and ``openssl dgst -sm3 -verify`` (distid 1234567812345678)
     accepts the SM2 signature over the signed attributes (re-tagged as SET);
   * pyHanko: every new signature intact and valid with ENTIRE_FILE /
     ENTIRE_REVISION coverage; a signature that existed before keeps its
     intactness, validity, coverage and DocMDP verdict;
   * poppler (``pdftoppm``): the sealed page differs from the input's rendering only
     inside the seal rectangle, and the seal (red pixels) is visible there;

4. a refusal must be a specific error (not the generic internal error, not
   "not a PDF" for a file with a valid ``%PDF-x.y`` header) and leave nothing
   behind (no output, no temporary file, input unchanged). A file whose first
   seal is accepted but whose second is refused is a failure.

The outcome is ``pass``, ``refused`` (with the code) or ``fail`` (with reasons).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymupdf

#: Refusal codes that are not specific enough for a bidder.
GENERIC_CODES = {"ERR_PDF_SIGN", "ERR_INTERNAL"}
_HEADER = re.compile(rb"%PDF-\d\.\d")
#: pyHanko diff-analysis verdicts caused by the input file itself, not by what was appended:
#: any later revision of such a file is rated OTHER, whoever writes it.
_INPUT_QUIRK = re.compile(r"Metadata does not look like XMP|Metadata XML syntax could not be validated")
_LEVELS = ["NONE", "LTA_UPDATES", "FORM_FILLING", "ANNOTATIONS", "OTHER"]
RENDER_DPI = 36


@dataclass
class Outcome:
    name: str
    status: str = "pass"  # pass | refused | fail
    code: str | None = None
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def fail(self, why: str) -> None:
        self.status = "fail"
        self.reasons.append(why)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "code": self.code, "reasons": self.reasons,
                "notes": self.notes, "seconds": round(self.seconds, 2)}


@dataclass
class KeyMaterial:
    """A software signer and the files the CLI needs for it."""

    signer: Any
    key_pem: Path
    cert_pem: Path
    pub_pem: Path
    root_pem: Path
    seal_png: Path
    root_cert: Any

    @classmethod
    def create(cls, folder: Path, seal_png: bytes) -> KeyMaterial:
        from app.demo.pki import demo_pki

        pki = demo_pki()
        folder.mkdir(parents=True, exist_ok=True)
        paths = {n: folder / n for n in ("key.pem", "cert.pem", "pub.pem", "root.pem", "seal.png")}
        paths["key.pem"].write_bytes(pki.sign_key.to_pem())
        paths["cert.pem"].write_bytes(pki.sign_cert.pem)
        paths["pub.pem"].write_bytes(pki.sign_cert.public_key.to_pem())
        paths["root.pem"].write_bytes(pki.root_cert.pem)
        paths["seal.png"].write_bytes(seal_png)
        return cls(pki.signer(), paths["key.pem"], paths["cert.pem"], paths["pub.pem"], paths["root.pem"],
                   paths["seal.png"], pki.root_cert)


# -- capture --------------------------------------------------------------------------------
@contextlib.contextmanager
def captured_fds() -> Iterator[dict[str, bytes]]:
    """Capture file descriptors 1 and 2 (Python and C writers alike)."""
    import sys

    out: dict[str, bytes] = {}
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {1: os.dup(1), 2: os.dup(2)}
    files = {1: tempfile.TemporaryFile(), 2: tempfile.TemporaryFile()}  # noqa: SIM115 - closed below
    py_streams = (sys.stdout, sys.stderr)
    try:
        for fd, f in files.items():
            os.dup2(f.fileno(), fd)
        # Python-level writers too, even when a test runner replaced sys.stdout/stderr
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - closed below
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - closed below
        yield out
    finally:
        sys.stdout.close()
        sys.stderr.close()
        sys.stdout, sys.stderr = py_streams
        for fd, f in files.items():
            os.dup2(saved[fd], fd)
            os.close(saved[fd])
            f.seek(0)
            out["stdout" if fd == 1 else "stderr"] = f.read()
            f.close()


# -- helpers --------------------------------------------------------------------------------
def seal_rect(path: Path, page: int, where: str) -> tuple[float, float, float, float] | None:
    """A seal rectangle (visible coordinates) on ``page``: ``tl`` top-left area, ``br`` bottom-right."""
    try:
        doc = pymupdf.open(path)
        r = doc[page].rect
        doc.close()
    except Exception:  # noqa: BLE001 - the engine will say what is wrong
        return None
    w, h = r.width, r.height
    if w < 20 or h < 20:
        return None
    s = min(w, h, 400) * 0.25
    if where == "tl":
        x, y = w * 0.1, h * 0.1
    else:
        x, y = w * 0.9 - s, h * 0.9 - s
    return (round(x, 2), round(y, 2), round(x + s, 2), round(y + s, 2))


def poppler_rect(path: Path, page: int, rect: tuple[float, float, float, float]) -> tuple[float, ...]:
    """``rect`` (MuPDF's page space, scaled by /UserUnit) in poppler's raster space, which
    ignores /UserUnit (poppler 22)."""
    try:
        doc = pymupdf.open(path)
        kind, value = doc.xref_get_key(doc[page].xref, "UserUnit")
        doc.close()
        unit = float(value) if kind in ("int", "real") else 1.0
    except Exception:  # noqa: BLE001
        unit = 1.0
    return tuple(v / unit for v in rect) if unit > 0 else rect


def page_count(path: Path) -> int:
    try:
        doc = pymupdf.open(path)
        n = doc.page_count
        doc.close()
        return int(n)
    except Exception:  # noqa: BLE001
        return 0


def new_signatures(data: bytes, start: int) -> list[tuple[list[int], bytes]]:
    """(ByteRange, CMS DER) of each signature dictionary written after ``start``."""
    from asn1crypto import core

    out = []
    for m in re.finditer(rb"/ByteRange\s*\[\s*([0-9]+)\s+([0-9]+)\s+([0-9]+)\s+([0-9]+)\s*\]", data[start:]):
        br = [int(v) for v in m.groups()]
        hexed = data[br[1] + 1: br[2] - 1]
        raw = bytes.fromhex(hexed.decode())
        length = len(core.Asn1Value.load(raw, strict=False).dump())
        out.append((br, raw[:length]))
    return out


def openssl_checks(data: bytes, start: int, key: KeyMaterial, work: Path, expected: int) -> list[str]:
    """Problems found by OpenSSL with the signatures written after ``start``."""
    from asn1crypto import cms

    problems = []
    sigs = new_signatures(data, start)
    if len(sigs) != expected:
        return [f"expected {expected} new signature(s) after byte {start}, found {len(sigs)}"]
    for i, (br, der) in enumerate(sigs):
        if br[0] != 0 or data[br[1]:br[1] + 1] != b"<" or data[br[2] - 1:br[2]] != b">":
            problems.append(f"sig {i}: byte range {br} does not frame /Contents")
            continue
        ranges = work / f"ranges{i}.bin"
        ranges.write_bytes(data[:br[1]] + data[br[2]:br[2] + br[3]])
        dg = subprocess.run(["openssl", "dgst", "-sm3", "-binary", str(ranges)], capture_output=True)
        si = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
        md = next(a for a in si["signed_attrs"] if a["type"].native == "message_digest")
        if dg.returncode != 0 or bytes(md["values"][0].native) != dg.stdout:
            problems.append(f"sig {i}: openssl SM3 of the byte ranges differs from messageDigest")
        attrs = work / f"attrs{i}.der"
        attrs.write_bytes(b"\x31" + si["signed_attrs"].dump()[1:])
        sig = work / f"sig{i}.der"
        sig.write_bytes(bytes(si["signature"].native))
        vr = subprocess.run(["openssl", "dgst", "-sm3", "-verify", str(key.pub_pem), "-sigopt",
                             "distid:1234567812345678", "-signature", str(sig), str(attrs)], capture_output=True)
        if vr.returncode != 0 or b"Verified OK" not in vr.stdout:
            problems.append(f"sig {i}: openssl SM2 verification failed")
    last = sigs[-1][0] if sigs else None
    if last is not None and last[2] + last[3] != len(data):
        problems.append("the last signature does not cover the whole file")
    return problems


def pyhanko_status(path: Path, root_cert: Any) -> list[dict] | str:
    """pyHanko's verdict on every signature (SM2 plugged in); a string when it cannot read the file."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.exceptions import InvalidSignature
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

    from app.gm import sm2

    class Validator(DefaultSignatureValidator):
        def validate_signature(self, signature, signed_data, public_key_info, signature_algorithm,
                               context=None):  # type: ignore[no-untyped-def]
            if signature_algorithm["algorithm"].dotted in ("1.2.156.10197.1.501", "1.2.156.10197.1.301.1"):
                if not sm2.verify(sm2.PublicKey.from_asn1(public_key_info), signed_data, signature):
                    raise InvalidSignature("SM2 signature does not verify")
                return
            super().validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)

    vc = ValidationContext(trust_roots=[asn1_x509.Certificate.load(root_cert.der)],
                           signature_validator=Validator(), allow_fetching=False)
    out = []
    try:
        with open(path, "rb") as f:
            reader = PdfFileReader(f, strict=False)
            for emb in reader.embedded_signatures:
                try:
                    st = validate_pdf_signature(emb, vc)
                except Exception as exc:  # noqa: BLE001 - pyHanko's verdict is "cannot validate"
                    out.append({"field": emb.field_name, "error": type(exc).__name__, "intact": None})
                    continue
                entry = {"field": emb.field_name, "intact": st.intact, "valid": st.valid,
                         "coverage": st.coverage.name if st.coverage else None,
                         "modification": st.modification_level.name if st.modification_level else None,
                         "docmdp_ok": st.docmdp_ok}
                if st.modification_level is not None and st.modification_level.name == "OTHER":
                    entry["suspicious"] = _diff_reason(reader, emb)
                out.append(entry)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    return out


def pyhanko_self_baseline(src: Path) -> dict | str:
    """What pyHanko says about the first of two signatures that *pyHanko itself* adds to
    ``src`` (an RSA test key): a dict like :func:`pyhanko_status`'s entries, or a string when
    pyHanko cannot sign the file at all. When our first seal meets the same verdict, the
    cause is the input (a pyHanko limitation on that file), not what we appended."""
    import datetime as dt
    import io

    from asn1crypto import keys as akeys
    from asn1crypto import x509 as ax509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pyHanko baseline")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=9)).sign(key, hashes.SHA256()))
    signer = signers.SimpleSigner(
        signing_cert=ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=akeys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=None)
    data = src.read_bytes()
    try:
        for i in (1, 2):
            out = io.BytesIO()
            signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data), strict=False),
                             signers.PdfSignatureMetadata(field_name=f"PH{i}"), signer=signer, output=out,
                             new_field_spec=fields.SigFieldSpec(f"PH{i}", box=(10, 10, 60, 60)))
            data = out.getvalue()
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        emb = next(e for e in reader.embedded_signatures if e.field_name == "PH1")
        st = validate_pdf_signature(emb, ValidationContext(trust_roots=[signer.signing_cert]))
    except Exception as exc:  # noqa: BLE001 - pyHanko's verdict on the input
        return {"error": type(exc).__name__}
    return {"modification": st.modification_level.name if st.modification_level else None}


def _diff_reason(reader: Any, emb: Any) -> str:
    """pyHanko's own sentence for an OTHER (suspicious) rating."""
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY

    try:
        res = DEFAULT_DIFF_POLICY.review_file(reader, emb.signed_revision)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"[:200]
    return str(res)[:200]


def render_dpi(rect: tuple[float, float, float, float]) -> int:
    """Enough resolution for the seal to cover at least ~40 pixels across (tiny pages)."""
    side = max(min(rect[2] - rect[0], rect[3] - rect[1]), 1.0)
    return max(RENDER_DPI, min(int(40 * 72 / side) + 1, 600))


def render(path: Path, page: int, out_base: Path, dpi: int = RENDER_DPI) -> Any | None:
    """A poppler rendering of ``page`` (0-based) as a pymupdf Pixmap (RGB), or None."""
    res = subprocess.run(["pdftoppm", "-cropbox", "-r", str(dpi), "-f", str(page + 1), "-l", str(page + 1), "-png",
                          "-singlefile", str(path), str(out_base)], capture_output=True, timeout=120)
    png = Path(str(out_base) + ".png")
    if res.returncode != 0 or not png.is_file():
        return None
    pix = pymupdf.Pixmap(str(png))
    if pix.alpha:
        pix = pymupdf.Pixmap(pix, 0)
    if pix.n != 3:
        pix = pymupdf.Pixmap(pymupdf.csRGB, pix)
    return pix


def render_problems(before: Any, after: Any, rect: tuple[float, float, float, float],
                    dpi: int = RENDER_DPI) -> list[str]:
    """Differences outside ``rect`` (visible points) and a missing seal inside it."""
    if before is None or after is None:
        return [] if before is None else ["poppler cannot render the sealed page"]
    if (before.width, before.height) != (after.width, after.height):
        return ["the sealed page renders at another size"]
    k = dpi / 72.0
    x0, y0, x1, y1 = (int(rect[0] * k) - 2, int(rect[1] * k) - 2, int(rect[2] * k) + 3, int(rect[3] * k) + 3)
    w, n = before.width, before.n
    a, b = before.samples, after.samples
    outside = red = 0
    for y in range(before.height):
        row = y * w * n
        if a[row:row + w * n] == b[row:row + w * n] and not (y0 <= y < y1):
            continue
        for x in range(w):
            i = row + x * n
            inside = x0 <= x < x1 and y0 <= y < y1
            if inside:
                if b[i] > 150 and b[i + 1] < 110 and b[i + 2] < 110:
                    red += 1
            elif a[i:i + n] != b[i:i + n]:
                outside += 1
    problems = []
    if outside:
        problems.append(f"poppler: {outside} pixel(s) changed outside the seal")
    if red < 4:
        problems.append("poppler: the seal is not visible")
    return problems


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _refusal_ok(exc_dict: dict, src: Path, out: Path, folder: Path, before_listing: list[str],
                src_hash: str) -> list[str]:
    problems = []
    code = exc_dict.get("code", "")
    if code in GENERIC_CODES:
        problems.append(f"generic refusal {code}: {exc_dict.get('en', '')[:80]} "
                        f"{str(exc_dict.get('details', {}).get('reason', ''))[:120]}")
    if code == "ERR_PDF_OPEN" and _HEADER.match(src.read_bytes()[:1024].lstrip()) and src.stat().st_size > 0:
        en = exc_dict.get("en", "")
        if "not a PDF" in en or "unreadable" in en:
            problems.append("ERR_PDF_OPEN 'not a PDF' for a file with a valid %PDF header")
    if not exc_dict.get("zh") or not exc_dict.get("en"):
        problems.append("refusal without a bilingual message")
    if out.exists():
        problems.append("an output was left behind")
    if _listing(folder) != before_listing:
        problems.append("files were left behind: " + ", ".join(set(_listing(folder)) - set(before_listing)))
    if hashlib.sha256(src.read_bytes()).hexdigest() != src_hash:
        problems.append("the input changed")
    return problems


def _level(name: str | None) -> int:
    return _LEVELS.index(name) if name in _LEVELS else len(_LEVELS)


def pyhanko_problems(before: list[dict] | str, after: list[dict] | str, n_new: int,
                     notes: list[str], baseline: Any = None) -> list[str]:
    if isinstance(after, str):
        if isinstance(before, str):
            notes.append("pyHanko cannot read the input either: " + before)
            return []
        return ["pyHanko cannot read the output: " + after]
    if isinstance(before, str):
        notes.append("pyHanko cannot read the input: " + before)
        before = []
    problems = []
    old, new = after[:len(after) - n_new], after[len(after) - n_new:]
    if len(new) != n_new or len(old) != len(before):
        return [f"pyHanko sees {len(after)} signatures, expected {len(before)} + {n_new}"]
    for i, s in enumerate(new):
        want = "ENTIRE_FILE" if i == len(new) - 1 else "ENTIRE_REVISION"
        bad_mod = s.get("modification") not in (None, "NONE", "FORM_FILLING", "LTA_UPDATES")
        if "error" in s or bad_mod:
            # The same verdict on pyHanko's own two signatures means the input is the cause.
            own = baseline() if baseline is not None else None
            same = isinstance(own, dict) and (
                ("error" in s and own.get("error") == s["error"])
                or (bad_mod and own.get("modification") == s.get("modification")))
            if same or (bad_mod and s.get("suspicious") and _INPUT_QUIRK.search(s["suspicious"])):
                notes.append(f"pyHanko verdict on {s.get('field')} caused by the input (pyHanko's own signature "
                             f"gets the same: {own}): {s}")
                continue
        if not (s.get("intact") and s.get("valid")) or s.get("coverage") != want:
            problems.append(f"pyHanko: new signature {s.get('field')}: {s}")
        elif bad_mod:
            problems.append(f"pyHanko: new signature {s.get('field')} sees modification "
                            f"{s.get('modification')} {s.get('suspicious', '')}")
    for b, a in zip(before, old, strict=True):
        if "error" in b:
            continue
        if "error" in a:
            problems.append(f"pyHanko: earlier signature {b.get('field')} can no longer be validated: {a}")
            continue
        for k in ("intact", "valid", "coverage"):
            if b.get(k) != a.get(k) and not (k == "coverage" and b.get(k) == "ENTIRE_FILE"
                                              and a.get(k) == "ENTIRE_REVISION"):
                problems.append(f"pyHanko: earlier signature {b.get('field')}: {k} {b.get(k)} -> {a.get(k)}")
        if b.get("docmdp_ok") is not False and a.get("docmdp_ok") is False:
            problems.append(f"pyHanko: earlier signature {b.get('field')} became suspicious "
                            f"(modification {a.get('modification')})")
        if _level(a.get("modification")) > max(_level(b.get("modification")), _LEVELS.index("FORM_FILLING")):
            problems.append(f"pyHanko: earlier signature {b.get('field')} modification "
                            f"{b.get('modification')} -> {a.get('modification')}")
    return problems


# -- the check -------------------------------------------------------------------------------
def _cli_seal(src: Path, out: Path, key: KeyMaterial, page: int, rect: tuple[float, ...]) -> tuple[int, dict | None, str]:
    from app.cli.main import main

    argv = ["sign", str(src), "-o", str(out), "--page", str(page + 1),
            "--rect", ",".join(str(v) for v in rect), "--json", "--soft-key", str(key.key_pem),
            "--cert", str(key.cert_pem), "--seal-image", str(key.seal_png), "--trust-root", str(key.root_pem)]
    with captured_fds() as cap:
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = int(exc.code or 0)
    stdout = cap["stdout"].decode("utf-8", "replace")
    if rc != 0 and not stdout.strip():
        return rc, {}, stdout  # the error went to stderr: nothing but JSON (nothing) on stdout
    try:
        doc = json.loads(stdout)
    except ValueError:
        return rc, None, stdout
    return rc, doc, stdout


def _api_refusal(src: Path, out: Path, key: KeyMaterial, page: int, rect: tuple[float, ...]) -> dict:
    """The engine's refusal as a dict (the CLI printed it to stderr)."""
    from app.errors import BidSealError
    from app.pdfsign import RectPlacement, Seal, seal_pdf

    try:
        seal_pdf(src, out, key.signer, [Seal(RectPlacement(page, rect), key.seal_png.read_bytes())])
    except BidSealError as exc:
        return exc.to_dict()
    except Exception as exc:  # noqa: BLE001
        return {"code": "TRACEBACK", "en": repr(exc)[:200]}
    out.unlink()
    return {"code": "ACCEPTED-BY-API", "en": "the CLI refused but the engine accepted"}


def check_file(src: Path, key: KeyMaterial, work: Path, name: str | None = None) -> Outcome:
    """Seal ``src`` twice (CLI JSON, then API) and check both outputs; see the module docstring."""
    import time

    from app.errors import BidSealError
    from app.pdfsign import RectPlacement, Seal, seal_pdf

    t0 = time.perf_counter()
    res = Outcome(name or src.name)
    work.mkdir(parents=True, exist_ok=True)
    folder = work / "seal"
    folder.mkdir(exist_ok=True)
    inp = folder / "input.pdf"
    inp.write_bytes(src.read_bytes())
    src_hash = hashlib.sha256(inp.read_bytes()).hexdigest()
    n_pages = page_count(inp)
    rect1 = seal_rect(inp, 0, "tl") or (10.0, 10.0, 20.0, 20.0)
    out1 = folder / "sealed1.pdf"
    listing = _listing(folder)
    rc, doc, stdout = _cli_seal(inp, out1, key, 0, rect1)
    if doc is None:
        res.fail(f"--json printed something other than one JSON document: {stdout[:200]!r}")
        res.seconds = time.perf_counter() - t0
        return res
    if rc != 0:
        err = doc.get("error", doc) if doc else _api_refusal(inp, out1, key, 0, rect1)
        res.status, res.code = "refused", err.get("code")
        for p in _refusal_ok(err, inp, out1, folder, listing, src_hash):
            res.fail(p)
        res.seconds = time.perf_counter() - t0
        return res
    before_status = pyhanko_status(inp, key.root_cert)
    first = out1.read_bytes()
    original = inp.read_bytes()
    if not first.startswith(original):
        res.fail("seal 1: the input is not an exact prefix of the output")
    for p in openssl_checks(first, len(original), key, work, 1):
        res.fail("seal 1: " + p)
    after1 = pyhanko_status(out1, key.root_cert)
    for p in pyhanko_problems(before_status, after1, 1, res.notes, lambda: pyhanko_self_baseline(inp)):
        res.fail("seal 1: " + p)
    dpi = render_dpi(poppler_rect(inp, 0, rect1))
    img_in = render(inp, 0, work / "in-p1", dpi)
    img_out = render(out1, 0, work / "out1-p1", dpi)
    for p in render_problems(img_in, img_out, poppler_rect(inp, 0, rect1), dpi):
        res.fail("seal 1: " + p)

    last = max(n_pages - 1, 0)
    rect2 = seal_rect(out1, last, "br") or rect1
    out2 = folder / "sealed2.pdf"
    listing = _listing(folder)
    try:
        seal_pdf(out1, out2, key.signer, [Seal(RectPlacement(last, rect2), key.seal_png.read_bytes())])
    except BidSealError as exc:
        res.fail(f"seal 2 refused after seal 1 was accepted: {exc.code}: {exc.en} "
                 f"{str(exc.details.get('reason', '') or exc.details.get('failures', ''))[:200]}")
        for p in _refusal_ok(exc.to_dict(), out1, out2, folder, listing,
                             hashlib.sha256(first).hexdigest()):
            res.fail("seal 2: " + p)
        res.seconds = time.perf_counter() - t0
        return res
    second = out2.read_bytes()
    if not second.startswith(first):
        res.fail("seal 2: the first output is not an exact prefix of the second")
    for p in openssl_checks(second, len(first), key, work, 1):
        res.fail("seal 2: " + p)
    after2 = pyhanko_status(out2, key.root_cert)
    own: list[Any] = []

    def baseline() -> Any:
        if not own:
            own.append(pyhanko_self_baseline(inp))
        return own[0]

    for p in pyhanko_problems(before_status, after2, 2, res.notes, baseline):
        res.fail("seal 2: " + p)
    dpi = render_dpi(poppler_rect(out1, last, rect2))
    img_before = render(out1, last, work / "out1-last", dpi)
    img_after = render(out2, last, work / "out2-last", dpi)
    for p in render_problems(img_before, img_after, poppler_rect(out1, last, rect2), dpi):
        res.fail("seal 2: " + p)
    res.seconds = time.perf_counter() - t0
    return res
