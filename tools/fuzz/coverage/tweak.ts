/**
 * Value mutation and value minimization of the coverage-guided campaign (campaign.ts): a
 * call's numeric arguments (`slots`), AFL's interesting values, arithmetic and bit flips on one
 * of them (`tweakValue`, `tweakArb`), and the minimization of a guided finding's values
 * toward 0 (`minimizeValues`).
 */
import fc from 'fast-check';
import { DMA_PAGES } from '../arb.js';
import { tryProgram } from '../engine.js';
import { type Finding } from '../harness.js';
import { type Call } from '../program.js';

/**
 * AFL's "interesting values" (its 8/16/32-bit tables: 0, ±1, powers of two and their
 * neighbours, the signed limits) with page and 1 KiB boundaries around them: what a numeric
 * argument is set to by a value mutation (tweak).
 */
export const INTERESTING: readonly number[] = [
  0, 1, 2, 3, 4, 7, 8, 16, 32, 64, 100, 127, 128, 255, 256, 512, 1000, 1024, 0x3ff, 0x400, 0x401, 0x7ff, 0x800, 0xfff, 0x1000, 0x1001, 0x7fff, 0x8000, 0xffff, 0x10000,
  0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
];
/** 64-bit values a hex-string field (an IOVA, a size, a vaddr) is also set to */
const INTERESTING64: readonly string[] = ['0x100000000', '0xfffffffffffff000', '0x7fffffffffffffff', '0x8000000000000000', '0xffffffffffffffff', '0x10000000000'];

/**
 * Fields the kernel writes and does not read (the struct's output half): a value mutation
 * of them changes nothing, so it is not drawn (syzkaller's `out` direction).
 */
const OUT_FIELDS: Record<string, readonly string[]> = {
  vfio_region_info: ['size', 'offset', 'resv'],
  vfio_irq_info: ['count'],
  vfio_iommu_type1_info: ['iova_pgsizes'],
  vfio_device_info: ['num_regions', 'num_irqs'],
};

/** a numeric argument of a call: its value and a copy of the call with another value there */
interface Slot {
  v: number | string;
  put: (x: number | string) => Call;
}

const clone = (c: Call): Call => JSON.parse(JSON.stringify(c)) as Call;

/** the numeric arguments of a call (fds, pointers, paths and the request number excepted) */
export function slots(c: Call): Slot[] {
  const out: Slot[] = [];
  const at = (v: unknown, put: (d: Call, x: number | string) => void): void => {
    if (typeof v === 'number' || typeof v === 'string') out.push({ v, put: (x) => { const d = clone(c); put(d, x); return d; } });
  };
  const num = (x: number | string): number => (typeof x === 'number' ? x : 0);
  switch (c.op) {
    case 'ioctl': {
      const a = c.arg;
      if (a.t === 'int') at(a.v, (d, x) => ((d as typeof c).arg = { t: 'int', v: x }));
      else if (a.t === 'struct') {
        const skip = OUT_FIELDS[a.type] ?? [];
        for (const [k, v] of Object.entries(a.fields)) {
          if (skip.includes(k)) continue;
          if (typeof v === 'object' && 'dma' in v) at(v.dma, (d, x) => ((((d as typeof c).arg as typeof a).fields[k] as { dma: number }).dma = num(x) % 64));
          else at(v, (d, x) => (((d as typeof c).arg as typeof a).fields[k] = x));
        }
        a.tail?.forEach((v, i) => at(v, (d, x) => (((d as typeof c).arg as typeof a).tail![i] = x)));
      }
      break;
    }
    case 'pread':
    case 'pwrite':
      if ('region' in c.off) {
        at(c.off.off, (d, x) => (((d as typeof c).off as { off: number }).off = num(x)));
        // a region index the finding file's schema takes (0..2^16, schema.ts off)
        at(c.off.region, (d, x) => (((d as typeof c).off as { region: number }).region = num(x) % (2 ** 16 + 1)));
      }
      at(c.count, (d, x) => ((d as typeof c).count = num(x)));
      break;
    case 'read':
    case 'write':
      at(c.count, (d, x) => ((d as typeof c).count = num(x)));
      break;
    case 'mmap':
      at(c.len, (d, x) => ((d as typeof c).len = num(x)));
      if ('region' in c.off) at(c.off.off, (d, x) => (((d as typeof c).off as { off: number }).off = num(x)));
      at(c.prot, (d, x) => ((d as typeof c).prot = num(x)));
      at(c.flags, (d, x) => ((d as typeof c).flags = num(x)));
      break;
    case 'mmio':
      at(c.off, (d, x) => ((d as typeof c).off = num(x) & 0xffc));
      at(c.value, (d, x) => ((d as typeof c).value = num(x)));
      break;
    case 'store':
      at(c.page, (d, x) => ((d as typeof c).page = num(x) % DMA_PAGES));
      at(c.off, (d, x) => ((d as typeof c).off = num(x) & 0xffc));
      at(c.value, (d, x) => ((d as typeof c).value = num(x)));
      break;
    case 'eventfd':
      at(c.init, (d, x) => ((d as typeof c).init = num(x)));
      at(c.flags, (d, x) => ((d as typeof c).flags = num(x)));
      break;
    case 'raw':
      c.args.forEach((v, i) => at(v, (d, x) => ((d as typeof c).args[i] = num(x))));
      break;
  }
  return out;
}

