#!/bin/sh
# `apt-get update` for the install scripts (.ci/steps.sh, tools/unicorn/fetch-busybox.sh,
# tools/action/install.sh). apt-get update exits 100 when any one index fails (a mirror mid-sync,
# e.g. the security suite's armhf Packages.xz with the wrong size) although the others were
# fetched: retry twice, then go on with what was fetched; the caller's apt-get install or
# apt-get download still fails clearly if a package is missing.
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
n=0
until $SUDO apt-get update -qq; do
	n=$((n + 1))
	if [ "$n" -ge 3 ]; then
		echo "apt-update.sh: apt-get update failed $n times; going on with the indices it fetched" >&2
		exit 0
	fi
	sleep $((n * 5))
done
