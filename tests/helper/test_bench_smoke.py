"""bench_helper.py keeps running: a tiny run; behaviour checked (every login answered with a
token the hub verifier accepts, no error), the timing numbers are only printed."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_helper_benchmark_runs() -> None:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_helper.py"
    spec = importlib.util.spec_from_file_location("bench_helper", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    report = mod.run(requests=40, concurrency=8, rate=0, tokens=10, saturate=False)
    assert report["login"]["ok"] == 40 and report["login"]["errors"] == 0
    assert report["verifier"]["tokens_per_s_1_thread"] > 0
