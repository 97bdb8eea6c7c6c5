/**
 * dist/cov/fuzz-cov-bench.js (coverage build): random vs coverage-guided generation at an
 * equal budget of generated syscalls, per seed; prints one JSON object. Used by the
 * fuzz-coverage benchmark (tools/bench/fuzz-coverage.ts), which runs it as a child process
 * because the counters exist only in the coverage build.
 *
 *   node dist/cov/fuzz-cov-bench.js [--profile rfc-v4] [--syscalls 100000] [--seeds 1,2,3] [--diff] [--no-seeds] [--rates]
 *
 * --no-seeds: the guided mode starts from an empty corpus (ablation of the seed corpus).
 * --uncovered: diagnosis: per kernel-model file, the sites (line:col/kind) no guided run of
 *   any of the seeds reached (on stderr; the JSON is printed as usual).
 */
import { DEFAULT_SUPPRESSIONS } from '../harness.js';
import { runCoverageCampaign } from './campaign.js';

/** the rfc-v4 findings the benchmark times (tools/bench/fuzz-coverage.ts) */
export const RATE_SIGS = ['region-info-leak', 'oops:ioctl:VFIO_DEVICE_GET_REGION_INFO', 'rw-offset-mismatch', 'oops:pread', 'oops:pwrite', 'oops:ioctl:VFIO_DEVICE_SET_IRQS', 'dma-unmapped'];
import { covRuntime, coveredUnder, kernelModelCovered } from './runtime.js';

/** the iommufd subsystem's files (the figure the mainline measurement adds) */
export const IOMMUFD_DIR = 'kernel-model/iommu/iommufd/';

export interface ModeResult {
  /** kernel-model/ branch sites reached */
  kernelModel: number;
  /** sites of kernel-model/iommu/iommufd/ reached (IOMMUFD_DIR) */
  iommufd: number;
  /** all instrumented sites reached (devices/ too) */
  all: number;
  genExecs: number;
  runs: number;
  corpus: number;
  /** signature -> generated syscalls until the run that showed it */
  foundAt: Record<string, number>;
  /** signature -> generated runs that showed it (with --rates: the findings suppressed, so campaigns do not stop at them) */
  hitRuns?: Record<string, number>;
}

export interface CoverageBenchOutput {
  profile: string;
  syscalls: number;
  kernelModelSites: number;
  /** sites in IOMMUFD_DIR */
  iommufdSites: number;
  seeds: { seed: number; random: ModeResult; guided: ModeResult }[];
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

function main(): void {
  const rt = covRuntime();
  if (!rt) throw new Error('fuzz-cov-bench: not the coverage build');
  const profile = arg('profile', 'rfc-v4');
  const syscalls = Number(arg('syscalls', '100000'));
  const seeds = arg('seeds', '1,2,3').split(',').map(Number);
  const withSeeds = !process.argv.includes('--no-seeds');
  // --rates: the baseline findings suppressed, so that every run is generated and hitRuns counts them all
  const suppress = process.argv.includes('--rates') ? [...DEFAULT_SUPPRESSIONS, ...RATE_SIGS] : undefined;
  let kmSites = 0;
  let iommufdSites = 0;
  for (const f of rt.files) {
    if (f.path.startsWith('kernel-model/')) kmSites += f.n;
    if (f.path.startsWith(IOMMUFD_DIR)) iommufdSites += f.n;
  }
  const out: CoverageBenchOutput = { profile, syscalls, kernelModelSites: kmSites, iommufdSites, seeds: [] };
  // warm-up: the profile's boot + snapshot and the JIT, outside both measurements
  runCoverageCampaign({ profile, seed: 99, runs: 20, guided: false });
  for (const seed of seeds) {
    const one = (guided: boolean): ModeResult => {
      const r = runCoverageCampaign({ profile, seed, runs: Number.MAX_SAFE_INTEGER, maxSyscalls: syscalls, guided, seeds: withSeeds, suppress });
      for (const f of r.findings) if (f.sig === 'host-error' || f.sig === 'unreproducible') process.stderr.write(`fuzz-cov-bench: seed ${seed} ${guided ? 'guided' : 'random'}: ${f.sig}: ${f.message}\n${JSON.stringify(f.program)}\n`);
      let all = 0;
      for (const b of r.branches) all += b;
      return { kernelModel: kernelModelCovered(rt, r.branches), iommufd: coveredUnder(rt, r.branches, IOMMUFD_DIR), all, genExecs: r.genExecs, runs: r.runs, corpus: r.corpus, foundAt: r.foundAt, hitRuns: r.hitRuns };
    };
    if (process.argv.includes('--diff')) {
      // diagnosis: the sites (line:col/kind) only one of the two modes reached, per file
      const a = runCoverageCampaign({ profile, seed, runs: Number.MAX_SAFE_INTEGER, maxSyscalls: syscalls, guided: false }).branches;
      const b = runCoverageCampaign({ profile, seed, runs: Number.MAX_SAFE_INTEGER, maxSyscalls: syscalls, guided: true, seeds: withSeeds }).branches;
      for (const f of rt.files) {
        const ra: string[] = [];
        const gb: string[] = [];
        for (let i = 0; i < f.n; i++) {
          const w = `${f.sites[3 * i]}:${f.sites[3 * i + 1]}/${f.sites[3 * i + 2]}`;
          if (a[f.base + i] && !b[f.base + i]) ra.push(w);
          if (b[f.base + i] && !a[f.base + i]) gb.push(w);
        }
        if (ra.length || gb.length) process.stderr.write(`${f.path}: random-only ${ra.join(' ')} | guided-only ${gb.join(' ')}\n`);
      }
      continue;
    }
    out.seeds.push({ seed, random: one(false), guided: one(true) });
  }
  if (process.argv.includes('--uncovered')) {
    const union = new Uint8Array(rt.hits.length);
    for (const seed of seeds) {
      const b = runCoverageCampaign({ profile, seed, runs: Number.MAX_SAFE_INTEGER, maxSyscalls: syscalls, guided: true, seeds: withSeeds }).branches;
      for (let i = 0; i < b.length; i++) union[i]! |= b[i]!;
    }
    for (const f of rt.files) {
      if (!f.path.startsWith('kernel-model/')) continue;
      const miss: string[] = [];
      for (let i = 0; i < f.n; i++) if (!union[f.base + i]) miss.push(`${f.sites[3 * i]}:${f.sites[3 * i + 1]}/${f.sites[3 * i + 2]}`);
      if (miss.length) process.stderr.write(`${f.path}: ${f.n - miss.length}/${f.n} reached; missed ${miss.join(' ')}\n`);
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();
