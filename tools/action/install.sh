#!/usr/bin/env bash
# The GitHub Action's install step (action.yml): the emulator from the action's own checkout
# ($GITHUB_ACTION_PATH), built once; Debian's libunicorn2 and the ARM cross compiler only when
# an ELF or C source is to run (VAE_NATIVE=true).
set -euo pipefail
cd "${GITHUB_ACTION_PATH:-$(dirname "$0")/../..}"
if [ ! -f dist/cli.js ]; then
  # koffi (optional) is needed for the Unicorn CPU only
  if [ "${VAE_NATIVE:-false}" = true ]; then npm ci --no-audit --no-fund; else npm ci --no-audit --no-fund --omit=optional; fi
  npm run build --silent
fi
if [ "${VAE_NATIVE:-false}" = true ]; then
  need=()
  dpkg -s libunicorn2 >/dev/null 2>&1 || need+=(libunicorn2)
  command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1 || need+=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)
  if [ "${#need[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    # one failed index (a mirror mid-sync) makes apt-get update exit 100 although the others
    # were fetched: retry, then go on; apt-get install fails clearly if a package is missing
    n=0
    until $SUDO apt-get update -qq; do
      n=$((n + 1))
      if [ "$n" -ge 3 ]; then echo "install.sh: apt-get update failed $n times; going on" >&2; break; fi
      sleep $((n * 5))
    done
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
fi
node dist/cli.js --version
