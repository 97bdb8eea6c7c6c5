import { describe, expect, it } from 'vitest';
import { ATTR_INSTR, ATTR_NS, ATTR_PRIV, isInstr, isWrite } from '../../emulator/attrs.js';
import * as A from './assembler.js';
import * as R from './constants.js';
import { makeRig, RAM_BASE, ToyIommu } from './testing/fixture.js';

const PROG = RAM_BASE + 0x10000;
const SRC = RAM_BASE + 0x20000;
const DST = RAM_BASE + 0x40000;
const copyProg = (src: number, dst: number): number[] =>
  new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 16, srcBurstLen: 16 })).mov('SAR', src).mov('DAR', dst)
    .lp(0, 4).emit(A.DMALD()).emit(A.DMAST()).lpEnd().emit(A.DMASEV(0)).emit(A.DMAEND()).bytes;

describe('faults through the master port', () => {
  it('fetching from an address with nothing behind it: instr_fetch_err + abort IRQ; DMAKILL recovers', () => {
    const rig = makeRig();
    rig.go(0, 0x10000000);
    rig.run();
    expect(rig.reg(R.ftrOffset(0))).toBe(R.FT_INSTR_FETCH_ERR);
    expect(rig.reg(R.REG_FSRC)).toBe(1);
    expect(rig.reg(R.csrOffset(0)) & 0xf).toBe(R.ST_FAULTING);
    expect(rig.reg(R.cpcOffset(0))).toBe(0x10000000);
    expect(rig.abort.level).toBe(true);
    // a second channel faulting keeps the line up until both are killed
    rig.go(1, 0x10000000);
    rig.run();
    expect(rig.reg(R.REG_FSRC)).toBe(3);
    rig.kill(0);
    expect(rig.abort.level).toBe(true);
    rig.kill(1);
    expect(rig.abort.level).toBe(false);
    expect(rig.reg(R.REG_FSRC)).toBe(0);
    expect(rig.reg(R.csrOffset(0)) & 0xf).toBe(R.ST_STOPPED);
    // and the channel works again
    rig.poke(SRC, Array.from({ length: 1024 }, (_, i) => i & 0xff));
    rig.poke(PROG, copyProg(SRC, DST));
    rig.go(0, PROG);
    rig.run();
    expect(Array.from(rig.peek(DST, 1024))).toEqual(Array.from({ length: 1024 }, (_, i) => i & 0xff));
  });

  it('an execute-never translation refuses the instruction fetch (instruction attribute) but not data', () => {
    const mmu = new ToyIommu(0);
    const rig = makeRig({ streamId: 5 }, { translator: mmu });
    rig.poke(PROG, copyProg(SRC, DST));
    mmu.xnPages.add(Math.floor(PROG / 4096));
    rig.go(0, PROG);
    rig.run();
    expect(rig.reg(R.ftrOffset(0))).toBe(R.FT_INSTR_FETCH_ERR);
    expect(rig.abort.level).toBe(true);
    expect(isInstr(mmu.seen[0]!)).toBe(true);
    expect(mmu.seen[0]! & (ATTR_INSTR | ATTR_PRIV | ATTR_NS)).toBe(ATTR_INSTR | ATTR_PRIV | ATTR_NS);
    expect(mmu.seen[0]! >>> 16).toBe(5);
    rig.kill(0);
    mmu.xnPages.clear();
    mmu.seen.length = 0;
    rig.go(0, PROG);
    rig.run();
    expect(rig.reg(R.ftrOffset(0))).toBe(0);
    const data = mmu.seen.filter((a) => !isInstr(a));
    expect(data.length).toBeGreaterThan(0);
    // CCR prot: non-secure, unprivileged data; stores carry WRITE; all carry the stream id
    expect(data.every((a) => (a & (ATTR_NS | ATTR_PRIV | ATTR_INSTR)) === ATTR_NS && a >>> 16 === 5)).toBe(true);
    expect(data.some((a) => isWrite(a))).toBe(true);
  });

  it('CCR prot bits reach the bus (privileged, non-secure, instruction) for loads and stores', () => {
    const mmu = new ToyIommu(0);
    const rig = makeRig({ mgrNsAtReset: false }, { translator: mmu });
    rig.poke(PROG, new A.Pl330Asm().mov('CCR', R.makeCcr({ srcProt: 0b100, dstProt: 0b011 })).mov('SAR', SRC).mov('DAR', DST).emit(A.DMALD()).emit(A.DMAST()).emit(A.DMAEND()).bytes);
    rig.go(0, PROG, false); // secure channel: may program secure accesses
    rig.run();
    expect(rig.reg(R.ftrOffset(0))).toBe(0);
    const fetches = mmu.seen.filter((a) => (a & ATTR_PRIV) !== 0 && isInstr(a) && !isWrite(a));
    expect(fetches.length).toBeGreaterThan(0);
    expect(fetches.every((a) => (a & ATTR_NS) === 0)).toBe(true); // secure channel fetches secure
    expect(mmu.seen.filter((a) => (a & 0xf) === ATTR_INSTR).length).toBe(1); // the load: instr, unpriv, secure
    expect(mmu.seen.filter((a) => (a & 0xf) === (1 | ATTR_PRIV | ATTR_NS)).length).toBe(1); // the store
  });

  it('load from an unmapped page: data_read_err; store to an unmapped page: data_write_err', () => {
    const mmu = new ToyIommu(0);
    const rig = makeRig({}, { translator: mmu });
    rig.poke(PROG, copyProg(SRC, DST));
    mmu.unmappedPages.add(Math.floor(SRC / 4096));
    rig.go(0, PROG);
    rig.run();
    expect(rig.reg(R.ftrOffset(0))).toBe(R.FT_DATA_READ_ERR);
    expect(rig.reg(R.cpcOffset(0))).toBe(PROG + 20);
    expect(rig.abort.level).toBe(true);
    rig.kill(0);
    mmu.unmappedPages.clear();
    mmu.unmappedPages.add(Math.floor(DST / 4096));
    rig.go(0, PROG);
    rig.run();
    expect(rig.reg(R.ftrOffset(0))).toBe(R.FT_DATA_WRITE_ERR);
    expect(rig.reg(R.cpcOffset(0))).toBe(PROG + 21);
    expect(rig.dmac.mfifoLevel).toBe(0); // popped for the failed burst
    rig.kill(0);
    // bus decode error on a store (no translator in the way)
    const bare = makeRig();
    bare.poke(PROG, copyProg(SRC, 0x10000000));
    bare.go(0, PROG);
    bare.run();
    expect(bare.reg(R.ftrOffset(0))).toBe(R.FT_DATA_WRITE_ERR);
  });

  it('a beat wider than the data bus (16-byte beats on a 64-bit bus) is operand_invalid at the DMALD', () => {
    const rig = makeRig({ dataWidthBits: 64 });
    rig.poke(PROG, copyProg(SRC, DST));
    rig.go(0, PROG);
    rig.run();
    expect(rig.reg(R.ftrOffset(0))).toBe(R.FT_OPERAND_INVALID);
    expect(rig.reg(R.cpcOffset(0))).toBe(PROG + 20);
    expect(rig.peek(DST, 16).every((b) => b === 0)).toBe(true);
    // the same program on a 128-bit bus is legal
    const wide = makeRig({ dataWidthBits: 128 });
    wide.poke(PROG, copyProg(SRC, DST));
    wide.go(0, PROG);
    wide.run();
    expect(wide.reg(R.ftrOffset(0))).toBe(0);
  });

  it('storing more than was loaded: st_data_unavailable; a burst larger than the MFIFO: mfifo_err', () => {
    const rig = makeRig();
    rig.poke(PROG, new A.Pl330Asm().mov('CCR', R.makeCcr()).mov('DAR', DST).emit(A.DMAST()).bytes);
    rig.go(0, PROG);
    rig.run();
    expect(rig.reg(R.ftrOffset(0))).toBe(R.FT_ST_DATA_UNAVAILABLE);
    const tiny = makeRig({ dataWidthBits: 32, mfifoDepth: 4 });
    tiny.poke(PROG, new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 3 })).mov('SAR', SRC).emit(A.DMALD()).emit(A.DMALD()).bytes);
    tiny.go(0, PROG);
    tiny.run();
    expect(tiny.reg(R.ftrOffset(0))).toBe(R.FT_MFIFO_ERR);
    expect(tiny.reg(R.cpcOffset(0))).toBe(PROG + 13);
  });

  it('watchdog: a channel starved of MFIFO space by another channel locks up (lockup_err), or only raises abort with wd_irq_only', () => {
    for (const irqOnly of [false, true]) {
      const rig = makeRig({ dataWidthBits: 32, mfifoDepth: 4 });
      if (irqOnly) rig.wreg(R.REG_WD, 1);
      // channel 1 loads 12 bytes then waits forever; channel 0 then needs 8 bytes
      rig.poke(PROG + 0x100, new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 3 })).mov('SAR', SRC).emit(A.DMALD()).emit(A.DMAWFE(5)).bytes);
      rig.go(1, PROG + 0x100);
      rig.run();
      rig.poke(PROG, new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 2 })).mov('SAR', SRC).emit(A.DMALD()).emit(A.DMAEND()).bytes);
      rig.go(0, PROG);
      const r = rig.sched.runUntilPredicate(() => rig.abort.level, { within: 1_000_000 });
      expect(r.reason).toBe('predicate');
      if (!irqOnly) {
        expect(rig.reg(R.ftrOffset(0))).toBe(R.FT_LOCKUP_ERR >>> 0);
        expect(rig.reg(R.REG_FSRC)).toBe(1);
      } else {
        expect(rig.reg(R.REG_FSRC)).toBe(0);
        expect(rig.reg(R.csrOffset(0)) & 0xf).toBe(R.ST_EXECUTING);
        // once channel 1 gives its data up, channel 0 proceeds
        rig.kill(1);
        rig.run();
        expect(rig.reg(R.csrOffset(0)) & 0xf).toBe(R.ST_STOPPED);
        expect(rig.reg(R.ftrOffset(0))).toBe(0);
      }
    }
  });

  it('an endless DMA loop only consumes virtual time and event budget', () => {
    const rig = makeRig();
    rig.poke(PROG, new A.Pl330Asm().lpfe().emit(A.DMANOP()).lpfeEnd().bytes);
    rig.go(0, PROG);
    const r = rig.sched.runUntilIdle(5000);
    expect(r.reason).toBe('event-limit');
    const r2 = rig.sched.runUntilPredicate(() => false, { within: 100_000 });
    expect(r2.reason).toBe('time-limit');
    expect(rig.reg(R.csrOffset(0)) & 0xf).toBe(R.ST_EXECUTING);
    rig.kill(0);
    expect(rig.sched.runUntilIdle(100).reason).toBe('idle');
  });
});
