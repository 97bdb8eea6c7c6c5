/**
 * Coverage-guided campaign (`fuzz --coverage`, coverage build only). fast-check remains the
 * generator and the shrinker; what changes is the arbitrary of a run:
 *
 *   fc.oneof(fresh program (the normal fuzzer's arbitrary),
 *            corpus entry -> each of its calls kept (or, with probability 1/DROP_FREQ, dropped)
 *                            + fresh calls inserted near its end)
 *
 * The corpus holds the programs of runs that reached a branch site no earlier run of the
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
 * With `guided: false` the same loop generates with the normal fuzzer's arbitrary only and
 * measures the same way: the "random mode" of the fuzz-coverage benchmark.
 */
import fc from 'fast-check';
import { SETUP_PREFIX, callArb } from '../arb.js';
import { CallCommand, pooledHarness, runArb, runProgram, type CampaignResult, type FindingReport, type RunArb } from '../engine.js';
import { DEFAULT_SUPPRESSIONS, type Harness } from '../harness.js';
import type { Call } from '../program.js';
import { covRuntime, type CovRuntime } from './runtime.js';

/** a corpus entry: SETUP_PREFIX.slice(0, n) then calls */
export interface CorpusEntry {
  n: number;
  calls: Call[];
}

export interface CoverageCampaignOptions {
  profile: string;
  seed: number;
  /** fast-check runs at most (shrinking runs not counted) */
  runs: number;
  /** syscalls of generated runs at most (the last run may pass it); default unlimited */
  maxSyscalls?: number;
  /** true: corpus-guided; false: the normal fuzzer's arbitrary, measured alike */
  guided: boolean;
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
/** half of the picks are among the RECENT newest entries (the frontier), half uniform */
export const RECENT = 16;
/** weights of fresh programs vs corpus-derived ones */
export const FRESH_WEIGHT = 1;
export const CORPUS_WEIGHT = 1;

type Cmd = fc.Command<object, Harness>;

/** The guided run arbitrary over a corpus that grows while fast-check draws from it. */
export function guidedArb(corpus: readonly CorpusEntry[], maxCommands: number): RunArb {
  const call = callArb();
  const cmd = call.map((c) => new CovCallCommand(c));
  // the normal fuzzer's run arbitrary (engine.ts runArb), with calls that report their novelty
  const fresh: RunArb = fc.tuple(fc.oneof({ weight: 1, arbitrary: fc.constant(SETUP_PREFIX.length) }, { weight: 1, arbitrary: fc.nat({ max: SETUP_PREFIX.length }) }), fc.commands([cmd], { maxCommands, size: 'max' }));
  const suffix = fc.commands([cmd], { maxCommands: SUFFIX_MAX, size: 'max' });
  const mutated: RunArb = fc.nat().chain((r): RunArb => {
    const len = corpus.length;
    if (len === 0) return fresh;
    const e = corpus[r & 1 && len > RECENT ? len - 1 - ((r >>> 1) % RECENT) : (r >>> 1) % len]!;
    const keep = fc.tuple(...e.calls.map((c) => fc.option(fc.oneof({ weight: SUBST_FREQ - 1, arbitrary: fc.constant(c) }, { weight: 1, arbitrary: call }), { freq: DROP_FREQ, nil: null })));
    // where the fresh calls go: after the last kept call (0), or that many calls earlier
    const back = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: e.calls.length }) });
    return fc.tuple(keep, back, suffix).map(([kept, b, suf]): [number, Iterable<Cmd>] => {
      const pre = (kept as (Call | null)[]).filter((c): c is Call => c !== null).map((c) => new CovCallCommand(c));
      const at = Math.max(0, pre.length - b);
      return [e.n, [...pre.slice(0, at), ...suf, ...pre.slice(at)]];
    });
  });
  return fc.oneof({ weight: FRESH_WEIGHT, arbitrary: fresh }, { weight: CORPUS_WEIGHT, arbitrary: mutated });
}

/** AFL's hit-count bucket of a non-zero counter, as one bit */
function bucket(h: number): number {
  return h <= 3 ? 1 << (h - 1) : h < 8 ? 8 : h < 16 ? 16 : h < 32 ? 32 : h < 128 ? 64 : 128;
}

function unwrap(c: unknown): Call {
  const w = c as { cmd?: CallCommand; call?: Call };
  return w.call ?? w.cmd!.call;
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
  const coverage = new Map<string, Set<string>>();
  const corpus: CorpusEntry[] = [];
  const maxCommands = o.maxCommands ?? 64;
  const arb = o.guided ? guidedArb(corpus, maxCommands) : runArb(maxCommands);
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
    const prop = fc.property(arb, ([n, cmds]) => {
      // past the budget, the rest of the round's runs do nothing (shrinking still runs)
      if (!failed && (genExecs >= maxSyscalls || done >= o.runs)) return;
      const h = pooledHarness(o.profile, ignore);
      let ok = false;
      step = 0;
      lastNew = -1;
      if (o.guided && !failed) CovCallCommand.onStep = probe;
      try {
        fc.modelRun(() => ({ model: {}, real: h }), [...SETUP_PREFIX.slice(0, n).map((c) => new CallCommand(c)), ...cmds]);
        h.finish();
        ok = true;
      } finally {
        CovCallCommand.onStep = null;
        const s = h.runSyscalls;
        execs += s;
        for (const [k, v] of h.coverage) {
          let set = coverage.get(k);
          if (!set) coverage.set(k, (set = new Set()));
          for (const x of v) set.add(x);
        }
        if (!failed) {
          genExecs += s;
          done++;
          let fresh = false;
          let atEnd = false; // new after the last call (the end-of-run teardown)
          for (let i = 0; i < hits.length; i++) {
            const h = hits[i]!;
            if (h === 0) continue;
            seen[i] = 1;
            const b = bucket(h);
            if (((seenB[i]! | runB[i]!) & b) === 0) atEnd = fresh = true;
            else if (runB[i] !== 0) fresh = true;
            seenB[i]! |= runB[i]! | b;
            runB[i] = 0;
          }
          if (!ok) {
            failed = true;
            failAt = genExecs;
          } else if (fresh && o.guided) {
            // up to the last call that reached something new (when the end-of-run teardown
            // did, the whole program)
            const calls = [...cmds].map(unwrap);
            corpus.push({ n, calls: atEnd || lastNew < 0 ? calls : calls.slice(0, lastNew + 1) });
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
    const program: Call[] = [...SETUP_PREFIX.slice(0, n), ...[...cmds].map(unwrap)];
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
    known.add(rep.finding.sig);
    foundAt[rep.finding.sig] = failAt;
    // the seed recorded is the campaign's: the round seeds and the corpus follow from it
    findings.push({ ...rep.finding, profile: o.profile, seed: o.seed, program: program.slice(0, rep.finding.step + 1), transcript: rep.harness.transcript });
  }
  const cov: Record<string, string[]> = {};
  for (const k of [...coverage.keys()].sort()) cov[k] = [...coverage.get(k)!].sort();
  findings.sort((a, b) => (a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : 0));
  return { profile: o.profile, seed: o.seed, runs: done, execs, elapsedMs: hostNow() - t0, findings, coverage: cov, branches: seen, genExecs, corpus: corpus.length, foundAt };
}
