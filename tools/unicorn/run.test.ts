import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { formatUnicornRun, pl330CPort, runElf, runPl330VfioTestStub, runPl330VfioTestUnicorn, type UnicornRunResult } from './run.js';

/**
 * Unmodified ARM binaries (guest-tests/c, static armhf glibc) as processes of the whole
 * system on the Unicorn backend. Skipped only on a developer machine without libunicorn2
 * or the cross compiler; in CI (CI set) they run and fail loudly.
 */
const skip = shouldSkipUnicornTests();

const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);
/** the only line whose text depends on the process layout: the region mmap's address */
const normalise = (ls: string[]): string[] => ls.map((l) => l.replace(/^( {2}- Successful MMAP to address )0x[0-9a-f]+$/, '$1<addr>'));

describe.skipIf(skip)('C pl330-vfio-test on the Unicorn backend', () => {
  let rfc: (UnicornRunResult & { passed: boolean }) | null = null;
  const rfcRun = (): UnicornRunResult & { passed: boolean } => (rfc ??= runPl330VfioTestUnicorn({ profile: 'rfc-v4' }));

  it('passes in rfc-v4 with the TypeScript scenario\'s output: destination equals source, one interrupt', () => {
    const r = rfcRun();
    const ts = runPl330VfioTestStub({ profile: 'rfc-v4' });
    expect(r.exitReport).toBe('pl330-vfio-test: exited with status 0');
    expect(r.exitStatus).toBe(0);
    expect(ts.exitStatus).toBe(0);
    expect(r.stdout).not.toContain('test failed!');
    expect(r.stdout).toContain('TRIGGER!\ndone!\nthe message is: transfer completed\n');
    const c = lines(r.stdout);
    expect(c.filter((l) => /^ {2}- Successful MMAP to address 0x[0-9a-f]+$/.test(l))).toHaveLength(1);
    expect(normalise(c)).toEqual(normalise(lines(ts.stdout)));
    // the last two lines print the first words of source and destination after the DMA
    const src = c.at(-2)!.split(': ')[1];
    expect(c.at(-1)).toBe(`destination value: ${src}`);
    expect(r.interrupts).toBe(1);
    expect(ts.interrupts).toBe(1);
    expect(r.passed).toBe(true);
    // real ARM code: an IRQ thread (clone + futex join), PL330 registers programmed by guest stores
    expect(r.threads).toBe(2);
    expect(r.mmioAccesses).toBeGreaterThan(10);
    expect(r.unknownSyscalls).toEqual({});
    expect(r.bind?.ok).toBe(true);
  });

  it('what a program observes does not depend on the quantum: comparing without waiting for the interrupt gives the same mismatches at 1k, 10k and 1M', () => {
    const runs = [1_000, 10_000, 1_000_000].map((quantum) => runPl330VfioTestUnicorn({ profile: 'rfc-v4', extraArgs: ['nowait'], quantum }));
    const first = runs[0]!;
    const mismatches = (r: UnicornRunResult): number => Number(/compared without waiting: (\d+) mismatches/.exec(r.stdout)?.[1]);
    expect(mismatches(first)).toBeGreaterThan(0); // the DMA is still running when the comparison starts
    expect(mismatches(first)).toBeLessThan(1024);
    for (const r of runs) {
      expect(r.exitStatus).toBe(0);
      expect(r.interrupts).toBe(1);
      expect(lines(r.stdout).filter((l) => l.startsWith('test failed!'))).toHaveLength(mismatches(first));
      expect(r.stdout).toBe(first.stdout);
      expect(r.instructions).toBe(first.instructions);
      expect(r.virtualTimeNs).toBe(first.virtualTimeNs);
      expect(r.syscallsByNr).toEqual(first.syscallsByNr);
    }
  });

  it('a program that never exits still reports the interrupts it received (sampled at the end of the run)', () => {
    const r = runPl330VfioTestUnicorn({ profile: 'rfc-v4', extraArgs: ['hang'], maxInstructions: 150_000 });
    expect(r.exitStatus).toBeNull();
    expect(r.exitReport).toContain('did not exit within the instruction limit');
    expect(r.stdout).toContain('TRIGGER!\ndone!\n');
    expect(r.interrupts).toBe(1);
  });

  it('fails where the matrix says: patches:1-3 (no vfio-platform: group not viable), patches:1,3-10 (EXEC rejected)', () => {
    for (const [profile, msg] of [
      ['patches:1-3', 'Group is not viable (not all devices bound for vfio)'],
      ['patches:1,3-10', 'Could not map DMA memory'],
      ['baseline', "Doesn't support the IOMMU driver we want"],
    ] as const) {
      const r = runPl330VfioTestUnicorn({ profile });
      const ts = runPl330VfioTestStub({ profile });
      expect(r.exitStatus, profile).toBe(1);
      expect(lines(r.stdout), profile).toEqual([msg]);
      expect(lines(r.stdout), profile).toEqual(lines(ts.stdout));
      expect(r.interrupts, profile).toBe(0);
      expect(r.passed, profile).toBe(false);
    }
  });

  it('at every other patch prefix the C port stops where the TypeScript scenario (and so the matrix) stops, with the same lines', () => {
    // 1-5/1-6: the region mmap fails (no "Successful MMAP" line; both programs go on, as the
    // original did, to IRQ_INFO); 1-7 IRQ info; 1-8 SET_IRQS; 1-9: the Oops in interrupt context (panic) stops the run
    for (const profile of ['patches:1', 'patches:1-2', 'patches:1-4', 'patches:1-5', 'patches:1-6', 'patches:1-7', 'patches:1-8', 'patches:1-10']) {
      const r = runPl330VfioTestUnicorn({ profile });
      const ts = runPl330VfioTestStub({ profile });
      expect(normalise(lines(r.stdout)), profile).toEqual(normalise(lines(ts.stdout)));
      expect(r.exitStatus, profile).toBe(ts.exitStatus);
      expect(r.passed, profile).toBe(profile === 'patches:1-10');
    }
    // patches:1-9: patch 09's handler Oopses in interrupt context and the kernel panics before
    // the program exits. glibc's stdout to a non-terminal is fully buffered and never flushed,
    // so (as on Linux) no line appears; the run report carries the panic instead of a bare
    // "time limit"
    const panic = runPl330VfioTestUnicorn({ profile: 'patches:1-9' });
    expect(panic.exitStatus).toBeNull();
    expect(panic.passed).toBe(false);
    expect(panic.exitReport).toMatch(/^pl330-vfio-test: did not exit: the machine stopped the run: Kernel panic - not syncing: Fatal exception in interrupt/);
  });

  it('is deterministic: two runs give the same trace digest, time and output', () => {
    const a = rfcRun();
    const b = runPl330VfioTestUnicorn({ profile: 'rfc-v4' });
    expect(b.traceSha256).toBe(a.traceSha256);
    expect(b.virtualTimeNs).toBe(a.virtualTimeNs);
    expect(b.instructions).toBe(a.instructions);
    expect(b.stdout).toBe(a.stdout);
    const c = runPl330VfioTestUnicorn({ profile: 'rfc-v4', seed: 2 });
    expect(c.exitStatus).toBe(0);
    expect(c.traceSha256).not.toBe(a.traceSha256); // the seed reaches the trace (AT_RANDOM, getrandom)
  });
});

