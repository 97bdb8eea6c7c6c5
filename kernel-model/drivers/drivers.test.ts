import { describe, expect, it } from 'vitest';
import { Domain } from '../iommu/core.js';
import { IOMMU_READ, IOMMU_WRITE } from '../iommu/types.js';
import { bootWithFakes, sysWrite } from '../testing/fixtures.js';
import {
  ArmSmmu, CBAR_TYPE_S1_TRANS_S2_BYPASS, CB_FAR_LO, CB_FSR, CB_FSYNR0, CB_MAIR0, CB_SCTLR, CB_TLBIASID, CB_TTBCR,
  CB_TTBR0_HI, CB_TTBR0_LO, FSR_TF, FSR_PF, FSYNR0_IND, GR0_S2CR, GR0_SMR, GR0_sCR0, GR0_sGFSR, GR0_sGFSYNR0, GR0_sGFSYNR1, GR0_sGFSYNR2, FSR_TLBMCF,
  GR0_sTLBGSYNC, S2CR_TYPE_BYPASS, SCTLR_AFE, SCTLR_ASIDPNE, SCTLR_CFIE, SCTLR_CFRE, SCTLR_M,
  SCTLR_TRE, SCTLR_CFCFG, FSR_SS, CB_RESUME, RESUME_TERMINATE, sCR0_CLIENTPD, sCR0_GCFGFIE, sCR0_GCFGFRE, sCR0_GFIE, sCR0_GFRE, sCR0_USFCFG, SMR_VALID, TTBCR_EAE,
} from './arm-smmu.js';
import { ArmSmmuDriver } from './arm-smmu-driver.js';
import { partitionMasters } from './arm-smmu-of.js';

const CB0 = 0x8000;

