import { describe, expect, it } from 'vitest';
import { ATTR_PRIV, isNonSecure, isPriv } from '../../attrs.js';
import { BUS_OK, SIZE_2, SIZE_4, type MmioDevice } from '../../bus.js';
import { symbolAt } from './elf.js';
import { PROT_READ, PROT_WRITE } from './address-space.js';
import { guestBinary, shouldSkipUnicornTests } from './testing/guest-build.js';
import { runElf } from './testing/run.js';

const skip = shouldSkipUnicornTests();

class RecordingDevice implements MmioDevice {
  readonly name = 'testdev';
  readonly accessSizes = SIZE_2 | SIZE_4;
  log: string[] = [];
  attrs: number[] = [];
  read(offset: number, size: number, attrs: number): number {
    this.log.push(`r${size}@${offset}`);
    this.attrs.push(attrs);
    return offset === 0 ? 0x0330c0de : 0;
  }
  write(offset: number, size: number, value: number, attrs: number): number {
    this.log.push(`w${size}@${offset}=${value.toString(16)}`);
    this.attrs.push(attrs);
    return BUS_OK;
  }
}

describe.skipIf(skip)('Unicorn backend: static glibc programs', () => {
  it('hello prints and exits 0', () => {
    const r = runElf(guestBinary('hello'), { argv: ['/bin/hello', 'a', 'b'] });
    expect(r.thread.describeExit()).toBe('prog: exited with status 0');
    expect(r.thread.exitInfo?.status).toBe(0);
    expect(r.shim.out).toBe('hello from /bin/hello (argc=3)\n');
    expect(r.thread.instructions).toBeGreaterThan(1000);
    expect(r.thread.syscalls).toBeGreaterThan(5);
    expect([...r.shim.unknown]).toEqual([]);
  });

  it('a NULL dereference ends with SIGSEGV (139), reporting address 0x0 and the faulting PC', () => {
    const r = runElf(guestBinary('segv'));
    expect(r.shim.out).toBe('about to dereference NULL\n');
    const x = r.thread.exitInfo!;
    expect(x.status).toBe(139);
    expect(x.fault?.signal).toBe('SIGSEGV');
    expect(x.fault?.address).toBe(0);
    expect(x.fault?.access).toBe('read');
    // the PC is the load inside deref(), not the block start elsewhere
    expect(symbolAt(r.image, x.fault!.pc)?.name).toBe('deref');
    expect(r.thread.describeExit()).toMatch(/SIGSEGV .*at address 0x0 pc 0x[0-9a-f]+; exit status 139/);
  });

  it('an undefined instruction ends with SIGILL (132)', () => {
    const r = runElf(guestBinary('ill'));
    expect(r.shim.out).toBe('about to execute udf\n');
    expect(r.thread.exitInfo?.status).toBe(132);
    expect(r.thread.exitInfo?.fault?.signal).toBe('SIGILL');
    expect(symbolAt(r.image, r.thread.exitInfo!.fault!.pc)?.name).toBe('main');
  });

  it('is deterministic: two runs give the same trace digest, virtual time and instruction count', () => {
    const a = runElf(guestBinary('sleep'));
    const b = runElf(guestBinary('sleep'));
    expect(a.shim.out).toBe(b.shim.out);
    expect(a.digest).toBe(b.digest);
    expect(a.now).toBe(b.now);
    expect(a.thread.instructions).toBe(b.thread.instructions);
    const c = runElf(guestBinary('sleep'), { seed: 2 });
    // AT_RANDOM and getrandom differ with the seed; the program's output does not
    expect(c.shim.out).toBe(a.shim.out);
  });

  it('counts instructions exactly: the count does not depend on the quantum size', () => {
    const counts = [500, 10_000, 1_000_000].map((q) => {
      const r = runElf(guestBinary('hello'), { quantum: q });
      expect(r.thread.exitInfo?.status).toBe(0);
      return { insns: r.thread.instructions, quanta: r.thread.quanta };
    });
    expect(counts[1]!.insns).toBe(counts[0]!.insns);
    expect(counts[2]!.insns).toBe(counts[0]!.insns);
    expect(counts[0]!.quanta).toBeGreaterThan(counts[2]!.quanta);
  });

  it('charges cycles per instruction: cpi 2 doubles the time of a CPU-bound run', () => {
    const one = runElf(guestBinary('loop'), { argv: ['loop', '20000'], cpi: 1 });
    const two = runElf(guestBinary('loop'), { argv: ['loop', '20000'], cpi: 2 });
    expect(one.shim.out).toBe(two.shim.out);
    expect(two.thread.instructions).toBe(one.thread.instructions);
    expect(one.cpuCycles).toBeGreaterThan(one.thread.instructions);
    expect(two.cpuCycles - one.cpuCycles).toBe(one.thread.instructions);
  });

  it('a blocking syscall (nanosleep) parks the thread and resumes it at the deadline', () => {
    const r = runElf(guestBinary('sleep'));
    expect(r.thread.exitInfo?.status).toBe(0);
    expect(r.shim.sleeps).toHaveLength(1);
    const s = r.shim.sleeps[0]!;
    expect(s.deadline - s.start).toBe(2_500_000);
    expect(s.resumed).toBe(s.deadline);
    // the guest measured the sleep with clock_gettime in virtual time
    const m = /^slept (\d+) ns\n$/.exec(r.shim.out);
    expect(m).not.toBeNull();
    const slept = Number(m![1]);
    expect(slept).toBeGreaterThanOrEqual(2_500_000);
    expect(slept).toBeLessThan(2_600_000);
    expect(r.now).toBeGreaterThanOrEqual(s.deadline);
  });

  it('device pages reach the PhysicalBus with user attributes; RAM is the board RAM (zero copy)', () => {
    const dev = new RecordingDevice();
    const r = runElf(guestBinary('mmio'), {
      setup: (bus, proc) => {
        bus.addMmio('testdev', 0x2c0c0000, 0x1000, dev);
        proc.mapDevice(0x50000000, 0x2c0c0000, 0x1000, PROT_READ | PROT_WRITE);
      },
    });
    expect(r.thread.exitInfo?.status).toBe(0);
    expect(dev.log).toEqual(['w4@4=abcd0001', 'w2@8=55aa', 'r4@0']);
    for (const a of dev.attrs) {
      expect(isPriv(a)).toBe(false);
      expect(isNonSecure(a)).toBe(true);
      expect(a & ATTR_PRIV).toBe(0);
    }
    const m = /^marker 0x([0-9a-f]+) id 0330c0de\n$/.exec(r.shim.out);
    expect(m).not.toBeNull();
    const va = parseInt(m![1]!, 16);
    const page = r.proc.pageAt(va)!;
    expect(page.kind).toBe('ram');
    const pa = page.pa + (va % 4096);
    expect(r.bus.read(pa, 4, 0)).toBe(0xfeedc0de);
    expect(r.bus.read(pa + 4, 4, 0)).toBe(0x12345678);
  });

  it('a store to a read-only device mapping is SIGSEGV and never reaches the device', () => {
    const dev = new RecordingDevice();
    const r = runElf(guestBinary('mmio'), {
      setup: (bus, proc) => {
        bus.addMmio('testdev', 0x2c0c0000, 0x1000, dev);
        proc.mapDevice(0x50000000, 0x2c0c0000, 0x1000, PROT_READ);
      },
    });
    expect(r.thread.exitInfo?.status).toBe(139);
    expect(r.thread.exitInfo?.fault).toMatchObject({ signal: 'SIGSEGV', address: 0x50000004, access: 'write' });
    expect(dev.log).toEqual([]);
  });

  it('a device store that gets a bus error is SIGBUS (status 135) with the faulting address', () => {
    const dev = new RecordingDevice();
    dev.write = (offset: number, size: number, value: number): number => {
      dev.log.push(`w${size}@${offset}=${value.toString(16)}`);
      return offset === 4 ? -2 /* BUS_SLAVE_ERROR */ : BUS_OK;
    };
    const r = runElf(guestBinary('mmio'), {
      setup: (bus, proc) => {
        bus.addMmio('testdev', 0x2c0c0000, 0x1000, dev);
        proc.mapDevice(0x50000000, 0x2c0c0000, 0x1000, PROT_READ | PROT_WRITE);
      },
    });
    expect(r.thread.exitInfo?.status).toBe(135);
    // an asynchronous external abort (DFSR FS 0b10110 = 0x406, WnR, ExT for SLVERR): thread.onBusError
    expect(r.thread.exitInfo?.fault).toMatchObject({ signal: 'SIGBUS', address: 0x50000004, access: 'write', fsr: 0x1c06, asynchronous: true, size: 4 });
    expect(r.engine.mmioErrors).toBe(1);
    // the halfword store and the load after it in the same translation block never reach the device
    expect(dev.log).toEqual(['w4@4=abcd0001']);
    expect(r.thread.describeExit()).toMatch(/SIGBUS \(bus error on device write \(status -2\)\) at address 0x50000004 pc 0x[0-9a-f]+; exit status 135$/);
  });

  it('a store that faults ends the process there: a device store after it in the same translation block never reaches the device', () => {
    const dev = new RecordingDevice();
    const r = runElf(guestBinary('mmio-after-fault'), {
      setup: (bus, proc) => {
        bus.addMmio('testdev', 0x2c0c0000, 0x1000, dev);
        proc.mapDevice(0x50000000, 0x2c0c0000, 0x1000, PROT_READ | PROT_WRITE);
      },
    });
    expect(r.thread.exitInfo?.status).toBe(139);
    expect(r.thread.exitInfo?.fault).toMatchObject({ signal: 'SIGSEGV', access: 'write' });
    expect(dev.log).toEqual([]);
  });

  it('device events run between quanta at their virtual time while the guest computes', () => {
    const seen: { t: number; insns: number }[] = [];
    let thread: { instructions: number } | null = null;
    const r = runElf(guestBinary('loop'), {
      argv: ['loop', '100000'],
      quantum: 10_000,
      onStart: (sched, t) => {
        thread = t;
        for (const at of [50_000, 200_000, 350_000]) sched.scheduleAt(at, () => seen.push({ t: sched.now, insns: thread!.instructions }), 'probe');
      },
    });
    expect(r.thread.exitInfo?.status).toBe(0);
    expect(seen.map((s) => s.t)).toEqual([50_000, 200_000, 350_000]);
    for (const s of seen) {
      // 1 cycle (1 ns) per instruction plus syscall costs; a quantum runs atomically at its
      // start time, so the count is within one quantum (+ start-up syscall costs) of the time
      expect(s.insns).toBeLessThanOrEqual(s.t + 10_000);
      expect(s.insns).toBeGreaterThan(s.t - 10_000 - 20 * 300);
    }
  });
});
