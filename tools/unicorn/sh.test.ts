import { describe, expect, it } from 'vitest';
import { shouldSkipBusyboxTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { hasCrossCompiler } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runShScript } from './run.js';

/**
 * guest-tests/sh/setup-and-test.sh on busybox's sh (run --cpu unicorn --sh): the administrator's
 * set-up in the running kernel's own way, the group from the iommu_group link, then the C
 * pl330-vfio-test, all as ARM processes (fork, execve, wait4). Mandatory in CI.
 */
const skip = shouldSkipBusyboxTests() || (!process.env['CI'] && !hasCrossCompiler());
const SCRIPT = 'guest-tests/sh/setup-and-test.sh';
const dest = (out: string): string | undefined => out.split('\n').filter((l) => l.startsWith('destination value:')).pop();

describe.skipIf(skip)('run --cpu unicorn --sh: the set-up-and-test script', () => {
  it('passes under rfc-v4 (unbind + vfio_bind) and mainline (driver_override + drivers_probe on amba) with the same destination and one interrupt; deterministic', () => {
    const v4 = runShScript({ script: SCRIPT, profile: 'rfc-v4' });
    const ml = runShScript({ script: SCRIPT, profile: 'mainline' });
    for (const [r, bus, drv] of [[v4, 'platform', 'vfio-platform'], [ml, 'amba', 'vfio-amba']] as const) {
      expect(r.stderr).toBe('');
      expect(r.exitStatus).toBe(0);
      expect(r.stdout).toContain(`device 2c0a0000.dma on bus ${bus}\nbound to dma-pl330\nnow bound to ${drv}\ngroup `);
      expect(r.stdout).toContain('test exit 0\n');
      expect(r.stdout).not.toContain('test failed!');
      expect(r.interrupts).toBe(1);
      expect(r.unknownSyscalls).toEqual({});
      expect(r.processes.find((p) => p.name === 'pl330-vfio-test')?.status).toBe(0);
    }
    expect(dest(v4.stdout)).toBe(dest(ml.stdout));
    expect(dest(v4.stdout)).toBe(v4.stdout.split('\n').find((l) => l.startsWith('source value:'))!.replace('source', 'destination'));
    const again = runShScript({ script: SCRIPT, profile: 'rfc-v4' });
    expect(again.traceSha256).toBe(v4.traceSha256);
    expect(again.virtualTimeNs).toBe(v4.virtualTimeNs);
  });

  it('stops where the matrix says without the binding patch (patches:1-3: no vfio_bind, no driver_override)', () => {
    const r = runShScript({ script: SCRIPT, profile: 'patches:1-3' });
    // no way to bind: the device stays on dma-pl330 and its group has no character device
    // (the matrix's stop:no-group); the C program's unchecked open() then reports it as not viable
    expect(r.stdout).toContain('driver_override failed\nnow bound to dma-pl330\n');
    expect(r.stdout).toMatch(/\ngroup (\d+)\nno \/dev\/vfio\/\1\n/);
    expect(r.stdout).toContain('Group is not viable');
    expect(r.stdout).toContain('test exit 1\n');
    expect(r.stderr).toContain('driver_override: Permission denied');
    expect(r.exitStatus).toBe(1);
    expect(r.interrupts).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
  });
});
