import type { Cpu } from '../../emulator/cpu/cpu.js';
import type { Scheduler } from '../../emulator/scheduler.js';
import type { Tracer } from '../../emulator/trace.js';
import { EINVAL, EBUSY } from '../base/errno.js';
import type { HwAccess } from '../base/hw.js';
import type { KernelLog } from '../base/klog.js';
import { IRQ_ENTRY_CALLERS, KernelOops, oopsReport } from '../base/oops.js';
import { IRQ_TYPE_EDGE_RISING, IRQ_TYPE_LEVEL_HIGH, IRQ_TYPE_LEVEL_LOW } from '../driver/types.js';
import type { IrqCapabilities } from '../capabilities-irq.js';
import { GicChip, GIC_SPURIOUS_ID } from './gic.js';
import { showInterrupts } from './proc.js';
import { SpuriousDetector, StormDetector, type IrqStorm } from './spurious.js';
import type { IrqAction, IrqCoreStats, IrqDesc } from './desc.js';
import { IRQF_NO_AUTOEN, IRQF_SHARED, IRQF_TRIGGER_MASK, type IrqApi, type IrqHandler } from './types.js';

export type { IrqStorm } from './spurious.js';
export type { IrqAction, IrqCoreStats, IrqDesc } from './desc.js';

/**
 * The kernel's interrupt core (kernel/irq/*) over the GIC irqchip driver (drivers/irqchip/
 * irq-gic.c, whose register operations are in gic.ts), reduced to what the board and the
 * series need.
 *
 * Numbering (capability `irqDomain`): an irq domain maps GIC hwirqs (interrupt IDs) to
 * Linux irq numbers (virqs); /proc/interrupts shows both.
 * - 'legacy' (3.14 gic_init_bases, drivers/irqchip/irq-gic.c: irq_alloc_descs(-1, 16, ...)
 *   and irq_domain_add_legacy with hwirq_base 16): virq = hwirq. Every ID from 16 up to
 *   the GIC's count has a descriptor from boot on (irq_domain_associate_many calls
 *   gic_irq_domain_map for each), so a driver may request_irq an ID no specifier named,
 *   and its takes run the fasteoi flow like any other line's; the unmapped-ID path of the
 *   IRQ entry is never reached.
 * - 'linear' (v6.12 irq_domain_create_linear): a descriptor is allocated when a specifier
 *   is first mapped; the model hands out virqs sequentially from `firstVirq` (default 16,
 *   the numbers ARM kernels keep for legacy ISA-style descriptors) in the order specifiers
 *   are first parsed, its stand-in for v6.12's dynamic allocation. A board SPI's virq then
 *   differs from its hwirq (SPIs are >= 32 and the boards map well under 16 lines).
 *
 * Flow: the GIC uses the fasteoi flow. One IRQ exception entry reads GICC_IAR once,
 * runs the flow handler of that interrupt and writes GICC_EOIR (Linux loops on IAR
 * until it reads 1023; the model returns after one interrupt and the CPU re-enters
 * immediately while its IRQ input stays asserted, so every take is a separate CPU step).
 *
 * Disable is lazy, as in Linux: disable_irq only marks the descriptor disabled; when
 * the interrupt arrives while disabled the flow handler masks it at the GIC
 * (ICENABLER), records it as pending and EOIs it. enable_irq unmasks (ISENABLER) and
 * replays a pending edge interrupt through GICD_ISPENDR (a level one re-asserts by
 * itself).
 *
 * Each take is also counted by note_interrupt and by the emulator's storm diagnosis
 * (spurious.ts); /proc/interrupts is printed by proc.ts.
 */

export { GIC_DEFAULT_PMR, GIC_DEFAULT_PRIORITY, GIC_SPURIOUS_ID } from './gic.js';

/** the capabilities (kernel-model/capabilities-irq.ts and capabilities.ts) that decide the IRQ core's era-dependent rules */
export type IrqCoreCaps = IrqCapabilities;

