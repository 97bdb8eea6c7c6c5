/**
 * "vfio-arm-emu,test-dma": a minimal memory-to-memory DMA master for IOMMU-group tests
 * (docs/BOARDS.md). It sits behind its node's `iommus` (ctx.dmaPort()) and carries the
 * node's first stream id in every access.
 *
 * Registers (32-bit accesses only):
 *   0x00 SRC         source input address (bus address as seen by the device)
 *   0x04 DST         destination input address
 *   0x08 LEN         length in bytes
 *   0x0C CTRL        write bit 0 = 1: start (SRC/DST/LEN are latched); ignored while busy; reads 0
 *   0x10 STATUS      bit 0 BUSY (read-only), bit 1 DONE, bit 2 ERROR (write 1 to clear),
 *                    bits 10:8 ERRCODE (1 translation fault, 2 decode error, 3 slave error;
 *                    cleared with ERROR)
 *   0x14 FAULT_ADDR  input address of the access that failed
 *   0x18 ID          0x54444d41 ("TDMA")
 *   0x1C BYTES       bytes copied by the last transfer (whole chunks that completed)
 * Other offsets read as zero and ignore writes.
 *
 * Interrupt (level): asserted while STATUS.DONE or STATUS.ERROR is set.
 *
 * Timing: the copy proceeds in chunks of up to 4 KiB, one scheduler event per chunk. A
 * chunk's data moves at the chunk's event time (read into the device buffer through the
 * master port, then written through it; both use the port's per-page span() block
 * paths); the next chunk starts after the chunk's cost = ceil(bytes / 16) ns (a 16-byte
 * per ns data path) + the translation cost the IOMMU reported for the chunk. Completion
 * (DONE + interrupt) comes after the last chunk's cost; an error ends the transfer after
 * the translation cost spent on the failing chunk (no data-path time is charged for it;
 * bytes before the failing page of a chunk may have been written). A zero-length
 * transfer completes at the start time.
 */
import { ATTR_WRITE, makeAttrs, type Attrs } from '../../emulator/attrs.js';
import { BUS_DECODE_ERROR, BUS_OK, BUS_SLAVE_ERROR, BUS_TRANSLATION_FAULT, SIZE_4, type MmioDevice } from '../../emulator/bus.js';
import type { DeviceContext, DeviceInstance } from '../../emulator/board/types.js';
import type { DtNode } from '../../emulator/dt/types.js';
import type { IrqLine } from '../../emulator/irq.js';
import type { MasterPort } from '../../emulator/master.js';
import type { Scheduler, SimEvent } from '../../emulator/scheduler.js';
import type { Tracer } from '../../emulator/trace.js';

export const TEST_DMA_COMPATIBLE = 'vfio-arm-emu,test-dma';
export const TDMA_SRC = 0x00;
export const TDMA_DST = 0x04;
export const TDMA_LEN = 0x08;
export const TDMA_CTRL = 0x0c;
export const TDMA_STATUS = 0x10;
export const TDMA_FAULT_ADDR = 0x14;
export const TDMA_ID = 0x18;
export const TDMA_BYTES = 0x1c;
export const TDMA_ID_VALUE = 0x54444d41;
export const TDMA_CTRL_START = 1 << 0;
export const TDMA_STATUS_BUSY = 1 << 0;
export const TDMA_STATUS_DONE = 1 << 1;
export const TDMA_STATUS_ERROR = 1 << 2;
export const TDMA_ERRCODE_SHIFT = 8;
export const TDMA_ERR_TRANSLATION = 1;
export const TDMA_ERR_DECODE = 2;
export const TDMA_ERR_SLAVE = 3;
/** bytes per chunk (one event each) */
export const TDMA_CHUNK = 4096;
/** data path: bytes moved per ns */
export const TDMA_BYTES_PER_NS = 16;

function errCode(status: number): number {
  switch (status) {
    case BUS_TRANSLATION_FAULT: return TDMA_ERR_TRANSLATION;
    case BUS_DECODE_ERROR: return TDMA_ERR_DECODE;
    case BUS_SLAVE_ERROR: return TDMA_ERR_SLAVE;
    default: return TDMA_ERR_SLAVE;
  }
}

export class TestDmaDevice implements MmioDevice, DeviceInstance {
  readonly accessSizes = SIZE_4;
  readonly mmio: (MmioDevice | null)[];
  readonly node: DtNode;
  private src = 0;
  private dst = 0;
  private len = 0;
  private status = 0;
  private faultAddr = 0;
  private bytesDone = 0;
  // latched transfer
  private curSrc = 0;
  private curDst = 0;
  private remaining = 0;
  private event: SimEvent | null = null;
  private readonly buf = new Uint8Array(TDMA_CHUNK);
  private readonly rdAttrs: Attrs;
  private readonly wrAttrs: Attrs;

  constructor(
    readonly name: string,
    node: DtNode,
    readonly port: MasterPort,
    readonly line: IrqLine,
    private readonly scheduler: Scheduler,
    private readonly tracer: Tracer,
    streamId: number,
  ) {
    this.node = node;
    this.mmio = [this];
    this.rdAttrs = makeAttrs({ streamId, ns: true, priv: false });
    this.wrAttrs = this.rdAttrs | ATTR_WRITE;
  }

