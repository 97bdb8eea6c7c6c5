/**
 * Issue 23: pl330-vfio-test on the device-centric path of today's kernel (the VFIO device cdev
 * bound to an iommufd, capability `vfioDeviceCdev`) and its negative scenarios: the exclusion
 * between the group path and the cdev path, DMA to an IOVA the IOAS does not map, and
 * IOMMU_IOAS_MAP beyond RLIMIT_MEMLOCK (docs/SCENARIOS.md).
 */
import { cdevGroupConflict, type CdevGroupConflictResult } from '../../guest-tests/negative/cdev-group-conflict.js';
import { pl330IommufdTest, type Pl330IommufdOptions } from '../../guest-tests/pl330-vfio-test/iommufd.js';
import { parseProfile } from '../../kernel-model/profile.js';
import type { ProcessOptions } from '../../kernel-model/process/process.js';
import type { System } from '../system/system.js';
import { checkRamFor } from './board-needs.js';
import type { Outcome } from './expected.js';
import { deriveOutcome, pl330BudgetNs, pl330Of, type StepRecord } from './pl330.js';
import { registerScenario, type Scenario, type ScenarioOptions, type ScenarioResult } from './registry.js';
import { adminAllowUnsafeIommufd, adminBind, bootSystem, finishResult, runThreads, splitLines } from './runner.js';

/** the device's directory under /sys/bus: amba where the kernel made the PL330 an AMBA device, else platform */
export function sysfsDeviceOf(sys: System, device: string): string {
  return sys.kernel.sysfs.lookup(`bus/amba/devices/${device}`) !== null ? `/sys/bus/amba/devices/${device}` : `/sys/bus/platform/devices/${device}`;
}

export interface Pl330IommufdRunOptions extends ScenarioOptions {
  variant?: Partial<Pl330IommufdOptions>;
  name: string;
  expected: Outcome;
  /** the test process's credentials and limits (memlock scenario) */
  proc?: ProcessOptions;
}

/** boot, bind the PL330 to its VFIO driver, run the cdev + iommufd program, report */
export function runPl330Iommufd(o: Pl330IommufdRunOptions): ScenarioResult & { steps: StepRecord[]; system: System } {
  const profile = parseProfile(o.profile);
  const sys = bootSystem(o);
  const device = pl330Of(sys).name;
  checkRamFor(sys, o.size ?? 4096, o.name);
  const admin = adminBind(sys, device);
  const output: string[] = [...admin.output, ...adminAllowUnsafeIommufd(sys)];
  const steps: StepRecord[] = [];
  const opts: Pl330IommufdOptions = {
    sysfsDevice: sysfsDeviceOf(sys, device),
    device,
    size: o.size,
    transfers: o.transfers,
    channel: o.channel,
    seed: o.seed,
    ...o.variant,
    observe: (step, ok, detail) => steps.push({ step, ok, detail }),
  };
  const logStart = sys.kernel.log.records.length;
  const { proc, thread } = sys.spawn('pl330-vfio-test-iommufd', (s) => pl330IommufdTest(s, opts), { stdio: true, ...o.proc });
  const run = runThreads(sys, [thread], pl330BudgetNs(o.size, o.transfers));
  output.push(...splitLines(proc.stdout));
  const exitStatus = thread.exit?.status ?? null;
  if (thread.exit?.trap) output.push(`[killed: ${thread.exit.trap.message}]`);
  if (run.reason === 'stopped' && run.detail) output.push(`[machine stopped: ${run.detail}]`);
  const outcome = deriveOutcome(sys, steps, run.reason, exitStatus);
  // an SMMU fault is reported by arm_smmu_context_fault in the kernel log: shown with the output
  if (outcome.startsWith('fault:')) {
    for (const r of sys.kernel.log.records.slice(logStart)) if (r.prefix.startsWith('arm-smmu')) output.push(`[kernel: ${r.prefix}: ${r.msg}]`);
  }
  const res = finishResult(sys, { scenario: o.name, profile: profile.name, board: sys.machine.file, seed: o.seed, expected: o.expected, outcome, output, exitStatus, device }, run);
  return { ...res, steps, system: sys };
}

