/**
 * The campaign engine: fast-check model-based testing (fc.commands, run as fc.modelRun runs them: runCommands), every
 * run starting from the identical post-boot state (restored from a snapshot of the booted,
 * bound harness: see pooledHarness and snapshot.ts), findings deduplicated by signature. After a failure, fast-check
 * shrinks the command sequence; the shrunk program is re-executed in a fresh system to
 * confirm it reproduces (the replay file is that program), its signature is added to the
 * known set, and the campaign continues with the next seed until the budget is spent. When
 * the shrink ended at another signature than the one the failing run showed, the run's own
 * finding is reported too (ownFinding: its program reduced keeping that signature).
 */
import fc from 'fast-check';
import { RegisterMap } from '../../emulator/regmap.js';
import { Pl330 } from '../../devices/pl330/pl330.js';
import { Smmu } from '../../devices/smmu/smmu.js';
import { accelParts } from '../../devices/smmu/accel/index.js';
import { callArbOf, dirtyPagesOf, iommufdOf, prefixArb, prefixOf } from './arb.js';
import { DEFAULT_SUPPRESSIONS, FindingError, Harness, type Finding, type StepRecord } from './harness.js';
import { fusedCommands } from './commands-arb.js';
import { fastArb } from './fastgen.js';
import { formatCall, type Call } from './program.js';
import { GraphSnapshot, SnapshotUnsupported } from './snapshot.js';

export interface FindingReport extends Finding {
  profile: string;
  seed: number;
  /** the shrunk program (replayable) */
  program: Call[];
  /** the C-like transcript of its replay */
  transcript: StepRecord[];
  /**
   * the signatures the run that confirmed it did not stop at (the campaign's suppressions and
   * its earlier findings), sorted, its own excepted: a program may pass a known bug on its way
   * to this one, and a replay suppresses the same ones to give the same signature
   */
  suppressed?: string[];
}

/** the suppressed list of a finding confirmed with `ignore` (FindingReport.suppressed) */
export function suppressedList(ignore: ReadonlySet<string>, sig: string): string[] {
  return [...ignore].filter((s) => s !== sig).sort();
}

export interface CampaignOptions {
  profile: string;
  seed: number;
  /** total fast-check runs (each from the post-boot state) */
  runs: number;
  /** stop after this many milliseconds of host time (tools only) */
  timeMs?: number;
  /** calls per run at most (default 64) */
  maxCommands?: number;
  /** signatures not reported (default DEFAULT_SUPPRESSIONS) */
  suppress?: readonly string[];
  /** called after every run */
  onProgress?: (done: number, total: number, findings: number) => void;
  /**
   * start every run from a snapshot of the booted, bound harness instead of a fresh boot
   * (default true; the results are the same: see tools/fuzz/snapshot.ts)
   */
  reuse?: boolean;
}

export interface CampaignResult {
  profile: string;
  seed: number;
  runs: number;
  execs: number;
  elapsedMs: number;
  findings: FindingReport[];
  /** "kind:ioctl" -> sorted results */
  coverage: Record<string, string[]>;
  /** "kind:ioctl" -> how many calls succeeded (shrinking runs included) */
  okCounts?: Record<string, number>;
  /** coverage build only: one byte per branch site, 1 = reached (tools/fuzz/coverage/) */
  branches?: Uint8Array;
}

/** fast-check command wrapping one call: the model is inside the harness (RefModel) */
export class CallCommand implements fc.Command<object, Harness> {
  constructor(readonly call: Call) {}
  check(): boolean {
    return true;
  }
  run(_m: object, h: Harness): void {
    h.exec(this.call);
  }
  toString(): string {
    return formatCall(this.call);
  }
}

/**
 * A generated run's commands on the harness: the prefix's calls, then each command whose
 * check() passes against the (empty) model is run, in order, as fc.modelRun does (fast-check
 * 4's internalModelRun: `if (cmd.check(model)) cmd.run(model, real)` per command), without
 * its per-command closures and without the spread of the prefix and the commands into one
 * array. The commands are fast-check's wrappers: their run() records hasRan, which the
 * shrinker reads (it keeps only the commands that ran).
 */
export function runCommands(h: Harness, prefix: readonly Call[], cmds: Iterable<fc.Command<object, Harness>>): void {
  // the prefix's CallCommands: check() is true, run() is h.exec
  for (let i = 0; i < prefix.length; i++) h.exec(prefix[i]!);
  const model = {};
  for (const c of cmds) if (c.check(model)) c.run(model, h);
}

/** a generated run as a program: the set-up prefix's calls, then the commands' calls */
export function generatedProgram(n: number, cmds: Iterable<fc.Command<object, Harness>>): Call[] {
  return [...prefixOf(n), ...[...cmds].map(unwrap)];
}