export interface IrqCoreOptions {
  hw: HwAccess;
  cpu: Cpu;
  scheduler: Scheduler;
  log: KernelLog;
  tracer?: Tracer | null;
  gic: {
    /** physical base of the distributor (DT reg[0]) */
    distBase: number;
    /** physical base of the CPU interface (DT reg[1]) */
    cpuBase: number;
    /** expected number of IDs (bounds specifiers parsed before boot); GICD_TYPER wins at boot */
    numIrqs?: number;
    /** the GIC node's of_node_full_name (v6.12's "type mismatch" message); default "/interrupt-controller" */
    ofName?: string;
  };
  /** the era's rules (profile capabilities) */
  caps: IrqCoreCaps;
  /** first virq handed out by a 'linear' domain (default 16) */
  firstVirq?: number;
  /** takes of one interrupt without a guest thread running that make a storm (default 10,000) */
  stormThreshold?: number;
  /** largest gap between two takes of a streak, ns (default 10,000 = 10 us) */
  stormGapNs?: number;
  /** note_interrupt window: after this many takes, check unhandled (default 100,000 as Linux) */
  spuriousWindow?: number;
  /** unhandled takes within the window that disable the line (default 99,900 as Linux) */
  spuriousLimit?: number;
}

function triggerIsLevel(t: number): boolean {
  return (t & (IRQ_TYPE_LEVEL_HIGH | IRQ_TYPE_LEVEL_LOW)) !== 0;
}

export class IrqCore implements IrqApi {
  readonly hw: HwAccess;
  readonly cpu: Cpu;
  readonly scheduler: Scheduler;
  readonly log: KernelLog;
  readonly tracer: Tracer | null;
  readonly caps: Readonly<IrqCoreCaps>;
  readonly distBase: number;
  /** of_node_full_name of the GIC node */
  private readonly gicOfName: string;
  readonly cpuBase: number;
  /** the GIC driver's register operations (gic.ts) */
  readonly chip: GicChip;
  /** interrupt IDs the GIC implements (from GICD_TYPER after boot) */
  numIrqs: number;
  booted = false;
  readonly stats: IrqCoreStats = { entries: 0, spurious: 0, errors: 0, oopses: 0, ipis: 0 };
  /** the last Oops caught at the IRQ entry */
  lastOops: KernelOops | null = null;
  /**
   * set when an Oops in a handler panicked the kernel ("Fatal exception in interrupt"):
   * the CPU spins in panic() with interrupts off, so the IRQ entry takes nothing more and
   * the scheduler's stop request stays
   */
  panicked: string | null = null;

  private readonly stormDetector: StormDetector;
  private readonly spurious: SpuriousDetector;
  private nextVirq: number;
  private readonly descs = new Map<number, IrqDesc>();
  private readonly hwToVirq = new Map<number, number>();
  /**
   * changes of the two maps above (a descriptor made) since construction. With each
   * descriptor's own `version` (every public method below that may write a descriptor counts
   * it there before calling the private helpers that write it), a write barrier: the fuzzer's
   * snapshot restores the maps and each descriptor only when its version moved
   * (tools/fuzz/snapshot.ts `guards`, guardedParts below); outside this class the descriptors
   * are read-only.
   */
  version = 0;

  constructor(opts: IrqCoreOptions) {
    this.hw = opts.hw;
    this.cpu = opts.cpu;
    this.scheduler = opts.scheduler;
    this.log = opts.log;
    this.tracer = opts.tracer ?? null;
    this.caps = opts.caps;
    this.distBase = opts.gic.distBase;
    this.gicOfName = opts.gic.ofName ?? '/interrupt-controller';
    this.cpuBase = opts.gic.cpuBase;
    this.chip = new GicChip(opts.hw, this.distBase, this.cpuBase, opts.log);
    this.numIrqs = Math.min(opts.gic.numIrqs ?? 1020, 1020);
    this.nextVirq = opts.firstVirq ?? 16;
    this.stormDetector = new StormDetector(this.cpu, this.scheduler, this.log, this.tracer, opts.stormThreshold ?? 10_000, opts.stormGapNs ?? 10_000);
    this.spurious = new SpuriousDetector(this.log, opts.spuriousWindow ?? 100_000, opts.spuriousLimit ?? 99_900, () => this.scheduler.now);
  }

  /** the first interrupt storm diagnosed, or null */
  get storm(): IrqStorm | null {
    return this.stormDetector.storm;
  }

