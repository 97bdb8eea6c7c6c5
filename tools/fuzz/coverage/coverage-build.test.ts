/**
 * The coverage build end to end: tools/build.mjs --coverage into a temporary directory, a
 * short coverage-guided campaign through its CLI (schema-valid --json with per-file branch
 * bitmaps, deterministic per seed, findings that replay from their files alone), and the
 * union of two shards' bitmaps by .ci/fuzz-merge.mjs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/tmp.js';
import { unpackBits, type BranchReport } from './runtime.js';
import { runCli } from '../../cli/main.js';
import { memoryIo } from '../../cli/testing/memory-io.js';

const root = new URL('../../../', import.meta.url).pathname;
let dir = '';
let cli = '';

interface FuzzJson {
  guided?: boolean;
  branches?: BranchReport;
  findings: { sig: string; file: string | null }[];
}

function fuzz(args: string[]): { code: number; out: FuzzJson; raw: string } {
  const p = spawnSync(process.execPath, [cli, 'fuzz', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (p.status !== 0 && p.status !== 1) throw new Error(`fuzz ${args.join(' ')}: exit ${p.status}\n${p.stderr}`);
  return { code: p.status, out: JSON.parse(p.stdout) as FuzzJson, raw: p.stdout };
}

const popcount = (bits: Uint8Array): number => bits.reduce((a, b) => a + b, 0);

beforeAll(() => {
  dir = tempDir('cov-build');
  // named boards are found in <bundle dir>/../emulator/boards
  symlinkSync(join(root, 'emulator'), join(dir, 'emulator'));
  execFileSync(process.execPath, ['tools/build.mjs', '--coverage', '--outdir', join(dir, 'cov')], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  cli = join(dir, 'cov', 'fuzz-cov.js');
}, 120_000);

describe('coverage build (npm run build:cov) and fuzz --coverage', () => {
  it('a short guided campaign: per-file branch coverage in --json, the same for the same seed, findings replay alone', () => {
    const out = join(dir, 'findings');
    const a = fuzz(['--coverage', '--profile', 'rfc-v4', '--runs', '40', '--seed', '3', '--json', '--out', out]);
    const ajv = new Ajv({ strict: true, allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync(join(root, 'docs/schemas/fuzz.schema.json'), 'utf8')) as object);
    expect(validate(a.out), JSON.stringify(validate.errors)).toBe(true);
    expect(a.out.guided).toBe(true);
    const b = a.out.branches!;
    expect(b.kernelModel.covered).toBeGreaterThan(200);
    expect(b.kernelModel.total).toBeGreaterThan(b.kernelModel.covered);
    expect(b.files.map((f) => f.file)).toEqual([...b.files.map((f) => f.file)].sort());
    for (const f of b.files) expect(popcount(unpackBits(f.bitmap, f.total)), f.file).toBe(f.covered);
    expect(b.covered).toBe(b.files.reduce((s, f) => s + f.covered, 0));
    // the campaign is a function of its seed (the corpus evolves inside it)
    const again = fuzz(['--coverage', '--profile', 'rfc-v4', '--runs', '40', '--seed', '3', '--json', '--out', out]);
    expect(again.out.branches).toEqual(b);
    expect(again.out.findings.map((f) => f.sig)).toEqual(a.out.findings.map((f) => f.sig));
    // every finding replays from its file (the program), without the campaign
    expect(a.out.findings.length).toBeGreaterThan(0);
    const f = a.out.findings[0]!;
    const r = spawnSync(process.execPath, [cli, 'fuzz', '--replay', f.file!, '--json'], { cwd: root, encoding: 'utf8' });
    expect((JSON.parse(r.stdout) as { reproduced: boolean }).reproduced, f.sig).toBe(true);
  });

  it('the counters change no behaviour: a scenario has the same trace digest as from source', async () => {
    const p = spawnSync(process.execPath, [cli, 'run', 'pl330-vfio-test', '--json'], { cwd: root, encoding: 'utf8' });
    const io = memoryIo({});
    await runCli(['run', 'pl330-vfio-test', '--json'], io);
    const want = JSON.parse(io.o) as { traceSha256: string; passed: boolean };
    expect(want.passed).toBe(true);
    expect((JSON.parse(p.stdout) as { traceSha256: string }).traceSha256).toBe(want.traceSha256);
  });

  it('shards of a measured (unguided) campaign merge into the union of their bitmaps (.ci/fuzz-merge.mjs)', () => {
    const reports = join(dir, 'reports');
    mkdirSync(reports, { recursive: true });
    const s0 = fuzz(['--profile', 'mainline', '--runs', '50', '--shard', '0/2', '--json', '--out', join(dir, 'f0')]);
    const s1 = fuzz(['--profile', 'mainline', '--runs', '50', '--shard', '1/2', '--json', '--out', join(dir, 'f1')]);
    expect(s0.out.guided).toBe(false);
    writeFileSync(join(reports, 'fuzz-mainline-0.json'), s0.raw);
    writeFileSync(join(reports, 'fuzz-mainline-1.json'), s1.raw);
    const merged = join(dir, 'merged.json');
    const m = spawnSync(process.execPath, ['.ci/fuzz-merge.mjs', reports, '--coverage-out', merged], { cwd: root, encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/mainline: branch coverage \(merged\): kernel-model \d+\/\d+/);
    const mj = JSON.parse(readFileSync(merged, 'utf8')) as { profiles: Record<string, BranchReport> };
    const u = mj.profiles.mainline!;
    const b0 = s0.out.branches!;
    const b1 = s1.out.branches!;
    u.files.forEach((f, i) => {
      const x = unpackBits(b0.files[i]!.bitmap, f.total);
      const y = unpackBits(b1.files[i]!.bitmap, f.total);
      expect(f.file).toBe(b0.files[i]!.file);
      expect(f.covered).toBe(popcount(x.map((v, k) => v | y[k]!)));
    });
    expect(u.covered).toBeGreaterThanOrEqual(Math.max(b0.covered, b1.covered));
    expect(u.covered).toBeLessThanOrEqual(b0.covered + b1.covered);
  });
});
