/**
 * The pl330-vfio-test scenario and its negative/edge variants (docs/SCENARIOS.md).
 */
import { groupHolder, groupSecond, type GroupBusyShared } from '../../guest-tests/negative/group-busy.js';
import { pl330VfioTest, type Pl330TestOptions, type StepName } from '../../guest-tests/pl330-vfio-test/main.js';
import { errnoName } from '../../kernel-model/base/errno.js';
import type { KernelParams } from '../../kernel-model/base/params.js';
import { parseProfile, type Profile } from '../../kernel-model/profile.js';
import type { System } from '../system/system.js';
import { expectedPl330Outcome, pl330ProgramAbi, type Outcome } from './expected.js';
import { registerScenario, type Scenario, type ScenarioOptions, type ScenarioResult } from './registry.js';
import { adminBind, bootSystem, finishResult, runThreads, SCENARIO_TIME_LIMIT_NS, splitLines } from './runner.js';
import { checkRamFor } from './board-needs.js';
import { compatibles, iommus } from '../../emulator/dt/access.js';
import { BoardError } from '../../emulator/machine.js';

/** the PL330's device name on the default board (other boards: found by pl330Of) */
export const PL330_DEVICE = '2c0a0000.dma';

/**
 * The board's PL330: the enabled device created for a node compatible with "arm,pl330"
 * (Documentation/devicetree/bindings/dma/arm-pl330.yaml), wherever the board puts it, with
 * its Linux device name and its SMMU stream id (first `iommus` specifier cell). A board
 * without one cannot run these scenarios: a board error naming the file (exit 2).
 */
export function pl330Of(sys: System): { name: string; stream: number | null } {
  const dev = sys.machine.devices.find((d) => compatibles(d.node).includes('arm,pl330'));
  if (dev === undefined) throw new BoardError(`${sys.machine.file}: the board has no enabled PL330 (a node compatible with "arm,pl330"): this scenario needs one`);
  const mmu = iommus(sys.machine.tree, dev.node)[0];
  return { name: dev.name, stream: mmu?.args[0] ?? null };
}

/** virtual-time budget of a pl330 scenario run */
export const PL330_BASE_BUDGET_NS = SCENARIO_TIME_LIMIT_NS;
/**
 * Virtual-time budget scaled with the work asked: the fixed 5 s (set-up, interrupt waits of
 * the negative scenarios) plus, per transfer, 8 ns per byte (about 2.5x the ~3 ns/byte the
 * default board's PL330 + SMMU take, docs/PL330.md) and 100 us of per-transfer overhead
 * (measured ~13 us). So every accepted --size x --transfers combination has the time it needs.
 */
export function pl330BudgetNs(size: number | undefined, transfers: number | undefined): number {
  const bytes = Math.ceil((size ?? 4096) / 4096) * 4096;
  return PL330_BASE_BUDGET_NS + (transfers ?? 1) * (bytes * 8 + 100_000);
}

export interface StepRecord {
  step: StepName;
  ok: boolean;
  detail?: string;
}

/** the first failing step decides where the program stopped */
const STEP_OUTCOME: Partial<Record<StepName, Outcome>> = {
  'api-version': 'stop:check-extension',
  'check-extension': 'stop:check-extension',
  'open-group': 'stop:no-group',
  'set-iommu': 'stop:set-iommu',
  'group-viable': 'stop:not-viable',
  'map-dma': 'stop:map-dma',
  'device-fd': 'stop:device-fd',
  'device-info': 'stop:device-info',
  'region-info': 'stop:region-info',
  'mmap-region': 'stop:mmap',
  'irq-info': 'stop:irq-info',
  'set-irqs': 'stop:set-irqs',
  'irq-quiet': 'stop:irq-not-quiet',
  interrupt: 'stop:no-interrupt',
  compare: 'fail:data-mismatch',
  'open-iommufd': 'stop:no-iommufd',
  'find-cdev': 'stop:no-cdev',
  'open-cdev': 'stop:no-cdev',
  bind: 'stop:bind',
  'ioas-alloc': 'stop:ioas-alloc',
  'attach-pt': 'stop:attach-pt',
  'ioas-map': 'stop:ioas-map',
};

