#!/bin/sh
# Fetch Debian's busybox-static for armhf (never committed) into a cache directory outside git:
#   tools/unicorn/fetch-busybox.sh [DIR]   (default: $VFIO_ARM_EMU_BUSYBOX_DIR or ~/.cache/vfio-arm-emu/busybox)
# Prints the path of the binary. Needs root (dpkg --add-architecture, apt-get update) the first time.
set -eu
dest=${1:-${VFIO_ARM_EMU_BUSYBOX_DIR:-$HOME/.cache/vfio-arm-emu/busybox}}
if [ -x "$dest/bin/busybox" ]; then
	echo "$dest/bin/busybox"
	exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if ! dpkg --print-foreign-architectures | grep -qx armhf; then
	$SUDO dpkg --add-architecture armhf
fi
sh "$(dirname "$0")/../apt-update.sh"
tmp=$(mktemp -d)
chmod 777 "$tmp" # apt-get download drops privileges to _apt when it may write there
(cd "$tmp" && apt-get download -qq busybox-static:armhf)
dpkg-deb -x "$tmp"/busybox-static_*_armhf.deb "$tmp/root"
mkdir -p "$dest/bin"
cp "$tmp/root/bin/busybox" "$dest/bin/busybox.tmp.$$"
mv -f "$dest/bin/busybox.tmp.$$" "$dest/bin/busybox"
rm -rf "$tmp"
echo "$dest/bin/busybox"
