/**
 * The fuzzer's acceptance (the review bugs of RFC v4 rediscovered, mainline clean), its CLI, the
 * rate bench and the progress output. The invariants are in fuzz-invariants.test.ts, ownership and
 * the second group in fuzz-ownership.test.ts, fork in fuzz-fork.test.ts.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../cli/args.js';
import type { CliIo } from '../cli/main.js';
import { SETUP_PREFIX } from './arb.js';
import { InputError } from '../cli/outputs.js';
import { CONTAINER_IOMMUFD_IOCTLS } from './program-iommufd.js';
import { coverageRows, FINDING_FORMAT, Progress, runFuzzCommand, Timeline, type FindingFile } from './cli.js';
import { runCampaign, runProgram, type CampaignResult } from './engine.js';
import { VFIO_REQS, type Call } from './program.js';
import { fuzzRateCurve, fuzzRateDetail } from './bench.js';

/** the fixed budget of the acceptance tests: same seed and runs for both profiles */
const BUDGET = { seed: 9, runs: 120 };

function fakeIo(files: Record<string, string> = {}): CliIo & { stdout: string; stderr: string; files: Record<string, string> } {
  const io = {
    stdout: '',
    stderr: '',
    files,
    out: (s: string) => void (io.stdout += s),
    err: (s: string) => void (io.stderr += s),
    writeFile: (p: string, d: string | Iterable<string>) => void (files[p] = typeof d === 'string' ? d : [...d].join('')),
    readFile: (p: string) => {
      if (!(p in files)) throw new Error(`ENOENT: ${p}`);
      return files[p]!;
    },
    isTTY: false,
  };
  return io;
}

let rfc: CampaignResult;
let mainline: CampaignResult;

beforeAll(() => {
  rfc = runCampaign({ profile: 'rfc-v4', ...BUDGET });
  mainline = runCampaign({ profile: 'mainline', ...BUDGET });
});

