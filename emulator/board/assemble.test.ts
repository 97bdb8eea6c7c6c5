import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { makeAttrs, streamIdOf } from '../attrs.js';
import { BUS_DECODE_ERROR, BUS_OK } from '../bus.js';
import { BoardError, createMachine, loadBoardSource, type Machine } from '../machine.js';
import { DtsError } from '../dt/types.js';
import { parseDts } from '../dt/parser.js';
import { scanPlatform } from './assemble.js';
import { createTestDma, TEST_DMA_COMPATIBLE } from '../../devices/testdev/test-dma.js';
import { createTestIrq, TEST_IRQ_COMPATIBLE } from '../../devices/testdev/test-irq.js';
import { toyRegistry, type ToyInstance, type ToyRegistry } from './testing/toys.js';

const OFFSET = 0x1000_0000; // toy SMMU: IOVA 0x7000_0000 -> PA 0x8000_0000

function toys(): ToyRegistry {
  const t = toyRegistry({ translatorOffset: OFFSET, faultLo: 0x7f00_0000, faultHi: 0x7f00_1000 });
  t.registry.register(TEST_IRQ_COMPATIBLE, createTestIrq);
  t.registry.register(TEST_DMA_COMPATIBLE, createTestDma);
  return t;
}

function board(name: string, t: ToyRegistry = toys()): Machine {
  const { text, file } = loadBoardSource(name);
  return createMachine({ dts: text, file, registry: t.registry, trace: { enabled: true } });
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DtsError);
    return (e as DtsError).message;
  }
  throw new Error('expected a DtsError');
}

const mini = (...body: string[]): string =>
  ['/dts-v1/;', '/ {', '  #address-cells = <1>;', '  #size-cells = <1>;', '  interrupt-parent = <&gic>;',
    '  gic: gic@1000 { compatible = "arm,gic-400"; interrupt-controller; #interrupt-cells = <3>; reg = <0x1000 0x100>; };',
    ...body, '};'].join('\n') + '\n';

