"""The Debian packages a frozen BidSeal folder links against (for the .deb's Depends).

Why not dpkg-shlibdeps: it wants a debian/ source tree and treats the bundle's private
copies of libraries (Qt, libpython) as errors. Here: every ELF file in the bundle is run
through ``ldd`` with the bundle's own library folders first, libraries that resolve inside
the bundle are skipped, and each one that resolves to the system is mapped to its package
with ``dpkg -S``. libc6 gets the build machine's version as a lower bound (glibc symbol
versions); the others have no bound (their sonames already pin the ABI).

    python3 installer/linux/deb_depends.py dist/bidseal      # prints "libc6 (>= 2.36), libx11-6, ..."
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def elf_files(bundle: Path) -> list[Path]:
    out = []
    for p in bundle.rglob("*"):
        if p.is_file() and not p.is_symlink():
            with p.open("rb") as f:
                if f.read(4) == ELF_MAGIC:
                    out.append(p)
    return sorted(out)


def system_libraries(bundle: Path) -> tuple[set[str], set[str]]:
    """(resolved system library paths, sonames ldd could not find anywhere)."""
    bundle = bundle.resolve()
    lib_dirs = sorted({str(p.parent) for p in elf_files(bundle)})
    env = dict(os.environ, LD_LIBRARY_PATH=os.pathsep.join(lib_dirs), LC_ALL="C")
    found: set[str] = set()
    missing: set[str] = set()
    for f in elf_files(bundle):
        r = subprocess.run(["ldd", str(f)], capture_output=True, text=True, env=env, check=False)
        for line in r.stdout.splitlines():
            parts = line.strip().split()
            if "=>" not in parts:
                continue
            target = parts[parts.index("=>") + 1]
            if target == "not":
                missing.add(parts[0])
            elif target.startswith("/") and not Path(target).resolve().is_relative_to(bundle):
                found.add(target)
    return found, missing


def owning_packages(paths: set[str]) -> dict[str, str]:
    """library path -> Debian package (multiarch suffix dropped)."""
    out: dict[str, str] = {}
    for p in sorted(paths):
        candidates = [p, str(Path(p).resolve())]
        if p.startswith("/lib/"):
            candidates.append("/usr" + p)  # merged /usr: dpkg knows the /usr/lib name
        for c in candidates:
            r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True, check=False)
            if r.returncode == 0:
                out[p] = r.stdout.split(":", 1)[0].strip()
                break
    return out


def package_version(pkg: str) -> str:
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, check=True)
    return r.stdout.split("-")[0].split("+")[0]


def depends(bundle: Path) -> tuple[list[str], list[str]]:
    """(Depends entries, problems: libraries missing or owned by no package)."""
    libs, missing = system_libraries(bundle)
    owners = owning_packages(libs)
    problems = [f"not found by ldd: {m}" for m in sorted(missing)]
    problems += [f"no Debian package owns {p}" for p in sorted(libs - owners.keys())]
    pkgs = sorted(set(owners.values()))
    entries = [f"{p} (>= {package_version(p)})" if p == "libc6" else p for p in pkgs]
    return entries, problems


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    entries, problems = depends(Path(argv[0]))
    for p in problems:
        print(f"deb_depends: {p}", file=sys.stderr)
    print(", ".join(entries))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
