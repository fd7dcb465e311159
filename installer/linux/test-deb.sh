#!/usr/bin/env bash
# Install the .deb for real on this Debian machine, use it as a bidder would - a fresh
# unprivileged user with an empty home, only the installed files on PATH - then purge it and
# check nothing is left. Needs root (apt-get, useradd). tests/installer/test_deb_install.py
# runs it in CI after build.sh + build-deb.sh; by hand:
#
#   bash installer/linux/test-deb.sh [dist/bidseal_*.deb]
#
# As root: apt-get install ./DEB (dependencies from Debian); the MIME type, the desktop entry's
# associations and the autostart entry are registered. As a new user (useradd, empty home,
# `env -i`, no PYTHONPATH, cwd the home): bidseal --version - the virtual UKey is OFF by default
# (token list finds no key) - pki demo - softkey init (explicit opt-in) - sign the sample bid
# with the PIN from stdin - verify it against the demo root (exit 0), verify a tampered copy
# (exit 1) - the full `bidseal demo` - the GUI started from the desktop entry's Exec line with
# --self-test (offscreen, and under Xvfb when xvfb-run is there): the sealed bid drawn and its
# signatures verified, a screenshot. Then: no process of that user is left running and it wrote
# nothing outside its home; apt-get remove --purge; nothing of the package is left; the user
# is deleted. Logs, JSON answers and screenshots are copied to $BIDSEAL_TEST_OUT
# (build/test-deb).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
deb=${1:-$(ls -t "$root"/dist/bidseal_*.deb | head -1)}
deb=$(readlink -f "$deb")
out=${BIDSEAL_TEST_OUT:-$root/build/test-deb}
log() { printf '[test-deb] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (installs a package, adds a user)"
# One package name per machine: a second run (another suite on the same machine) waits.
mkdir -p /run/lock
exec 9>/run/lock/bidseal-test-deb.lock
flock -w 1500 9 || fail "another test-deb.sh has held /run/lock/bidseal-test-deb.lock for 25 minutes"
dpkg-query -W -f='${Status}' bidseal 2>/dev/null | grep -q "install ok installed" && fail "bidseal is already installed"
rm -rf "$out" && mkdir -p "$out"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
work=$(mktemp -d /tmp/bidseal-test-deb.XXXXXX)
chmod 0755 "$work"
user=bidseal-t$$
home=$work/home

cleanup() {
  set +e
  pkill -KILL -u "$user" 2>/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -q bidseal >/dev/null 2>&1
  id "$user" >/dev/null 2>&1 && userdel "$user" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# -- as root: install, system integration ------------------------------------------------------
log "installing $deb"
install_deb() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "$deb" \
    >"$out/apt-install.log" 2>&1
}
if ! install_deb; then  # a machine whose package lists are stale or empty
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update -q >>"$out/apt-install.log" 2>&1 || true
  install_deb || { tail -20 "$out/apt-install.log"; fail "apt-get install"; }
fi
[ -x /usr/bin/bidseal ] && [ "$(readlink -f /usr/bin/bidseal)" = /opt/bidseal/bidseal ] || fail "/usr/bin/bidseal is not the installed bundle"
# dpkg's triggers (shared-mime-info, desktop-file-utils) ran: the .bse type is in the MIME
# database and the desktop entry is offered for it and for PDFs.
grep -q 'application/x-bidseal-envelope' /usr/share/mime/globs2 || fail ".bse MIME type not in the MIME database"
grep -q '^application/x-bidseal-envelope=.*bidseal.desktop' /usr/share/applications/mimeinfo.cache \
  || fail "bidseal.desktop not registered for .bse"
grep -q '^application/pdf=.*bidseal.desktop' /usr/share/applications/mimeinfo.cache || fail "bidseal.desktop not offered for PDFs"
[ -f /etc/xdg/autostart/bidseal-helper.desktop ] || fail "autostart entry missing"
log "MIME: *.bse -> application/x-bidseal-envelope, bidseal.desktop offered for it and PDFs; autostart entry present"

# -- a fresh unprivileged user with an empty home ----------------------------------------------
useradd --no-create-home --no-log-init --home-dir "$home" --shell /bin/sh --user-group "$user"
install -d -m 0700 -o "$user" -g "$user" "$home"
# What a login session gives (pam_systemd's /run/user/UID, removed at logout): BidSeal's lock
# files live there, not in a shared /tmp.
runtime=$work/run-user
install -d -m 0700 -o "$user" -g "$user" "$runtime"
[ -z "$(ls -A "$home")" ] || fail "home not empty"
# Only what a login shell would have: no PYTHONPATH, no virtual environment, no BIDSEAL_*.
as_user() {
  runuser -u "$user" -- env -i -C "$home" HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/sh \
    XDG_RUNTIME_DIR="$runtime" \
    PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"
}
log "running as $user (uid $(id -u "$user")), HOME=$home"

v=$(as_user bidseal --version); [ "$v" = "bidseal $(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/app/__init__.py")" ] || fail "version: $v"
log "$v from $(readlink -f /usr/bin/bidseal)"

# The demo key must stay off unless enabled on purpose.
set +e; as_user bidseal token list --json >"$out/token-list-default.json" 2>&1; rc=$?; set -e
[ $rc = 1 ] || fail "token list without any key: exit $rc (want 1: no key)"
grep -qi softskf "$out/token-list-default.json" && fail "the virtual UKey is visible without opt-in"
log "virtual UKey off by default: token list exit 1, no softskf"

as_user bidseal pki demo --out "$home/pki" --json >"$out/pki.json"
[ -s "$home/pki/root.pem" ] || fail "pki demo wrote no root.pem"
as_user bidseal softkey init --json >"$out/softkey-init.json"
as_user bidseal token list --json >"$out/token-list.json"
grep -q '"demo": true' "$out/token-list.json" || fail "token list after softkey init shows no demo key"
sample=/opt/bidseal/_internal/resources/samples/bid-sample.pdf
echo 12345678 | as_user bidseal sign "$sample" -o "$home/sealed.pdf" --keyword "投标人（盖章）" --cross-page --pin-stdin \
  --json >"$out/sign.json"
root_pem=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["demo_root"]["path"])' "$out/softkey-init.json")
as_user bidseal verify "$home/sealed.pdf" --trust "$root_pem" --json >"$out/verify.json" || fail "verify of the sealed bid"
as_user cp "$home/sealed.pdf" "$home/tampered.pdf"
python3 - "$home/tampered.pdf" <<'PY'
import sys
p = sys.argv[1]; data = bytearray(open(p, "rb").read())
i = data.find(b"stream\n")  # the first stream's data: inside the signed range, structure intact
data[i + 20] ^= 0x01
open(p, "wb").write(bytes(data))
PY
set +e; as_user bidseal verify "$home/tampered.pdf" --trust "$root_pem" --json >"$out/verify-tampered.json"; rc=$?; set -e
[ $rc = 1 ] || fail "verify of a tampered copy: exit $rc (want 1)"
log "signed with the virtual UKey, verified (exit 0), tampered copy rejected (exit 1)"

