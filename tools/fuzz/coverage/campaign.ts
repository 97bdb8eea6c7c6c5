/**
 * Coverage-guided campaign (`fuzz --coverage`, coverage build only). fast-check remains the
 * generator and the shrinker; what changes is the arbitrary of a run (guidedArb):
 *
 *   fresh program (the normal fuzzer's arbitrary, mostly with the whole set-up), with an
 *   adaptive probability (freshShare, high in the first runs)
 *   or a corpus entry picked by energy (rarest site reached, times picked), derived by havoc
 *   (drop / re-draw / insert calls), argument re-draws, splicing with a second entry or value
 *   mutation (AFL's interesting values, arithmetic and bit flips on one numeric argument);
 *   inserted calls are fresh or pool calls (calls that reached something new) value-mutated
 *
 * The corpus starts with state-building seed programs (SEEDS, seeds.ts) and grows with the runs that
 * reached something new.
 *
 * Beyond the seeds, the corpus holds the programs of runs that reached a branch site no earlier run of the
 * campaign reached (counters of the coverage build, tools/fuzz/coverage/runtime.ts). It lives
 * for one campaign (one slice of the CLI) and evolves only from that campaign's own runs, in
 * run order: it is a deterministic function of (profile, seed, budget), so the campaign
 * replays from its seed, and a finding file holds the shrunk program itself, which replays
 * alone (`fuzz --replay`).
 *
 * A shrink of a corpus-derived run drops prefix calls one by one (fc.option shrinks to nil)
 * and shrinks the fresh calls as fc.commands does. Shrinking runs are not part of the search:
 * their syscalls are counted in `execs` but not in `genExecs` (the budget), and the branches
 * they reach are not added to the coverage.
 *
 * With `guided: false` the same loop generates with the normal fuzzer's arbitrary only (its
 * run arbitrary and set-up prefixes, engine.ts runArb / arb.ts prefixOf: with iommufd a third
 * of its runs start on the iommufd path; the 2014 profiles, which have no /dev/iommu, draw the
 * group path only and the iommufd calls at a token weight, arb.ts iommufdOf) and measures the
 * same way: the "random mode" of the fuzz-coverage benchmark. In both modes a
 * failure whose shrink ends at another signature also reports the failing run's own finding
 * (engine.ts reportOwnFinding), as the normal fuzzer does.
 */
import fc from 'fast-check';
import { DIRTY_FULL, DMA_PAGES, HWPT_FULL, SETUP_PREFIX, callArb, dirtyPagesOf, iommufdOf, ioctlCall, prefixOf, sameOpArb, unmapBitmapCall } from '../arb.js';
import { fusedCommands } from '../commands-arb.js';
import { CallCommand, callCommandArb, generatedProgram, mergeCoverage, pooledHarness, reportOwnFinding, runArb, runCommands, runProgram, suppressedList, tryProgram, unwrap, type CampaignResult, type FindingReport, type RunArb } from '../engine.js';
import { DEFAULT_SUPPRESSIONS, FindingError, type Finding, type Harness } from '../harness.js';
import { type Call } from '../program.js';
import { covRuntime, type CovRuntime } from './runtime.js';
import { IOMMUFD_FULL, seedsFor } from './seeds.js';
import { minimizeValues, tweakArb } from './tweak.js';

export interface CoverageCampaignOptions {
  profile: string;
  seed: number;
  /** fast-check runs at most (shrinking runs not counted) */
  runs: number;
  /** syscalls of generated runs at most (the last run may pass it); default unlimited */
  maxSyscalls?: number;
  /** true: corpus-guided; false: the normal fuzzer's arbitrary, measured alike */
  guided: boolean;
  /** guided: start from the seed corpus (seedsFor: SEEDS, and IOMMUFD_SEEDS where the profile has /dev/iommu); default true */
  seeds?: boolean;
  /** guided: false draws the fresh commands with the stock fc.commands (guidedArb); the same campaign */
  fused?: boolean;
  maxCommands?: number;
  suppress?: readonly string[];
}

