/**
 * Where the SMMU's table-walk coherency comes from, and what VFIO makes of it: 3.14 reads
 * sIDR0.CTTW (arm_smmu_device_cfg_probe); v6.12 believes the firmware only (the SMMU node's
 * `dma-coherent`, arm_smmu_device_dt_probe), answers IOMMU_CAP_CACHE_COHERENCY from that or the
 * device's own `dma-coherent` (arm_smmu_capable), and VFIO refuses a device without it
 * (__vfio_register_dev, "vfio: Require that devices support DMA cache coherence"). Also each
 * kernel's cfg_probe lines (`smmuCfgProbe`).
 */
import { describe, expect, it } from 'vitest';
import { loadBoardSource } from '../../emulator/machine.js';
import { System } from '../../tools/system/system.js';
import { PL330, User, bindToVfio } from '../vfio/platform/testing/user.js';

/** the default board with the SMMU node's dma-coherent taken away (and optionally given to the PL330) */
function boot(profile: 'rfc-v4' | 'mainline', opts: { smmuCoherent?: boolean; dmaCoherent?: boolean } = {}): System {
  const src = loadBoardSource('vexpress-vfio');
  let text = src.text;
  if (opts.smmuCoherent === false) {
    text = text.replace(/\n\t\tdma-coherent;\n/, '\n');
    expect(text).not.toBe(src.text);
  }
  if (opts.dmaCoherent) {
    const t2 = text.replace(/(dma0: dma@2c0a0000 \{\n)/, '$1\t\tdma-coherent;\n');
    expect(t2).not.toBe(text);
    text = t2;
  }
  return new System({ profile, boardSource: { ...src, text } });
}

const smmuLines = (sys: System): string[] => sys.kernel.log.records.filter((r) => r.prefix.startsWith('arm-smmu')).map((r) => `${r.level}: ${r.msg}`);

describe('SMMU coherency: the ID register (3.14) or the firmware (v6.12)', () => {
  it('v6.12 with a dma-coherent SMMU node (the boards here): coherent walk, VFIO takes the PL330', () => {
    const sys = boot('mainline');
    expect(smmuLines(sys)).toContain('notice: \tcoherent table walk');
    expect(smmuLines(sys).some((l) => l.includes('overridden'))).toBe(false);
    const u = new User(sys);
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    expect(u.open('/dev/vfio/0')).toBeGreaterThanOrEqual(0);
  });

  it('v6.12 without it: "non-coherent table walk", CTTW overridden, and vfio-platform cannot register the device (-EINVAL)', () => {
    const sys = boot('mainline', { smmuCoherent: false });
    const lines = smmuLines(sys);
    expect(lines).toContain('notice: \tnon-coherent table walk');
    expect(lines).toContain('notice: \t(IDR0.CTTW overridden by FW configuration)');
    const u = new User(sys);
    bindToVfio(u, PL330);
    // the PL330 is an AMBA device on mainline: vfio-amba's probe (vfio_amba_probe ->
    // vfio_register_group_dev) fails; no group node, no driver
    expect(u.open('/dev/vfio/0')).toBeLessThan(0);
    expect(u.readlink(`/sys/bus/amba/devices/${PL330}/driver`)).toBeLessThan(0);
    expect(sys.kernel.log.lines().join('\n')).toMatch(/vfio-amba.*-22/);
  });

  it('v6.12: a dma-coherent device behind a non-coherent SMMU is accepted (arm_smmu_capable asks the device too)', () => {
    const sys = boot('mainline', { smmuCoherent: false, dmaCoherent: true });
    const u = new User(sys);
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    expect(u.open('/dev/vfio/0')).toBeGreaterThanOrEqual(0);
  });

  it('3.14 ignores the property: CTTW decides, VFIO has no coherency check', () => {
    const sys = boot('rfc-v4', { smmuCoherent: false });
    expect(smmuLines(sys)).toContain('notice: \tcoherent table walk');
    const u = new User(sys);
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    expect(u.open('/dev/vfio/0')).toBeGreaterThanOrEqual(0);
  });
});

describe('arm_smmu_device_cfg_probe lines (smmuCfgProbe)', () => {
  it('3.14: the version from PIDR2, the SMR mask probed on SMR0, the VA/IPA/PA summary', () => {
    // (3.14 arm_smmu_device_dt_probe walks mmu-masters before cfg_probe)
    expect(smmuLines(boot('rfc-v4'))).toEqual([
      'notice: registered 2 master devices',
      'notice: probing hardware configuration...',
      'notice: SMMUv1 with:',
      'notice: \tstage 1 translation',
      'notice: \tcoherent table walk',
      'notice: \tstream matching with 8 register groups, mask 0x7fff',
      'notice: \t4 context banks (0 stage-2 only)',
      'notice: \t32-bit VA, 32-bit IPA, 40-bit PA',
    ]);
  });

  it('v6.12: address translation ops, page sizes of the long-descriptor format only (PTFS), one Stage-1 line', () => {
    const sys = boot('mainline');
    expect(smmuLines(sys).slice(0, 9)).toEqual([
      'notice: probing hardware configuration...',
      'notice: SMMUv1 with:',
      'notice: \tstage 1 translation',
      'notice: \taddress translation ops',
      'notice: \tcoherent table walk',
      'notice: \tstream matching with 8 register groups',
      'notice: \t4 context banks (0 stage-2 only)',
      'notice: \tSupported page sizes: 0x40201000',
      'notice: \tStage-1: 40-bit VA -> 40-bit IPA',
    ]);
    // arm_smmu_test_smr_masks after the reset: the ID and MASK widths SMR0 keeps (15 bits each)
    const smmu = sys.kernel.drivers.armSmmu.first!;
    expect(smmu.streamidMask).toBe(0x7fff);
    expect(smmu.smrMaskMask).toBe(0x7fff);
  });
});
