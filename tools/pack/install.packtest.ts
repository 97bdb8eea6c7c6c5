/**
 * The acceptance test of the library (issue 21): `npm pack`, then in a fresh directory outside
 * the repository `npm init -y && npm install <tarball>`, a 20-line TypeScript program that
 * boots the board and runs the pl330 copy through the API is type-checked against the
 * installed .d.ts and run; the installed CLI runs the main job and a user's .mjs scenario.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'vfio-arm-emu-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sh = (cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false', ...env } });
/** stdout and stderr of a command that exits 0 */
const both = (cmd: string, args: string[], cwd: string, env: Record<string, string>): { out: string; err: string } => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return { out: r.stdout, err: r.stderr };
};

const PROGRAM = `import { System, adminBind, runThreads, pl330VfioTest, PL330_DEVICE, type Sys } from 'vfio-arm-emu';

// boot the default board with the RFC v4 kernel, bind the PL330 to vfio-platform
const sys = new System({ profile: 'rfc-v4', seed: 1 });
const admin = adminBind(sys, PL330_DEVICE);
if (!admin.result?.ok || admin.result.groupPath === null) throw new Error('bind failed');
const steps: string[] = [];
// the pl330 copy: a guest program using VFIO through syscalls only
const { proc, thread } = sys.spawn('copy', (s: Sys) => pl330VfioTest(s, {
  groupPath: admin.result!.groupPath!,
  device: PL330_DEVICE,
  abi: '2014',
  size: 8192,
  observe: (step, ok) => steps.push(step + (ok ? '' : ' FAILED')),
}), { stdio: true });
const run = runThreads(sys, [thread]);
process.stdout.write(proc.stdout);
console.log(\`exit \${thread.exit?.status} at \${run.now} ns, \${steps.length} steps\`);
process.exitCode = thread.exit?.status ?? 1;
`;

const SCENARIO_MJS = `import { runPl330, defineScenario } from 'vfio-arm-emu';
export default defineScenario({
  name: 'my-copy', description: 'pl330 copy of 64 KiB', accepts: [], anyProfile: true,
  run: (o) => ({ ...runPl330({ ...o, size: 65536, name: 'my-copy' }), steps: undefined, system: undefined }),
});
`;

const SCENARIO_TS = `import { runPl330, defineScenario, type ScenarioOptions } from 'vfio-arm-emu';
export default defineScenario({ name: 'ts-copy', description: 'x', accepts: [], anyProfile: true, run: (o: ScenarioOptions) => runPl330({ ...o, name: 'ts-copy' }) });
`;

