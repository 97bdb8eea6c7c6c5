import { createRequire } from 'node:module';

/**
 * Lazy koffi bindings to the system Unicorn library (Debian package libunicorn2, 2.0.1).
 *
 * Nothing is loaded until `loadUnicorn()` (or `isUnicornAvailable()`) is called, so the
 * rest of the emulator works on machines without Unicorn. Enum values below were taken
 * from the 2.0.1 C headers (libunicorn-dev) by compiling a program that prints them,
 * never by counting enum lines.
 */

// --- architectures and modes
export const UC_ARCH_ARM = 1;
export const UC_ARCH_ARM64 = 2;
export const UC_MODE_ARM = 0;
export const UC_MODE_THUMB = 16;

// --- ARM (AArch32) register ids
export const UC_ARM_REG_CPSR = 3;
export const UC_ARM_REG_FPEXC = 4;
export const UC_ARM_REG_FPSCR = 6;
export const UC_ARM_REG_LR = 10;
export const UC_ARM_REG_PC = 11;
export const UC_ARM_REG_SP = 12;
export const UC_ARM_REG_D0 = 14; // D0..D31 are consecutive (64-bit)
export const UC_ARM_REG_R0 = 66; // R0..R12 are consecutive
export const UC_ARM_REG_C1_C0_2 = 111; // CPACR
export const UC_ARM_REG_C13_C0_3 = 113; // TPIDRURO (user read-only thread id: the TLS pointer)

export const UC_CPU_ARM_CORTEX_A15 = 17;

// --- uc_ctl
/** uc_control_type UC_CTL_UC_PAGE_SIZE (write: uint32 page size; ARM only, before any mapping) */
export const UC_CTL_UC_PAGE_SIZE = 1;
export const UC_CTL_CPU_MODEL = 7;
/** uc_control_type UC_CTL_TB_REMOVE_CACHE (write; uint64 start, uint64 end): drop the blocks translated from [start, end) */
export const UC_CTL_TB_REMOVE_CACHE = 9;
export const UC_CTL_IO_WRITE = 1;
export const UC_CTL_IO_READ = 2;
export const ucCtl = (type: number, nargs: number, rw: number): number => (type | (nargs << 26) | (rw << 30)) >>> 0;

// --- hooks
export const UC_HOOK_INTR = 1;
export const UC_HOOK_CODE = 4;
export const UC_HOOK_BLOCK = 8;
export const UC_HOOK_MEM_READ_UNMAPPED = 16;
export const UC_HOOK_MEM_WRITE_UNMAPPED = 32;
export const UC_HOOK_MEM_FETCH_UNMAPPED = 64;
export const UC_HOOK_MEM_READ_PROT = 128;
export const UC_HOOK_MEM_WRITE_PROT = 256;
export const UC_HOOK_MEM_FETCH_PROT = 512;
export const UC_HOOK_MEM_UNMAPPED = 112;
export const UC_HOOK_MEM_PROT = 896;
export const UC_HOOK_INSN_INVALID = 16384;

// --- memory access types seen by UC_HOOK_MEM_* callbacks
export const UC_MEM_READ = 16;
export const UC_MEM_WRITE = 17;
export const UC_MEM_FETCH = 18;
export const UC_MEM_READ_UNMAPPED = 19;
export const UC_MEM_WRITE_UNMAPPED = 20;
export const UC_MEM_FETCH_UNMAPPED = 21;
export const UC_MEM_WRITE_PROT = 22;
export const UC_MEM_READ_PROT = 23;
export const UC_MEM_FETCH_PROT = 24;

export const UC_PROT_NONE = 0;
export const UC_PROT_READ = 1;
export const UC_PROT_WRITE = 2;
export const UC_PROT_EXEC = 4;

// --- errors
export const UC_ERR_OK = 0;
export const UC_ERR_HOOK = 9;
export const UC_ERR_INSN_INVALID = 10;
export const UC_ERR_MAP = 11;
export const UC_ERR_READ_UNMAPPED = 6;
export const UC_ERR_WRITE_UNMAPPED = 7;
export const UC_ERR_FETCH_UNMAPPED = 8;
export const UC_ERR_WRITE_PROT = 12;
export const UC_ERR_READ_PROT = 13;
export const UC_ERR_FETCH_PROT = 14;
export const UC_ERR_READ_UNALIGNED = 16;
export const UC_ERR_EXCEPTION = 21;

/** Opaque native handle (uc_engine *, uc_context *). */
export type NativePtr = unknown;

