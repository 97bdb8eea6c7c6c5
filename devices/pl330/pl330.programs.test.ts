import { describe, expect, it } from 'vitest';
import * as A from './assembler.js';
import * as R from './constants.js';
import { TestPeripheral } from './peripheral.js';
import { makeRig, RAM_BASE, ToyIommu } from './testing/fixture.js';

const PROG = RAM_BASE + 0x10000;
const SRC = RAM_BASE + 0x20000;
const DST = RAM_BASE + 0x40000;
const PERIPH = 0x2c0c0000;
const pattern = (n: number, seed = 1): number[] => Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);

describe('Linux-shaped programs', () => {
  it('the pl330-vfio-test program: one page in 16x16-byte bursts with barriers, one interrupt held until INTCLR', () => {
    for (const accel of [true, false]) {
      const rig = makeRig({ accel });
      const data = pattern(4096);
      rig.poke(SRC, data);
      const a = new A.Pl330Asm()
        .mov('CCR', R.makeCcr({ srcBeatBytes: 16, srcBurstLen: 16 })).mov('SAR', SRC).mov('DAR', DST)
        .lp(0, 16).emit(A.DMALD()).emit(A.DMARMB()).emit(A.DMAST()).emit(A.DMAWMB()).lpEnd()
        .emit(A.DMASEV(0)).emit(A.DMAEND());
      rig.poke(PROG, a.bytes);
      rig.wreg(R.REG_INTEN, 1);
      rig.go(0, PROG);
      const r = rig.sched.runUntilPredicate(() => rig.irqs[0]!.level, { within: 1_000_000 });
      expect(r.reason).toBe('predicate');
      rig.run();
      expect(Array.from(rig.peek(DST, 4096))).toEqual(data);
      expect(rig.peek(DST + 4096, 16).every((b) => b === 0)).toBe(true);
      expect(rig.irqs[0]!.rises).toBe(1);
      expect(rig.irqs[0]!.level).toBe(true);
      rig.wreg(R.REG_INTCLR, 1);
      expect(rig.irqs[0]!.level).toBe(false);
      expect(rig.abort.level).toBe(false);
    }
  });

  it('mem-to-mem with nested DMALP loops (lc1 x lc0) and a tail loop, as Linux emits for a long copy', () => {
    const rig = makeRig();
    const n = 3 * 256 * 32 + 5 * 32;
    const data = pattern(n, 3);
    rig.poke(SRC, data);
    const a = new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 8, srcBurstLen: 4 })).mov('SAR', SRC).mov('DAR', DST)
      .lp(1, 3).lp(0, 256).emit(A.DMALD()).emit(A.DMAST()).lpEnd().lpEnd()
      .lp(0, 5).emit(A.DMALD()).emit(A.DMAST()).lpEnd()
      .emit(A.DMASEV(2)).emit(A.DMAEND());
    rig.poke(PROG, a.bytes);
    rig.go(3, PROG);
    rig.run();
    expect(Array.from(rig.peek(DST, n))).toEqual(data);
    expect(rig.peek(DST + n, 8).every((b) => b === 0)).toBe(true);
    expect(rig.reg(R.REG_INT_EVENT_RIS)).toBe(4);
  });

  it('device to memory: DMAFLUSHP, DMAWFP B, DMALDP B, DMAST per burst (peripheral re-requests after each ack)', () => {
    const rig = makeRig();
    const data = pattern(64, 9);
    const per = new TestPeripheral('uart', rig.dmac, 2, 'source', Uint8Array.from(data), 16);
    rig.bus.addMmio('uart', PERIPH, 0x1000, per);
    const a = new A.Pl330Asm().mov('CCR', R.makeCcr({ srcInc: false, srcBeatBytes: 4, srcBurstLen: 4, dstInc: true })).mov('SAR', PERIPH).mov('DAR', DST)
      .emit(A.DMAFLUSHP(2))
      .lp(0, 4).emit(A.DMAWFP(2, 'B')).emit(A.DMALDP('B', 2)).emit(A.DMAST()).emit(A.DMAFLUSHP(2)).lpEnd()
      .emit(A.DMASEV(1)).emit(A.DMAEND());
    rig.poke(PROG, a.bytes);
    rig.go(0, PROG);
    rig.run();
    expect(Array.from(rig.peek(DST, 64))).toEqual(data);
    expect(per.acks).toBe(4);
    expect(per.flushes).toBe(5);
    expect(rig.reg(R.csrOffset(0)) & 0xf).toBe(R.ST_STOPPED);
  });

  it('a channel waiting for its peripheral shows state 7 with the peripheral number, and resumes on request', () => {
    const rig = makeRig();
    const per = new TestPeripheral('p', rig.dmac, 1, 'source', Uint8Array.from([1, 2, 3, 4]), 4);
    rig.bus.addMmio('p', PERIPH, 0x1000, per);
    rig.poke(PROG, new A.Pl330Asm().mov('CCR', R.makeCcr({ srcInc: false })).mov('SAR', PERIPH).mov('DAR', DST)
      .emit(A.DMAWFP(1, 'P')).emit(A.DMALDP('B', 1)).emit(A.DMAST()).emit(A.DMAEND()).bytes);
    rig.go(0, PROG);
    rig.run();
    const csr = rig.reg(R.csrOffset(0));
    expect(csr & 0xf).toBe(R.ST_WFP);
    expect((csr >> 4) & 0x1f).toBe(1);
    expect((csr >> 15) & 1).toBe(1);
    per.request();
    rig.run();
    expect(Array.from(rig.peek(DST, 4))).toEqual([1, 2, 3, 4]);
    // the DMAWFP that waited is one instruction: 3 DMAMOVs, DMAWFP, DMALDP, DMAST, DMAEND
    expect(rig.dmac.channels[0]!.instructions).toBe(7);
  });

  it('DMALPFE: loop until the peripheral flags its last request (DMAWFP P picks burst/single)', () => {
    const rig = makeRig();
    const data = pattern(48, 4);
    const per = new TestPeripheral('adc', rig.dmac, 0, 'source', Uint8Array.from(data), 16);
    rig.bus.addMmio('adc', PERIPH, 0x1000, per);
    const a = new A.Pl330Asm().mov('CCR', R.makeCcr({ srcInc: false, srcBeatBytes: 4, srcBurstLen: 4 })).mov('SAR', PERIPH).mov('DAR', DST)
      .lpfe().emit(A.DMAWFP(0, 'P')).emit(A.DMALDP('B', 0)).emit(A.DMAST()).lpfeEnd()
      .emit(A.DMASEV(0)).emit(A.DMAEND());
    rig.poke(PROG, a.bytes);
    rig.wreg(R.REG_INTEN, 1);
    per.request();
    rig.go(0, PROG);
    rig.run();
    expect(Array.from(rig.peek(DST, 48))).toEqual(data);
    expect(rig.irqs[0]!.level).toBe(true);
    expect(per.acks).toBe(3);
  });

  it('memory to device: DMAWFP B, DMALD, DMASTP B into a sink peripheral', () => {
    const rig = makeRig();
    const data = pattern(32, 5);
    rig.poke(SRC, data);
    const per = new TestPeripheral('tx', rig.dmac, 3, 'sink', new Uint8Array(0), 16, 32);
    rig.bus.addMmio('tx', PERIPH, 0x1000, per);
    const a = new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 4, dstInc: false })).mov('SAR', SRC).mov('DAR', PERIPH)
      .lp(0, 2).emit(A.DMAWFP(3, 'B')).emit(A.DMALD()).emit(A.DMASTP('B', 3)).lpEnd().emit(A.DMAEND());
    rig.poke(PROG, a.bytes);
    per.request();
    rig.go(0, PROG);
    rig.run();
    expect(per.received).toEqual(data);
  });

  it('two channels run concurrently and share the MFIFO', () => {
    const rig = makeRig();
    const d0 = pattern(2048, 1);
    const d1 = pattern(2048, 2);
    rig.poke(SRC, d0);
    rig.poke(SRC + 0x1000, d1);
    const prog = (s: number, d: number): number[] => new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 16, srcBurstLen: 8 })).mov('SAR', s).mov('DAR', d)
      .lp(0, 16).emit(A.DMALD()).emit(A.DMAST()).lpEnd().emit(A.DMAEND()).bytes;
    rig.poke(PROG, prog(SRC, DST));
    rig.poke(PROG + 0x100, prog(SRC + 0x1000, DST + 0x1000));
    rig.go(0, PROG);
    rig.go(1, PROG + 0x100);
    rig.run();
    expect(Array.from(rig.peek(DST, 2048))).toEqual(d0);
    expect(Array.from(rig.peek(DST + 0x1000, 2048))).toEqual(d1);
  });
});