describe('the packed tarball in a fresh project', () => {
  let tgz = '';

  it('npm pack (prepack builds dist/ and the types): what it ships', () => {
    const out = sh('npm', ['pack', '--json', '--pack-destination', work], root);
    const [pack] = JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string; size: number; unpackedSize: number; entryCount: number; files: Array<{ path: string }> }>;
    tgz = join(work, pack!.filename);
    const paths = pack!.files.map((f) => f.path);
    for (const p of ['dist/cli.js', 'dist/cli-commands.cjs', 'dist/index.js', 'dist/fuzz-worker.js', 'dist/types/tools/api/index.d.ts', 'emulator/boards/vexpress-vfio.dts', 'docs/schemas/run.schema.json']) expect(paths).toContain(p);
    expect(paths.filter((p) => /\.test\.ts$|packtest|^\.ci\/|^\.github\//.test(p))).toEqual([]);
    console.log(`tarball ${pack!.filename}: ${pack!.entryCount} files, ${(pack!.size / 1024).toFixed(0)} KiB packed, ${(pack!.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
  });

  it('installs into a fresh directory; a TypeScript program type-checks against the .d.ts and runs the pl330 copy', () => {
    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    sh('npm', ['init', '-y'], app);
    // koffi (the Unicorn backend's binding) is optional: left out here, the stub CPU needs none
    sh('npm', ['install', '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', tgz], app);
    writeFileSync(join(app, 'main.ts'), PROGRAM);
    expect(PROGRAM.trim().split('\n').length).toBeLessThanOrEqual(21);
    // the types come from the installed package (exports "types"), resolved as a user's tsc resolves them
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    sh(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--typeRoots', join(root, 'node_modules/@types'), '--types', 'node', 'main.ts'], app);
    writeFileSync(join(app, 'main.mjs'), transformSync(PROGRAM, { loader: 'ts', format: 'esm' }).code);
    const out = sh(process.execPath, ['main.mjs'], app);
    expect(out).toMatch(/^the message is: transfer completed$/m);
    expect(out).toMatch(/^exit 0 at \d+ ns, \d+ steps$/m);
    // the installed CLI: the main job, and a user's .mjs scenario importing the package
    const bin = join(app, 'node_modules/.bin/vfio-arm-emu');
    expect(sh(bin, ['run', 'pl330-vfio-test', '--quiet'], app)).toMatch(/^PASS pl330-vfio-test rfc-v4 /);
    // the commands bundle without a cache (none is shipped: it would fit only the packing
    // Node's V8); written on request for this Node, then taken; the ES modules and the
    // bundle, cached or not, give the same output (--json included)
    const run = (env: Record<string, string>): { out: string; err: string } => both(bin, ['run', 'pl330-vfio-test', '--json'], app, env);
    const cold = run({ VFIO_ARM_EMU_CODE_CACHE: 'report' });
    expect(cold.err).toMatch(/^vfio-arm-emu: code cache: absent \(.*node_modules\/vfio-arm-emu\/dist\/cli-commands\.cjs\)$/m);
    expect(run({ VFIO_ARM_EMU_CODE_CACHE: 'write' }).err).toMatch(/^vfio-arm-emu: code cache: wrote \d+ bytes to .*dist\/cli-commands\.cjs\.v8cache$/m);
    const warm = run({ VFIO_ARM_EMU_CODE_CACHE: 'report' });
    expect(warm.err).toMatch(/^vfio-arm-emu: code cache: accepted \(/m);
    const esm = run({ VFIO_ARM_EMU_CODE_CACHE: 'off' });
    expect(esm.err).toBe('');
    expect(JSON.parse(esm.out)).toMatchObject({ outcome: 'pass' });
    expect(cold.out).toBe(esm.out);
    expect(warm.out).toBe(esm.out);
    writeFileSync(join(app, 'my-scenario.mjs'), SCENARIO_MJS);
    expect(sh(bin, ['run', './my-scenario.mjs', '--quiet'], app)).toMatch(/^PASS my-copy rfc-v4 .* dma=65536 /);
    // a scenario file runs on the ES modules, the library's own (see tools/cli/bin.ts)
    expect(both(bin, ['run', './my-scenario.mjs', '--quiet'], app, { VFIO_ARM_EMU_CODE_CACHE: 'report' }).err).toMatch(/^vfio-arm-emu: code cache: not used \(a scenario file\)$/m);
    // a TypeScript scenario: bundled by the installed CLI with esbuild (a dependency), its
    // 'vfio-arm-emu' import resolved to the installed library
    writeFileSync(join(app, 'ts-scenario.ts'), SCENARIO_TS);
    expect(sh(bin, ['run', './ts-scenario.ts', '--quiet', '--profile', 'mainline'], app)).toMatch(/^PASS ts-copy mainline /);
    // fuzz --jobs 2 from the installed package: two child processes of its dist/fuzz-worker.js,
    // the same merged result as one in-process job (exit 1: mainline's findings are not all known)
    const fuzz = (jobs: string): unknown => {
      let out: string;
      try {
        out = sh(bin, ['fuzz', '--profile', 'mainline', '--runs', '50', '--jobs', jobs, '--json', '--no-baseline', '--out', join(app, `findings-${jobs}`)], app);
      } catch (e) {
        out = String((e as { stdout?: string }).stdout ?? '');
      }
      const j = JSON.parse(out) as { runs: number; execs: number; findings: { sig: string; calls: string[] }[]; coverage: unknown; jobs: number };
      return { runs: j.runs, execs: j.execs, coverage: j.coverage, findings: j.findings.map((f) => [f.sig, f.calls]) };
    };
    expect(fuzz('2')).toEqual(fuzz('1'));
    // and the repository's example, unchanged
    writeFileSync(join(app, 'example.mjs'), readFileSync(join(root, 'examples/device-info.mjs')));
    expect(sh(process.execPath, ['example.mjs'], app)).toMatch(/^pl330-vfio-test: PASS/m);
  });
});
