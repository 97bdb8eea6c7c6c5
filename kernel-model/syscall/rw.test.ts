/**
 * The VFS checks of read/write/pread64/pwrite64/lseek before a file's method runs
 * (fs/read_write.c sys_read, sys_pread64, vfs_read, vfs_write, rw_verify_area, sys_lseek,
 * vfs_llseek; 3.14 and v6.12 alike), and the file-mode bits that decide them (do_dentry_open,
 * anon_inode_getfile, VFIO's device file). A booted System; the device is the PL330 under
 * vfio-platform.
 */
import { describe, expect, it } from 'vitest';
import { EBADF, EFAULT, EINVAL, ESPIPE, O_RDONLY, SEEK_CUR, SEEK_SET } from '../uapi/index.js';
import { TASK_SIZE } from '../process/mm.js';
import { PL330_BASE, setup, User } from '../vfio/platform/testing/user.js';

/** the bottom of the stack VMA's last page: user memory that ends exactly at TASK_SIZE */
function stackTop(u: User): number {
  return u.call('mmap2', [TASK_SIZE - 0x1000, 0x1000, 3, 0x32 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED */, -1, 0]);
}

describe('access_ok of the buffer (vfs_read/vfs_write): -EFAULT before the driver runs', () => {
  it('TASK_SIZE is 0xbf000000 (PAGE_OFFSET - 16 MiB): a buffer ending there is fine, one byte further is not', () => {
    expect(TASK_SIZE).toBe(0xbf000000);
    const { u } = setup('mainline');
    const top = stackTop(u);
    expect(top).toBe(TASK_SIZE - 0x1000);
    const efd = u.call('eventfd2', [5, 0]);
    expect(u.call('read', [efd, TASK_SIZE - 8, 8])).toBe(8);
    expect(u.mem.read32(TASK_SIZE - 8)).toBe(5);
    u.call('write', [efd, u.page, 8]);
    // [TASK_SIZE - 4, TASK_SIZE + 4): access_ok fails, the counter is not consumed
    u.mem.write32(u.page, 1);
    u.mem.write32(u.page + 4, 0);
    expect(u.call('write', [efd, u.page, 8])).toBe(8);
    expect(u.call('read', [efd, TASK_SIZE - 4, 8])).toBe(-EFAULT);
    expect(u.call('read', [efd, u.page + 0x800, 8])).toBe(8);
    expect(u.mem.read32(u.page + 0x800)).toBe(1);
    // the module area and the kernel are not user space; a mapping there is refused
    expect(u.call('mmap2', [TASK_SIZE, 0x1000, 3, 0x32, -1, 0])).toBe(-12);
    expect(u.call('write', [efd, 0xbf800000, 8])).toBe(-EFAULT);
  });

  it('rfc-v4: a pread whose buffer runs past user space is -EFAULT, not the Oops of the 4*X offset', () => {
    const { sys, u, device } = setup('rfc-v4');
    const OOPS_POS = PL330_BASE + 0x400; // 4 * 0x400 lies past the 4 KiB ioremap (findings.test.ts)
    const oopses = (): number => sys.kernel.log.grep(/Unable to handle kernel/).length;
    expect(u.call('pread64', [device, TASK_SIZE - 2, 4, 0, OOPS_POS, 0])).toBe(-EFAULT);
    expect(u.call('pwrite64', [device, TASK_SIZE - 2, 4, 0, OOPS_POS, 0])).toBe(-EFAULT);
    expect(oopses()).toBe(0);
    // with the buffer in user space the driver runs and Oopses (the process is killed)
    expect(() => u.call('pread64', [device, u.page, 4, 0, OOPS_POS, 0])).toThrow(/Oops/);
    expect(oopses()).toBe(1);
  });
});

describe('rw_verify_area: the count and the end of the position', () => {
  it('a count that is negative as ssize_t is -EINVAL; a large positive one is capped at MAX_RW_COUNT', () => {
    const { u, device } = setup('mainline');
    const efd = u.call('eventfd2', [3, 0]);
    expect(u.call('read', [efd, 0x10000, 0x80000000])).toBe(-EINVAL);
    expect(u.call('read', [efd, 0x10000, 0xbeff0000])).toBe(-EINVAL);
    // past TASK_SIZE: access_ok first
    expect(u.call('read', [efd, 0x10000, 0xbf000000])).toBe(-EFAULT);
    // the same count from a buffer in the first gigabyte passes, capped to 0x7ffff000: eventfd
    // reads its 8 bytes. From the scratch page (above 0x40000000) it runs past TASK_SIZE
    const low = u.call('mmap2', [0x100000, 0x1000, 3, 0x32, -1, 0]);
    expect(low).toBe(0x100000);
    expect(u.call('read', [efd, u.page, 0x7fffffff])).toBe(-EFAULT);
    expect(u.call('read', [efd, low, 0x7fffffff])).toBe(8);
    expect(u.mem.read32(low)).toBe(3);
    expect(u.call('pread64', [device, 0x10000, 0x80000000, 0, 0, 0])).toBe(-EINVAL);
  });

  it('pread64: a negative position is -EINVAL before the fd is looked up; pos + count past LLONG_MAX is -EINVAL', () => {
    const { u } = setup('mainline');
    expect(u.call('pread64', [999, u.page, 4, 0, 0, 0x80000000])).toBe(-EINVAL);
    expect(u.call('pread64', [999, u.page, 4, 0, 0, 0])).toBe(-EBADF);
    expect(u.call('pwrite64', [999, u.page, 4, 0, 0xffffffff, 0xffffffff])).toBe(-EINVAL);
    // a sysfs attribute reads 0 bytes past its end: the position's end is all that is checked
    const fd = u.open('/sys/bus/platform/drivers_autoprobe', O_RDONLY);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(u.call('pread64', [fd, u.page, 3, 0, 0xfffffffc, 0x7fffffff])).toBe(0); // ends at 2^63 - 1
    expect(u.call('pread64', [fd, u.page, 4, 0, 0xfffffffc, 0x7fffffff])).toBe(-EINVAL); // ends at 2^63
    expect(u.call('pread64', [fd, u.page, 1, 0, 0, 0x7fffffff])).toBe(0);
    expect(u.call('pread64', [fd, u.page, 2, 0, 0, 0])).toBe(2);
  });
});

