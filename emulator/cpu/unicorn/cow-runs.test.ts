import { describe, expect, it } from 'vitest';
import { PhysicalBus } from '../../bus.js';
import { Scheduler } from '../../scheduler.js';
import { Cpu } from '../cpu.js';
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, type AddressSpaceListener, type PageBacking } from './address-space.js';
import { UnicornEngine } from './engine.js';
import { UC_ARM_REG_R0 } from './native.js';
import { shouldSkipUnicornTests } from './testing/guest-build.js';
import { TestProcess } from './testing/process.js';
import { UnicornThread, type SyscallBridge } from './thread.js';

/*
 * Pages shared copy-on-write in the Unicorn mirror (cow-runs.ts): still-shared pages with
 * consecutive frames are one region, and each page stored to gets its own copy at the next
 * system call, the rest staying shared.
 */

const CODE = 0x10000;
const DATA = 0x20000;
const COPIES = 0x80800000; // the stand-in's frames for copies, consecutive

/** a TestProcess whose pages in `shared` are shared copy-on-write (read-only to the CPU, a write fault copies) */
class SharingProcess extends TestProcess {
  readonly shared = new Set<number>();
  readonly copies = new Map<number, number>();
  readonly writeFaults: number[] = [];
  private ls: AddressSpaceListener[] = [];
  private nextCopy = COPIES;

  override pageAt(va: number): PageBacking | null {
    const page = va - (va % PAGE_SIZE);
    const b = super.pageAt(page);
    if (b === null || b.kind !== 'ram') return b;
    const copy = this.copies.get(page);
    if (copy !== undefined) return { kind: 'ram', pa: copy, prot: b.prot };
    return this.shared.has(page) ? { kind: 'ram', pa: b.pa, prot: b.prot & ~PROT_WRITE, cow: true } : b;
  }

  override onChange(l: AddressSpaceListener): () => void {
    this.ls.push(l);
    return super.onChange(l);
  }

  fault(va: number, access: 'read' | 'write' | 'fetch'): boolean {
    const page = va - (va % PAGE_SIZE);
    if (access !== 'write' || !this.shared.has(page) || this.copies.has(page)) return super.pageAt(page) !== null;
    // do_wp_page's copy: a new frame with the shared frame's bytes (the store already in them)
    const from = super.pageAt(page)!.pa;
    const to = this.nextCopy;
    this.nextCopy += PAGE_SIZE;
    const bytes = new Uint8Array(PAGE_SIZE);
    this.bus.readBlock(from, bytes, 0, PAGE_SIZE, this.userAttrs);
    this.bus.writeBlock(to, bytes, 0, PAGE_SIZE, this.userAttrs);
    this.copies.set(page, to);
    this.writeFaults.push(page);
    for (const l of this.ls) l(page, page + PAGE_SIZE);
    return true;
  }
}

const word = (bus: PhysicalBus, pa: number): number => bus.read(pa, 4, 0) >>> 0;

function run(prog: number[], regs: Record<number, number>) {
  const bus = new PhysicalBus();
  bus.addRam('ram', 0x80000000, 16 * 1024 * 1024);
  const proc = new SharingProcess(bus, 0x80000000, 8 * 1024 * 1024);
  proc.map(CODE, 4096, PROT_READ | PROT_WRITE);
  proc.poke(CODE, new Uint8Array(new Uint32Array(prog).buffer));
  proc.protect(CODE, 4096, PROT_READ | PROT_EXEC);
  proc.map(DATA, 5 * PAGE_SIZE, PROT_READ | PROT_WRITE);
  for (let k = 0; k < 5; k++) proc.poke(DATA + k * PAGE_SIZE, new Uint8Array(new Uint32Array([0xa0 + k]).buffer));
  const frames = [0, 1, 2, 3, 4].map((k) => proc.pageAt(DATA + k * PAGE_SIZE)!.pa);
  for (let k = 0; k < 5; k++) proc.shared.add(DATA + k * PAGE_SIZE);
  const engine = new UnicornEngine();
  engine.attach(proc, bus);
  const runsAtSyscall: number[] = [];
  const bridge: SyscallBridge = {
    syscall(t, nr, a) {
      runsAtSyscall.push(engine.mappedRuns);
      if (nr === 1) t.exit(a[0]!);
      return 0;
    },
  };
  const sched = new Scheduler();
  const cpu = new Cpu(sched);
  const t = new UnicornThread(1, 't', engine, bridge, CODE, 0, {});
  for (const [r, v] of Object.entries(regs)) engine.setReg(Number(r), v);
  cpu.addThread(t);
  sched.runUntilPredicate(() => t.state === 'exited', { within: 1_000_000 });
  // the mirror shows the model's frame of every page
  const mirror = [0, 1, 2, 3, 4].map((k) => {
    const b = new Uint8Array(PAGE_SIZE);
    expect(engine.read(DATA + k * PAGE_SIZE, b)).toBe(true);
    const pa = proc.pageAt(DATA + k * PAGE_SIZE)!.pa;
    for (let i = 0; i < PAGE_SIZE; i += 512) if (b[i] !== bus.read(pa + i, 1, 0)) return false;
    return true;
  });
  const out = { t, proc, bus, frames, runs: engine.mappedRuns, runsAtSyscall, demandFaults: engine.demandFaults, mirror };
  engine.close();
  return out;
}

