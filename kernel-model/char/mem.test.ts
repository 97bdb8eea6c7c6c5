/**
 * The memory character devices (drivers/char/mem.c, drivers/char/random.c) and getrandom, per
 * era, on a booted System: the syscalls the stub CPU makes (SyscallLayer.invoke).
 */
import { describe, expect, it } from 'vitest';
import { System } from '../../tools/system/system.js';
import { User } from '../vfio/platform/testing/user.js';
import { EFAULT, EINVAL, ENODEV, ENOSPC, ENOSYS, ENOTTY } from '../base/errno.js';
import { O_RDONLY, O_RDWR, SEEK_CUR, SEEK_SET } from '../uapi/index.js';
import { encodeStat64, encodeStatx, fileStat, nodeStat, S_IFCHR } from '../syscall/stat.js';
import { GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM, MAX_RW_COUNT, sysGetrandom, URANDOM_MAX_3_14 } from './random.js';
import { mkdev } from './mem.js';
import { ARM_NR } from '../exec/arm-nr.js';
import { absentSyscalls } from '../exec/syscall-era.js';
import { parseProfile } from '../profile.js';

const PROT_RW = 3, MAP_PRIVATE = 2, MAP_SHARED = 1, MAP_ANON = 0x20, MAP_FIXED = 0x10;
const SEEK_END = 2;

function boot(profile: string): { sys: System; u: User } {
  const sys = new System({ profile });
  return { sys, u: new User(sys) };
}

/** n pages of anonymous memory followed by an unmapped page: [base, base + n pages) */
function pagesThenHole(u: User, n: number): number {
  const base = u.call('mmap2', [0, (n + 1) * 4096, PROT_RW, MAP_PRIVATE | MAP_ANON, -1, 0]);
  expect(u.call('munmap', [base + n * 4096, 4096])).toBe(0);
  return base;
}

const ERAS = ['rfc-v4', 'mainline'] as const;

