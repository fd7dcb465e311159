"""The benchmark scripts must keep running: a tiny run of each, numbers not asserted."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def _load(name: str):
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(name[:-3], path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_crypto_benchmark_runs() -> None:
    res = _load("bench_crypto.py").run(mb=2, seconds=0.2, repeat=1)
    assert set(res) >= {"sm3", "sm4_ctr", "sm4_gcm_vs_openssl_ctr", "sm2_openssl", "sm2_gmssl"}
    assert all(v > 0 for vals in res.values() for v in vals.values())


def test_cms_token_decrypt_benchmark_runs() -> None:
    """Counts, not times: the per-64-byte path needs one SM2 operation per 64 bytes, the
    streaming path one in all."""
    res = _load("bench_cms_token_decrypt.py").run([1000], before_max=1000)["results"]
    before, after = res
    assert before["path"] == "before" and before["sm2_operations"] == 16  # 1008 padded bytes / 64
    assert after["path"] == "after" and after["sm2_operations"] == 1
    assert after["skf_calls"] < before["skf_calls"] and after["host_round_trips"] < before["host_round_trips"]
