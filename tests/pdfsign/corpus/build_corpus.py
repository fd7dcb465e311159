"""Build the real-world PDF corpus for the sealing robustness test (issue 10).

The corpus is made of PDFs nobody here wrote, from public sources:

* pdf.js ``test/pdfs`` (Mozilla; Apache-2.0 repository, files gathered from public bug
  reports), a deterministic selection: every form/annotation/rotation/signature/… file
  below 600 kB plus every 12th other file;
* qpdf's test suite ``qpdf/qtest/qpdf`` (Apache-2.0), every 12th file below 300 kB
  (many are deliberately damaged: refusals are part of the test);
* pyHanko's test data (MIT): signed, certified, encrypted, odd xref and form files;
* PDF manuals shipped by Debian packages under ``/usr/share/doc`` (licence: the
  package's ``copyright`` file).

``files/`` (committed) holds a small representative part; everything else goes to a
cache folder (``$BIDSEAL_CORPUS_DIR``, default ``~/.cache/bidseal-corpus``).

Usage::

    python tests/pdfsign/corpus/build_corpus.py --select --mirror-root /path/to/mirrors
        # (maintainers) choose files from local clones and write manifest.json
    python tests/pdfsign/corpus/build_corpus.py
        # fetch every manifest entry not yet cached (local clone, else raw.githubusercontent.com),
        # checking each file's SHA-256

A local clone is looked up as ``<mirror-root>/<owner>+<repo>/repo`` (a bare git
directory, read with ``git show``) or ``<mirror-root>/<owner>/<repo>`` (a work tree).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
COMMITTED = HERE / "files"

GITHUB_SOURCES = {
    "mozilla/pdf.js": ("Apache-2.0 (pdf.js repository; test files from public bug reports)", "test/pdfs/"),
    "qpdf/qpdf": ("Apache-2.0 (qpdf test suite)", "qpdf/qtest/qpdf/"),
    "MatthiasValvekens/pyHanko": (
        "MIT (pyHanko test data)",
        "internal/common-test-utils/src/pyhanko_testing_commons/test_data/data/pdf/",
    ),
}
DEBIAN_FILES = [
    ("bzip2", "/usr/share/doc/bzip2/manual.pdf.gz", "bzip2 licence (BSD-style)"),
    ("fontconfig", "/usr/share/doc/fontconfig/fontconfig-user.pdf.gz", "MIT-style (fontconfig)"),
    ("libtasn1-doc", "/usr/share/doc/libtasn1-doc/libtasn1.pdf", "GFDL-1.3+ (libtasn1 manual)"),
    ("nettle-dev", "/usr/share/doc/nettle-dev/nettle.pdf.gz", "public domain (nettle manual)"),
    ("shared-mime-info", "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf", "GPL-2+ (shared-mime-info)"),
    ("zlib1g-dev", "/usr/share/doc/zlib1g-dev/crc-doc.1.0.pdf.gz", "see package copyright (crc-doc)"),
    ("valgrind", "/usr/share/doc/valgrind/valgrind_manual.pdf.gz", "GFDL-1.2 (valgrind manual)"),
]
_PDFJS_INTERESTING = re.compile(
    r"form|acro|sign|rotat|cjk|chinese|japan|annot|xfa|linear|objstm|broken|bad|encrypt|empty|field|"
    r"xref|damag|corrupt|cjk|type3", re.I)


def cache_dir() -> Path:
    return Path(os.environ.get("BIDSEAL_CORPUS_DIR") or Path.home() / ".cache" / "bidseal-corpus")


def _git(repo_dir: Path, *args: str) -> bytes:
    bare = (repo_dir / "HEAD").is_file() and not (repo_dir / ".git").exists()
    cmd = ["git", f"--git-dir={repo_dir}"] if bare else ["git", "-C", str(repo_dir)]
    return subprocess.run([*cmd, *args], check=True, capture_output=True).stdout


def _local_repo(mirror_root: Path | None, repo: str) -> Path | None:
    if mirror_root is None:
        return None
    owner, name = repo.split("/")
    for cand in (mirror_root / f"{owner}+{name}" / "repo", mirror_root / owner / name):
        if cand.exists():
            return cand
    return None


def _safe_name(repo: str, path: str) -> str:
    stem = path.rsplit("/", 1)[-1]
    prefix = {"mozilla/pdf.js": "pdfjs", "qpdf/qpdf": "qpdf", "MatthiasValvekens/pyHanko": "pyhanko"}[repo]
    sub = path.rsplit("/", 2)[-2] if path.count("/") >= 1 else ""
    if repo == "MatthiasValvekens/pyHanko" and sub not in ("pdf",):
        stem = f"{sub}-{stem}"
    return f"{prefix}--{re.sub(r'[^A-Za-z0-9._-]', '_', stem)}"


def select(mirror_root: Path) -> list[dict]:
    """Choose the corpus from local clones (deterministic) and the Debian manuals present."""
    entries: list[dict] = []
    for repo, (licence, prefix) in GITHUB_SOURCES.items():
        local = _local_repo(mirror_root, repo)
        if local is None:
            raise SystemExit(f"no local clone of {repo} under {mirror_root}")
        commit = _git(local, "rev-parse", "HEAD").decode().strip()
        rows = _git(local, "ls-tree", "-r", "-l", "HEAD", prefix).decode().splitlines()
        files = []
        for row in rows:
            meta, path = row.split("\t", 1)
            size = meta.split()[3]
            if path.endswith(".pdf") and size.isdigit():
                files.append((path, int(size)))
        files.sort()
        chosen: list[tuple[str, int]] = []
        if repo == "mozilla/pdf.js":
            small = [f for f in files if f[1] < 600_000]
            others = [f for f in small if not _PDFJS_INTERESTING.search(f[0].rsplit("/", 1)[-1])]
            chosen = [f for f in small if _PDFJS_INTERESTING.search(f[0].rsplit("/", 1)[-1])] + others[::16]
        elif repo == "qpdf/qpdf":
            chosen = [f for f in files if f[1] < 300_000][::12]
        else:
            chosen = [f for f in files if f[1] < 600_000]
        for path, _size in sorted(chosen):
            data = _git(local, "show", f"HEAD:{path}")
            entries.append({"name": _safe_name(repo, path), "source": f"github:{repo}@{commit}:{path}",
                            "licence": licence, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    for pkg, path, licence in DEBIAN_FILES:
        if not os.path.exists(path):
            continue
        data = _read_debian(path)
        name = "debian--" + pkg + "--" + Path(path).name.removesuffix(".gz")
        entries.append({"name": name, "source": f"debian:{pkg}:{path}", "licence": licence,
                        "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names)), "duplicate corpus names"
    return entries


def _read_debian(path: str) -> bytes:
    raw = Path(path).read_bytes()
    return gzip.decompress(raw) if path.endswith(".gz") else raw


def _fetch_one(entry: dict, mirror_root: Path | None) -> bytes:
    kind, _, rest = entry["source"].partition(":")
    if kind == "debian":
        pkg, _, path = rest.partition(":")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} (install the Debian package {pkg})")
        return _read_debian(path)
    repo_commit, _, path = rest.partition(":")
    repo, _, commit = repo_commit.partition("@")
    local = _local_repo(mirror_root, repo)
    if local is not None:
        try:
            return _git(local, "show", f"{commit}:{path}")
        except subprocess.CalledProcessError:
            pass
    url = f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"
    with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 (fixed https URL)
        return bytes(resp.read())


def load_manifest() -> list[dict]:
    return list(json.loads(MANIFEST.read_text(encoding="utf-8"))["files"])


def corpus_path(entry: dict) -> Path:
    committed = COMMITTED / entry["name"]
    return committed if committed.is_file() else cache_dir() / entry["name"]


def fetch_all(mirror_root: Path | None) -> tuple[int, list[str]]:
    """Bring every manifest file into the cache; returns (count present, problems)."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    present, problems = 0, []
    for entry in load_manifest():
        dst = corpus_path(entry)
        if dst.is_file() and hashlib.sha256(dst.read_bytes()).hexdigest() == entry["sha256"]:
            present += 1
            continue
        try:
            data = _fetch_one(entry, mirror_root)
        except Exception as exc:  # noqa: BLE001 - report and carry on with the rest
            problems.append(f"{entry['name']}: {exc}")
            continue
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['name']}: SHA-256 mismatch")
            continue
        dst = cache_dir() / entry["name"]
        dst.write_bytes(data)
        present += 1
    return present, problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--select", action="store_true", help="re-select files from local clones, write manifest.json")
    ap.add_argument("--mirror-root", type=Path, default=os.environ.get("BIDSEAL_MIRROR_ROOT"),
                    help="folder holding local clones (owner+repo/repo or owner/repo)")
    args = ap.parse_args(argv)
    mirror_root = Path(args.mirror_root) if args.mirror_root else None
    if args.select:
        if mirror_root is None:
            ap.error("--select needs --mirror-root")
        entries = select(mirror_root)
        MANIFEST.write_text(json.dumps({"files": entries}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"manifest: {len(entries)} files")
    present, problems = fetch_all(mirror_root)
    for p in problems:
        print("not fetched:", p, file=sys.stderr)
    print(f"corpus: {present} files present ({cache_dir()} + {COMMITTED})")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