describe('acceptance: the review bugs of RFC v4', () => {
  it('rfc-v4: rediscovers the GET_REGION_INFO out-of-bounds read and the read/write offset scaling, shrunk', () => {
    const sigs = rfc.findings.map((f) => f.sig);
    expect(sigs).toContain('region-info-leak');
    expect(sigs).toContain('rw-offset-mismatch');
    const leak = rfc.findings.find((f) => f.sig === 'region-info-leak')!;
    const rw = rfc.findings.find((f) => f.sig === 'rw-offset-mismatch')!;
    // shrunk: the five set-up calls and the one that shows the bug
    expect(leak.program.length).toBeLessThanOrEqual(SETUP_PREFIX.length + 1);
    expect(rw.program.length).toBeLessThanOrEqual(SETUP_PREFIX.length + 1);
    expect(leak.transcript.at(-1)!.line).toMatch(/VFIO_DEVICE_GET_REGION_INFO/);
    expect(rw.transcript.at(-1)!.line).toMatch(/pread\(/);
    expect(rw.message).toMatch(/returned [0-9a-f]+, but the register at physical 0x2c0a[0-9a-f]{4} holds/);
  });

  it('mainline runs the same budget clean', () => {
    expect(mainline.findings).toEqual([]);
    expect(mainline.runs).toBe(BUDGET.runs);
    expect(mainline.execs).toBeGreaterThan(BUDGET.runs * 10);
  });

  it('every finding replays to the same signature, deterministically', () => {
    for (const f of rfc.findings) {
      // suppressing what the campaign suppressed when it confirmed the finding (fuzz --replay does too)
      const ignore = new Set(f.suppressed);
      const a = runProgram('rfc-v4', f.program, { transcript: true, ignore });
      const b = runProgram('rfc-v4', f.program, { transcript: true, ignore });
      expect(a.finding?.sig).toBe(f.sig);
      expect(a.harness.transcript).toEqual(b.harness.transcript);
      // and the same program is clean on mainline, where the bugs are fixed
      const m = runProgram('mainline', f.program);
      expect(m.finding?.sig ?? null).not.toBe(f.sig);
    }
  });

  it('the oracles judge only while the scratch pages are the harness\'s own: a device mapping where they were is not a finding (mainline, found by a campaign)', () => {
    // munmap(0, 0x40000001) takes the scratch away and the device's mmap lands where it was:
    // the pread's 4 bytes (DPC) go to the device mapping and read back as DSR
    const clobber: Call[] = [
      { op: 'open', p: 0, path: '/dev/iommu', flags: 2 },
      { op: 'open', p: 0, path: '/dev/vfio/devices/vfio0', flags: 2 },
      {
        op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: 15222,
        arg: { t: 'struct', type: 'vfio_device_bind_iommufd', fields: { argsz: 16, flags: 0, iommufd: { fd: { k: 'iommufd', i: 0 } }, out_devid: 0 }, ptr: 'ok' },
      },
      { op: 'raw', p: 0, nr: 91, args: [0, 0x40000001, 0, 0, 0, 0] },
      { op: 'mmap', p: 0, fd: { k: 'device', i: 0 }, len: 4096, prot: 3, flags: 1, off: { region: 0, off: 0 } },
    ];
    const pread: Call = { op: 'pread', p: 0, fd: { k: 'device', i: 0 }, off: { region: 0, off: 4 }, count: 4, ptr: 'ok' };
    const run = runProgram('mainline', [...clobber, pread], { transcript: true });
    expect(run.harness.transcript.map((t) => t.ret)).toEqual(['0', '1', '0', '0', '1073741824', '4']);
    expect(run.finding).toBeNull();
    // GET_REGION_INFO's result lands in the device's registers too: no region-info-leak either
    const info: Call = {
      op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: VFIO_REQS.VFIO_DEVICE_GET_REGION_INFO,
      arg: { t: 'struct', type: 'vfio_region_info', fields: { argsz: 32, flags: 0, index: 0, resv: 0, size: 0, offset: 0 }, ptr: 'ok' },
    };
    expect(runProgram('mainline', [...clobber, info]).finding).toBeNull();
    // on rfc-v4 the oracle still judges a pread through an intact scratch (review finding 2),
    // and stops judging once the scratch is taken away
    const rw = rfc.findings.find((f) => f.sig === 'rw-offset-mismatch')!;
    expect(runProgram('rfc-v4', rw.program).finding?.sig).toBe('rw-offset-mismatch');
    const last = rw.program.at(-1) as Extract<Call, { op: 'pread' | 'pwrite' }>;
    expect(last.op).toBe('pread');
    const taken: Call[] = [...rw.program.slice(0, -1), clobber[3]!, { ...clobber[4]!, fd: last.fd } as Call, last];
    const quiet = runProgram('rfc-v4', taken, { transcript: true });
    expect(quiet.harness.transcript.at(-2)!.ret).toBe('1073741824');
    expect(quiet.finding).toBeNull();
  });

  it('reaches every ioctl of the container, group and device fds, with success and error returns', () => {
    const cov: Record<string, string[]> = {};
    for (const c of [rfc.coverage, mainline.coverage]) for (const [k, v] of Object.entries(c)) cov[k] = [...new Set([...(cov[k] ?? []), ...v])];
    const rows = coverageRows(cov);
    for (const r of rows) {
      // the iommufd and fault rows are checked by fuzz-iommufd.test.ts's campaign (success counts per call)
      if (r.fd === 'iommufd' || r.fd === 'fault') continue;
      expect(r.ok || r.errors.length > 0, `${r.fd} ${r.call} never reached`).toBe(true);
      // GET_API_VERSION and CHECK_EXTENSION take their argument by value and cannot fail
      if (r.call !== 'VFIO_GET_API_VERSION' && r.call !== 'VFIO_CHECK_EXTENSION') expect(r.errors.length, `${r.fd} ${r.call}: no error return reached`).toBeGreaterThan(0);
      // VFIO_DEVICE_RESET cannot succeed: the PL330 has no reset handler (documented); unknown requests never succeed;
      // nor do iommufd requests on a VFIO container (mainline's; they succeed on the compat container: compat.test.ts)
      if (r.call !== 'VFIO_DEVICE_RESET' && r.call !== 'unknown' && !(r.fd === 'container' && CONTAINER_IOMMUFD_IOCTLS.includes(r.call))) expect(r.ok, `${r.fd} ${r.call}: no success reached`).toBe(true);
    }
  });
});

describe('CLI', () => {
  it('--replay reproduces a finding file and prints the calls as C', () => {
    const f = rfc.findings.find((x) => x.sig === 'region-info-leak')!;
    const file: FindingFile = { format: FINDING_FORMAT, version: 1, profile: 'rfc-v4', sig: f.sig, message: f.message, seed: f.seed, program: f.program, transcript: f.transcript };
    const io = fakeIo({ 'leak.json': JSON.stringify(file) });
    expect(runFuzzCommand(['--replay', 'leak.json'], io)).toBe(1);
    expect(io.stdout).toMatch(/ioctl\(2 \/\* (device\[0\]|2) \*\/, VFIO_DEVICE_GET_REGION_INFO, &s\);/);
    expect(io.stdout).toMatch(/REPRODUCED: region-info-leak/);
    const io2 = fakeIo({ 'leak.json': JSON.stringify(file) });
    runFuzzCommand(['--replay', 'leak.json'], io2);
    expect(io2.stdout).toBe(io.stdout);
    // the same program on mainline does not reproduce
    const io3 = fakeIo({ 'leak.json': JSON.stringify({ ...file, profile: 'mainline' }) });
    expect(runFuzzCommand(['--replay', 'leak.json'], io3)).toBe(0);
    expect(io3.stdout).toMatch(/not reproduced/);
    // a campaign's round seeds are signed 32-bit numbers: a negative one is a valid file
    const io4 = fakeIo({ 'leak.json': JSON.stringify({ ...file, seed: -1640531526 }) });
    expect(runFuzzCommand(['--replay', 'leak.json'], io4)).toBe(1);
  });

  it('--replay suppresses what the campaign suppressed when it confirmed the finding (the file\'s `suppressed` list, its own signature excepted)', () => {
    // MAP_DMA with EXEC alone is a known rfc-v4 finding (dma-unmapped) on the way to the exit's locked_vm one
    const program: Call[] = [...SETUP_PREFIX, { op: 'fork', p: 0, into: 1 }, { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 4, vaddr: { dma: 0 }, iova: 0, size: 0x1000 }, ptr: 'ok' } }];
    const file: FindingFile = { format: FINDING_FORMAT, version: 1, profile: 'rfc-v4', sig: 'leak-locked-vm', message: '', seed: 1, program, transcript: [] };
    const io = fakeIo({ 'f.json': JSON.stringify({ ...file, suppressed: ['dma-unmapped', 'leak-locked-vm'] }) });
    expect(runFuzzCommand(['--replay', 'f.json'], io)).toBe(1);
    expect(io.stdout).toMatch(/REPRODUCED: leak-locked-vm/);
    const bare = fakeIo({ 'f.json': JSON.stringify(file) });
    runFuzzCommand(['--replay', 'f.json'], bare);
    expect(bare.stdout).toMatch(/DIFFERENT FINDING: dma-unmapped/);
    // a malformed list is a schema error naming the field
    const bad = fakeIo({ 'f.json': JSON.stringify({ ...file, suppressed: ['x', 3] }) });
    expect(() => runFuzzCommand(['--replay', 'f.json'], bad)).toThrow(/suppressed\[1\]/);
  });

  it('usage errors', () => {
    const io = fakeIo();
    expect(() => runFuzzCommand(['--runs', '5', '--time', '5'], io)).toThrow(UsageError);
    expect(() => runFuzzCommand(['--shard', '2/2'], io)).toThrow(UsageError);
    expect(() => runFuzzCommand(['--bogus'], io)).toThrow(UsageError);
    expect(() => runFuzzCommand(['--profile', 'nonsense'], io)).toThrow(UsageError);
    expect(() => runFuzzCommand(['--replay', 'missing.json'], io)).toThrow(InputError);
    // the counters exist only in the coverage build (dist/cov/fuzz-cov.js), not from source
    expect(() => runFuzzCommand(['--coverage', '--runs', '1'], io)).toThrow(/--coverage needs the coverage build/);
  });

  it('a campaign writes replayable finding files and a coverage summary; shards merge to the whole', () => {
    const io = fakeIo();
    const code = runFuzzCommand(['--profile', 'rfc-v4', '--runs', '10', '--out', 'out', '--json', '--no-baseline'], io, { mkdir: () => {} });
    const whole = JSON.parse(io.stdout) as { runs: number; execs: number; findings: { sig: string; file: string; known: boolean }[]; coverage: { fd: string; call: string; ok: boolean; errors: string[] }[] };
    expect(whole.runs).toBe(10);
    expect(whole.findings.length).toBeGreaterThan(0);
    // --no-baseline: every finding is new, exit 1
    expect(code).toBe(1);
    expect(whole.findings.every((f) => !f.known)).toBe(true);
    // the same campaign against the committed baseline: the review findings are known, exit 0
    const io2 = fakeIo();
    expect(runFuzzCommand(['--profile', 'rfc-v4', '--runs', '10', '--out', 'out', '--json'], io2, { mkdir: () => {} })).toBe(0);
    const based = JSON.parse(io2.stdout) as { findings: { sig: string; known: boolean }[]; baseline: { known: string[]; new: string[] } };
    expect(based.findings.map((f) => f.sig)).toEqual(whole.findings.map((f) => f.sig));
    expect(based.findings.every((f) => f.known)).toBe(true);
    expect(based.baseline.new).toEqual([]);
    // a baseline that lacks one of them: that one is new, exit 1 (signature-matched, not counted)
    const [first, ...others] = based.findings.map((f) => f.sig);
    const partial = { schema: 'vfio-arm-emu/fuzz-baseline/1', profiles: { 'patches:1-10': others.map((sig) => ({ sig, why: 'test' })) } };
    const io3 = fakeIo({ 'b.json': JSON.stringify(partial) });
    expect(runFuzzCommand(['--profile', 'rfc-v4', '--runs', '10', '--out', 'out', '--baseline', 'b.json'], io3, { mkdir: () => {} })).toBe(1);
    expect(io3.stdout).toContain(`${first} [NEW]`);
    expect(io3.stdout).toContain(`${others.length} known finding(s) (baseline b.json), 1 new: ${first}`);
    for (const f of whole.findings) {
      expect(f.file).toMatch(/^out\/rfc-v4-.*\.json$/);
      const file = JSON.parse(io.files[f.file]!) as FindingFile;
      expect(runProgram(file.profile, file.program).finding?.sig).toBe(f.sig);
    }
    expect(whole.coverage.map((r) => `${r.fd}:${r.call}`)).toContain('device:VFIO_DEVICE_GET_REGION_INFO');
    // shards of a mainline campaign merge to the unsharded result
    const run = (extra: string[]): typeof whole => {
      const o = fakeIo();
      expect(runFuzzCommand(['--profile', 'mainline', '--runs', '40', '--json', ...extra], o, { mkdir: () => {} })).toBe(0);
      return JSON.parse(o.stdout) as typeof whole;
    };
    const all = run([]);
    const parts = [run(['--shard', '0/2']), run(['--shard', '1/2'])];
    expect(parts[0]!.runs + parts[1]!.runs).toBe(40);
    expect(parts[0]!.execs + parts[1]!.execs).toBe(all.execs);
    const merged = all.coverage.map((r) => {
      const a = parts[0]!.coverage.find((x) => x.fd === r.fd && x.call === r.call)!;
      const b = parts[1]!.coverage.find((x) => x.fd === r.fd && x.call === r.call)!;
      return { ...r, ok: a.ok || b.ok, errors: [...new Set([...a.errors, ...b.errors])].sort() };
    });
    expect(merged).toEqual(all.coverage.map((r) => ({ ...r, errors: [...r.errors].sort() })));
  });

  it('finding files are written as the slices end, not at the end of the campaign (a campaign stopped early keeps them)', () => {
    // the order of the CLI's writes and progress lines
    const log: string[] = [];
    const io = fakeIo();
    const write = io.writeFile;
    io.writeFile = (p, d) => {
      log.push(`write ${p}`);
      write(p, d);
    };
    io.err = (x) => void log.push(`err ${x.trim()}`);
    let dirs = 0;
    expect(runFuzzCommand(['--profile', 'rfc-v4', '--runs', '100', '--out', 'early'], io, { mkdir: () => void dirs++, workerFile: null })).toBe(0);
    const firstWrite = log.findIndex((l) => /^write early\/rfc-v4-.*\.json$/.test(l));
    const lastProgress = log.map((l) => l.startsWith('err fuzz: ')).lastIndexOf(true);
    expect(firstWrite).toBeGreaterThanOrEqual(0);
    expect(log[lastProgress]).toMatch(/^err fuzz: 100%/);
    // written while slices were still running: before the progress lines of later slices
    expect(firstWrite).toBeLessThan(lastProgress);
    expect(dirs).toBe(1);
    // one file (and its C reproducer) per signature, each written once: slices arrive in order in one job
    const jsons = log.filter((l) => /^write early\/.*\.json$/.test(l));
    expect(new Set(jsons).size).toBe(jsons.length);
    // the summary lists the files, and each holds the merged finding of its signature
    for (const j of jsons) expect(io.stdout).toContain(j.slice('write '.length));
  });

  it('a finding file that cannot be written mid-campaign (a full disk): a note, the campaign goes on, the finding stays in the summary', () => {
    const io = fakeIo();
    let fails = 0;
    io.writeFile = (p) => {
      fails++;
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${p}'`), { code: 'ENOSPC' });
    };
    expect(runFuzzCommand(['--profile', 'rfc-v4', '--runs', '50', '--out', 'full', '--json'], io, { mkdir: () => {}, workerFile: null })).toBe(0);
    const out = JSON.parse(io.stdout) as { runs: number; findings: { sig: string; file: string | null; reproducer: string | null }[] };
    expect(out.runs).toBe(50);
    expect(out.findings.length).toBeGreaterThan(0);
    expect(out.findings.every((f) => f.file === null && f.reproducer === null)).toBe(true);
    expect(fails).toBeGreaterThanOrEqual(out.findings.length);
    expect(io.stderr).toMatch(/^fuzz: cannot write finding file full\/rfc-v4-.*\.json: ENOSPC; the finding stays in the summary$/m);
    // anything else thrown is a bug, not the disk: it still ends the campaign
    const bad = fakeIo();
    bad.writeFile = () => {
      throw new TypeError('not a disk problem');
    };
    expect(() => runFuzzCommand(['--profile', 'rfc-v4', '--runs', '25', '--out', 'x'], bad, { mkdir: () => {}, workerFile: null })).toThrow(/not a disk problem/);
  });

  it('--json has the timeline: syscalls so far at the first slice result of each host second', () => {
    const t = new Timeline();
    t.add(100, 10);
    t.add(50, 500);
    t.add(30, 1000);
    t.add(5, 3500.4);
    t.add(1, 3999);
    t.add(2, 4000);
    expect(t.points).toEqual([[10, 100], [1000, 180], [3500, 185], [4000, 188]]);
    // a --time campaign on a clock that advances 0.3 s per reading: the points are in distinct
    // seconds, increasing, and end at or below the campaign's syscalls
    let clock = 0;
    const io = fakeIo();
    expect(runFuzzCommand(['--profile', 'mainline', '--time', '3', '--json'], io, { mkdir: () => {}, workerFile: null, now: () => (clock += 300) })).toBe(0);
    const out = JSON.parse(io.stdout) as { execs: number; timeline: [number, number][]; peakRssMb: number };
    // this process's peak resident set so far, in MiB
    expect(out.peakRssMb).toBeGreaterThan(1);
    expect(out.peakRssMb).toBeLessThanOrEqual(process.resourceUsage().maxRSS / 1024 + 0.1);
    expect(out.timeline.length).toBeGreaterThanOrEqual(3);
    const secs = out.timeline.map(([ms]) => Math.floor(ms / 1000));
    expect(new Set(secs).size).toBe(secs.length);
    for (let i = 1; i < out.timeline.length; i++) {
      expect(out.timeline[i]![0]).toBeGreaterThan(out.timeline[i - 1]![0]);
      expect(out.timeline[i]![1]).toBeGreaterThan(out.timeline[i - 1]![1]);
    }
    expect(out.timeline.at(-1)![1]).toBeLessThanOrEqual(out.execs);
    expect(out.timeline[0]![1]).toBeGreaterThan(0);
  });

  describe('--jobs with the bundled worker', () => {
    let dir: string;
    beforeAll(async () => {
      // a directory directly under the repository, like dist/, so the bundle finds emulator/boards
      mkdirSync('.scratch', { recursive: true });
      dir = resolve('.scratch');
      await build({ entryPoints: ['tools/fuzz/worker.ts'], outfile: join(dir, `fuzz-worker-${process.pid}.js`), bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['koffi'], logLevel: 'error', banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
    });
    afterAll(() => rmSync(join(dir, `fuzz-worker-${process.pid}.js`), { force: true }));

    it('two jobs (child processes) give the same merged result as one in-process job', () => {
      const run = (jobs: string, workerFile: string | null): { runs: number; execs: number; findings: { sig: string; calls: string[] }[]; coverage: unknown } => {
        const io = fakeIo();
        runFuzzCommand(['--profile', 'mainline', '--runs', '30', '--json', '--jobs', jobs], io, { mkdir: () => {}, workerFile });
        const j = JSON.parse(io.stdout);
        return { runs: j.runs, execs: j.execs, findings: j.findings, coverage: j.coverage };
      };
      const one = run('1', null);
      const two = run('2', join(dir, `fuzz-worker-${process.pid}.js`));
      expect(two).toEqual(one);
      expect(readFileSync(join(dir, `fuzz-worker-${process.pid}.js`), 'utf8').length).toBeGreaterThan(1000);
    });
  });
});

describe('bench', () => {
  it('fuzzRateDetail reports syscalls and runs per second', () => {
    const r = fuzzRateDetail({ runs: 4, warmupRuns: 2 });
    expect(r.runs).toBe(4);
    expect(r.execs).toBeGreaterThan(4 * 5);
    expect(r.execsPerSec).toBeGreaterThan(0);
    expect(r.execsPerSec).toBeCloseTo(r.execs / (r.ms / 1000), 6);
  });

  it('fuzzRateCurve measures the same runs cold and after the warm-up', () => {
    const c = fuzzRateCurve(4, 12, 'mainline', 2);
    expect(c.cold.runs).toBe(4);
    expect(c.steady.runs).toBe(4);
    // the same seed-1 programs both times: only the JIT's state differs
    expect(c.steady.execs).toBe(c.cold.execs);
    expect(c.steady.execsPerSec).toBeGreaterThan(0);
  });
});

describe('progress output (issue 18)', () => {
  it('counts unique findings, and prints 100% once even when slices finish after --time ran out', () => {
    const io = fakeIo();
    const p = new Progress(io, 0, 1000);
    p.update(25, ['a', 'a', 'b'], 500);
    p.update(25, ['a', 'b', 'b', 'b'], 1000);
    // workers still finishing their slices after the time is up
    p.update(25, ['a'], 1200);
    p.update(25, ['c'], 1300);
    p.end();
    const lines = io.stderr.trim().split('\n');
    expect(lines).toEqual(['fuzz: 50% (25 runs, 2 unique findings so far)', 'fuzz: 100% (50 runs, 2 unique findings so far)']);
  });

  it('a --jobs count beyond the host CPUs runs one worker per CPU, with a note', () => {
    const io = fakeIo();
    runFuzzCommand(['--runs', '1', '--jobs', '8', '--profile', 'mainline'], io, { cpus: 2, workerFile: null, mkdir: () => {} });
    expect(io.stderr).toMatch(/fuzz: --jobs 8 on a host with 2 CPU\(s\): running 2 worker\(s\)/);
  });
});
