import type { Attrs } from '../../emulator/attrs.js';
import { BUS_OK, SIZE_1, SIZE_2, SIZE_4, type MmioDevice } from '../../emulator/bus.js';
import type { Pl330, Pl330PeripheralPort } from './pl330.js';

/**
 * A small FIFO peripheral on a PL330 request interface, usable from tests and boards.
 *
 * - 'source' (device to memory): holds `data`; the DMA reads its data register (offset 0,
 *   fixed address). It requests a burst while at least `burstBytes` remain, a single
 *   request for a shorter tail, and flags `last` on the final request.
 * - 'sink' (memory to device): the DMA writes the data register; received bytes are kept
 *   in `received`; it requests while fewer than `capacity` bytes have arrived.
 *
 * Register 0x0: data (read pops / write pushes, 1/2/4-byte accesses, little-endian).
 * Register 0x4: bytes remaining (source) or received (sink), read-only.
 */
export class TestPeripheral implements MmioDevice, Pl330PeripheralPort {
  readonly accessSizes = SIZE_1 | SIZE_2 | SIZE_4;
  readonly received: number[] = [];
  private pos = 0;
  acks = 0;
  flushes = 0;

  constructor(
    readonly name: string,
    private readonly dmac: Pl330,
    readonly periph: number,
    readonly mode: 'source' | 'sink',
    private readonly data: Uint8Array = new Uint8Array(0),
    readonly burstBytes = 16,
    readonly capacity = 0,
  ) {
    dmac.attachPeripheral(periph, this);
  }

  /** bytes left to give (source) or to take (sink) */
  get remaining(): number {
    return this.mode === 'source' ? this.data.length - this.pos : this.capacity - this.received.length;
  }

  /** (re)assert the request line according to the current fill level */
  request(): void {
    const r = this.remaining;
    if (r <= 0) return;
    const burst = r >= this.burstBytes;
    const last = burst ? r === this.burstBytes : true;
    this.dmac.peripheralRequest(this.periph, burst ? 'burst' : 'single', last);
  }

  ack(): void {
    this.acks++;
    this.request();
  }

  flush(): void {
    this.flushes++;
    this.request();
  }

  read(off: number, size: number, _attrs: Attrs): number {
    if (off === 4) return this.mode === 'source' ? this.data.length - this.pos : this.received.length;
    if (off !== 0 || this.mode !== 'source') return 0;
    let v = 0;
    for (let i = 0; i < size; i++) {
      const b = this.pos < this.data.length ? this.data[this.pos++]! : 0;
      v |= b << (8 * i);
    }
    return v >>> 0;
  }

  write(off: number, size: number, value: number, _attrs: Attrs): number {
    if (off === 0 && this.mode === 'sink') for (let i = 0; i < size; i++) this.received.push((value >>> (8 * i)) & 0xff);
    return BUS_OK;
  }
}
