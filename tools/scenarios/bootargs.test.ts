/**
 * Issue 17 acceptance: the kernel command line decides what mainline lets through.
 * - vfio_iommu_type1.allow_unsafe_interrupts: mainline vfio_iommu_type1_attach_group ->
 *   iommu_group_has_isolated_msi (-EPERM and its pr_warn at VFIO_SET_IOMMU);
 * - vfio_platform.reset_required: mainline vfio_platform_init_common ->
 *   vfio_platform_get_reset (-ENOENT, "No reset function found for device %s");
 * the 2014 profiles have neither rule.
 */
import { describe, expect, it } from 'vitest';
import { ENOENT, EPERM } from '../../kernel-model/base/errno.js';
import { sysRead, sysWrite } from '../../kernel-model/testing/fixtures.js';
import { System } from '../system/system.js';
import { runPl330 } from './pl330.js';

const BOARD_LINE = 'vfio_iommu_type1.allow_unsafe_interrupts=1 vfio_platform.reset_required=0';
const NO_INTR_REMAP = 'vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param "allow_unsafe_interrupts" to enable VFIO IOMMU support on this platform';
const NO_RESET = 'vfio-platform 2c0a0000.dma: VFIO: No reset function found for device 2c0a0000.dma';

describe('pl330-vfio-test and the kernel command line', () => {
  // [profile, --bootargs (undefined: the board's), outcome, SET_IOMMU result, kernel line that must appear (deciding function), line that must not]
  const rows: Array<[string, string | undefined, string, number | null, string | null, string | null]> = [
    ['mainline', undefined, 'pass', 0, null, NO_INTR_REMAP],
    // the PL330 is an AMBA device bound by vfio-amba, whose vfio_amba_init_dev sets
    // reset_required false: the bind succeeds whatever vfio_platform.reset_required says, and
    // vfio_iommu_type1_attach_group refuses the non-isolated interrupts
    ['mainline', '', 'stop:set-iommu', -EPERM, NO_INTR_REMAP, NO_RESET],
    ['mainline', 'vfio_iommu_type1.allow_unsafe_interrupts=1', 'pass', 0, null, NO_RESET],
    // vfio_iommu_type1_attach_group: the PL330's wired GIC interrupts are not isolated MSIs
    ['mainline', 'vfio_platform.reset_required=0', 'stop:set-iommu', -EPERM, NO_INTR_REMAP, NO_RESET],
    ['mainline', 'vfio_platform.reset_required=0 vfio_iommu_type1.allow_unsafe_interrupts=y', 'pass', 0, null, NO_INTR_REMAP],
    // mainline parse_args goes on after a bad value: reset_required=0 still applies
    ['mainline', 'vfio_iommu_type1.allow_unsafe_interrupts=x vfio_platform.reset_required=0', 'stop:set-iommu', -EPERM, "Booting kernel: `x' invalid for parameter `vfio_iommu_type1.allow_unsafe_interrupts'", null],
    // 3.14 + the series: type1 asks IOMMU_CAP_INTR_REMAP for PCI only (patch 03), no reset rule
    ['rfc-v4', '', 'pass', 0, 'Kernel command line: ', NO_INTR_REMAP],
    ['rfc-v4', BOARD_LINE, 'pass', 0, null, NO_INTR_REMAP],
  ];
  it.each(rows)('%s --bootargs %j: %s', (profile, bootargs, outcome, setIommu, present, absent) => {
    const r = runPl330({ profile, board: 'vexpress-vfio', seed: 1, bootargs });
    expect(r.outcome).toBe(outcome);
    expect(r.expected).toBe(outcome);
    expect(r.passed).toBe(true);
    const si = r.steps.find((s) => s.step === 'set-iommu');
    if (setIommu === null) expect(si?.ok ?? false).toBe(false);
    else expect(Number(si!.detail)).toBe(setIommu);
    const log = r.system.kernel.log.records.map((x) => (x.prefix ? `${x.prefix}: ${x.msg}` : x.msg));
    expect(log).toContain(`Kernel command line: ${bootargs ?? BOARD_LINE}`);
    if (present !== null) expect(log).toContain(present);
    if (absent !== null) expect(log).not.toContain(absent);
    if (outcome === 'stop:set-iommu') {
      // the scenario reports the errno and the kernel's reason
      expect(r.output).toContain('[VFIO_SET_IOMMU: -EPERM]');
      expect(r.output).toContain(`[kernel: ${NO_INTR_REMAP}]`);
    }
  });
});

describe('vfio_platform.reset_required with a device that stays a platform device (test-dma)', () => {
  const dev = '2c0b0000.dma';
  function bindTestDma(bootargs: string): { sys: System; rc: number } {
    const sys = new System({ profile: 'mainline', board: 'vexpress-vfio-shared-group', bootargs });
    const fs = sys.kernel.sysfs;
    sysWrite(fs, `/sys/bus/platform/devices/${dev}/driver_override`, 'vfio-platform\n');
    sysWrite(fs, `/sys/bus/platform/drivers/test-dma/unbind`, `${dev}\n`);
    const rc = sysWrite(fs, '/sys/bus/platform/drivers_probe', `${dev}\n`);
    return { sys, rc };
  }

  it('reset_required=Y (default): the probe fails with -ENOENT and the real message; drivers_probe itself succeeds', () => {
    const { sys, rc } = bindTestDma('vfio_iommu_type1.allow_unsafe_interrupts=1');
    expect(rc).toBe(dev.length + 1);
    expect(sysRead(sys.kernel.sysfs, '/sys/module/vfio_platform/parameters/reset_required')).toBe('Y\n');
    const log = sys.kernel.log.records.map((x) => (x.prefix ? `${x.prefix}: ${x.msg}` : x.msg));
    expect(log).toContain(`vfio-platform ${dev}: VFIO: No reset function found for device ${dev}`);
    expect(log.some((l) => l.includes(`vfio-platform ${dev}: probe with driver vfio-platform failed with error -${ENOENT}`))).toBe(true);
    expect([...sys.vfioPlatform!.devices.keys()].map((d) => d.name)).not.toContain(dev);
    expect(sys.kernel.driverCore.findDevice('platform', dev)!.driver).toBeNull();
  });

  it('reset_required=0: bound, and the private struct says resetRequired false', () => {
    const { sys } = bindTestDma('vfio_platform.reset_required=0');
    expect(sysRead(sys.kernel.sysfs, '/sys/module/vfio_platform/parameters/reset_required')).toBe('N\n');
    const vdev = [...sys.vfioPlatform!.devices.values()].find((v) => v.pdev.name === dev);
    expect(vdev?.resetRequired).toBe(false);
    expect(sys.kernel.driverCore.findDevice('platform', dev)!.driver?.name).toBe('vfio-platform');
  });

  it('the 2014 series binds it whatever the command line (no reset_required in patch 04)', () => {
    const sys = new System({ profile: 'rfc-v4', board: 'vexpress-vfio-shared-group', bootargs: '' });
    const fs = sys.kernel.sysfs;
    sysWrite(fs, `/sys/bus/platform/drivers/test-dma/unbind`, `${dev}\n`);
    sysWrite(fs, '/sys/bus/platform/drivers/vfio-platform/vfio_bind', `${dev}\n`);
    const vdev = [...sys.vfioPlatform!.devices.values()].find((v) => v.pdev.name === dev);
    expect(vdev?.resetRequired).toBe(false);
    expect(sys.kernel.sysfs.lookup('module/vfio_platform')).toBeNull();
  });
});
