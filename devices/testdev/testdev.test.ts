import { describe, expect, test } from 'vitest';
import { isWrite, makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_SLAVE_ERROR } from '../../emulator/bus.js';
import { toyRegistry, type ToyInstance } from '../../emulator/board/testing/toys.js';
import { createMachine, type Machine } from '../../emulator/machine.js';
import { defaultRegistry } from '../registry.js';
import {
  TDMA_BYTES, TDMA_CTRL, TDMA_DST, TDMA_FAULT_ADDR, TDMA_ID, TDMA_ID_VALUE, TDMA_LEN, TDMA_SRC, TDMA_STATUS,
  TDMA_STATUS_BUSY, TDMA_STATUS_DONE, TDMA_STATUS_ERROR, TDMA_ERR_TRANSLATION, TDMA_ERR_DECODE, TDMA_ERRCODE_SHIFT, createTestDma, TEST_DMA_COMPATIBLE,
} from './test-dma.js';
import { TEST_IRQ_ID_VALUE, createTestIrq, TEST_IRQ_COMPATIBLE } from './test-irq.js';

const IRQ_BASE = 0x2c0c_0000;
const DMA_BASE = 0x2c0b_0000;
const RAW_BASE = 0x2c0d_0000; // test-dma without an IOMMU
const A = makeAttrs({});

interface Rig {
  m: Machine;
  gic: ToyInstance;
  smmu: ToyInstance;
}

function rig(): Rig {
  const t = toyRegistry({ translatorOffset: 0x1000_0000, faultLo: 0x7008_0000, faultHi: 0x7008_1000 });
  t.registry.register(TEST_IRQ_COMPATIBLE, createTestIrq);
  t.registry.register(TEST_DMA_COMPATIBLE, createTestDma);
  const dts = `/dts-v1/;
/ {
  #address-cells = <1>;
  #size-cells = <1>;
  interrupt-parent = <&gic>;
  memory@80000000 { device_type = "memory"; reg = <0x80000000 0x100000>; };
  gic: interrupt-controller@2c001000 { compatible = "arm,gic-400"; interrupt-controller; #interrupt-cells = <3>; reg = <0x2c001000 0x1000>; };
  smmu: iommu@2b400000 { compatible = "arm,mmu-400"; reg = <0x2b400000 0x10000>; #iommu-cells = <1>; };
  dma@2c0b0000 { compatible = "vfio-arm-emu,test-dma"; reg = <0x2c0b0000 0x1000>; interrupts = <0 97 4>; iommus = <&smmu 5>; };
  test-irq@2c0c0000 { compatible = "vfio-arm-emu,test-irq"; reg = <0x2c0c0000 0x1000>; interrupts = <0 98 4>; };
  dma@2c0d0000 { compatible = "vfio-arm-emu,test-dma"; reg = <0x2c0d0000 0x1000>; interrupts = <0 99 4>; };
};
`;
  const m = createMachine({ dts, file: 't.dts', registry: t.registry, trace: { enabled: true } });
  return { m, gic: t.created[0]!, smmu: t.created[1]! };
}

const rd = (m: Machine, a: number): number => m.bus.read(a, 4, A);
const wr = (m: Machine, a: number, v: number): number => m.bus.write(a, 4, v, A);

function startDma(m: Machine, base: number, src: number, dst: number, len: number): void {
  wr(m, base + TDMA_SRC, src);
  wr(m, base + TDMA_DST, dst);
  wr(m, base + TDMA_LEN, len);
  wr(m, base + TDMA_CTRL, 1);
}

describe('test-irq', () => {
  test('write 1 raises, 0 lowers, read returns the level; 0x4 pulses', () => {
    const { m, gic } = rig();
    const input = gic.intc!.input('2c0c0000.test-irq:0')!;
    expect(input.spec).toEqual([0, 98, 4]);
    expect(rd(m, IRQ_BASE)).toBe(0);
    expect(wr(m, IRQ_BASE, 1)).toBe(BUS_OK);
    expect(input.level).toBe(true);
    expect(rd(m, IRQ_BASE)).toBe(1);
    expect(m.cpu.irqAsserted).toBe(true);
    wr(m, IRQ_BASE, 0);
    expect(input.level).toBe(false);
    expect(rd(m, IRQ_BASE)).toBe(0);
    gic.intc!.log.length = 0;
    wr(m, IRQ_BASE + 4, 1);
    expect(gic.intc!.log).toEqual(['2c0c0000.test-irq:0=1', '2c0c0000.test-irq:0=0']);
    expect(rd(m, IRQ_BASE)).toBe(0);
    expect(rd(m, IRQ_BASE + 8)).toBe(TEST_IRQ_ID_VALUE);
    expect(m.bus.read(IRQ_BASE, 1, A)).toBe(BUS_SLAVE_ERROR);
    wr(m, IRQ_BASE, 1);
    m.deviceByName('2c0c0000.test-irq')!.reset!();
    expect(input.level).toBe(false);
  });
});

