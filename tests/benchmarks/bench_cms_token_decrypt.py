"""GM/T 0010 EnvelopedData decrypted with a UKey: SM2 and device operations, before/after.

Usage::

    python tests/benchmarks/bench_cms_token_decrypt.py [--sizes 64K,10M] [--before-max 10M] [--json]

Provisions the virtual UKey (libsoftskf, through the real loader and token host),
encrypts random content of each size to its encryption certificate as GM/T 0010
EnvelopedData (SM4-CBC), and decrypts it in the same run two ways:

* **before**: the per-64-byte path (``SessionKeyUnwrapper.unwrap`` only: every 64
  bytes are one ``SKF_ImportSessionKey`` = one SM2 decryption in the key, plus
  ``DecryptInit``/``Decrypt``/``CloseHandle``);
* **after**: ``Session.decryptor`` (one ``SKF_ImportSessionKey``, then
  ``DecryptInit(IV)``, ``DecryptUpdate`` per MaxBufferSize bytes, ``DecryptFinal``).

Reports, per size and path: SM2 operations in the key, SKF calls, token-host round
trips and wall time. A real key adds a USB transaction (milliseconds) per SKF call
and tens of milliseconds per SM2 decryption, so the counts are what matter there; the
times here are the virtual key's. ``--before-max`` skips the slow path above that size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.bench import parse_size  # noqa: E402

PIN = "11223344"


class _OnlyUnwrap:
    """The session's unwrapper without bulk CBC: what the decrypt path did before."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.unwraps = 0

    @property
    def certificate(self) -> Any:
        return self._inner.certificate

    def unwrap(self, wrapped: Any, data: bytes) -> bytes:
        self.unwraps += 1
        return self._inner.unwrap(wrapped, data)  # type: ignore[no-any-return]


def _count_calls(host: Any, chunk: int) -> tuple[Counter[str], Counter[str]]:
    """Count host round trips by op, and the SKF calls they make, on ``host``."""
    ops: Counter[str] = Counter()
    skf: Counter[str] = Counter()
    real = host.call
    names = {"import_session_key": "SKF_ImportSessionKey", "decrypt_init": "SKF_DecryptInit",
             "decrypt": "SKF_Decrypt", "decrypt_final": "SKF_DecryptFinal", "close": "SKF_CloseHandle"}

    def call(op: str, *args: Any, **kw: Any) -> Any:
        ops[op] += 1
        if op == "decrypt_stream":
            skf["SKF_DecryptUpdate"] += -(-len(args[1]) // int(args[2]))
        elif op in names:
            skf[names[op]] += 1
        return real(op, *args, **kw)

    host.call = call
    return ops, skf


def run(sizes: list[int], before_max: int) -> dict[str, Any]:
    from app.gm import cms
    from app.token.device import find_identity
    from app.token.host_client import HostPool
    from app.token.session import open_session
    from app.token.softkey import init_softkey

    subprocess.run(["make", "-C", str(ROOT / "native" / "softskf")], check=True, capture_output=True)
    lib = str(ROOT / "native" / "softskf" / "build" / "libsoftskf.so")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-cms-") as tmp:
        os.environ.setdefault("BIDSEAL_HOME", str(Path(tmp) / "home"))  # a script run keeps the user's folders clean
        init_softkey(Path(tmp) / "store", "BENCH-KEY", PIN, "admin-9876", Path(tmp) / "pki", library=lib)
        pool = HostPool()
        pool.env["SOFTSKF_STORE"] = str(Path(tmp) / "store")
        try:
            ident = find_identity(lib, "BENCH-KEY", pool=pool)
            assert ident.enc_certificate is not None
            for size in sizes:
                content = os.urandom(size)
                der = cms.envelope(content, [ident.enc_certificate])
                for path in ("before", "after"):
                    if path == "before" and size > before_max:
                        results.append({"size": size, "path": path, "skipped": True})
                        continue
                    with open_session(ident, PIN, pool=pool) as s:
                        chunk = ident.device_info.max_buffer_size if ident.device_info else 0
                        ops, skf = _count_calls(s.host, chunk or 2048)
                        key = _OnlyUnwrap(s.unwrapper) if path == "before" else s.unwrapper
                        t0 = time.perf_counter()
                        plain = cms.open_envelope(der, key)
                        seconds = time.perf_counter() - t0
                        del s.host.call
                    assert plain == content
                    results.append({
                        "size": size, "path": path, "seconds": round(seconds, 3),
                        "sm2_operations": skf["SKF_ImportSessionKey"],
                        "skf_calls": sum(skf.values()), "host_round_trips": sum(ops.values()),
                        "skf": dict(skf),
                    })
        finally:
            pool.close()
    return {"results": results}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="64K,10M")
    ap.add_argument("--before-max", default="10M", help="skip the per-64-byte path above this size")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    report = run(sizes, parse_size(args.before_max))
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{'size':>10} {'path':>7} {'SM2 ops':>8} {'SKF calls':>10} {'host trips':>10} {'seconds':>8}")
    for r in report["results"]:
        if r.get("skipped"):
            print(f"{r['size']:>10} {r['path']:>7}  (skipped: --before-max)")
            continue
        print(f"{r['size']:>10} {r['path']:>7} {r['sm2_operations']:>8} {r['skf_calls']:>10} "
              f"{r['host_round_trips']:>10} {r['seconds']:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
