/**
 * Differential check of the two syscall paths (docs/FUZZING.md, "Differential check"): random
 * programs drawn from a campaign's own run arbitrary (engine.ts runArb + prefixOf, the programs
 * `fuzz --profile P --seed S` runs until its first finding), each run in the TypeScript harness
 * (its transcript's per-call results: `system.syscalls.invoke`, the model's syscall layer entered
 * from the host) and as its C reproducer (emit-c.ts), built in one guest-tests/c/build.sh call,
 * run under the Unicorn CPU backend (the model's ARM syscall entry: register decoding, 64-bit
 * argument pairs, struct layouts as a real C library and compiler lay them out). The per-call
 * results are compared: return values, errnos. A difference is a bug of the harness's
 * marshalling, of the emitter or of the kernel model's ARM entry.
 *
 * What is compared for each call the C program printed (`call i = r`):
 * - an error: the errno;
 * - a success: the value, except for mmap (an address: the C worker's address space holds the C
 *   library and the coordinator's pages, so only success is compared) and fork (a pid);
 * - an mmio load: the loaded word (the C program prints it as a signed long);
 * - a call the model's process died in: the worker died too, and a worker that died where the
 *   model's process did not (the program's NOT REPRODUCED line) is a divergence at that call.
 * Programs that end in a finding are compared up to the faulting call (the reproducer stops
 * there). A program the emitter refuses (a fork of P2 into root's slots) is counted, not run.
 */
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERRNO_NAMES } from '../../kernel-model/base/errno.js';
import { GUEST_C_DIR } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from '../unicorn/run.js';
import { dirtyPagesOf, iommufdOf, prefixOf } from './arb.js';
import { EmitError, emitC, killedIn } from './emit-c.js';
import { runArb, unwrap } from './engine.js';
import { FUZZ_BOARD } from './harness.js';
import { formatCall, type Call } from './program.js';

/** the programs a campaign of `profile` and `seed` runs first (its first fc.check round), `n` of them */
export function drawPrograms(profile: string, seed: number, n: number, maxCommands = 64): Call[][] {
  const progs: Call[][] = [];
  const arb = runArb(maxCommands, iommufdOf(profile), dirtyPagesOf(profile));
  fc.check(
    fc.property(arb, ([k, cmds]) => {
      progs.push([...prefixOf(k), ...[...cmds].map(unwrap)]);
      return true;
    }),
    { seed, numRuns: n },
  );
  return progs;
}

const ERRNO_OF: Record<string, number> = Object.fromEntries(Object.entries(ERRNO_NAMES).map(([k, v]) => [v, Number(k)]));

/** one call's result, normalised: an errno, a value (u32), a death, an exit */
export type Res = { t: 'err'; errno: number } | { t: 'val'; v: number } | { t: 'killed' } | { t: 'exit'; code: number } | { t: 'other'; s: string };

/** the harness's transcript result ("0", "-EINVAL", "killed by ...", "exit(0)") */
export function modelRes(ret: string): Res {
  const e = /^-([A-Z][A-Z0-9]*)$/.exec(ret);
  if (e) return ERRNO_OF[e[1]!] !== undefined ? { t: 'err', errno: ERRNO_OF[e[1]!]! } : { t: 'other', s: ret };
  if (/^-\d+$/.test(ret)) {
    const v = Number(ret);
    return v >= -4095 ? { t: 'err', errno: -v } : { t: 'val', v: v >>> 0 };
  }
  if (/^\d+$/.test(ret)) return { t: 'val', v: Number(ret) >>> 0 };
  const x = /^exit\((-?\d+)\)$/.exec(ret);
  if (x) return { t: 'exit', code: Number(x[1]) & 0xff };
  if (killedIn(ret)) return { t: 'killed' };
  return { t: 'other', s: ret };
}

