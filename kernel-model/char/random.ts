/**
 * The kernel's random number generator as user space sees it (drivers/char/random.c): the
 * /dev/random and /dev/urandom file operations (registered by ./mem.ts with the other major-1
 * devices) and getrandom(2).
 *
 * Where the bytes come from (model choice, for determinism): the devices read one pool per
 * kernel (`RandomPool`, seeded from the machine seed by whoever assembles the kernel, without
 * drawing on the machine's own Prng so that nothing else's stream moves); getrandom(2) keeps
 * drawing on the calling process's Prng (kernel-model/exec/linux-abi.ts, the generator AT_RANDOM
 * also comes from, forked at fork and execve), as it did before the devices existed. In Linux
 * both are the one crng (v6.12) or the nonblocking pool (3.14); here a process's getrandom
 * stream does not depend on what other processes read from /dev/urandom. Neither is random in
 * any sense but the seed's.
 *
 * Entropy (model choice): the model has no entropy accounting. The pools count as initialised
 * and full from boot: 3.14's /dev/random never blocks (random_read would wait in
 * wait_event_interruptible until the input pool has random_read_wakeup_bits) and never answers
 * -EAGAIN to O_NONBLOCK; v6.12's crng is ready (crng_ready()), so neither /dev/random
 * (random_read_iter -> wait_for_random_bytes) nor getrandom without GRND_NONBLOCK waits.
 *
 * The era differences are capabilities `getrandom` and `randomChardev`.
 */
import { Prng } from '../../emulator/prng.js';
import { EFAULT, EINVAL, ENOSYS } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import { accessOk } from '../process/mm.js';
import { PAGE_SIZE } from '../process/pages.js';
import type { Capabilities } from '../capabilities.js';

/** getrandom flags (include/uapi/linux/random.h) */
export const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;
/** MAX_RW_COUNT (include/linux/fs.h: INT_MAX & PAGE_MASK) */
export const MAX_RW_COUNT = 0x7ffff000;
/** 3.14 SEC_XFER_SIZE: the most one read of /dev/random returns (random_read) */
export const SEC_XFER_SIZE_3_14 = 512;
/** 3.14 urandom_read's cap on one read: INT_MAX >> (ENTROPY_SHIFT + 3), ENTROPY_SHIFT 3 */
export const URANDOM_MAX_3_14 = 0x7fffffff >> 6;
/** 3.14 EXTRACT_SIZE: the bytes extract_entropy_user copies to user space at a time */
const EXTRACT_SIZE_3_14 = 10;
/** 3.14 write_pool's buffer: the bytes copied from user space at a time */
const WRITE_POOL_CHUNK_3_14 = 64;

/**
 * The kernel's pool: one deterministic stream per kernel. A write mixes its bytes in
 * (mix_pool_bytes): the stream after it depends on what was written, as it does in Linux.
 */
export class RandomPool {
  private prng: Prng;
  constructor(seed: number) {
    this.prng = new Prng(seed >>> 0);
  }

  fill(out: Uint8Array): void {
    this.prng.fill(out);
  }

  /** mix_pool_bytes: the next state depends on the stream so far and on the bytes (FNV-1a) */
  mix(b: Uint8Array, n: number): void {
    let h = 0x811c9dc5;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
    this.prng = new Prng((this.prng.nextU32() ^ h) >>> 0);
  }
}

/**
 * copy_to_user of src[0..n) to va as far as it goes: the bytes copied before the first one that
 * cannot be written (ARM's __copy_to_user fixup reports what was stored before the faulting
 * store; the model's faults are at page boundaries, so byte counts are exact)
 */
export function copyToUserPartial(mm: AddressSpace, va: number, src: Uint8Array, n: number): number {
  let done = 0;
  while (done < n) {
    const seg = Math.min(n - done, PAGE_SIZE - ((va + done) & (PAGE_SIZE - 1)));
    if (mm.copyToUser(va + done, src, done, seg) < 0) break;
    done += seg;
  }
  return done;
}

/** copy_from_user into dst[0..n) as far as it goes (the bytes read before the first fault) */
export function copyFromUserPartial(mm: AddressSpace, dst: Uint8Array, va: number, n: number): number {
  let done = 0;
  while (done < n) {
    const seg = Math.min(n - done, PAGE_SIZE - ((va + done) & (PAGE_SIZE - 1)));
    if (mm.copyFromUser(dst, done, va + done, seg) < 0) break;
    done += seg;
  }
  return done;
}

/** a page of random bytes at a time (the work of a huge read stays bounded in host memory) */
const BLOCK = PAGE_SIZE;

/**
 * v6.12 get_random_bytes_user: bytes from `src` copied to user space until the count is met or a
 * copy_to_iter falls short (a fault); the bytes copied, or -EFAULT when there were none; 0 for
 * a count of 0
 */