export interface CoverageCampaignResult extends CampaignResult {
  /** one byte per branch site of the build: 1 = reached by a generated run */
  branches: Uint8Array;
  /** syscalls of generated runs (the budget's unit) */
  genExecs: number;
  corpus: number;
  /** signature -> genExecs when the first run showing it ended (before shrinking) */
  foundAt: Record<string, number>;
  /** signature -> generated runs that showed it, suppressed signatures included (a rate) */
  hitRuns: Record<string, number>;
}

/**
 * A call of a guided campaign: after it runs, `onStep` (the campaign's novelty probe) learns
 * whether the call reached a site new to the campaign, so that a corpus entry ends at the
 * last call that did (the calls after it only cost syscalls when the entry is replayed).
 */
export class CovCallCommand extends CallCommand {
  static onStep: (() => void) | null = null;
  override run(m: object, h: Harness): void {
    try {
      super.run(m, h);
    } finally {
      CovCallCommand.onStep?.();
    }
  }
}

/** runs per fast-check round (the corpus grows within a round too) */
export const ROUND_RUNS = 20;
/** a corpus call is dropped with probability 1/DROP_FREQ */
export const DROP_FREQ = 12;
/** fresh calls added to a corpus entry, at most */
export const SUFFIX_MAX = 12;
/** a kept corpus call is replaced by a fresh one with probability 1/SUBST_FREQ */
export const SUBST_FREQ = 24;
/** a corpus entry: SETUP_PREFIX.slice(0, n) then calls */
export interface CorpusEntry {
  n: number;
  calls: Call[];
  /** branch sites the run that made the entry reached (empty for a seed) */
  sites: Uint32Array;
  /** times the entry was picked as a parent */
  picks: number;
  /** runs that reached its rarest site, as of generated run `rareAt` (energy's cache) */
  rare?: number;
  rareAt?: number;
}

/**
 * What the guided arbitrary reads while fast-check draws from it: the corpus, how many
 * generated runs reached each site (the entries' energy), and the novelty yield of fresh and
 * corpus-derived runs (the adaptive fresh:corpus ratio). Mutated only by the campaign loop,
 * in run order: a function of (profile, seed, budget).
 */
export interface GuidedState {
  corpus: CorpusEntry[];
  siteRuns: Uint32Array;
  /** [runs, runs that joined the corpus] of fresh (0) and corpus-derived (1) runs */
  tries: [number, number];
  wins: [number, number];
  /**
   * calls that reached something new (each corpus entry's last call; every call of a seed),
   * in the order they were found: what a value mutation inserts (tweakArb), as syzkaller
   * inserts corpus calls with mutated arguments
   */
  pool: Call[];
  /** generated runs ended so far (siteRuns changes with it) */
  epoch: number;
}

/** the campaign's starting state: the profile's seed corpus (seedsFor: the iommufd seeds too where it has /dev/iommu) */
export function newGuidedState(sites: number, seeds = true, iommufd = false): GuidedState {
  const corpus = seeds ? seedsFor(iommufd).map((s) => ({ n: s.n, calls: [...s.calls], sites: new Uint32Array(0), picks: 0 })) : [];
  return { corpus, siteRuns: new Uint32Array(sites), tries: [0, 0], wins: [0, 0], pool: corpus.flatMap((e) => e.calls), epoch: 0 };
}

/**
 * An entry's energy (AFLFast / FairFuzz-like): inversely proportional to the square of how
 * many runs reached its rarest site, and decaying with the square root of the times it was
 * already picked (a seed counts as rarest-site frequency 1 until it is picked).
 */
function energy(s: GuidedState, e: CorpusEntry): number {
  // the rarest site's count changes only when a generated run ends (s.epoch): computed once
  // per run, not per draw (a shrink re-draws the parent many times without running)
  if (e.rareAt === s.epoch) return 1 / (e.rare! * e.rare! * Math.sqrt(1 + e.picks));
  let rare = 1;
  if (e.sites.length) {
    rare = 0xffffffff;
    for (const i of e.sites) {
      const f = s.siteRuns[i]!;
      if (f < rare) rare = f;
    }
    if (rare < 1) rare = 1;
  }
  e.rare = rare;
  e.rareAt = s.epoch;
  return 1 / (rare * rare * Math.sqrt(1 + e.picks));
}

