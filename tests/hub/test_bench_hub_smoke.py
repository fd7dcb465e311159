"""tests/benchmarks/bench_hub.py keeps running: a tiny run (numbers not asserted, errors are)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_login_load_benchmark_runs() -> None:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_hub.py"
    spec = importlib.util.spec_from_file_location("bench_hub", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    report = mod.run(flows=4, bidders=2)
    assert report["errors"] == 0, report["error_samples"]
    assert set(report["latency_ms"]) >= set(mod.STEPS)
    assert report["latency_ms"]["feedbackResult (trading system)"]["p50"] > 0