/** The subset of the Unicorn C API used by the backend. */
export interface UnicornApi {
  readonly version: string;
  uc_open(arch: number, mode: number, out: NativePtr[]): number;
  uc_close(uc: NativePtr): number;
  uc_strerror(code: number): string;
  uc_ctl_int(uc: NativePtr, control: number, value: number): number;
  /** uc_ctl with two uint64_t arguments */
  uc_ctl_range(uc: NativePtr, control: number, a: number, b: number): number;
  uc_reg_read(uc: NativePtr, regid: number, out: Uint32Array): number;
  uc_reg_write(uc: NativePtr, regid: number, value: Uint32Array): number;
  uc_mem_read(uc: NativePtr, address: number, buf: Uint8Array, size: number): number;
  uc_mem_write(uc: NativePtr, address: number, buf: Uint8Array, size: number): number;
  uc_emu_start(uc: NativePtr, begin: number, until: number, timeout: number, count: number): number;
  uc_emu_stop(uc: NativePtr): number;
  uc_hook_add(uc: NativePtr, out: NativePtr[], type: number, cb: NativePtr, userData: number, begin: number, end: number): number;
  uc_hook_del(uc: NativePtr, hh: NativePtr): number;
  uc_mem_map(uc: NativePtr, address: number, size: number, perms: number): number;
  uc_mem_map_ptr(uc: NativePtr, address: number, size: number, perms: number, ptr: Uint8Array): number;
  uc_mmio_map(uc: NativePtr, address: number, size: number, readCb: NativePtr, udRead: number, writeCb: NativePtr, udWrite: number): number;
  uc_mem_unmap(uc: NativePtr, address: number, size: number): number;
  uc_mem_protect(uc: NativePtr, address: number, size: number, perms: number): number;
  uc_context_alloc(uc: NativePtr, out: NativePtr[]): number;
  uc_context_save(uc: NativePtr, ctx: NativePtr): number;
  uc_context_restore(uc: NativePtr, ctx: NativePtr): number;
  uc_context_free(ctx: NativePtr): number;
  uc_context_reg_write(ctx: NativePtr, regid: number, value: Uint32Array): number;
  uc_reg_read_batch(uc: NativePtr, regs: Int32Array, vals: BigUint64Array, count: number): number;
  /**
   * Native memory for `n` 32-bit register values: `view` aliases it (zero copy) and
   * `ptrs` holds the address of each slot, the `void **vals` of uc_reg_read_batch.
   */
  allocRegBlock(n: number): { view: Uint32Array; ptrs: BigUint64Array; keep: unknown };
  /** Register a JS function as a native callback of one of the prototypes below. */
  register(fn: (...args: never[]) => unknown, proto: CallbackProto): NativePtr;
  unregister(cb: NativePtr): void;
}

export type CallbackProto = 'hookcode' | 'hookintr' | 'eventmem' | 'insn_invalid' | 'mmio_read' | 'mmio_write';

export class UnicornUnavailableError extends Error {
  constructor(detail: string) {
    super(`libunicorn2 not found: apt-get install libunicorn2 (${detail})`);
    this.name = 'UnicornUnavailableError';
  }
}

const LIB_NAMES = ['libunicorn.so.2', 'libunicorn.so', 'libunicorn.2.dylib', 'libunicorn.dylib', 'unicorn.dll'];

// host-only: the loaded libunicorn and why it failed to load (the host's library, no guest state)
let cached: UnicornApi | null = null;
let loadError: Error | null = null; // host-only: see above

/** Load libunicorn (once). Throws UnicornUnavailableError naming the package when absent. */
export function loadUnicorn(): UnicornApi {
  if (cached) return cached;
  if (loadError) throw loadError;
  try {
    cached = bind();
    return cached;
  } catch (e) {
    loadError = e instanceof UnicornUnavailableError ? e : new UnicornUnavailableError((e as Error).message);
    throw loadError;
  }
}

/** true when koffi and libunicorn can be loaded on this host */
export function isUnicornAvailable(): boolean {
  try {
    loadUnicorn();
    return true;
  } catch {
    return false;
  }
}

