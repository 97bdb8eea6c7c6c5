import type { PhysicalBus } from '../../bus.js';
import { PAGE_SIZE } from './address-space.js';

/**
 * A copy-on-write page whose frame this engine also mirrors at another address (a MAP_PRIVATE
 * file page while the same process maps the file page MAP_SHARED, or privately a second
 * time), mirrored as a device page of the engine's own (uc_mmio_map) rather than read-only RAM
 * on the shared frame.
 *
 * Why: a store to a read-only copy-on-write RAM page goes into the shared frame until the next
 * translation block or system call (UnicornEngine.cowWrite: Unicorn 2.0 cannot remap the page
 * from its store hook), so a store or a load through another mapping of the frame in the same
 * block would see or undo the private store. Linux gives the private mapping its copy before
 * its first store completes (mm/memory.c do_wp_page -> wp_page_copy: the new page is a copy
 * of the old one, the PTE switched, then the faulting store is retried on the copy), so from
 * that store on the other mappings and the private one see different pages. Through this view
 * every access of the private mapping reaches the engine: a load reads the shared frame until
 * the first store, which copies the frame into the view's own bytes (`image`) and stores
 * there; later loads and stores use the image; the other mappings keep using the frame. At
 * the next block or system call (UnicornEngine.applyCowWrites) the address space takes its
 * write fault, and the image becomes the new frame's bytes.
 *
 * Not for executable pages (Unicorn does not execute from a device page): those stay
 * read-only RAM with the deferred copy (docs/UNICORN.md says so).
 */
export interface CowView {
  /** the page's virtual address */
  readonly va: number;
  /** the shared frame */
  readonly pa: number;
  /** the private bytes from the first store on, null before it */
  image: Uint8Array | null;
}

/**
 * little-endian `size`-byte value at `off` of the view: its image, or the shared frame before its
 * first store (2.0.1 gives the callbacks at most 4 bytes: a VFP 8-byte access arrives as two,
 * measured with guest-tests/c/filemap-tb.c `wide`; 8 is handled all the same)
 */
export function viewRead(v: CowView, bus: PhysicalBus, off: number, size: number): number | bigint {
  const b = new Uint8Array(8);
  if (v.image !== null) b.set(v.image.subarray(off, off + size));
  else {
    const ram = bus.ramAt(v.pa, PAGE_SIZE)!;
    ram.readBlock(v.pa - ram.base + off, b, 0, size);
  }
  const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  if (size <= 4) return lo;
  const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * A store of `size` bytes at `off` of the view. True for its first store: the image is made
 * then (a copy of the frame as it is at that store), and the engine then queues the write
 * fault (applyCowWrites).
 */
export function viewWrite(v: CowView, bus: PhysicalBus, off: number, size: number, value: number | bigint): boolean {
  let first = false;
  if (v.image === null) {
    const img = new Uint8Array(PAGE_SIZE);
    const ram = bus.ramAt(v.pa, PAGE_SIZE)!;
    ram.readBlock(v.pa - ram.base, img, 0, PAGE_SIZE);
    v.image = img;
    first = true;
  }
  let x = BigInt.asUintN(64, BigInt(value));
  for (let i = 0; i < size; i++) {
    v.image[off + i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return first;
}