  /** every storm report (a resumed run may report again) */
  get storms(): readonly IrqStorm[] {
    return this.stormDetector.storms;
  }

  get stormThreshold(): number {
    return this.stormDetector.threshold;
  }

  get stormGapNs(): number {
    return this.stormDetector.gapNs;
  }

  // ================================================================ GIC driver: boot

  /**
   * gic_of_init: program the distributor and the CPU interface through MMIO, then
   * install the IRQ exception entry. SPIs: level, priority 0xa0, target CPU 0, disabled;
   * SGIs enabled, PPIs disabled; PMR 0xf0; both CTLRs enabled. Descriptors mapped before
   * boot get their trigger type written here.
   */
  boot(): void {
    const n = this.chip.init();
    this.numIrqs = n;
    this.booted = true;
    if (this.caps.irqDomain === 'legacy') {
      // 3.14 gic_init_bases: irq_alloc_descs + irq_domain_add_legacy map every ID from 16
      // up (PPIs and SPIs) to the irq of the same number (irq_domain_associate_many)
      for (let id = 16; id < n; id++) if (!this.hwToVirq.has(id)) this.newDesc(id, id);
    }
    for (const desc of this.descs.values()) {
      if (desc.hwirq >= n) {
        this.log.err('GIC', `hwirq ${desc.hwirq} (irq ${desc.irq}) beyond the ${n} implemented interrupts`);
        continue;
      }
      this.writeTrigger(desc);
      if (!desc.masked) this.chip.unmask(desc.hwirq);
    }
    this.cpu.setIrqEntry(this.irqEntry);
  }

  // ================================================================ irq domain

  /**
   * irq_of_parse_and_map for a GIC specifier [type, n, flags]: the virq (the hwirq itself
   * in a 'legacy' domain, the next free number in a 'linear' one; the descriptor is created
   * on first use), or 0 when the specifier is invalid. The trigger type (capability
   * `irqTypeAtMapping`): 3.14 irq_create_of_mapping sets a type that differs from the line's
   * (irq_set_irq_type: the GIC is programmed now, a known hwirq reconfigured); v6.12
   * irq_create_fwspec_mapping only records it (irqd_set_trigger_type: the GIC learns it at
   * request_irq), and a known hwirq whose recorded type differs fails ("type mismatch, failed to
   * map hwirq-%lu for %s!", 0) unless it had none.
   */
  irqOfParse(cells: readonly number[]): number {
    if (cells.length !== 3) {
      this.log.err('GIC', `interrupt specifier with ${cells.length} cells (3 expected)`);
      return 0;
    }
    const [type, n, flags] = cells as [number, number, number];
    let hwirq: number;
    if (type === 0 && Number.isInteger(n) && n >= 0) hwirq = 32 + n;
    else if (type === 1 && Number.isInteger(n) && n >= 0 && n < 16) hwirq = 16 + n;
    else {
      this.log.err('GIC', `bad interrupt specifier <${cells.join(' ')}>`);
      return 0;
    }
    if (hwirq >= this.numIrqs) {
      this.log.err('GIC', `interrupt specifier <${cells.join(' ')}>: hwirq ${hwirq} beyond ${this.numIrqs} interrupts`);
      return 0;
    }
    const trigger = flags & 0xf;
    let virq = this.hwToVirq.get(hwirq);
    let desc: IrqDesc;
    const known = virq !== undefined;
    if (virq === undefined) {
      virq = this.caps.irqDomain === 'legacy' ? hwirq : this.nextVirq++;
      desc = this.newDesc(virq, hwirq);
    } else {
      desc = this.descs.get(virq)!;
      desc.version++;
    }
    if (this.caps.irqTypeAtMapping === 'record') {
      if (!known) {
        desc.trigger = trigger; // irqd_set_trigger_type(irq_data, type)
        return virq;
      }
      if (trigger === 0 || trigger === desc.trigger) return virq;
      if (desc.trigger === 0) {
        desc.trigger = trigger;
        return virq;
      }
      this.log.warn('irq', `type mismatch, failed to map hwirq-${hwirq} for ${this.gicOfName}!`);
      return 0;
    }
    if (trigger !== 0 && trigger !== desc.trigger) this.setType(desc, trigger);
    return virq;
  }

