/**
 * Board assembly: build the machine's devices from a device tree (docs/BOARDS.md).
 *
 * 1. Memory nodes (device_type = "memory", enabled) become RAM regions on the bus.
 * 2. Device nodes are collected in document order: children of the root and of
 *    "simple-bus" nodes that have a `compatible`, skipping nodes with status other than
 *    "okay" (and their subtrees), the root itself, and the subtrees the CPU model handles
 *    (/cpus). A node whose compatibles have no factory is an error
 *    ("file:line:col: no device model for compatible 'x'") unless it has no `reg`.
 * 3. Creation order: interrupt controllers first, parents before children (a controller
 *    whose interrupt parent is another controller comes after it); then IOMMUs (nodes
 *    with #iommu-cells or mmu-masters); then every other device in document order.
 * 4. For each device: its `interrupts` become IrqLines named "<dev>:<interrupt-name or
 *    index>", connected to the controller's inputFor(spec, line) before the factory runs;
 *    its `iommus` (or its entry in an SMMU's legacy `mmu-masters`) give ctx.streamIds and
 *    ctx.dmaPort() master ports whose translator is the IOMMU's stage; each non-null instance.mmio[i] is mapped at reg[i].
 * 5. The root interrupt controller's output is connected to the CPU's IRQ input.
 */
import { MasterPort } from '../master.js';
import { IrqLine, type IrqSink } from '../irq.js';
import type { RamRegion } from '../bus.js';
import {
  compatibles, getProp, hasProp, interruptParent, interrupts, iommus, isEnabled, isInterruptController,
  isIommuNode, string, translatedReg, describeNode,
} from '../dt/access.js';
import { findNodeByPath, nodePath } from '../dt/parser.js';
import { DtsError, type DeviceTree, type DtNode, type DtProperty } from '../dt/types.js';
import type { DeviceRegistry } from './registry.js';
import type { DeviceContext, DeviceFactory, DeviceInstance, IrqSpec, MachineCore, RegEntry } from './types.js';

export interface AssembleOptions {
  /** absolute paths of subtrees handled by the CPU model, not by device factories (default ['/cpus']) */
  cpuSubtrees?: string[];
}

export interface AssembledBoard {
  /** device instances in creation order */
  devices: DeviceInstance[];
  ram: RamRegion[];
  /** the interrupt controller whose output drives the CPU's IRQ input (null when none) */
  rootIrqController: DeviceInstance | null;
}

interface Candidate {
  node: DtNode;
  name: string;
  reg: RegEntry[];
  compatible: string;
  factory: DeviceFactory;
  ic: boolean;
  iommu: boolean;
}

/** Linux-style platform device name: "<address>.<node name>" ("2c0a0000.dma"). */
export function linuxDeviceName(node: DtNode, reg: readonly RegEntry[]): string {
  if (reg.length > 0) return `${reg[0]!.base.toString(16)}.${node.name}`;
  if (node.unitAddress !== null) return `${node.unitAddress}.${node.name}`;
  return node.name;
}

/** A device node found by the platform scan, with its Linux-style name. */
export interface PlatformNode {
  node: DtNode;
  /** Linux-style name, unique in the tree (document order decides suffixes) */
  name: string;
  /** reg translated to CPU physical addresses */
  reg: RegEntry[];
  compatibles: string[];
}

export interface PlatformScan {
  /** enabled memory nodes (device_type "memory") */
  memory: DtNode[];
  /** enabled device nodes in document order (children of the root and of simple-bus nodes) */
  devices: PlatformNode[];
}

/**
 * The platform-device scan shared by board assembly and the kernel model's platform bus
 * (like Linux's of_platform_populate): enabled nodes with a `compatible` under the root
 * and under "simple-bus" nodes, in document order, excluding the CPU subtrees and memory
 * nodes. A simple-bus node is itself listed and its children are scanned too.
 */
export function scanPlatform(tree: DeviceTree, opts: AssembleOptions = {}): PlatformScan {
  const cpuNodes = new Set<DtNode>();
  for (const p of opts.cpuSubtrees ?? ['/cpus']) {
    const n = findNodeByPath(tree.root, p);
    if (n !== null) cpuNodes.add(n);
  }
  const memory: DtNode[] = [];
  const devices: PlatformNode[] = [];
  const names = new Set<string>();
  const scan = (parent: DtNode): void => {
    for (const node of parent.children) {
      if (!isEnabled(node) || cpuNodes.has(node)) continue;
      if (string(node, 'device_type') === 'memory') {
        memory.push(node);
        continue;
      }
      const compat = compatibles(node);
      if (compat.length === 0) continue;
      const reg = translatedReg(node);
      const base = linuxDeviceName(node, reg);
      let name = base;
      for (let k = 1; names.has(name); k++) name = `${base}:${k}`;
      names.add(name);
      devices.push({ node, name, reg, compatibles: compat });
      if (compat.includes('simple-bus')) scan(node);
    }
  };
  scan(tree.root);
  return { memory, devices };
}

