import { ACCEL_DEFAULT } from '../../emulator/accel.js';
import { PhysicalBus } from '../../emulator/bus.js';
import { MasterPort, type TranslationStage } from '../../emulator/master.js';
import { Scheduler } from '../../emulator/scheduler.js';
import { Pl330Asm, DMAEND, DMALD, DMAST, DMASEV } from './assembler.js';
import { makeCcr } from './constants.js';
import { Pl330 } from './pl330.js';

export interface Pl330BenchResult {
  bytes: number;
  virtualNs: number;
  hostMs: number;
  /** host MB/s (1 MB = 2^20 bytes) */
  hostMBps: number;
  /** destination equals source */
  ok: boolean;
}

/**
 * Mem-to-mem transfer of `bytes` (a multiple of 256) on a bare bus (no SMMU unless
 * `opts.translator` is given: an identity stage measures the translated path), programmed
 * the way Linux does it: 16-byte beats x 16 on a 128-bit bus, nested DMALP loops.
 * `now` is the host clock used for hostMs (passed in by the tool; the model never
 * reads it).
 */
export function runPl330Bench(
  bytes: number,
  now: () => number,
  opts: { accel?: boolean; translator?: TranslationStage | null } = {},
): Pl330BenchResult {
  const burst = 256;
  const bursts = Math.max(1, Math.floor(bytes / burst));
  bytes = bursts * burst;
  const sched = new Scheduler();
  const bus = new PhysicalBus();
  const src = 0x80000000;
  const dst = src + bytes;
  const prog = src + 2 * bytes;
  bus.addRam('ram', src, 2 * bytes + 4096);
  const port = new MasterPort(bus, 'pl330', opts.translator ?? null);
  const dmac = new Pl330({ dataWidthBits: 128, accel: opts.accel ?? ACCEL_DEFAULT }, { scheduler: sched, port, eventIrqs: [], abortIrq: null });
  const ram = bus.ramAt(src, 2 * bytes + 4096)!;
  for (let i = 0; i < bytes; i += 4) ram.write32(i, (i * 2654435761) >>> 0);
  // touch the destination first so that host page faults are not what is measured
  ram.fill(bytes, 0xa5, bytes);
  const a = new Pl330Asm();
  a.mov('CCR', makeCcr({ srcBeatBytes: 16, srcBurstLen: 16 })).mov('SAR', src).mov('DAR', dst);
  let left = bursts;
  while (left > 0) {
    const outer = Math.min(256, Math.max(1, Math.floor(left / 256)));
    const inner = Math.min(256, left);
    if (left >= 256) {
      a.lp(1, outer).lp(0, 256).emit(DMALD()).emit(DMAST()).lpEnd().lpEnd();
      left -= outer * 256;
    } else {
      a.lp(0, inner).emit(DMALD()).emit(DMAST()).lpEnd();
      left -= inner;
    }
  }
  a.emit(DMASEV(0)).emit(DMAEND());
  ram.writeBytes(prog - src, a.toBytes());
  const t0 = now();
  dmac.startChannel(0, prog);
  sched.runUntilIdle(100_000_000);
  const hostMs = now() - t0;
  const ok = Buffer.compare(ram.readBytes(0, bytes), ram.readBytes(bytes, bytes)) === 0;
  return { bytes, virtualNs: sched.now, hostMs, hostMBps: bytes / 1048576 / (hostMs / 1000), ok };
}
