#!/usr/bin/env python3
"""Make and sign a BidSeal update manifest (release engineering; see
``resources/docs/update-manifest.md``).

Computes each installer's size and SM3 from the file itself (a typed hash is the kind
of mistake that ships a package every client refuses), writes ``OUT`` and ``OUT.sig``
(SM2 with SM3, default ID, DER) through temporary files, then checks the pair with the
same code BidSeal runs, so a manifest this tool writes is one the clients accept.

    python installer/release/sign_update_manifest.py --key release.key.pem --version 0.2.0 \\
        --package linux-amd64-deb=dist/bidseal_0.2.0_amd64.deb=https://updates.example.cn/bidseal_0.2.0_amd64.deb \\
        --notes-zh "……" --notes-en "…" --out stable.json

The private key (PEM, unencrypted PKCS#8 or SEC1 SM2 key) stays on the release machine;
with a passphrase-protected key, sign the written manifest with ``openssl pkeyutl``
instead (the doc shows the command).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.atomic import write_atomic  # noqa: E402
from app.errors import BidSealError  # noqa: E402
from app.gm.sm2 import PrivateKey  # noqa: E402
from app.gm.sm3 import SM3  # noqa: E402
from app.update import Package, build_manifest, key_id, shipped_keys, sign_manifest, verify_manifest  # noqa: E402


def package_entry(spec: str) -> Package:
    """``PLATFORM=FILE=URL`` -> a package entry with the file's size and SM3."""
    try:
        platform, file, url = spec.split("=", 2)
    except ValueError:
        raise SystemExit(f"--package must be PLATFORM=FILE=URL: {spec}") from None
    path = Path(file)
    h, size = SM3(), 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return Package(platform, url, size, h.hexdigest(), path.name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--key", required=True, help="release private key (PEM)")
    p.add_argument("--version", required=True)
    p.add_argument("--package", action="append", required=True, metavar="PLATFORM=FILE=URL")
    p.add_argument("--notes-zh", required=True)
    p.add_argument("--notes-en", required=True)
    p.add_argument("--page", help="https page about the release")
    p.add_argument("--valid-days", type=int, default=30, help="days until the manifest expires (default 30)")
    p.add_argument("--published", help="UTC time YYYY-MM-DDThh:mm:ssZ (default: now)")
    p.add_argument("--out", required=True, help="manifest file to write (the signature goes to OUT.sig)")
    args = p.parse_args(argv)

    key = PrivateKey.from_pem(Path(args.key).read_bytes())
    published = (datetime.strptime(args.published, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if args.published
                 else datetime.now(UTC).replace(microsecond=0))
    try:
        data = build_manifest(version=args.version, published=published,
                              expires=published + timedelta(days=args.valid_days),
                              packages=[package_entry(s) for s in args.package],
                              notes_zh=args.notes_zh, notes_en=args.notes_en, page=args.page)
        signature = sign_manifest(key, data)
        verify_manifest(data, signature, keys=[key.public_key], current="0", now=published)
    except BidSealError as exc:
        print(f"error: {exc.en}", file=sys.stderr)
        return 2
    out = Path(args.out)
    write_atomic(out, data)
    write_atomic(out.with_name(out.name + ".sig"), signature)
    kid = key_id(key.public_key)
    shipped = {key_id(k) for k in shipped_keys()}
    print(f"wrote {out} and {out.name}.sig (key {kid}, expires {published + timedelta(days=args.valid_days):%Y-%m-%d})")
    if kid not in shipped:
        print(f"warning: key {kid} is not among the keys this source tree ships ({', '.join(sorted(shipped))}); "
              "installed clients will refuse this manifest", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