  /**
   * a descriptor as alloc_desc leaves it (kernel/irq/irqdesc.c desc_set_defaults: depth 1,
   * disabled, no trigger type; v6.12 also marks it masked, which matches the GIC, where
   * gic_dist_init left every SPI and PPI disabled), mapped to `hwirq`
   */
  private newDesc(virq: number, hwirq: number): IrqDesc {
    const desc: IrqDesc = {
      irq: virq, hwirq, trigger: 0, actions: [], depth: 1, disabled: true, masked: true,
      pendingReplay: false, inProgress: false, count: 0, unhandled: 0, lastUnhandled: 0, windowCount: 0,
      spuriousDisabled: false, stormEpoch: -1, stormCount: 0, stormStart: 0, stormLast: 0, stormCycles: 0, version: 0,
    };
    this.version++;
    this.descs.set(virq, desc);
    this.hwToVirq.set(hwirq, virq);
    return desc;
  }

  /** alias of irqOfParse */
  mapFromDt(cells: readonly number[]): number {
    return this.irqOfParse(cells);
  }

  /** virq of a GIC interrupt ID, or 0 if not mapped */
  virqOf(hwirq: number): number {
    return this.hwToVirq.get(hwirq) ?? 0;
  }

  /**
   * for the fuzzer's snapshot guards: the descriptor maps (changes counted in this.version)
   * and each descriptor (changes counted in its own version); read-only use
   */
  guardedParts(): { owner: { readonly version: number }; root: object }[] {
    return [{ owner: this, root: this.descs }, { owner: this, root: this.hwToVirq }, ...[...this.descs.values()].map((d) => ({ owner: d, root: d }))];
  }

  /** the descriptor of a virq (read-only use) */
  descOf(irq: number): Readonly<IrqDesc> | undefined {
    return this.descs.get(irq);
  }

  /** all descriptors in virq order */
  descriptors(): Readonly<IrqDesc>[] {
    return [...this.descs.values()].sort((a, b) => a.irq - b.irq);
  }

  /** irq_set_irq_type; 0 or -EINVAL (the GIC supports level-high and rising-edge only for SPIs) */
  irqSetIrqType(irq: number, type: number): number {
    const desc = this.descs.get(irq);
    if (!desc) return -EINVAL;
    desc.version++;
    return this.setType(desc, type & 0xf);
  }

  /**
   * __irq_set_trigger (kernel/irq/manage.c) with the GIC's irq_set_type (capability `gicSetType`);
   * a refusal logs "Setting trigger mode %lu for irq %u failed (%pS)" and is -EINVAL.
   * - 3.14 (no IRQCHIP_SET_TYPE_MASKED): gic_set_type refuses SGIs and any type but level-high
   *   and rising edge; reads ICFGR, then ISENABLER: an enabled ID is disabled (ICENABLER) around
   *   the ICFGR write ("As recommended by the spec"), which happens even when nothing changes.
   * - v6.12 (IRQCHIP_SET_TYPE_MASKED): mask_irq unless masked, gic_set_type (an SGI accepts only
   *   rising edge, an SPI level-high or rising edge; gic_configure_irq reads ICFGR and writes it
   *   only when the value changes, then reads it back), then unmask_irq unless the line is
   *   disabled, whatever the result.
   */
  private setType(desc: IrqDesc, type: number): number {
    const fail = (): number => {
      this.log.err('genirq', `Setting trigger mode ${type} for irq ${desc.irq} failed (gic_set_type)`);
      return -EINVAL;
    };
    const id = desc.hwirq;
    if (this.caps.gicSetType === 'enable-check') {
      if (id < 16 || (type !== IRQ_TYPE_LEVEL_HIGH && type !== IRQ_TYPE_EDGE_RISING)) return fail();
      desc.trigger = type;
      if (this.booted) this.chip.setType314(id, type);
      return 0;
    }
    const unmask = !desc.disabled;
    this.maskIrq(desc);
    let r = 0;
    if (id < 16) r = type !== IRQ_TYPE_EDGE_RISING ? -EINVAL : 0;
    else if (id >= 32 && type !== IRQ_TYPE_LEVEL_HIGH && type !== IRQ_TYPE_EDGE_RISING) r = -EINVAL;
    else if (this.booted) r = this.chip.configure612(id, type);
    if (r === 0) desc.trigger = type;
    else fail();
    if (unmask) this.unmaskIrq(desc);
    return r;
  }

