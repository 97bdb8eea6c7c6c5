/**
 * The machine: scheduler, bus, tracer, seeded PRNG and CPU, with the devices of a board
 * assembled from its device tree (emulator/board/assemble.ts, docs/BOARDS.md).
 *
 * This file is in emulator/ and names no concrete device: the caller passes a
 * DeviceRegistry (tools use devices/registry.ts defaultRegistry()).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RamRegion } from './bus.js';
import { PhysicalBus } from './bus.js';
import { Cpu, type CpuOptions } from './cpu/cpu.js';
import { assembleBoard, type AssembleOptions } from './board/assemble.js';
import { validateBoard } from './board/validate.js';
import type { DeviceRegistry } from './board/registry.js';
import type { DeviceInstance, MachineCore } from './board/types.js';
import { getProp, isEnabled, string, u32 } from './dt/access.js';
import { findNodeByPath, parseDts } from './dt/parser.js';
import { DtsError, type DeviceTree, type DtNode } from './dt/types.js';
import { ACCEL_DEFAULT } from './accel.js';
import { Prng } from './prng.js';
import { Scheduler } from './scheduler.js';
import { Tracer } from './trace.js';

/** Seed used when none is given (recorded in the trace like any other). */
export const DEFAULT_SEED = 1;

export interface MachineTraceOptions {
  /** emit trace events (default false: only a property check per potential event) */
  enabled?: boolean;
  /** keep events in memory (default true; the digest is computed either way) */
  keep?: boolean;
  maxKept?: number;
}

export interface MachineOptions {
  seed?: number;
  trace?: MachineTraceOptions;
  /** CPU options; hz defaults to the first cpu node's clock-frequency */
  cpu?: CpuOptions;
  assemble?: AssembleOptions;
  /** accelerator layers on (default ACCEL_DEFAULT: on unless VFIO_ARM_EMU_ACCEL=0); emulator/accel.ts */
  accel?: boolean;
}

export interface CreateMachineOptions extends MachineOptions {
  /** DTS source text */
  dts: string;
  /** file name used in error messages ("emulator/boards/vexpress-vfio.dts") */
  file: string;
  registry: DeviceRegistry;
}

export class Machine implements MachineCore {
  readonly scheduler: Scheduler;
  readonly bus: PhysicalBus;
  readonly tracer: Tracer;
  readonly prng: Prng;
  readonly cpu: Cpu;
  readonly tree: DeviceTree;
  /** device instances in creation order (interrupt controllers, IOMMUs, then the rest) */
  readonly devices: readonly DeviceInstance[];
  readonly ram: readonly RamRegion[];
  /** the interrupt controller whose output drives the CPU's IRQ input (null when none) */
  readonly rootIrqController: DeviceInstance | null;
  /** the board file name (tree.file) */
  readonly file: string;
  readonly seed: number;
  /** accelerator layers allowed (devices may still turn theirs off by node property) */
  readonly accel: boolean;
  private readonly byName = new Map<string, DeviceInstance>();

