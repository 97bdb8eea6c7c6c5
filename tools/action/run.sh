#!/usr/bin/env bash
# The GitHub Action's run step (action.yml), in the caller's workspace: for each profile, the
# scenario (built-in or a file) with a JUnit report, a Perfetto trace and the JSON summary, or
# the user's program on the Unicorn CPU (a C source is built static first); optionally a fuzz
# campaign against the baseline. Every run is reported; the step fails if any did not give its
# expected outcome. Outputs: reports, failed.
set -uo pipefail
CLI="node ${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}/dist/cli.js"
R="${VAE_REPORTS:-vfio-arm-emu-reports}"
mkdir -p "$R"
failed=0
elf="${VAE_ELF:-}"
if [ -n "${VAE_C_SOURCE:-}" ]; then
  elf="$R/$(basename "${VAE_C_SOURCE%.*}").elf"
  arm-linux-gnueabihf-gcc -static -O2 -o "$elf" "$VAE_C_SOURCE" || { echo "::error file=$VAE_C_SOURCE::cannot build $VAE_C_SOURCE"; exit 2; }
fi
read -r -a args <<< "${VAE_ARGS:-}"
for profile in ${VAE_PROFILES//,/ }; do
  tag="${profile//[^A-Za-z0-9.-]/_}"
  if [ -n "$elf" ]; then
    a=(); for x in "${args[@]}"; do a+=(--args "$x"); done
    $CLI run --cpu unicorn --elf "$elf" "${a[@]}" --profile "$profile" --trace "$R/$tag.perfetto.json" --json > "$R/$tag.json"
    rc=$?
  else
    $CLI run "${VAE_SCENARIO:-pl330-vfio-test}" --profile "$profile" --junit "$R/$tag.junit.xml" --trace "$R/$tag.perfetto.json" --json > "$R/$tag.json"
    rc=$?
  fi
  if [ "$rc" -eq 0 ]; then echo "$profile: PASS"; else echo "::error::$profile: ${VAE_SCENARIO:-$elf}: exit $rc (see $R/$tag.json)"; failed=$((failed + 1)); fi
  if [ "${VAE_FUZZ_RUNS:-0}" != 0 ]; then
    $CLI fuzz --profile "$profile" --runs "$VAE_FUZZ_RUNS" --out "$R/fuzz-$tag" --json > "$R/fuzz-$tag.json"
    rc=$?
    if [ "$rc" -eq 0 ]; then echo "$profile: fuzz: no new finding"; else echo "::error::$profile: fuzz: new findings (exit $rc, see $R/fuzz-$tag.json)"; failed=$((failed + 1)); fi
  fi
done
echo "reports=$R" >> "${GITHUB_OUTPUT:-/dev/null}"
echo "failed=$failed" >> "${GITHUB_OUTPUT:-/dev/null}"
[ "$failed" -eq 0 ]
