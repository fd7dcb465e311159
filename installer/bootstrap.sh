#!/usr/bin/env bash
# BidSeal bootstrap for a fresh Debian 12 (or UOS/Kylin) machine and for CI.
#
#   bash installer/bootstrap.sh demo   # install everything, then run `bidseal demo`
#   bash installer/bootstrap.sh test   # install everything, then run the whole test suite
#
# It installs what is missing and nothing else: Debian packages (as root, or via
# sudo), a virtual environment in .venv with BidSeal and its Python dependencies,
# and the native virtual UKey (native/softskf). Re-running it is cheap.
set -euo pipefail

mode=${1:-test}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# -- Debian packages ---------------------------------------------------------------
apt_packages() {
  # Base: Python, native build, OpenSSL 3 (libcrypto for SM2 and softskf), Qt offscreen,
  # a CJK font. Feature lists live beside this script, one package per line.
  cat <<'PKGS'
python3
python3-venv
python3-dev
gcc
make
libc6-dev
libssl-dev
openssl
ca-certificates
libpcsclite-dev
valgrind
libegl1
libgl1
libxkbcommon0
libfontconfig1
libdbus-1-3
libglib2.0-0
fontconfig
fonts-wqy-microhei
poppler-utils
PKGS
  cat installer/linux/*-deps.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d'
}

install_apt() {
  command -v dpkg-query >/dev/null 2>&1 || { log "not a Debian-based system: install the packages in installer/bootstrap.sh by hand"; return 0; }
  local missing=()
  while read -r pkg; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < <(apt_packages | sort -u)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { log "need root or sudo to install: ${missing[*]}"; exit 2; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=900 update -q
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
}

# -- Python environment ------------------------------------------------------------
install_python() {
  local py=${BIDSEAL_PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $($py --version)"
    "$py" -m venv .venv
  fi
  local stamp=.venv/.bidseal-installed
  local want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing Python packages (pip install -e .[dev])"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    echo "$want" > "$stamp"
  fi
}

# -- native virtual UKey -------------------------------------------------------------
build_native() {
  if [ -f native/softskf/Makefile ]; then
    make -s -C native/softskf
  fi
}

install_apt
install_python
build_native

case "$mode" in
  demo)
    exec .venv/bin/bidseal demo "$@"
    ;;
  test)
    exec .venv/bin/python -m pytest "$@"
    ;;
  install-only)
    log "ready: .venv/bin/bidseal"
    ;;
  *)
    log "usage: bash installer/bootstrap.sh demo|test|install-only [args...]"
    exit 2
    ;;
esac
