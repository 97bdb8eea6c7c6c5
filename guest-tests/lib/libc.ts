/**
 * A tiny user-space "libc" for guest programs written in TypeScript. It is built ONLY on
 * the syscall API (kernel-model/uapi): memory comes from mmap, output goes through
 * write(1, ...), structs are bytes in the process's memory at the offsets of the C ABI.
 */
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  type Sys,
  type SysCall,
} from '../../kernel-model/uapi/index.js';

const enc = new TextEncoder();

/**
 * UTF-8 bytes of s: ASCII (the programs' output) converted in JS, anything else by
 * TextEncoder (the same bytes; issue 19: a native encode call per printed line cost more
 * than the conversion).
 */
function utf8(s: string): Uint8Array {
  const n = s.length;
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return enc.encode(s);
    b[i] = c;
  }
  return b;
}

export class Libc {
  private heapBase = 0;
  private heapTop = 0;
  private heapEnd = 0;
  /** every line this program printed (also written to fd 1) */
  readonly lines: string[] = [];
  private partial = '';

  constructor(readonly sys: Sys) {}

  get mem(): Sys['mem'] {
    return this.sys.mem;
  }

  /** Reserve a private heap arena (like brk/malloc's first mmap). */
  *init(arenaBytes = 64 * 1024): SysCall<number> {
    const p = yield* this.sys.mmap(0, arenaBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p < 0) return p;
    this.heapBase = this.heapTop = p;
    this.heapEnd = p + arenaBytes;
    return 0;
  }

  /** bump allocator (free is a no-op: these programs are short-lived) */
  malloc(size: number, align = 8): number {
    const p = Math.ceil(this.heapTop / align) * align;
    if (p + size > this.heapEnd) return 0;
    this.heapTop = p + size;
    this.sys.mem.fill(p, 0, size);
    return p;
  }

  /** a NUL-terminated copy of s in guest memory */
  cstring(s: string): number {
    const b = utf8(s);
    const p = this.malloc(b.length + 1, 1);
    if (p === 0) return 0;
    this.sys.mem.writeBytes(p, b);
    this.sys.mem.write8(p + b.length, 0);
    return p;
  }

  /** printf-like: writes text to fd 1 through write(2) and records complete lines */
  *print(text: string): SysCall<number> {
    const b = utf8(text);
    const save = this.heapTop;
    const p = this.malloc(b.length, 1);
    let r = -12;
    if (p !== 0) {
      this.sys.mem.writeBytes(p, b);
      r = yield* this.sys.write(1, p, b.length);
    }
    this.heapTop = save;
    const all = this.partial + text;
    const parts = all.split('\n');
    this.partial = parts.pop()!;
    this.lines.push(...parts);
    return r;
  }

  *puts(line: string): SysCall<number> {
    return yield* this.print(line + '\n');
  }

  /** mmap anonymous private read/write memory, page-rounded */
  *mmapAnon(bytes: number): SysCall<number> {
    const len = Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;
    return yield* this.sys.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  }

  /** write a 64-bit field from a JS number (exact up to 2^53) */
  write64(va: number, v: number): void {
    this.sys.mem.write64(va, BigInt(v));
  }

  read64(va: number): number {
    return Number(this.sys.mem.read64(va));
  }
}

/** C-style hex formatting helpers matching printf("%x") / ("%llx") on 32-bit ARM. */
export const hex = (v: number | bigint): string => (typeof v === 'bigint' ? v.toString(16) : (v >>> 0).toString(16));
export const hex64 = (v: number | bigint): string => BigInt.asUintN(64, BigInt(v)).toString(16);

/**
 * rand()/srand() for guest programs: a 31-bit output xorshift generator. The original C
 * program used glibc's rand() seeded with time(NULL); here the seed is the scenario's
 * seed, so runs are reproducible (documented deviation).
 */
export class Rand {
  private s: number;
  constructor(seed: number) {
    this.s = (seed ^ 0x5deece66) >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s & 0x7fffffff;
  }
}
