import { describe, expect, it } from 'vitest';
import { hasCrossCompiler, shouldSkipBusyboxTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { parseProfile } from '../../kernel-model/profile.js';
import { expectedPl330Outcome } from '../scenarios/expected.js';
import { MATRIX_PROFILES } from '../scenarios/matrix.js';
import { System } from '../system/system.js';
import { runShScript } from './run.js';
import { shScriptOutcome } from './sh-outcome.js';

/**
 * guest-tests/sh/setup-and-test.sh at every patch prefix of the matrix (tools/scenarios/matrix.ts):
 * the busybox script's administrator set-up, then the C pl330-vfio-test, stops where the
 * expected matrix (expectedPl330Outcome, with the booted kernel's module parameters) says.
 * Mandatory in CI.
 */
const skip = shouldSkipBusyboxTests() || (!process.env['CI'] && !hasCrossCompiler());
const SCRIPT = 'guest-tests/sh/setup-and-test.sh';

describe.skipIf(skip)('run --cpu unicorn --sh setup-and-test.sh at every patch prefix', () => {
  it.each(MATRIX_PROFILES.map((p) => [p]))('%s: stops where the expected matrix says', (profile) => {
    const r = runShScript({ script: SCRIPT, profile });
    const params = new System({ profile, board: r.board, seed: r.seed }).kernel.params;
    expect(shScriptOutcome(r)).toBe(expectedPl330Outcome(parseProfile(profile), params));
    expect(r.unknownSyscalls).toEqual({});
  });

  it('a stop is deterministic: two runs give the same trace digest and virtual time', () => {
    const a = runShScript({ script: SCRIPT, profile: 'patches:1-5' });
    const b = runShScript({ script: SCRIPT, profile: 'patches:1-5' });
    expect(shScriptOutcome(a)).toBe('stop:mmap');
    expect(b.traceSha256).toBe(a.traceSha256);
    expect(b.virtualTimeNs).toBe(a.virtualTimeNs);
    expect(b.stdout).toBe(a.stdout);
  });

  it('mainline without vfio_iommu_type1.allow_unsafe_interrupts stops at SET_IOMMU, as the matrix says', () => {
    const bootargs = 'console=ttyAMA0';
    const r = runShScript({ script: SCRIPT, profile: 'mainline', bootargs });
    const params = new System({ profile: 'mainline', board: r.board, bootargs }).kernel.params;
    expect(expectedPl330Outcome(parseProfile('mainline'), params)).toBe('stop:set-iommu');
    expect(shScriptOutcome(r)).toBe('stop:set-iommu');
  });
});