/**
 * A value mutation of v, from four draws (AFL's havoc value steps): an interesting value,
 * v plus or minus 1..35 (AFL's arithmetic), one bit of v flipped, v plus or minus a page.
 * A hex string (a 64-bit field) is set to an interesting 32- or 64-bit value.
 */
export function tweakValue(v: number | string, how: number, a: number): number | string {
  if (typeof v === 'string') return how < 3 ? INTERESTING[a % INTERESTING.length]! : INTERESTING64[a % INTERESTING64.length]!;
  switch (how) {
    case 0:
    case 1:
    case 2:
      return INTERESTING[a % INTERESTING.length]!;
    case 3:
      return (v + ((a & 1) !== 0 ? -1 : 1) * (1 + ((a >>> 1) % 35))) >>> 0;
    case 4:
      return (v ^ (1 << (a % 32))) >>> 0;
    default:
      return (v + ((a & 1) !== 0 ? -0x1000 : 0x1000)) >>> 0;
  }
}

/** the call with one numeric argument changed by tweakValue; null when it has none */
export function tweakArb(c: Call): fc.Arbitrary<Call> | null {
  const sl = slots(c);
  if (sl.length === 0) return null;
  return fc.tuple(fc.nat({ max: sl.length - 1 }), fc.nat({ max: 5 }), fc.nat()).map(([i, how, a]) => sl[i]!.put(tweakValue(sl[i]!.v, how, a)));
}

/** candidate runs a finding's value minimization may spend (minimizeValues) */
export const MINIMIZE_RUNS = 400;

/**
 * Value minimization of a guided finding (syzkaller's argument minimization, fast-check's
 * integer shrink): fast-check shrinks a derived run through its derivation, where a value set
 * by a mutation (tweakValue: one of INTERESTING, a bit flip) can only be re-drawn, not made
 * smaller, so guided findings kept the large values that set them off. The numeric arguments
 * of the call that showed the finding (`step`) are taken toward 0 as fc.integer shrinks one
 * (0, then the value minus half, a quarter ... of its distance to 0), keeping the first
 * candidate that still shows a finding not ignored, until no candidate does or MINIMIZE_RUNS
 * runs are spent; as with fast-check's shrink, the finding kept may be another one than the
 * first (a pread whose offset ran past the region becomes one that reads the wrong register).
 * Deterministic: candidates in a fixed order, each run from the pooled post-boot snapshot.
 * Returns the program (the last kept), its finding and the runs' syscalls.
 */
export function minimizeValues(profile: string, program: readonly Call[], first: Finding, ignore: ReadonlySet<string>): { program: Call[]; finding: Finding; syscalls: number } {
  let prog = [...program];
  let finding = first;
  let syscalls = 0;
  let budget = MINIMIZE_RUNS;
  const attempt = (cand: Call[]): Finding | null => {
    budget--;
    const r = tryProgram(profile, cand, ignore);
    syscalls += r.syscalls;
    return r.finding;
  };
  const i = finding.step;
  if (i < 0 || i >= prog.length) return { program: prog, finding, syscalls };
  let changed = true;
  while (changed && budget > 0) {
    changed = false;
    const sl = slots(prog[i]!);
    for (let k = 0; k < sl.length && budget > 0 && !changed; k++) {
      const v = sl[k]!.v;
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) continue;
      // fc.integer's order toward 0: the target, then v - d/2, v - d/4, ... (d = v)
      for (let d = v; d > 0 && budget > 0; d = Math.floor(d / 2)) {
        const x: number = d === v ? 0 : v - d;
        if (x === v) break;
        const cand = [...prog];
        cand[i] = sl[k]!.put(x);
        const f = attempt(cand);
        if (f !== null && f.step === i) {
          prog = cand;
          finding = f;
          changed = true;
          break;
        }
      }
    }
  }
  return { program: prog, finding, syscalls };
}