/** the entry a draw r in [0, 2^31) picks, by energy */
function pick(s: GuidedState, r: number): CorpusEntry {
  const c = s.corpus;
  let total = 0;
  const w = new Float64Array(c.length);
  for (let i = 0; i < c.length; i++) total += w[i] = energy(s, c[i]!);
  let x = (r / 0x80000000) * total;
  for (let i = 0; i < c.length; i++) {
    x -= w[i]!;
    if (x < 0) return c[i]!;
  }
  return c[c.length - 1]!;
}

/** weights of the derivations of a corpus entry: havoc, arguments, splice, values */
export const W_HAVOC = 6;
export const W_ARGS = 2;
export const W_SPLICE = 2;
export const W_VALUES = 4;
const W_ALL = W_HAVOC + W_ARGS + W_SPLICE + W_VALUES;

/** bounds of the share of fresh programs */
export const FRESH_MIN = 0.1;
export const FRESH_MAX = 0.5;

/** probability of a fresh program: the fresh runs' share of the novelty yield, within [0.1, 0.5] */
export function freshShare(s: GuidedState): number {
  const yf = (s.wins[0] + 1) / (s.tries[0] + 2);
  const yc = (s.wins[1] + 1) / (s.tries[1] + 2);
  const early = s.tries[0] + s.tries[1] < EARLY_RUNS ? FRESH_EARLY : FRESH_MIN;
  return Math.min(Math.max(FRESH_MAX, early), Math.max(early, yf / (yf + yc)));
}
/** a fresh program starts with the whole set-up FRESH_FULL times in FRESH_FULL + 1 (else with part of it) */
export const FRESH_FULL = 7;
/** the first EARLY_RUNS runs are fresh with probability FRESH_EARLY at least */
export const EARLY_RUNS = 100;
export const FRESH_EARLY = 0.75;

type Cmd = fc.Command<object, Harness>;
/** a guided run: prefix length, calls, origin (0 fresh, 1 corpus-derived) */
export type GuidedRun = [number, Iterable<Cmd>, number];

/**
 * The guided run arbitrary over a corpus that grows while fast-check draws from it. A draw
 * is fresh (the normal fuzzer's arbitrary) with the adaptive probability freshShare, else
 * derived from an entry picked by energy by one of:
 *   - havoc: each call kept, dropped (1/DROP_FREQ), or replaced (1/SUBST_FREQ) by a call of
 *     the same request with fresh argument values (an ioctl) or by any fresh call, plus up to
 *     SUFFIX_MAX fresh calls at its end or a few calls earlier;
 *   - arguments: the entry's calls kept, 1-3 of them re-drawn with fresh argument values,
 *     and up to 3 fresh calls appended;
 *   - splice: the entry's calls up to a cut, then another entry's calls from a cut, then a
 *     few fresh calls;
 *   - values: 1-2 of the entry's calls (its last, the one that reached something new, half
 *     the time) with one numeric argument changed (tweakArb).
 * The calls havoc, arguments and splice add are fresh or, as often, a call of the pool
 * (calls that reached something new) with one numeric argument changed.
 */
/**
 * The prefix number of a fresh program (arb.ts prefixOf): the whole group set-up FRESH_FULL
 * times in FRESH_FULL + 1, else part of it. Where the profile has /dev/iommu, a third of the
 * fresh programs start on the cdev + iommufd path instead (the share random mode gives it,
 * arb.ts prefixArb), the whole of it FRESH_FULL times in FRESH_FULL + 1: guided campaigns
 * reached the iommufd code only through random opens and binds before (mainline, seed 1,
 * 1000 runs: 86 of 755 branch sites of kernel-model/iommu/iommufd against 366 for random
 * mode); since 2026-12-07 as many on HWPT_PREFIX (HWPT_FULL). Profiles without it draw as before.
 */
