/**
 * Run unmodified ARM Linux programs (static armhf ELF) as processes of the emulated system
 * on the Unicorn CPU backend: boot the System (board + kernel model for a profile), do the
 * administrator's VFIO binding with the TypeScript admin program on the stub CPU
 * (guest-tests/admin/bind.ts), exec the ELF as a process with stdio, run it to exit.
 *
 * Entry points for the CLI (wired by the integrator):
 *   vfio-arm-emu run --cpu unicorn --elf path [--args ...]   -> runElf()
 *   vfio-arm-emu run pl330-vfio-test --cpu unicorn          -> runPl330VfioTestUnicorn()
 */
import { readFileSync } from 'node:fs';
import { Prng } from '../../emulator/prng.js';
import type { RunResult } from '../../emulator/scheduler.js';
import type { TraceExports } from '../../emulator/trace.js';
import { bindToVfio, type BindResult } from '../../guest-tests/admin/bind.js';
import { Libc } from '../../guest-tests/lib/libc.js';
import { pl330VfioTest } from '../../guest-tests/pl330-vfio-test/main.js';
import { execElf, type ArmProcess } from '../../kernel-model/exec/exec.js';
import { RootfsFile } from '../../kernel-model/vfs/rootfs.js';
import type { Sys } from '../../kernel-model/uapi/sys.js';
import { parseProfile } from '../../kernel-model/profile.js';
import { pl330ProgramAbi } from '../scenarios/expected.js';
import { adminAllowUnsafeIommufd } from '../scenarios/runner.js';
import { System } from '../system/system.js';
import { compatibles } from '../../emulator/dt/access.js';
import { busyboxPath, guestBinary } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { crossLibcRootfs, hostExecFs, hostRootfs } from './rootfs.js';

export const DEFAULT_DEVICE = '2c0a0000.dma';
/** default virtual-time limit of an ARM program run: 10 s */
export const DEFAULT_MAX_NS = 10_000_000_000;
/**
 * default instruction limit: 1e9 guest instructions, about a minute of host time at the
 * backend's ~14 M instructions/s (docs/PERFORMANCE.md), so a CPU-bound program cannot run for
 * many minutes before a limit triggers (10 s of virtual time at 1 GHz would be 1e10)
 */
export const DEFAULT_MAX_INSTRUCTIONS = 1_000_000_000;

export interface UnicornRunOptions {
  /** path of the ARM ELF */
  elf: string;
  /** argv[1..] */
  args?: readonly string[];
  /** argv[0] (default: the file's base name) */
  argv0?: string;
  profile?: string;
  board?: string;
  seed?: number;
  /** the caller wants JSON (the result is the same object; `json` only marks the request) */
  json?: boolean;
  /** bind this platform device to vfio-platform before the program starts (default 2c0a0000.dma; null: no binding) */
  bind?: string | null;
  /** trace events kept in memory (default false: digest only) */
  keepTrace?: boolean;
  /** accelerator layers (emulator/accel.ts); default ACCEL_DEFAULT */
  accel?: boolean;
  /** the kernel command line, replacing the board's /chosen/bootargs (CLI --bootargs) */
  bootargs?: string;
  /** virtual-time limit (default 10 s) */
  maxNs?: number;
  /** guest-instruction limit, all threads together (default DEFAULT_MAX_INSTRUCTIONS) */
  maxInstructions?: number;
  /**
   * called now and then while the program runs (about once per host second, host clock:
   * tools/ only) with the progress so far; the CLI draws a heartbeat on a terminal's stderr
   */
  onProgress?: (p: { virtualNs: number; instructions: number }) => void;
  /** host milliseconds between onProgress calls (default 1000) */
  progressIntervalMs?: number;
  /** host batching limit: instructions per quantum at most (invisible to the program; docs/TIMING.md) */
  quantum?: number;
  /** time slice of a thread, in instructions (default 10,000) */
  timeslice?: number;
  /** a host directory mounted read-only as / (beside /dev, /proc, /sys, /tmp): execve() and the file syscalls read it (tools/unicorn/rootfs.ts) */
  rootfs?: string | null;
  /**
   * the host's cross C library directory (libc6-armhf-cross: rootfs.ts CROSS_LIBC_DIR) as the
   * guest's /lib, over the rootfs (or an empty root): dynamically linked programs find their
   * loader and libraries there (rootfs.ts crossLibcRootfs); an absent directory is an error
   */
  crossLibc?: string | null;
  /** busybox-static for /bin/busybox and /bin/sh (default: the fetched one, when present) */
  busybox?: string | null;
  /** more guest paths -> host files for execve */
  execFiles?: Readonly<Record<string, string>>;
  /**
   * with bind null: count this device's VFIO interrupts anyway (the programs bind it
   * themselves): the largest count seen when a process of the run ends, or at the end
   */
  countDevice?: string;
}