/**
 * The controller's input for a specifier. A specifier the controller cannot serve (an SPI
 * beyond its lines, an unknown type cell) is a board error at the consumer's `interrupts`
 * property (file:line:col), whatever the controller model throws.
 */
function connectInput(ctrl: DeviceInstance, spec: IrqSpec, line: IrqLine, where: DtProperty, name: string, index: number): IrqSink {
  try {
    return ctrl.interruptController!.inputFor(spec, line);
  } catch (e) {
    const which = index >= 0 ? `interrupt ${index} <${spec.cells.join(' ')}>` : `interrupt <${spec.cells.join(' ')}>`;
    const msg = (e as Error).message;
    throw new DtsError(where.loc, `${name}: ${which}: ${msg.startsWith(`${ctrl.name}: `) ? msg.slice(ctrl.name.length + 2) : msg} (controller ${ctrl.name})`);
  }
}

export function assembleBoard(machine: MachineCore, tree: DeviceTree, registry: DeviceRegistry, opts: AssembleOptions = {}): AssembledBoard {
  // ---- 1 + 2: scan
  const { memory, devices: platform } = scanPlatform(tree, opts);
  const cands: Candidate[] = [];
  for (const pn of platform) {
    const node = pn.node;
    const compat = pn.compatibles;
    const hit = registry.lookup(compat);
    if (hit !== null) {
      cands.push({ node, name: pn.name, reg: pn.reg, compatible: hit.compatible, factory: hit.factory, ic: isInterruptController(node), iommu: isIommuNode(node) });
    } else if (!compat.includes('simple-bus') && hasProp(node, 'reg')) {
      const also = compat.length > 1 ? ` (nor for ${compat.slice(1).map((c) => `'${c}'`).join(', ')})` : '';
      throw new DtsError(node.loc, `no device model for compatible '${compat[0]}'${also} at ${nodePath(node)}`);
    }
  }

  const ram: RamRegion[] = [];
  for (const m of memory) {
    const regs = translatedReg(m);
    regs.forEach((r, i) => {
      const name = regs.length === 1 ? `${r.base.toString(16)}.${m.name}` : `${r.base.toString(16)}.${m.name}[${i}]`;
      try {
        ram.push(machine.bus.addRam(name, r.base, r.size));
      } catch (e) {
        throw new DtsError(getProp(m, 'reg')!.loc, `cannot map RAM: ${(e as Error).message}`);
      }
    });
  }

  // ---- 3: order
  const candByNode = new Map<DtNode, Candidate>();
  for (const c of cands) candByNode.set(c.node, c);
  const ics = cands.filter((c) => c.ic);
  const icParent = new Map<Candidate, DtNode | null>();
  for (const c of ics) icParent.set(c, interruptParent(tree, c.node));
  const orderedIcs: Candidate[] = [];
  const placed = new Set<DtNode>();
  while (orderedIcs.length < ics.length) {
    let progress = false;
    for (const c of ics) {
      if (placed.has(c.node)) continue;
      const p = icParent.get(c) ?? null;
      const pc = p === null ? undefined : candByNode.get(p);
      if (p === null || p === c.node || placed.has(p) || pc === undefined || !pc.ic) {
        orderedIcs.push(c);
        placed.add(c.node);
        progress = true;
      }
    }
    if (!progress) {
      const stuck = ics.find((c) => !placed.has(c.node))!;
      throw new DtsError(stuck.node.loc, `interrupt controllers form a cycle through ${describeNode(stuck.node)}`);
    }
  }
  const roots = orderedIcs.filter((c) => {
    const p = icParent.get(c) ?? null;
    return p === null || p === c.node;
  });
  if (roots.length > 1) {
    throw new DtsError(roots[1]!.node.loc, `more than one root interrupt controller (${describeNode(roots[0]!.node)} and ${describeNode(roots[1]!.node)}); the CPU has one IRQ input`);
  }
  const order = [...orderedIcs, ...cands.filter((c) => !c.ic && c.iommu), ...cands.filter((c) => !c.ic && !c.iommu)];

  // ---- 4: create
  const instByNode = new Map<DtNode, DeviceInstance>();
  const pendingPorts = new Map<DtNode, MasterPort[]>();
  const devices: DeviceInstance[] = [];
  let rootInst: DeviceInstance | null = null;

  for (const c of order) {
    const node = c.node;
    const reg = c.reg;
    const name = c.name;

    // interrupts
    const irqRefs = interrupts(tree, node);
    const irqProp = getProp(node, 'interrupts-extended') ?? getProp(node, 'interrupts');
    const irqs: IrqLine[] = [];
    const irqSpecs: IrqSpec[] = [];
    const irqNames: (string | null)[] = [];
    const selfWired: [IrqSpec, IrqLine][] = [];
    for (const r of irqRefs) {
      const line = new IrqLine(`${name}:${r.name ?? r.index}`, machine.tracer);
      const spec: IrqSpec = { cells: r.cells };
      irqs.push(line);
      irqSpecs.push(spec);
      irqNames.push(r.name);
      if (r.controller === node) {
        selfWired.push([spec, line]);
        continue;
      }
      if (!isInterruptController(r.controller)) {
        throw new DtsError(irqProp!.loc, `${describeNode(r.controller)} is not an interrupt controller (no 'interrupt-controller'; interrupt-map nexus nodes are not supported)`);
      }
      const ci = instByNode.get(r.controller);
      if (ci === undefined) {
        throw new DtsError(irqProp!.loc, `interrupt controller ${describeNode(r.controller)} of ${name} is disabled or has no device model`);
      }
      line.connect(connectInput(ci, spec, line, irqProp!, name, r.index));
    }

    // IOMMUs
    const mmuRefs = iommus(tree, node);
    const streamIds: number[] = [];
    let mmuNode: DtNode | null = null;
    const mmuLoc = getProp(node, 'iommus')?.loc ?? node.loc;
    for (const r of mmuRefs) {
      if (mmuNode !== null && r.iommu !== mmuNode) throw new DtsError(mmuLoc, `${name} is behind more than one IOMMU; not supported`);
      mmuNode = r.iommu;
      // both bindings wire the same hardware: the generic `iommus = <&smmu sid [mask]>` on the
      // master (the first specifier cell is the stream id) and the legacy
      // `mmu-masters = <&master sid...>` on the SMMU (every cell after the phandle is a stream id)
      const ids = r.binding === 'mmu-masters' ? r.args : r.args.slice(0, 1);
      for (const id of ids) if (!streamIds.includes(id)) streamIds.push(id);
    }
    if (mmuNode !== null) {
      const mc = candByNode.get(mmuNode);
      if (mc === undefined) throw new DtsError(mmuLoc, `IOMMU ${describeNode(mmuNode)} of ${name} is disabled or has no device model`);
    }
    const mmu = mmuNode;
    const dmaPort = (label?: string): MasterPort => {
      const port = new MasterPort(machine.bus, label === undefined ? name : `${name}:${label}`, null);
      if (mmu !== null) {
        const mi = instByNode.get(mmu);
        if (mi !== undefined) port.translator = mi.iommu!.stage;
        else {
          const l = pendingPorts.get(mmu) ?? [];
          l.push(port);
          pendingPorts.set(mmu, l);
        }
      }
      return port;
    };

    const ctx: DeviceContext = { machine, tree, node, name, reg, irqs, irqSpecs, irqNames, streamIds, dmaPort };
    let inst: DeviceInstance;
    try {
      inst = c.factory(ctx);
    } catch (e) {
      if (e instanceof DtsError) throw e;
      throw new DtsError(node.loc, `${name} (${c.compatible}): ${(e as Error).message}`);
    }

    if (c.ic && inst.interruptController === undefined) {
      throw new DtsError(node.loc, `${name}: node is an interrupt-controller but the '${c.compatible}' model provides none`);
    }
    if (c.iommu && inst.iommu === undefined) {
      throw new DtsError(node.loc, `${name}: node is an IOMMU but the '${c.compatible}' model provides no translation stage`);
    }
    if (inst.mmio.length > reg.length) {
      throw new DtsError(getProp(node, 'reg')?.loc ?? node.loc, `${name}: the model has ${inst.mmio.length} register interfaces but 'reg' has ${reg.length} entries`);
    }
    inst.mmio.forEach((dev, i) => {
      if (dev === null) return;
      const r = reg[i]!;
      try {
        machine.bus.addMmio(reg.length === 1 ? name : `${name}[${i}]`, r.base, r.size, dev);
      } catch (e) {
        throw new DtsError(getProp(node, 'reg')!.loc, `${name}: cannot map reg entry ${i}: ${(e as Error).message}`);
      }
    });
    instByNode.set(node, inst);
    devices.push(inst);

    if (roots[0] === c) {
      inst.interruptController!.output.connect(machine.cpu.irqInput);
      rootInst = inst;
    }
    if (inst.iommu !== undefined) {
      for (const p of pendingPorts.get(node) ?? []) p.translator = inst.iommu.stage;
      pendingPorts.delete(node);
    }
    for (const [spec, line] of selfWired) {
      if (inst.interruptController === undefined) throw new DtsError(irqProp!.loc, `${name} routes interrupts to itself but is not an interrupt controller`);
      line.connect(connectInput(inst, spec, line, irqProp!, name, -1));
    }
  }
  return { devices, ram, rootIrqController: rootInst };
}