  constructor(tree: DeviceTree, registry: DeviceRegistry, opts: MachineOptions = {}) {
    this.tree = tree;
    this.file = tree.file;
    this.seed = (opts.seed ?? DEFAULT_SEED) >>> 0;
    this.accel = opts.accel ?? ACCEL_DEFAULT;
    this.scheduler = new Scheduler();
    const sched = this.scheduler;
    this.tracer = new Tracer(() => sched.now, opts.trace?.enabled ?? false, { keep: opts.trace?.keep ?? true, maxKept: opts.trace?.maxKept });
    // the board is identified by its content, never by the path string it was loaded through
    // (default name, relative or absolute path give one digest): the source's SHA-256
    this.tracer.emit('machine', 'seed', { seed: this.seed, board: tree.sourceSha256 ?? 'unparsed' });
    this.prng = new Prng(this.seed);
    this.bus = new PhysicalBus();
    const cpuOpts: CpuOptions = { ...(opts.cpu ?? {}) };
    if (cpuOpts.hz === undefined) {
      const hz = cpuClockFromTree(tree);
      if (hz !== null) cpuOpts.hz = hz;
    }
    this.cpu = new Cpu(this.scheduler, this.tracer, cpuOpts);
    // the bindings' rules first (file:line:col), then the device models' own checks
    validateBoard(tree);
    const board = assembleBoard(this, tree, registry, opts.assemble);
    this.devices = board.devices;
    this.ram = board.ram;
    this.rootIrqController = board.rootIrqController;
    for (const d of board.devices) this.byName.set(d.name, d);
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  /** The device with a Linux-style name ("2c0a0000.dma"), or null. */
  deviceByName(name: string): DeviceInstance | null {
    return this.byName.get(name) ?? null;
  }

  /** The device created from a node with this label ("dma0"), or null. */
  deviceByLabel(label: string): DeviceInstance | null {
    const n = this.tree.labels.get(label);
    if (n === undefined) return null;
    return this.devices.find((d) => d.node === n) ?? null;
  }

  /** Reset every device to its power-on state, in creation order. */
  resetDevices(): void {
    for (const d of this.devices) d.reset?.();
  }
}

function cpuClockFromTree(tree: DeviceTree): number | null {
  const cpus = findNodeByPath(tree.root, '/cpus');
  if (cpus === null) return null;
  const cpu: DtNode | undefined = cpus.children.find((c) => string(c, 'device_type') === 'cpu' && isEnabled(c));
  if (cpu === undefined) return null;
  const hz = u32(cpu, 'clock-frequency');
  if (hz !== null && !validCpuHz(hz)) {
    throw new DtsError(getProp(cpu, 'clock-frequency')!.loc, `CPU clock-frequency ${hz} Hz is not usable: the model counts whole nanoseconds per cycle, so it must divide 1000000000 (1 Hz .. 1 GHz; e.g. 1000000000, 500000000, 100000000)`);
  }
  return hz;
}

/** a CPU clock the model can run: a whole number of nanoseconds per cycle (emulator/time.ts Clock) */
export function validCpuHz(hz: number): boolean {
  return Number.isInteger(hz) && hz >= 1 && hz <= 1_000_000_000 && 1_000_000_000 % hz === 0;
}

/**
 * Parsed boards of this process, by file name and source text (issue 19, lean boot): a
 * scenario suite, the matrix or a benchmark boots the same board many times, and the tree
 * is read-only after parsing (the machine, the board assembler and the kernel model only
 * read it; the fuzzer's snapshots treat it as a constant and their exactness tests digest
 * it), so one parse serves every boot. A few boards at most are kept.
 */
const parsedBoards = new Map<string, DeviceTree>();
const PARSED_BOARDS_MAX = 8;

/** Parse a board source (cached; errors are DtsError, file:line:col, and are not cached). */
export function parseBoard(dts: string, file: string): DeviceTree {
  // the last hit first: a boot of the same board (the cached source string itself, so
  // `===` is a pointer compare) costs no key string and no hash of the whole source
  const last = lastParsed;
  if (last !== null && last.dts === dts && last.file === file) return last.tree;
  const key = `${file}\0${dts}`;
  let tree = parsedBoards.get(key);
  if (tree === undefined) {
    tree = parseDts(dts, file);
    if (parsedBoards.size >= PARSED_BOARDS_MAX) parsedBoards.delete(parsedBoards.keys().next().value!);
    parsedBoards.set(key, tree);
  }
  lastParsed = { dts, file, tree };
  return tree;
}

/** the board parseBoard answered last (one of parsedBoards) */
// host-only: a parse cache of board sources (the tree is read, never changed, by the machines built from it)
let lastParsed: { dts: string; file: string; tree: DeviceTree } | null = null;

/** Parse a board source and assemble a machine. Errors are DtsError (file:line:col). */
export function createMachine(opts: CreateMachineOptions): Machine {
  const tree = parseBoard(opts.dts, opts.file);
  return new Machine(tree, opts.registry, opts);
}

// ------------------------------------------------------------------ board files

export const DEFAULT_BOARD = 'vexpress-vfio';

/**
 * Directories searched for named boards: emulator/boards next to this module (sources,
 * tests), ../emulator/boards from a bundle in dist/ and ../../emulator/boards from the
 * coverage build in dist/cov/ (docs/FUZZING.md).
 */
export function boardDirs(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, 'boards'), join(here, '..', 'emulator', 'boards'), join(here, '..', '..', 'emulator', 'boards')];
}

function boardDir(): string | null {
  for (const d of boardDirs()) if (existsSync(d)) return d;
  return null;
}

/** A board that cannot be loaded or used: missing/unreadable file, unknown name (a user error, not a bug). */
export class BoardError extends Error {
  override name = 'BoardError';
}

function readBoardFile(p: string, shown: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch (e) {
    // e.g. EISDIR for a directory, EACCES: say which file, without a host stack trace
    throw new BoardError(`cannot read board file ${shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Names of the shipped boards (sorted). */
export function listBoards(): string[] {
  const d = boardDir();
  if (d === null) return [];
  return readdirSync(d).filter((f) => f.endsWith('.dts')).map((f) => f.slice(0, -4)).sort();
}

/**
 * Load a board's DTS source: a name ("vexpress-vfio", the default; the file is
 * emulator/boards/<name>.dts) or a path (anything containing '/' or ending in '.dts',
 * resolved against the working directory; a bare "<name>.dts" that is not there is looked
 * up among the shipped boards).
 */
export function loadBoardSource(nameOrPath: string = DEFAULT_BOARD): { text: string; file: string } {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes('\\');
  if (isPath || nameOrPath.endsWith('.dts')) {
    const p = resolve(nameOrPath);
    if (existsSync(p)) return { text: readBoardFile(p, nameOrPath), file: nameOrPath };
    // "vexpress-vfio.dts" without a directory: also look among the shipped boards
    if (isPath || !existsSync(join(boardDir() ?? '', nameOrPath))) throw new BoardError(`board file not found: ${nameOrPath}`);
    nameOrPath = nameOrPath.slice(0, -4);
  }
  if (!/^[A-Za-z0-9._-]+$/.test(nameOrPath)) throw new BoardError(`bad board name '${nameOrPath}'`);
  const cached = shippedBoards.get(nameOrPath);
  if (cached !== undefined) return cached;
  const d = boardDir();
  const p = d === null ? null : join(d, `${nameOrPath}.dts`);
  if (p === null || !existsSync(p)) {
    throw new BoardError(`unknown board '${nameOrPath}' (available: ${listBoards().join(', ') || 'none found'})`);
  }
  const src = { text: readBoardFile(p, `emulator/boards/${nameOrPath}.dts`), file: `emulator/boards/${nameOrPath}.dts` };
  shippedBoards.set(nameOrPath, src);
  return src;
}

/**
 * Sources of the shipped boards read so far in this process, by name (issue 19: a boot read
 * the file and probed the board directories every time). The shipped boards are part of the
 * package and do not change while it runs; boards given by path are read every time.
 */
const shippedBoards = new Map<string, { text: string; file: string }>();

/** Load a named board (or path) and assemble it. */
export function createBoardMachine(nameOrPath: string, registry: DeviceRegistry, opts: MachineOptions = {}): Machine {
  const { text, file } = loadBoardSource(nameOrPath);
  return createMachine({ ...opts, dts: text, file, registry });
}