describe('test-dma', () => {
  test('copies through the IOMMU in virtual time and raises its interrupt until STATUS is cleared', () => {
    const { m, gic, smmu } = rig();
    const src = 0x8000_0000;
    for (let i = 0; i < 10000; i++) m.bus.write(src + i, 1, (i * 7 + 3) & 0xff, A);
    expect(rd(m, DMA_BASE + TDMA_ID)).toBe(TDMA_ID_VALUE);
    // IOVA 0x7000_0000 -> PA 0x8000_0000 in the toy SMMU
    startDma(m, DMA_BASE, 0x7000_0000, 0x7004_0000, 10000);
    expect(rd(m, DMA_BASE + TDMA_STATUS)).toBe(TDMA_STATUS_BUSY);
    // chunks of 4096, 4096, 1808 bytes; each costs ceil(n/16) ns + 2 page translations x 5 ns
    const expectedDone = (256 + 10) + (256 + 10) + (113 + 10);
    m.scheduler.runUntil(expectedDone - 1);
    expect(rd(m, DMA_BASE + TDMA_STATUS)).toBe(TDMA_STATUS_BUSY);
    expect(gic.intc!.input('2c0b0000.dma:0')!.level).toBe(false);
    m.scheduler.runUntil(expectedDone);
    expect(rd(m, DMA_BASE + TDMA_STATUS)).toBe(TDMA_STATUS_DONE);
    expect(rd(m, DMA_BASE + TDMA_BYTES)).toBe(10000);
    expect(gic.intc!.input('2c0b0000.dma:0')!.level).toBe(true);
    const done = m.tracer.events.find((e) => e.kind === 'dma-done')!;
    expect(done.t).toBe(expectedDone);
    for (let i = 0; i < 10000; i += 997) expect(m.bus.read(0x8004_0000 + i, 1, A)).toBe((i * 7 + 3) & 0xff);
    // every access carried the node's stream id; writes carry the write attribute
    expect(new Set(smmu.translator!.streamIds())).toEqual(new Set([5]));
    expect(smmu.translator!.seen.filter(isWrite).length).toBe(3);
    // level interrupt stays until STATUS.DONE is written 1
    m.scheduler.runUntil(expectedDone + 1000);
    expect(gic.intc!.input('2c0b0000.dma:0')!.level).toBe(true);
    wr(m, DMA_BASE + TDMA_STATUS, TDMA_STATUS_DONE);
    expect(rd(m, DMA_BASE + TDMA_STATUS)).toBe(0);
    expect(gic.intc!.input('2c0b0000.dma:0')!.level).toBe(false);
  });

  test('reports a translation fault with its address, error code and timing', () => {
    const { m, gic } = rig();
    for (let i = 0; i < 0x2000; i += 4) m.bus.write(0x8007_f000 + i, 4, 0x1000 + i, A);
    // the toy SMMU faults IOVA [0x70080000, 0x70081000): the second page of the source
    startDma(m, DMA_BASE, 0x7007_f000, 0x7000_8000, 0x2000);
    m.scheduler.runUntilIdle();
    const st = rd(m, DMA_BASE + TDMA_STATUS);
    expect(st).toBe(TDMA_STATUS_ERROR | (TDMA_ERR_TRANSLATION << TDMA_ERRCODE_SHIFT));
    expect(rd(m, DMA_BASE + TDMA_FAULT_ADDR)).toBe(0x7008_0000);
    expect(rd(m, DMA_BASE + TDMA_BYTES)).toBe(0x1000);
    // first page copied, second not
    expect(rd(m, 0x8000_8000)).toBe(0x1000);
    expect(rd(m, 0x8000_8ffc)).toBe(0x1ffc);
    expect(rd(m, 0x8000_9000)).toBe(0);
    // first chunk 256 + 2 x 5 ns, then the faulting lookup (5 ns)
    expect(m.tracer.events.find((e) => e.kind === 'dma-error')).toMatchObject({ t: 271, f: { addr: 0x7008_0000, status: -3, bytes: 0x1000 } });
    expect(gic.intc!.input('2c0b0000.dma:0')!.level).toBe(true);
    wr(m, DMA_BASE + TDMA_STATUS, TDMA_STATUS_ERROR);
    expect(rd(m, DMA_BASE + TDMA_STATUS)).toBe(0);
    expect(gic.intc!.input('2c0b0000.dma:0')!.level).toBe(false);
  });

  test('without an IOMMU: physical addresses, decode error on an unmapped destination', () => {
    const { m, gic } = rig();
    m.bus.write(0x8000_0000, 4, 0xabcd, A);
    startDma(m, RAW_BASE, 0x8000_0000, 0x8000_0100, 4);
    m.scheduler.runUntilIdle();
    expect(rd(m, RAW_BASE + TDMA_STATUS)).toBe(TDMA_STATUS_DONE);
    expect(rd(m, 0x8000_0100)).toBe(0xabcd);
    expect(m.tracer.events.find((e) => e.kind === 'dma-done' && e.src === '2c0d0000.dma')!.t).toBe(1);
    wr(m, RAW_BASE + TDMA_STATUS, TDMA_STATUS_DONE);
    startDma(m, RAW_BASE, 0x8000_0000, 0x1000_0000, 16);
    m.scheduler.runUntilIdle();
    expect(rd(m, RAW_BASE + TDMA_STATUS)).toBe(TDMA_STATUS_ERROR | (TDMA_ERR_DECODE << TDMA_ERRCODE_SHIFT));
    expect(rd(m, RAW_BASE + TDMA_FAULT_ADDR)).toBe(0x1000_0000);
    expect(gic.intc!.input('2c0d0000.dma:0')!.spec).toEqual([0, 99, 4]);
    expect(gic.intc!.input('2c0d0000.dma:0')!.level).toBe(true);
  });

  test('start while busy is ignored; zero length completes at once; reset aborts', () => {
    const { m } = rig();
    const t0 = m.scheduler.now;
    startDma(m, DMA_BASE, 0x7000_0000, 0x7000_4000, 0);
    m.scheduler.runUntilIdle();
    expect(rd(m, DMA_BASE + TDMA_STATUS)).toBe(TDMA_STATUS_DONE);
    expect(m.scheduler.now).toBe(t0);
    wr(m, DMA_BASE + TDMA_STATUS, TDMA_STATUS_DONE);
    startDma(m, DMA_BASE, 0x7000_0000, 0x7000_4000, 0x8000);
    m.bus.write(0x8000_0000, 4, 0x77, A);
    wr(m, DMA_BASE + TDMA_LEN, 4);
    wr(m, DMA_BASE + TDMA_CTRL, 1); // ignored: busy with the latched 0x8000-byte transfer
    m.scheduler.runUntilIdle();
    expect(rd(m, DMA_BASE + TDMA_BYTES)).toBe(0x8000);
    wr(m, DMA_BASE + TDMA_STATUS, TDMA_STATUS_DONE);
    startDma(m, DMA_BASE, 0x7000_0000, 0x7000_4000, 0x8000);
    m.scheduler.runUntil(m.scheduler.now + 300);
    const dev = m.deviceByName('2c0b0000.dma')!;
    dev.reset!();
    m.scheduler.runUntilIdle();
    expect(rd(m, DMA_BASE + TDMA_STATUS)).toBe(0);
    expect(rd(m, DMA_BASE + TDMA_LEN)).toBe(0);
    expect(m.tracer.events.filter((e) => e.kind === 'dma-done').length).toBe(2);
  });
});

describe('default registry', () => {
  test('registers the test devices', () => {
    const r = defaultRegistry();
    expect(r.lookup(['vfio-arm-emu,test-dma'])!.factory).toBe(createTestDma);
    expect(r.lookup(['x,unknown', 'vfio-arm-emu,test-irq'])!.compatible).toBe('vfio-arm-emu,test-irq');
    expect(r.lookup(['x,unknown'])).toBeNull();
    expect(() => r.register('vfio-arm-emu,test-irq', createTestIrq)).toThrow(/already registered/);
  });
});