describe('default board (vexpress-vfio) with toy GIC / SMMU / PL330', () => {
  const t = toys();
  const m = board('vexpress-vfio', t);
  const [gic, smmu, dma0] = t.created as [ToyInstance, ToyInstance, ToyInstance];

  test('creation order and Linux-style names', () => {
    expect(m.devices.map((d) => d.name)).toEqual(['2c001000.interrupt-controller', '2b400000.iommu', '2c0a0000.dma', '2c0c0000.test-irq']);
    expect(m.deviceByName('2c0a0000.dma')).toBe(dma0);
    expect(m.deviceByLabel('smmu')).toBe(smmu);
    expect(m.rootIrqController).toBe(gic);
    expect(m.file).toBe('emulator/boards/vexpress-vfio.dts');
  });

  test('RAM at 0x80000000, 1 GiB; decode error outside', () => {
    expect(m.ram.map((r) => [r.base, r.size])).toEqual([[0x8000_0000, 1024 * 1024 * 1024]]);
    const a = makeAttrs({});
    expect(m.bus.write(0xbfff_fffc, 4, 0xdeadbeef, a)).toBe(BUS_OK);
    expect(m.bus.read(0xbfff_fffc, 4, a)).toBe(0xdeadbeef);
    expect(m.bus.read(0xc000_0000, 4, a)).toBe(BUS_DECODE_ERROR);
    expect(m.bus.read(0x7fff_fffc, 4, a)).toBe(BUS_DECODE_ERROR);
  });

  test('disabled dma1 is not created and not mapped', () => {
    expect(m.deviceByName('2c0b0000.dma')).toBeNull();
    expect(m.bus.read(0x2c0b_0000, 4, makeAttrs({}))).toBe(BUS_DECODE_ERROR);
  });

  test('each reg entry is mapped to the matching MMIO interface', () => {
    const a = makeAttrs({});
    expect(m.bus.write(0x2c00_2004, 4, 0x1234, a)).toBe(BUS_OK);
    expect(gic.mmio[1]!.read(4, 4, a)).toBe(0x1234);
    expect(m.bus.write(0x2c0a_0010, 4, 0x55, a)).toBe(BUS_OK);
    expect(dma0.regs!.read(0x10, 4, a)).toBe(0x55);
    expect(gic.regs!.read(4, 4, a)).toBe(0); // the distributor is a different interface
    expect(m.bus.read(0x2c00_4000, 4, a)).toBe(BUS_DECODE_ERROR); // just past the CPU interface (0x2c002000 + 8 KiB)
  });

  test('interrupts are wired to the controller with their specifiers and names', () => {
    expect(gic.intc!.inputs.map((i) => [i.line, i.spec])).toEqual([
      ['2b400000.iommu:0', [0, 40, 4]],
      ['2b400000.iommu:1', [0, 41, 4]],
      ['2b400000.iommu:2', [0, 42, 4]],
      ['2b400000.iommu:3', [0, 43, 4]],
      ['2b400000.iommu:4', [0, 44, 4]],
      ['2c0a0000.dma:irq0', [0, 92, 4]],
      ['2c0a0000.dma:irq1', [0, 93, 4]],
      ['2c0a0000.dma:irq2', [0, 94, 4]],
      ['2c0a0000.dma:irq3', [0, 95, 4]],
      ['2c0a0000.dma:abort', [0, 96, 4]],
      ['2c0c0000.test-irq:0', [0, 98, 4]],
    ]);
    expect(dma0.ctx.irqNames).toEqual(['irq0', 'irq1', 'irq2', 'irq3', 'abort']);
    expect(dma0.ctx.irqs.map((l) => l.name)).toEqual(['2c0a0000.dma:irq0', '2c0a0000.dma:irq1', '2c0a0000.dma:irq2', '2c0a0000.dma:irq3', '2c0a0000.dma:abort']);
  });

  test('the root controller output drives the CPU IRQ input', () => {
    const a = makeAttrs({});
    expect(m.cpu.irqAsserted).toBe(false);
    m.bus.write(0x2c0c_0000, 4, 1, a);
    expect(gic.intc!.input('2c0c0000.test-irq:0')!.level).toBe(true);
    expect(m.cpu.irqAsserted).toBe(true);
    m.bus.write(0x2c0c_0000, 4, 0, a);
    expect(m.cpu.irqAsserted).toBe(false);
  });

  test('dmaPort sits behind the SMMU stage and carries the stream id', () => {
    expect(dma0.ctx.streamIds).toEqual([1]);
    expect(dma0.port!.translator).toBe(smmu.translator);
    const a = makeAttrs({ streamId: dma0.ctx.streamIds[0]! });
    m.bus.write(0x8000_0040, 4, 0xcafef00d, makeAttrs({}));
    smmu.translator!.seen.length = 0;
    expect(dma0.port!.read(0x7000_0040, 4, a)).toBe(0xcafef00d);
    expect(smmu.translator!.streamIds()).toEqual([1]);
    expect(dma0.port!.read(0x7f00_0000, 4, a)).toBe(-3);
    expect(dma0.port!.lastFault).toEqual({ va: 0x7f00_0000, attrs: a, status: -3 });
  });

  test('the seed is recorded at t=0; CPU clock from the cpu node', () => {
    // the board is recorded by content (SHA-256 of its source), never by path spelling
    const sha = createHash('sha256').update(readFileSync(new URL('../boards/vexpress-vfio.dts', import.meta.url), 'utf8')).digest('hex');
    expect(m.tracer.events[0]).toEqual({ t: 0, src: 'machine', kind: 'seed', f: { seed: 1, board: sha } });
    expect(m.cpu.clock.hz).toBe(1_000_000_000);
  });
});