describe.each(ERAS)('memory devices in /dev (%s)', (profile) => {
  it('null, zero, full, random, urandom: character devices 1:3, 1:5, 1:7, 1:8, 1:9, mode 0666', () => {
    const { sys } = boot(profile);
    for (const [name, minor] of [['null', 3], ['zero', 5], ['full', 7], ['random', 8], ['urandom', 9]] as const) {
      const r = sys.vfs.walk(`/dev/${name}`, true);
      if (typeof r === 'number') throw new Error(`/dev/${name}: ${r}`);
      const st = nodeStat(r.node);
      expect(st.mode).toBe(S_IFCHR | 0o666);
      expect(st.rdev).toBe(mkdev(1, minor));
      // struct stat64's st_rdev is new_encode_dev's (major << 8 | minor for small numbers)
      expect(new DataView(encodeStat64(st).buffer).getUint32(32, true)).toBe(0x100 | minor);
      const sx = new DataView(encodeStatx(st).buffer);
      expect([sx.getUint32(128, true), sx.getUint32(132, true)]).toEqual([1, minor]);
    }
  });

  it('the console behind fds 0-2: a character device 5:1 (TTYAUX_MAJOR, tty_init)', () => {
    const { sys } = boot(profile);
    const p = sys.syscalls.createProcess({ stdio: true });
    for (const fd of [0, 1, 2]) {
      const st = fileStat(sys.vfs, p.fdget(fd)!);
      expect(st.mode).toBe(S_IFCHR | 0o620);
      expect(st.rdev).toBe(mkdev(5, 1));
      expect(new DataView(encodeStat64(st).buffer).getUint32(32, true)).toBe(0x501);
    }
  });

  it('/dev/null: read 0, write the count (whatever the buffer), lseek 0', () => {
    const { u } = boot(profile);
    const fd = u.open('/dev/null', O_RDWR);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(u.call('read', [fd, u.page, 100])).toBe(0);
    expect(u.call('write', [fd, u.page, 100])).toBe(100);
    // write_null never reads the buffer: an unmapped one in user space is fine
    const hole = pagesThenHole(u, 1) + 4096;
    expect(u.call('write', [fd, hole, 4096])).toBe(4096);
    expect(u.call('lseek', [fd, 1234, SEEK_SET])).toBe(0);
    expect(u.call('lseek', [fd, 5, SEEK_END])).toBe(0);
    expect(u.call('lseek', [fd, -7, SEEK_CUR])).toBe(0);
    expect(u.call('mmap2', [0, 4096, PROT_RW, MAP_PRIVATE, fd, 0])).toBe(-ENODEV);
    expect(u.call('ioctl', [fd, 0x5401, 0])).toBe(-ENOTTY);
  });

  it('/dev/zero: reads zero the buffer; a fault counts the PAGE_SIZE chunks cleared before it, or -EFAULT', () => {
    const { u } = boot(profile);
    const fd = u.open('/dev/zero', O_RDWR);
    const base = pagesThenHole(u, 2);
    u.mem.fill(base, 0xaa, 2 * 4096);
    expect(u.call('read', [fd, base + 10, 20])).toBe(20);
    expect([u.mem.read8(base + 9), u.mem.read8(base + 10), u.mem.read8(base + 29), u.mem.read8(base + 30)]).toEqual([0xaa, 0, 0, 0xaa]);
    u.mem.fill(base, 0xaa, 2 * 4096);
    // from base + 100: a chunk of 4096 (fine), then one of 4096 reaching 100 bytes into the hole
    expect(u.call('read', [fd, base + 100, 3 * 4096])).toBe(4096);
    // the faulting chunk's bytes before the hole are cleared all the same (clear_user stored them)
    expect(u.mem.read8(base + 2 * 4096 - 1)).toBe(0);
    // the first chunk faults: nothing counted
    expect(u.call('read', [fd, base + 4096 + 100, 4096])).toBe(-EFAULT);
    expect(u.call('read', [fd, base + 2 * 4096, 1])).toBe(-EFAULT);
    expect(u.call('read', [fd, base, 0])).toBe(0);
    expect(u.call('write', [fd, u.page, 77])).toBe(77);
    expect(u.call('lseek', [fd, 4096, SEEK_SET])).toBe(0);
  });

  it('/dev/full: reads zeros, writes -ENOSPC', () => {
    const { u } = boot(profile);
    const fd = u.open('/dev/full', O_RDWR);
    u.mem.fill(u.page + 0x800, 0x55, 16);
    expect(u.call('read', [fd, u.page + 0x800, 16])).toBe(16);
    expect(u.mem.read32(u.page + 0x80c)).toBe(0);
    expect(u.call('write', [fd, u.page, 1])).toBe(-ENOSPC);
    expect(u.call('lseek', [fd, 9, SEEK_SET])).toBe(0);
  });

  it('/dev/zero MAP_PRIVATE is private anonymous memory, MAP_SHARED opened for writing is shmem (shmem_zero_setup)', () => {
    const { u } = boot(profile);
    const rw = u.open('/dev/zero', O_RDWR);
    const ro = u.open('/dev/zero', O_RDONLY);
    const p = u.call('mmap2', [0, 8192, PROT_RW, MAP_PRIVATE, rw, 0]);
    expect(p).toBeGreaterThan(0);
    expect(u.mem.read32(p + 4096)).toBe(0);
    u.mem.write32(p, 0x12345678);
    expect(u.mem.read32(p)).toBe(0x12345678);
    expect(u.proc.mm.find(p)?.shm ?? null).toBeNull();
    const s = u.call('mmap2', [0, 4096, PROT_RW, MAP_SHARED, rw, 0]);
    const v = u.proc.mm.find(s)!;
    expect(v.shm).not.toBeNull();
    expect(v.vmShared).toBe(true);
    u.mem.write32(s, 7);
    // MADV_DONTNEED keeps a shared page's data (it lives in the shmem object)
    expect(u.call('madvise', [s, 4096, 4])).toBe(0);
    expect(u.mem.read32(s)).toBe(7);
    // read-only: do_mmap drops VM_SHARED before mmap_zero, so the mapping is private
    const r = u.call('mmap2', [0, 4096, 1, MAP_SHARED, ro, 0]);
    expect(u.proc.mm.find(r)?.shm ?? null).toBeNull();
    expect(u.call('mmap2', [0, 4096, PROT_RW, MAP_SHARED, ro, 0])).toBe(-13); // -EACCES
    expect(u.call('mmap2', [p, 4096, PROT_RW, MAP_PRIVATE | MAP_FIXED, rw, 0])).toBe(p);
    expect(u.mem.read32(p)).toBe(0);
  });

  it('/dev/urandom and /dev/random: seeded bytes, deterministic per seed, writes accepted and mixed in', () => {
    const read = (seed: number, write: boolean): number[] => {
      const sys = new System({ profile, seed });
      const u = new User(sys);
      const fd = u.open('/dev/urandom', O_RDWR);
      if (write) expect(u.call('write', [fd, u.str('entropy'), 7])).toBe(7);
      expect(u.call('read', [fd, u.page + 0x800, 64])).toBe(64);
      return [...u.mem.readBytes(u.page + 0x800, 64)];
    };
    const a = read(1, false);
    expect(read(1, false)).toEqual(a);
    expect(read(2, false)).not.toEqual(a);
    expect(read(1, true)).not.toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(16);
    const { u } = boot(profile);
    const fd = u.open('/dev/random', O_RDONLY);
    expect(u.call('read', [fd, u.page + 0x800, 0])).toBe(0);
    expect(u.call('lseek', [fd, 100, SEEK_SET])).toBe(0);
    expect(u.call('ioctl', [fd, 0x80045200 /* RNDGETENTCNT */, u.page])).toBe(-ENOTTY);
  });
});

