/**
 * The faulting instruction of a data fault (locate.ts): what Unicorn 2.0.1 leaves at a failed
 * access (the registers before the instruction, the PC at the block's start), the Thumb
 * decoding with IT state, and the search itself on raw ARM and Thumb blocks.
 */
import { describe, expect, it } from 'vitest';
import { UnicornEngine } from './engine.js';
import { blockInsns, itAdvance, itOf, locateDataFault, withIt } from './locate.js';
import { UC_ARM_REG_CPSR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ERR_WRITE_PROT, UC_ERR_WRITE_UNMAPPED, UC_HOOK_BLOCK, UC_HOOK_MEM_PROT, UC_HOOK_MEM_UNMAPPED } from './native.js';
import { shouldSkipUnicornTests } from './testing/guest-build.js';

const skip = shouldSkipUnicornTests();

describe('IT state and block decoding (pure)', () => {
  it('ITAdvance shifts the mask and ends the block; the IT bits of CPSR round-trip', () => {
    // ITTE EQ: firstcond 0, mask 0b0110 -> 0x06; then 0x0c, 0x18 (else: cond bit 0 set), then 0
    expect(itAdvance(0x06)).toBe(0x0c);
    expect(itAdvance(0x0c)).toBe(0x18);
    expect(itAdvance(0x18)).toBe(0);
    expect(itAdvance(0)).toBe(0);
    for (const it of [0, 0x06, 0x18, 0xab, 0xff]) expect(itOf(withIt(0x600001f0, it))).toBe(it);
    expect(withIt(0x600001f0, 0) & 0xffff).toBe(0x01f0);
  });

  it('Thumb blocks: 16- and 32-bit encodings, an IT instruction is no candidate and sets the state of the ones after it', () => {
    // movs r2,#0; cmp r2,#0; ite eq; ldreq r0,[r0]; movne r2,#5; ldr.w r0,[r1,#4]; bx lr
    const hw = [0x2200, 0x2a00, 0xbf0c, 0x6800, 0x2205, 0xf8d1, 0x0004, 0x4770];
    const code = new Uint8Array(new Uint16Array(hw).buffer);
    const ins = blockInsns(code, 0x1000, true, 0);
    expect(ins.map((i) => [i.pc - 0x1000, i.size, i.it])).toEqual([[0, 2, 0], [2, 2, 0], [6, 2, 0x0c], [8, 2, 0x18], [10, 4, 0], [14, 2, 0]]);
    expect(blockInsns(new Uint8Array(12), 0x2000, false, 0).map((i) => i.pc)).toEqual([0x2000, 0x2004, 0x2008]);
  });
});

describe.skipIf(skip)('data faults in Unicorn 2.0.1 and the locator', () => {
  /** an engine with `words` of ARM (or halfwords of Thumb) code at 0x10000, a read-only page at 0x30000, nothing at 0x40000 */
  function rig(code: Uint8Array): { e: UnicornEngine; blocks: [number, number][]; close: () => void } {
    const e = new UnicornEngine();
    const ram = new Uint8Array(0x10000);
    ram.set(code, 0);
    e.check('map', e.api.uc_mem_map_ptr(e.uc, 0x10000, ram.length, 7, ram));
    e.check('map ro', e.api.uc_mem_map(e.uc, 0x30000, 0x1000, 1));
    const blocks: [number, number][] = [];
    e.hook(UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT, e.callback((() => false) as never, 'eventmem'));
    e.hook(UC_HOOK_BLOCK, e.callback(((_u: unknown, a: number, size: number) => void blocks.push([a, size])) as never, 'hookcode'));
    return { e, blocks, close: () => e.close() };
  }
  const arm = (w: number[]): Uint8Array => new Uint8Array(new Uint32Array(w).buffer);

  it('after a failed store the registers are those before it (the instructions after it did not run) and the PC is the block\'s start', () => {
    // movw r2,#0; movt r2,#4 (0x40000: unmapped); mov r1,#1; str r0,[r2]; mov r1,#2; mov r3,#7; b .
    for (const [target, err] of [[0x4, UC_ERR_WRITE_UNMAPPED], [0x3, UC_ERR_WRITE_PROT]] as const) {
      const { e, blocks, close } = rig(arm([0xe3002000, 0xe3402000 | target, 0xe3a01001, 0xe5820000, 0xe3a01002, 0xe3a03007, 0xeafffffe]));
      try {
        expect(e.api.uc_emu_start(e.uc, 0x10000, 0x10018, 0, 0)).toBe(err);
        expect(e.reg(UC_ARM_REG_R0 + 1)).toBe(1);
        expect(e.reg(UC_ARM_REG_R0 + 3)).toBe(0);
        expect(e.reg(UC_ARM_REG_PC)).toBe(0x10000);
        // the locator names the store, the fourth instruction
        const [start, size] = blocks[blocks.length - 1]!;
        expect(locateDataFault(e, start, size, target << 16, true)).toEqual({ pc: 0x1000c, it: 0 });
        // a load would not match a store's fault, nor another address
        expect(locateDataFault(e, start, size, target << 16, false)).toBeNull();
        expect(locateDataFault(e, start, size, (target << 16) + 4, true)).toBeNull();
      } finally {
        close();
      }
    }
  });

  it('Thumb: a load inside an IT block is found with the IT state it runs under; an earlier access elsewhere does not mislead it', () => {
    // ldr r3,[r1] (r1 = 0x30000: readable); movs r2,#0; cmp r2,#0; ite eq; ldreq r0,[r0]; movne r2,#5; b .
    const hw = [0x680b, 0x2200, 0x2a00, 0xbf0c, 0x6800, 0x2205, 0xe7fe];
    const { e, blocks, close } = rig(new Uint8Array(new Uint16Array(hw).buffer));
    try {
      e.setReg(UC_ARM_REG_R0, 0x40000);
      e.setReg(UC_ARM_REG_R0 + 1, 0x30000);
      e.api.uc_emu_start(e.uc, 0x10001, 0x1000c, 0, 0);
      const [start, size] = blocks[blocks.length - 1]!;
      expect((e.reg(UC_ARM_REG_CPSR) >>> 5) & 1).toBe(1);
      expect(locateDataFault(e, start, size, 0x40000, false)).toEqual({ pc: 0x10008, it: 0x0c });
    } finally {
      close();
    }
  });
});