export function freshPrefixArb(iommufd: boolean, dirty = false): fc.Arbitrary<number> {
  const group = [{ weight: FRESH_FULL, arbitrary: fc.constant(SETUP_PREFIX.length) }, { weight: 1, arbitrary: fc.nat({ max: SETUP_PREFIX.length }) }];
  if (!iommufd) return fc.oneof(...group);
  return fc.oneof(
    { weight: 2 * FRESH_FULL, arbitrary: fc.constant(SETUP_PREFIX.length) },
    { weight: 2, arbitrary: fc.nat({ max: SETUP_PREFIX.length }) },
    { weight: FRESH_FULL, arbitrary: fc.constant(IOMMUFD_FULL) },
    { weight: 1, arbitrary: fc.integer({ min: SETUP_PREFIX.length + 1, max: IOMMUFD_FULL }) },
    // a type1 with dirty page tracking (arb.ts dirtyPagesOf): its set-up with tracking on, as often as random mode draws it
    ...(dirty ? [{ weight: FRESH_FULL, arbitrary: fc.constant(DIRTY_FULL) }] : []),
    { weight: FRESH_FULL, arbitrary: fc.constant(HWPT_FULL) },
  );
}

/** the parts of a guided run arbitrary that do not read the campaign's state (GuidedState) */
interface StatelessArbs {
  /** one call (compiled: arb.ts callArb) */
  call: fc.Arbitrary<Call>;
  /** one call as a command */
  cmd: fc.Arbitrary<Cmd>;
  /** a fresh program: the normal fuzzer's commands after a fresh set-up prefix */
  fresh: fc.Arbitrary<GuidedRun>;
}

/**
 * StatelessArbs per maxCommands, profile family and `fused`, built once per process as the
 * normal fuzzer's run arbitrary is (engine.ts runArb): arbitraries are immutable, and the CLI
 * runs a guided campaign as 500-run slices, each of which built and JIT-warmed its own tree
 * before. The random stream is the same.
 */
const statelessArbs = new Map<string, StatelessArbs>();

function statelessArbsOf(maxCommands: number, iommufd: boolean, dirty: boolean, fused: boolean): StatelessArbs {
  const key = `${maxCommands}:${iommufd ? 1 : 0}:${dirty ? 1 : 0}:${fused ? 1 : 0}`;
  let a = statelessArbs.get(key);
  if (a === undefined) {
    // the command wrapper inside the compiled tree, and fast-check's per-command step of the
    // fresh commands fused into one (commands-arb.ts), as the normal fuzzer draws them
    // (engine.ts runArb): the same draws, values, contexts and shrinks
    const cmd = callCommandArb(iommufd, dirty, (c) => new CovCallCommand(c)) as fc.Arbitrary<Cmd>;
    const fresh = fc.tuple(freshPrefixArb(iommufd, dirty), fusedCommands(cmd, { maxCommands, size: 'max' }, fused)).map(([n, c]): GuidedRun => [n, c, 0]);
    a = { call: callArb(iommufd, dirty), cmd, fresh };
    statelessArbs.set(key, a);
  }
  return a;
}

/**
 * `fused: false` draws the fresh commands with the stock fc.commands (fusedCommands' fallback,
 * taken by itself when fast-check's internals are not the expected ones): the same runs.
 */