  /**
   * a type recorded before the GIC was booted (specifiers parsed before boot: a model order, the
   * kernel maps after gic_of_init), programmed at boot as at mapping time: 3.14 gic_set_type;
   * v6.12 records only (the GIC learns it at request_irq)
   */
  private writeTrigger(desc: IrqDesc): void {
    if (desc.hwirq < 16 || desc.trigger === 0 || this.caps.gicSetType !== 'enable-check') return;
    this.chip.setType314(desc.hwirq, desc.trigger);
  }

  /** mask_irq (kernel/irq/chip.c): v6.12 returns when already masked; 3.14 writes the chip anyway (`irqMaskStateCheck`) */
  private maskIrq(desc: IrqDesc): void {
    if (desc.masked && this.caps.irqMaskStateCheck) return;
    desc.masked = true;
    if (this.booted) this.chip.mask(desc.hwirq);
  }

  /** unmask_irq: v6.12 returns when not masked; 3.14 writes the chip anyway (also irq_enable's irq_unmask) */
  private unmaskIrq(desc: IrqDesc): void {
    if (!desc.masked && this.caps.irqMaskStateCheck) return;
    desc.masked = false;
    if (this.booted) this.chip.unmask(desc.hwirq);
  }

  /** irq_enable + check_irq_resend */
  private irqEnable(desc: IrqDesc): void {
    desc.disabled = false;
    this.unmaskIrq(desc);
    if (desc.pendingReplay) {
      desc.pendingReplay = false;
      // a level interrupt is still asserted by the device if it still wants service
      if (!triggerIsLevel(desc.trigger) && this.booted) this.chip.retrigger(desc.hwirq);
    }
  }

  // ================================================================ request/free

  /**
   * request_irq -> __setup_irq (kernel/irq/manage.c). Sharing (capability
   * `irqSharedTrigger`): 3.14 compares the IRQF_TRIGGER_* bits of the two requests; v6.12
   * first ORs the line's configured type into a request that gives none, then compares the
   * request's trigger bits with the line's type (or sets the type from the request when the
   * line has none yet). IRQ_TYPE_* and IRQF_TRIGGER_* share their bit values.
   */
  requestIrq(irq: number, handler: IrqHandler, flags: number, name: string, devId: unknown): number {
    const desc = this.descs.get(irq);
    if (!desc || typeof handler !== 'function') return -EINVAL;
    desc.version++;
    if ((flags & IRQF_SHARED) !== 0 && (devId === null || devId === undefined)) return -EINVAL;
    const lineType = this.caps.irqSharedTrigger === 'line-type';
    // v6.12: "If the trigger type is not specified by the caller, then use the default"
    if (lineType && (flags & IRQF_TRIGGER_MASK) === 0) flags |= desc.trigger & IRQF_TRIGGER_MASK;
    const trig = flags & IRQF_TRIGGER_MASK;
    if (desc.actions.length > 0) {
      const old = desc.actions[0]!;
      const bothShared = (old.flags & IRQF_SHARED) !== 0 && (flags & IRQF_SHARED) !== 0;
      let trigOk: boolean;
      if (lineType) {
        // v6.12: the line's type when one was set (IRQD_DEFAULT_TRIGGER_SET), else the
        // request's, recorded as the line's (irqd_set_trigger_type: the chip is not told)
        let oldType = desc.trigger;
        if (oldType === 0) desc.trigger = oldType = trig;
        trigOk = oldType === trig;
      } else {
        // 3.14: the same IRQF_TRIGGER_* bits in both requests
        trigOk = ((old.flags ^ flags) & IRQF_TRIGGER_MASK) === 0;
      }
      if (!bothShared || !trigOk) {
        this.log.err('genirq', `Flags mismatch irq ${irq}. ${hex8(flags)} (${name}) vs. ${hex8(old.flags)} (${old.name})`);
        return -EBUSY;
      }
      desc.actions.push({ handler, flags, name, devId });
      // __setup_irq: "Reset broken irq detection when installing new handler"; a line the
      // spurious logic disabled gets another chance (IRQS_SPURIOUS_DISABLED cleared, __enable_irq)
      desc.unhandled = 0;
      desc.windowCount = 0;
      if (desc.spuriousDisabled) {
        desc.spuriousDisabled = false;
        this.enableIrq(irq);
      }
      return 0;
    }
    // __setup_irq: "Setup the type (level, edge polarity) if configured" (whatever the line has)
    if (trig !== 0) {
      const r = this.setType(desc, trig);
      if (r < 0) return r;
    }
    desc.actions.push({ handler, flags, name, devId });
    desc.spuriousDisabled = false;
    desc.unhandled = 0;
    desc.windowCount = 0;
    if ((flags & IRQF_NO_AUTOEN) !== 0) {
      desc.depth = 1;
    } else {
      // irq_startup
      desc.depth = 0;
      this.irqEnable(desc);
    }
    return 0;
  }

