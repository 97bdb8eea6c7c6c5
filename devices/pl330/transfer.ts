/**
 * PL330 data transfers (ARM DDI 0424, TRM 4.3 DMALD/DMAST/DMASTZ): one burst of the CCR's
 * geometry between the bus and the channel's MFIFO share, with AXI realignment of unaligned
 * bursts (ARM IHI 0022, "Unaligned transfers"), beats wider than the data bus (a documented
 * model choice, docs/PL330.md) and accesses held by a stalling SMMU (emulator/master.ts).
 * Part of the reference executor (pl330.ts calls these for the isa table's executors).
 */
import type { Attrs } from '../../emulator/attrs.js';
import { BUS_OK } from '../../emulator/bus.js';
import * as C from './constants.js';
import { Next } from './isa.js';
import type { Pl330 } from './pl330.js';
import { awaitStall } from './stall.js';
import type { Pl330Thread } from './thread.js';
import { burstCycles } from './timing.js';

/**
 * The beat of a burst of CCR size field `sz` (bytes), or -1 when the thread faults with
 * operand_invalid. A beat wider than the AXI data bus (or a reserved size encoding, 0b101
 * and up) has no TRM sentence saying what the PL330 does; the board property
 * `vfio-arm-emu,pl330-wide-beat` chooses (docs/PL330.md, "Beats wider than the data bus"):
 * 'fault-at-access' (default) faults here, at the DMALD/DMAST, 'narrow' issues bus-wide
 * beats, 'fault-at-dmamov' already refused the CCR (isa.ts DMAMOV) so no such CCR reaches
 * here except the reset CCR, which is 1-byte beats.
 */
export function beatBytes(x: Pl330, sz: number): number {
  const size = 1 << sz;
  if (sz <= 4 && size <= x.busBytes) return size;
  return x.cfg.wideBeat === 'narrow' ? x.busBytes : -1;
}

/**
 * Bytes one burst of `len` beats of `size` bytes moves from `addr` (realignment).
 * AMBA AXI (ARM IHI 0022, "Unaligned transfers"): a burst from an address that is not
 * aligned to its beat size carries only the bytes from the address up to the next beat
 * boundary in its first beat; an incrementing burst's later beats are aligned. So an
 * incrementing burst moves len x size - (addr mod size) bytes and leaves the address
 * aligned; a fixed-address burst repeats the same partial beat, (size - addr mod size)
 * bytes each. The PL330 packs what it reads into the MFIFO byte by byte and a store takes
 * the bytes its own burst carries (TRM, MFIFO usage), so a program with an unaligned SAR
 * or DAR moves fewer bytes in the first burst and realigns, as on the bus.
 */
export function burstBytes(addr: number, size: number, len: number, inc: boolean): number {
  const skew = (addr >>> 0) & (size - 1);
  return inc ? size * len - skew : (size - skew) * len;
}

/**
 * The bus side of one burst: an incrementing burst is one block of `n` bytes; a fixed-address
 * burst is `len` beats of n / len bytes at the same address. Returns BUS_OK or the first
 * failing beat's status.
 */
function busBurst(x: Pl330, addr: number, buf: Uint8Array, n: number, len: number, inc: boolean, attrs: Attrs, write: boolean): number {
  if (inc) return write ? x.port.writeBlock(addr, buf, 0, n, attrs) : x.port.readBlock(addr, buf, 0, n, attrs);
  const beat = n / len;
  let st = BUS_OK;
  for (let i = 0; i < len && st === BUS_OK; i++) st = write ? x.port.writeBlock(addr, buf, i * beat, beat, attrs) : x.port.readBlock(addr, buf, i * beat, beat, attrs);
  return st;
}

/** DMALD (TRM 4.3): one burst of CCR's source geometry into the channel's MFIFO share */
export function loadBurst(x: Pl330, t: Pl330Thread): Next {
  const size = x.beatBytes(C.ccrSrcSize(t.ccr));
  const len = C.ccrSrcLen(t.ccr);
  if (size < 0) {
    x.fault(t, C.FT_OPERAND_INVALID);
    return Next.Stop;
  }
  const inc = C.ccrSrcInc(t.ccr);
  const n = burstBytes(t.sar, size, len, inc);
  const fifo = t.fifo!;
  if (n > x.mfifo.free) {
    const others = x.mfifo.used - fifo.len;
    if (others === 0 || n > x.mfifoBytes - fifo.len) {
      x.fault(t, C.FT_MFIFO_ERR);
      return Next.Stop;
    }
    return x.mfifoWait(t);
  }
  t.stallCycles = 0;
  const attrs = x.dataAttrs(C.ccrSrcProt(t.ccr), false);
  const st = busBurst(x, t.sar, x.burst, n, len, inc, attrs, false);
  x.cycles += burstCycles(len);
  if (st !== BUS_OK) {
    if (x.port.stalled !== null) return awaitStall(x, t, C.FT_DATA_READ_ERR, true);
    x.fault(t, C.FT_DATA_READ_ERR);
    return Next.Stop;
  }
  x.mfifo.push(t, x.burst, 0, n);
  t.bytesLoaded += n;
  t.lastSrcPage = Math.floor(t.sar / 4096) === Math.floor((t.sar + n - 1) / 4096) ? Math.floor(t.sar / 4096) : -1;
  if (inc) t.sar = (t.sar + n) >>> 0;
  return Next.Advance;
}

/** DMAST / DMASTZ (TRM 4.3): one burst of CCR's destination geometry from the MFIFO (or zeros) */
export function storeBurst(x: Pl330, t: Pl330Thread, zero: boolean): Next {
  const size = x.beatBytes(C.ccrDstSize(t.ccr));
  const len = C.ccrDstLen(t.ccr);
  if (size < 0) {
    x.fault(t, C.FT_OPERAND_INVALID);
    return Next.Stop;
  }
  const inc = C.ccrDstInc(t.ccr);
  const n = burstBytes(t.dar, size, len, inc);
  const fifo = t.fifo!;
  const buf = x.burst;
  const replay = t.replayStore;
  t.replayStore = null;
  if (zero) buf.fill(0, 0, n);
  else if (replay !== null) buf.set(replay.subarray(0, n)); // a stalled store retried: the burst it took
  else {
    if (fifo.len < n) {
      // the program stores more than it loaded
      x.fault(t, C.FT_ST_DATA_UNAVAILABLE);
      return Next.Stop;
    }
    x.mfifo.pop(t, buf, 0, n);
    const es = C.ccrEndianSwap(t.ccr);
    if (es >= 1 && es <= 4) {
      // Simplification (docs/PL330.md): swap groups counted from the burst's first byte
      const g = 1 << es;
      for (let i = 0; i + g <= n; i += g) buf.subarray(i, i + g).reverse();
    }
  }
  const attrs = x.dataAttrs(C.ccrDstProt(t.ccr), true);
  const st = busBurst(x, t.dar, buf, n, len, inc, attrs, true);
  x.cycles += burstCycles(len);
  if (st !== BUS_OK) {
    if (x.port.stalled !== null) {
      if (!zero) t.replayStore = buf.slice(0, n);
      return awaitStall(x, t, C.FT_DATA_WRITE_ERR, true);
    }
    x.fault(t, C.FT_DATA_WRITE_ERR);
    return Next.Stop;
  }
  t.bytesStored += n;
  t.lastDstPage = Math.floor(t.dar / 4096) === Math.floor((t.dar + n - 1) / 4096) ? Math.floor(t.dar / 4096) : -1;
  if (inc) t.dar = (t.dar + n) >>> 0;
  return Next.Advance;
}
