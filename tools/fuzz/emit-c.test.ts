/**
 * C reproducers (issue 22): every baseline finding of every profile has a finding file in
 * tools/fuzz/findings/ (written by `fuzz --profile rfc-v4 --seed 1 --runs 400 --out`; the
 * group notifier's BUG, which campaigns rarely reach, shrunk by hand from fuzz-ownership.test.ts), its
 * program is emitted as C (tools/fuzz/emit-c.ts), built with guest-tests/c/build.sh and run
 * on the Unicorn backend in that profile; the program's verdict line must name the signature
 * the TypeScript harness gives for the same program, with the same evidence.
 *
 * The findings of two processes (a fork: the 3.14 locked_vm accounting, `locked-vm` and
 * `leak-locked-vm`) are reproduced by programs of several processes (a coordinator and one
 * worker per harness slot, the fork a clone with CLONE_PARENT, P2 a setuid(1000)); their
 * evidence is the VmLck line of /proc/self/status in the process the harness named, and the
 * same programs on mainline, which uncharges the mapping's own mm, print NOT REPRODUCED.
 *
 * Why stored finding files rather than re-running the campaign's seed: the campaign's random
 * stream changes whenever an arbitrary or the run length changes (other work on tools/fuzz
 * does that), and the shrunk programs would then differ; the files are small, replayable by
 * `fuzz --replay`, and the test checks that each still gives its signature in the model.
 *
 * How a Unicorn run maps to a signature: the program's last line "REPRODUCED <sig>..."
 * (exit status 1), and the evidence the harness reported: an Oops: the kernel log's
 * "Unable to handle kernel ..." line equals the harness's message and the process that made
 * the call ended with status 139; a leak: the bytes the program prints equal the harness's;
 * a DMA finding: the PL330's transfer at the IOVA the harness named completed; locked_vm: the
 * VmLck the program read is the harness's locked_vm of that process.
 *
 * The Unicorn part is skipped only on a developer machine without libunicorn2 or the cross
 * compiler; in CI (CI set) it runs.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { GUEST_BUILD_DIR, GUEST_C_DIR, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runCli } from '../cli/main.js';
import { memoryIo } from '../cli/testing/memory-io.js';
import { tempDir } from '../testing/tmp.js';
import { runElf, type UnicornRunResult } from '../unicorn/run.js';
import { loadBaseline, matchBaseline } from './baseline.js';
import { replaySuppressed, runFuzzCommand } from './cli.js';
import { EmitError, dmaTarget, emitC, emitFinding, type EmitResult } from './emit-c.js';
import { runProgram } from './engine.js';
import fc from 'fast-check';
import { SETUP_PREFIX, callArb } from './arb.js';
import { validateFindingFile, type FindingFile } from './schema.js';
import { DEFAULT_SUPPRESSIONS, FUZZ_BOARD } from './harness.js';
import { VFIO_REQS, type Call, type IoctlArg } from './program.js';

const DIR = fileURLToPath(new URL('./findings/', import.meta.url));
const allFixtures: { name: string; file: FindingFile }[] = readdirSync(DIR)
  .filter((n) => n.endsWith('.json'))
  .sort()
  .map((n) => ({ name: n.slice(0, -5), file: validateFindingFile(JSON.parse(readFileSync(join(DIR, n), 'utf8'))) }));
/** the finding files: every one has a C reproducer */
const fixtures = allFixtures;
/** those of the 3.14 locked_vm accounting: programs of two processes (a fork) */
const forkFixtures = allFixtures.filter((f) => f.file.program.some((c) => c.op === 'fork') && f.file.sig !== 'dma-stale-page');
/** those of 3.14's copy-on-write of a pinned page at fork: a fork, then the parent's store */
const staleFixtures = allFixtures.filter((f) => f.file.sig === 'dma-stale-page');

const noAddr = (s: string): string => s.replace(/0x[0-9a-f]{8}/g, '0x<addr>');

/**
 * A mainline program around IOMMU_FAULT_QUEUE_ALLOC: the fault fd's answers (read 0 or -ESPIPE,
 * write -EINVAL or the positive remainder of an unreadable response, pread -ESPIPE, poll,
 * ioctl -ENOTTY), DESTROY -EBUSY while it is open, the context kept by it after the iommufd's
 * close; `any` references that count the fault fd among the program's fds
 */
