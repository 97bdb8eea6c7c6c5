/**
 * Interrupt isolation at VFIO_SET_IOMMU's group attach (capability `type1MsiIsolation`):
 * mainline vfio_iommu_type1_attach_group -> iommu_group_has_isolated_msi (-EPERM + pr_warn
 * unless allow_unsafe_interrupts) / 3.14 vfio_iommu_type1_attach_group ->
 * iommu_domain_has_cap(IOMMU_CAP_INTR_REMAP), asked only for PCI (patch 03).
 */
import { describe, expect, it } from 'vitest';
import { EPERM } from '../base/errno.js';
import { KernelLog } from '../base/klog.js';
import { builtinParams } from '../base/module-params.js';
import { KernelParams } from '../base/params.js';
import { parseProfile } from '../profile.js';
import { Sysfs } from '../sysfs/sysfs.js';
import { VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU } from '../uapi/constants.js';
import { FakeIommu, fakeDevice } from './testing/fake-iommu.js';
import { iommuGroupHasIsolatedMsi, NO_INTR_REMAP, Type1Driver, type Type1Iommu } from './type1.js';

function setup(profile: string, cmdline: string) {
  const caps = parseProfile(profile).caps;
  const log = new KernelLog(() => 0);
  const params = new KernelParams(log, caps.cmdlineRules);
  for (const d of builtinParams(caps)) params.declare(d);
  params.parseCommandLine(cmdline);
  const sysfs = new Sysfs();
  params.exposeSysfs(sysfs);
  const iommu = new FakeIommu(['platform']);
  iommu.addGroup(0, [fakeDevice('2c0a0000.dma')]);
  const t1 = new Type1Driver({ iommu, caps, log, params }, 'platform', false);
  return { t1, log, iommu, sysfs, group: iommu.groups()[0]! };
}

describe('vfio_iommu_type1_attach_group: isolated MSI', () => {
  // [profile, command line, type, attach result, warned]
  const rows: Array<[string, string, number, number, boolean]> = [
    ['mainline', '', VFIO_TYPE1_IOMMU, -EPERM, true],
    ['mainline', '', VFIO_TYPE1v2_IOMMU, -EPERM, true],
    ['mainline', 'vfio_iommu_type1.allow_unsafe_interrupts=1', VFIO_TYPE1v2_IOMMU, 0, false],
    ['mainline', 'vfio_iommu_type1.allow_unsafe_interrupts=off', VFIO_TYPE1_IOMMU, -EPERM, true],
    ['rfc-v4', '', VFIO_TYPE1_IOMMU, 0, false],
    ['patches:1-3', '', VFIO_TYPE1_IOMMU, 0, false],
  ];
  it.each(rows)('%s %j type %d: %d', (profile, cmdline, type, want, warned) => {
    const { t1, log, group, iommu } = setup(profile, cmdline);
    const it1 = t1.open(type) as Type1Iommu;
    expect(typeof it1).toBe('object');
    expect(t1.attachGroup(it1, group)).toBe(want);
    expect(log.records.some((r) => r.msg === `vfio_iommu_type1_attach_group: ${NO_INTR_REMAP}`)).toBe(warned);
    // out_detach: the refused group is not left attached
    if (want < 0) expect(it1.groups).toHaveLength(0);
    if (want < 0) expect(iommu.attached.has(group)).toBe(false);
  });

  it('allow_unsafe_interrupts is read at attach time: a write to its 0644 sysfs file applies to the next SET_IOMMU', () => {
    const { t1, group, sysfs } = setup('mainline', '');
    const a = t1.open(VFIO_TYPE1_IOMMU) as Type1Iommu;
    expect(t1.attachGroup(a, group)).toBe(-EPERM);
    const f = sysfs.lookup('module/vfio_iommu_type1/parameters/allow_unsafe_interrupts');
    if (!f || f.kind !== 'file') throw new Error('no parameter file');
    expect(f.attr.store!('Y\n')).toBe(2);
    expect(t1.attachGroup(a, group)).toBe(0);
  });

  it('dma_entry_limit from the command line sizes a new container (mainline vfio_iommu_type1_open)', () => {
    const { t1 } = setup('mainline', 'vfio_iommu_type1.dma_entry_limit=3 vfio_iommu_type1.allow_unsafe_interrupts=1');
    expect((t1.open(VFIO_TYPE1_IOMMU) as Type1Iommu).dmaAvail).toBe(3);
    const old = setup('rfc-v4', 'vfio_iommu_type1.dma_entry_limit=3');
    expect((old.t1.open(VFIO_TYPE1_IOMMU) as Type1Iommu).dmaAvail).toBe(0);
  });

  it('iommu_group_has_isolated_msi: no device of the board has an isolating MSI domain; an empty group is vacuously isolated', () => {
    expect(iommuGroupHasIsolatedMsi({ id: 0, devices: [fakeDevice('a')] })).toBe(false);
    expect(iommuGroupHasIsolatedMsi({ id: 1, devices: [] })).toBe(true);
  });
});