describe('timing model', () => {
  // program layout (bytes): MOV CCR [0,6) MOV SAR [6,12) MOV DAR [12,18) LP [18,20) LD [20] ST [21]
  // LPEND [22,24) SEV [24,26) END [26]; 16-byte icache lines -> misses at 0 and at 16 (MOV DAR).
  // DMAGO via debug: 1 cycle; MOV CCR 3+1, MOV SAR 1, MOV DAR 3+1, LP 1, 4 x (LD 1+2+4, ST 1+2+4),
  // 4 x LPEND 1, SEV 1 -> SEV runs at 10 + 70 cycles = 710 ns, DMAEND at 720 ns.
  const prog = (): number[] => new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 4 })).mov('SAR', SRC).mov('DAR', DST)
    .lp(0, 4).emit(A.DMALD()).emit(A.DMAST()).lpEnd().emit(A.DMASEV(0)).emit(A.DMAEND()).bytes;

  it('pins the virtual completion time of a known program (accelerators on and off agree)', () => {
    for (const accel of [true, false]) {
      const rig = makeRig({ accel });
      rig.poke(PROG, prog());
      rig.wreg(R.REG_INTEN, 1);
      const [i0, i1] = A.debugInst(A.DMAGO(0, PROG));
      rig.wreg(R.REG_DBGINST0, i0);
      rig.wreg(R.REG_DBGINST1, i1);
      rig.wreg(R.REG_DBGCMD, 0);
      rig.sched.runUntilPredicate(() => rig.irqs[0]!.level);
      expect(rig.sched.now).toBe(710);
      rig.run();
      expect(rig.sched.now).toBe(720);
      expect(rig.reg(R.csrOffset(0)) & 0xf).toBe(R.ST_STOPPED);
    }
  });

  it('charges translation cost reported by the master port to the channel', () => {
    const rig = makeRig({}, { translator: new ToyIommu(50) });
    rig.poke(PROG, prog());
    rig.wreg(R.REG_INTEN, 1);
    rig.go(0, PROG);
    rig.sched.runUntilPredicate(() => rig.irqs[0]!.level);
    // 2 icache fills + 4 loads + 4 stores = 10 lookups x 50 ns
    expect(rig.sched.now).toBe(710 + 500);
  });

  it('narrow bus: the same bytes take more beats (8 x 4-byte beats vs 2 x 16-byte beats)', () => {
    const t = (ccr: number): number => {
      const rig = makeRig({ accel: false });
      rig.poke(PROG, new A.Pl330Asm().mov('CCR', ccr).mov('SAR', SRC).mov('DAR', DST).emit(A.DMALD()).emit(A.DMAST()).emit(A.DMAEND()).bytes);
      rig.go(0, PROG);
      rig.run();
      return rig.sched.now;
    };
    const narrow = t(R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 8 }));
    const wide = t(R.makeCcr({ srcBeatBytes: 16, srcBurstLen: 2 }));
    expect(narrow - wide).toBe(2 * 6 * 10);
  });

  it('emits a per-transfer summary when tracing', () => {
    const rig = makeRig({}, {}, );
    rig.tracer.enabled = true;
    rig.poke(SRC, pattern(256));
    rig.poke(PROG, prog());
    rig.go(0, PROG);
    rig.run();
    const xfer = rig.tracer.events.find((e) => e.kind === 'pl330-xfer');
    expect(xfer).toBeDefined();
    expect(xfer!.f['loaded']).toBe(64);
    expect(xfer!.f['stored']).toBe(64);
    expect(xfer!.dur).toBe(710);
    expect(rig.tracer.events.some((e) => e.kind === 'pl330-insn')).toBe(false);
    const ti = makeRig({ traceInstructions: true });
    ti.tracer.enabled = true;
    ti.poke(PROG, prog());
    ti.go(0, PROG);
    ti.run();
    expect(ti.tracer.events.filter((e) => e.kind === 'pl330-insn').length).toBe(4 + 8 + 4 + 2);
  });
});

