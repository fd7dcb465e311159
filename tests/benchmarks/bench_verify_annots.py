"""Benchmark: verifying a one-page PDF with many annotations in object streams.

Not part of the normal test suite (tests/pdfsign/test_verify_bench_smoke.py runs a tiny
version). Run::

    python tests/benchmarks/bench_verify_annots.py [--annots 65000] [--repeat 3] [--json]

It generates the shape issue 10 (item 8) reported: one page whose /Annots lists
``--annots`` small Square annotations, all of them packed into object streams with an
xref stream (MuPDF ``use_objstms``), then signed once by the verifier's test signer
(an incremental update; the page is rewritten with the long /Annots array). It reports
the seconds :func:`app.pdfsign.verify.verify_pdf` takes (best of ``--repeat``, each in
a fresh parse; wall clock and this process's CPU time, since a loaded machine inflates
the wall clock) and, for reference in the same run, the time MuPDF (C) needs to open
the file and list the page's annotation xrefs. Target: < 2 s for 65,000.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def generate(n: int, signatures: int = 1) -> bytes:
    """A one-page PDF with ``n`` Square annotations in object streams, signed
    ``signatures`` times (each an incremental update adding a widget to the page)."""
    import pymupdf

    from tests.pdfsign import verify_fixtures as vf

    # Written by hand (MuPDF's annotation API would take minutes for 65,000), then
    # packed into object streams by MuPDF.
    out = bytearray(b"%PDF-1.7\n")
    offsets: list[int] = []

    def obj(body: bytes) -> None:
        offsets.append(len(out))
        out.extend(b"%d 0 obj\n" % len(offsets) + body + b"\nendobj\n")

    first_annot = 5
    annots = b" ".join(b"%d 0 R" % (first_annot + i) for i in range(n))
    content = b"BT /F1 12 Tf 72 770 Td (Many annotations) Tj ET"
    obj(b"<</Type/Catalog/Pages 2 0 R>>")
    obj(b"<</Type/Pages/Count 1/Kids[3 0 R]>>")
    obj(b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Annots[" + annots +
        b"]/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>>>>>>>")
    obj(b"<</Length %d>>\nstream\n%s\nendstream" % (len(content), content))
    for i in range(n):
        x, y = 20 + (i % 110) * 5, 20 + (i // 110) % 160 * 5
        obj(b"<</Type/Annot/Subtype/Square/Rect[%d %d %d %d]/C[0 0 1]/F 4/NM(a%d)>>" % (x, y, x + 4, y + 4, i))
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref)
    doc = pymupdf.open(stream=bytes(out), filetype="pdf")
    data = doc.tobytes(use_objstms=1, garbage=1)
    doc.close()
    for i in range(signatures):
        data = vf.sign_pdf(data, None, vf.SignOptions(field_name=f"Sig{i + 1}", rect=(400, 80 + 110 * i, 500, 180 + 110 * i)))
    return data


def run(n: int = 65000, repeat: int = 3, data: bytes | None = None, signatures: int = 1) -> dict[str, Any]:
    import pymupdf

    from app.pdfsign.verify import verify_pdf
    from tests.pdfsign import verify_fixtures as vf

    t0 = time.perf_counter()
    data = data if data is not None else generate(n, signatures)
    gen = time.perf_counter() - t0
    roots = [vf.pki().root_cert]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "annots.pdf"
        path.write_bytes(data)
        times, cpu = [], []
        report = None
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            report = verify_pdf(path, trust_roots=roots)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        doc = pymupdf.open(path)
        listed = len(doc[0].annot_xrefs())
        doc.close()
        mupdf, mupdf_cpu = time.perf_counter() - t, time.process_time() - c
    assert report is not None
    return {
        "annotations": n,
        "signatures_in_file": signatures,
        "file_bytes": len(data),
        "generate_seconds": round(gen, 2),
        "verify_seconds": round(min(times), 3),
        "verify_seconds_all": [round(x, 3) for x in times],
        "verify_cpu_seconds": round(min(cpu), 3),
        "mupdf_open_and_list_seconds": round(mupdf, 3),
        "mupdf_open_and_list_cpu_seconds": round(mupdf_cpu, 3),
        "mupdf_listed": listed,
        "status": report.status.value,
        "signatures": [(s.field_name, s.status.value, s.modification) for s in report.signatures],
        "load_average": os.getloadavg(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annots", type=int, default=65000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--signatures", type=int, default=2,
                    help="seals in the file; with 2 the first one's change analysis covers the page too")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = run(args.annots, args.repeat, signatures=args.signatures)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