/**
 * the VFIO ioctl(2) calls of a kept trace, in order: request number and return value (Unicorn
 * `syscall` events, nr 54, type ';'). glibc's own TCGETS on stdout (isatty for stdio buffering:
 * -ENOTTY, stdout is not a terminal) is not the program's.
 */
function ioctlsOf(r: UnicornRunResult): Array<{ req: number; ret: number }> {
  const out: Array<{ req: number; ret: number }> = [];
  for (const line of r.traceJsonLines!().split('\n')) {
    if (!line.includes('"syscall"')) continue;
    const e = JSON.parse(line) as { kind?: string; f?: Record<string, unknown> };
    const f = e.f ?? (e as Record<string, unknown>);
    if (Number(f['nr']) !== 54 || typeof f['ret'] !== 'number') continue;
    if (((Number(f['a1']) >>> 8) & 0xff) !== 0x3b) continue; // VFIO_TYPE ';'
    out.push({ req: Number(f['a1']) >>> 0, ret: f['ret'] });
  }
  return out;
}

const VFIO_IOMMU_MAP_DMA = 0x3b71;
const VFIO_DEVICE_SET_IRQS = 0x3b6e;

describe.skipIf(skip)('C pl330-vfio-test for today\'s kernel (pl330-vfio-test-mainline.c) on the Unicorn backend', () => {
  it('the CLI picks the port by the profile\'s MAP_DMA bit 2 (pl330ProgramAbi)', () => {
    expect(pl330CPort('mainline')).toBe('pl330-vfio-test-mainline');
    expect(pl330CPort('rfc-v4')).toBe('pl330-vfio-test');
    expect(pl330CPort('patches:1-10')).toBe('pl330-vfio-test');
  });

  it('passes under mainline on the default board: vfio-amba binding, AMBA flag, index << 40 offsets, one interrupt, INTCLR then UNMASK', () => {
    const r = runPl330VfioTestUnicorn({ profile: 'mainline', keepTrace: true });
    const ts = runPl330VfioTestStub({ profile: 'mainline', abi: 'mainline' });
    expect(r.elf).toMatch(/pl330-vfio-test-mainline$/);
    expect(r.exitStatus).toBe(0);
    expect(r.passed).toBe(true);
    expect(r.interrupts).toBe(1);
    // the administrator bound it on the AMBA bus, to vfio-amba (driver_override + drivers_probe)
    expect(r.bind?.bus).toBe('amba');
    expect(r.bind?.transcript).toEqual([
      'echo vfio-amba > /sys/bus/amba/devices/2c0a0000.dma/driver_override: ok',
      'echo 2c0a0000.dma > /sys/bus/amba/drivers/dma-pl330/unbind: ok',
      'echo 2c0a0000.dma > /sys/bus/amba/drivers_probe: ok',
    ]);
    const c = lines(r.stdout);
    // vfio_amba_init_dev: VFIO_DEVICE_FLAGS_AMBA (1 << 3); region 0 at offset 0 << 40
    expect(c).toContain('Device flags=0x8 (AMBA device)');
    expect(c).toContain('- Region 0: size=0x1000 offset=0x0 flags=0x7');
    expect(normalise(c)).toEqual(normalise(lines(ts.stdout)));
    expect(ts.exitStatus).toBe(0);
    // every ioctl succeeded; after the interrupt: SET_IRQS UNMASK (then the trigger teardown)
    const io = ioctlsOf(r);
    expect(io.filter((x) => x.ret < 0)).toEqual([]);
    expect(io.filter((x) => x.req === VFIO_DEVICE_SET_IRQS)).toHaveLength(3); // TRIGGER, UNMASK, TRIGGER(count 0)
    expect(r.unknownSyscalls).toEqual({});
  });

  it.each([
    // [program, profile, its stdout, the first failing ioctl, its errno, the kernel function that refuses it]
    ['pl330-vfio-test', 'mainline', 'Could not map DMA memory', VFIO_IOMMU_MAP_DMA, -22, 'vfio_dma_do_map: READ|WRITE with bit 2, which is VFIO_DMA_MAP_FLAG_VADDR today: (prot && set_vaddr) -> -EINVAL'],
  ] as const)('the 2014 port (%s) under %s stops with "%s" (first failing ioctl %i: %i, %s)', (prog, profile, msg, req, errno) => {
    const r = runPl330VfioTestUnicorn({ profile, elf: guestBinary(prog), keepTrace: true });
    const io = ioctlsOf(r);
    expect(r.exitStatus).toBe(1);
    expect(lines(r.stdout)).toEqual([msg]);
    const first = io.findIndex((x) => x.ret < 0);
    expect(io[first]).toEqual({ req, ret: errno });
    // every call before it succeeded: GET_API_VERSION, CHECK_EXTENSION, GET_STATUS, SET_CONTAINER, SET_IOMMU, IOMMU GET_INFO
    expect(first).toBe(6);
    // the program maps all three buffers before checking (ret |= ...): each one is refused
    expect(io.filter((x) => x.req === VFIO_IOMMU_MAP_DMA).map((x) => x.ret)).toEqual([errno, errno, errno]);
    expect(r.interrupts).toBe(0);
  });
});

