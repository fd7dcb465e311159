"""Seal every corpus PDF twice and check it independently (see checks.py); print the counts.

Usage::

    python tests/pdfsign/corpus/build_corpus.py          # once: fetch the files
    python tests/pdfsign/corpus/run_corpus.py [--jobs 2] [--json report.json] [NAME_FILTER]

Each file runs in a worker process (a crash or hang of one file cannot take the
run down; ``--timeout`` per file). Exit status 1 when any file fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.pdfsign.corpus import build_corpus  # noqa: E402

_KEY = None
_TIMEOUT = 300.0


def _key(folder: Path):  # noqa: ANN202 - per worker process
    global _KEY
    if _KEY is None:
        import logging
        import os

        from tests.pdfsign.conftest import make_seal_png
        from tests.pdfsign.corpus.checks import KeyMaterial

        logging.disable(logging.CRITICAL)  # pyHanko logs tracebacks for untrusted foreign signatures
        _KEY = KeyMaterial.create(folder / f"key-{os.getpid()}", make_seal_png())
    return _KEY


def _one(name: str, path: str, work: str, timeout: float = _TIMEOUT) -> dict:
    import os

    global _TIMEOUT
    _TIMEOUT = timeout
    os.environ.setdefault("BIDSEAL_HOME", str(Path(work) / "home"))
    import signal

    from tests.pdfsign.corpus.checks import check_file

    def _timeout(_sig, _frame):  # noqa: ANN001, ANN202
        raise TimeoutError("timeout")

    signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(int(_TIMEOUT))
    w = Path(work) / name
    try:
        return check_file(Path(path), _key(Path(work)), w, name).to_dict()
    except Exception as exc:  # noqa: BLE001 - a crash of the harness is a failure of that file
        return {"name": name, "status": "fail", "code": None, "reasons": [f"harness crash: {exc!r}"[:300]],
                "notes": [], "seconds": 0}
    finally:
        signal.alarm(0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("filter", nargs="?", default="", help="only names containing this text")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--json", type=Path, help="write the per-file results here")
    args = ap.parse_args(argv)
    entries = [e for e in build_corpus.load_manifest() if args.filter in e["name"]]
    missing = [e["name"] for e in entries if not build_corpus.corpus_path(e).is_file()]
    if missing:
        print(f"{len(missing)} corpus files missing: run build_corpus.py first", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="bidseal-corpus-") as work, \
            ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futs = {pool.submit(_one, e["name"], str(build_corpus.corpus_path(e)), work, args.timeout): e["name"]
                for e in entries}
        for fut in as_completed(futs):
            r = fut.result()
            results.append(r)
            if r["status"] == "fail":
                print(f"FAIL {r['name']}: {'; '.join(r['reasons'])[:400]}", flush=True)
    results.sort(key=lambda r: r["name"])
    counts = Counter(r["status"] for r in results)
    codes = Counter(r["code"] for r in results if r["status"] == "refused")
    by_source = Counter((r["name"].split("--")[0], r["status"]) for r in results)
    print(f"\n{len(results)} files in {time.perf_counter() - t0:.0f} s: "
          f"{counts['pass']} passed, {counts['refused']} refused, {counts['fail']} failed")
    print("refusals:", dict(codes))
    print("by source:", {f"{s}/{st}": n for (s, st), n in sorted(by_source.items())})
    if args.json:
        args.json.write_text(json.dumps({"counts": dict(counts), "refusals": dict(codes), "files": results},
                                        indent=1, ensure_ascii=False), encoding="utf-8")
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
