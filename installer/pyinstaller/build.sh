#!/usr/bin/env bash
# Build the one-folder frozen BidSeal (Linux) into dist/bidseal/.
#
#   bash installer/pyinstaller/build.sh            # build venv + native virtual key + PyInstaller
#
# The build venv (build/pyinstaller/venv) holds BidSeal's runtime dependencies from
# pyproject.toml and PyInstaller only: nothing from the dev extra can leak into the bundle.
# Python: BIDSEAL_BUILD_PYTHON, else Debian's /usr/bin/python3 (the target's glibc baseline
# is the build machine's: build on the oldest system you ship to).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
log() { printf '[build] %s\n' "$*" >&2; }

py=${BIDSEAL_BUILD_PYTHON:-/usr/bin/python3}
venv=build/pyinstaller/venv
req=build/pyinstaller/requirements.txt

mkdir -p build/pyinstaller
# Runtime dependencies exactly as pyproject.toml lists them, plus the packaging tool.
"$py" installer/pyinstaller/manifest.py requirements >"$req.new"
cat installer/pyinstaller/requirements.txt >>"$req.new"
mv "$req.new" "$req"

if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv with $("$py" --version)"
  "$py" -m venv "$venv"
fi
want=$(cat "$req" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]; then
  log "installing runtime dependencies and PyInstaller"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$req"
  echo "$want" >"$venv/.stamp"
fi

log "building the virtual UKey (native/softskf)"
make -s -C native/softskf

log "running PyInstaller"
start=$(date +%s)
"$venv/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller/work installer/pyinstaller/bidseal.spec
"$venv/bin/python" installer/pyinstaller/check_bundle.py dist/bidseal ${BIDSEAL_NO_SOFTSKF:+--no-softskf}
log "dist/bidseal ready in $(( $(date +%s) - start )) s, $(du -sh dist/bidseal | cut -f1)"
