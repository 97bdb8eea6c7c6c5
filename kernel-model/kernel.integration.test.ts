/**
 * Integration tests of the kernel model with the real device models (GIC-400, SMMU,
 * PL330, test-dma) on the shipped boards. Needs the gic, smmu, pl330 and dtboard
 * branches merged (file committed as *.pending on the kernel branch).
 */
import { describe, expect, it } from 'vitest';
import { createBoardMachine, type Machine } from '../emulator/machine.js';
import { defaultRegistry } from '../devices/registry.js';
import { gicFactory } from '../devices/gic/index.js';
import { smmuFactory } from '../devices/smmu/index.js';
import { pl330Factory } from '../devices/pl330/index.js';
import { IrqCore } from './irq/index.js';
import { Kernel } from './kernel.js';
import { parseProfile } from './profile.js';
import { Domain } from './iommu/core.js';
import { IOMMU_EXEC, IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE } from './iommu/types.js';
import { ArmSmmu, FSYNR0_IND } from './drivers/arm-smmu.js';
import { sysWrite } from './testing/fixtures.js';

function registry() {
  // the default registry carries the real GIC, SMMU and PL330 models
  const r = defaultRegistry();
  expect(r.get('arm,gic-400')).toBe(gicFactory);
  expect(r.get('arm,mmu-400')).toBe(smmuFactory);
  expect(r.get('arm,pl330')).toBe(pl330Factory);
  return r;
}

function boot(board = 'vexpress-vfio', profile = 'rfc-v4'): { m: Machine; k: Kernel } {
  const m = createBoardMachine(board, registry());
  const k = new Kernel(m, m.tree, parseProfile(profile), ({ hw, log, caps }) => new IrqCore({
    hw, log, caps, cpu: m.cpu, scheduler: m.scheduler, tracer: m.tracer,
    gic: { distBase: 0x2c001000, cpuBase: 0x2c002000, numIrqs: 160 },
  }));
  k.boot();
  return { m, k };
}

const TDMA = 0x2c0b0000;
const PL330 = 0x2c0a0000;

describe('kernel boot on the default board (real devices)', () => {
  it('probes the SMMU, creates groups, binds the PL330 with its Linux probe line', () => {
    const { k } = boot();
    const log = k.log.lines().join('\n');
    expect(log).toMatch(/arm-smmu 2b400000.iommu: \tstream matching with 8 register groups/);
    expect(log).toMatch(/4 context banks/);
    expect(k.sysfs.list('kernel/iommu_groups')).toEqual(['0']);
    expect(k.sysfs.list('kernel/iommu_groups/0/devices')).toEqual(['2c0a0000.dma']);
    expect(k.driverCore.findDevice('platform', '2c0a0000.dma')?.driver?.name).toBe('dma-pl330');
    expect(log).toMatch(/dma-pl330 2c0a0000.dma: Loaded driver for PL330 DMAC-241330/);
  });

  it('irq numbers of the board devices: the GIC IDs under 3.14 (legacy domain), allocated from 16 in boot order under mainline', () => {
    // vexpress-vfio.dts: the SMMU's lines are SPIs 40..44, the PL330's SPIs 92..96
    const old = boot('vexpress-vfio', 'rfc-v4').k;
    expect([0, 1, 2, 3, 4].map((i) => old.driverCore.findDevice('platform', '2c0a0000.dma')!.irq(i))).toEqual([124, 125, 126, 127, 128]);
    expect(old.driverCore.findDevice('platform', '2b400000.iommu')!.irq(0)).toBe(72);
    const now = boot('vexpress-vfio', 'mainline').k;
    const pl330 = [0, 1, 2, 3, 4].map((i) => now.driverCore.findDevice('amba', '2c0a0000.dma')!.irq(i));
    expect(pl330.every((v) => v >= 16 && v < 32)).toBe(true);
    expect(new Set(pl330).size).toBe(5);
  });

  it('the shared-group board: two groups under rfc-v4 (a group per master), one under mainline (grouped by stream id)', () => {
    const old = boot('vexpress-vfio-shared-group', 'rfc-v4').k;
    expect(old.sysfs.list('kernel/iommu_groups')).toEqual(['0', '1']);
    expect(old.sysfs.list('kernel/iommu_groups/0/devices')).toEqual(['2c0a0000.dma']);
    expect(old.sysfs.list('kernel/iommu_groups/1/devices')).toEqual(['2c0b0000.dma']);
    expect(old.driverCore.findDevice('platform', '2c0b0000.dma')?.driver?.name).toBe('test-dma');
    expect(old.log.grep(/arm-smmu 2b400000.iommu: registered 2 master devices/).length).toBe(1);
    const k = boot('vexpress-vfio-shared-group', 'mainline').k;
    expect(k.sysfs.list('kernel/iommu_groups')).toEqual(['0']);
    expect(k.sysfs.list('kernel/iommu_groups/0/devices')).toEqual(['2c0a0000.dma', '2c0b0000.dma']);
    expect(k.driverCore.findDevice('platform', '2c0b0000.dma')?.driver?.name).toBe('test-dma');
    expect(k.log.grep(/deprecated "mmu-masters" DT property in use; DMA API support unavailable/).length).toBe(1);
  });
});

