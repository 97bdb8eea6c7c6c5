import { describe, expect, it } from 'vitest';
import { Kernel } from '../kernel.js';
import { parseProfile } from '../profile.js';
import { bootWithFakes, defaultBoardTree, FakeIrq, fakePl330Regs, fakeSmmuRegs, makeMachine, makeTree, node } from '../testing/fixtures.js';

const groupsOf = (k: Kernel): string[][] => k.iommu.groups().map((g) => g.devices.map((d) => d.name));

describe('arm-smmu device-tree binding per kernel (caps.smmuDtBinding)', () => {
  it('legacy mmu-masters: 3.14 registers the masters; mainline too, with the deprecation notice', () => {
    const old = bootWithFakes('rfc-v4').k;
    expect(groupsOf(old)).toEqual([['2c0a0000.dma']]);
    expect(old.log.grep(/^arm-smmu 2b400000.iommu: registered 1 master devices$/)).toHaveLength(1);
    expect(old.log.grep(/deprecated/)).toHaveLength(0);
    const k = bootWithFakes('mainline').k;
    expect(groupsOf(k)).toEqual([['2c0a0000.dma']]);
    expect(k.log.grep(/^deprecated "mmu-masters" DT property in use; DMA API support unavailable$/)).toHaveLength(1);
    expect(k.log.records.find((r) => r.msg.startsWith('deprecated'))!.level).toBe('notice');
  });

  it('generic iommus: mainline reads it; 3.14 finds no master (registered 0 master devices) and no device gets a group', () => {
    const k = bootWithFakes('mainline', { binding: 'iommus' }).k;
    expect(groupsOf(k)).toEqual([['2c0a0000.dma']]);
    expect(k.driverCore.findDevice('amba', '2c0a0000.dma')!.streamIds).toEqual([1]); // mainline: an AMBA device (caps.primecellBus)
    expect(k.log.grep(/deprecated|registered/)).toHaveLength(0);
    const old = bootWithFakes('rfc-v4', { binding: 'iommus' }).k;
    expect(groupsOf(old)).toEqual([]);
    expect(old.log.grep(/^arm-smmu 2b400000.iommu: registered 0 master devices$/)).toHaveLength(1);
    expect(old.sysfs.lookupNoFollow('bus/platform/devices/2c0a0000.dma/iommu_group')).toBeNull();
    // the SMMU itself still probes: the device is bound and serves the bus
    expect(old.driverCore.findDevice('platform', '2b400000.iommu')!.driver?.name).toBe('arm-smmu');
  });

  it('3.14: an mmu-masters entry whose master has no #stream-id-cells ends the list (of_parse_phandle_with_args pr_err)', () => {
    const tree = defaultBoardTree({ testDma: true });
    const dma1 = tree.labels.get('dma1')!;
    dma1.props = dma1.props.filter((p) => p.name !== '#stream-id-cells');
    const m = makeMachine();
    m.bus.addMmio('smmu', 0x2b400000, 0x10000, fakeSmmuRegs());
    m.bus.addMmio('pl330', 0x2c0a0000, 0x1000, fakePl330Regs());
    const k = new Kernel(m, tree, parseProfile('rfc-v4'), new FakeIrq());
    k.boot();
    expect(k.log.grep(/^\/iommu@2b400000: could not get #stream-id-cells for \/dma@2c0b0000$/)).toHaveLength(1);
    expect(k.log.grep(/registered 1 master devices/)).toHaveLength(1);
    expect(groupsOf(k)).toEqual([['2c0a0000.dma']]);
  });

  it('3.14: a master listed twice is rejected and the SMMU probe fails', () => {
    const tree = defaultBoardTree();
    const smmu = tree.labels.get('smmu')!;
    const mm = smmu.props.find((p) => p.name === 'mmu-masters')!;
    const ch = mm.value[0]!;
    if (ch.kind === 'cells') ch.cells.push({ ref: 'dma0', loc: mm.loc }, 2);
    const m = makeMachine();
    m.bus.addMmio('smmu', 0x2b400000, 0x10000, fakeSmmuRegs());
    m.bus.addMmio('pl330', 0x2c0a0000, 0x1000, fakePl330Regs());
    const k = new Kernel(m, tree, parseProfile('rfc-v4'), new FakeIrq());
    k.boot();
    expect(k.log.grep(/arm-smmu 2b400000.iommu: rejecting multiple registrations for master device dma$/)).toHaveLength(1);
    expect(k.log.grep(/arm-smmu 2b400000.iommu: failed to add master dma$/)).toHaveLength(1);
    expect(k.driverCore.findDevice('platform', '2b400000.iommu')!.driver).toBeNull();
    expect(groupsOf(k)).toEqual([]);
  });

  it('mainline refuses a tree that mixes the two bindings: "not probing due to mismatched DT properties"', () => {
    // a second SMMU with the generic binding next to the legacy one
    const tree = defaultBoardTree();
    const smmu1 = node('iommu', '2b500000', {
      compatible: ['arm,mmu-400', 'arm,smmu-v1'], reg: [0x2b500000, 0x10000], '#iommu-cells': [1], '#global-interrupts': [1],
      interrupts: [0, 45, 4, 0, 46, 4],
    }, [], ['smmu1']);
    smmu1.parent = tree.root;
    const i = tree.root.children.findIndex((c) => c.name === 'iommu');
    tree.root.children.splice(i + 1, 0, smmu1);
    const t = makeTree(tree.root);
    const m = makeMachine();
    m.bus.addMmio('smmu', 0x2b400000, 0x10000, fakeSmmuRegs());
    m.bus.addMmio('smmu1', 0x2b500000, 0x10000, fakeSmmuRegs());
    m.bus.addMmio('pl330', 0x2c0a0000, 0x1000, fakePl330Regs());
    const k = new Kernel(m, t, parseProfile('mainline'), new FakeIrq());
    k.boot();
    expect(k.log.grep(/deprecated "mmu-masters"/)).toHaveLength(1);
    expect(k.log.grep(/^arm-smmu 2b500000.iommu: not probing due to mismatched DT properties$/)).toHaveLength(1);
    expect(k.driverCore.findDevice('platform', '2b500000.iommu')!.driver).toBeNull();
    expect(k.driverCore.findDevice('platform', '2b400000.iommu')!.driver?.name).toBe('arm-smmu');
    // 3.14 knows no such rule: the second SMMU probes (with no masters)
    const m2 = makeMachine();
    m2.bus.addMmio('smmu', 0x2b400000, 0x10000, fakeSmmuRegs());
    m2.bus.addMmio('smmu1', 0x2b500000, 0x10000, fakeSmmuRegs());
    m2.bus.addMmio('pl330', 0x2c0a0000, 0x1000, fakePl330Regs());
    const old = new Kernel(m2, t, parseProfile('rfc-v4'), new FakeIrq());
    old.boot();
    expect(old.log.grep(/mismatched/)).toHaveLength(0);
    expect(old.log.grep(/^arm-smmu 2b500000.iommu: registered 0 master devices$/)).toHaveLength(1);
  });
});
