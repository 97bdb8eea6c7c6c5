import { describe, expect, it } from 'vitest';
import { PhysicalBus } from '../../bus.js';
import { Scheduler } from '../../scheduler.js';
import { Cpu } from '../cpu.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from './address-space.js';
import { UnicornEngine } from './engine.js';
import { UC_ARM_REG_C13_C0_3, UC_ARM_REG_R0, UC_ARM_REG_SP, UC_ERR_READ_UNMAPPED, UC_HOOK_MEM_UNMAPPED } from './native.js';
import { shouldSkipUnicornTests } from './testing/guest-build.js';
import { TestProcess } from './testing/process.js';
import { BLOCK, UnicornThread, type SyscallBridge } from './thread.js';

const skip = shouldSkipUnicornTests();

// ARM (A32) encodings of a tiny program: str r0, [r1]; ldr r2, [r1]; mov r7, #1; mov r0, #7; svc #0
const PROG = [0xe5810000, 0xe5912000, 0xe3a07001, 0xe3a00007, 0xef000000];
const CODE = 0x10000;
const DATA = 0x20000;

function setup(dataProt: number, codeProt = PROT_READ | PROT_EXEC) {
  const bus = new PhysicalBus();
  bus.addRam('ram', 0x80000000, 16 * 1024 * 1024);
  const proc = new TestProcess(bus, 0x80000000, 16 * 1024 * 1024);
  proc.map(CODE, 4096, PROT_READ | PROT_WRITE);
  const code = new Uint8Array(new Uint32Array(PROG).buffer);
  proc.poke(CODE, code);
  proc.protect(CODE, 4096, codeProt);
  proc.map(DATA, 8192, dataProt);
  const engine = new UnicornEngine();
  engine.attach(proc, bus);
  const calls: number[] = [];
  const bridge: SyscallBridge = {
    syscall(t, nr, a) {
      calls.push(nr);
      if (nr === 1) t.exit(a[0]!);
      return 0;
    },
  };
  const sched = new Scheduler();
  const cpu = new Cpu(sched);
  const t = new UnicornThread(1, 't', engine, bridge, CODE, 0, {});
  engine.setReg(UC_ARM_REG_R0, 0xdeadbeef);
  engine.setReg(UC_ARM_REG_R0 + 1, DATA + 8);
  cpu.addThread(t);
  const run = () => {
    sched.runUntilPredicate(() => t.state === 'exited', { within: 1_000_000 });
    engine.close();
  };
  return { bus, proc, engine, t, calls, run, cpu };
}

describe.skipIf(skip)('Unicorn address-space mirror', () => {
  it('RAM pages map zero-copy into board RAM; contiguous frames become one Unicorn region', () => {
    const s = setup(PROT_READ | PROT_WRITE);
    // code page and a 2-page data run (physically contiguous, same prot): 2 runs
    expect(s.engine.mappedRuns).toBe(2);
    s.run();
    expect(s.t.exitInfo?.status).toBe(7);
    expect(s.t.instructions).toBe(5);
    const pa = s.proc.pageAt(DATA)!.pa;
    expect(s.bus.read(pa + 8, 4, 0)).toBe(0xdeadbeef);
  });

  it('a store to a read-only page is SIGSEGV with the address and the PC of the store', () => {
    const s = setup(PROT_READ);
    s.run();
    const f = s.t.exitInfo!.fault!;
    expect(s.t.exitInfo!.status).toBe(139);
    expect(f).toMatchObject({ signal: 'SIGSEGV', address: DATA + 8, pc: CODE, access: 'write' });
    expect(s.calls).toEqual([]);
  });

  it('a load from an unmapped page is SIGSEGV; mprotect/munmap changes are mirrored', () => {
    const s = setup(PROT_READ | PROT_WRITE);
    s.proc.unmap(DATA, 8192);
    s.proc.map(DATA + 4096, 4096, PROT_READ);
    s.run();
    expect(s.t.exitInfo!.fault).toMatchObject({ signal: 'SIGSEGV', address: DATA + 8, pc: CODE, access: 'write', reason: 'write of unmapped address' });
  });

  it('executing a page without PROT_EXEC is a SIGSEGV fetch fault', () => {
    const s = setup(PROT_READ | PROT_WRITE, PROT_READ);
    s.run();
    expect(s.t.exitInfo!.fault).toMatchObject({ signal: 'SIGSEGV', address: CODE, access: 'fetch' });
  });

  it('a bridge that returns BLOCK without parking the thread makes it yield and retry the same syscall', () => {
    const s = setup(PROT_READ | PROT_WRITE);
    let tries = 0;
    (s.t as unknown as { bridge: SyscallBridge }).bridge.syscall = (t, nr, a) => {
      s.calls.push(nr);
      if (++tries < 3) return BLOCK;
      t.exit(a[0]!);
      return 0;
    };
    s.run();
    expect(s.calls).toEqual([1, 1, 1]);
    expect(s.t.exitInfo?.status).toBe(7);
    expect(s.t.syscalls).toBe(1);
  });
});