const R = (n: number): number => UC_ARM_REG_R0 + n;

describe.skipIf(shouldSkipUnicornTests())('pages shared copy-on-write in the mirror (cow-runs.ts)', () => {
  it('a load mirrors the five shared pages as one region; the stores of one block copy the pages they touch (the same value again, an unaligned store, one across two pages), the rest stays shared', () => {
    // ldr r2, [r1]; svc #0 (r7 = 0: a no-op call); str r9, [r4]; str r3, [r5]; str r8, [r6]; str r10, [r1, #2];
    // mov r7, #1; mov r0, #7; svc #0
    const s = run([0xe5912000, 0xef000000, 0xe5849000, 0xe5853000, 0xe5868000, 0xe581a002, 0xe3a07001, 0xe3a00007, 0xef000000], {
      [R(9)]: 0xdeadbeef, [R(1)]: DATA, [R(3)]: 0xa2, [R(4)]: DATA + PAGE_SIZE, [R(5)]: DATA + 2 * PAGE_SIZE,
      [R(6)]: DATA + 3 * PAGE_SIZE - 2, [R(7)]: 0, [R(8)]: 0x11223344, [R(10)]: 0x55667788,
    });
    expect(s.t.exitInfo?.status, s.t.describeExit()).toBe(7);
    // after the load: the code page and one region of five shared pages, from one demand fault
    expect(s.runsAtSyscall[0]).toBe(2);
    expect(s.demandFaults).toBe(1);
    // every page stored to got its copy (the unchanged value too), in the order of their first stores; page 4 is still shared
    expect(s.proc.writeFaults).toEqual([1, 2, 3, 0].map((k) => DATA + k * PAGE_SIZE));
    // the shared frames hold their bytes from before; the copies hold the stores
    expect(s.frames.map((pa) => word(s.bus, pa))).toEqual([0xa0, 0xa1, 0xa2, 0xa3, 0xa4]);
    expect(word(s.bus, s.frames[0]! + 4)).toBe(0);
    expect(word(s.bus, s.frames[2]! + PAGE_SIZE - 4)).toBe(0);
    const copy = (k: number): number => s.proc.pageAt(DATA + k * PAGE_SIZE)!.pa;
    expect(s.proc.pageAt(DATA + 4 * PAGE_SIZE)!).toMatchObject({ pa: s.frames[4], cow: true });
    expect([word(s.bus, copy(0)), word(s.bus, copy(0) + 4)]).toEqual([0x778800a0, 0x5566]);
    expect(word(s.bus, copy(1))).toBe(0xdeadbeef);
    expect(word(s.bus, copy(2))).toBe(0xa2);
    expect(word(s.bus, copy(2) + PAGE_SIZE - 4)).toBe(0x33440000);
    expect(word(s.bus, copy(3))).toBe(0x1122);
    // the mirror shows the model's frames: the copies of pages 1-3 (consecutive frames) one region, page 0's
    // copy one, page 4 shared one
    expect(s.mirror).toEqual([true, true, true, true, true]);
    expect(s.runs).toBe(4);
  });
});