describe.skipIf(skip)('runElf: ARM programs as kernel-model processes', () => {
  it('hello prints and exits 0 with no unknown syscall', () => {
    const r = runElf({ elf: guestBinary('hello'), args: [] });
    expect(r.stdout).toBe('hello from hello (argc=1)\n');
    expect(r.exitStatus).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
    expect(r.demandFaults).toBeGreaterThan(0); // stack and heap pages materialised on first touch
    const text = formatUnicornRun(r);
    expect(text.startsWith('hello from hello (argc=1)\n--- hello: exited with status 0\n')).toBe(true);
    expect(text).toContain(`exit status 0, virtual time`);
    expect(text).toContain(`unknown: none`);
    expect(text).toContain(r.traceSha256);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r); // --json: plain data
    // per-process exit statuses: the administrator's binding program, then hello
    expect(r.processes.map((p) => [p.name, p.status])).toEqual([['admin', 0], ['hello', 0]]);
  });

  it('a NULL dereference exits 139 with a report naming the address and the PC', () => {
    const r = runElf({ elf: guestBinary('segv'), args: [] });
    expect(r.exitStatus).toBe(139);
    expect(r.stdout).toBe('about to dereference NULL\n');
    expect(r.exitReport).toMatch(/^segv: SIGSEGV \(read of unmapped address\) at address 0x0 pc 0x[0-9a-f]+; exit status 139$/);
    expect(r.kernelLog.some((l) => l.includes('segv[') && l.includes('SIGSEGV'))).toBe(true);
  });

  it('an undefined instruction exits 132 (SIGILL); the process is torn down and logged', () => {
    const r = runElf({ elf: guestBinary('ill'), args: [] });
    expect(r.exitStatus).toBe(132);
    expect(r.exitReport).toMatch(/^ill: SIGILL \(undefined instruction\) pc 0x[0-9a-f]+; exit status 132$/);
    expect(r.kernelLog.some((l) => l.includes('ill[') && l.includes('SIGILL'))).toBe(true);
  });

  it('ioctl error paths reach the kernel model\'s VFIO code; unknown syscalls answer -ENOSYS and are counted', () => {
    const r = runElf({ elf: guestBinary('ioctl-errors'), args: ['/dev/vfio/0'] });
    expect(r.exitStatus).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'open /dev/vfio/vfio = 3',
      'GET_API_VERSION = 0',
      'CHECK_EXTENSION(77) = 0',
      'unknown ioctl = -22', // vfio_fops_unl_ioctl: -EINVAL on a container without an IOMMU driver
      'bad fd = -9',
      'MAP_DMA no iommu = -22',
      'GET_INFO no iommu = -22',
      'open group = 4',
      'GROUP_GET_STATUS bad pointer = -14',
      'GROUP_GET_STATUS argsz 4 = -22',
      'GET_API_VERSION on a group = -25',
      'syscall 0x1234 = -38',
      'open /dev/vfio/4242 = -2',
      'close bad fd = -9',
    ]);
    expect(r.unknownSyscalls).toEqual({ [String(0x1234)]: 1 });
  });

  it('dirty page tracking from a real ARM binary (mainline type1): the uapi layout the ARM ABI gives, and the 32-bit update_user_bitmap writing the second mapping at byte 8', () => {
    const r = runElf({ elf: guestBinary('dirty-bitmap'), args: ['/dev/vfio/0'], profile: 'mainline' });
    expect(r.exitStatus).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'sizeof vfio_bitmap 24 data at 16, sizeof dirty_bitmap_get 40',
      'SET_CONTAINER = 0',
      'SET_IOMMU(TYPE1v2) = 0',
      'MAP_DMA 32 pages at 0 = 0',
      'MAP_DMA 1 page at 32 = 0',
      'DIRTY_PAGES START = 0',
      'DIRTY_PAGES GET_BITMAP 33 pages = 0',
      // a 64-bit kernel: ffffffff01000000 then aaaaaaaaaaaaaaaa (docs/VFIO.md, "Dirty page tracking")
      'bitmap ffffffff00000000 then 0100000000000000',
      'DIRTY_PAGES STOP = 0',
    ]);
    // the 2014 type1 has neither TYPE1v2 nor the request: the container never gets its IOMMU
    const old = runElf({ elf: guestBinary('dirty-bitmap'), args: ['/dev/vfio/0'], profile: 'rfc-v4' });
    expect(lines(old.stdout).slice(2, 6)).toEqual(['SET_IOMMU(TYPE1v2) = -19', 'MAP_DMA 32 pages at 0 = -22', 'MAP_DMA 1 page at 32 = -22', 'DIRTY_PAGES START = -22']);
  });

  it('locked_vm after a fork child unmaps the parent\'s mapping (type1LockAcct), read from /proc/self/status: 3.14 charges current, mainline the mapping\'s mm', () => {
    const want = (parentAfter: string, child: string): string[] => [
      'parent: SET_CONTAINER = 0',
      'parent: SET_IOMMU(TYPE1) = 0',
      'parent: MAP_DMA 16 pages = 0',
      'parent: VmLck 64 kB',
      'child: UNMAP_DMA 16 pages = 0',
      `child: VmLck ${child}`,
      'parent: child exited 0',
      `parent: VmLck ${parentAfter}`,
    ];
    const old = runElf({ elf: guestBinary('locked-vm-fork'), args: ['/dev/vfio/0'], profile: 'rfc-v4' });
    expect(old.exitStatus).toBe(0);
    expect(lines(old.stdout)).toEqual(want('64 kB', '4294967232 kB'));
    const now = runElf({ elf: guestBinary('locked-vm-fork'), args: ['/dev/vfio/0'], profile: 'mainline' });
    expect(lines(now.stdout)).toEqual(want('0 kB', '0 kB'));
  });

  it('pthreads: clone, futex mutex/condvar/join under preemption, a timed wait expiring in virtual time', () => {
    const outs = new Set<string>();
    const stats = new Set<string>();
    for (const [quantum, timeslice] of [[97, 97], [10_000, 97], [10_000, 10_000]] as const) {
      const r = runElf({ elf: guestBinary('threads'), args: [], quantum, timeslice });
      expect(r.exitStatus, `quantum ${quantum}`).toBe(0);
      expect(r.threads).toBe(4);
      outs.add(r.stdout);
      if (timeslice === 97) expect(r.syscallsByNr['240'] ?? 0).toBeGreaterThan(20); // contended futexes
      // the quantum (host batching) is invisible: same slice, same run
      if (timeslice === 97) stats.add(JSON.stringify([r.instructions, r.virtualTimeNs, r.syscallsByNr]));
      expect(r.unknownSyscalls).toEqual({});
    }
    expect([...outs]).toEqual(['counter 600 joined 60\ntimedwait ETIMEDOUT after >= 3 ms\n']);
    expect(stats.size).toBe(1);
  });

  it('clock_gettime: the realtime clocks (0, 5 REALTIME_COARSE, 8, 11) carry the epoch, the others count from boot, invalid ids are EINVAL; time() is not 0', () => {
    const r = runElf({ elf: guestBinary('clocks'), args: [], bind: null });
    expect(r.exitStatus).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'clock 0: epoch', 'clock 1: boot', 'clock 2: boot', 'clock 3: boot', 'clock 4: boot', 'clock 5: epoch',
      'clock 6: boot', 'clock 7: boot', 'clock 8: epoch', 'clock 9: boot', 'clock 10: errno 22', 'clock 11: epoch',
      'clock 12: errno 22', 'clock 1000: errno 22', 'clock -2: boot', 'clock -1: errno 22',
      'time() epoch',
    ]);
    expect(r.unknownSyscalls).toEqual({});
  });

  it('pipes, dup/dup2/dup3 and fcntl: data, redirection, close-on-exec, O_NONBLOCK, EOF, EPIPE, a blocked reader woken', () => {
    const r = runElf({ elf: guestBinary('pipes'), args: [], bind: null });
    expect(r.exitStatus).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'pipe2 cloexec: 1 1 fd 3',
      'write 5',
      'read 5 hello',
      'nonblock read -1 EAGAIN flags 0x800',
      'redirected 10 via stdout saved-cloexec 0',
      'dup3 10 cloexec 1',
      'F_DUPFD_CLOEXEC 20 cloexec 1',
      'dup3 same -1 EINVAL dup2 same 10',
      'eof 0',
      'epipe -1 EPIPE',
      'thread read wake',
      'bad fd -1 EBADF',
    ]);
    expect(r.unknownSyscalls).toEqual({});
  });

  it('stat, lstat, fstat, fstatat, statx over sysfs, devtmpfs, pipes and anonymous files; chdir/getcwd and relative paths', () => {
    const r = runElf({ elf: guestBinary('stat'), args: [] });
    expect(r.exitStatus).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'stat iommu_group 0 dir',
      'lstat iommu_group 0 link size ' + String('../../../kernel/iommu_groups/'.length + 1),
      'readlink iommu_groups/<n>',
      'stat /dev/vfio/vfio 0 chr 0666',
      'fstatat uevent 0 reg size 4096',
      'fstat dir 0 dir',
      'statx /sys 0 dir',
      'fstat pipe fifo',
      'fstat eventfd other 0600',
      'fstat stdout chr',
      'stat missing -1 ENOENT',
      'fstat bad -1 EBADF',
      'chdir 0 cwd /sys/bus/platform/devices',
      'relative open ok',
      'relative readlink ok',
      'relative stat 0 dir',
      'chdir link 0 cwd /sys/devices/...',
      'chdir .. 0',
      'chdir chr -1 ENOTDIR',
      'access 0 -1',
    ]);
    expect(r.unknownSyscalls).toEqual({});
  });

  it('nanosleep blocks in virtual time', () => {
    const r = runElf({ elf: guestBinary('sleep'), args: [] });
    expect(r.exitStatus).toBe(0);
    const ns = Number(/slept (\d+) ns/.exec(r.stdout)?.[1]);
    expect(ns).toBeGreaterThanOrEqual(2_500_000);
    expect(ns).toBeLessThan(2_600_000);
    expect(r.virtualTimeNs).toBeGreaterThanOrEqual(2_500_000);
  });
});

