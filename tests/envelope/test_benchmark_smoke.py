"""The benchmark script still runs (tiny size, one repeat), so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_envelope.py"


def test_benchmark_script_smoke(tmp_path):
    out = subprocess.run([sys.executable, str(BENCH), "--size", "2M", "--chunk", "256K",
                          "--repeat", "1", "--dir", str(tmp_path), "--json"],
                         capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout)
    assert result["size_bytes"] == 2 << 20 and result["chunk_size"] == 256 << 10
    for key in ("openssl_sm4_ctr_mib_s", "encrypt_mib_s", "decrypt_mib_s", "encrypt_ratio",
                "decrypt_peak_rss_mb"):
        assert result[key] > 0
    assert list(tmp_path.iterdir()) == []
