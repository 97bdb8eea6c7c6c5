/**
 * What the fuzzer's snapshot records, and what of it a campaign changes (a diagnostic for
 * docs/PERFORMANCE.md, issue 19). For each profile: boot the pooled harness, take its
 * snapshot, run a campaign, and before every restore note which recorded objects differ
 * from their records. Prints the records grouped by constructor and path from the harness
 * (array indexes and map keys as `[]`), with how many of each group never changed.
 *
 * Not part of the build: bundle it next to dist/ (it finds the boards from its own URL):
 *   npx esbuild tools/fuzz/snapshot-census.ts --bundle --platform=node --format=esm \
 *     --external:koffi --external:esbuild --outfile=.scratch/census.mjs
 *   node .scratch/census.mjs [--runs 1500] [--seed 3] [--top 40] [--depth N] [--verify] [--json] [profile...]
 * (--depth N: group by the first N steps of the path instead of constructor and whole path;
 * size: bytes of buffers, elements, entries or own properties of the rest, unchanged/all;
 * --verify: the snapshot's guard verification on, which throws at the first restore that finds
 * a guarded part changed while its owner's version stayed, or a tracked array at an index its
 * change record did not mark; they are listed, and the exit status is 1)
 */
import { runCampaign } from './engine.js';
import { Harness } from './harness.js';
import { GraphSnapshot } from './snapshot.js';

interface Census {
  profile: string;
  runs: number;
  records: number;
  guarded: number;
  /** restores that found a guard's version moved (GraphSnapshot.guardRestores) */
  guardRestores: number;
  restores: number;
  /** records a restore visits, on average (GraphSnapshot.visited over the restores) */
  visitedPerRestore: number;
  neverChanged: number;
  /** --verify: what the verification threw (the campaign would take it for a finding of the run) */
  verifyErrors: string[];
  groups: Group[];
}

interface Group {
  group: string;
  records: number;
  changed: number;
  guarded: number;
  /** what a restore compares: bytes of buffers, elements, entries or properties of the rest */
  size: number;
  unchangedSize: number;
  /** restores before which at least one of the group's records had changed */
  runsChanged: number;
}

/** what a restore of `o` compares or copies (bytes for buffers) */
function sizeOf(o: object): number {
  if (o instanceof ArrayBuffer) return o.byteLength;
  if (o instanceof Map || o instanceof Set) return o.size;
  if (Array.isArray(o)) return o.length;
  return Reflect.ownKeys(o).length;
}