describe('manager thread', () => {
  it('boots from boot_addr (boot_en), starts a channel with DMAGO and waits for its event with DMAWFE', () => {
    const rig = makeRig({ bootEn: true, bootAddr: PROG, mgrNsAtReset: false });
    const CH = PROG + 0x100;
    rig.poke(CH, [A.DMAMOV('SAR', 0x1234), A.DMASEV(3), A.DMAEND()].flat());
    rig.poke(PROG, [A.DMAGO(1, CH, true), A.DMAWFE(3), A.DMAEND()].flat());
    expect((rig.reg(R.REG_CR0) >> 1) & 1).toBe(1);
    expect(rig.reg(R.REG_CR2)).toBe(PROG);
    rig.dmac.reset();
    rig.run();
    expect(rig.reg(R.REG_DSR) & 0xf).toBe(R.ST_STOPPED);
    expect(rig.reg(R.REG_DPC)).toBe(PROG + 8);
    expect(rig.reg(R.chanRegOffset(1, 'SAR'))).toBe(0x1234);
    expect((rig.reg(R.csrOffset(1)) >> 21) & 1).toBe(1);
    expect(rig.reg(R.REG_FSRD)).toBe(0);
  });

  it('a manager program with a channel-only instruction faults (undef_instr in FTRD)', () => {
    const rig = makeRig({ bootEn: true, bootAddr: PROG });
    rig.poke(PROG, A.DMALD());
    rig.dmac.reset();
    rig.run();
    expect(rig.reg(R.REG_FSRD)).toBe(1);
    expect(rig.reg(R.REG_FTRD)).toBe(R.FTD_UNDEF_INSTR);
    expect(rig.abort.level).toBe(true);
  });
});