describe('file modes: which files take pread/pwrite and lseek', () => {
  it.each([
    ['rfc-v4', -ESPIPE],
    ['mainline', 0],
  ] as const)('%s: an eventfd (anon_inode_getfile) has no FMODE_PREAD/PWRITE (-ESPIPE, nothing consumed); lseek %d (anonInodeLseek)', (profile, lseek) => {
    const { sys, u } = setup(profile);
    expect(sys.profile.caps.anonInodeLseek).toBe(profile === 'mainline' ? 'with-llseek' : 'never');
    const efd = u.call('eventfd2', [2, 0]);
    expect(u.call('pread64', [efd, u.page, 8, 0, 0, 0])).toBe(-ESPIPE);
    expect(u.call('pwrite64', [efd, u.page, 8, 0, 0, 0])).toBe(-ESPIPE);
    // -ESPIPE comes before the buffer's access_ok and the read mode
    expect(u.call('pread64', [efd, TASK_SIZE, 8, 0, 0, 0])).toBe(-ESPIPE);
    // 3.14: no FMODE_LSEEK, no_llseek; mainline: noop_llseek returns the position, unmoved
    expect(u.call('lseek', [efd, 100, SEEK_SET])).toBe(lseek);
    expect(u.call('lseek', [efd, 5, SEEK_CUR])).toBe(lseek);
    expect(u.call('read', [efd, u.page, 8])).toBe(8);
    expect(u.mem.read32(u.page)).toBe(2);
  });

  it('the order of the checks: -ESPIPE (no FMODE_PREAD) before -EBADF (not open for reading) before -EFAULT', () => {
    const { sys, u } = setup('mainline');
    // a pipe's ends have no FMODE_PREAD/PWRITE (alloc_file): sys_pread64 answers -ESPIPE before
    // vfs_read looks at the mode, so even the write end's pread is -ESPIPE
    expect(sys.syscalls.sysPipe2(sys.syscalls.taskOf(u.proc, null), u.page, 0)).toBe(0);
    const [rd, wr] = [u.mem.read32(u.page), u.mem.read32(u.page + 4)];
    expect(u.call('pread64', [wr, u.page, 4, 0, 0, 0])).toBe(-ESPIPE);
    expect(u.call('pwrite64', [rd, u.page, 4, 0, 0, 0])).toBe(-ESPIPE);
    expect(u.call('lseek', [rd, 0, SEEK_SET])).toBe(-ESPIPE);
    // read() of the write end: -EBADF, whatever the buffer
    expect(u.call('read', [wr, TASK_SIZE, 4])).toBe(-EBADF);
    // a write-only sysfs attribute (do_dentry_open: FMODE_PREAD set): pread is -EBADF
    const fd = u.open('/sys/bus/platform/drivers_probe', 1 /* O_WRONLY */);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(u.call('pread64', [fd, TASK_SIZE, 4, 0, 0, 0])).toBe(-EBADF);
    expect(u.call('pwrite64', [fd, TASK_SIZE, 4, 0, 0, 0])).toBe(-EFAULT);
  });

  it('lseek: a whence past SEEK_MAX is -EINVAL first; sysfs attributes seek; VFIO container and group fds do not', () => {
    const { u } = setup('mainline');
    const efd = u.call('eventfd2', [0, 0]);
    expect(u.call('lseek', [efd, 0, 5])).toBe(-EINVAL);
    expect(u.call('lseek', [999, 0, 5])).toBe(-EBADF);
    const fd = u.open('/sys/bus/platform/drivers_autoprobe', O_RDONLY);
    expect(u.call('lseek', [fd, 1, SEEK_SET])).toBe(1);
    expect(u.call('read', [fd, u.page, 8])).toBe(1); // "1\n" from position 1: the newline
    expect(u.call('lseek', [fd, 0, SEEK_CUR])).toBe(2);
    const container = u.open('/dev/vfio/vfio');
    expect(container).toBeGreaterThanOrEqual(0);
    expect(u.call('lseek', [container, 0, SEEK_SET])).toBe(-ESPIPE);
  });
});