/** Execute a program in a fresh system; returns the first finding (not in `ignore`) or null. */
export function runProgram(profile: string, program: readonly Call[], opts: { ignore?: ReadonlySet<string>; transcript?: boolean; bootargs?: string } = {}): { finding: Finding | null; harness: Harness } {
  const h = new Harness({ profile, ignore: opts.ignore, transcript: opts.transcript, bootargs: opts.bootargs });
  try {
    for (const c of program) h.exec(c);
    h.finish();
  } catch (e) {
    if (e instanceof FindingError) return { finding: e.finding, harness: h };
    throw e;
  }
  return { finding: null, harness: h };
}

/** one call on a live harness: the finding it raises, null when it runs clean */
export function execCall(h: Harness, c: Call): Finding | null {
  try {
    h.exec(c);
    return null;
  } catch (e) {
    if (e instanceof FindingError) return e.finding;
    throw e;
  }
}

/**
 * A candidate program run from the pooled post-boot snapshot (a shrink or minimization step):
 * its first finding not in `ignore` (null when it runs clean) and the syscalls it executed.
 */
export function tryProgram(profile: string, program: readonly Call[], ignore: ReadonlySet<string>): { finding: Finding | null; syscalls: number } {
  const h = pooledHarness(profile, ignore);
  let finding: Finding | null = null;
  try {
    for (const c of program) h.exec(c);
    h.finish();
  } catch (e) {
    if (!(e instanceof FindingError)) throw e;
    finding = e.finding;
  }
  return { finding, syscalls: h.runSyscalls };
}

/** the most candidate runs ownFinding spends dropping calls */
export const OWN_FINDING_RUNS = 200;

/**
 * The finding a failing generated run showed, when the shrink reported another signature.
 * fast-check's shrink keeps any smaller counterexample that still fails, whatever it shows,
 * so a run that showed one finding can be reported as a neighbouring one (a pwrite past the
 * region, by the shrink of its `op` toward the first of pread/pwrite, as a pread past it; a
 * pread Oops as a read of the wrong register), and the finding the run showed is lost until
 * another run shows it again. syzkaller reports every crash title its programs show and
 * minimizes each reproducer keeping that title (syz-repro); this does the same for the run's
 * own finding: its program cut after the failing call, then calls dropped one at a time, from
 * the last but one to the first, where the same signature still shows at the program's last
 * call (up to OWN_FINDING_RUNS candidates, each from the pooled post-boot snapshot).
 * Deterministic (candidates in a fixed order). null when the signature is known by now (the
 * shrink reported the same one) or the cut program does not show it again.
 */
export function ownFinding(profile: string, program: readonly Call[], first: Finding, known: ReadonlySet<string>): { program: Call[]; finding: Finding; syscalls: number } | null {
  if (known.has(first.sig) || first.step < 0 || first.step >= program.length) return null;
  let syscalls = 0;
  let budget = OWN_FINDING_RUNS;
  const attempt = (cand: readonly Call[]): Finding | null => {
    budget--;
    const r = tryProgram(profile, cand, known);
    syscalls += r.syscalls;
    return r.finding !== null && r.finding.sig === first.sig && r.finding.step === cand.length - 1 ? r.finding : null;
  };
  let prog = program.slice(0, first.step + 1);
  let finding = attempt(prog);
  if (finding === null) return null;
  for (let i = prog.length - 2; i >= 0 && budget > 0; i--) {
    const cand = [...prog.slice(0, i), ...prog.slice(i + 1)];
    const f = attempt(cand);
    if (f !== null) {
      prog = cand;
      finding = f;
    }
  }
  return { program: prog, finding, syscalls };
}

/** fast-check may hand back its command wrappers: unwrap to our CallCommand's call */
export function unwrap(c: unknown): Call {
  const w = c as { cmd?: CallCommand; call?: Call };
  return w.call ?? w.cmd!.call;
}

/**
 * After a failure was reported: the failing generated run's own finding (ownFinding) when it
 * is not known yet, confirmed in a freshly booted system as every report is, added to
 * `known`. Its syscalls (the candidates' and the confirmation's) are returned for `execs`.
 */
export function reportOwnFinding(profile: string, seed: number, generated: { program: Call[]; finding: Finding } | null, known: Set<string>): { report: FindingReport; syscalls: number } | null {
  if (generated === null) return null;
  const own = ownFinding(profile, generated.program, generated.finding, known);
  if (own === null) return null;
  const rep = runProgram(profile, own.program, { ignore: known, transcript: true });
  const syscalls = own.syscalls + rep.harness.runSyscalls;
  if (rep.finding === null || rep.finding.sig !== own.finding.sig) return null;
  const suppressed = suppressedList(known, rep.finding.sig);
  known.add(rep.finding.sig);
  return { report: { ...rep.finding, profile, seed, program: own.program.slice(0, rep.finding.step + 1), transcript: rep.harness.transcript, suppressed }, syscalls };
}

