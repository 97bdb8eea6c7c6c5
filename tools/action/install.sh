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
    sh tools/apt-update.sh
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
fi
node dist/cli.js --version
