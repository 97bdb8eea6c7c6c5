import { describe, expect, it } from 'vitest';
import { shouldSkipBusyboxTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { parseProfile } from '../../kernel-model/profile.js';
import { runShScript } from './run.js';

/**
 * guest-tests/sh/patch-matrix.sh: the patch matrix with shell and sysfs only. What the shell
 * sees must follow each profile's capabilities (kernel-model/profile.ts): the vfio-platform and
 * vfio-amba drivers, vfio_bind (bind mechanism of the 2014 series) or driver_override, and the
 * binding's outcome. Mandatory in CI.
 */
const skip = shouldSkipBusyboxTests();

describe.skipIf(skip)('run --cpu unicorn --sh guest-tests/sh/patch-matrix.sh', () => {
  it.each(['baseline', 'patches:1-3', 'patches:1-4', 'rfc-v4', 'mainline'])('%s: files and binding as the capabilities say', (profile) => {
    const caps = parseProfile(profile).caps;
    const r = runShScript({ script: 'guest-tests/sh/patch-matrix.sh', profile });
    expect(r.exitStatus).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
    const yes = (b: boolean): string => (b ? 'yes' : 'no');
    const bus = caps.vfioAmba ? 'amba' : 'platform';
    const bind = caps.vfioPlatform && caps.bindMechanism === 'vfio_bind';
    const override = caps.vfioPlatform && caps.driverOverride && !bind;
    const bound = bind || override;
    expect(r.stdout).toContain([
      `bus: ${bus}`,
      `vfio-platform driver: ${yes(caps.vfioPlatform)}`,
      `vfio-amba driver: ${yes(caps.vfioAmba)}`,
      `vfio_bind: ${yes(bind)}`,
      `driver_override: ${yes(caps.driverOverride)}`,
      'iommu_group link: yes',
    ].join('\n'));
    const method = bind ? 'vfio_bind' : override ? 'driver_override' : 'none';
    expect(r.stdout).toContain(`binding by ${method}: rc ${bound ? 0 : 1}, driver ${bound ? `vfio-${bus}` : 'dma-pl330'}\n`);
    // the group's character device appears only once a VFIO driver holds the group's device
    const group = /group (\d+): 2c0a0000\.dma\n/.exec(r.stdout)![1];
    // (and, with `vfioDeviceCdev`, the device's cdev: /dev/vfio/devices/vfioN)
    expect(r.stdout.endsWith(bound ? `${group}\n${caps.vfioDeviceCdev ? 'devices\n' : ''}vfio\n` : 'vfio\n')).toBe(true);
  });
});