export function deriveOutcome(sys: System, steps: readonly StepRecord[], runReason: string, exitStatus: number | null): Outcome {
  // an Oops in interrupt context panicked the kernel: the machine stopped there
  if (sys.irq.panicked !== null) return 'panic:oops-in-interrupt';
  if (sys.irq.storms.length > 0) return 'stop:interrupt-storm';
  const bad = steps.find((s) => !s.ok && STEP_OUTCOME[s.step] !== undefined);
  if (bad) {
    const o = STEP_OUTCOME[bad.step]!;
    if (o === 'stop:no-interrupt') {
      const faults = sys.kernel.drivers.armSmmu.instances.flatMap((i) => i.contextFaults);
      if (faults.some((f) => (f.fsynr & (1 << 6)) !== 0 && (f.fsr & (1 << 3)) !== 0)) return 'fault:xn';
      if (faults.some((f) => (f.fsr & (1 << 1)) !== 0)) return 'fault:translation';
    }
    return o;
  }
  if (runReason === 'time-limit' || runReason === 'event-limit' || runReason === 'idle') {
    if (exitStatus === null) return 'timeout';
  }
  if (exitStatus === null) return 'timeout';
  if (exitStatus > 128) return 'crash';
  if (exitStatus !== 0) return 'fail:exit-status';
  return 'pass';
}

export interface Pl330RunOptions extends ScenarioOptions {
  variant?: Partial<Pl330TestOptions>;
  boardOverride?: string;
  /** which scenario name to report */
  name?: string;
  /** the expected outcome for the profile and the booted kernel's module parameters */
  expected?: (p: Profile, params: KernelParams) => Outcome;
}

/** boot, bind, run pl330-vfio-test with the profile's ABI, and report */
export function runPl330(o: Pl330RunOptions): ScenarioResult & { steps: StepRecord[]; system: System } {
  const profile = parseProfile(o.profile);
  const sys = bootSystem(o, o.boardOverride);
  const device = pl330Of(sys).name;
  checkRamFor(sys, o.size ?? 4096, o.name ?? 'pl330-vfio-test');
  const admin = adminBind(sys, device);
  const output: string[] = [...admin.output];
  const steps: StepRecord[] = [];
  const groupPath = admin.result?.groupPath ?? '/dev/vfio/0';
  const opts: Pl330TestOptions = {
    groupPath,
    device,
    abi: pl330ProgramAbi(profile),
    size: o.size,
    transfers: o.transfers,
    channel: o.channel,
    seed: o.seed,
    ...o.variant,
    observe: (step, ok, detail) => steps.push({ step, ok, detail }),
  };
  const { proc, thread } = sys.spawn('pl330-vfio-test', (s) => pl330VfioTest(s, opts), { stdio: true });
  const run = runThreads(sys, [thread], pl330BudgetNs(o.size, o.variant?.transfers ?? o.transfers));
  output.push(...splitLines(proc.stdout));
  const exitStatus = thread.exit?.status ?? null;
  if (thread.exit?.trap) output.push(`[killed: ${thread.exit.trap.message}]`);
  if (run.reason === 'stopped' && run.detail) output.push(`[machine stopped: ${run.detail}]`);
  const outcome = deriveOutcome(sys, steps, run.reason, exitStatus);
  const expected = (o.expected ?? expectedPl330Outcome)(profile, sys.kernel.params);
  // SET_IOMMU refused: the errno and the kernel's reason (the program itself ignores the
  // ioctl's result, as the original does, and stops at MAP_DMA)
  const si = steps.find((x) => x.step === 'set-iommu' && !x.ok);
  if (si) {
    output.push(`[VFIO_SET_IOMMU: ${errnoName(Number(si.detail))}]`);
    for (const r of sys.kernel.log.records) if (r.msg.includes('No interrupt remapping support')) output.push(`[kernel: ${r.prefix ? `${r.prefix}: ` : ''}${r.msg}]`);
  }
  const res = finishResult(
    sys,
    { scenario: o.name ?? 'pl330-vfio-test', profile: profile.name, board: sys.machine.file, seed: o.seed, expected, outcome, output, exitStatus, device },
    run,
  );
  return { ...res, steps, system: sys };
}

const ALL_PROFILES = ['baseline', 'patches:1', 'patches:1-2', 'patches:1-3', 'patches:1-4', 'patches:1-5', 'patches:1-6', 'patches:1-7', 'patches:1-8', 'patches:1-9', 'rfc-v4', 'patches:1,3-10', 'mainline'];

