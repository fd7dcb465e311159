"""Envelope throughput and memory against ``openssl enc -sm4-ctr`` on the same file.

Usage::

    python tests/benchmarks/bench_envelope.py [--size 1G] [--chunk 1M] [--dir DIR] [--json]

Creates a random file of ``--size`` in ``--dir`` (default: a temporary folder), then
in the same run times ``openssl enc -sm4-ctr`` (file to file), ``encrypt_file`` and
``decrypt_file``, each in its own child process so that the peak RSS of each is its
own, ``--repeat`` times interleaved (median reported; shared VMs are noisy), with
``sync`` before each so one run's writeback does not slow the next. Like
``openssl enc``, the envelope runs skip fsync unless ``--fsync`` is given (the
library's default is to fsync before the rename). Prints throughput (MiB/s), the
ratio to OpenSSL (target >= 0.8) and peak RSS (target <= 100 MB).
``tests/envelope/test_benchmark_smoke.py`` runs it on a small file so the script
cannot rot.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.bench import openssl_command, parse_size, run_json_child  # noqa: E402

TARGET_RATIO = 0.8
TARGET_RSS_MB = 100.0


def _child(op: str, src: str, dst: str, workdir: str, chunk: int, fsync: bool) -> None:
    """Run one operation in this (child) process and print JSON timing and peak RSS."""
    sys.path.insert(0, str(ROOT))
    from app.envelope import decrypt_file, encrypt_file
    from app.gm.keyops import SoftwareUnwrapper
    from app.gm.sm2 import PrivateKey
    from app.gm.x509 import Certificate

    cert = Certificate.load(Path(workdir, "enc-cert.pem").read_bytes())
    t0 = time.perf_counter()
    if op == "encrypt":
        encrypt_file(src, dst, [cert], chunk_size=chunk, fsync=fsync)
    else:
        key = PrivateKey.from_pem(Path(workdir, "enc-key.pem").read_bytes())
        decrypt_file(src, dst, SoftwareUnwrapper(cert, key), fsync=fsync)
    elapsed = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"op": op, "seconds": elapsed, "peak_rss_mb": rss_kb / 1024}))


def _run_child(op: str, src: Path, dst: Path, workdir: Path, chunk: int, fsync: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", op, str(src), str(dst), str(workdir),
           str(chunk), "1" if fsync else "0"]
    return run_json_child(cmd, ROOT)


def _openssl(src: Path, dst: Path) -> float:
    exe = openssl_command()
    t0 = time.perf_counter()
    subprocess.run([exe, "enc", "-sm4-ctr", "-K", "00112233445566778899aabbccddeeff",
                    "-iv", "000102030405060708090a0b0c0d0e0f", "-in", str(src),
                    "-out", str(dst)], check=True)
    return time.perf_counter() - t0


def _make_input(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
            block = block[1:] + block[:1] if left else block  # avoid identical blocks


def run(size: int, chunk: int, workdir: Path, fsync: bool, repeat: int = 1) -> dict:
    sys.path.insert(0, str(ROOT))
    from app.demo.pki import demo_pki

    pki = demo_pki()
    (workdir / "enc-cert.pem").write_bytes(pki.enc_cert.pem)
    (workdir / "enc-key.pem").write_bytes(pki.enc_key.to_pem())
    src, env, out, ossl = (workdir / n for n in ("plain.bin", "plain.env", "plain.out", "plain.ctr"))
    _make_input(src, size)
    mib = size / (1 << 20)
    t_ossl_runs, encs, decs = [], [], []
    for _ in range(repeat):
        os.sync()
        t_ossl_runs.append(_openssl(src, ossl))
        ossl.unlink()
        os.sync()
        encs.append(_run_child("encrypt", src, env, workdir, chunk, fsync))
        os.sync()
        decs.append(_run_child("decrypt", env, out, workdir, chunk, fsync))
        if os.path.getsize(out) != size:
            raise SystemExit("round trip size mismatch")
        for p in (env, out):
            p.unlink()
    t_ossl = statistics.median(t_ossl_runs)
    enc = {"seconds": statistics.median(r["seconds"] for r in encs),
           "peak_rss_mb": max(r["peak_rss_mb"] for r in encs)}
    dec = {"seconds": statistics.median(r["seconds"] for r in decs),
           "peak_rss_mb": max(r["peak_rss_mb"] for r in decs)}

    def rate(seconds: float) -> float:
        return mib / seconds if seconds > 0 else float("inf")

    result = {
        "size_bytes": size,
        "chunk_size": chunk,
        "fsync": fsync,
        "repeat": repeat,
        "cpus": os.cpu_count(),
        "openssl_sm4_ctr_mib_s": rate(t_ossl),
        "encrypt_mib_s": rate(enc["seconds"]),
        "decrypt_mib_s": rate(dec["seconds"]),
        "encrypt_ratio": rate(enc["seconds"]) / rate(t_ossl),
        "decrypt_ratio": rate(dec["seconds"]) / rate(t_ossl),
        "encrypt_peak_rss_mb": enc["peak_rss_mb"],
        "decrypt_peak_rss_mb": dec["peak_rss_mb"],
    }
    result["meets_targets"] = bool(
        min(result["encrypt_ratio"], result["decrypt_ratio"]) >= TARGET_RATIO
        and max(result["encrypt_peak_rss_mb"], result["decrypt_peak_rss_mb"]) <= TARGET_RSS_MB
    )
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        op, src, dst, workdir, chunk, fsync = argv[1:7]
        _child(op, src, dst, workdir, int(chunk), fsync == "1")
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1G", help="plaintext size, e.g. 1G, 256M (default 1G)")
    ap.add_argument("--chunk", default="1M", help="envelope chunk size (default 1M)")
    ap.add_argument("--dir", help="work folder (default: a new temporary folder)")
    ap.add_argument("--fsync", action="store_true", help="fsync the envelope outputs (library default)")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs, median reported (default 3)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    size, chunk = parse_size(args.size), parse_size(args.chunk)
    with tempfile.TemporaryDirectory(prefix="bench-envelope-", dir=args.dir) as tmp:
        result = run(size, chunk, Path(tmp), args.fsync, max(1, args.repeat))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"file {size / (1 << 20):.0f} MiB, chunk {chunk >> 10} KiB, fsync {result['fsync']}, "
              f"median of {result['repeat']}, {result['cpus']} CPUs")
        print(f"openssl enc -sm4-ctr : {result['openssl_sm4_ctr_mib_s']:8.1f} MiB/s")
        print(f"encrypt_file         : {result['encrypt_mib_s']:8.1f} MiB/s  "
              f"ratio {result['encrypt_ratio']:.2f}x  peak RSS {result['encrypt_peak_rss_mb']:.1f} MB")
        print(f"decrypt_file         : {result['decrypt_mib_s']:8.1f} MiB/s  "
              f"ratio {result['decrypt_ratio']:.2f}x  peak RSS {result['decrypt_peak_rss_mb']:.1f} MB")
        print(f"targets (ratio >= {TARGET_RATIO}, RSS <= {TARGET_RSS_MB:.0f} MB): "
              f"{'met' if result['meets_targets'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
