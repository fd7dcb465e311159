#!/usr/bin/env bash
# Install the .deb for real on this Debian machine, use it from /usr/bin as a bidder would,
# then remove it and check nothing is left. Needs root (apt-get); not part of the test suite
# (it changes the system). Run after build.sh + build-deb.sh:
#
#   bash installer/linux/test-deb.sh [dist/bidseal_*.deb]
#
# Steps: apt-get install ./DEB (dependencies from Debian) - bidseal --version - the virtual
# UKey is OFF by default (token list finds no key) - pki demo - softkey init (explicit
# opt-in) - sign the sample bid with the PIN from stdin - verify it against the demo root
# (exit 0), verify a tampered copy (exit 1) - the full `bidseal demo` - the GUI opened from
# the .desktop Exec line under Xvfb, waiting until the sealed PDF is open (title), with a
# screenshot - MIME type and autostart registered - apt-get remove --purge - nothing of
# the package left. A fresh HOME is used, so the user's files are untouched.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
deb=${1:-$(ls -t "$root"/dist/bidseal_*.deb | head -1)}
deb=$(readlink -f "$deb")
out=${BIDSEAL_TEST_OUT:-$root/build/test-deb}
log() { printf '[test-deb] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (installs a package)"
dpkg-query -W -f='${Status}' bidseal 2>/dev/null | grep -q "install ok installed" && fail "bidseal is already installed"

rm -rf "$out" && mkdir -p "$out"
work=$(mktemp -d /tmp/bidseal-test-deb.XXXXXX)
export HOME=$work/home LANG=C.UTF-8
mkdir -p "$HOME"
unset BIDSEAL_HOME BIDSEAL_SOFTKEY BIDSEAL_SOFTSKF_LIB BIDSEAL_SKF_LIB PYTHONPATH VIRTUAL_ENV
export SOFTSKF_STORE=$work/softskf
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log "installing $deb"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "$deb" \
  >"$out/apt-install.log" 2>&1 || { tail -20 "$out/apt-install.log"; fail "apt-get install"; }
trap 'DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -q bidseal >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

[ "$(command -v bidseal)" = /usr/bin/bidseal ] || fail "bidseal is not /usr/bin/bidseal"
# dpkg's triggers (shared-mime-info, desktop-file-utils) ran: the .bse type is in the MIME
# database and the desktop entry is offered for it and for PDFs.
grep -q 'application/x-bidseal-envelope' /usr/share/mime/globs2 || fail ".bse MIME type not in the MIME database"
grep -q '^application/x-bidseal-envelope=.*bidseal.desktop' /usr/share/applications/mimeinfo.cache \
  || fail "bidseal.desktop not registered for .bse"
grep -q '^application/pdf=.*bidseal.desktop' /usr/share/applications/mimeinfo.cache || fail "bidseal.desktop not offered for PDFs"
[ -f /etc/xdg/autostart/bidseal-helper.desktop ] || fail "autostart entry missing"
log "MIME: *.bse -> application/x-bidseal-envelope, bidseal.desktop offered for it and PDFs; autostart entry present"
cd "$work"
v=$(bidseal --version); [ "$v" = "bidseal $(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/app/__init__.py")" ] || fail "version: $v"
log "$v from $(readlink -f /usr/bin/bidseal)"

# The demo key must stay off unless enabled on purpose.
set +e; bidseal token list --json >"$out/token-list-default.json" 2>&1; rc=$?; set -e
[ $rc = 1 ] || fail "token list without any key: exit $rc (want 1: no key)"
grep -qi softskf "$out/token-list-default.json" && fail "the virtual UKey is visible without opt-in"
log "virtual UKey off by default: token list exit 1, no softskf"

bidseal pki demo --out "$work/pki" --json >"$out/pki.json"
[ -s "$work/pki/root.pem" ] || fail "pki demo wrote no root.pem"
bidseal softkey init --json >"$out/softkey-init.json"
bidseal token list --json >"$out/token-list.json"
grep -q '"demo": true' "$out/token-list.json" || fail "token list after softkey init shows no demo key"
sample=/opt/bidseal/_internal/resources/samples/bid-sample.pdf
echo 12345678 | bidseal sign "$sample" -o "$work/sealed.pdf" --keyword "投标人（盖章）" --cross-page --pin-stdin \
  --json >"$out/sign.json"
root_pem=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["demo_root"]["path"])' "$out/softkey-init.json")
bidseal verify "$work/sealed.pdf" --trust "$root_pem" --json >"$out/verify.json" || fail "verify of the sealed bid"
cp "$work/sealed.pdf" "$work/tampered.pdf"
python3 - "$work/tampered.pdf" <<'PY'
import sys
p = sys.argv[1]; data = bytearray(open(p, "rb").read())
i = data.find(b"stream\n")  # the first stream's data: inside the signed range, structure intact
data[i + 20] ^= 0x01
open(p, "wb").write(bytes(data))
PY
set +e; bidseal verify "$work/tampered.pdf" --trust "$root_pem" --json >"$out/verify-tampered.json"; rc=$?; set -e
[ $rc = 1 ] || fail "verify of a tampered copy: exit $rc (want 1)"
log "signed with the virtual UKey, verified (exit 0), tampered copy rejected (exit 1)"

bidseal demo --workdir "$work/demo" --json >"$out/demo.json" || fail "bidseal demo"
log "bidseal demo: ok"

if command -v xvfb-run >/dev/null && [ -x "$root/.venv/bin/python" ]; then
  exec_line=$(sed -n 's/^Exec=//p' /usr/share/applications/bidseal.desktop | sed "s|%F|$work/sealed.pdf|")
  # shellcheck disable=SC2086
  xvfb-run -a -s "-screen 0 1280x800x24" "$root/.venv/bin/python" "$root/installer/linux/gui_probe.py" \
    --title "sealed.pdf" --settle 5 --shot "$out/gui-installed.png" -- $exec_line >"$out/gui.json" || fail "the GUI did not open"
  log "GUI: $(cat "$out/gui.json")"
fi

log "removing"
DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -q bidseal >"$out/apt-remove.log" 2>&1 || fail "apt-get remove"
trap 'rm -rf "$work"' EXIT
[ ! -e /opt/bidseal ] || fail "/opt/bidseal left behind: $(find /opt/bidseal | head)"
[ ! -e /usr/bin/bidseal ] || fail "/usr/bin/bidseal left behind"
[ ! -e /usr/share/applications/bidseal.desktop ] || fail "desktop file left behind"
[ ! -e /etc/xdg/autostart/bidseal-helper.desktop ] || fail "autostart entry left behind"
[ ! -e /usr/share/mime/packages/bidseal.xml ] || fail "MIME package left behind"
grep -q 'x-bidseal-envelope' /usr/share/mime/globs2 && fail ".bse still in the MIME database"
grep -q 'bidseal.desktop' /usr/share/applications/mimeinfo.cache 2>/dev/null && fail "bidseal.desktop still in mimeinfo.cache"
left=$(find /opt /usr /etc -path /proc -prune -o -name '*bidseal*' -print 2>/dev/null | grep -v "^$root" || true)
[ -z "$left" ] || fail "left behind: $left"
dpkg-query -W -f='${Status}' bidseal 2>/dev/null | grep -q installed && fail "dpkg still lists bidseal"
log "PASS: installed, used from /usr/bin, removed cleanly (logs and screenshot in $out)"