  freeIrq(irq: number, devId: unknown): string | null {
    const desc = this.descs.get(irq);
    if (!desc) return null;
    desc.version++;
    const i = desc.actions.findIndex((a) => a.devId === devId);
    if (i < 0) {
      this.log.warn('genirq', `Trying to free already-free IRQ ${irq}`);
      return null;
    }
    const [action] = desc.actions.splice(i, 1);
    if (desc.inProgress) {
      this.log.warn('genirq', `free_irq(${irq}) called from its own handler: synchronize_irq would deadlock`);
    }
    if (desc.actions.length === 0) {
      // irq_shutdown: disabled, depth 1, masked at the chip
      desc.disabled = true;
      desc.depth = 1;
      this.maskIrq(desc);
    }
    return action!.name;
  }

  // ================================================================ enable/disable

  enableIrq(irq: number): void {
    const desc = this.descs.get(irq);
    if (!desc) return;
    desc.version++;
    if (desc.depth === 0) {
      this.log.warn('genirq', `Unbalanced enable for IRQ ${irq}`);
      return;
    }
    if (desc.depth === 1) {
      desc.depth = 0;
      this.irqEnable(desc);
    } else {
      desc.depth--;
    }
  }

  disableIrqNosync(irq: number): void {
    const desc = this.descs.get(irq);
    if (!desc) return;
    desc.version++;
    if (desc.depth++ === 0) desc.disabled = true; // lazy: masked when it next arrives
  }

  disableIrq(irq: number): void {
    const desc = this.descs.get(irq);
    if (!desc) return;
    this.disableIrqNosync(irq);
    // synchronize_irq: one CPU, handlers run to completion inside a step; only a call
    // from the irq's own handler can find it in progress (a deadlock in Linux)
    if (desc.inProgress) {
      this.log.warn('genirq', `disable_irq(${irq}) called from its own handler: synchronize_irq would deadlock (use disable_irq_nosync)`);
    }
  }

  irqGetTriggerType(irq: number): number {
    return this.descs.get(irq)?.trigger ?? 0;
  }

  // ================================================================ IRQ entry and flow

  /** The IRQ exception entry installed with cpu.setIrqEntry (gic_handle_irq). */
  readonly irqEntry = (): void => {
    if (this.panicked !== null) return;
    this.stats.entries++;
    let iar: number;
    try {
      iar = this.chip.ack();
    } catch (e) {
      if (!(e instanceof KernelOops)) throw e;
      this.reportOops(e, 'reading GICC_IAR');
      this.scheduler.requestStop(`IRQ entry: GIC CPU interface not accessible: ${e.message}`);
      return;
    }
    const id = iar & 0x3ff;
    if (id === GIC_SPURIOUS_ID || id >= 1020) {
      this.stats.spurious++;
      return;
    }
    if (id < 16) {
      this.stats.ipis++;
      this.eoi(iar);
      return;
    }
    const virq = this.hwToVirq.get(id);
    const desc = virq === undefined ? undefined : this.descs.get(virq);
    if (!desc) {
      // nobody maps this ID (a 'linear' domain only: a 'legacy' one maps every ID the GIC
      // can signal). Model choice: masked, EOId and counted in Err:, as handle_bad_irq
      // would; v6.12 gic_handle_irq's generic_handle_domain_irq finds no descriptor and
      // returns -EINVAL, and with EOImode 0 nothing writes the EOI
      this.stats.errors++;
      this.log.err('GIC', `unexpected IRQ trap at hwirq ${id}: no mapping, masking it`);
      this.chip.mask(id);
      this.eoi(iar);
      return;
    }
    this.handleFasteoi(desc, iar);
  };

