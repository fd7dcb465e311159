"""Keeps tests/benchmarks/bench_pdf_seal.py and the README sample from rotting (tiny sizes)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pymupdf

from app.pdfsign import KeywordPlacement, Seal, seal_pdf

REPO = Path(__file__).resolve().parents[2]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_runs_at_tiny_size():
    bench = _load(REPO / "tests" / "benchmarks" / "bench_pdf_seal.py", "bench_pdf_seal")
    r = bench.run(pages=4, mb=0.2)
    assert r["pages"] == 4 and r["seal_s"] > 0 and r["baseline_s"] > 0 and r["ratio"] > 0
    assert r["verifier_ran"] is True  # the default seal includes the full verifier
    assert r["builtin_only_verifier_ran"] is False  # verify=False skips it (built-in checks only)
    assert r["peak_rss_kb"] > 0 and r["builtin_only_seal_s"] > 0


def test_sample_bid_is_reproducible_and_sealable(tmp_path, signer, seal_png, pki, validate_pyhanko):
    gen = _load(REPO / "resources" / "samples" / "make_sample_bid.py", "make_sample_bid")
    out = gen.build(tmp_path / "bid-sample.pdf")
    committed = REPO / "resources" / "samples" / "bid-sample.pdf"
    assert out.read_bytes() == committed.read_bytes(), "re-run resources/samples/make_sample_bid.py"
    doc = pymupdf.open(out)
    assert doc.page_count >= 5
    assert doc[-1].search_for("投标人（盖章）") and doc[-1].search_for("法定代表人（签字或盖章）")
    doc.close()
    sealed = tmp_path / "sealed.pdf"
    seal_pdf(out, sealed, signer, [Seal(KeywordPlacement("投标人（盖章）"), seal_png),
                                   Seal(KeywordPlacement("法定代表人（签字或盖章）", size_mm=20), seal_png)])
    assert all(r["intact"] and r["valid"] and r["trusted"] for r in validate_pyhanko(sealed, [pki.root_cert]))
