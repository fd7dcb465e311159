"""A tiny run of tests/benchmarks/bench_verify_annots.py, so the benchmark cannot rot
(numbers are reported by the script, not asserted here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_annotation_heavy_verify_benchmark_runs() -> None:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_verify_annots.py"
    spec = importlib.util.spec_from_file_location("bench_verify_annots", path)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    res = bench.run(300, repeat=1, signatures=2)
    assert res["annotations"] == 300 and res["mupdf_listed"] == 302  # 300 squares + 2 seal widgets
    assert res["status"] == "valid"
    assert res["signatures"] == [("Sig1", "valid", "signature_added"), ("Sig2", "valid", "none")]
    assert res["verify_seconds"] > 0 and res["verify_cpu_seconds"] > 0