describe('accelerator boundaries', () => {
  it('an event of another component in the middle of a transfer sees what step execution would have left', () => {
    // a "CPU" event at 20 us snapshots the destination, SAR/DAR/LC0 and the MFIFO, then
    // kills the channel: the accelerators may not have run ahead of it (horizon rule)
    for (const translator of [null, new ToyIommu(3)]) {
      const seen: unknown[] = [];
      for (const accel of [true, false]) {
        const rig = makeRig({ accel }, { ramSize: 1 << 20, translator });
        rig.poke(SRC, pattern(65536, 9));
        rig.poke(PROG, new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 16, srcBurstLen: 16 })).mov('SAR', SRC).mov('DAR', DST)
          .lp(1, 16).lp(0, 16).emit(A.DMALD()).emit(A.DMAST()).lpEnd().lpEnd().emit(A.DMAEND()).bytes);
        let snap: unknown = null;
        rig.sched.scheduleAt(20_000, () => {
          snap = {
            dst: Array.from(rig.peek(DST, 65536)).reduce((h, b, i) => (h * 33 + b + i) >>> 0, 0),
            sar: rig.reg(R.chanRegOffset(0, 'SAR')), dar: rig.reg(R.chanRegOffset(0, 'DAR')), lc0: rig.reg(R.chanRegOffset(0, 'LC0')),
            cpc: rig.reg(R.cpcOffset(0)), mfifo: rig.dmac.mfifoLevel,
          };
          rig.dmac.channels[0]!.state = R.ST_STOPPED;
        });
        rig.go(0, PROG);
        rig.run();
        seen.push({ snap, now: rig.sched.now, bytes: rig.port.bytes });
      }
      expect((seen[0] as { snap: { dar: number } }).snap.dar).toBeGreaterThan(DST);
      expect((seen[0] as { snap: { dar: number } }).snap.dar).toBeLessThan(DST + 65536);
      expect(seen[0]).toEqual(seen[1]);
    }
  });

  it('two concurrent channels: identical memory and completion time with and without the accelerators', () => {
    const times: number[] = [];
    for (const accel of [true, false]) {
      const rig = makeRig({ accel });
      rig.poke(SRC, pattern(8192, 6));
      const prog = (s: number, d: number, n: number): number[] => new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 16, srcBurstLen: 4 })).mov('SAR', s).mov('DAR', d)
        .lp(0, n).emit(A.DMALD()).emit(A.DMAST()).lpEnd().emit(A.DMAEND()).bytes;
      rig.poke(PROG, prog(SRC, DST, 64));
      rig.poke(PROG + 0x100, prog(SRC + 0x1000, DST + 0x1000, 16));
      rig.go(0, PROG);
      rig.go(1, PROG + 0x100);
      rig.run();
      const d = pattern(8192, 6);
      expect(Array.from(rig.peek(DST, 4096))).toEqual(d.slice(0, 4096));
      expect(Array.from(rig.peek(DST + 0x1000, 1024))).toEqual(d.slice(0x1000, 0x1400));
      expect(rig.peek(DST + 0x1400, 64).every((b) => b === 0)).toBe(true);
      times.push(rig.sched.now);
    }
    expect(times[0]).toBe(times[1]);
  });

  it('DMAKILL in the middle of a step-path transfer stops it; the channel can be restarted', () => {
    const rig = makeRig({ accel: false });
    const data = pattern(4096, 8);
    rig.poke(SRC, data);
    rig.poke(PROG, new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 16, srcBurstLen: 16 })).mov('SAR', SRC).mov('DAR', DST)
      .lp(0, 16).emit(A.DMALD()).emit(A.DMAST()).lpEnd().emit(A.DMAEND()).bytes);
    rig.go(0, PROG);
    rig.sched.runUntil(2000);
    rig.kill(0);
    const dar = rig.reg(R.chanRegOffset(0, 'DAR'));
    expect(dar).toBeGreaterThan(DST);
    expect(dar).toBeLessThan(DST + 4096);
    expect(rig.peek(dar, 4096 - (dar - DST)).every((b) => b === 0)).toBe(true);
    expect(rig.dmac.mfifoLevel).toBe(0);
    rig.go(0, PROG);
    rig.run();
    expect(Array.from(rig.peek(DST, 4096))).toEqual(data);
  });
});