const hostNow = (): number => performance.now();

/**
 * One booted harness per profile and process, snapshotted right after its set-up (boot,
 * binding, the processes and their mappings); `pooledHarness` restores it to that state.
 * null: the snapshot is not possible (fresh boots are used).
 */
/**
 * The snapshot of a harness in its post-set-up state: the whole graph, RAM through its
 * dirty-page record, the page allocator's per-page arrays through their change record, the
 * sysfs tree, the IRQ descriptors, the PL330 controllers and the SMMU's accelerators only when
 * their owner's version moved (guards: kernel-model/sysfs, kernel-model/irq/core.ts,
 * devices/pl330/pl330.ts, devices/smmu/accel/index.ts), the
 * parsed device tree and the register maps' tables and layouts left alone as constant.
 */
export function harnessSnapshot(h: Harness): GraphSnapshot {
  const pages = h.sys.kernel.mm.pages;
  const sysfs = h.sys.kernel.sysfs;
  const irq = h.sys.irq;
  // each PL330 controller: its own version (devices/pl330/pl330.ts), the object its root
  const dmacs = h.sys.machine.devices.flatMap((d) => ('dmac' in d && d.dmac instanceof Pl330 ? [d.dmac] : []));
  // each SMMU's accelerators (devices/smmu/accel/index.ts accelParts)
  const accel = h.sys.machine.devices.flatMap((d) => d.mmio.flatMap((m) => (m instanceof Smmu ? accelParts(m) : [])));
  return new GraphSnapshot([h], h.sys.machine.ram, [], [h.sys.machine.tree], [{ arrays: pages.perPageArrays(), owner: pages }], (o) => (o instanceof RegisterMap ? o.constantParts() : null), [{ owner: sysfs, root: sysfs.root }, ...irq.guardedParts(), ...dmacs.map((d) => ({ owner: d, root: d })), ...accel]);
}

const pool = new Map<string, { h: Harness; snap: GraphSnapshot } | null>();

/** A harness in its post-set-up state: restored from the profile's snapshot, or freshly booted. */
export function pooledHarness(profile: string, ignore: ReadonlySet<string>): Harness {
  let e = pool.get(profile);
  if (e === undefined) {
    const h = new Harness({ profile });
    try {
      e = { h, snap: harnessSnapshot(h) };
    } catch (err) {
      if (!(err instanceof SnapshotUnsupported)) throw err;
      e = null;
    }
    pool.set(profile, e);
    if (e) {
      h.setIgnore(ignore);
      return h;
    }
  }
  if (e === null) return new Harness({ profile, ignore });
  e.snap.restore();
  e.h.setIgnore(ignore);
  return e.h;
}

/**
 * Add a run's ioctl x result coverage to the campaign's. A harness's `coverage` is its
 * snapshot's plus what the run added (`coverAdds`): merged whole the first time the campaign
 * sees the harness, then only the additions.
 */
export function mergeCoverage(coverage: Map<string, Set<string>>, h: Harness, merged: WeakSet<Harness>): void {
  const add = (k: string, x: string): void => {
    let s = coverage.get(k);
    if (!s) coverage.set(k, (s = new Set()));
    s.add(x);
  };
  if (!merged.has(h)) {
    merged.add(h);
    for (const [k, v] of h.coverage) for (const x of v) add(k, x);
    return;
  }
  const a = h.coverAdds;
  for (let i = 0; i < a.length; i += 2) add(a[i]!, a[i + 1]!);
}

export type RunArb = fc.Arbitrary<[number, Iterable<fc.Command<object, Harness>>]>;

/**
 * One command of a generated run: a call of the profile's call arbitrary (arb.ts callArbOf) in
 * `make`'s command class (CallCommand; the guided campaign's CovCallCommand), the command
 * wrapper inside the compiled tree (fastgen.ts: one fast-check node less per call). The same
 * values, from the same random stream, as `callArbOf(...).map(make)`.
 */
export function callCommandArb<C extends fc.Command<object, Harness>>(iommufd: boolean, dirty: boolean, make: (c: Call) => C): fc.Arbitrary<C> {
  return fastArb(callArbOf(iommufd, dirty).map(make)) as fc.Arbitrary<C>;
}

/**
 * The run arbitrary per maxCommands, built once per process: arbitraries are immutable,
 * and a campaign cut into slices (--jobs, --shard) would otherwise build and JIT-warm a
 * fresh tree of arbitraries for every 25-run slice. The random stream is the same.
 */
const runArbs = new Map<string, RunArb>();