describe('SMMU master bindings: legacy mmu-masters and generic iommus wire the same hardware', () => {
  test('vexpress-vfio (mmu-masters) and vexpress-vfio-iommus (iommus): dma0 behind the SMMU with stream id 1', () => {
    for (const name of ['vexpress-vfio', 'vexpress-vfio-iommus']) {
      const t = toys();
      board(name, t);
      const [, smmu, dma0] = t.created as [ToyInstance, ToyInstance, ToyInstance];
      expect(dma0.ctx.streamIds, name).toEqual([1]);
      expect(dma0.port!.translator, name).toBe(smmu.translator);
    }
  });

  test('a legacy master with #stream-id-cells = <2> gets both stream ids; a master in no list is not translated', () => {
    const t = toys();
    const m = createMachine({
      file: 'l.dts', registry: t.registry,
      dts: mini(
        '  smmu: iommu@2000 { compatible = "arm,mmu-400"; reg = <0x2000 0x100>; mmu-masters = <&m0 5 6>; };',
        '  m0: dma@3000 { compatible = "arm,pl330"; reg = <0x3000 0x100>; #stream-id-cells = <2>; };',
        '  dma@4000 { compatible = "arm,pl330"; reg = <0x4000 0x100>; };',
      ),
    });
    const m0 = t.created.find((d) => d.name === '3000.dma')!;
    const other = t.created.find((d) => d.name === '4000.dma')!;
    expect(m0.ctx.streamIds).toEqual([5, 6]);
    expect(m0.port!.translator).toBe(t.created.find((d) => d.name === '2000.iommu')!.translator);
    expect(other.ctx.streamIds).toEqual([]);
    expect(other.port!.translator).toBeNull();
    expect(m.devices.length).toBe(4);
  });
});

describe('shared-group board', () => {
  test('dma1 is created behind the same SMMU with the same stream id and copies through it', () => {
    const t = toys();
    const m = board('vexpress-vfio-shared-group', t);
    expect(m.devices.map((d) => d.name)).toEqual(['2c001000.interrupt-controller', '2b400000.iommu', '2c0a0000.dma', '2c0b0000.dma', '2c0c0000.test-irq']);
    const smmu = t.created[1]!;
    const a = makeAttrs({});
    for (let i = 0; i < 64; i += 4) m.bus.write(0x8000_1000 + i, 4, 0x01010101 * (i + 1), a);
    m.bus.write(0x2c0b_0000, 4, 0x7000_1000, a); // SRC (IOVA)
    m.bus.write(0x2c0b_0004, 4, 0x7000_2000, a); // DST
    m.bus.write(0x2c0b_0008, 4, 64, a); // LEN
    m.bus.write(0x2c0b_000c, 4, 1, a); // start
    m.scheduler.runUntilIdle();
    expect(m.bus.read(0x2c0b_0010, 4, a)).toBe(2); // DONE
    for (let i = 0; i < 64; i += 4) expect(m.bus.read(0x8000_2000 + i, 4, a)).toBe((0x01010101 * (i + 1)) >>> 0);
    expect(new Set(smmu.translator!.streamIds())).toEqual(new Set([1]));
    expect(t.created[0]!.intc!.input('2c0b0000.dma:0')!.spec).toEqual([0, 97, 4]);
  });
});

