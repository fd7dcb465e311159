"""The GUI envelope benchmark keeps running: a tiny envelope, one run, numbers reported
(not asserted: they belong to the benchmark on an idle machine)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest


@pytest.mark.timeout(900)
def test_gui_envelope_benchmark_runs(tmp_path: Path) -> None:
    path = Path(__file__).with_name("bench_gui_envelope.py")
    spec = importlib.util.spec_from_file_location("bench_gui_envelope", path)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    saved = os.environ.copy()  # run() points this process at its own home, store and SKF library
    try:
        report = bench.run(4, 1, tmp_path / "bench")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert report["mb"] == 4 and report["cli_s"]["best"] > 0 and report["gui_s"]["best"] > 0
    assert report["max_gap_ms"]["best"] >= 0 and set(report["meets"]) == {"ratio", "max_gap_ms"}