describe.skipIf(skip)('engine pool (UnicornEngine.obtain / release)', () => {
  /** what a run shows the world: nothing host-timed */
  const observed = (r: UnicornRunResult): unknown => ({ s: r.exitStatus, out: r.stdout, err: r.stderr, t: r.virtualTimeNs, trace: r.traceSha256, insns: r.instructions, sys: r.syscallsByNr, procs: r.processes, faults: r.demandFaults });
  it('a process on a reused engine sees what it sees on a fresh one: fork, exec and COW programs give the same output, times, instruction counts and trace digests with and without the pool', async () => {
    const { UnicornEngine } = await import('../../emulator/cpu/unicorn/engine.js');
    const progs: [string, string[]][] = [['spawn', ['4']], ['fork', []], ['madvise', []], ['hello', []]];
    const prev = UnicornEngine.poolLimit(0);
    try {
      const fresh = progs.map(([p, a]) => observed(runElf({ elf: guestBinary(p), args: a, bind: null })));
      UnicornEngine.poolLimit(4);
      // twice through: the second pass runs every program on engines the first pass left
      for (let pass = 0; pass < 2; pass++) {
        progs.forEach(([p, a], i) => expect(observed(runElf({ elf: guestBinary(p), args: a, bind: null })), `${p}, pass ${pass}`).toEqual(fresh[i]));
      }
    } finally {
      UnicornEngine.poolLimit(prev);
    }
  }, 60_000);
});
