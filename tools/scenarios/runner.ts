/**
 * Runs guest programs on a booted System and turns what happened into a ScenarioResult:
 * the program's own output lines, the outcome (from the steps it reached, the machine's
 * stop reason, the process's exit), virtual time, DMA bytes, interrupts, faults, guest
 * errors (register-map reports), the kernel log and the trace digest.
 */
import type { StubThread } from '../../emulator/cpu/stub.js';
import type { RunResult } from '../../emulator/scheduler.js';
import { bindToVfio, echoTo, type BindMethod, type BindResult } from '../../guest-tests/admin/bind.js';
import { Libc } from '../../guest-tests/lib/libc.js';
import { errnoName } from '../../kernel-model/base/errno.js';
import { formatRecord } from '../../kernel-model/base/klog.js';
import type { Profile } from '../../kernel-model/profile.js';
import { System, type SystemOptions } from '../system/system.js';
import type { ScenarioFault, ScenarioOptions, ScenarioResult } from './registry.js';

/** virtual-time budget of one scenario run */
export const SCENARIO_TIME_LIMIT_NS = 5_000_000_000;

export function bootSystem(o: ScenarioOptions, board?: string): System {
  const so: SystemOptions = {
    profile: o.profile,
    board: board ?? o.board,
    seed: o.seed,
    // kept unless the caller says otherwise (the CLI keeps it for --trace; results never depend on it: System.tally)
    trace: { enabled: o.trace?.enabled ?? true, keep: o.trace?.keep ?? true },
    accel: o.accel,
    bootargs: o.bootargs,
    onMachine: o.onMachine,
  };
  return new System(so);
}

export function bindMethodFor(p: Profile): BindMethod {
  return p.caps.bindMechanism;
}

/** The administrator's shell session: bind the device to vfio-platform, find its group. */
export function adminBind(sys: System, device: string): { result: BindResult | null; run: RunResult; output: string[] } {
  let result: BindResult | null = null;
  const method = bindMethodFor(sys.profile);
  const { proc, thread } = sys.spawn('admin', function* (s) {
    const libc = new Libc(s);
    if ((yield* libc.init(16 * 1024)) < 0) return 1;
    result = yield* bindToVfio(s, libc, device, method);
    return result.ok ? 0 : 1;
  });
  const run = sys.runUntilExited([thread], 1_000_000_000);
  const r = result as BindResult | null;
  const output = r ? r.transcript.map((l) => `# ${l}`) : [];
  void proc;
  return { result: r, run, output };
}

export interface Collected {
  run: RunResult;
  exitStatus: number | null;
  output: string[];
}

/** Wait for the threads; report the stop. */
export function runThreads(sys: System, threads: StubThread[], withinNs = SCENARIO_TIME_LIMIT_NS): RunResult {
  return sys.runUntilExited(threads, withinNs);
}

