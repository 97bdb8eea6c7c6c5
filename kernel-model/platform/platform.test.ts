import { describe, expect, it } from 'vitest';
import { IRQ_TYPE_EDGE_RISING, IRQ_TYPE_LEVEL_HIGH } from '../driver/types.js';
import { bootWithFakes, defaultBoardTree, FakeIrq, makeMachine, makeTree, node } from '../testing/fixtures.js';
import { Kernel } from '../kernel.js';
import { parseProfile } from '../profile.js';
import { decodeReg, linuxDeviceName } from './of.js';

describe('platform bus from the device tree', () => {
  it('creates devices named as Linux names them, in tree order, skipping disabled nodes and the GIC', () => {
    const { k } = bootWithFakes();
    expect(k.platformBus.bus.devices.map((d) => d.name)).toEqual(['2b400000.iommu', '2c0a0000.dma', '2c0c0000.irq-source']);
    expect(k.sysfs.list('bus/platform/devices')).toEqual(['2b400000.iommu', '2c0a0000.dma', '2c0c0000.irq-source']);
    expect(k.sysfs.lookupNoFollow('bus/platform/devices/2c0a0000.dma')).toEqual({ kind: 'link', target: '/sys/devices/platform/2c0a0000.dma' });
  });

  it('decodes mem and irq resources (with trigger types and names) and stream ids', () => {
    const { k } = bootWithFakes();
    const dma = k.driverCore.findDevice('platform', '2c0a0000.dma')!;
    expect(dma.resource('mem', 0)).toEqual({ kind: 'mem', start: 0x2c0a0000, size: 0x1000, flags: 0, name: null });
    const irqs = dma.resources.filter((r) => r.kind === 'irq');
    expect(irqs.map((r) => r.start)).toEqual([124, 125, 126, 127, 128]);
    expect(irqs.map((r) => r.name)).toEqual(['irq0', 'irq1', 'irq2', 'irq3', 'abort']);
    expect(irqs.every((r) => r.flags === IRQ_TYPE_LEVEL_HIGH)).toBe(true);
    expect(dma.streamIds).toEqual([1]);
    const src = k.driverCore.findDevice('platform', '2c0c0000.irq-source')!;
    expect(src.streamIds).toEqual([]);
    expect(src.driver).toBeNull();
  });

  it('handles 2-cell addresses, edge triggers, and nodes without reg', () => {
    const root = node('', null, { '#address-cells': [2], '#size-cells': [2], 'interrupt-parent': [{ ref: 'gic' }] }, [
      node('memory', '80000000', { device_type: 'memory', reg: [0, 0x80000000, 0, 0x1000000] }),
      node('interrupt-controller', '1000', { compatible: 'arm,gic-400', 'interrupt-controller': true, '#interrupt-cells': [3], reg: [0, 0x1000, 0, 0x1000] }, [], ['gic']),
      node('uart', '1c090000', { compatible: 'arm,pl011', reg: [0, 0x1c090000, 0, 0x1000], interrupts: [0, 5, 1] }),
      node('leds', null, { compatible: 'gpio-leds' }),
      node('bus', '0', { compatible: 'simple-bus', '#address-cells': [1], '#size-cells': [1] }, [
        node('timer', '2000', { compatible: 'x,timer', reg: [0x2000, 0x100], status: 'okay' }),
      ]),
    ]);
    const tree = makeTree(root);
    expect(decodeReg(tree, root.children[2]!)).toEqual([{ base: 0x1c090000, size: 0x1000 }]);
    expect(linuxDeviceName(tree, root.children[3]!)).toBe('leds');
    const m = makeMachine(0x80000000, 0x1000000);
    const k = new Kernel(m, tree, parseProfile('mainline'), new FakeIrq());
    k.boot();
    expect(k.platformBus.bus.devices.map((d) => d.name)).toEqual(['1c090000.uart', 'leds', 'bus', '2000.timer']);
    const uart = k.driverCore.findDevice('platform', '1c090000.uart')!;
    expect(uart.resource('irq', 0)).toMatchObject({ start: 37, flags: IRQ_TYPE_EDGE_RISING });
    expect(k.mm.pages.nrPages).toBe(0x1000);
  });

  it('enabling the second DMA master puts it on the platform bus bound to test-dma', () => {
    const { k } = bootWithFakes('rfc-v4', { testDma: true });
    expect(k.driverCore.findDevice('platform', '2c0b0000.dma')?.driver?.name).toBe('test-dma');
    expect(defaultBoardTree().labels.get('dma1')).toBeDefined();
  });
});

describe('boot robustness', () => {
  it('an external abort in a probe (no device behind the registers) is logged; boot goes on', () => {
    const m = makeMachine();
    const k = new Kernel(m, defaultBoardTree(), parseProfile('rfc-v4'), new FakeIrq());
    k.boot();
    expect(k.oopses.map((e) => e.kind)).toEqual(['external-abort', 'external-abort']);
    expect(k.log.grep(/Internal error: Oops: external-abort in arm-smmu probe of 2b400000.iommu/).length).toBe(1);
    expect(k.log.grep(/Internal error: Oops: external-abort in dma-pl330 probe of 2c0a0000.dma/).length).toBe(1);
    expect(k.driverCore.findDevice('platform', '2c0a0000.dma')!.driver).toBeNull();
    expect(k.iommu.present('platform')).toBe(false);
    expect(k.sysfs.list('bus/platform/drivers')).toEqual(['arm-smmu', 'dma-pl330', 'test-dma']);
  });
});
