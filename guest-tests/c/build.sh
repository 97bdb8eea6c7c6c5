#!/bin/sh
# Build the C guest programs as static ARMv7 hard-float ELF executables with Debian's cross toolchain
# (apt-get install gcc-arm-linux-gnueabihf). Usage: guest-tests/c/build.sh [OUTDIR] (default: guest-tests/c/build).
# Binaries are not committed: CI and the tests build them from source (see docs/UNICORN.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build}
CC=${CC:-arm-linux-gnueabihf-gcc}
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "build.sh: $CC not found: apt-get install gcc-arm-linux-gnueabihf" >&2
	exit 127
fi
mkdir -p "$out"
for src in "$here"/*.c; do
	name=$(basename "$src" .c)
	# -ffile-prefix-map + no build id keep the output independent of the checkout path.
	"$CC" -static -O2 -Wall -Wextra -mthumb -pthread \
		-ffile-prefix-map="$here"=. -Wl,--build-id=none \
		-o "$out/$name.tmp.$$" "$src"
	mv -f "$out/$name.tmp.$$" "$out/$name" # atomic: concurrent test workers may build too
done