/**
 * `iommufd`: whether the profile has /dev/iommu (arb.ts iommufdOf; the prefixes and call weights
 * follow it); `dirty`: whether its type1 has dirty page tracking (arb.ts dirtyPagesOf: the
 * VFIO_IOMMU_DIRTY_PAGES calls are drawn)
 */
export function runArb(maxCommands: number, iommufd = true, dirty = false): RunArb {
  const key = `${maxCommands}:${iommufd ? 1 : 0}:${dirty ? 1 : 0}`;
  let arb = runArbs.get(key);
  if (arb === undefined) {
    // fast-check's per-command oneof/map step fused into one (commands-arb.ts: the same draws, values, contexts and shrinks)
    const cmdArb = fusedCommands(callCommandArb(iommufd, dirty, (c) => new CallCommand(c)), { maxCommands, size: 'max' });
    arb = fc.tuple(prefixArb(iommufd, dirty), cmdArb);
    runArbs.set(key, arb);
  }
  return arb;
}

export function runCampaign(o: CampaignOptions): CampaignResult {
  const t0 = hostNow();
  const known = new Set<string>(o.suppress ?? DEFAULT_SUPPRESSIONS);
  const findings: FindingReport[] = [];
  const coverage = new Map<string, Set<string>>();
  const okCounts = new Map<string, number>();
  let execs = 0;
  let done = 0;
  let round = 0;
  const arb = runArb(o.maxCommands ?? 64, iommufdOf(o.profile), dirtyPagesOf(o.profile));
  const merged = new WeakSet<Harness>();
  while (done < o.runs && (o.timeMs === undefined || hostNow() - t0 < o.timeMs)) {
    const ignore = new Set(known);
    let counted = 0;
    // the generated run that failed (fc.check shrinks only after it) and the finding it showed
    let generated: { program: Call[]; finding: Finding } | null = null;
    const prop = fc.property(arb, ([n, cmds]) => {
      const h = o.reuse === false ? new Harness({ profile: o.profile, ignore }) : pooledHarness(o.profile, ignore);
      try {
        runCommands(h, prefixOf(n), cmds);
        h.finish();
      } catch (e) {
        if (generated === null && e instanceof FindingError) generated = { program: generatedProgram(n, cmds), finding: e.finding };
        throw e;
      } finally {
        execs += h.runSyscalls;
        for (const [k, v] of h.okCounts) okCounts.set(k, (okCounts.get(k) ?? 0) + v);
        h.okCounts.clear();
        mergeCoverage(coverage, h, merged);
        counted++;
      }
    });
    const seed = (o.seed + round * 0x9e3779b1) | 0;
    const remaining = o.runs - done;
    const res = fc.check(prop, { seed, numRuns: remaining, endOnFailure: false, interruptAfterTimeLimit: o.timeMs === undefined ? undefined : Math.max(1, o.timeMs - (hostNow() - t0)) });
    round++;
    // runs before the failure count toward the budget (shrinking runs do not)
    done += res.failed ? res.numRuns : Math.max(res.numRuns, 1);
    o.onProgress?.(Math.min(done, o.runs), o.runs, findings.length);
    void counted;
    if (!res.failed || !res.counterexample) {
      if (res.interrupted) break;
      continue;
    }
    const [n, cmds] = res.counterexample[0];
    const program = generatedProgram(n, cmds);
    const rep = runProgram(o.profile, program, { ignore, transcript: true });
    if (!rep.finding) {
      // not reproducible on its own: report as a host-side problem of the fuzzer itself
      const err = res.errorInstance instanceof Error ? res.errorInstance.message : String(res.errorInstance);
      known.add(`unreproducible:${err.slice(0, 40)}`);
      findings.push({ sig: 'unreproducible', message: err, step: -1, profile: o.profile, seed, program, transcript: rep.harness.transcript });
      continue;
    }
    known.add(rep.finding.sig);
    findings.push({ ...rep.finding, profile: o.profile, seed, program: program.slice(0, rep.finding.step + 1), transcript: rep.harness.transcript, suppressed: suppressedList(ignore, rep.finding.sig) });
    const own = reportOwnFinding(o.profile, seed, generated, known);
    if (own) {
      execs += own.syscalls;
      findings.push(own.report);
    }
  }
  const cov: Record<string, string[]> = {};
  for (const k of [...coverage.keys()].sort()) cov[k] = [...coverage.get(k)!].sort();
  findings.sort((a, b) => (a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : 0));
  const oks: Record<string, number> = {};
  for (const k of [...okCounts.keys()].sort()) oks[k] = okCounts.get(k)!;
  return { profile: o.profile, seed: o.seed, runs: done, execs, elapsedMs: hostNow() - t0, findings, coverage: cov, okCounts: oks };
}
