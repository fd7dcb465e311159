"""Crypto benchmark: BidSeal's SM3/SM4/SM2 against OpenSSL on the same machine, same run.

Run: ``python tests/benchmarks/bench_crypto.py [--mb 256] [--seconds 2] [--json]``.

What is compared (each pair on the same data, in this one run):
- SM3: our streaming SM3 over a file (1 MiB reads) vs ``openssl dgst -sm3 FILE``;
- SM4: our streaming SM4-CTR and SM4-GCM file-to-file vs ``openssl enc -sm4-ctr``;
- SM2: sign/verify rate of each backend vs ``openssl speed sm2``.
Targets from the issue: SM3 and SM4 >= 0.8x OpenSSL, SM2 verify >= 1000/s.
Numbers are reported, not asserted; the test suite runs a tiny smoke version.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.gm import sm2, sm4
from app.gm.sm3 import SM3

CHUNK = 1 << 20


def _best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _make_file(path: Path, mb: int) -> None:
    block = os.urandom(CHUNK)
    with path.open("wb") as f:
        for _ in range(mb):
            f.write(block)


def _our_sm3(path: Path) -> bytes:
    h = SM3()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.digest()


def _our_stream(path: Path, out: Path, stream) -> None:
    buf = bytearray(CHUNK)
    outbuf = bytearray(CHUNK + 32)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f, out.open("wb") as g:
        while n := f.readinto(buf):
            m = stream.update_into(view[:n], outbuf)
            g.write(memoryview(outbuf)[:m])
        g.write(stream.finalize())


class _CTRInto:
    def __init__(self) -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self._ctx = Cipher(algorithms.SM4(bytes(16)), modes.CTR(bytes(16))).encryptor()

    def update_into(self, data, out) -> int:
        return self._ctx.update_into(data, out)

    def finalize(self) -> bytes:
        return self._ctx.finalize()


def _rate(fn, seconds: float) -> float:
    n = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        n += 1
    return n / elapsed


def _openssl_speed_sm2(seconds: int) -> tuple[float, float]:
    out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "sm2"],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"SM2 \(CurveSM2\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    if not m:
        raise RuntimeError("cannot parse `openssl speed sm2` output:\n" + out)
    return float(m.group(1)), float(m.group(2))


def run(mb: int, seconds: float, repeat: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "data.bin"
        dst = Path(tmp) / "out.bin"
        _make_file(src, mb)
        size = mb * CHUNK

        ours = _best_of(lambda: _our_sm3(src), repeat)
        ref = _best_of(lambda: subprocess.run(["openssl", "dgst", "-sm3", str(src)],
                                              check=True, capture_output=True), repeat)
        results["sm3"] = {"ours_MBps": size / ours / 1e6, "openssl_MBps": size / ref / 1e6, "ratio": ref / ours}

        ref = _best_of(lambda: subprocess.run(
            ["openssl", "enc", "-sm4-ctr", "-K", "00" * 16, "-iv", "00" * 16, "-in", str(src), "-out", str(dst)],
            check=True, capture_output=True), repeat)
        ours = _best_of(lambda: _our_stream(src, dst, _CTRInto()), repeat)
        results["sm4_ctr"] = {"ours_MBps": size / ours / 1e6, "openssl_MBps": size / ref / 1e6, "ratio": ref / ours}
        ours = _best_of(lambda: _our_stream(src, dst, sm4.GCMEncryptStream(bytes(16), bytes(12))), repeat)
        results["sm4_gcm_vs_openssl_ctr"] = {"ours_MBps": size / ours / 1e6, "openssl_MBps": size / ref / 1e6,
                                             "ratio": ref / ours}

    o_sign, o_verify = _openssl_speed_sm2(max(1, int(seconds)))
    msg_e = bytes(range(32))
    for name in sm2.available_backends():
        key = sm2.PrivateKey.generate()
        sig = sm2.sign_digest(key, msg_e, backend=name)
        secs = seconds if name == "openssl" else min(seconds, 1.0)
        s_rate = _rate(lambda k=key, b=name: sm2.sign_digest(k, msg_e, backend=b), secs)
        v_rate = _rate(lambda k=key, s=sig, b=name: sm2.verify_digest(k.public_key, msg_e, s, backend=b), secs)
        results[f"sm2_{name}"] = {"sign_per_s": s_rate, "verify_per_s": v_rate,
                                  "openssl_speed_sign_per_s": o_sign, "openssl_speed_verify_per_s": o_verify,
                                  "sign_ratio": s_rate / o_sign, "verify_ratio": v_rate / o_verify}
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=256, help="file size in MiB (default 256)")
    ap.add_argument("--seconds", type=float, default=2.0, help="time per SM2 rate measurement")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for file throughput")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = run(args.mb, args.seconds, args.repeat)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    for name, vals in res.items():
        print(f"{name:26s} " + "  ".join(f"{k}={v:,.2f}" for k, v in vals.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
