/**
 * Issue 16 item 7: PL330 details a differential test against another implementation found
 * (CSR NS after reset, icache line words, unaligned bursts, beats wider than the data bus,
 * the PC of a thread stopped by DMAEND).
 */
import { describe, expect, it } from 'vitest';
import { parseDts } from '../../emulator/dt/parser.js';
import type { DtNode } from '../../emulator/dt/types.js';
import { createMachine } from '../../emulator/machine.js';
import { defaultRegistry } from '../registry.js';
import * as A from './assembler.js';
import * as R from './constants.js';
import { pl330ConfigFromNode } from './index.js';
import { makeRig, RAM_BASE } from './testing/fixture.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const PROG = RAM_BASE + 0x1000;
const SRC = RAM_BASE + 0x10000;
const DST = RAM_BASE + 0x30000;
const RAM = 0x50000;
const CNS = 1 << 21;

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0xff);

describe('(a) CSR after reset: a channel that never ran is secure (CSn reset value 0, TRM 3.4)', () => {
  it('fresh controller: every CSR reads 0; after a non-secure run and a reset, 0 again', () => {
    const rig = makeRig({}, { ramSize: RAM });
    for (let c = 0; c < 8; c++) expect(rig.reg(R.csrOffset(c))).toBe(0);
    rig.poke(PROG, new A.Pl330Asm().emit(A.DMAWFE(3)).emit(A.DMAEND()).bytes);
    rig.go(2, PROG, true);
    rig.run();
    expect(rig.reg(R.csrOffset(2)) & CNS).toBe(CNS);
    rig.dmac.reset();
    expect(rig.reg(R.csrOffset(2))).toBe(0);
    // the manager's DNS still follows boot_manager_ns
    expect((rig.reg(R.REG_DSR) >>> 9) & 1).toBe(1);
  });
});

describe('(b) arm,pl330-icache-line-words: CR1 encodes 4, 8, 16 or 32 words only', () => {
  const node = (words: number): DtNode => parseDts(`/dts-v1/; / { dma { arm,pl330-icache-line-words = <${words}>; }; };`, 'b.dts').root.children[0]!;
  it.each([4, 8, 16, 32])('%i words: accepted, CR1 icache_len says so', (w) => {
    const cfg = pl330ConfigFromNode(node(w));
    expect(cfg.icacheLineWords).toBe(w);
    const rig = makeRig(cfg);
    expect(1 << (rig.reg(R.REG_CR1) & 7)).toBe(w);
  });
  it.each([1, 2, 3, 5, 12, 64])('%i words: refused (no silent 4)', (w) => {
    expect(() => pl330ConfigFromNode(node(w))).toThrow(/arm,pl330-icache-line-words = \d+: CR1 icache_len encodes 4, 8, 16 or 32 words/);
    expect(() => makeRig({ icacheLineWords: w })).toThrow(/CR1 encodes 4, 8, 16 or 32/);
  });
  it('a board with an illegal value is refused at the node, file:line:col', () => {
    const src = readFileSync(join(__dirname, '../../emulator/boards/vexpress-vfio.dts'), 'utf8');
    expect(src).toContain('arm,pl330-icache-line-words = <4>;');
    const bad = src.replace('arm,pl330-icache-line-words = <4>;', 'arm,pl330-icache-line-words = <6>;');
    const lines = src.split('\n');
    const nodeLine = lines.findIndex((l) => /dma@2c0a0000\s*\{/.test(l)) + 1;
    expect(nodeLine).toBeGreaterThan(0);
    expect(() => createMachine({ dts: bad, file: 'bad.dts', registry: defaultRegistry() })).toThrow(
      new RegExp(`^bad\\.dts:${nodeLine}:\\d+: .*arm,pl330-icache-line-words = 6: CR1 icache_len encodes 4, 8, 16 or 32 words`),
    );
  });
});

describe('(c) unaligned bursts realign (AXI IHI 0022 unaligned transfers)', () => {
  it('an incrementing burst from SAR = 4n+1 (4-byte beats x 4) moves 15 bytes and leaves SAR aligned; the next bursts are whole', () => {
    for (const accel of [false, true]) {
      const rig = makeRig({ accel }, { ramSize: RAM });
      rig.poke(SRC, pattern(256));
      const ccr = R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 4, dstBeatBytes: 1, dstBurstLen: 15 });
      // one load, one 15-byte store, then a loop of whole 16-byte bursts (accelerated when on)
      const ccr2 = R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 4, dstBeatBytes: 1, dstBurstLen: 16 });
      const a = new A.Pl330Asm().mov('CCR', ccr).mov('SAR', SRC + 1).mov('DAR', DST).emit(A.DMALD()).emit(A.DMAST())
        .mov('CCR', ccr2).lp(0, 8).emit(A.DMALD()).emit(A.DMAST()).lpEnd().emit(A.DMAEND());
      rig.poke(PROG, a.bytes);
      rig.go(0, PROG);
      rig.run();
      expect(rig.reg(R.ftrOffset(0))).toBe(0);
      expect(rig.reg(R.chanRegOffset(0, 'SAR'))).toBe(SRC + 16 + 8 * 16);
      expect(rig.reg(R.chanRegOffset(0, 'DAR'))).toBe(DST + 15 + 8 * 16);
      expect(Array.from(rig.peek(DST, 15 + 128))).toEqual(Array.from(pattern(256).subarray(1, 16 + 128)));
      expect(rig.peek(DST + 15 + 128, 4).every((b) => b === 0)).toBe(true);
      expect(rig.dmac.channels[0]!.bytesLoaded).toBe(15 + 128);
    }
  });

  it('an unaligned store: DAR = 8n+3 with 8-byte beats x 2 writes 13 bytes, then aligned', () => {
    const rig = makeRig({}, { ramSize: RAM });
    rig.poke(SRC, pattern(64));
    const a = new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 1, srcBurstLen: 13, dstBeatBytes: 8, dstBurstLen: 2 }))
      .mov('SAR', SRC).mov('DAR', DST + 3).emit(A.DMALD()).emit(A.DMAST()).emit(A.DMAEND());
    rig.poke(PROG, a.bytes);
    rig.go(0, PROG);
    rig.run();
    expect(rig.reg(R.ftrOffset(0))).toBe(0);
    expect(rig.reg(R.chanRegOffset(0, 'DAR'))).toBe(DST + 16);
    expect(Array.from(rig.peek(DST, 17))).toEqual([0, 0, 0, ...Array.from(pattern(13)), 0]);
  });

  it('a fixed-address burst from an unaligned address repeats the partial beat', () => {
    const rig = makeRig({}, { ramSize: RAM });
    rig.poke(SRC, pattern(16));
    const a = new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 3, srcInc: false, dstBeatBytes: 1, dstBurstLen: 3 }))
      .mov('SAR', SRC + 2).mov('DAR', DST).emit(A.DMALD()).emit(A.DMAST()).emit(A.DMAST()).emit(A.DMAEND());
    rig.poke(PROG, a.bytes);
    rig.go(0, PROG);
    rig.run();
    // 3 beats of the 2 bytes at SRC+2..3
    const p = pattern(16);
    expect(Array.from(rig.peek(DST, 7))).toEqual([p[2], p[3], p[2], p[3], p[2], p[3], 0]);
    expect(rig.reg(R.chanRegOffset(0, 'SAR'))).toBe(SRC + 2);
  });
});