/** the trace exports (emulator/trace.ts TraceExports) are there with keepTrace; functions, so JSON output leaves them out */
export interface UnicornRunResult extends Partial<TraceExports> {
  cpu: 'unicorn';
  elf: string;
  argv: string[];
  profile: string;
  board: string;
  seed: number;
  /** shell-style status: exit code or 128 + signal; null if the program did not end in time */
  exitStatus: number | null;
  /** "prog: exited with status 0" or the fault report "prog: SIGSEGV (...) at address 0x0 pc 0x...; exit status 139" */
  exitReport: string;
  stdout: string;
  stderr: string;
  virtualTimeNs: number;
  traceSha256: string;
  /** VFIO interrupts delivered to user space: eventfd signals by vfio-platform for the bound device */
  interrupts: number;
  /** kstat counts of the device's lines (/proc/interrupts; 3.14 also counts the take that masks a lazily disabled line, mainline not: capability irqKstat) */
  irqTakes: number;
  /** unknown syscall numbers answered -ENOSYS, with counts */
  unknownSyscalls: Record<string, number>;
  /** every process that ended during the run (the administrator's included), in exit order: shell-style status */
  processes: { pid: number; name: string; status: number }[];
  syscalls: number;
  /** syscalls by ARM EABI number */
  syscallsByNr: Record<string, number>;
  instructions: number;
  threads: number;
  demandFaults: number;
  /** the most Unicorn regions the first process's mirror held (engine.ts REGION_LIMIT) */
  peakRegions: number;
  /**
   * the most Unicorn regions any process's mirror held (the program and what it forked; read at
   * the end of the run from each process's engine, so an engine a later process took from the
   * pool reports that one's)
   */
  peakRegionsTree: number;
  mmioAccesses: number;
  bind: BindResult | null;
  kernelLog: string[];
  /** /proc/interrupts at the end of the run */
  procInterrupts: string;
}

/** Boot, bind, exec, run. */
export function runElf(opts: UnicornRunOptions): UnicornRunResult {
  const elfBytes = new Uint8Array(readFileSync(opts.elf));
  const argv0 = opts.argv0 ?? opts.elf.split('/').pop() ?? 'prog';
  return runElfBytes(elfBytes, { ...opts, argv0 });
}

/**
 * The board's PL330 device name: the device created for a node compatible with "arm,pl330"
 * (wherever the board puts it); the default board's name when there is none (binding it then
 * fails visibly in the administrator's transcript).
 */
export function pl330DeviceName(system: System): string {
  return system.machine.devices.find((d) => compatibles(d.node).includes('arm,pl330'))?.name ?? DEFAULT_DEVICE;
}