describe('/dev/random and /dev/urandom per era (randomChardev)', () => {
  it('3.14: /dev/random gives at most SEC_XFER_SIZE (512) bytes a read; a fault after some bytes is -EFAULT', () => {
    const { u } = boot('rfc-v4');
    const base = pagesThenHole(u, 2);
    const rnd = u.open('/dev/random', O_RDWR);
    const ur = u.open('/dev/urandom', O_RDWR);
    expect(u.call('read', [rnd, base, 4096])).toBe(512);
    expect(u.call('read', [ur, base, 8192])).toBe(8192);
    expect(u.call('read', [ur, base + 8192 - 100, 200])).toBe(-EFAULT);
    expect(u.call('read', [rnd, base + 8192 - 100, 200])).toBe(-EFAULT);
    expect(u.call('write', [ur, base + 8192 - 100, 200])).toBe(-EFAULT);
    expect(u.call('write', [rnd, base, 8192])).toBe(8192);
  });

  it('3.14: one read of /dev/urandom gives at most INT_MAX >> 6 bytes (32 MiB - 1); v6.12 the whole count', () => {
    for (const [profile, want] of [['rfc-v4', URANDOM_MAX_3_14], ['mainline', 0x2001000]] as const) {
      const { u } = boot(profile);
      const len = 0x2001000;
      const base = u.call('mmap2', [0, len, PROT_RW, MAP_PRIVATE | MAP_ANON, -1, 0]);
      const ur = u.open('/dev/urandom', O_RDONLY);
      expect(u.call('read', [ur, base, len])).toBe(want);
    }
    expect(URANDOM_MAX_3_14).toBe(0x1ffffff);
  });

  it('v6.12: no per-read limit; the bytes before a fault are the answer (-EFAULT when none)', () => {
    const { u } = boot('mainline');
    const base = pagesThenHole(u, 2);
    const rnd = u.open('/dev/random', O_RDWR);
    const ur = u.open('/dev/urandom', O_RDWR);
    expect(u.call('read', [rnd, base, 4096])).toBe(4096);
    expect(u.call('read', [ur, base + 8192 - 100, 200])).toBe(100);
    expect(u.call('read', [rnd, base + 8192 - 100, 200])).toBe(100);
    expect(u.call('read', [ur, base + 8192, 10])).toBe(-EFAULT);
    expect(u.call('write', [ur, base + 8192 - 100, 200])).toBe(100);
    expect(u.call('write', [ur, base + 8192, 10])).toBe(-EFAULT);
  });
});

describe('getrandom (v6.12; not in 3.14\'s syscall table)', () => {
  const fill = (b: Uint8Array): void => void b.fill(0x5a);

  it('3.14: not in the era table (added in v3.17), so the ARM entry answers -ENOSYS before it (tools/unicorn/era-gate.test.ts)', () => {
    expect(absentSyscalls(parseProfile('rfc-v4').caps.syscallTable).has(ARM_NR.getrandom)).toBe(true);
    expect(absentSyscalls(parseProfile('mainline').caps.syscallTable).has(ARM_NR.getrandom)).toBe(false);
  });

  it('v6.12: flags, the INSECURE|RANDOM pair, the count, faults', () => {
    const { u } = boot('mainline');
    const mm = u.proc.mm;
    const base = pagesThenHole(u, 2);
    expect(sysGetrandom(mm, fill, u.page, 16, 8)).toBe(-EINVAL);
    expect(sysGetrandom(mm, fill, u.page, 16, GRND_INSECURE | GRND_RANDOM)).toBe(-EINVAL);
    for (const f of [0, GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE, GRND_NONBLOCK | GRND_RANDOM, GRND_NONBLOCK | GRND_INSECURE]) {
      expect(sysGetrandom(mm, fill, u.page + 0x800, 16, f)).toBe(16);
    }
    expect(u.mem.read32(u.page + 0x800)).toBe(0x5a5a5a5a);
    expect(sysGetrandom(mm, fill, u.page, 0, 0)).toBe(0);
    expect(sysGetrandom(mm, fill, base + 8192 - 40, 100, 0)).toBe(40);
    expect(sysGetrandom(mm, fill, base + 8192, 100, 0)).toBe(-EFAULT);
    // import_ubuf: the count capped at MAX_RW_COUNT, then access_ok over it: past user space -EFAULT
    expect(MAX_RW_COUNT).toBe(0x7ffff000);
    expect(sysGetrandom(mm, fill, base, 0xffffffff, 0)).toBe(-EFAULT);
    // a count within user space but over the mapping: the bytes up to the hole
    expect(sysGetrandom(mm, fill, base, 0x10000000, 0)).toBe(8192);
  });
});