// Two threads on one engine: loop: add r0, r0, #1; cmp r0, r3; bne loop; mov r7, #1; svc #0
const COUNT_PROG = [0xe2800001, 0xe1500003, 0x1afffffc, 0xe3a07001, 0xef000000];

describe.skipIf(skip)('Unicorn threads sharing an engine', () => {
  it('interleave by quanta with separate registers, and clone() copies the parent except r0/SP/TLS', () => {
    const bus = new PhysicalBus();
    bus.addRam('ram', 0x80000000, 16 * 1024 * 1024);
    const proc = new TestProcess(bus, 0x80000000, 16 * 1024 * 1024);
    proc.map(CODE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    proc.poke(CODE, new Uint8Array(new Uint32Array(COUNT_PROG).buffer));
    const engine = new UnicornEngine();
    engine.attach(proc, bus);
    const order: string[] = [];
    const bridge: SyscallBridge = {
      syscall(t, nr, a) {
        order.push(`${t.name}:${nr}`);
        if (nr === 1) t.exit(a[0]!);
        return 0;
      },
    };
    const sched = new Scheduler();
    const cpu = new Cpu(sched);
    const a = new UnicornThread(1, 'a', engine, bridge, CODE, 0x1000, { quantum: 30, timeslice: 30 });
    engine.setReg(UC_ARM_REG_R0, 0);
    engine.setReg(UC_ARM_REG_R0 + 3, 200);
    engine.setReg(UC_ARM_REG_C13_C0_3, 0x1111);
    // clone from a's live registers (as from its syscall), then give b its own bound
    const b = UnicornThread.clone(a, 2, 'b', 0x2000, 0x2222);
    expect(engine.owns(a)).toBe(true);
    expect(engine.reg(UC_ARM_REG_C13_C0_3)).toBe(0x1111);
    engine.switchTo(b);
    expect(engine.reg(UC_ARM_REG_SP)).toBe(0x2000);
    expect(engine.reg(UC_ARM_REG_C13_C0_3)).toBe(0x2222);
    expect(engine.reg(UC_ARM_REG_R0 + 3)).toBe(200); // inherited
    engine.setReg(UC_ARM_REG_R0, 0);
    engine.setReg(UC_ARM_REG_R0 + 3, 70);
    cpu.addThread(a);
    cpu.addThread(b);
    sched.runUntilPredicate(() => a.state === 'exited' && b.state === 'exited', { within: 1_000_000 });
    engine.close();
    expect(a.exitInfo?.status).toBe(200);
    expect(b.exitInfo?.status).toBe(70);
    expect(order).toEqual(['b:1', 'a:1']);
    // 3 instructions per iteration + 2 to exit
    expect(a.instructions).toBe(200 * 3 + 2);
    expect(b.instructions).toBe(70 * 3 + 2);
    expect(a.quanta).toBeGreaterThan(10);
    expect(engine.contextSwitches).toBeGreaterThan(10);
  });
});

describe.skipIf(skip)('why per-page mappings: Unicorn 2.0.1 does not walk ARM page tables', () => {
  it('with SCTLR.M set, TTBR0 pointing at a valid L1 table, a load from a section-mapped VA is still a physical access', () => {
    // movw/movt r0=0x20000; mcr TTBR0; mvn r1,#0; mcr DACR; mrc/orr/mcr SCTLR.M=1; isb;
    // r3=0x40010100; ldr r4,[r3]; r3=0x50010100; ldr r5,[r3]; b .
    const code = [0xe3000000, 0xe3400002, 0xee020f10, 0xe3e01000, 0xee031f10, 0xee112f10, 0xe3822001, 0xee012f10,
      0xf57ff06f, 0xe3003100, 0xe3443001, 0xe5934000, 0xe3003100, 0xe3453001, 0xe5935000, 0xeafffffe];
    const engine = new UnicornEngine();
    const ram = new Uint8Array(1 << 20);
    const dv = new DataView(ram.buffer);
    try {
      engine.check('map', engine.api.uc_mem_map_ptr(engine.uc, 0, ram.length, 7, ram));
      ram.set(new Uint8Array(new Uint32Array(code).buffer), 0x10000);
      dv.setUint32(0x10100, 0xcafef00d, true);
      // L1 section descriptors (AP=0b11, type 0b10): VA 0 -> PA 0 and VA 0x40000000 -> PA 0
      dv.setUint32(0x20000, (3 << 10) | 2, true);
      dv.setUint32(0x20000 + 0x400 * 4, (3 << 10) | 2, true);
      let faultAt = -1;
      engine.hook(UC_HOOK_MEM_UNMAPPED, engine.callback(((_u: unknown, _t: number, a: number | bigint) => { faultAt = Number(a); return false; }) as never, 'eventmem'));
      const err = engine.api.uc_emu_start(engine.uc, 0x10000, 0x10000 + 15 * 4, 0, 100);
      // A table walk would have loaded 0xcafef00d; Unicorn 2.0.1 treats the VA as physical.
      expect(err).toBe(UC_ERR_READ_UNMAPPED);
      expect(faultAt).toBe(0x40010100);
      expect(engine.reg(UC_ARM_REG_R0 + 4)).toBe(0);
    } finally {
      engine.close();
    }
  });
});

describe.skipIf(skip)('blocked syscalls completed by the waker', () => {
  it('completeSyscall delivers r0 without re-presenting the syscall; the thread resumes at the wake time', () => {
    // mov r7, #3; svc #0; mov r7, #1; svc #0   (exit status = the first call's result)
    const prog = [0xe3a07003, 0xef000000, 0xe3a07001, 0xef000000];
    const bus = new PhysicalBus();
    bus.addRam('ram', 0x80000000, 1024 * 1024);
    const proc = new TestProcess(bus, 0x80000000, 1024 * 1024);
    proc.map(CODE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    proc.poke(CODE, new Uint8Array(new Uint32Array(prog).buffer));
    const engine = new UnicornEngine();
    engine.attach(proc, bus);
    const sched = new Scheduler();
    const cpu = new Cpu(sched);
    const seen: string[] = [];
    const bridge: SyscallBridge = {
      syscall(t, nr, a) {
        seen.push(`${nr}@${t.nowNs()}`);
        if (nr === 3) {
          cpu.block(t);
          sched.scheduleAt(5_000, () => {
            t.completeSyscall(42);
            cpu.wake(t);
          }, 'waker');
          return BLOCK;
        }
        t.exit(a[0]!);
        return 0;
      },
    };
    const t = new UnicornThread(1, 't', engine, bridge, CODE, 0, {});
    cpu.addThread(t);
    sched.runUntilPredicate(() => t.state === 'exited', { within: 1_000_000 });
    engine.close();
    expect(t.exitInfo?.status).toBe(42);
    // nowNs() counts the instructions before the svc (1 cycle each); the syscall cost is charged after the call
    expect(seen).toEqual(['3@2', `1@${5_000 + 2}`]);
    expect(t.instructions).toBe(4);
  });
});