const main: Scenario = {
  name: 'pl330-vfio-test',
  description: 'the series\' test: a PL330 mem-to-mem copy driven from user space through VFIO (expected outcome per profile)',
  profiles: ALL_PROFILES,
  anyProfile: true,
  accepts: ['board', 'size', 'transfers', 'channel'],
  run: (o) => runPl330(o),
};

const noexec: Scenario = {
  name: 'pl330-noexec',
  description: 'DMA buffers mapped without EXEC: in rfc-v4 the PL330 instruction fetch hits XN (mainline mappings are executable)',
  profiles: ['rfc-v4', 'mainline'],
  accepts: ['board', 'size', 'channel'],
  run: (o) =>
    runPl330({ ...o, name: 'pl330-noexec', variant: { mapExec: false, irqTimeoutMs: 10 }, expected: (p) => (p.caps.iommuExecSemantics === 'exec-flag' ? 'fault:xn' : 'pass') }),
};

const unmapped: Scenario = {
  name: 'pl330-unmapped-iova',
  description: 'the DMA program reads from an IOVA nobody mapped: SMMU translation fault, PL330 data_read_err',
  profiles: ['rfc-v4', 'mainline'],
  accepts: ['board', 'size', 'channel'],
  run: (o) => runPl330({ ...o, name: 'pl330-unmapped-iova', variant: { srcIovaOverride: 0x0100_0000, irqTimeoutMs: 10 }, expected: () => 'fault:translation' }),
};

const patch09Oops: Scenario = {
  name: 'patch09-oops',
  description: 'patch level 09 as posted: the first completion interrupt runs eventfd_signal() on the struct vfio_platform_irq: Oops in interrupt context, "Kernel panic - not syncing: Fatal exception in interrupt"',
  profiles: ['patches:1-9'],
  accepts: ['board', 'size', 'channel'],
  run: (o) => runPl330({ ...o, name: 'patch09-oops', expected: () => 'panic:oops-in-interrupt' }),
};

const noUnmask: Scenario = {
  name: 'no-unmask',
  description: 'two transfers without UNMASK in between: the automasked line stays masked, the second completion never arrives',
  profiles: ['rfc-v4', 'mainline'],
  accepts: ['board', 'size', 'channel'],
  run: (o) => runPl330({ ...o, name: 'no-unmask', transfers: 2, variant: { unmaskBetween: false, irqTimeoutMs: 10 }, expected: () => 'stop:no-interrupt' }),
};

/**
 * A mainline story: mainline groups the two masters of one stream id (caps.groupingRule
 * 'by-stream-id'), so the PL330's group is not viable while dma1 stays on its host driver.
 * The 2014 kernel gives each master its own group: the group is viable and the program
 * passes, with dma1 silently translated through the user's tables (shared-stream-id shows it).
 */
const notViable: Scenario = {
  name: 'group-not-viable',
  description: 'a second master with the PL330\'s stream id stays on its host driver: mainline (one group) says not viable; 2014 (a group per master) lets the program pass',
  profiles: ['rfc-v4', 'mainline'],
  accepts: ['size', 'channel'],
  run: (o) =>
    runPl330({ ...o, name: 'group-not-viable', boardOverride: 'vexpress-vfio-shared-group', expected: (p, k) => (p.caps.groupingRule === 'by-stream-id' ? 'stop:not-viable' : expectedPl330Outcome(p, k)) }),
};

const groupBusy: Scenario = {
  name: 'group-busy',
  description: 'a second process opening a group that is already open gets -EBUSY',
  profiles: ['rfc-v4', 'mainline'],
  accepts: ['board'],
  run(o) {
    const profile = parseProfile(o.profile);
    const sys = bootSystem(o);
    const device = pl330Of(sys).name;
    checkRamFor(sys, 4096, 'group-busy');
    const admin = adminBind(sys, device);
    const groupPath = admin.result?.groupPath ?? '/dev/vfio/0';
    const shared: GroupBusyShared = { holderOpen: false, secondDone: false, secondResult: null };
    const a = sys.spawn('holder', (s) => groupHolder(s, groupPath, shared), { stdio: true });
    const b = sys.spawn('second', (s) => groupSecond(s, groupPath, shared), { stdio: true });
    const run = runThreads(sys, [a.thread, b.thread]);
    const output = [...admin.output, ...splitLines(a.proc.stdout), ...splitLines(b.proc.stdout)];
    const outcome: Outcome = shared.secondResult === -16 ? 'busy:group' : shared.secondResult === null ? 'timeout' : 'fail:exit-status';
    return finishResult(
      sys,
      { scenario: 'group-busy', profile: profile.name, board: sys.machine.file, seed: o.seed, expected: 'busy:group', outcome, output, exitStatus: b.thread.exit?.status ?? null, device },
      run,
    );
  },
};

