"""Benchmark: sealing a one-page PDF with 65,000 annotations stored in object streams.

Not part of the normal test suite. Run::

    python tests/benchmarks/bench_annots_seal.py [--annots 65000] [--repeat 3] [--repo DIR] [--json]

The shape comes from issue 10 (item 8): the page's /Annots array holds 65,000
references and every annotation lives in an object stream. Sealing must not read
the annotations at all (it only appends one reference to /Annots, splicing the
array's source text); the verifier's parse of that shape is reported separately.

Each measurement runs in a fresh child process (imports excluded from the timing,
best of ``--repeat``):

* ``seal_s``: :func:`app.pdfsign.seal_pdf`, rect seal on the page, full verifier;
* ``seal_builtin_s``: the same with ``SealOptions(verify=False)`` (built-in from-disk
  checks only);
* ``verify_s``: :func:`app.pdfsign.verify.verify_pdf` of the sealed file.

``--repo`` runs the children against another checkout (e.g. an older commit) for a
before/after comparison on the same generated file. Target from the issue: < 2 s
to seal this shape.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def generate(path: Path, n: int) -> None:
    """One A4 page, ``n`` small square annotations, all objects in object streams."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 72), "65k annotations")
    page_xref = page.xref
    del page
    refs = []
    for i in range(n):
        x = 20 + (i % 250) * 2.2
        y = 100 + (i // 250) * 2.6
        xref = doc.get_new_xref()
        doc.update_object(xref, f"<</Type/Annot/Subtype/Square/Rect[{x:.1f} {y:.1f} {x + 1.5:.1f} {y + 1.5:.1f}]"
                                f"/C[1 0 0]/F 4/P {page_xref} 0 R>>")
        refs.append(f"{xref} 0 R")
    doc.xref_set_key(page_xref, "Annots", "[" + " ".join(refs) + "]")
    doc.save(path, garbage=0, use_objstms=1, compression_effort=0)
    doc.close()


CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
src, out, mode = sys.argv[2], sys.argv[3], sys.argv[4]
try:
    from app.demo.pki import demo_pki
except ImportError:  # older checkouts (before/after comparisons only)
    from app.gm.pki import demo_pki
from app.pdfsign import RectPlacement, Seal, SealOptions, seal_pdf
import pymupdf
doc = pymupdf.open(); p = doc.new_page(width=120, height=120)
p.draw_circle((60, 60), 55, color=(0.85, 0.1, 0.1), width=5)
png = p.get_pixmap(alpha=True).tobytes("png")
signer = demo_pki().signer()
if mode == "verify":
    from app.pdfsign.verify import verify_pdf
    t0 = time.perf_counter(); r = verify_pdf(src); dt = time.perf_counter() - t0
    print(json.dumps({"s": dt, "statuses": [s.status for s in r.signatures]}))
else:
    t0 = time.perf_counter()
    seal_pdf(src, out, signer, [Seal(RectPlacement(0, (400, 700, 500, 800)), png)],
             options=SealOptions(verify=(mode == "full")))
    print(json.dumps({"s": time.perf_counter() - t0}))
"""


def _child(repo: Path, src: Path, out: Path, mode: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(repo), str(src), str(out), mode],
                          capture_output=True, text=True, cwd=repo)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def run(annots: int, repeat: int, repo: Path) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bidseal-annots-"))
    try:
        src = work / "annots.pdf"
        t0 = time.perf_counter()
        generate(src, annots)
        gen_s = time.perf_counter() - t0
        full, quick, ver = [], [], []
        for i in range(repeat):
            out = work / f"sealed-{i}.pdf"
            full.append(_child(repo, src, out, "full")["s"])
            ver.append(_child(repo, out, out, "verify")["s"])
            out.unlink()
            quick.append(_child(repo, src, out, "builtin")["s"])
            out.unlink()
        return {"annots": annots, "size_mb": round(src.stat().st_size / 1e6, 2), "generate_s": round(gen_s, 2),
                "seal_s": round(min(full), 2), "seal_builtin_s": round(min(quick), 2),
                "verify_s": round(min(ver), 2), "repo": str(repo),
                "loadavg": [round(v, 1) for v in os.getloadavg()]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--annots", type=int, default=65000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--repo", type=Path, default=REPO, help="checkout whose app/ the children import")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    r = run(args.annots, args.repeat, args.repo.resolve())
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(f"{r['annots']} annotations in object streams, {r['size_mb']} MB "
              f"(generated in {r['generate_s']} s); code: {r['repo']}")
        print(f"seal (full verifier): {r['seal_s']} s   seal (built-in checks only): {r['seal_builtin_s']} s   "
              f"verify_pdf: {r['verify_s']} s   (best of {args.repeat}, load {r['loadavg']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