function runElfBytes(elfBytes: Uint8Array, opts: UnicornRunOptions & { argv0: string; argsFromBind?: (b: BindResult | null, device: string) => string[]; afterBind?: (s: System) => string[] }): UnicornRunResult {
  const seed = opts.seed ?? 1;
  const profile = opts.profile ?? 'rfc-v4';
  const board = opts.board ?? 'vexpress-vfio';
  const system = new System({ profile, board, seed, trace: { enabled: true, keep: opts.keepTrace ?? false }, accel: opts.accel, bootargs: opts.bootargs });
  const m = system.machine;
  const base = opts.rootfs ? hostRootfs(opts.rootfs) : null;
  if (opts.crossLibc) {
    const src = crossLibcRootfs(base, opts.crossLibc);
    if (src === null) throw new Error(`crossLibc: no directory ${opts.crossLibc} (apt-get install libc6-armhf-cross)`);
    system.vfs.mountRootfs(src);
  } else if (base !== null) system.vfs.mountRootfs(base);
  const device = opts.bind ?? pl330DeviceName(system);
  const bind = opts.bind === null ? null : adminBind(system, device);
  // further administrator steps (their transcript lines follow the binding's)
  if (bind !== null && opts.afterBind) bind.transcript.push(...opts.afterBind(system).map((l) => l.replace(/^# /, '')));
  const args = opts.argsFromBind ? opts.argsFromBind(bind, device) : [...(opts.args ?? [])];
  const argv = [opts.argv0, ...args];
  const proc = system.syscalls.createProcess({ name: opts.argv0.slice(0, 15), stdio: true });
  const prng = new Prng(seed).fork(0x41524d);
  let arm: ArmProcess | null = null;
  let signals = 0;
  let run: RunResult | null = null;
  let insnLimitHit = false;
  try {
    const execFs = hostExecFs({ rootfs: opts.rootfs ?? null, busybox: opts.busybox === undefined ? busyboxPath() : opts.busybox, files: opts.execFiles });
    // a program the rootfs holds at argv[0] runs from that file (its segments mapped from it)
    const inRoot = opts.rootfs && opts.argv0.startsWith('/') ? system.vfs.walk(opts.argv0, true) : null;
    const file = inRoot !== null && typeof inRoot !== 'number' && inRoot.node instanceof RootfsFile ? inRoot.node.open(0, null, inRoot.path) : null;
    arm = execElf({ layer: system.syscalls, proc, cpu: system.cpu, bus: m.bus, elf: elfBytes, argv, prng, tracer: m.tracer, log: system.kernel.log, quantum: opts.quantum, timeslice: opts.timeslice, execFs, file: typeof file === 'number' ? null : file });
    const a = arm;
    if (opts.bind !== null) a.abi.onBeforeTeardown = () => { signals = vfioSignals(system, device); };
    const counted = opts.countDevice;
    if (opts.bind === null && counted !== undefined) a.abi.onTreeTeardown = () => { signals = Math.max(signals, vfioSignals(system, counted)); };
    const maxInsns = opts.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
    const insns = (): number => a.abi.tree.reduce((n, p) => p.threads.reduce((k, t) => k + t.instructions, n), 0);
    const progress = opts.onProgress;
    let lastBeat = performance.now();
    const beatMs = opts.progressIntervalMs ?? 1000;
    let calls = 0;
    run = m.scheduler.runUntilPredicate(
      () => {
        if (a.abi.exit !== null) return true;
        if (insns() >= maxInsns) {
          insnLimitHit = true;
          return true;
        }
        // the heartbeat looks at the host clock only every 64 scheduler steps (a step runs a CPU quantum)
        if (progress !== undefined && (++calls & 63) === 0 && performance.now() - lastBeat >= beatMs) {
          lastBeat = performance.now();
          progress({ virtualNs: m.scheduler.now, instructions: insns() });
        }
        return false;
      },
      { within: opts.maxNs ?? DEFAULT_MAX_NS, maxEvents: 50_000_000 },
    );
  } finally {
    // a program that has not exited still holds the device: its signals are counted now
    // (the count is reset when the process's files are closed, hence the teardown hook too)
    if (arm !== null && arm.abi.exit === null && opts.bind !== null) signals = vfioSignals(system, device);
    arm?.engine.release(arm.proc);
    for (const p of arm?.abi.tree ?? []) p.closeEngine();
  }
  const x = arm.abi.exit;
  const unknown: Record<string, number> = {};
  // every process of the run's tree (the program and what it forked)
  const unknownAll = new Map<number, number>();
  const countsAll = new Map<number, number>();
  for (const p of arm.abi.tree) {
    for (const [nr, n] of p.unknown) unknownAll.set(nr, (unknownAll.get(nr) ?? 0) + n);
    for (const [nr, n] of p.counts) countsAll.set(nr, (countsAll.get(nr) ?? 0) + n);
  }
  for (const [nr, n] of [...unknownAll].sort((p, q) => p[0] - q[0])) unknown[String(nr)] = n;
  let syscalls = 0;
  const byNr: Record<string, number> = {};
  for (const [nr, n] of [...countsAll].sort((p, q) => p[0] - q[0])) {
    syscalls += n;
    byNr[String(nr)] = n;
  }
  return {
    cpu: 'unicorn',
    elf: opts.elf,
    argv,
    profile,
    board,
    seed,
    exitStatus: x?.status ?? null,
    exitReport: x?.report ?? (insnLimitHit ? `${opts.argv0}: did not exit within the instruction limit (${opts.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS} instructions; see --insn-limit)` : noExitReport(opts.argv0, run)),
    stdout: proc.stdout,
    stderr: proc.stderr,
    virtualTimeNs: system.now,
    traceSha256: m.tracer.digest(),
    interrupts: signals,
    irqTakes: opts.bind === null ? (opts.countDevice !== undefined ? deviceInterrupts(system, opts.countDevice) : 0) : deviceInterrupts(system, device),
    unknownSyscalls: unknown,
    processes: system.syscalls.exits.map((e) => ({ pid: e.pid, name: e.name, status: e.status })),
    syscalls,
    syscallsByNr: byNr,
    instructions: arm.abi.tree.reduce((n, p) => p.threads.reduce((k, t) => k + t.instructions, n), 0),
    threads: arm.abi.tree.reduce((n, p) => n + p.threads.length, 0),
    demandFaults: arm.engine.demandFaults,
    peakRegions: arm.engine.peakRuns,
    peakRegionsTree: arm.abi.tree.reduce((n, p) => p.threads.reduce((k, t) => Math.max(k, t.engine.peakRuns), n), arm.engine.peakRuns),
    mmioAccesses: arm.engine.mmioAccesses,
    bind,
    kernelLog: system.kernel.log.lines(),
    procInterrupts: system.irq.procInterrupts(),
    ...(opts.keepTrace ? m.tracer.exports({ elf: opts.elf, profile, board }) : {}),
  };
}

/** why a program that did not exit did not: the run loop's stop reason (e.g. the IRQ core's storm diagnosis) */
function noExitReport(argv0: string, run: RunResult | null): string {
  if (run?.reason === 'stopped') return `${argv0}: did not exit: the machine stopped the run: ${run.detail ?? 'no detail'}`;
  if (run?.reason === 'idle') return `${argv0}: did not exit: nothing left to run (every thread blocked with no wake-up pending)`;
  if (run?.reason === 'event-limit') return `${argv0}: did not exit within the event budget`;
  return `${argv0}: did not exit within the virtual-time limit (see --time-limit)`;
}

/** The administrator's binding, run as a TypeScript program on the stub CPU. */
export function adminBind(system: System, device: string): BindResult {
  const method = system.profile.caps.bindMechanism;
  let result: BindResult | null = null;
  const { thread } = system.spawn('admin', function* (sys: Sys) {
    const libc = new Libc(sys);
    if ((yield* libc.init(16 * 1024)) < 0) return 1;
    result = yield* bindToVfio(sys, libc, device, method);
    return 0;
  }, { stdio: true });
  system.runUntilExited([thread]);
  return result ?? { ok: false, groupPath: null, group: null, transcript: ['admin program did not finish'] };
}

/** eventfd signals vfio-platform delivered for `device` (the interrupts user space sees) */
export function vfioSignals(system: System, device: string): number {
  let n = 0;
  for (const drv of system.vfioBusDrivers) for (const d of drv.inspect()) if (d.device === device) for (const i of d.irqs) n += i.signalled;
  return n;
}

/**
 * Interrupts taken from the device's lines: the kstat counts (what /proc/interrupts shows)
 * of the GIC IDs in its device-tree `interrupts`, SPI N = GIC ID 32 + N. Read from the
 * descriptors, not from the /proc/interrupts text, whose chip column and row rule differ
 * between the eras (a v6.12 line without a handler has no row, its count included).
 */
export function deviceInterrupts(system: System, device: string): number {
  const [addr, name] = device.split('.');
  const ids = new Set<number>();
  const stack = [system.machine.tree.root];
  while (stack.length) {
    const n = stack.pop()!;
    stack.push(...n.children);
    if (n.name !== name || (n.unitAddress ?? '').toLowerCase() !== (addr ?? '').toLowerCase()) continue;
    const p = n.props.find((x) => x.name === 'interrupts');
    const cells: number[] = [];
    for (const v of p?.value ?? []) if (v.kind === 'cells') for (const c of v.cells) if (typeof c === 'number') cells.push(c);
    for (let i = 0; i + 2 < cells.length; i += 3) ids.add((cells[i] === 0 ? 32 : 16) + cells[i + 1]!);
  }
  let count = 0;
  for (const id of ids) count += system.irq.descOf(system.irq.virqOf(id))?.count ?? 0;
  return count;
}

/** group path given to the program when the device has no IOMMU group (the program then reports "not viable") */
const NO_GROUP_PATH = '/dev/vfio/0';

export interface Pl330UnicornOptions {
  profile?: string;
  board?: string;
  seed?: number;
  device?: string;
  /**
   * the ELF (default: the port for the profile's kernel, as pl330ProgramAbi picks the
   * TypeScript variant: guest-tests/c/build/pl330-vfio-test (2014) or pl330-vfio-test-mainline;
   * built from source when stale)
   */
  elf?: string;
  keepTrace?: boolean;
  json?: boolean;
  accel?: boolean;
  bootargs?: string;
  maxNs?: number;
  maxInstructions?: number;
  onProgress?: UnicornRunOptions['onProgress'];
  /** argv after the group path and the device (the C port's `nowait` or `hang`) */
  extraArgs?: readonly string[];
  /** instructions per quantum */
  quantum?: number;
}

/**
 * A shell script run by busybox's sh on the board (`run --cpu unicorn --sh FILE`):
 * `sh -c <script> <name> [args]`, nothing bound beforehand (the script does the administrator's
 * set-up), `/bin/pl330-vfio-test` = the C port for the profile's kernel (pl330CPort), busybox
 * for /bin/sh and /bin/busybox, `rootfs` for the rest. The PL330's VFIO interrupts are counted.
 */
export function runShScript(opts: Omit<UnicornRunOptions, 'elf'> & { script: string }): UnicornRunResult {
  const bb = opts.busybox ?? busyboxPath();
  if (bb === null) throw new Error('busybox not found: run tools/unicorn/fetch-busybox.sh (or set VFIO_ARM_EMU_BUSYBOX)');
  const text = readFileSync(opts.script, 'utf8');
  const name = opts.script.split('/').pop() ?? 'script.sh';
  const profile = opts.profile ?? 'rfc-v4';
  return runElf({
    ...opts,
    elf: bb,
    argv0: 'sh',
    args: ['-c', text, name, ...(opts.args ?? [])],
    bind: null,
    countDevice: opts.countDevice ?? DEFAULT_DEVICE,
    busybox: bb,
    execFiles: { '/bin/pl330-vfio-test': guestBinary(pl330CPort(profile)), ...(opts.execFiles ?? {}) },
  });
}

/** pl330-vfio-test, the C port, on the Unicorn backend: `test /dev/vfio/<group> <device>` after the binding */
export function runPl330VfioTestUnicorn(opts: Pl330UnicornOptions = {}): UnicornRunResult & { passed: boolean } {
  return runPl330Port(opts.elf ?? guestBinary(pl330CPort(opts.profile ?? 'rfc-v4')), 'pl330-vfio-test', opts, {
    profile: opts.profile,
    argsFromBind: (b, device) => [b?.groupPath ?? NO_GROUP_PATH, device, ...(opts.extraArgs ?? [])],
  });
}

/**
 * pl330-vfio-test-iommufd, the C port of the cdev + iommufd program (mainline), on the Unicorn
 * backend: `pl330-vfio-test-iommufd <device>` after the binding and the administrator's
 * iommufd.allow_unsafe_interrupts (tools/scenarios/cdev.ts adminAllowUnsafeIommufd)
 */
export function runPl330IommufdUnicorn(opts: Omit<Pl330UnicornOptions, 'elf' | 'extraArgs'> = {}): UnicornRunResult & { passed: boolean } {
  return runPl330Port(guestBinary('pl330-vfio-test-iommufd'), 'pl330-vfio-test-iommufd', opts, {
    profile: opts.profile ?? 'mainline',
    argsFromBind: (_b, device) => [device],
    afterBind: adminAllowUnsafeIommufd,
  });
}

/**
 * A C port of pl330-vfio-test run with the caller's machine options; it passed when it exited 0
 * without "test failed!" and took exactly one interrupt
 */
function runPl330Port(elf: string, argv0: string, opts: Pl330UnicornOptions, how: Pick<Parameters<typeof runElfBytes>[1], 'profile' | 'argsFromBind' | 'afterBind'>): UnicornRunResult & { passed: boolean } {
  const r = runElfBytes(new Uint8Array(readFileSync(elf)), {
    elf,
    argv0,
    board: opts.board,
    seed: opts.seed,
    keepTrace: opts.keepTrace,
    accel: opts.accel,
    bootargs: opts.bootargs,
    maxNs: opts.maxNs,
    maxInstructions: opts.maxInstructions,
    onProgress: opts.onProgress,
    bind: opts.device,
    quantum: opts.quantum,
    ...how,
  });
  return { ...r, passed: r.exitStatus === 0 && !/test failed!/.test(r.stdout) && r.interrupts === 1 };
}

/** the C port a user of the profile's kernel runs: 'pl330-vfio-test' (2014: EXEC map flag) or 'pl330-vfio-test-mainline' */
export function pl330CPort(profile: string): string {
  return C_PORTS[pl330ProgramAbi(parseProfile(profile))];
}

/** the C port of each program variant (guest-tests/c) */
const C_PORTS = { '2014': 'pl330-vfio-test', mainline: 'pl330-vfio-test-mainline' } as const;

/**
 * The TypeScript pl330-vfio-test on the stub CPU with the same set-up (binding, argv) as
 * runPl330VfioTestUnicorn: the reference the C port's output is compared with.
 */
export function runPl330VfioTestStub(opts: { profile?: string; board?: string; seed?: number; device?: string; abi?: '2014' | 'mainline' } = {}): { exitStatus: number | null; stdout: string; interrupts: number; virtualTimeNs: number } {
  const system = new System({ profile: opts.profile ?? 'rfc-v4', board: opts.board, seed: opts.seed ?? 1 });
  const device = opts.device ?? pl330DeviceName(system);
  const bind = adminBind(system, device);
  const { proc, thread } = system.spawn('pl330-vfio-test', (sys: Sys) => pl330VfioTest(sys, { groupPath: bind.groupPath ?? NO_GROUP_PATH, device, abi: opts.abi ?? '2014' }), { stdio: true });
  // the device's IRQ state is reset when the program closes it: sample while it runs
  let signals = 0;
  system.machine.scheduler.runUntilPredicate(() => {
    if (thread.exit !== null) return true;
    signals = Math.max(signals, vfioSignals(system, device));
    return false;
  }, { within: 10_000_000_000, maxEvents: 50_000_000 });
  return { exitStatus: thread.exit?.status ?? null, stdout: proc.stdout, interrupts: signals, virtualTimeNs: system.now };
}

/**
 * Human-readable output for the CLI: the program's stdout and stderr as it wrote them, then
 * the exit line and the run summary (the `--json` form is the result object itself).
 */
export function formatUnicornRun(r: UnicornRunResult): string {
  const out: string[] = [];
  if (r.stdout) out.push(r.stdout.endsWith('\n') ? r.stdout.slice(0, -1) : r.stdout);
  if (r.stderr) out.push(...r.stderr.split('\n').filter((l) => l).map((l) => `[stderr] ${l}`));
  out.push(`--- ${r.exitReport}`);
  const unknown = Object.entries(r.unknownSyscalls).map(([nr, n]) => `${nr}x${n}`).join(' ') || 'none';
  out.push(
    `cpu unicorn, profile ${r.profile}, board ${r.board}, seed ${r.seed}: exit status ${r.exitStatus ?? 'none'}, ` +
      `virtual time ${(r.virtualTimeNs / 1e6).toFixed(3)} ms, ${r.instructions} instructions, ${r.threads} thread(s), ` +
      `${r.syscalls} syscalls (unknown: ${unknown}), interrupts ${r.interrupts}, trace sha256 ${r.traceSha256}`,
  );
  if (r.bind) out.push(...r.bind.transcript.map((l) => `[admin] ${l}`));
  return out.join('\n') + '\n';
}