describe('IOMMU through the real SMMU', () => {
  function tdmaCopy(m: Machine, k: Kernel, src: number, dst: number, len: number): number {
    k.hw.writel(7, TDMA + 0x10);
    k.hw.writel(src, TDMA + 0x00);
    k.hw.writel(dst, TDMA + 0x04);
    k.hw.writel(len, TDMA + 0x08);
    k.hw.writel(1, TDMA + 0x0c);
    m.scheduler.runUntilPredicate(() => (m.bus.read(TDMA + 0x10, 4, 0) & 1) === 0, { within: 1_000_000 });
    m.scheduler.runUntil(m.scheduler.now + 100_000);
    return m.bus.read(TDMA + 0x10, 4, 0);
  }

  it('iommu_map then DMA reaches the right physical page; unmap + TLB invalidate faults again', () => {
    const { m, k } = boot('vexpress-vfio-shared-group');
    // leave the test master without its host driver so the test reads its status itself
    sysWrite(k.sysfs, '/sys/bus/platform/drivers/test-dma/unbind', '2c0b0000.dma\n');
    const d = k.iommu.domainAlloc('platform') as Domain;
    expect(k.iommu.attachGroup(d, k.iommu.groups()[0]!)).toBe(0);
    const src = k.mm.pages.allocPage();
    const dst = k.mm.pages.allocPage();
    m.bus.write(src, 4, 0x12345678, 0);
    expect(d.map(0x10000000, src, 0x1000, IOMMU_READ)).toBe(0);
    expect(d.map(0x20000000, dst, 0x1000, IOMMU_READ | IOMMU_WRITE)).toBe(0);
    let st = tdmaCopy(m, k, 0x10000000, 0x20000000, 64);
    expect(st & 4).toBe(0);
    expect(m.bus.read(dst, 4, 0)).toBe(0x12345678);

    expect(d.unmap(0x20000000, 0x1000)).toBe(0x1000);
    m.bus.write(dst, 4, 0, 0);
    st = tdmaCopy(m, k, 0x10000000, 0x20000000, 64);
    expect(st & 4).toBe(4);
    expect(m.bus.read(dst, 4, 0)).toBe(0);
    expect(k.log.grep(/Unhandled context fault: iova=0x20000000/).length).toBe(1);
    const rec = k.drivers.armSmmu.first!.contextFaults.at(-1)!;
    expect(rec.iova).toBe(0x20000000);
    expect(rec.cb).toBe(ArmSmmu.contextBankOf(d));
  });

  it('2014: without IOMMU_EXEC the PL330 instruction fetch faults with IND; with it, the program runs', () => {
    for (const exec of [false, true]) {
      const { m, k } = boot('vexpress-vfio', 'rfc-v4');
      const d = k.iommu.domainAlloc('platform') as Domain;
      expect(k.iommu.attachGroup(d, k.iommu.groups()[0]!)).toBe(0);
      const code = k.mm.pages.allocPage();
      m.bus.write(code, 1, 0x00, 0); // DMAEND
      expect(d.map(0x40000000, code, 0x1000, IOMMU_READ | IOMMU_WRITE | (exec ? IOMMU_EXEC : 0))).toBe(0);
      // DMAGO channel 0 (non-secure), PC 0x40000000, through the debug interface
      k.hw.writel((0xa2 << 16) | (0 << 24), PL330 + 0xd08);
      k.hw.writel(0x40000000, PL330 + 0xd0c);
      k.hw.writel(0, PL330 + 0xd04);
      m.scheduler.runUntil(m.scheduler.now + 2_000_000);
      const faults = k.drivers.armSmmu.first!.contextFaults;
      if (exec) {
        expect(faults.length).toBe(0);
        expect(k.drivers.pl330.hosts[0]!.faults.length).toBe(0);
        expect(m.bus.read(PL330 + 0x100, 4, 0) & 0xf).toBe(0); // channel 0 stopped after DMAEND
      } else {
        expect(faults.length).toBeGreaterThanOrEqual(1);
        expect(faults[0]!.iova).toBe(0x40000000);
        expect(faults[0]!.fsynr & FSYNR0_IND).toBe(FSYNR0_IND);
        expect(k.log.grep(/Unhandled context fault: iova=0x40000000, fsynr=0x[0-9a-f]+, cb=0/).length).toBeGreaterThanOrEqual(1);
        expect(k.drivers.pl330.hosts[0]!.faults.length).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('mainline: mappings are executable unless IOMMU_NOEXEC', () => {
    for (const noexec of [false, true]) {
      const { m, k } = boot('vexpress-vfio', 'mainline');
      const d = k.iommu.domainAlloc('platform') as Domain;
      expect(k.iommu.attachGroup(d, k.iommu.groups()[0]!)).toBe(0);
      const code = k.mm.pages.allocPage();
      expect(d.map(0x40000000, code, 0x1000, IOMMU_READ | IOMMU_WRITE | (noexec ? IOMMU_NOEXEC : 0))).toBe(0);
      k.hw.writel(0xa2 << 16, PL330 + 0xd08);
      k.hw.writel(0x40000000, PL330 + 0xd0c);
      k.hw.writel(0, PL330 + 0xd04);
      m.scheduler.runUntil(m.scheduler.now + 2_000_000);
      expect(k.drivers.armSmmu.first!.contextFaults.length > 0).toBe(noexec);
    }
  });
});

describe('binding with the real interrupt controller', () => {
  it('mainline: unbind + driver_override + drivers_probe frees the host driver IRQs and binds the override', () => {
    const { k } = boot('vexpress-vfio', 'mainline');
    const probed: string[] = [];
    // mainline: the PL330 is an AMBA device (caps.primecellBus), bound through the AMBA bus's files
    k.driverCore.driverRegister({ name: 'vfio-amba', ofMatch: [], probe: (dev) => (probed.push(dev.name), 0), remove: () => {} }, 'amba');
    const line0 = k.driverCore.findDevice('amba', '2c0a0000.dma')!.irq(0);
    expect(k.irq.requestIrq(line0, () => 1, 0, 'y', 'y')).toBe(-16); // held by dma-pl330
    sysWrite(k.sysfs, '/sys/bus/amba/devices/2c0a0000.dma/driver_override', 'vfio-amba\n');
    expect(sysWrite(k.sysfs, '/sys/bus/amba/devices/2c0a0000.dma/driver/unbind', '2c0a0000.dma\n')).toBe(13);
    const virq = k.driverCore.findDevice('amba', '2c0a0000.dma')!.irq(0);
    expect(k.drivers.pl330.hosts.length).toBe(0);
    expect(sysWrite(k.sysfs, '/sys/bus/amba/drivers_probe', '2c0a0000.dma\n')).toBe(13);
    expect(probed).toEqual(['2c0a0000.dma']);
    // the host driver's lines are free again: a new shared request succeeds
    expect(k.irq.requestIrq(virq, () => 1, 0, 'x', 'x')).toBe(0);
  });
});