export function guidedArb(s: GuidedState, maxCommands: number, iommufd = true, dirty = false, fused = true): fc.Arbitrary<GuidedRun> {
  const { call, cmd, fresh } = statelessArbsOf(maxCommands, iommufd, dirty, fused);
  // a call of the pool with one numeric argument changed (the pool's call unchanged when it has none)
  const poolCmd = fc.nat().chain((r) => {
    if (s.pool.length === 0) return call;
    const c = s.pool[r % s.pool.length]!;
    return tweakArb(c) ?? fc.constant(c);
  }).map((c) => new CovCallCommand(c));
  const suffix = fc.commands([cmd, poolCmd, poolCmd], { maxCommands: SUFFIX_MAX, size: 'max' });
  const short = fc.commands([cmd, poolCmd], { maxCommands: 3, size: 'max' });
  // a call re-drawn: mostly the same call with fresh argument values (an ioctl: the same
  // request; any other call: the same operation on the same process and file, sameOpArb),
  // else any call
  const mutant = (c: Call): fc.Arbitrary<Call> => {
    // (an UNMAP_DMA with a dirty bitmap is re-drawn as one: arb.ts unmapBitmapCall)
    const same = sameCallArb(c);
    return same === null ? call : fc.oneof({ weight: 3, arbitrary: same }, { weight: 1, arbitrary: call });
  };
  const wrap = (cs: readonly Call[]): Cmd[] => cs.map((c) => new CovCallCommand(c));
  const derived = fc.tuple(fc.nat(), fc.nat(), fc.nat({ max: W_ALL - 1 })).chain(([r1, r2, how]): fc.Arbitrary<GuidedRun> => {
    if (s.corpus.length === 0) return fresh;
    const e = pick(s, r1);
    e.picks++;
    const len = e.calls.length;
    if (how >= W_HAVOC + W_ARGS + W_SPLICE && len > 0) {
      // values: 1-2 calls (the last one, which reached something new, half the time) with one
      // numeric argument changed each
      const at = fc.oneof(fc.constant(len - 1), fc.nat({ max: len - 1 }));
      return fc.array(at, { minLength: 1, maxLength: 2 }).chain((where) => {
        const idx = [...new Set(where)];
        return fc.tuple(...idx.map((i) => tweakArb(e.calls[i]!) ?? mutant(e.calls[i]!))).map((ms): GuidedRun => {
          const calls = [...e.calls];
          idx.forEach((i, k) => (calls[i] = ms[k]!));
          return [e.n, wrap(calls), 1];
        });
      });
    }
    if (how >= W_HAVOC + W_ARGS && s.corpus.length > 1) {
      const e2 = pick(s, r2);
      return fc.tuple(fc.nat({ max: len }), fc.nat({ max: e2.calls.length }), short).map(([a, b, suf]): GuidedRun => [e.n, [...wrap(e.calls.slice(0, a)), ...wrap(e2.calls.slice(b)), ...suf], 1]);
    }
    if (how >= W_HAVOC && len > 0) {
      const at = fc.nat({ max: len - 1 });
      return fc.tuple(fc.array(at, { minLength: 1, maxLength: 3 }), short).chain(([where, suf]) => {
        const idx = [...new Set(where)];
        return fc.tuple(...idx.map((i) => mutant(e.calls[i]!))).map((ms): GuidedRun => {
          const calls = [...e.calls];
          idx.forEach((i, k) => (calls[i] = ms[k]!));
          return [e.n, [...wrap(calls), ...suf], 1];
        });
      });
    }
    const keep = fc.tuple(...e.calls.map((c) => fc.option(fc.oneof({ weight: SUBST_FREQ - 1, arbitrary: fc.constant(c) }, { weight: 1, arbitrary: mutant(c) }), { freq: DROP_FREQ, nil: null })));
    // where the fresh calls go: after the last kept call (0), or that many calls earlier
    const back = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: len }) });
    return fc.tuple(keep, back, suffix).map(([kept, b, suf]): GuidedRun => {
      const pre = wrap((kept as (Call | null)[]).filter((c): c is Call => c !== null));
      const at = Math.max(0, pre.length - b);
      return [e.n, [...pre.slice(0, at), ...suf, ...pre.slice(at)], 1];
    });
  });
  return fc.nat().chain((r) => (r / 0x80000000 < freshShare(s) ? fresh : derived));
}

/** AFL's hit-count bucket of a non-zero counter, as one bit */
function bucket(h: number): number {
  return h <= 3 ? 1 << (h - 1) : h < 8 ? 8 : h < 16 ? 16 : h < 32 ? 32 : h < 128 ? 64 : 128;
}

export class NotInstrumented extends Error {
  override name = 'NotInstrumented';
}

export function requireRuntime(): CovRuntime {
  const rt = covRuntime();
  if (!rt) throw new NotInstrumented('coverage needs the instrumented build: npm run build:cov, then node dist/cov/fuzz-cov.js fuzz --coverage ...');
  return rt;
}

const hostNow = (): number => performance.now();