describe('arm-smmu driver (register-file fake)', () => {
  it('probes through the ID registers and logs the configuration', () => {
    const { k } = bootWithFakes('rfc-v4');
    const lines = k.log.lines().join('\n');
    expect(lines).toMatch(/arm-smmu 2b400000.iommu: probing hardware configuration/);
    expect(lines).toMatch(/stream matching with 8 register groups, mask 0x7fff/);
    expect(lines).toMatch(/4 context banks \(0 stage-2 only\)/);
    expect(k.driverCore.findDevice('platform', '2b400000.iommu')?.driver?.name).toBe('arm-smmu');
    const smmu = k.drivers.armSmmu.first!;
    expect(smmu.numContextBanks).toBe(4);
    expect(smmu.numMappingGroups).toBe(8);
    expect(smmu.ias).toBe(40);
  });

  it('resets the SMMU: SMRs invalid, S2CRs bypass, fault reporting on, client access enabled, global IRQ requested', () => {
    const { smmu, irq } = bootWithFakes('rfc-v4');
    for (let i = 0; i < 8; i++) {
      expect(smmu.get(GR0_SMR(i)) & SMR_VALID).toBe(0);
      expect(smmu.get(GR0_S2CR(i))).toBe(S2CR_TYPE_BYPASS);
    }
    const cr0 = smmu.get(GR0_sCR0);
    expect(cr0 & (sCR0_GFRE | sCR0_GFIE | sCR0_GCFGFRE | sCR0_GCFGFIE)).toBe(sCR0_GFRE | sCR0_GFIE | sCR0_GCFGFRE | sCR0_GCFGFIE);
    expect(cr0 & (sCR0_CLIENTPD | sCR0_USFCFG)).toBe(0);
    expect(smmu.writes.some(([o]) => o === 0x68)).toBe(true); // TLBIALLNSNH
    expect(smmu.writes.some(([o]) => o === GR0_sTLBGSYNC)).toBe(true);
    expect(irq.handlers.get(72)?.[0]?.name).toBe('arm-smmu global fault');
  });

  it('creates one IOMMU group per set of indistinguishable masters, numbered from 0', () => {
    const one = bootWithFakes('rfc-v4').k;
    expect(one.iommu.groups().map((g) => g.devices.map((d) => d.name))).toEqual([['2c0a0000.dma']]);
    expect(one.sysfs.list('kernel/iommu_groups')).toEqual(['0']);
    expect(one.sysfs.lookupNoFollow('kernel/iommu_groups/0/devices/2c0a0000.dma')).toEqual({ kind: 'link', target: '/sys/devices/platform/2c0a0000.dma' });
    expect(one.sysfs.lookupNoFollow('bus/platform/devices/2c0a0000.dma/iommu_group')).toEqual({ kind: 'link', target: '/sys/kernel/iommu_groups/0' });
    // one stream id, two masters: 3.14 arm_smmu_add_device gives each master its own group;
    // mainline arm_smmu_device_group puts them in the group of the shared stream-map entry
    const shared = bootWithFakes('rfc-v4', { testDma: true }).k;
    expect(shared.iommu.groups().map((g) => g.devices.map((d) => d.name))).toEqual([['2c0a0000.dma'], ['2c0b0000.dma']]);
    const sharedMainline = bootWithFakes('mainline', { testDma: true }).k;
    expect(sharedMainline.iommu.groups().map((g) => g.devices.map((d) => d.name))).toEqual([['2c0a0000.dma', '2c0b0000.dma']]);
    for (const p of ['rfc-v4', 'mainline']) {
      const apart = bootWithFakes(p, { testDma: true, testDmaSid: 2 }).k;
      expect(apart.iommu.groups().map((g) => g.id)).toEqual([0, 1]);
      expect(apart.iommu.groupOf(apart.driverCore.findDevice('platform', '2c0b0000.dma')!)?.id).toBe(1);
    }
  });

  it('partitions masters by overlapping stream ids, merging bridged sets', () => {
    const m = (name: string, ids: number[]) => ({ name, streamIds: ids }) as never;
    const groups = partitionMasters([m('a', [1]), m('b', [2]), m('c', [3]), m('d', [2, 1])]);
    expect(groups.map((g) => g.map((x: { name: string }) => x.name))).toEqual([['a', 'd', 'b'], ['c']]);
  });

  it('attach programs SMR, S2CR and the context bank; unmap invalidates by ASID; detach restores bypass', () => {
    const { k, smmu, irq } = bootWithFakes('rfc-v4');
    const d = k.iommu.domainAlloc('platform') as Domain;
    const g = k.iommu.groups()[0]!;
    expect(k.iommu.attachGroup(d, g)).toBe(0);
    const cb = ArmSmmu.contextBankOf(d);
    expect(cb).toBe(0);
    expect(smmu.get(GR0_SMR(0))).toBe((SMR_VALID | 1) >>> 0);
    expect(smmu.get(GR0_S2CR(0))).toBe(0);
    const cbar = smmu.get(0x1000);
    expect(cbar & (3 << 16)).toBe(CBAR_TYPE_S1_TRANS_S2_BYPASS);
    // SMMUv1: context interrupts round-robin from index 1 (atomic_inc_return(&smmu->irptndx))
    expect(cbar >>> 24).toBe(1);
    const pgd = ArmSmmu.pgtableOf(d)!.pgd;
    expect(smmu.get(CB0 + CB_TTBR0_LO)).toBe(pgd);
    expect(smmu.get(CB0 + CB_TTBR0_HI)).toBe(0 << 16);
    expect((smmu.get(CB0 + CB_TTBCR) & TTBCR_EAE) >>> 0).toBe(TTBCR_EAE >>> 0);
    expect(smmu.get(CB0 + CB_TTBCR) & 0xf).toBe(0);
    expect(smmu.get(CB0 + CB_MAIR0)).toBe(0x0004ff44);
    // 3.14 arm_smmu_init_context_bank: CFCFG (stall on context fault) with CFIE/CFRE
    expect(smmu.get(CB0 + CB_SCTLR)).toBe(SCTLR_M | SCTLR_TRE | SCTLR_AFE | SCTLR_CFRE | SCTLR_CFIE | SCTLR_CFCFG | SCTLR_ASIDPNE);
    expect(irq.handlers.get(74)?.[0]?.name).toBe('arm-smmu-context-fault');

    d.map(0x1000, 0x81000000, 0x1000, IOMMU_READ | IOMMU_WRITE);
    smmu.writes.length = 0;
    expect(d.unmap(0x1000, 0x1000)).toBe(0x1000);
    expect(smmu.writes.map(([o]) => o)).toEqual([CB0 + CB_TLBIASID, GR0_sTLBGSYNC]);

    // a domain gets a context bank only when first attached
    const d2 = k.iommu.domainAlloc('platform') as Domain;
    expect(ArmSmmu.contextBankOf(d2)).toBe(-1);

    k.iommu.detachGroup(d, g);
    expect(smmu.get(GR0_S2CR(0))).toBe(S2CR_TYPE_BYPASS);
    expect(smmu.get(GR0_SMR(0)) & SMR_VALID).toBe(0);
    // the context bank and its interrupt stay with the domain until it is freed
    expect(smmu.get(CB0 + CB_SCTLR) & SCTLR_M).toBe(SCTLR_M);
    expect(irq.handlers.has(74)).toBe(true);
    k.iommu.domainFree(d);
    expect(smmu.get(CB0 + CB_SCTLR)).toBe(0);
    expect(irq.handlers.has(74)).toBe(false);
  });

  it('context fault: reads FSR/FAR/FSYNR0, logs like Linux, records, clears FSR', () => {
    const { k, smmu, irq } = bootWithFakes('rfc-v4');
    const d = k.iommu.domainAlloc('platform') as Domain;
    k.iommu.attachGroup(d, k.iommu.groups()[0]!);
    smmu.regs.set(CB0 + CB_FSR, FSR_PF);
    smmu.regs.set(CB0 + CB_FAR_LO, 0x10000040);
    smmu.regs.set(CB0 + CB_FSYNR0, FSYNR0_IND);
    expect(irq.fire(74)).toBe(0); // unhandled by a domain fault handler: IRQ_NONE as the 2014 driver
    expect(k.log.grep(/Unhandled context fault: iova=0x10000040, fsynr=0x40, cb=0/).length).toBe(1);
    expect(k.drivers.armSmmu.first!.contextFaults).toEqual([{ t: 0, iova: 0x10000040, fsr: FSR_PF, fsynr: FSYNR0_IND, cb: 0 }]);
    expect(smmu.writes.at(-1)).toEqual([CB0 + CB_FSR, FSR_PF]);
    // no fault pending: IRQ_NONE, nothing logged
    expect(irq.fire(74)).toBe(0);
    expect(k.drivers.armSmmu.first!.contextFaults.length).toBe(1);
    // with a domain fault handler that handles it
    d.setFaultHandler((_d, _dev, iova) => (iova === 0x2000 ? 0 : -1));
    smmu.regs.set(CB0 + CB_FSR, FSR_TF);
    smmu.regs.set(CB0 + CB_FAR_LO, 0x2000);
    expect(irq.fire(74)).toBe(1);
    expect(k.log.grep(/Unhandled context fault/).length).toBe(1);
  });

  it('SCTLR per profile: 3.14 sets CFCFG (stall), mainline does not (terminate)', () => {
    for (const [profile, cfcfg] of [['baseline', SCTLR_CFCFG], ['patches:1-3', SCTLR_CFCFG], ['rfc-v4', SCTLR_CFCFG], ['mainline', 0]] as const) {
      const { k, smmu } = bootWithFakes(profile);
      const d = k.iommu.domainAlloc('platform') as Domain;
      expect(k.iommu.attachGroup(d, k.iommu.groups()[0]!)).toBe(0);
      expect(smmu.get(CB0 + CB_SCTLR) & SCTLR_CFCFG, profile).toBe(cfcfg);
    }
  });

  it('an unhandled stalled context fault: FSR cleared, RESUME_TERMINATE written, IRQ_NONE (3.14); mainline v6.12 writes FSR back, no RESUME, IRQ_HANDLED', () => {
    for (const [profile, ret] of [['rfc-v4', 0], ['mainline', 1]] as const) {
      const { k, smmu, irq } = bootWithFakes(profile);
      const d = k.iommu.domainAlloc('platform') as Domain;
      k.iommu.attachGroup(d, k.iommu.groups()[0]!);
      smmu.regs.set(CB0 + CB_FSR, (FSR_TF | FSR_SS) >>> 0);
      smmu.regs.set(CB0 + CB_FAR_LO, 0x3000);
      expect(irq.fire(74), profile).toBe(ret);
      if (profile === 'rfc-v4') expect(smmu.writes.slice(-2)).toEqual([[CB0 + CB_FSR, (FSR_TF | FSR_SS) >>> 0], [CB0 + CB_RESUME, RESUME_TERMINATE]]);
      else {
        // arm_smmu_context_fault (v6.12): FSR written back last, CB_RESUME never written
        expect(smmu.writes.slice(-1)).toEqual([[CB0 + CB_FSR, (FSR_TF | FSR_SS) >>> 0]]);
        expect(smmu.writes.filter((w) => w[0] === CB0 + CB_RESUME)).toEqual([]);
      }
    }
  });

  it('"Unhandled context fault" is dev_err_ratelimited: 10 per 5 s, then "callbacks suppressed"', () => {
    const { k, smmu, irq } = bootWithFakes('rfc-v4');
    const d = k.iommu.domainAlloc('platform') as Domain;
    k.iommu.attachGroup(d, k.iommu.groups()[0]!);
    for (let i = 0; i < 25; i++) {
      smmu.regs.set(CB0 + CB_FSR, FSR_TF);
      irq.fire(74);
    }
    expect(k.log.grep(/Unhandled context fault/).length).toBe(10);
    expect(k.drivers.armSmmu.first!.contextFaults.length).toBe(25);
  });

  it('mainline (v6.12) fault reports: arm_smmu_print_context_fault_info\'s three lines; arm_smmu_global_fault "Blocked unknown Stream ID" for USF, else "Unexpected global fault", with GFSYNR2', () => {
    const { k, smmu, irq } = bootWithFakes('mainline');
    const d = k.iommu.domainAlloc('platform') as Domain;
    expect(k.iommu.attachGroup(d, k.iommu.groups()[0]!)).toBe(0);
    smmu.regs.set(CB0 + CB_FSR, FSR_PF);
    smmu.regs.set(CB0 + CB_FAR_LO, 0x3004);
    smmu.regs.set(CB0 + CB_FSYNR0, FSYNR0_IND | 2);
    smmu.regs.set(0x1000 + 0x400, 1); // GR1 CBFRSYNRA0: stream id 1
    expect(irq.fire(74)).toBe(1);
    expect(k.log.grep(/arm-smmu 2b400000.iommu: (Unhandled|FSR |FSYNR0)/).map((l) => l.msg)).toEqual([
      'Unhandled context fault: fsr=0x8, iova=0x00003004, fsynr=0x42, cbfrsynra=0x1, cb=0',
      'FSR    = 00000008 [Format=0 PF], SID=0x1',
      'FSYNR0 = 00000042 [S1CBNDX=0 IND PLVL=2]',
    ]);
    smmu.regs.set(GR0_sGFSR, 2);
    smmu.regs.set(GR0_sGFSYNR1, 0x10001);
    expect(irq.fire(72)).toBe(1);
    smmu.regs.set(GR0_sGFSR, 4);
    expect(irq.fire(72)).toBe(1);
    expect(k.log.grep(/Blocked|Unexpected global|GFSR 0x/).map((l) => l.msg)).toEqual([
      'Blocked unknown Stream ID 0x1; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications',
      '\tGFSR 0x00000002, GFSYNR0 0x00000000, GFSYNR1 0x00010001, GFSYNR2 0x00000000',
      'Unexpected global fault, this could be serious',
      '\tGFSR 0x00000004, GFSYNR0 0x00000000, GFSYNR1 0x00010001, GFSYNR2 0x00000000',
    ]);
  });

  it('arm-smmu.disable_bypass (the module-parameter seam): default on in mainline, "0"/"n"/"off" turn it off, absent in 3.14', () => {
    const cases: [string, string | undefined, boolean][] = [
      ['mainline', undefined, true], ['mainline', '1', true], ['mainline', 'Y', true], ['mainline', '0', false],
      ['mainline', 'n', false], ['mainline', 'off', false], ['mainline', 'bogus', true], ['rfc-v4', '1', false],
    ];
    for (const [profile, v, want] of cases) {
      const { k } = bootWithFakes(profile);
      const drv = new ArmSmmuDriver(k, (name) => (name === 'arm-smmu.disable_bypass' ? v : undefined));
      expect(drv.disableBypass(), `${profile} ${v}`).toBe(want);
    }
  });

  it('global fault (3.14): reads sGFSYNR0-2, never sGFAR, logs GFSR and the three syndromes, clears', () => {
    const { k, smmu, irq } = bootWithFakes('rfc-v4');
    smmu.regs.set(GR0_sGFSR, 2);
    smmu.regs.set(GR0_sGFSYNR1, 7);
    smmu.regs.set(GR0_sGFSYNR2, 9);
    const before = smmu.reads.length;
    expect(irq.fire(72)).toBe(1);
    expect(smmu.reads.slice(before)).toEqual([GR0_sGFSR, GR0_sGFSYNR0, GR0_sGFSYNR1, GR0_sGFSYNR2]);
    expect(k.log.grep(/Unexpected global fault, this could be serious/).length).toBe(1);
    expect(k.log.grep(/GFSR/).map((l) => l.msg)).toEqual(['\tGFSR 0x00000002, GFSYNR0 0x00000000, GFSYNR1 0x00000007, GFSYNR2 0x00000009']);
    expect(smmu.get(GR0_sGFSR)).toBe(0);
    expect(irq.fire(72)).toBe(0);
  });

  it('global fault (3.14): both lines are dev_err_ratelimited, 10 each per interval', () => {
    const { k, smmu, irq } = bootWithFakes('rfc-v4');
    for (let i = 0; i < 15; i++) {
      smmu.regs.set(GR0_sGFSR, 2);
      irq.fire(72);
    }
    expect(k.log.grep(/Unexpected global fault/).length).toBe(10);
    expect(k.log.grep(/\tGFSR 0x/).length).toBe(10);
  });

  it('3.14 context fault: FSR_IGN bits first give "Unexpected context fault", the value printed in decimal after 0x ("0x%u")', () => {
    const { k, smmu, irq } = bootWithFakes('rfc-v4');
    const d = k.iommu.domainAlloc('platform') as Domain;
    k.iommu.attachGroup(d, k.iommu.groups()[0]!);
    smmu.regs.set(CB0 + CB_FSR, FSR_TLBMCF);
    irq.fire(74);
    expect(k.log.grep(/Unexpected context fault/).map((l) => l.msg)).toEqual(['Unexpected context fault (fsr 0x32)']);
    smmu.regs.set(CB0 + CB_FSR, FSR_TF);
    irq.fire(74);
    expect(k.log.grep(/Unexpected context fault/).length).toBe(1);
  });

  it('allocates context banks lowest-free first; a domain keeps its bank across detach and re-attach; freeing the domain frees it', () => {
    const { k } = bootWithFakes('rfc-v4', { testDma: true, testDmaSid: 2 });
    const [g0, g1] = k.iommu.groups();
    const ds = [0, 1, 2].map(() => k.iommu.domainAlloc('platform') as Domain);
    expect(k.iommu.attachGroup(ds[0]!, g0!)).toBe(0);
    expect(k.iommu.attachGroup(ds[1]!, g1!)).toBe(0);
    expect(ArmSmmu.contextBankOf(ds[1]!)).toBe(1);
    k.iommu.detachGroup(ds[0]!, g0!);
    expect(ArmSmmu.contextBankOf(ds[0]!)).toBe(0);
    expect(k.iommu.attachGroup(ds[2]!, g0!)).toBe(0);
    expect(ArmSmmu.contextBankOf(ds[2]!)).toBe(2);
    k.iommu.detachGroup(ds[2]!, g0!);
    // re-attached, the domain finds its context finalised (3.14 arm_smmu_attach_dev)
    expect(k.iommu.attachGroup(ds[0]!, g0!)).toBe(0);
    expect(ArmSmmu.contextBankOf(ds[0]!)).toBe(0);
    k.iommu.detachGroup(ds[0]!, g0!);
    k.iommu.domainFree(ds[0]!);
    const d3 = k.iommu.domainAlloc('platform') as Domain;
    expect(k.iommu.attachGroup(d3, g0!)).toBe(0);
    expect(ArmSmmu.contextBankOf(d3)).toBe(0);
    // context interrupts went round-robin, once per finalised domain: 1, 2, 3, then 4 % 4 = 0
    const smmu = k.drivers.armSmmu.first!;
    expect(smmu.irptndxCounter).toBe(4);
  });
});

