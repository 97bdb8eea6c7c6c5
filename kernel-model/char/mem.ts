/**
 * The memory character devices of major 1 (drivers/char/mem.c, 3.14 and v6.12): chr_dev_init
 * registers MEM_MAJOR and creates, through devtmpfs, the devlist entries; the ones modelled here
 * are null (1:3), zero (1:5), full (1:7), random (1:8) and urandom (1:9), each mode 0666
 * (mem_devnode hands devtmpfs the devlist mode). /dev/mem, /dev/kmem, /dev/port and /dev/kmsg are
 * not modelled.
 *
 * File operations (both eras unless said):
 * - llseek: null, zero and full null_lseek (`file->f_pos = 0`, whatever the arguments: 0);
 *   random and urandom noop_llseek (the position as it is, never moved: 0 here too, since none
 *   of their reads or writes moves it).
 * - null: read_null 0 (end of file), write_null the count (nothing is read from the buffer).
 * - zero: reads clear the user buffer a PAGE_SIZE chunk at a time (3.14 read_zero with
 *   __clear_user; v6.12 read_zero with clear_user, which vfs_read prefers to read_iter_zero);
 *   ARM's __clear_user reports a whole chunk as not cleared when it faults (arch/arm/lib/
 *   clear_user.S: the fixup returns the size it was given), so the answer is the bytes of the
 *   chunks cleared before the faulting one, or -EFAULT when the first faults (the bytes of the
 *   faulting chunk before the bad page are zeroed all the same); writes as null (write_zero is
 *   write_null). mmap_zero: a VM_SHARED mapping gets shmem_zero_setup (a MAP_SHARED mapping of a
 *   file opened for writing: pages shared with a fork child, kept by MADV_DONTNEED), otherwise
 *   it stays plain anonymous memory (v6.12 vma_set_anonymous; 3.14 no vm_ops, so anonymous
 *   faults); do_mmap has already dropped VM_SHARED for a file opened read-only.
 * - full: reads as zero (3.14 read_full is read_zero; v6.12 read_iter_zero, the same chunks),
 *   write_full -ENOSPC.
 * - random, urandom: ./random.ts (capability `randomChardev`).
 * No ioctl is modelled (random_ioctl's RNDGETENTCNT, RNDADDENTROPY...: the model answers -ENOTTY
 * where Linux answers them or -EINVAL), nor splice, poll (random_poll) or fasync.
 * read/write never move the file position (none of these ops touches *ppos).
 */
import { EFAULT, ENOSPC } from '../base/errno.js';
import type { SyscallCapabilities } from '../capabilities-syscall.js';
import type { AddressSpace, Vma } from '../process/mm.js';
import { PAGE_SIZE } from '../process/pages.js';
import { File, FMODE_WRITE, type FileOps } from '../vfs/file.js';
import type { Vfs } from '../vfs/vfs.js';
import { copyToUserPartial, RandomPool, randomRead, randomWrite } from './random.js';

/** MEM_MAJOR (include/uapi/linux/major.h) */
export const MEM_MAJOR = 1;
/** MKDEV (include/linux/kdev_t.h: MINORBITS 20): the kernel's dev_t */
export const mkdev = (major: number, minor: number): number => ((major << 20) | minor) >>> 0;

const null_lseek = (f: File): number => (f.pos = 0);
const noop_llseek = (f: File): number => f.pos;

/** zeros a chunk at a time (the clear_user source, never written) */
const ZEROS = new Uint8Array(PAGE_SIZE);

/** read_zero / read_iter_zero on ARM: whole chunks cleared, see above */
export function readZero(mm: AddressSpace, buf: number, count: number): number {
  let cleared = 0;
  while (cleared < count) {
    const chunk = Math.min(count - cleared, PAGE_SIZE);
    if (copyToUserPartial(mm, buf + cleared, ZEROS, chunk) !== chunk) return cleared > 0 ? cleared : -EFAULT;
    cleared += chunk;
  }
  return cleared;
}

export const nullFops: FileOps = {
  name: 'null',
  keepsPos: true,
  llseek: null_lseek,
  read: () => 0,
  write: (_f, _t, _buf, count) => count,
};

export const zeroFops: FileOps = {
  name: 'zero',
  keepsPos: true,
  llseek: null_lseek,
  read: (_f, t, buf, count) => readZero(t.mm, buf, count),
  write: (_f, _t, _buf, count) => count,
  mmap(f: File, t, v: Vma): number {
    // mmap_zero: VM_SHARED (do_mmap keeps it only for a file opened for writing) -> shmem_zero_setup
    if (v.vmShared === true && (f.mode & FMODE_WRITE) !== 0 && v.pages !== null) v.shm = { pages: v.pages, refs: 1, mappers: [{ space: t.mm, v }] };
    return 0;
  },
};

export const fullFops: FileOps = {
  name: 'full',
  keepsPos: true,
  llseek: null_lseek,
  read: (_f, t, buf, count) => readZero(t.mm, buf, count),
  write: () => -ENOSPC,
};

function randomFops(name: string, mode: SyscallCapabilities['randomChardev'], pool: RandomPool, blocking: boolean): FileOps {
  return {
    name,
    keepsPos: true,
    llseek: noop_llseek,
    read: (_f, t, buf, count) => randomRead(mode, pool, t.mm, buf, count, blocking),
    write: (_f, t, buf, count) => randomWrite(mode, pool, t.mm, buf, count),
  };
}

export interface MemDevices {
  /** the pool /dev/random and /dev/urandom read and writes mix into */
  readonly pool: RandomPool;
}

/**
 * chr_dev_init: the devices in /dev (devtmpfs), st_rdev 1:minor. `seed` seeds the kernel's
 * random pool (see ./random.ts on where the stream comes from).
 */
export function registerMemDevices(vfs: Vfs, caps: Pick<SyscallCapabilities, 'randomChardev'>, seed: number): MemDevices {
  const pool = new RandomPool(seed);
  const devs: [string, number, FileOps][] = [
    ['null', 3, nullFops],
    ['zero', 5, zeroFops],
    ['full', 7, fullFops],
    ['random', 8, randomFops('random', caps.randomChardev, pool, true)],
    ['urandom', 9, randomFops('urandom', caps.randomChardev, pool, false)],
  ];
  for (const [name, minor, ops] of devs) {
    vfs.addDevNode(`/dev/${name}`, 0o666, (flags, _task, path) => new File(ops, null, flags, path), mkdev(MEM_MAJOR, minor));
  }
  return Object.freeze({ pool });
}
