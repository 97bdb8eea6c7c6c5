/**
 * vitest's global set-up (vitest.config.ts globalSetup): runs once in the main process before
 * any test worker starts. It builds the C guest programs (guest-tests/c/build.sh) when the cross
 * compiler is there and a binary is missing or stale, so that:
 * - the build (56 programs, tens of seconds on a 2-core machine, more under load) is not charged
 *   to the timeout of whichever Unicorn test asks for a binary first (the helpers' full-suite runs
 *   under load 8-12 timed out there once each, 2026-12-07);
 * - two workers do not both build every program at once.
 * Without the cross compiler nothing is built here; the Unicorn tests then skip on a developer
 * machine and fail loudly in CI, as before (emulator/cpu/unicorn/testing/guest-build.ts).
 */
import { ensureGuestBinaries, hasCrossCompiler } from '../../emulator/cpu/unicorn/testing/guest-build.js';

export default function setup(): void {
  if (hasCrossCompiler()) ensureGuestBinaries();
}