const faultArg = (flags: number): IoctlArg => ({ t: 'struct', type: 'iommu_fault_alloc', fields: { argsz: 16, flags, out_fault_id: 0, out_fault_fd: 0 }, ptr: 'ok' });
const FQ = { k: 'fault' as const, i: 0 };
const FAULT_PROGRAM: Call[] = [
  { op: 'open', p: 0, path: '/dev/iommu', flags: 2 },
  { op: 'ioctl', p: 0, fd: { k: 'iommufd', i: 0 }, req: 0x3b8e, arg: faultArg(1) },
  { op: 'ioctl', p: 0, fd: { k: 'iommufd', i: 0 }, req: 0x3b8e, arg: faultArg(0) },
  { op: 'ioctl', p: 0, fd: { k: 'iommufd', i: 0 }, req: 0x3b80, arg: { t: 'struct', type: 'iommu_destroy', fields: { argsz: 8, id: 1 }, ptr: 'ok' } },
  { op: 'read', p: 0, fd: FQ, count: 40, ptr: 'ok' },
  { op: 'read', p: 0, fd: FQ, count: 41, ptr: 'ok' },
  { op: 'write', p: 0, fd: FQ, count: 8, ptr: 'ok' },
  { op: 'write', p: 0, fd: FQ, count: 16, ptr: 'unmapped' },
  { op: 'pread', p: 0, fd: FQ, off: { region: 0, off: 0 }, count: 40, ptr: 'ok' },
  { op: 'poll', p: 0, fds: [FQ, { k: 'iommufd', i: 0 }], events: 5 },
  { op: 'ioctl', p: 0, fd: FQ, req: 0x3b80, arg: { t: 'int', v: 0 } },
  { op: 'read', p: 0, fd: { k: 'any', i: 1 }, count: 80, ptr: 'ok' },
  { op: 'close', p: 0, fd: { k: 'iommufd', i: 0 } },
  { op: 'read', p: 0, fd: FQ, count: 40, ptr: 'ok' },
  { op: 'ioctl', p: 0, fd: { k: 'iommufd', i: 0 }, req: 0x3b8e, arg: faultArg(0) },
  { op: 'close', p: 0, fd: FQ },
];
const verdict = (stdout: string): string => stdout.trimEnd().split('\n').at(-1) ?? '';