function getRandomBytesUser(mm: AddressSpace, fill: (b: Uint8Array) => void, buf: number, count: number): number {
  if (count === 0) return 0;
  const block = new Uint8Array(Math.min(count, BLOCK));
  let ret = 0;
  while (ret < count) {
    const n = Math.min(count - ret, block.length);
    fill(block);
    const copied = copyToUserPartial(mm, buf + ret, block, n);
    ret += copied;
    if (copied !== n) break;
  }
  return ret > 0 ? ret : -EFAULT;
}

/**
 * 3.14 extract_entropy_user: EXTRACT_SIZE bytes at a time; a copy_to_user that fails makes the
 * answer -EFAULT, whatever was copied before it
 */
function extractEntropyUser(mm: AddressSpace, pool: RandomPool, buf: number, count: number): number {
  const tmp = new Uint8Array(EXTRACT_SIZE_3_14);
  let ret = 0;
  while (ret < count) {
    pool.fill(tmp);
    const i = Math.min(count - ret, EXTRACT_SIZE_3_14);
    if (mm.copyToUser(buf + ret, tmp, 0, i) < 0) return -EFAULT;
    ret += i;
  }
  return ret;
}

/**
 * read(2) of /dev/random (`blocking` true) or /dev/urandom. 3.14 ('entropy-pools'):
 * random_read takes at most SEC_XFER_SIZE bytes from the blocking pool per call (which, with the
 * pool full, is what it returns), urandom_read at most INT_MAX >> (ENTROPY_SHIFT + 3) bytes
 * (URANDOM_MAX_3_14: 32 MiB - 1) from the nonblocking pool, both through extract_entropy_user. v6.12 ('crng'): random_read_iter and urandom_read_iter, both
 * get_random_bytes_user (the crng being ready).
 */
export function randomRead(mode: Capabilities['randomChardev'], pool: RandomPool, mm: AddressSpace, buf: number, count: number, blocking: boolean): number {
  if (count === 0) return 0;
  if (mode === 'entropy-pools') return extractEntropyUser(mm, pool, buf, Math.min(count, blocking ? SEC_XFER_SIZE_3_14 : URANDOM_MAX_3_14));
  return getRandomBytesUser(mm, (b) => pool.fill(b), buf, count);
}

/**
 * write(2) to /dev/random or /dev/urandom: the bytes are mixed into the pool. 3.14
 * random_write -> write_pool: 64 bytes per copy_from_user, a fault -EFAULT (bytes before it were
 * mixed in), else the count. v6.12 random_write_iter -> write_pool_user: the bytes taken before
 * a fault (mixed in), -EFAULT when none.
 */
export function randomWrite(mode: Capabilities['randomChardev'], pool: RandomPool, mm: AddressSpace, buf: number, count: number): number {
  if (count === 0) return 0;
  const chunk = new Uint8Array(mode === 'entropy-pools' ? WRITE_POOL_CHUNK_3_14 : BLOCK);
  let ret = 0;
  while (ret < count) {
    const n = Math.min(count - ret, chunk.length);
    if (mode === 'entropy-pools') {
      if (mm.copyFromUser(chunk, 0, buf + ret, n) < 0) return -EFAULT;
      pool.mix(chunk, n);
      ret += n;
      continue;
    }
    const got = copyFromUserPartial(mm, chunk, buf + ret, n);
    pool.mix(chunk, got);
    ret += got;
    if (got !== n) break;
  }
  return ret > 0 ? ret : -EFAULT;
}

/**
 * getrandom(buf, count, flags) (ARM 384). Not in 3.14's table (it predates c6e9d6f38894 "random:
 * introduce getrandom(2) system call", v3.17): the entry answers -ENOSYS before this runs
 * (capability `syscallTable`, kernel-model/exec/syscall-era.ts). v6.12
 * SYSCALL_DEFINE3(getrandom): flags other than GRND_NONBLOCK|GRND_RANDOM|GRND_INSECURE -EINVAL;
 * GRND_INSECURE with GRND_RANDOM -EINVAL; no wait (the crng is ready from boot, see above);
 * import_ubuf caps the count at MAX_RW_COUNT and checks access_ok over it (-EFAULT); then
 * get_random_bytes_user: the bytes copied up to a fault, -EFAULT when none. The bytes come from
 * `fill` (the calling process's Prng).
 */
export function sysGetrandom(mm: AddressSpace, fill: (b: Uint8Array) => void, buf: number, count: number, flags: number): number {
  if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) !== 0) return -EINVAL;
  if ((flags & (GRND_INSECURE | GRND_RANDOM)) === (GRND_INSECURE | GRND_RANDOM)) return -EINVAL;
  const len = Math.min(count >>> 0, MAX_RW_COUNT);
  if (!accessOk(buf >>> 0, len)) return -EFAULT;
  return getRandomBytesUser(mm, fill, buf >>> 0, len);
}
