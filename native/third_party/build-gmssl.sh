#!/usr/bin/env bash
# Build the GmSSL 3 command line from the vendored source, for the interop tests only
# (BidSeal never links it). Prints the path of the `gmssl` executable.
#
#   bash native/third_party/build-gmssl.sh      # ~20 s on two cores; cached afterwards
#
# Source: github.com/guanzhi/GmSSL at commit 24ae482 (3.3.0-dev, Apache-2.0), `git archive`
# without docs/demos. GmSSL is not a Debian package, hence the vendored tarball.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src_tgz="$here/GmSSL-24ae482.tar.gz"
out="$here/build/GmSSL-24ae482"
exe="$out/build/bin/gmssl"
if [ ! -x "$exe" ]; then
  command -v cmake >/dev/null || { echo "cmake is needed to build GmSSL (apt install cmake)" >&2; exit 2; }
  rm -rf "$out" && mkdir -p "$here/build"
  tar -xzf "$src_tgz" -C "$here/build"
  cmake -S "$out" -B "$out/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF >"$out/cmake.log" 2>&1 \
    || { tail -20 "$out/cmake.log" >&2; exit 1; }
  cmake --build "$out/build" -j "$(nproc)" --target gmssl-bin >>"$out/cmake.log" 2>&1 \
    || cmake --build "$out/build" -j "$(nproc)" >>"$out/cmake.log" 2>&1 \
    || { tail -20 "$out/cmake.log" >&2; exit 1; }
fi
"$exe" version >/dev/null
echo "$exe"