/** a path cut to its first `depth` steps (all of it when depth is 0) */
function cut(path: string, depth: number): string {
  if (depth <= 0) return path;
  const steps = path.match(/(\.[^.[{]+|\[\]|\{\}k?)/g) ?? [];
  return 'h' + steps.slice(0, depth).join('') + (steps.length > depth ? '…' : '');
}

/** parent links of a BFS from `root` (same order as the snapshot's walk) */
function pathsFrom(root: object): Map<object, string> {
  const path = new Map<object, string>([[root, 'h']]);
  const queue: object[] = [root];
  const push = (v: unknown, p: string): void => {
    if (v === null || typeof v !== 'object' || path.has(v)) return;
    path.set(v, p);
    queue.push(v);
  };
  for (let i = 0; i < queue.length; i++) {
    const o = queue[i]!;
    const p = path.get(o)!;
    if (o instanceof ArrayBuffer) continue;
    if (ArrayBuffer.isView(o)) {
      push(o.buffer, `${p}.buffer`);
      continue;
    }
    if (o instanceof Map) {
      for (const [k, v] of o) {
        push(k, `${p}{}k`);
        push(v, `${p}{}`);
      }
    } else if (o instanceof Set) for (const v of o) push(v, `${p}{}`);
    else if (Array.isArray(o)) for (const v of o) push(v, `${p}[]`);
    else
      for (const k of Reflect.ownKeys(o)) {
        const d = Object.getOwnPropertyDescriptor(o, k)!;
        if ('value' in d) push(d.value, `${p}.${String(k)}`);
      }
  }
  return path;
}

function kind(o: object): string {
  if (o instanceof Map) return 'Map';
  if (o instanceof Set) return 'Set';
  if (Array.isArray(o)) return 'Array';
  if (o instanceof ArrayBuffer) return 'ArrayBuffer';
  return (o.constructor as { name?: string } | undefined)?.name ?? 'null-proto';
}

export function census(profile: string, runs: number, seed: number, depth = 0, verify = false): Census {
  const changed = new Map<object, number>();
  /** per restore (and the end), the objects changed before it */
  const perRun: Set<object>[] = [];
  const verifyErrors: string[] = [];
  let snap: GraphSnapshot | null = null;
  const orig = GraphSnapshot.prototype.restore;
  const note = (s: GraphSnapshot): void => {
    const now = s.changedObjects();
    for (const o of now) changed.set(o, (changed.get(o) ?? 0) + 1);
    perRun.push(new Set(now));
  };
  GraphSnapshot.prototype.restore = function (this: GraphSnapshot): void {
    snap = this;
    // verification mode: a guarded part changed while its owner's version stayed throws
    this.verifyGuards = verify;
    note(this);
    try {
      orig.call(this);
    } catch (e) {
      // runCampaign's property would report it as an (unreproducible) finding: collected here
      verifyErrors.push(e instanceof Error ? e.message : String(e));
      throw e;
    }
  };
  let h: Harness | null = null;
  try {
    runCampaign({ profile, seed, runs });
  } finally {
    GraphSnapshot.prototype.restore = orig;
  }
  if (snap === null) throw new Error('no restore happened');
  const s: GraphSnapshot = snap;
  note(s); // the last run's changes
  h = (s.roots[0] as Harness) ?? null;
  const paths = pathsFrom(h!);
  const groups = new Map<string, Group>();
  const members = new Map<string, object[]>();
  const recs = s.recordedObjects();
  for (const { o, guarded } of recs) {
    const g = depth > 0 ? cut(paths.get(o) ?? '?', depth) : `${kind(o)} ${paths.get(o) ?? '?'}`;
    let e = groups.get(g);
    if (!e) groups.set(g, (e = { group: g, records: 0, changed: 0, guarded: 0, size: 0, unchangedSize: 0, runsChanged: 0 }));
    if (!members.has(g)) members.set(g, []);
    members.get(g)!.push(o);
    e.records++;
    const n = sizeOf(o);
    e.size += n;
    if (changed.has(o)) e.changed++;
    else e.unchangedSize += n;
    if (guarded) e.guarded++;
  }
  for (const [g, os] of members) groups.get(g)!.runsChanged = perRun.filter((r) => os.some((o) => r.has(o))).length;
  const list = [...groups.values()].sort((a, b) => b.records - b.changed - (a.records - a.changed) || (a.group < b.group ? -1 : 1));
  return { profile, runs, records: recs.length, guarded: s.guardedSize, guardRestores: s.guardRestores, restores: perRun.length - 1, visitedPerRestore: Math.round((10 * s.visited) / Math.max(1, perRun.length - 1)) / 10, neverChanged: recs.filter((r) => !changed.has(r.o)).length, verifyErrors, groups: list };
}

function main(argv: string[]): void {
  let runs = 1500;
  let seed = 3;
  let top = 40;
  let json = false;
  let depth = 0;
  let verify = false;
  const profiles: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--top') top = Number(argv[++i]);
    else if (a === '--json') json = true;
    else if (a === '--depth') depth = Number(argv[++i]);
    else if (a === '--verify') verify = true;
    else profiles.push(a);
  }
  if (profiles.length === 0) profiles.push('mainline', 'rfc-v4');
  const out = profiles.map((p) => census(p, runs, seed, depth, verify));
  if (out.some((c) => c.verifyErrors.length > 0)) process.exitCode = 1;
  if (json) {
    process.stdout.write(JSON.stringify(out, null, 1) + '\n');
    return;
  }
  for (const c of out) {
    process.stdout.write(`${c.profile}: ${c.records} records (${c.guarded} guarded; guarded parts restored ${c.guardRestores} times in ${c.restores} restores; ${c.visitedPerRestore} records visited per restore), ${c.neverChanged} never changed in ${c.runs} runs (seed ${seed})\n`);
    if (verify) process.stdout.write(`  --verify: ${c.verifyErrors.length === 0 ? 'no change without its counter or mark' : `${c.verifyErrors.length} restores threw, first: ${c.verifyErrors[0]}`}\n`);
    for (const g of c.groups.slice(0, top)) process.stdout.write(`  ${String(g.records - g.changed).padStart(4)} of ${String(g.records).padStart(4)} unchanged${g.guarded ? ` (${g.guarded} guarded)` : ''}, size ${g.unchangedSize}/${g.size}, changed in ${g.runsChanged} runs  ${g.group}\n`);
  }
}

main(process.argv.slice(2));