describe('behind a translation stage (the scenario through the SMMU)', () => {
  it('IOVA 0 / 0x1000 / 0x2000 mapped to RAM: program fetched and data copied through translations, one IRQ', () => {
    const mmu = new ToyIommu(20, RAM_BASE + 0x80000);
    const rig = makeRig({ streamId: 1 }, { translator: mmu });
    const base = RAM_BASE + 0x80000;
    const data = pattern(4096, 11);
    rig.poke(base, data);
    const prog = new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 16, srcBurstLen: 16 })).mov('SAR', 0).mov('DAR', 0x1000)
      .lp(0, 16).emit(A.DMALD()).emit(A.DMARMB()).emit(A.DMAST()).emit(A.DMAWMB()).lpEnd().emit(A.DMASEV(0)).emit(A.DMAEND()).bytes;
    rig.poke(base + 0x2000, prog);
    rig.wreg(R.REG_INTEN, 1);
    rig.go(0, 0x2000);
    rig.run();
    expect(Array.from(rig.peek(base + 0x1000, 4096))).toEqual(data);
    expect(rig.irqs[0]!.rises).toBe(1);
    expect(rig.abort.level).toBe(false);
    // lookups: icache line fills + one per burst (16 loads + 16 stores)
    const lines = Math.ceil(prog.length / 16) + 1;
    expect(mmu.lookups).toBeLessThanOrEqual(32 + lines);
    expect(mmu.lookups).toBeGreaterThanOrEqual(32 + 1);
  });
});