describe('two-groups board (the fuzzer\'s)', () => {
  test('dma1 is created, and differs from the shared-group board only in its stream id (and comments)', () => {
    const m = board('vexpress-vfio-two-groups', toys());
    expect(m.devices.map((d) => d.name)).toEqual(['2c001000.interrupt-controller', '2b400000.iommu', '2c0a0000.dma', '2c0b0000.dma', '2c0c0000.test-irq']);
    const code = (name: string): string[] =>
      loadBoardSource(name)
        .text.replace(/\/\*[\s\S]*?\*\//g, '')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('model'));
    const a = code('vexpress-vfio-shared-group');
    const b = code('vexpress-vfio-two-groups');
    expect(b.filter((l, i) => l !== a[i])).toEqual(['<&dma1 0x2>;']);
  });
});

describe('assembly rules', () => {
  test('a node whose compatible has no model is an error naming file:line:col', () => {
    const { registry } = toyRegistry();
    const dts = mini('  uart@2000 {', '    compatible = "arm,pl011", "arm,primecell";', '    reg = <0x2000 0x1000>;', '  };');
    expect(errorOf(() => createMachine({ dts, file: 'u.dts', registry }))).toBe(
      "u.dts:7:3: no device model for compatible 'arm,pl011' (nor for 'arm,primecell') at /uart@2000",
    );
  });

  test('nodes without reg, without compatible, disabled, and the cpus subtree are skipped', () => {
    const { registry, created } = toyRegistry();
    const dts = mini(
      '  cpus { #address-cells = <1>; #size-cells = <0>; cpu@0 { device_type = "cpu"; compatible = "arm,cortex-a15"; reg = <0>; clock-frequency = <500000000>; }; };',
      '  clk { compatible = "fixed-clock"; };',
      '  chosen { };',
      '  off@3000 { compatible = "arm,unknown"; reg = <0x3000 0x10>; status = "disabled"; };',
      '  dma@4000 { compatible = "arm,pl330"; reg = <0x4000 0x1000>; status = "disabled"; };',
    );
    const m = createMachine({ dts, file: 's.dts', registry });
    expect(created.map((c) => c.name)).toEqual(['1000.gic']);
    expect(m.bus.read(0x4000, 4, makeAttrs({}))).toBe(BUS_DECODE_ERROR);
    expect(m.cpu.clock.hz).toBe(500_000_000);
  });

  test('simple-bus children are populated with translated addresses', () => {
    const { registry, created } = toyRegistry();
    const dts = mini('  soc { compatible = "simple-bus"; #address-cells = <1>; #size-cells = <1>; ranges = <0x0 0x40000000 0x100000>;', '    dma@2000 { compatible = "arm,pl330"; reg = <0x2000 0x1000>; interrupts = <0 7 4>; };', '  };');
    createMachine({ dts, file: 'b.dts', registry });
    expect(created.map((c) => c.name)).toEqual(['1000.gic', '40002000.dma']);
    expect(created[1]!.ctx.reg).toEqual([{ base: 0x4000_2000, size: 0x1000 }]);
  });

  test('chained interrupt controllers are created parents first; only the root drives the CPU', () => {
    const { registry, created } = toyRegistry();
    registry.register('toy,sub-intc', (ctx) => {
      const inst = (registry.get('arm,gic-400')!)(ctx);
      return inst;
    });
    const dts = mini(
      '  dev@5000 { compatible = "arm,pl330"; reg = <0x5000 0x100>; interrupt-parent = <&sub>; interrupts = <0 3 4>; };',
      '  sub: sub@4000 { compatible = "toy,sub-intc"; interrupt-controller; #interrupt-cells = <3>; reg = <0x4000 0x100>; interrupts = <0 50 4>; };',
    );
    const m = createMachine({ dts, file: 'c.dts', registry });
    expect(created.map((c) => c.name)).toEqual(['1000.gic', '4000.sub', '5000.dev']);
    const [gic, sub, dev] = created as [ToyInstance, ToyInstance, ToyInstance];
    expect(gic.intc!.inputs.map((i) => [i.line, i.spec])).toEqual([['4000.sub:0', [0, 50, 4]]]);
    expect(sub.intc!.inputs.map((i) => [i.line, i.spec])).toEqual([['5000.dev:0', [0, 3, 4]]]);
    dev.ctx.irqs[0]!.raise();
    expect(sub.intc!.output.level).toBe(true);
    // the sub-controller's output is not the CPU input: only the GIC's is
    expect(m.cpu.irqAsserted).toBe(false);
    sub.ctx.irqs[0]!.raise();
    expect(m.cpu.irqAsserted).toBe(true);
  });

  test('interrupts-extended wires each entry to its own controller, with names', () => {
    const { registry, created } = toyRegistry();
    registry.register('toy,sub-intc', (ctx) => registry.get('arm,gic-400')!(ctx));
    const dts = mini(
      '  sub: sub@4000 { compatible = "toy,sub-intc"; interrupt-controller; #interrupt-cells = <1>; reg = <0x4000 0x100>; interrupts = <0 50 4>; };',
      '  dev@5000 { compatible = "arm,pl330"; reg = <0x5000 0x100>; interrupts-extended = <&gic 0 5 4>, <&sub 9>; interrupt-names = "main", "side"; };',
    );
    createMachine({ dts, file: 'x.dts', registry });
    const [gic, sub, dev] = created as [ToyInstance, ToyInstance, ToyInstance];
    expect(gic.intc!.inputs.map((i) => [i.line, i.spec])).toEqual([['4000.sub:0', [0, 50, 4]], ['5000.dev:main', [0, 5, 4]]]);
    expect(sub.intc!.inputs.map((i) => [i.line, i.spec])).toEqual([['5000.dev:side', [9]]]);
    expect(dev.ctx.irqSpecs).toEqual([{ cells: [0, 5, 4] }, { cells: [9] }]);
  });

  test('an IOMMU later in the file is still wired (IOMMUs are created before masters)', () => {
    const { registry, created } = toyRegistry({ translatorOffset: 0x100 });
    const dts = mini(
      '  dma@5000 { compatible = "arm,pl330"; reg = <0x5000 0x100>; iommus = <&mmu 7>; };',
      '  mmu: iommu@6000 { compatible = "arm,mmu-400"; reg = <0x6000 0x100>; #iommu-cells = <1>; };',
    );
    createMachine({ dts, file: 'o.dts', registry });
    expect(created.map((c) => c.name)).toEqual(['1000.gic', '6000.iommu', '5000.dma']);
    const [, mmu, dma] = created as [ToyInstance, ToyInstance, ToyInstance];
    expect(dma.ctx.streamIds).toEqual([7]);
    expect(dma.port!.translator).toBe(mmu.translator);
    expect(dma.port!.span(0x10, 4, makeAttrs({ streamId: 7 }))).toEqual([0x110, 4]);
    expect(streamIdOf(mmu.translator!.seen[0]!)).toBe(7);
  });

  test('a port requested before its IOMMU exists is attached when the IOMMU is created', () => {
    const { registry, created } = toyRegistry({ translatorOffset: 0x100 });
    let early: ReturnType<ToyInstance['ctx']['dmaPort']> | null = null;
    registry.override('arm,gic-400', (ctx) => {
      early = ctx.dmaPort('its');
      return toyRegistry().registry.get('arm,gic-400')!(ctx);
    });
    const dts = mini('  mmu: iommu@6000 { compatible = "arm,mmu-400"; reg = <0x6000 0x100>; #iommu-cells = <1>; };').replace(
      'reg = <0x1000 0x100>; }',
      'reg = <0x1000 0x100>; iommus = <&mmu 2>; }',
    );
    createMachine({ dts, file: 'e.dts', registry });
    expect(early!.name).toBe('1000.gic:its');
    expect(early!.translator).toBe(created[0]!.translator);
  });

  test('semantic wiring errors name the property', () => {
    const { registry } = toyRegistry();
    expect(errorOf(() => createMachine({ registry, file: 'd.dts', dts: mini('  off: intc@3000 { compatible = "arm,gic-400"; interrupt-controller; #interrupt-cells = <1>; reg = <0x3000 0x10>; status = "disabled"; };', '  dma@4000 { compatible = "arm,pl330"; reg = <0x4000 0x10>; interrupts-extended = <&off 5>; };') }))).toBe(
      "d.dts:8:61: interrupt controller 'off' (/intc@3000) of 4000.dma is disabled or has no device model",
    );
    expect(errorOf(() => createMachine({ registry, file: 'd.dts', dts: mini('  mmu: iommu@3000 { compatible = "arm,mmu-400"; #iommu-cells = <1>; reg = <0x3000 0x10>; status = "disabled"; };', '  dma@4000 { compatible = "arm,pl330"; reg = <0x4000 0x10>; iommus = <&mmu 1>; };') }))).toBe(
      "d.dts:8:61: IOMMU 'mmu' (/iommu@3000) of 4000.dma is disabled or has no device model",
    );
    expect(errorOf(() => createMachine({ registry, file: 'd.dts', dts: mini('  a@1080 { compatible = "arm,pl330"; reg = <0x1080 0x1000>; };') }))).toMatch(
      /^d\.dts:7:38: 1080\.a: cannot map reg entry 0: region 1080\.a at 0x1080 overlaps 1000\.gic/,
    );
    expect(errorOf(() => createMachine({ registry, file: 'd.dts', dts: mini('  a@1800 { compatible = "arm,pl330"; reg = <0x1800 0x10 0x1900>; };') }))).toBe(
      "d.dts:7:38: 'reg' has 3 cells, not a multiple of #address-cells (1) + #size-cells (1) of the parent",
    );
    registry.register('toy,throws', () => {
      throw new Error('arm,foo must be <4>');
    });
    expect(errorOf(() => createMachine({ registry, file: 'd.dts', dts: mini('  x@2000 { compatible = "toy,throws"; reg = <0x2000 0x10>; };') }))).toBe(
      'd.dts:7:3: 2000.x (toy,throws): arm,foo must be <4>',
    );
  });

  test('the same seed gives the same trace digest; the seed is in the trace', () => {
    const run = (seed: number): string => {
      const t = toys();
      const { text, file } = loadBoardSource('vexpress-vfio-shared-group');
      const mm = createMachine({ dts: text, file, registry: t.registry, seed, trace: { enabled: true, keep: false } });
      const a = makeAttrs({});
      mm.bus.write(0x2c0b_0008, 4, 8192 + mm.prng.below(4096), a);
      mm.bus.write(0x2c0b_0000, 4, 0x7000_0000, a);
      mm.bus.write(0x2c0b_0004, 4, 0x7000_8000, a);
      mm.bus.write(0x2c0b_000c, 4, 1, a);
      mm.scheduler.runUntilIdle();
      return mm.tracer.digest();
    };
    expect(run(42)).toBe(run(42));
    expect(run(42)).not.toBe(run(43));
  });
});

describe('platform scan', () => {
  test('document order, Linux-style names, disabled and cpu nodes excluded, clashes suffixed', () => {
    const { text } = loadBoardSource('vexpress-vfio-shared-group');
    const tree = parseDts(text, 'b.dts');
    const scan = scanPlatform(tree);
    expect(scan.memory.map((n) => n.name)).toEqual(['memory']);
    expect(scan.devices.map((d) => d.name)).toEqual(['2c001000.interrupt-controller', '2b400000.iommu', '2c0a0000.dma', '2c0b0000.dma', '2c0c0000.test-irq']);
    const t2 = parseDts(mini('  clk { compatible = "fixed-clock"; };', '  bus { compatible = "simple-bus"; #address-cells = <1>; #size-cells = <1>; ranges; clk { compatible = "fixed-clock"; }; };'), 'c.dts');
    expect(scanPlatform(t2).devices.map((d) => d.name)).toEqual(['1000.gic', 'clk', 'bus', 'clk:1']);
  });
});

describe('board files', () => {
  test('named boards, paths and unknown names', () => {
    expect(loadBoardSource().file).toBe('emulator/boards/vexpress-vfio.dts');
    expect(loadBoardSource('vexpress-vfio-shared-group').text).toContain('status = "okay"');
    const viaPath = loadBoardSource('emulator/boards/vexpress-vfio.dts');
    expect(viaPath.text).toBe(loadBoardSource('vexpress-vfio').text);
    expect(loadBoardSource('vexpress-vfio.dts')).toEqual(loadBoardSource('vexpress-vfio'));
    expect(() => loadBoardSource('nowhere/x.dts')).toThrow(/board file not found: nowhere\/x.dts/);
    expect(() => loadBoardSource('no-such-board')).toThrow(/unknown board 'no-such-board' \(available: vexpress-vfio, vexpress-vfio-iommus, vexpress-vfio-mmu400, vexpress-vfio-s2, vexpress-vfio-shared-group, vexpress-vfio-two-groups\)/);
    // user errors are BoardErrors (the CLI reports them in one line, exit 2)
    expect(() => loadBoardSource('nowhere/x.dts')).toThrow(BoardError);
    expect(() => loadBoardSource('no-such-board')).toThrow(BoardError);
    expect(() => loadBoardSource('bad name!')).toThrow(BoardError);
    expect(() => loadBoardSource('emulator/boards')).toThrow(/cannot read board file emulator\/boards: EISDIR/);
  });
});