export function runCoverageCampaign(o: CoverageCampaignOptions): CoverageCampaignResult {
  const rt = requireRuntime();
  const t0 = hostNow();
  const hits = rt.hits;
  const seen = new Uint8Array(hits.length);
  const maxSyscalls = o.maxSyscalls ?? Number.MAX_SAFE_INTEGER;
  const known = new Set<string>(o.suppress ?? DEFAULT_SUPPRESSIONS);
  const findings: FindingReport[] = [];
  const foundAt: Record<string, number> = {};
  const hitRuns: Record<string, number> = {};
  const coverage = new Map<string, Set<string>>();
  // the harnesses whose whole coverage was merged (engine.ts mergeCoverage)
  const merged = new WeakSet<Harness>();
  const iommufd = iommufdOf(o.profile);
  const dirty = dirtyPagesOf(o.profile);
  const gs = newGuidedState(hits.length, o.seeds ?? true, iommufd);
  const corpus = gs.corpus;
  const nSeeds = corpus.length;
  const maxCommands = o.maxCommands ?? 64;
  const arb: fc.Arbitrary<[number, Iterable<Cmd>, number?]> = o.guided ? guidedArb(gs, maxCommands, iommufd, dirty, o.fused ?? true) : runArb(maxCommands, iommufd, dirty);
  // novelty per call (guided): the index of the last call of the run that reached a new site
  let step = 0;
  let lastNew = -1;
  // novelty is per site and hit-count bucket (AFL's buckets: 1, 2, 3, 4-7, 8-15, 16-31,
  // 32-127, 128+): a run that takes a loop or a path more often than before is kept too.
  // seenB: buckets of earlier runs; runB: buckets this run showed at an earlier call
  const seenB = new Uint8Array(hits.length);
  const runB = new Uint8Array(hits.length);
  const probe = (): void => {
    for (let i = 0; i < hits.length; i++) {
      const h = hits[i]!;
      if (h === 0) continue;
      const b = bucket(h);
      if (((seenB[i]! | runB[i]!) & b) === 0) {
        runB[i]! |= b;
        lastNew = step;
      }
    }
    step++;
  };
  let execs = 0;
  let genExecs = 0;
  let done = 0;
  let round = 0;
  // the first boot's branches (and anything before this campaign) are not the campaign's
  pooledHarness(o.profile, known);
  hits.fill(0);
  while (done < o.runs && genExecs < maxSyscalls) {
    const ignore = new Set(known);
    let failed = false;
    let failAt = 0;
    // the generated run that failed and the finding it showed (reportOwnFinding)
    let generated: { program: Call[]; finding: Finding } | null = null;
    const prop = fc.property(arb, ([n, cmds, origin]) => {
      // past the budget, the rest of the round's runs do nothing (shrinking still runs)
      if (!failed && (genExecs >= maxSyscalls || done >= o.runs)) return;
      const h = pooledHarness(o.profile, ignore);
      let ok = false;
      step = 0;
      lastNew = -1;
      if (o.guided && !failed) CovCallCommand.onStep = probe;
      try {
        // the prefix's calls, then the commands, as the normal fuzzer runs them (engine.ts
        // runCommands: fc.modelRun's loop; the prefix's calls are not probed, as before)
        runCommands(h, prefixOf(n), cmds);
        h.finish();
        ok = true;
      } catch (e) {
        if (!failed && e instanceof FindingError) generated = { program: generatedProgram(n, cmds), finding: e.finding };
        throw e;
      } finally {
        CovCallCommand.onStep = null;
        const s = h.runSyscalls;
        execs += s;
        mergeCoverage(coverage, h, merged);
        if (!failed) {
          genExecs += s;
          done++;
          gs.epoch++;
          let last = '';
          for (const f of h.seen) if (f.sig !== last) hitRuns[(last = f.sig)] = (hitRuns[f.sig] ?? 0) + 1;
          let fresh = false;
          let atEnd = false; // new after the last call (the end-of-run teardown)
          const runSites: number[] = [];
          for (let i = 0; i < hits.length; i++) {
            const h = hits[i]!;
            if (h === 0) continue;
            seen[i] = 1;
            gs.siteRuns[i]!++;
            runSites.push(i);
            const b = bucket(h);
            if (((seenB[i]! | runB[i]!) & b) === 0) atEnd = fresh = true;
            else if (runB[i] !== 0) fresh = true;
            seenB[i]! |= runB[i]! | b;
            runB[i] = 0;
          }
          if (!ok) {
            failed = true;
            failAt = genExecs;
          } else if (o.guided) {
            const k = (origin ?? 0) as 0 | 1;
            gs.tries[k]++;
            if (fresh) {
              gs.wins[k]++;
              // up to the last call that reached something new (when the end-of-run teardown
              // did, the whole program)
              const calls = [...cmds].map(unwrap);
              const kept = atEnd || lastNew < 0 ? calls : calls.slice(0, lastNew + 1);
              corpus.push({ n, calls: kept, sites: Uint32Array.from(runSites), picks: 0 });
              if (kept.length) gs.pool.push(kept[kept.length - 1]!);
            }
          }
        }
        hits.fill(0);
      }
    });
    const seed = (o.seed + round * 0x9e3779b1) | 0;
    const res = fc.check(prop, { seed, numRuns: ROUND_RUNS, endOnFailure: false });
    round++;
    if (!res.failed || !res.counterexample) continue;
    const [n, cmds] = res.counterexample[0];
    const program = generatedProgram(n, cmds);
    let rep: ReturnType<typeof runProgram>;
    try {
      rep = runProgram(o.profile, program, { ignore, transcript: true });
    } catch (e) {
      // a host-side error of the harness on this program: reported, not fatal to the campaign
      const msg = e instanceof Error ? e.message : String(e);
      known.add(`host-error:${msg.slice(0, 40)}`);
      findings.push({ sig: 'host-error', message: msg, step: -1, profile: o.profile, seed: o.seed, program, transcript: [] });
      hits.fill(0);
      continue;
    }
    hits.fill(0); // the confirmation run in a fresh system is not a generated run either
    if (!rep.finding) {
      const err = res.errorInstance instanceof Error ? res.errorInstance.message : String(res.errorInstance);
      known.add(`unreproducible:${err.slice(0, 40)}`);
      findings.push({ sig: 'unreproducible', message: err, step: -1, profile: o.profile, seed: o.seed, program, transcript: rep.harness.transcript });
      continue;
    }
    let finding = rep.finding;
    let kept = program;
    let transcript = rep.harness.transcript;
    if (o.guided) {
      // guided findings: their values minimized (minimizeValues), then confirmed again
      const m = minimizeValues(o.profile, program, finding, ignore);
      execs += m.syscalls;
      hits.fill(0);
      if (m.program !== program) {
        const again = runProgram(o.profile, m.program, { ignore, transcript: true });
        hits.fill(0);
        if (again.finding) {
          kept = m.program;
          finding = again.finding;
          transcript = again.harness.transcript;
        }
      }
    }
    known.add(finding.sig);
    foundAt[finding.sig] = failAt;
    // the seed recorded is the campaign's: the round seeds and the corpus follow from it
    findings.push({ ...finding, profile: o.profile, seed: o.seed, program: kept.slice(0, finding.step + 1), transcript, suppressed: suppressedList(ignore, finding.sig) });
    const own = reportOwnFinding(o.profile, o.seed, generated, known);
    hits.fill(0);
    if (own) {
      execs += own.syscalls;
      foundAt[own.report.sig] = failAt;
      findings.push(own.report);
    }
  }
  const cov: Record<string, string[]> = {};
  for (const k of [...coverage.keys()].sort()) cov[k] = [...coverage.get(k)!].sort();
  findings.sort((a, b) => (a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : 0));
  return { profile: o.profile, seed: o.seed, runs: done, execs, elapsedMs: hostNow() - t0, findings, coverage: cov, branches: seen, genExecs, corpus: corpus.length - nSeeds, foundAt, hitRuns };
}

/**
 * A call re-drawn with fresh argument values (the guided campaign's mutant): an ioctl by its
 * request (an UNMAP_DMA with a dirty bitmap as one: arb.ts unmapBitmapCall), any other call by
 * sameOpArb; null when there is nothing to re-draw. An ioctl on a resource-typed fd (FdRef.mk,
 * drawn where the profile has /dev/iommu) keeps it, as syzkaller's argument mutation keeps a
 * call's resources: re-drawn by fdRef it would mostly name no fd of the process (-EBADF).
 */
export function sameCallArb(c: Call): fc.Arbitrary<Call> | null {
  const redrawn = c.op === 'ioctl' ? (c.arg.t === 'struct' && c.arg.type === 'vfio_iommu_type1_dma_unmap_bitmap' ? unmapBitmapCall : ioctlCall('k' in c.fd ? c.fd.k : 'any', c.req)) : sameOpArb(c);
  if (redrawn === null || c.op !== 'ioctl' || !('k' in c.fd) || c.fd.mk !== 1) return redrawn;
  const fd = c.fd;
  return redrawn.map((m): Call => (m.op === 'ioctl' ? { ...m, fd } : m));
}