interface KoffiLib {
  func(sig: string): (...a: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
  proto(sig: string): unknown;
  pointer(t: unknown): unknown;
  register(fn: unknown, t: unknown): unknown;
  unregister(cb: unknown): void;
  opaque(name: string): unknown;
  alloc(type: string, n: number): unknown;
  address(p: unknown): bigint;
  view(p: unknown, len: number): ArrayBuffer;
  alias(name: string, t: string): unknown;
}

function bind(): UnicornApi {
  const require = createRequire(import.meta.url);
  let koffi: Koffi;
  try {
    koffi = require('koffi') as Koffi;
  } catch (e) {
    throw new UnicornUnavailableError(`the npm package koffi is missing: ${(e as Error).message}`);
  }
  let lib: KoffiLib | null = null;
  const errs: string[] = [];
  for (const n of LIB_NAMES) {
    try {
      lib = koffi.load(n);
      break;
    } catch (e) {
      errs.push((e as Error).message.split('\n')[0]!);
    }
  }
  if (lib === null) throw new UnicornUnavailableError(errs[0] ?? 'cannot load');
  const L = lib;
  koffi.opaque('uc_engine');
  koffi.opaque('uc_context');
  // user_data is declared as uintptr_t so that a small integer id travels through it.
  // The hook-code address is declared uint32_t although C passes a uint64_t: on the
  // 64-bit ABIs koffi supports, an integer argument occupies a whole register and the
  // low half is the 32-bit guest address (AArch32). This avoids a BigInt per callback
  // (measured: the block hook is the hot path). An AArch64 backend must use uint64_t.
  const protos: Record<CallbackProto, unknown> = {
    hookcode: koffi.pointer(koffi.proto('void uc_cb_hookcode(uc_engine *uc, uint32_t address, uint32_t size, uintptr_t ud)')),
    hookintr: koffi.pointer(koffi.proto('void uc_cb_hookintr(uc_engine *uc, uint32_t intno, uintptr_t ud)')),
    eventmem: koffi.pointer(koffi.proto('bool uc_cb_eventmem(uc_engine *uc, int type, uint64_t address, int size, int64_t value, uintptr_t ud)')),
    insn_invalid: koffi.pointer(koffi.proto('bool uc_cb_insn_invalid(uc_engine *uc, uintptr_t ud)')),
    mmio_read: koffi.pointer(koffi.proto('uint64_t uc_cb_mmio_read(uc_engine *uc, uint64_t offset, unsigned int size, uintptr_t ud)')),
    mmio_write: koffi.pointer(koffi.proto('void uc_cb_mmio_write(uc_engine *uc, uint64_t offset, unsigned int size, uint64_t value, uintptr_t ud)')),
  };
  const f = (sig: string): ((...a: unknown[]) => number) => L.func(sig) as (...a: unknown[]) => number;
  const version = L.func('unsigned int uc_version(_Out_ unsigned int *major, _Out_ unsigned int *minor)');
  const maj = [0];
  const min = [0];
  version(maj, min);
  const strerror = L.func('const char *uc_strerror(int code)') as (c: number) => string;
  const ctl = L.func('int uc_ctl(uc_engine *uc, uint32_t control, ...)');
  const api: UnicornApi = {
    version: `${maj[0]}.${min[0]}`,
    uc_open: f('int uc_open(int arch, int mode, _Out_ uc_engine **uc)'),
    uc_close: f('int uc_close(uc_engine *uc)'),
    uc_strerror: (c) => strerror(c),
    uc_ctl_int: (uc, control, value) => ctl(uc, control, 'int', value) as number,
    uc_ctl_range: (uc, control, a, b) => ctl(uc, control, 'uint64_t', a, 'uint64_t', b) as number,
    uc_reg_read: f('int uc_reg_read(uc_engine *uc, int regid, void *value)'),
    uc_reg_write: f('int uc_reg_write(uc_engine *uc, int regid, void *value)'),
    uc_mem_read: f('int uc_mem_read(uc_engine *uc, uint64_t address, _Out_ void *bytes, size_t size)'),
    uc_mem_write: f('int uc_mem_write(uc_engine *uc, uint64_t address, const void *bytes, size_t size)'),
    uc_emu_start: f('int uc_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'),
    uc_emu_stop: f('int uc_emu_stop(uc_engine *uc)'),
    uc_hook_add: f('int uc_hook_add(uc_engine *uc, _Out_ size_t *hh, int type, void *callback, uintptr_t user_data, uint64_t begin, uint64_t end, ...)') as UnicornApi['uc_hook_add'],
    uc_hook_del: f('int uc_hook_del(uc_engine *uc, size_t hh)'),
    uc_mem_map: f('int uc_mem_map(uc_engine *uc, uint64_t address, size_t size, uint32_t perms)'),
    uc_mem_map_ptr: f('int uc_mem_map_ptr(uc_engine *uc, uint64_t address, size_t size, uint32_t perms, void *ptr)'),
    uc_mmio_map: f('int uc_mmio_map(uc_engine *uc, uint64_t address, size_t size, void *read_cb, uintptr_t ud_read, void *write_cb, uintptr_t ud_write)'),
    uc_mem_unmap: f('int uc_mem_unmap(uc_engine *uc, uint64_t address, size_t size)'),
    uc_mem_protect: f('int uc_mem_protect(uc_engine *uc, uint64_t address, size_t size, uint32_t perms)'),
    uc_context_alloc: f('int uc_context_alloc(uc_engine *uc, _Out_ uc_context **ctx)'),
    uc_context_save: f('int uc_context_save(uc_engine *uc, uc_context *ctx)'),
    uc_context_restore: f('int uc_context_restore(uc_engine *uc, uc_context *ctx)'),
    uc_context_free: f('int uc_context_free(uc_context *ctx)'),
    uc_context_reg_write: f('int uc_context_reg_write(uc_context *ctx, int regid, const uint32_t *value)'),
    // A single uc_reg_read costs about as much as a batch of 8 in 2.0.1 (measured: ~0.7-1.1 us
    // vs ~1.6 us), so the syscall path reads r0-r7 with one batch call.
    uc_reg_read_batch: f('int uc_reg_read_batch(uc_engine *uc, int *regs, uint64_t *vals, int count)'),
    allocRegBlock: (n) => {
      const mem = koffi.alloc('uint32_t', n);
      const base = koffi.address(mem);
      const ptrs = new BigUint64Array(n);
      for (let i = 0; i < n; i++) ptrs[i] = base + BigInt(4 * i);
      return { view: new Uint32Array(koffi.view(mem, 4 * n)), ptrs, keep: mem };
    },
    register: (fn, proto) => koffi.register(fn, protos[proto]),
    unregister: (cb) => koffi.unregister(cb),
  };
  return api;
}