const MAINLINE_ONLY = ['mainline'] as const;

const iommufdMain: Scenario = {
  name: 'pl330-vfio-test-iommufd',
  description: 'pl330-vfio-test through the device cdev: /dev/vfio/devices/vfioN bound to an iommufd, an IOAS attached, buffers mapped with IOMMU_IOAS_MAP (mainline)',
  profiles: MAINLINE_ONLY,
  accepts: ['board', 'size', 'transfers', 'channel'],
  run: (o) => runPl330Iommufd({ ...o, name: 'pl330-vfio-test-iommufd', expected: 'pass' }),
};

const iommufdUnmapped: Scenario = {
  name: 'iommufd-unmapped-iova',
  description: 'the cdev + iommufd program with the DMA source at an IOVA the IOAS does not map: SMMU translation fault (reported in the kernel log), no completion interrupt',
  profiles: MAINLINE_ONLY,
  accepts: ['board', 'size', 'channel'],
  run: (o) => runPl330Iommufd({ ...o, name: 'iommufd-unmapped-iova', variant: { srcIovaOverride: 0x0100_0000, irqTimeoutMs: 10 }, expected: 'fault:translation' }),
};

/**
 * A process without CAP_IPC_LOCK and an RLIMIT_MEMLOCK of two pages maps three: the third
 * IOMMU_IOAS_MAP pins past the limit and is -ENOMEM (iommufd pages.c incr_user_locked_vm,
 * the default IOPT_PAGES_ACCOUNT_USER mode; the IOAS has a domain, so pages pin at map time)
 */
const iommufdMemlock: Scenario = {
  name: 'iommufd-memlock',
  description: 'IOMMU_IOAS_MAP beyond RLIMIT_MEMLOCK (8 KiB, no CAP_IPC_LOCK): the third buffer\'s map is -ENOMEM',
  profiles: MAINLINE_ONLY,
  accepts: ['board'],
  run: (o) => runPl330Iommufd({ ...o, name: 'iommufd-memlock', expected: 'stop:ioas-map', proc: { capIpcLock: false, memlock: 8192 } }),
};

const cdevConflict: Scenario = {
  name: 'cdev-group-conflict',
  description: 'the group path and the cdev path exclude each other: BIND_IOMMUFD while the group path holds the device, and the group open while the cdev is bound, are -EBUSY',
  profiles: MAINLINE_ONLY,
  accepts: ['board'],
  run(o) {
    const profile = parseProfile(o.profile);
    const sys = bootSystem(o);
    const device = pl330Of(sys).name;
    checkRamFor(sys, 4096, 'cdev-group-conflict');
    const admin = adminBind(sys, device);
    const groupPath = admin.result?.groupPath ?? '/dev/vfio/0';
    const allow = adminAllowUnsafeIommufd(sys);
    const res: CdevGroupConflictResult = { bindWhileGroup: null, bindAfter: null, groupWhileBound: null };
    const p = sys.spawn('cdev-group-conflict', (s) => cdevGroupConflict(s, groupPath, device, sysfsDeviceOf(sys, device), res), { stdio: true });
    const run = runThreads(sys, [p.thread]);
    const output = [...admin.output, ...allow, ...splitLines(p.proc.stdout)];
    const exitStatus = p.thread.exit?.status ?? null;
    const outcome: Outcome = exitStatus === null ? 'timeout' : exitStatus === 0 ? 'busy:cdev-group' : 'fail:exit-status';
    return finishResult(sys, { scenario: 'cdev-group-conflict', profile: profile.name, board: sys.machine.file, seed: o.seed, expected: 'busy:cdev-group', outcome, output, exitStatus, device }, run);
  },
};

for (const s of [iommufdMain, iommufdUnmapped, iommufdMemlock, cdevConflict]) registerScenario(s);