export function splitLines(s: string): string[] {
  const lines = s.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** faults seen during the run: SMMU context/global faults, PL330 channel faults, Oopses, storms, guest traps */
export function collectFaults(sys: System): ScenarioFault[] {
  const out: ScenarioFault[] = [];
  for (const f of sys.kernel.drivers.armSmmu.instances.flatMap((i) => i.contextFaults)) {
    const ind = (f.fsynr >> 6) & 1;
    out.push({ t: f.t, source: 'arm-smmu', kind: 'context-fault', detail: `iova=0x${(f.iova >>> 0).toString(16).padStart(8, '0')} fsr=0x${f.fsr.toString(16)} fsynr=0x${f.fsynr.toString(16)} cb=${f.cb}${ind ? ' (instruction fetch)' : ''}` });
  }
  // an Oops's time: its kernel-log line (the oops record itself carries none)
  const oopsTime = (msg: string): number => sys.kernel.log.records.find((r) => r.msg.includes(msg))?.t ?? sys.now;
  for (const o of sys.kernel.oopses) out.push({ t: oopsTime(o.message), source: 'kernel', kind: 'oops', detail: o.message });
  for (const st of sys.irq.storms) {
    out.push({ t: (st as unknown as { t?: number }).t ?? sys.now, source: 'irq', kind: 'interrupt-storm', detail: `IRQ ${st.irq} (hwirq ${st.hwirq}, ${st.name}): ${st.entries} entries in ${st.windowNs} ns` });
  }
  // the PL330's channel faults, tallied whether or not the trace is kept (System.tally)
  for (const e of sys.tally.deviceFaults) out.push({ t: e.t, source: e.src, kind: e.kind, detail: JSON.stringify(e.f) });
  for (const x of sys.syscalls.exits) {
    if (x.trap) out.push({ t: x.t ?? sys.now, source: x.name, kind: x.trap.signal, detail: x.trap.message });
  }
  const oopsLines = sys.kernel.log.records.filter((r) => /Unable to handle kernel|Oops/.test(r.msg));
  for (const r of oopsLines) if (!out.some((f) => f.kind === 'oops' && r.msg.includes(f.detail))) out.push({ t: r.t, source: 'kernel', kind: 'oops', detail: r.msg });
  // the call chain of an Oops in interrupt context, innermost first (its report's Backtrace)
  const irqOops = sys.irq.lastOops;
  if (irqOops !== null && irqOops.backtrace.length > 0) {
    const at = sys.kernel.log.records.find((r) => r.msg.startsWith(irqOops.message))?.t ?? sys.now;
    out.push({ t: at, source: 'kernel', kind: 'oops-backtrace', detail: irqOops.backtrace.join(' <- ') });
  }
  // in time order (stable: simultaneous faults keep the order above)
  return out.sort((a, b) => a.t - b.t);
}


/** interrupts delivered to user space for a device (vfio-platform / vfio-amba trigger eventfd signals) */
export function interruptsOf(sys: System, device: string): number {
  return sys.vfioSignalled(device);
}

/** kstat counts of a device's lines (its /proc/interrupts counts; capability irqKstat decides which takes count) */
export function irqTakesOf(sys: System, device: string): number {
  const dev = sys.kernel.driverCore.findDeviceOnAnyBus(device);
  if (!dev) return 0;
  let n = 0;
  for (const r of dev.resources) if (r.kind === 'irq') n += sys.irq.descOf(r.start)?.count ?? 0;
  return n;
}

export function finishResult(
  sys: System,
  base: Pick<ScenarioResult, 'scenario' | 'profile' | 'board' | 'seed' | 'expected' | 'outcome' | 'output' | 'exitStatus'> & { device?: string },
  run: RunResult,
  /**
   * @deprecated no longer read (scenario files written before 2026-12-04 pass it): the trace
   * exports are offered when the tracer kept the events
   */
  keep?: boolean,
): ScenarioResult {
  void keep;
  const tr = sys.machine.tracer;
  const faults = collectFaults(sys);
  if (run.reason === 'stopped' && run.detail && !faults.some((f) => f.kind === 'interrupt-storm')) {
    faults.push({ t: run.now, source: 'machine', kind: 'stopped', detail: run.detail });
  }
  return {
    ...base,
    passed: base.outcome === base.expected,
    virtualTimeNs: sys.now,
    traceSha256: tr.digest(),
    // bytes the PL330 channels stored (pl330-xfer), tallied whether or not the trace is kept
    dmaBytes: sys.tally.dmaStored,
    interrupts: interruptsOf(sys, base.device ?? '2c0a0000.dma'),
    irqTakes: irqTakesOf(sys, base.device ?? '2c0a0000.dma'),
    faults,
    accel: sys.machine.accel,
    guestErrors: tr.guestErrors,
    guestErrorsByDevice: Object.fromEntries(tr.guestErrorsBySrc),
    kernelLog: sys.kernel.log.records.map(formatRecord),
    // the exports, when the events were kept (bootSystem's default; fault-storm only when its caller asks, as CLI --trace does)
    ...(tr.keeping ? tr.exports({ scenario: base.scenario, profile: base.profile, board: base.board }) : {}),
  };
}

export { errnoName };

/** where the administrator allows iommufd to bind devices whose interrupts are not isolated */
export const IOMMUFD_UNSAFE_PARAM = '/sys/module/iommufd/parameters/allow_unsafe_interrupts';

/**
 * The administrator's second step for the cdev path: `echo 1 >
 * /sys/module/iommufd/parameters/allow_unsafe_interrupts` (drivers/iommu/iommufd/device.c
 * module_param, 0644). The GIC-400 isolates no MSI, so iommufd_device_bind refuses every
 * device (-EPERM) without it, as vfio_iommu_type1 does without its own parameter, which the
 * board's command line sets; the board's command line is left as it is (it is part of every
 * scenario's trace). Returns the transcript lines.
 */
export function adminAllowUnsafeIommufd(sys: System): string[] {
  let r = 0;
  const { thread } = sys.spawn('admin', function* (s) {
    const libc = new Libc(s);
    if ((yield* libc.init(16 * 1024)) < 0) return 1;
    r = yield* echoTo(s, libc, IOMMUFD_UNSAFE_PARAM, '1');
    return r === 0 ? 0 : 1;
  });
  sys.runUntilExited([thread], 1_000_000_000);
  return [`# echo 1 > ${IOMMUFD_UNSAFE_PARAM}: ${r === 0 ? 'ok' : `error ${r}`}`];
}