describe('host PL330 driver (register-file fake)', () => {
  it('probes through CR0/CRD and the ids, logs the Linux probe line, requests all five IRQs', () => {
    const { k, irq } = bootWithFakes('rfc-v4');
    expect(k.log.grep(/dma-pl330 2c0a0000.dma: Loaded driver for PL330 DMAC-241330/).length).toBe(1);
    expect(k.log.grep(/DBUFF-256x16bytes Num_Chans-8 Num_Peri-4 Num_Events-16/).length).toBe(1);
    for (let v = 124; v <= 128; v++) expect(irq.handlers.get(v)?.[0]?.name).toBe('2c0a0000.dma');
  });

  it('unbinding frees its IRQs; rebinding requests them again', () => {
    const { k, irq } = bootWithFakes('mainline');
    sysWrite(k.sysfs, '/sys/bus/amba/drivers/dma-pl330/unbind', '2c0a0000.dma\n');
    for (let v = 124; v <= 128; v++) expect(irq.handlers.has(v)).toBe(false);
    sysWrite(k.sysfs, '/sys/bus/amba/drivers/dma-pl330/bind', '2c0a0000.dma\n');
    expect(irq.handlers.get(124)?.length).toBe(1);
  });

  it('refuses a device whose PrimeCell id is wrong', () => {
    const { k, pl330 } = bootWithFakes('mainline');
    sysWrite(k.sysfs, '/sys/bus/amba/drivers/dma-pl330/unbind', '2c0a0000.dma\n');
    pl330.regs.set(0xff0, 0);
    expect(sysWrite(k.sysfs, '/sys/bus/amba/drivers/dma-pl330/bind', '2c0a0000.dma\n')).toBe(-22);
    expect(k.log.grep(/PERIPH_ID 0x241330, PCELL_ID 0xb105f000 !/).length).toBe(1);
  });

  it('the handler acknowledges events through INTCLR', () => {
    const { k, pl330, irq } = bootWithFakes('rfc-v4');
    pl330.regs.set(0x20, 1);
    pl330.regs.set(0x24, 1);
    expect(irq.fire(124)).toBe(1);
    expect(pl330.writes.at(-1)).toEqual([0x2c, 1]);
    expect(k.drivers.pl330.hosts[0]!.events).toBe(1);
  });
});