export const CLOSE_ITEMS = ['container', 'group', 'device', 'eventfd'] as const;

export function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [xs.slice()];
  const out: T[][] = [];
  xs.forEach((x, i) => {
    for (const rest of permutations([...xs.slice(0, i), ...xs.slice(i + 1)])) out.push([x, ...rest]);
  });
  return out;
}

/**
 * Close every fd (in the given order) and unmap the buffers while a 256 KiB transfer is in
 * flight. Passes when, at the end, no page is pinned, the IOMMU no longer maps any of
 * the IOVAs (so the DMA can no longer reach a freed page) and the PL330 channel stopped
 * (completed or faulted on a now-unmapped IOVA).
 */
export function runCloseInFlight(o: ScenarioOptions, order: ReadonlyArray<(typeof CLOSE_ITEMS)[number]>): ScenarioResult & { checks: Record<string, boolean> } {
  const size = o.size ?? 256 * 1024;
  const r = runPl330({ ...o, size, name: `close-in-flight`, variant: { closeInFlight: [...order, 'munmap'] }, expected: () => 'pass' });
  const sys = r.system;
  const pl = pl330Of(sys);
  sys.machine.scheduler.runUntilIdle(1_000_000);
  const pages = sys.kernel.mm.pages;
  let pinned = 0;
  for (let pa = pages.ramBase; pa < pages.ramBase + pages.ramSize; pa += 4096) pinned += pages.pinCount(pa);
  const smmu = sys.machine.devices.find((d) => d.iommu)!.iommu!.stage as unknown as {
    translateNoSideEffects(sid: number, va: number, attrs: number): { ok: boolean; pa?: number; bypass?: boolean };
  };
  // after the container is gone the stream either faults or (2014 driver: S2CR back to
  // bypass) sees the IOVA as a physical address: neither may land in RAM
  let stillMapped = 0;
  const len = Math.ceil(size / 4096) * 4096; // the guest maps whole pages at IOVA 0, len, 2*len
  for (let iova = 0; iova < 2 * len + 4096; iova += 4096) {
    const t = smmu.translateNoSideEffects(pl.stream ?? 0, iova, 0);
    if (t.ok && sys.machine.bus.ramAt(t.pa ?? iova, 1) !== null) stillMapped++;
  }
  const dmac = (sys.machine.deviceByName(pl.name) as unknown as { dmac: { busy: boolean } }).dmac;
  const checks = { noPagesPinned: pinned === 0, iovasUnmapped: stillMapped === 0, dmaStopped: !dmac.busy };
  const ok = Object.values(checks).every(Boolean) && r.exitStatus === 0;
  const outcome: Outcome = ok ? 'pass' : 'fail:exit-status';
  r.output.push(`[checks: ${Object.entries(checks).map(([k, v]) => `${k}=${v}`).join(' ')}]`);
  return { ...r, scenario: `close-in-flight`, outcome, passed: outcome === r.expected, checks, virtualTimeNs: sys.now, traceSha256: sys.machine.tracer.digest() };
}

const closeInFlight: Scenario = {
  name: 'close-in-flight',
  description: 'close container, group, device and eventfd (order: --seed picks one of the 24 orders) while a transfer is in flight: nothing stays pinned, no freed page is reachable',
  profiles: ['rfc-v4', 'mainline'],
  accepts: ['board', 'size', 'channel'],
  run: (o) => {
    const orders = permutations(CLOSE_ITEMS);
    return runCloseInFlight(o, orders[o.seed % orders.length]!);
  },
};

for (const s of [main, noexec, unmapped, patch09Oops, noUnmask, notViable, groupBusy, closeInFlight]) registerScenario(s);
