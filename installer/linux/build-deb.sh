#!/usr/bin/env bash
# Package the frozen BidSeal folder (installer/pyinstaller/build.sh) as a .deb:
#   /opt/bidseal/…                     the one-folder application
#   /usr/bin/bidseal -> /opt/bidseal/bidseal
#   /usr/share/applications/bidseal.desktop, hicolor icon, /usr/share/doc/bidseal/copyright
#   /usr/share/mime/packages/bidseal.xml     application/x-bidseal-envelope (*.bse)
#   /etc/xdg/autostart/bidseal-helper.desktop  the window (and its helper) at login; a conffile,
#                                            so `apt purge` removes it; users turn it off per login
# No maintainer scripts: dpkg triggers of shared-mime-info and desktop-file-utils update the caches.
# Depends: installer/linux/deb-base-depends.txt + what the bundle's ELF files link against
# on this machine (deb_depends.py). No Python on the system is needed.
#
#   bash installer/linux/build-deb.sh [--dist dist/bidseal] [--out dist] [--version V]
#                                     [--arch ARCH] [--no-auto-depends]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
dist=$root/dist/bidseal
out=$root/dist
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/app/__init__.py")-1
arch=$(dpkg --print-architecture)
auto=1
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) dist=$(cd "$2" && pwd); shift 2 ;;
    --out) mkdir -p "$2"; out=$(cd "$2" && pwd); shift 2 ;;
    --version) version=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --no-auto-depends) auto=0; shift ;;
    *) echo "build-deb.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
log() { printf '[build-deb] %s\n' "$*" >&2; }

for exe in bidseal bidseal-token-host; do
  [ -x "$dist/$exe" ] || { log "not a BidSeal bundle: $dist/$exe missing (run installer/pyinstaller/build.sh)"; exit 2; }
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/bidseal-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
pkg=$stage/pkg
install -d -m 0755 "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
  "$pkg/usr/share/icons/hicolor/256x256/apps" "$pkg/usr/share/doc/bidseal" "$pkg/usr/share/mime/packages" \
  "$pkg/etc/xdg/autostart"
cp -a "$dist" "$pkg/opt/bidseal"
ln -s /opt/bidseal/bidseal "$pkg/usr/bin/bidseal"
install -m 0644 "$here/deb/bidseal.desktop" "$pkg/usr/share/applications/bidseal.desktop"
install -m 0644 "$root/installer/icons/bidseal.png" "$pkg/usr/share/icons/hicolor/256x256/apps/bidseal.png"
install -m 0644 "$here/deb/copyright" "$pkg/usr/share/doc/bidseal/copyright"
install -d -m 0755 "$pkg/usr/share/lintian/overrides"
install -m 0644 "$here/deb/lintian-overrides" "$pkg/usr/share/lintian/overrides/bidseal"
# The Debian changelog lintian asks for: one entry for this build (date of the last commit).
when=$(git -C "$root" log -1 --format=%cD 2>/dev/null || date -R)
printf 'bidseal (%s) stable; urgency=medium\n\n  * BidSeal %s, built from %s.\n\n -- %s  %s\n' \
  "$version" "${version%-*}" "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'a source tree')" \
  "$(sed -n 's/^Maintainer: //p' "$here/deb/control.in")" "$when" | gzip -9n >"$pkg/usr/share/doc/bidseal/changelog.Debian.gz"
install -m 0644 "$here/deb/bidseal-mime.xml" "$pkg/usr/share/mime/packages/bidseal.xml"
install -m 0644 "$here/deb/bidseal-helper.desktop" "$pkg/etc/xdg/autostart/bidseal-helper.desktop"
# Owner root, nothing group/world-writable, whatever the build machine's umask was.
chmod -R u+rwX,go+rX,go-w "$pkg"
# As dh_strip/dh_fixperms would (lintian): shared objects in the data folder are not executable,
# carry no debug symbols, and no RUNPATH into the machine a wheel was built on ($ORIGIN kept).
# Only the packaged copy changes; the two executables are left alone (PyInstaller appends its
# archive to them, strip would cut it off).
log "stripping and fixing modes of the bundle's shared objects"
while IFS= read -r -d '' so; do
  [ "$(head -c4 "$so" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  chmod 0644 "$so"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$so"
  rpath=$(readelf -d "$so" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p')
  if [ -n "$rpath" ] && ! printf '%s' "$rpath" | grep -q ORIGIN; then
    patchelf --remove-rpath "$so"
  fi
done < <(find "$pkg/opt/bidseal/_internal" -type f -name '*.so*' -print0)

deps=$(sed 's/#.*//; /^[[:space:]]*$/d' "$here/deb-base-depends.txt" | paste -sd, | sed 's/,/, /g')
if [ "$auto" = 1 ]; then
  log "finding the system libraries the bundle links against"
  linked=$(python3 "$here/deb_depends.py" "$pkg/opt/bidseal")
  deps="$linked, $deps"
fi
# One entry per package, first occurrence wins (the versioned libc6 comes first).
deps=$(printf '%s\n' "$deps" | tr ',' '\n' | sed 's/^ *//; s/ *$//; /^$/d' \
  | awk '{ name=$1; if (!(name in seen)) { seen[name]=1; print } }' | paste -sd, | sed 's/,/, /g')

size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$deps/" \
  "$here/deb/control.in" >"$pkg/DEBIAN/control"
(cd "$pkg" && find opt usr -type f -print0 | sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"
echo /etc/xdg/autostart/bidseal-helper.desktop >"$pkg/DEBIAN/conffiles"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums" "$pkg/DEBIAN/conffiles"

deb=$out/bidseal_${version}_${arch}.deb
dpkg-deb --root-owner-group -Z"${BIDSEAL_DEB_COMPRESS:-xz}" --build "$pkg" "$deb.tmp" >/dev/null
mv "$deb.tmp" "$deb"
log "$deb ($(du -h "$deb" | cut -f1); installed $(( size / 1024 )) MiB)"
echo "$deb"
