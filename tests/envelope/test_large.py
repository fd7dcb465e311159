"""A multi-GiB sparse file streams through in constant memory (marked slow; measured at
~55 s for the round trip on the 2-core CI machine's disk, so it stays in the default run)."""

from __future__ import annotations

import resource
import time

import pytest

from app.envelope import decrypt_file, encrypt_file

SIZE = (2 << 30) + 17  # past 2**31: no 32-bit offsets or counters anywhere


@pytest.mark.slow
def test_sparse_multi_gib_round_trip_in_constant_memory(pki, bidder, tmp_path):
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        f.truncate(SIZE)
    env, out = tmp_path / "big.bse", tmp_path / "big.out"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    info = encrypt_file(src, env, [pki.enc_cert], fsync=False)
    src.unlink()
    t1 = time.perf_counter()
    opened = decrypt_file(env, out, bidder, fsync=False)
    t2 = time.perf_counter()
    env.unlink()
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert out.stat().st_size == SIZE
    assert opened.plaintext_sm3 == info.plaintext_sm3
    with open(out, "rb") as f:
        for off in (0, 1 << 31, SIZE - 17):
            f.seek(off)
            assert f.read(17) == bytes(17)
    assert growth_mb < 64, f"peak RSS grew by {growth_mb:.0f} MB"
    print(f"\n2 GiB sparse: encrypt {t1 - t0:.1f} s, decrypt {t2 - t1:.1f} s, "
          f"RSS growth {growth_mb:.1f} MB")