/** a C program's `call i = ...` text: "N", "-1 (errno E, NAME)" (any negative long), "killed by signal S...", "exit(N)" */
export function cRes(text: string): Res {
  const e = /^-1 \(errno (\d+),/.exec(text);
  if (e) {
    // errname() prints every negative long as an errno: a word of 0x80000000 and up is a value
    const n = Number(e[1]);
    return n <= 4095 ? { t: 'err', errno: n } : { t: 'val', v: (0x100000000 - n) >>> 0 };
  }
  if (/^-?\d+$/.test(text)) return { t: 'val', v: Number(text) >>> 0 };
  if (text.startsWith('killed')) return { t: 'killed' };
  const x = /^exit\((\d+)\)$/.exec(text);
  if (x) return { t: 'exit', code: Number(x[1]) };
  return { t: 'other', s: text };
}

/** whether the two results agree for call `c` (mmap and fork: success only) */
export function sameRes(c: Call, m: Res, k: Res): boolean {
  if (m.t === 'val' && k.t === 'val' && (c.op === 'mmap' || c.op === 'fork')) return true;
  if (m.t !== k.t) return false;
  switch (m.t) {
    case 'err':
      return m.errno === (k as { errno: number }).errno;
    case 'val':
      return m.v === (k as { v: number }).v;
    case 'exit':
      return m.code === (k as { code: number }).code;
    case 'killed':
      return true;
    case 'other':
      return m.s === (k as { s: string }).s;
  }
}

export const resText = (r: Res | undefined): string =>
  r === undefined ? 'nothing' : r.t === 'err' ? `-${ERRNO_NAMES[r.errno] ?? r.errno}` : r.t === 'val' ? (r.v >= 0x10000 ? `0x${r.v.toString(16)}` : String(r.v)) : r.t === 'killed' ? 'killed' : r.t === 'exit' ? `exit(${r.code})` : r.s;

export interface Divergence {
  /** index of the program among those drawn */
  prog: number;
  /** the first differing call */
  call: number;
  text: string;
  model: string;
  c: string;
  /** a known limit of the comparison (docs/FUZZING.md, "Differential check"), not a bug; absent: unexplained */
  limit?: string;
  /** a raw-abi-only limit came before it in the program (the two paths' states may differ since) */
  afterLimit?: true;
}

/**
 * The known limits a divergence may be: `raw-abi-only`, a raw syscall the harness's
 * SyscallLayer.invoke answers -ENOSYS because only the guest's ARM entry
 * (kernel-model/exec/linux-abi.ts) serves it (the ids, brk, uname, the clocks, ...: the harness has
 * no CPU to run that entry); `blocks` (compareRun), a call the harness answers -EAGAIN (its entry
 * never sleeps) where the C program got no result: its call sleeps; `c-image`, a number passed as
 * a pointer that lands in the C program's own image (-EFAULT in the harness, whose process has
 * nothing mapped there), or a raw memory call that unmapped or protected the program's own pages
 * (its worker dies).
 */
export function limitOf(c: Call, model: Res, k: Res): string | undefined {
  if (c.op === 'raw' && model.t === 'err' && model.errno === 38 && !(k.t === 'err' && k.errno === 38)) return 'raw-abi-only';
  // a number used as a pointer that lands in the C program's own image: mapped there, not in the harness's process
  if (model.t === 'err' && model.errno === 14 && !(k.t === 'err' && k.errno === 14) && numbers(c).some(inImage)) return 'c-image';
  // a raw munmap, mprotect, mremap, madvise, mmap2 or brk that took the C program's own pages: its worker dies
  if (c.op === 'raw' && RAW_MEM.has(c.nr) && (k.t === 'other' || k.t === 'killed') && model.t !== 'killed') return 'c-image';
  return undefined;
}

/**
 * The static reproducer's image (guest-tests/c/build.sh: text from 0x10000, data and bss after it,
 * the brk heap next): about 0x10000-0x80000, taken as 0x10000-0x100000. The harness's processes
 * map nothing there.
 */
const inImage = (v: number): boolean => v >= 0x10000 && v < 0x100000;
/** munmap, mprotect, mremap, madvise, mmap2, brk (ARM EABI: kernel-model/exec/arm-nr.ts) */
const RAW_MEM = new Set([91, 125, 163, 220, 192, 45]);
/** the plain numbers a call passes where a pointer may go: an ioctl's integer argument, a raw call's registers */
function numbers(c: Call): number[] {
  if (c.op === 'raw') return c.args.map((x) => x >>> 0);
  if (c.op === 'ioctl' && c.arg.t === 'int' && typeof c.arg.v === 'number') return [c.arg.v >>> 0];
  return [];
}

export interface Compared {
  calls: number;
  /** the divergence that ended the comparison (unexplained, or the `blocks` limit), null when none did */
  divergence: Omit<Divergence, 'prog'> | null;
  /** the `raw-abi-only` limits passed over before it (the comparison goes on after them) */
  limits: Omit<Divergence, 'prog'>[];
}

/**
 * Compare a program's transcript results with its reproducer's stdout, call by call, up to the
 * last call the reproducer ran (`upTo`: the calls it makes, the faulting one included).
 */
export function compareRun(program: readonly Call[], rets: readonly string[], stdout: string, upTo: number): Compared {
  const lines = new Map<number, string>();
  for (const m of stdout.matchAll(/^call (\d+)(?: = |: )(.*?)(?: {3}<- differs from the model.*)?$/gm)) lines.set(Number(m[1]), m[2]!);
  // the program's own end: a worker that died or exited in call i where the model's did not
  const end = /^NOT REPRODUCED \S+: the process (?:was killed by signal \d+|exited with status \d+) in call (\d+)$/m.exec(stdout);
  const oops = /^REPRODUCED \S+: the process was killed \(signal \d+\) inside call (\d+)/m.exec(stdout);
  let calls = 0;
  const limits: Omit<Divergence, 'prog'>[] = [];
  for (let i = 0; i < upTo; i++) {
    const c = program[i]!;
    const m = modelRes(rets[i] ?? '');
    let text = lines.get(i);
    if (text === undefined && oops && Number(oops[1]) === i) text = 'killed (Oops)';
    if (text === undefined && end && Number(end[1]) === i) text = end[0].replace(/^NOT REPRODUCED \S+: /, '');
    if (text === undefined) {
      // the harness's entry never sleeps (-EAGAIN where the kernel would block the caller): the C
      // call sleeps, and the run ends when nothing is left to run
      const limit = m.t === 'err' && m.errno === 11 ? { limit: 'blocks' } : {};
      return { calls, limits, divergence: { call: i, text: formatCall(c), model: rets[i] ?? '?', c: `no result (the program ended: ${stdout.trimEnd().split('\n').at(-1) ?? ''})`, ...limit, ...after(limits) } };
    }
    const k = text.startsWith('the model\'s process ended') ? ({ t: 'other', s: 'did not end' } as Res) : cRes(text);
    calls++;
    if (!sameRes(c, m, k)) {
      const limit = limitOf(c, m, k);
      const d = { call: i, text: formatCall(c), model: rets[i] ?? '?', c: resText(k) };
      // a raw call only the ARM entry serves: the comparison goes on while the C process lives
      // (what it changed may show later: such a divergence is marked afterLimit)
      // (not past a raw clone, fork or vfork: 120, 2, 190, which made a process in C only)
      if (limit === 'raw-abi-only' && lines.has(i) && k.t !== 'other' && k.t !== 'killed' && !(c.op === 'raw' && [120, 2, 190].includes(c.nr))) {
        limits.push({ ...d, limit });
        continue;
      }
      return { calls, limits, divergence: { ...d, ...(limit ? { limit } : {}), ...after(limits) } };
    }
  }
  return { calls, limits, divergence: null };
}

const after = (limits: readonly unknown[]): { afterLimit?: true } => (limits.length > 0 ? { afterLimit: true } : {});

export interface DiffReport {
  profile: string;
  seed: number;
  programs: number;
  /** programs the emitter cannot express (a fork of P2 into root's slots) */
  refused: number;
  compared: number;
  calls: number;
  divergences: Divergence[];
}

/** the C programs and the harness's results of `progs` (emitC replays each in a fresh System); null: refused, undefined: not in `only` */
function emitAll(profile: string, progs: readonly Call[][], only?: readonly number[]): ({ c: string; rets: string[]; upTo: number } | null | undefined)[] {
  return progs.map((program, i) => {
    if (only && !only.includes(i)) return undefined;
    try {
      const r = emitC({ profile, program });
      // the reproducer stops at the faulting call (an end-of-run finding: after every call)
      const upTo = r.finding && r.finding.step >= 0 && r.finding.step < program.length ? r.finding.step + 1 : program.length;
      return { c: r.c, rets: r.transcript.map((t) => t.ret), upTo };
    } catch (e) {
      if (e instanceof EmitError) return null;
      throw e;
    }
  });
}

/**
 * The differential check of `n` programs of `profile`'s campaign with `seed`: emitted into
 * `workDir`/src, built there by one build.sh call (workDir/bin), each run under Unicorn on the
 * fuzzer's board. Deterministic for a seed. `log`: progress lines.
 */
export function differential(o: { profile: string; seed: number; n: number; workDir: string; maxCommands?: number; only?: readonly number[]; log?: (s: string) => void }): DiffReport {
  const progs = drawPrograms(o.profile, o.seed, o.n, o.maxCommands);
  // `only`: these programs of the n (a divergence's, again), the others drawn but not run
  const emitted = emitAll(o.profile, progs, o.only);
  const src = join(o.workDir, 'src');
  const bin = join(o.workDir, 'bin');
  mkdirSync(src, { recursive: true });
  mkdirSync(bin, { recursive: true });
  const name = (i: number): string => `p${o.seed}-${String(i).padStart(4, '0')}`;
  emitted.forEach((e, i) => e && writeFileSync(join(src, `${name(i)}.c`), e.c));
  o.log?.(`${o.profile} seed ${o.seed}: ${emitted.filter(Boolean).length} programs emitted; building`);
  execFileSync(join(GUEST_C_DIR, 'build.sh'), [bin, src], { stdio: ['ignore', 'ignore', 'inherit'] });
  const rep: DiffReport = { profile: o.profile, seed: o.seed, programs: emitted.filter((e) => e !== undefined).length, refused: 0, compared: 0, calls: 0, divergences: [] };
  emitted.forEach((e, i) => {
    if (e === undefined) return;
    if (e === null) {
      rep.refused++;
      return;
    }
    const u = runElf({ elf: join(bin, name(i)), argv0: 'repro', profile: o.profile, board: FUZZ_BOARD, bind: null });
    const r = compareRun(progs[i]!, e.rets, u.stdout, e.upTo);
    rep.compared++;
    rep.calls += r.calls;
    for (const d of r.limits) rep.divergences.push({ prog: i, ...d });
    if (r.divergence) rep.divergences.push({ prog: i, ...r.divergence });
    if ((i + 1) % 25 === 0) o.log?.(`${o.profile} seed ${o.seed}: ${i + 1}/${progs.length} run, ${rep.divergences.length} divergences`);
  });
  return rep;
}

/** the report as text lines */
export function formatReport(r: DiffReport): string[] {
  const lim = r.divergences.filter((d) => d.limit).length;
  const out = [`${r.profile} seed ${r.seed}: ${r.compared} programs compared (${r.refused} refused by the emitter), ${r.calls} calls, ${r.divergences.length - lim} divergences (+${lim} known limits)`];
  for (const d of r.divergences) out.push(`  program ${d.prog} call ${d.call}${d.limit ? ` [limit: ${d.limit}]` : ''}${d.afterLimit ? ' [after a limit]' : ''}: model ${d.model}, C ${d.c}: ${d.text}`);
  return out;
}