  read(offset: number, _size?: number, _attrs?: number): number {
    switch (offset) {
      case TDMA_SRC: return this.src;
      case TDMA_DST: return this.dst;
      case TDMA_LEN: return this.len;
      case TDMA_STATUS: return this.status;
      case TDMA_FAULT_ADDR: return this.faultAddr;
      case TDMA_ID: return TDMA_ID_VALUE;
      case TDMA_BYTES: return this.bytesDone;
      default: return 0;
    }
  }

  write(offset: number, _size: number, value: number): number {
    switch (offset) {
      case TDMA_SRC: this.src = value >>> 0; break;
      case TDMA_DST: this.dst = value >>> 0; break;
      case TDMA_LEN: this.len = value >>> 0; break;
      case TDMA_CTRL:
        if ((value & TDMA_CTRL_START) !== 0 && (this.status & TDMA_STATUS_BUSY) === 0) this.start();
        break;
      case TDMA_STATUS: {
        let clear = value & (TDMA_STATUS_DONE | TDMA_STATUS_ERROR);
        if ((clear & TDMA_STATUS_ERROR) !== 0) clear |= 7 << TDMA_ERRCODE_SHIFT;
        this.status &= ~clear;
        this.updateIrq();
        break;
      }
      default: break;
    }
    return BUS_OK;
  }

  get busy(): boolean {
    return (this.status & TDMA_STATUS_BUSY) !== 0;
  }

  private start(): void {
    this.curSrc = this.src;
    this.curDst = this.dst;
    this.remaining = this.len;
    this.bytesDone = 0;
    this.status = (this.status & ~(TDMA_STATUS_DONE | TDMA_STATUS_ERROR | (7 << TDMA_ERRCODE_SHIFT))) | TDMA_STATUS_BUSY;
    this.updateIrq();
    this.port.takeCost();
    if (this.tracer.enabled) this.tracer.emit(this.name, 'dma-start', { src: this.curSrc, dst: this.curDst, len: this.remaining });
    this.event = this.scheduler.schedule(0, this.chunk, `${this.name} chunk`);
  }

  private readonly chunk = (): void => {
    this.event = null;
    if (this.remaining === 0) {
      this.finish(BUS_OK, 0);
      return;
    }
    const n = Math.min(this.remaining, TDMA_CHUNK);
    let st = this.port.readBlock(this.curSrc, this.buf, 0, n, this.rdAttrs);
    if (st === BUS_OK) st = this.port.writeBlock(this.curDst, this.buf, 0, n, this.wrAttrs);
    if (st !== BUS_OK) {
      // an aborted chunk costs only the translation time spent on it
      const cost = this.port.takeCost();
      this.faultAddr = (this.port.lastFault?.va ?? this.curSrc) >>> 0;
      this.event = this.scheduler.schedule(cost, () => {
        this.event = null;
        this.finish(st, this.faultAddr);
      }, `${this.name} error`);
      return;
    }
    const cost = Math.ceil(n / TDMA_BYTES_PER_NS) + this.port.takeCost();
    this.curSrc += n;
    this.curDst += n;
    this.remaining -= n;
    this.bytesDone += n;
    this.event = this.scheduler.schedule(cost, this.remaining === 0 ? this.done : this.chunk, `${this.name} chunk`);
  };

  private readonly done = (): void => {
    this.event = null;
    this.finish(BUS_OK, 0);
  };

  private finish(st: number, addr: number): void {
    this.status &= ~TDMA_STATUS_BUSY;
    if (st === BUS_OK) {
      this.status |= TDMA_STATUS_DONE;
      if (this.tracer.enabled) this.tracer.emit(this.name, 'dma-done', { bytes: this.bytesDone });
    } else {
      this.status |= TDMA_STATUS_ERROR | (errCode(st) << TDMA_ERRCODE_SHIFT);
      if (this.tracer.enabled) this.tracer.emit(this.name, 'dma-error', { addr, status: st, bytes: this.bytesDone });
    }
    this.updateIrq();
  }

  private updateIrq(): void {
    this.line.set((this.status & (TDMA_STATUS_DONE | TDMA_STATUS_ERROR)) !== 0);
  }

  reset(): void {
    this.scheduler.cancel(this.event);
    this.event = null;
    this.src = this.dst = this.len = 0;
    this.status = 0;
    this.faultAddr = 0;
    this.bytesDone = 0;
    this.remaining = 0;
    this.port.takeCost();
    this.updateIrq();
  }
}

export function createTestDma(ctx: DeviceContext): DeviceInstance {
  const line = ctx.irqs[0];
  if (line === undefined) throw new Error(`${TEST_DMA_COMPATIBLE} needs one interrupt`);
  return new TestDmaDevice(ctx.name, ctx.node, ctx.dmaPort(), line, ctx.machine.scheduler, ctx.machine.tracer, ctx.streamIds[0] ?? 0);
}
