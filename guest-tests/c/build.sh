#!/bin/sh
# Build the C guest programs as static ARMv7 hard-float ELF executables with Debian's cross toolchain
# (apt-get install gcc-arm-linux-gnueabihf). A source whose first line is "/* build.sh: dynamic */" is
# linked dynamically instead (the toolchain's default: a PIE with PT_INTERP /lib/ld-linux-armhf.so.3;
# it runs with the cross C library as the guest's /lib, tools/unicorn/run.ts crossLibc). Usage: guest-tests/c/build.sh [OUTDIR [SRCDIR]] (default: guest-tests/c/build,
# and the .c files of guest-tests/c; SRCDIR: e.g. the fuzzer's C reproducers, tools/fuzz/emit-c.ts).
# Binaries are not committed: CI and the tests build them from source (see docs/UNICORN.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build}
CC=${CC:-arm-linux-gnueabihf-gcc}
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "build.sh: $CC not found: apt-get install gcc-arm-linux-gnueabihf" >&2
	exit 127
fi
src_dir=$(cd "${2:-$here}" && pwd)
mkdir -p "$out"
for src in "$src_dir"/*.c; do
	name=$(basename "$src" .c)
	link=-static
	if [ "$(head -n 1 "$src")" = "/* build.sh: dynamic */" ]; then link=; fi
	# -ffile-prefix-map + no build id keep the output independent of the checkout path.
	"$CC" $link -O2 -Wall -Wextra -mthumb -pthread \
		-ffile-prefix-map="$src_dir"=. -Wl,--build-id=none \
		-o "$out/$name.tmp.$$" "$src"
	mv -f "$out/$name.tmp.$$" "$out/$name" # atomic: concurrent test workers may build too
done
