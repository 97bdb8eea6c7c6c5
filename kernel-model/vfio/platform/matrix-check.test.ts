/**
 * Cross-check of vfio-platform against the expected matrix (docs/PROFILES.md): where the
 * pl330-vfio-test guest program stops at each patch level.
 * (The matrix function and CLI belong to tools/scenarios; this only guards the driver's
 * side of it.)
 */
import { describe, expect, it } from 'vitest';
import { pl330VfioTest, type StepName } from '../../../guest-tests/pl330-vfio-test/main.js';
import { pl330ProgramAbi } from '../../../tools/scenarios/expected.js';
import { System } from '../../../tools/system/system.js';
import { PL330, User, bindToVfio } from './testing/user.js';

interface Outcome {
  failed: StepName | null;
  exit: number | null;
  stop: string;
}

function run(profile: string, opts: { mapExec?: boolean; transfers?: number } = {}): Outcome {
  const sys = new System({ profile });
  if (sys.vfioPlatform) expect(bindToVfio(new User(sys, 'admin'), PL330)).toBe(PL330.length + 1);
  let failed: StepName | null = null;
  const { thread } = sys.spawn('pl330-vfio-test', (s) => pl330VfioTest(s, {
    groupPath: '/dev/vfio/0', device: PL330, abi: pl330ProgramAbi(sys.profile), seed: 1, irqTimeoutMs: 10,
    ...opts,
    observe: (step, ok) => { if (!ok && failed === null) failed = step; },
  }), { stdio: true });
  const res = sys.runUntilExited([thread], 2_000_000_000);
  return { failed, exit: thread.exit?.code ?? null, stop: res.reason === 'stopped' ? (res.detail ?? '') : res.reason };
}

describe('vfio-platform against the expected matrix', () => {
  it.each([
    ['baseline', 'check-extension'],
    ['patches:1-3', 'open-group'],
    ['patches:1-4', 'region-info'],
    ['patches:1-5', 'mmap-region'],
    ['patches:1-6', 'mmap-region'],
    ['patches:1-7', 'irq-info'],
    ['patches:1-8', 'set-irqs'],
    ['patches:1,3-10', 'map-dma'],
  ])('%s stops at %s', (profile, step) => {
    const o = run(profile);
    expect(o.failed).toBe(step);
    expect(o.exit).not.toBe(0);
  });

  it('patches:1-9: the first completion interrupt Oopses in interrupt context and panics', () => {
    const o = run('patches:1-9');
    expect(o.failed).toBeNull();
    expect(o.stop).toBe('Kernel panic - not syncing: Fatal exception in interrupt');
    expect(o.exit).toBeNull();
  });

  it.each(['patches:1-10', 'rfc-v4', 'mainline'])('%s passes, also with a second transfer (INTCLR then UNMASK)', (profile) => {
    const o = run(profile, { transfers: 2 });
    expect(o).toEqual({ failed: null, exit: 0, stop: o.stop });
  });

  it('patches:1,3-10 mapped without EXEC: the PL330 instruction fetch hits XN, no completion', () => {
    const o = run('patches:1,3-10', { mapExec: false });
    expect(o.exit).not.toBe(0);
    expect(o.failed).toBe('interrupt');
  });
});