as_user bidseal demo --workdir "$home/demo" --json >"$out/demo.json" 2>"$out/demo.log" || fail "bidseal demo"
log "bidseal demo: ok"

# The window, started as the desktop entry starts it (its Exec line), in self-test mode: the
# sealed bid is drawn and its signatures are verified by the installed engine process.
exec_line=$(sed -n 's/^Exec=//p' /usr/share/applications/bidseal.desktop)
case "$exec_line" in *%F*) ;; *) fail "desktop Exec line takes no file: $exec_line" ;; esac
read -r -a gui <<<"${exec_line/\%F/$home/sealed.pdf}"
gui_check() {  # name, then the command prefix
  local name=$1; shift
  "$@" "${gui[@]}" --self-test --screenshot "$home/gui-$name.png" >"$out/gui-$name.json" 2>"$out/gui-$name.log" \
    || { cat "$out/gui-$name.json" "$out/gui-$name.log" >&2; fail "the window's self-test ($name)"; }
  python3 - "$out/gui-$name.json" <<'PY' || fail "the window's self-test ($name) did not show the sealed bid"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] and r["frozen"] and r["pages"] == 8 and r["verdicts"] == ["valid", "valid"], r
PY
  cp "$home/gui-$name.png" "$out/"
  log "GUI ($name): $(cat "$out/gui-$name.json")"
}
gui_check offscreen as_user env QT_QPA_PLATFORM=offscreen
if command -v xvfb-run >/dev/null; then
  gui_check xvfb as_user xvfb-run -a -s "-screen 0 1280x800x24"
fi

# Everything the user started has ended, and it wrote nothing outside its home.
sleep 1
left=$(ps -u "$user" -o pid=,stat=,args= 2>/dev/null | awk '$2 !~ /^Z/' || true)  # zombies are not running
[ -z "$left" ] || fail "processes of the user still running after the commands ended: $left"
stray=$(find / /tmp /var/tmp /dev/shm -xdev \( -path /proc -o -path "$home" \) -prune -o -path "$runtime" -prune -o -user "$user" -print 2>/dev/null || true)
[ -z "$stray" ] || fail "files of the user outside its home: $stray"
log "no process left running, nothing written outside $home and its runtime folder"

# -- purge: nothing of the package left ---------------------------------------------------------
log "removing"
DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -q bidseal >"$out/apt-remove.log" 2>&1 || fail "apt-get remove"
[ ! -e /opt/bidseal ] || fail "/opt/bidseal left behind: $(find /opt/bidseal | head)"
[ ! -e /usr/bin/bidseal ] || fail "/usr/bin/bidseal left behind"
[ ! -e /usr/share/applications/bidseal.desktop ] || fail "desktop file left behind"
[ ! -e /etc/xdg/autostart/bidseal-helper.desktop ] || fail "autostart entry left behind"
[ ! -e /usr/share/mime/packages/bidseal.xml ] || fail "MIME package left behind"
grep -q 'x-bidseal-envelope' /usr/share/mime/globs2 && fail ".bse still in the MIME database"
grep -q 'bidseal.desktop' /usr/share/applications/mimeinfo.cache 2>/dev/null && fail "bidseal.desktop still in mimeinfo.cache"
left=$(find /opt /usr /etc /var/lib/dpkg/info -name '*bidseal*' -print 2>/dev/null | grep -v "^$root" || true)
[ -z "$left" ] || fail "left behind: $left"
dpkg-query -W -f='${Status}' bidseal 2>/dev/null | grep -q installed && fail "dpkg still lists bidseal"
userdel "$user"
log "PASS: installed, used by a fresh user from /usr/bin, removed cleanly (logs and screenshots in $out)"