  private eoi(iar: number): void {
    this.chip.eoi(iar);
  }

  /**
   * handle_fasteoi_irq (kernel/irq/chip.c). kstat_incr_irqs_this_cpu comes before the
   * "disabled or no action" check in 3.14 and after it in v6.12 (capability `irqKstat`).
   */
  private handleFasteoi(desc: IrqDesc, iar: number): void {
    // the flow, the storm and the spurious detectors (spurious.ts) write the descriptor
    desc.version++;
    const kstatEveryTake = this.caps.irqKstat === 'every-take';
    if (kstatEveryTake) desc.count++;
    const tr = this.tracer;
    if (tr !== null && tr.enabled) tr.emit('kernel', 'irq-take', { irq: desc.irq, hwirq: desc.hwirq });
    this.stormDetector.check(desc);
    if (desc.actions.length === 0 || desc.disabled) {
      desc.pendingReplay = true;
      this.maskIrq(desc);
      this.eoi(iar);
      return;
    }
    if (!kstatEveryTake) desc.count++;
    desc.pendingReplay = false;
    desc.inProgress = true;
    let ret = 0;
    let hostError: unknown = null;
    // a snapshot: a handler may free_irq/request_irq on this line
    const actions = desc.actions.slice();
    for (const a of actions) {
      try {
        ret |= a.handler(desc.irq, a.devId);
      } catch (e) {
        if (e instanceof KernelOops) {
          // arch/arm/kernel/traps.c oops_end: an Oops in interrupt context panics;
          // panic() never returns, so there is no EOI and nothing runs after it
          desc.inProgress = false;
          this.panicInInterrupt(e.withCallers(IRQ_ENTRY_CALLERS), `handler ${a.name} of IRQ ${desc.irq}`);
          return;
        }
        hostError = e;
        break;
      }
    }
    desc.inProgress = false;
    if (tr !== null && tr.enabled) tr.emit('kernel', 'irq-handled', { irq: desc.irq, ret });
    this.spurious.note(desc, ret);
    this.eoi(iar);
    if (hostError !== null) throw hostError;
  }

  /**
   * An Oops in a handler: die() prints the report, oops_end() finds in_interrupt() and
   * calls panic("Fatal exception in interrupt") (arch/arm/kernel/traps.c; kernel/panic.c
   * prints "Kernel panic - not syncing: %s"). With panic_timeout 0 the CPU then spins
   * with interrupts off: the model stops the machine for good.
   */
  private panicInInterrupt(e: KernelOops, where: string): void {
    this.stats.oopses++;
    this.lastOops = e;
    this.log.log('alert', '', `${e.message} (in interrupt: ${where})`);
    for (const l of oopsReport(e, this.stats.oopses)) this.log.log('emerg', '', l);
    const msg = 'Kernel panic - not syncing: Fatal exception in interrupt';
    this.log.log('emerg', '', msg);
    this.panicked = msg;
    this.scheduler.requestStop(msg);
  }

  private reportOops(e: KernelOops, where: string): void {
    this.stats.oopses++;
    this.lastOops = e;
    this.log.err('', `${e.message} in interrupt (${where})`);
    this.log.err('', `Internal error: Oops [#${this.stats.oopses}] in interrupt context; the IRQ is completed (EOI) and the machine continues`);
  }

  // ================================================================ /proc/interrupts

  /** /proc/interrupts (proc.ts) */
  procInterrupts(): string {
    return showInterrupts(this.descriptors(), this.stats.errors, { rows: this.caps.procInterruptsRows, chip: this.caps.gicChipLabel });
  }
}

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}