describe('(d) a beat wider than the data bus: a configurable model choice', () => {
  const prog = (): number[] => new A.Pl330Asm().mov('SAR', SRC).mov('DAR', DST).mov('CCR', R.makeCcr({ srcBeatBytes: 16, srcBurstLen: 2 }))
    .emit(A.DMALD()).emit(A.DMAST()).emit(A.DMAEND()).bytes;
  const run = (wideBeat: 'fault-at-dmamov' | 'fault-at-access' | 'narrow') => {
    const rig = makeRig({ dataWidthBits: 64, wideBeat }, { ramSize: RAM });
    rig.poke(SRC, pattern(64));
    rig.poke(PROG, prog());
    rig.go(0, PROG);
    rig.run();
    return rig;
  };
  it('fault-at-access (default): operand_invalid at the DMALD', () => {
    const rig = run('fault-at-access');
    expect(rig.reg(R.ftrOffset(0))).toBe(R.FT_OPERAND_INVALID);
    expect(rig.reg(R.cpcOffset(0))).toBe(PROG + 18);
  });
  it('fault-at-dmamov: operand_invalid at the DMAMOV CCR, CCR unchanged', () => {
    const rig = run('fault-at-dmamov');
    expect(rig.reg(R.ftrOffset(0))).toBe(R.FT_OPERAND_INVALID);
    expect(rig.reg(R.cpcOffset(0))).toBe(PROG + 12);
    expect(rig.reg(R.chanRegOffset(0, 'CCR'))).toBe(R.CCR_RESET);
  });
  it('narrow: bus-wide (8-byte) beats, 2 x 8 bytes per burst', () => {
    const rig = run('narrow');
    expect(rig.reg(R.ftrOffset(0))).toBe(0);
    expect(rig.reg(R.chanRegOffset(0, 'SAR'))).toBe(SRC + 16);
    expect(Array.from(rig.peek(DST, 17))).toEqual([...Array.from(pattern(16)), 0]);
  });
  it('the board property selects the mode; an unknown mode is refused', () => {
    const node = (v: string): DtNode => parseDts(`/dts-v1/; / { dma { vfio-arm-emu,pl330-wide-beat = ${v}; }; };`, 'd.dts').root.children[0]!;
    expect(pl330ConfigFromNode(node('"narrow"')).wideBeat).toBe('narrow');
    expect(pl330ConfigFromNode(node('"fault-at-dmamov"')).wideBeat).toBe('fault-at-dmamov');
    expect(pl330ConfigFromNode(parseDts('/dts-v1/; / { dma { }; };', 'd.dts').root.children[0]!).wideBeat).toBe('fault-at-access');
    expect(() => pl330ConfigFromNode(node('"truncate"'))).toThrow(/vfio-arm-emu,pl330-wide-beat = "truncate": expected one of "fault-at-dmamov", "fault-at-access", "narrow"/);
  });
});

describe('(e) DMAEND: the PC of a stopped thread (TRM: undefined) is the DMAEND\'s address', () => {
  it('CPC after completion points at the DMAEND that stopped the channel; DPC likewise for the manager', () => {
    const a = new A.Pl330Asm().emit(A.DMANOP()).emit(A.DMANOP()).emit(A.DMAEND());
    for (const accel of [false, true]) {
      const rig = makeRig({ accel }, { ramSize: RAM });
      rig.poke(PROG, a.bytes);
      rig.go(5, PROG);
      rig.run();
      expect(rig.reg(R.csrOffset(5)) & 0xf).toBe(R.ST_STOPPED);
      expect(rig.reg(R.cpcOffset(5))).toBe(PROG + 2);
    }
    const boot = makeRig({ bootEn: true, bootAddr: PROG }, { ramSize: RAM });
    boot.poke(PROG, a.bytes);
    boot.dmac.reset();
    boot.run();
    expect(boot.reg(R.REG_DSR) & 0xf).toBe(R.ST_STOPPED);
    expect(boot.reg(R.REG_DPC)).toBe(PROG + 2);
  });
});