describe('C reproducers: emitting', () => {
  it('every baseline finding of every profile has a finding file (tools/fuzz/findings/)', () => {
    const b = loadBaseline();
    for (const [profile, entries] of Object.entries(b.profiles)) {
      const sigs = allFixtures.filter((f) => f.file.profile === profile).map((f) => f.file.sig);
      for (const e of entries) {
        const covered = sigs.some((s) => matchBaseline({ ...b, profiles: { [profile]: [e] } }, profile, [s]).known.size > 0);
        expect(covered, `${profile}: ${e.sig} has a finding file`).toBe(true);
      }
    }
    expect(fixtures.length).toBeGreaterThanOrEqual(7);
  });

  it('each finding file still gives its signature in the TypeScript harness, and its C names the finding, its review citation, and uses only <linux/vfio.h> and libc', () => {
    for (const { name, file } of fixtures) {
      const r = emitFinding(file, `tools/fuzz/findings/${name}.json`);
      expect(r.sig, name).toBe(file.sig);
      expect(r.c).toContain(`Reproducer of the fuzz finding "${file.sig}" on profile ${file.profile}`);
      expect(r.c).toMatch(/Known finding: review finding|Known finding: patch 10|Known finding: MAP_DMA|Known finding: a host driver bound|Known finding: patch 04's vfio_bind|Known finding: patch 09's interrupt handler|Known finding: 3\.14 type1 uncharges locked_vm|Known finding: the same 3\.14 accounting at exit|Known finding: 3\.14's fork shares a DMA-pinned page/);
      const includes = [...r.c.matchAll(/^#include <([^>]+)>/gm)].map((m) => m[1]!);
      expect(includes.filter((h) => h.startsWith('linux/'))).toEqual(['linux/vfio.h']);
      expect(includes.every((h) => h === 'linux/vfio.h' || !h.includes('vfio'))).toBe(true);
      expect(r.c).toContain(`#define SIG "${file.sig}"`);
    }
  });

  it('the finding files that fork replay to their signature (with the suppressions they record), not on mainline, and their C forks with CLONE_PARENT and checks VmLck', () => {
    expect(forkFixtures.map((f) => f.file.sig).sort()).toEqual(['leak-locked-vm', 'leak-locked-vm', 'leak-locked-vm', 'locked-vm', 'locked-vm', 'locked-vm']);
    for (const { name, file } of forkFixtures) {
      expect(runProgram(file.profile, file.program, { ignore: replaySuppressed(file) }).finding?.sig, name).toBe(file.sig);
      // and not on mainline, which uncharges the mapping's own mm
      expect(runProgram('mainline', file.program, { ignore: replaySuppressed(file) }).finding?.sig ?? null, name).not.toBe(file.sig);
      const r = emitFinding(file);
      expect(r.check, name).toBe('locked-vm');
      expect(r.c, name).toMatch(/\t\trc = fork_into\([12], 1\);\n\t\tif \(became\) return 0;/);
      expect(r.c, name).toContain(`#define END_CHECK ${file.sig === 'leak-locked-vm' ? 1 : 0} `);
    }
  });

  it('the check follows the signature; a program that runs clean gets no REPRODUCED path of its own', () => {
    const kinds = Object.fromEntries(fixtures.map(({ file }) => [file.sig, emitFinding(file).check]));
    expect(kinds).toEqual({
      'dma-stale-page': 'dma-probe',
      'dma-unmapped': 'dma-probe',
      'leak-locked-vm': 'locked-vm',
      'locked-vm': 'locked-vm',
      'oops:bug:vfio_iommu_group_notifier': 'oops',
      'oops:ioctl:VFIO_DEVICE_GET_REGION_INFO': 'oops',
      'oops:ioctl:VFIO_DEVICE_SET_IRQS': 'oops',
      'oops:pread': 'oops',
      'oops:pwrite': 'oops',
      'oops:raw:180': 'oops',
      ownership: 'ownership',
      'region-info-leak': 'region-info',
      'rw-offset-mismatch': 'read-oracle',
    });
    const clean = emitC({ profile: 'mainline', program: fixtures.find((f) => f.file.sig === 'region-info-leak')!.file.program });
    expect(clean.sig).toBeNull();
    expect(clean.check).toBe('unchecked');
    expect(clean.c).toContain('the model finds nothing in this program');
  });

  it('IOMMU_FAULT_QUEUE_ALLOC: the struct field by field, the request by number, and the fd it answers tracked as a fault fd (out_fault_fd)', () => {
    const r = emitC({ profile: 'mainline', program: FAULT_PROGRAM });
    expect(r.sig).toBeNull();
    expect(r.c).toContain('/* struct iommu_fault_alloc */');
    expect(r.c).toContain('*(uint32_t *)(scratch + 4) = (uint32_t)0x0ULL; /* flags */');
    expect(r.c).toContain('rc = ret(ioctl(fd_of(K_IOMMUFD, 0u), 0x3b8eu /* IOMMU_FAULT_QUEUE_ALLOC */, scratch));');
    // once per successful call with the struct in the scratch buffer
    expect(r.c.split('\t\tif (rc == 0) track(*(uint32_t *)(scratch + 12), K_FAULT); /* out_fault_fd */').length - 1).toBe(FAULT_PROGRAM.filter((c) => c.op === 'ioctl' && c.req === 0x3b8e).length);
    expect(r.c).toContain('fd_of(K_FAULT, 0u)');
  });

  it('plans one process per slot and call: fresh at first use, after an exit, a death or a failed fork; a fork child takes the other slot; P2 cannot fork into root\'s slots', () => {
    const r = emitC({ profile: 'rfc-v4', program: [...SETUP_PREFIX, { op: 'close', p: 1, fd: { k: 'any', i: 0 } }, { op: 'fork', p: 0, into: 2 }, { op: 'exit', p: 2 }, { op: 'close', p: 2, fd: { k: 'any', i: 0 } }, { op: 'fork', p: 2, into: 2 }] });
    const plan = [...r.c.matchAll(/^\t\{ (A_\w+), (\d+), (\d+), (\d+), (\d+), (\d+) \}, \/\* call (\d+) \*\/$/gm)].map((m) => m.slice(1, 7).join(' '));
    expect(plan).toEqual([
      ...SETUP_PREFIX.map(() => 'A_CALL 0 0 0 0 0'),
      'A_CALL 1 1 0 0 0', // P1's first call: a fresh process
      'A_FORK 0 0 2 2 0', // P0's child becomes P2 (incarnation 2)
      'A_COORD 2 0 0 0 0', // P2 exits (the coordinator ends it)
      'A_CALL 2 3 0 0 0', // P2's next call: a fresh process
      'A_CALL 2 3 0 0 0', // a fork into its own slot: nothing
    ]);
    expect(r.c).toContain('#define NINC 4 ');
    expect(r.c).toContain('\t\trc = 0; end_slot(2);');
    expect(() => emitC({ profile: 'rfc-v4', program: [...SETUP_PREFIX, { op: 'fork', p: 2, into: 0 }] })).toThrow(/call 5 forks P2 \(uid 1000\) into P0: a process of uid 1000 cannot take root's credentials/);
    expect(() => emitC({ profile: 'rfc-v4', program: [{ op: 'fork', p: 5, into: 1 }] })).toThrow(EmitError);
  });

  it('fuzz --replay FILE --emit-c - prints the C program (exit 0); --emit-c FILE writes it and replays; usage errors', () => {
    const f = fixtures.find((x) => x.file.sig === 'oops:pread')!;
    const text = JSON.stringify(f.file);
    const io = memoryIo({ 'f.json': text });
    expect(runFuzzCommand(['--replay', 'f.json', '--emit-c', '-'], io)).toBe(0);
    expect(io.o).toBe(emitFinding(f.file, 'f.json').c);
    const io2 = memoryIo({ 'f.json': text });
    expect(runFuzzCommand(['--replay', 'f.json', '--emit-c', 'out.c'], io2)).toBe(0);
    expect(io2.files['out.c']).toBe(io.o);
    expect(io2.o).toMatch(/REPRODUCED: oops:pread\n[^]*C reproducer: out\.c\n$/);
    expect(() => runFuzzCommand(['--emit-c', 'x.c'], memoryIo())).toThrow(/--emit-c needs --replay FILE/);
    expect(() => runFuzzCommand(['--replay', 'f.json', '--emit-c', '-', '--json'], memoryIo({ 'f.json': text }))).toThrow(/both write to stdout/);
  });

  it('a campaign with --out writes a .c next to each finding file (text and --json)', async () => {
    const out = tempDir('emit-c-out');
    const io = memoryIo();
    await runCli(['fuzz', '--profile', 'rfc-v4', '--runs', '10', '--json', '--out', out], io);
    const j = JSON.parse(io.o) as { findings: { sig: string; file: string; reproducer: string | null }[] };
    expect(j.findings.length).toBeGreaterThan(0);
    for (const f of j.findings) {
      expect(f.reproducer).toBe(f.file.replace(/\.json$/, '.c'));
      expect(io.files[f.reproducer!]).toBe(emitFinding(JSON.parse(io.files[f.file]!) as FindingFile, f.file).c);
    }
  });
});

/** C sources by fixture name, built once (binaries cached by content hash under guest-tests/c/build/fuzz-repro) */
function buildAll(progs: { name: string; c: string }[]): Record<string, string> {
  const outDir = join(GUEST_BUILD_DIR, 'fuzz-repro');
  mkdirSync(outDir, { recursive: true });
  const stage = tempDir('emit-c-src');
  const bins: Record<string, string> = {};
  let stale = 0;
  for (const p of progs) {
    const bin = `${p.name}-${createHash('sha256').update(p.c).digest('hex').slice(0, 12)}`;
    bins[p.name] = join(outDir, bin);
    if (!existsSync(bins[p.name]!)) {
      writeFileSync(join(stage, `${bin}.c`), p.c);
      stale++;
    }
  }
  if (stale) execFileSync(join(GUEST_C_DIR, 'build.sh'), [outDir, stage], { stdio: ['ignore', 'ignore', 'inherit'] });
  return bins;
}

describe.skipIf(shouldSkipUnicornTests())('C reproducers on the Unicorn backend', () => {
  const emitted = new Map<string, EmitResult>();
  let bins: Record<string, string> = {};
  // negative controls (the checks can fail): one argument of the faulting call changed, in the
  // program (the harness: no finding) and in the emitted C alike (the program: NOT REPRODUCED)
  const controls: { name: string; what: string; prog: (p: Call[]) => void; c: [string, string] }[] = [
    { name: 'rfc-v4-oops_pread', what: 'pread at region 0 + 0 (inside the ioremap even scaled by 4)', prog: (p) => { (p[5] as { off: unknown }).off = { region: 0, off: 0 }; }, c: ['(off_t)0x2c0a03fcULL', '(off_t)0x2c0a0000ULL'] },
    { name: 'rfc-v4-region-info-leak', what: 'GET_REGION_INFO of region 0, which exists', prog: (p) => { ((p[5] as { arg: { fields: Record<string, unknown> } }).arg.fields)['index'] = 0; }, c: ['s->index = (uint32_t)0x8ULL;', 's->index = (uint32_t)0x0ULL;'] },
    { name: 'rfc-v4-dma-unmapped', what: 'MAP_DMA with READ instead of EXEC: the write at IOVA 0 faults', prog: (p) => { ((p[5] as { arg: { fields: Record<string, unknown> } }).arg.fields)['flags'] = 1; }, c: ['s->flags = (uint32_t)0x4ULL;', 's->flags = (uint32_t)0x1ULL;'] },
    { name: 'rfc-v4-ownership', what: 'drivers_probe of a device name the bus does not have: nothing binds the unbound PL330', prog: (p) => { (p[4] as { value: string }).value = '2c0a0000.dmx'; }, c: ['echo("/sys/bus/platform/drivers_probe", "2c0a0000.dma")', 'echo("/sys/bus/platform/drivers_probe", "2c0a0000.dmx")'] },
  ];
  beforeAll(() => {
    for (const { name, file } of fixtures) emitted.set(name, emitFinding(file, `tools/fuzz/findings/${name}.json`));
    const progs = [...emitted].map(([name, r]) => ({ name, c: r.c }));
    for (const k of controls) {
      const c = emitted.get(k.name)!.c;
      expect(c, k.name).toContain(k.c[0]);
      progs.push({ name: `${k.name}-control`, c: c.replace(k.c[0], k.c[1]) });
    }
    bins = buildAll(progs);
    // a clean checkout compiles every reproducer here (guest-tests/c/build.sh); under load 10+ on
    // 2 cores that took over the 60-s hook default (three helpers' full suites, 2026-12-08), so
    // the compile gets its own bound: a build, not a behaviour, is what this hook times
  }, 240_000);

  // the fuzzer's board (two IOMMU groups: the PL330's and test-dma's), as the harness's
  const run = (name: string, profile: string): UnicornRunResult => runElf({ elf: bins[name]!, argv0: 'repro', profile, board: FUZZ_BOARD, bind: null });

  it.each(fixtures.map((f) => [f.name, f.file] as const))('%s: the program reproduces the harness\'s signature with its evidence', (name, file) => {
    const r = emitted.get(name)!;
    const u = run(name, file.profile);
    // the kernel log's Oops line is the harness's message; the process that made the call died (139)
    // kernel addresses (kmalloc'd arrays, the faulting address past them) depend on what was allocated before: compared without them
    const oopsEvidence = (): void => {
      const oops = u.kernelLog.filter((l) => /Unable to handle kernel .* \(process repro\[\d+\]\)$/.test(l)).map((l) => noAddr(l.replace(/^\[[ \d.]+\] /, '').replace(/ \(process repro\[\d+\]\)$/, '')));
      expect(oops).toEqual([noAddr(r.finding!.message)]);
      expect(u.processes.filter((p) => p.status === 139)).toHaveLength(1);
    };
    if (r.sig!.startsWith('oops:bug:')) {
      // a kernel BUG(): the model stops the machine once the BUG has killed the caller
      // (tools/system/system.ts, Vfio's bug hook: a model choice the scenario goldens record),
      // so the parent never prints its line here; on a board the parent sees the child killed
      // inside the call and prints REPRODUCED (the C's check is the one of every Oops). Evidence:
      // the calls before the faulting one, the stop naming the BUG, the BUG report, the Oops line and the caller's 139
      expect((u.stdout.match(/^call \d+ = /gm) ?? []).length, u.stdout).toBe(r.finding!.step);
      expect(u.stdout).not.toContain('differs from the model');
      expect(u.exitReport).toMatch(new RegExp(`^repro: did not exit: the machine stopped the run: kernel BUG: ${r.sig!.slice('oops:bug:'.length)}: `));
      expect(u.kernelLog.some((l) => l.endsWith('kernel BUG at drivers/vfio/vfio.c!'))).toBe(true);
      oopsEvidence();
      expect(u.bind).toBeNull();
      expect(r.c).toContain(`#define OOPS_AT ${r.finding!.step} `);
      return;
    }
    expect(verdict(u.stdout), u.stdout + u.exitReport).toMatch(new RegExp(`^REPRODUCED ${r.sig!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:|$)`));
    expect(u.exitStatus).toBe(1);
    // nobody bound the device before (bind: null): the program's own sysfs writes did
    expect(u.bind).toBeNull();
    const msg = r.finding!.message;
    switch (r.check) {
      case 'oops':
        oopsEvidence();
        break;
      case 'region-info':
        expect(u.stdout).toContain(`leak: ${msg}\n`);
        break;
      case 'read-oracle':
        expect(u.stdout).toContain(`mismatch: ${msg}\n`);
        break;
      case 'dma-probe': {
        const t = dmaTarget(msg)!;
        expect(t, msg).not.toBeNull();
        expect(u.stdout).toContain(`DMA probe: the device's ${t.write ? 'write' : 'read'} at iova 0x${t.iova.toString(16)} completed without a fault`);
        // the page the parent writes is not the page the device reads (the pinned one, which the fork child kept)
        if (r.sig === 'dma-stale-page') expect(u.stdout).toContain(`DMA probe: the device's read at iova 0x${t.iova.toString(16)} completed without a fault but did not read the mapped page\n`);
        break;
      }
      case 'ownership': {
        // the harness: "group G is in a user space container and its device D (DRV) is bound to a host driver"
        const m = /^group (\d+) is in a user space container and its device (\S+) \((\S+)\) is bound to a host driver$/.exec(msg);
        expect(m, msg).not.toBeNull();
        // GET_STATUS flags 0x3: VIABLE (3.14 still calls the group viable) and CONTAINER_SET
        expect(u.stdout).toContain(`ownership: group ${m![1]} is in a user space container (GET_STATUS flags 0x3) and its device ${m![2]} is bound to the host driver ${m![3]}\n`);
        break;
      }
      case 'locked-vm': {
        // the harness: "fuzzS.PID: locked_vm N pages, the live mappings account M" or "fuzzS.PID: locked_vm N after exit";
        // the program: P<S>'s VmLck (locked_vm in kB) against M pages (0 for the leak)
        const m = /^fuzz(\d+)\.\d+: locked_vm (-?\d+)(?: pages, the live mappings account (-?\d+)| after exit)$/.exec(msg);
        expect(m, msg).not.toBeNull();
        const kb = (BigInt(m![2]!) * 4n) & 0xffffffffn;
        const want = BigInt(m![3] ?? 0) * 4n;
        expect(u.stdout).toContain(`locked_vm: P${m![1]}'s VmLck is ${kb} kB${r.sig === 'leak-locked-vm' ? ' after every process closed its fds and unmapped its mappings' : ''}, but its live DMA mappings lock ${want} kB\n`);
        // two processes made the calls (P0 and its fork child, both the coordinator's children: CLONE_PARENT), and exited normally
        expect(u.processes.map((p) => p.status).sort()).toEqual([0, 0, 1]);
        break;
      }
      default:
        throw new Error(`no evidence check for ${r.check}`);
    }
    // every call before the faulting one returned what it returned in the model
    expect(u.stdout).not.toContain('differs from the model');
  });

  it.each(controls.map((k) => [k.name, k.what, k] as const))('%s with %s: NOT REPRODUCED, and the harness finds nothing either', (name, _what, k) => {
    const file = fixtures.find((f) => f.name === name)!.file;
    const prog = structuredClone(file.program) as Call[];
    k.prog(prog);
    expect(runProgram(file.profile, prog, { ignore: new Set(DEFAULT_SUPPRESSIONS) }).finding).toBeNull();
    const u = run(`${name}-control`, file.profile);
    expect(verdict(u.stdout), u.stdout).toBe(`NOT REPRODUCED ${file.sig}`);
    expect(u.exitStatus).toBe(0);
  });

  it('an rfc-v4 finding emitted for mainline (where the model runs it clean) checks the same signature and prints NOT REPRODUCED; the program binds the PL330 to vfio-amba itself', () => {
    const file = fixtures.find((f) => f.file.sig === 'region-info-leak')!.file;
    const r = emitFinding({ ...file, profile: 'mainline' });
    expect(r.sig).toBeNull();
    expect(r.check).toBe('region-info');
    expect(r.c).toContain('bind_device("amba", "2c0a0000.dma", "vfio-amba");');
    expect(r.c).toContain('snprintf(p, sizeof p, "/sys/bus/%s/devices/%s/driver_override", bus, dev);');
    const [bin] = Object.values(buildAll([{ name: 'mainline-region-info-leak', c: r.c }]));
    const u = runElf({ elf: bin!, argv0: 'repro', profile: 'mainline', board: FUZZ_BOARD, bind: null });
    expect(u.stdout).toContain('call 4 = 2\ncall 5 = -1 (errno 22, EINVAL)\n');
    expect(verdict(u.stdout)).toBe('NOT REPRODUCED region-info-leak');
    expect(u.exitStatus).toBe(0);
  });

  it('the rfc-v4 locked_vm findings emitted for mainline (which uncharges the mapping\'s own mm): the same two processes, NOT REPRODUCED, VmLck what the mappings lock', () => {
    const files = forkFixtures.filter((f) => f.file.profile === 'rfc-v4');
    expect(files.map((f) => f.file.sig).sort()).toEqual(['leak-locked-vm', 'locked-vm']);
    const rs = files.map((f) => ({ f, r: emitFinding({ ...f.file, profile: 'mainline' }) }));
    const built = buildAll(rs.map(({ f, r }) => ({ name: `mainline-${f.name}`, c: r.c })));
    for (const { f, r } of rs) {
      expect(r.sig, f.name).toBeNull();
      expect(r.check).toBe('locked-vm');
      const u = runElf({ elf: built[`mainline-${f.name}`]!, argv0: 'repro', profile: 'mainline', board: FUZZ_BOARD, bind: null });
      expect(u.stdout, f.name).not.toContain('differs from the model');
      expect(u.stdout, f.name).toContain(`P0: VmLck 0 kB, what its live DMA mappings lock\n`);
      expect(verdict(u.stdout), f.name).toBe(`NOT REPRODUCED ${f.file.sig}`);
      expect(u.exitStatus).toBe(0);
    }
  });

  it('dma-stale-page emitted with madvise(MADV_DONTFORK) on the DMA area before the fork (the 3.14 remedy), and emitted for mainline (which copies the pinned page for the child): the device reads the page the parent wrote, NOT REPRODUCED', () => {
    expect(staleFixtures.map((f) => f.file.profile).sort()).toEqual(['patches:1-7', 'patches:1-9', 'rfc-v4']);
    const file = staleFixtures.find((f) => f.file.profile === 'rfc-v4')!.file;
    const r = emitFinding(file);
    expect(r.check).toBe('dma-probe');
    const fork = /\t\trc = fork_into\(1, 1\);/;
    expect(r.c).toMatch(fork);
    const dontfork = r.c.replace(fork, '\t\tif (madvise(dma_area, 16 * PAGE, MADV_DONTFORK) != 0) return -1;\n$&');
    const ml = emitFinding({ ...file, profile: 'mainline' });
    expect(ml.sig).toBeNull();
    const built = buildAll([{ name: 'rfc-v4-dma-stale-page-dontfork', c: dontfork }, { name: 'mainline-dma-stale-page', c: ml.c }]);
    for (const [name, profile] of [['rfc-v4-dma-stale-page-dontfork', 'rfc-v4'], ['mainline-dma-stale-page', 'mainline']] as const) {
      const u = runElf({ elf: built[name]!, argv0: 'repro', profile, board: FUZZ_BOARD, bind: null });
      expect(u.stdout, name).not.toContain('differs from the model');
      expect(u.stdout, name).toContain("DMA probe: the device's read at iova 0x0 completed without a fault and read the mapped page\n");
      expect(verdict(u.stdout), name).toBe('NOT REPRODUCED dma-stale-page');
      expect(u.exitStatus, name).toBe(0);
    }
  });

  it('an Oops of the end-of-run exit (oops:exit) is checked after every call, at the exit: the former rfc-v4 one (a model error, fixed) exits clean, NOT REPRODUCED', () => {
    // set-up, a second device fd closed again, a trigger set through the first: the last
    // release frees the irq name twice (logged since the fix; it was a BUG Oops in the model)
    const program: Call[] = [
      ...SETUP_PREFIX,
      { op: 'eventfd', p: 0, init: 0, flags: 0x800 },
      SETUP_PREFIX[4]!,
      { op: 'close', p: 0, fd: { k: 'device', i: 1 } },
      { op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: VFIO_REQS.VFIO_DEVICE_SET_IRQS, arg: { t: 'struct', type: 'vfio_irq_set', fields: { argsz: 24, flags: 0x24, index: 0, start: 0, count: 1 }, tail: [{ fd: { k: 'eventfd', i: 0 } }], ptr: 'ok' } },
    ];
    expect(runProgram('rfc-v4', program, { ignore: new Set(DEFAULT_SUPPRESSIONS) }).finding).toBeNull();
    const r = emitC({ profile: 'rfc-v4', program, sig: 'oops:exit' });
    expect(r.sig).toBeNull();
    expect(r.check).toBe('oops');
    expect(r.c).toContain('#define AT_EXIT 1 ');
    expect(r.c).toContain('#define OOPS_AT -1 ');
    const [bin] = Object.values(buildAll([{ name: 'rfc-v4-exit', c: r.c }]));
    const u = runElf({ elf: bin!, argv0: 'repro', profile: 'rfc-v4', board: FUZZ_BOARD, bind: null });
    expect(u.stdout).not.toContain('differs from the model');
    expect(verdict(u.stdout)).toBe('NOT REPRODUCED oops:exit: every process made its calls and exited');
    expect(u.exitStatus).toBe(0);
    // the exit's release ran: the name freed twice, logged, no Oops
    expect(u.kernelLog.filter((l) => /Object already free: kfree\(0x[0-9a-f]+\) of irq->name of 2c0a0000\.dma irq 0 \(double free\)$/.test(l))).toHaveLength(1);
    expect(u.kernelLog.filter((l) => /Unable to handle kernel/.test(l))).toEqual([]);
  });

  it('random programs of all three processes, forks included (fixed seed): every call returns in C what it returns in the harness (errno, or success), and the verdict follows the model', () => {
    // raw fd numbers and the fds calls get are the harness's too: every worker closes its stdio first
    // the second half: P0 sets up and forks into P1 or P2, and the drawn calls move to that slot (P0's to the child's)
    const progs = fc.sample(fc.tuple(fc.boolean(), fc.array(callArb(), { minLength: 1, maxLength: 24 })), { seed: 5, numRuns: 8 })
      .map(([pre, rest], i): Call[] => {
        if (i < 4) return [...(pre ? SETUP_PREFIX : []), ...rest];
        const q = 1 + (i % 2);
        return [...SETUP_PREFIX, { op: 'fork', p: 0, into: q }, ...rest.map((c) => ('p' in c ? { ...c, p: (c.p + q) % 3, ...(c.op === 'fork' ? { into: (c.into + q) % 3 } : {}) } : c))];
      })
      // (a fork of P2 into root's slots cannot be reproduced: refused, as tested above)
      .map((prog) => prog.filter((c) => !(c.op === 'fork' && c.p % 3 === 2 && c.into % 3 !== 2)));
    expect(progs.flat().filter((c) => 'p' in c && c.p % 3 !== 0).length).toBeGreaterThan(30);
    expect(progs.flat().filter((c) => c.op === 'fork').length).toBeGreaterThanOrEqual(4);
    const rs = progs.map((program) => emitC({ profile: 'rfc-v4', program }));
    const built = buildAll(rs.map((r, i) => ({ name: `random-${i}`, c: r.c })));
    let calls = 0;
    rs.forEach((r, i) => {
      const u = runElf({ elf: built[`random-${i}`]!, argv0: 'repro', profile: 'rfc-v4', board: FUZZ_BOARD, bind: null });
      expect(u.stdout, `random-${i}`).not.toContain('differs from the model');
      calls += (u.stdout.match(/^call \d+ = /gm) ?? []).length;
      const v = verdict(u.stdout);
      // the model's own kills (the suppressed sub-word Oops) kill the worker too, and the slot's next call gets a fresh one
      if (r.sig) expect(v, `random-${i}`).toMatch(/^REPRODUCED /);
      else expect(v, `random-${i}`).toMatch(/^UNCHECKED none/);
    });
    expect(calls).toBeGreaterThan(40);
  });

  it('a program around IOMMU_FAULT_QUEUE_ALLOC (mainline): every call returns in C what it returns in the harness, the fault fds tracked', () => {
    const r = emitC({ profile: 'mainline', program: FAULT_PROGRAM });
    const { harness } = runProgram('mainline', FAULT_PROGRAM, { transcript: true });
    expect(harness.transcript.map((t) => t.ret)).toEqual(['0', '-EOPNOTSUPP', '0', '-EBUSY', '0', '-ESPIPE', '-EINVAL', '8', '-ESPIPE', '2', '-ENOTTY', '0', '0', '0', '-EBADF', '0']);
    const [bin] = Object.values(buildAll([{ name: 'mainline-fault-queue', c: r.c }]));
    const u = runElf({ elf: bin!, argv0: 'repro', profile: 'mainline', board: FUZZ_BOARD, bind: null });
    expect(u.stdout).not.toContain('differs from the model');
    expect((u.stdout.match(/^call \d+ = /gm) ?? []).length, u.stdout).toBe(FAULT_PROGRAM.length);
    expect(u.stdout).toContain('call 7 = 8\n');
    expect(verdict(u.stdout)).toMatch(/^UNCHECKED none/);
  });

  it('`run --cpu unicorn --elf` (the administrator binds first) gives the same verdict', async () => {
    const io = memoryIo();
    const code = await runCli(['run', '--cpu', 'unicorn', '--elf', bins['rfc-v4-region-info-leak']!, '--profile', 'rfc-v4', '--board', FUZZ_BOARD, '--json'], io);
    const j = JSON.parse(io.o) as { stdout: string; exitStatus: number };
    expect(verdict(j.stdout)).toBe('REPRODUCED region-info-leak');
    expect(j.exitStatus).toBe(1);
    expect(code).toBe(1);
  });
});
