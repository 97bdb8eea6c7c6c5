/**
 * IOMMU_FAULT_QUEUE_ALLOC and the "[iommufd-pgfault]" file (Linux v6.12
 * drivers/iommu/iommufd/fault.c iommufd_fault_alloc, iommufd_fault_fops): the object's life,
 * the fd, and the file operations on a queue no fault reaches on this arm-smmu (fault.ts).
 */
import { describe, expect, it } from 'vitest';
import { EBUSY, EFAULT, EINVAL, EMFILE, EOPNOTSUPP, ESPIPE } from '../../base/errno.js';
import { POLLIN, POLLOUT, PROT_READ, SEEK_SET } from '../../uapi/index.js';

import { bootMainline, IfdUser } from './testing/ifd-user.js';
import { IOMMU_FAULT_QUEUE_ALLOC } from './uapi.js';

const P = 4096;

/** a mainline system and a process with an open iommufd and one IOAS (id 1) */
function setup(): IfdUser {
  const u = new IfdUser(bootMainline(), 'fq');
  expect(u.openIommufd()).toBeGreaterThanOrEqual(0);
  expect(u.ioasAlloc()).toBe(1);
  return u;
}

/** IOMMU_FAULT_QUEUE_ALLOC: [ret, out_fault_id, out_fault_fd] */
function faultAlloc(u: IfdUser, flags = 0): [number, number, number] {
  const r = u.raw(IOMMU_FAULT_QUEUE_ALLOC, 16, { 4: flags });
  return [r, u.u32(8), u.u32(12)];
}

describe('IOMMU_FAULT_QUEUE_ALLOC', () => {
  it('answers 0, the next object id and a new O_CLOEXEC fd on an "anon_inode:[iommufd-pgfault]" file', () => {
    const u = setup();
    const [r, id, fd] = faultAlloc(u);
    expect(r).toBe(0);
    expect(id).toBe(2);
    expect(fd).toBe(u.fd + 1);
    expect(u.proc.fdget(fd)?.path).toBe('anon_inode:[iommufd-pgfault]');
    expect(u.proc.fdEntry(fd)?.cloexec).toBe(true); // get_unused_fd_flags(O_CLOEXEC)
    // the next object takes the next id
    expect(u.ioasAlloc()).toBe(3);
  });

  it('flags -EOPNOTSUPP; an unwritable answer -EFAULT with no fd installed and the id free again', () => {
    const u = setup();
    expect(faultAlloc(u, 1)[0]).toBe(-EOPNOTSUPP);
    const ro = u.mmap(P);
    u.mem.write32(ro, 16);
    expect(u.call('mprotect', [ro, P, PROT_READ])).toBe(0);
    // the struct is read from a read-only page (size 16, flags 0), the answer cannot be written back
    expect(u.ioctl(u.fd, IOMMU_FAULT_QUEUE_ALLOC, ro)).toBe(-EFAULT);
    expect(u.proc.fdget(u.fd + 1)).toBeNull();
    expect(u.ioasAlloc()).toBe(2);
  });

  it('-EMFILE at RLIMIT_NOFILE, before anything is answered', () => {
    const u = setup();
    u.proc.rlimitNofile = u.fd + 1;
    expect(faultAlloc(u)[0]).toBe(-EMFILE);
    expect(u.ioasAlloc()).toBe(2);
  });

  it('IOMMU_DESTROY of the fault object is -EBUSY while its file is open, 0 once closed', () => {
    const u = setup();
    const [, id, fd] = faultAlloc(u);
    expect(u.destroy(id)).toBe(-EBUSY);
    expect(u.call('close', [fd])).toBe(0);
    expect(u.destroy(id)).toBe(0);
    expect(u.ioasAlloc()).toBe(id);
  });

  it('the fault file keeps the iommufd context alive after the iommufd fd is closed', () => {
    const u = setup();
    const [, , fd] = faultAlloc(u);
    const svc = u.sys.iommufd!;
    expect(svc.contexts.size).toBe(1);
    expect(u.call('close', [u.fd])).toBe(0);
    expect(svc.contexts.size).toBe(1);
    expect(u.call('close', [fd])).toBe(0);
    expect(svc.contexts.size).toBe(0);
  });
});

describe('the "[iommufd-pgfault]" file on an empty queue', () => {
  it('read: a multiple of struct iommu_hwpt_pgfault (40 bytes) reads 0 without blocking, any other count -ESPIPE', () => {
    const u = setup();
    const [, , fd] = faultAlloc(u);
    const buf = u.mmap(P);
    expect(u.call('read', [fd, buf, 40])).toBe(0);
    expect(u.call('read', [fd, buf, 0])).toBe(0);
    expect(u.call('read', [fd, buf, 400])).toBe(0);
    expect(u.call('read', [fd, buf, 39])).toBe(-ESPIPE);
    expect(u.call('read', [fd, buf, 48])).toBe(-ESPIPE);
  });

  it('write: -ESPIPE unless a multiple of 8; a response the kernel reads is -EINVAL (bad code, or no such cookie); an unreadable one returns the uncopied byte count', () => {
    const u = setup();
    const [, , fd] = faultAlloc(u);
    const buf = u.mmap(2 * P);
    expect(u.call('write', [fd, buf, 7])).toBe(-ESPIPE);
    expect(u.call('write', [fd, buf, 0])).toBe(0);
    u.mem.write32(buf, 1); // cookie 1
    u.mem.write32(buf + 4, 0); // IOMMUFD_PAGE_RESP_SUCCESS
    expect(u.call('write', [fd, buf, 8])).toBe(-EINVAL);
    u.mem.write32(buf + 4, 2); // not a response code
    expect(u.call('write', [fd, buf, 8])).toBe(-EINVAL);
    // copy_from_user's remainder returned as is (v6.12 iommufd_fault_fops_write: `rc = copy_from_user(...)`)
    expect(u.call('munmap', [buf + P, P])).toBe(0);
    expect(u.call('write', [fd, buf + P, 8])).toBe(8);
    expect(u.call('write', [fd, buf + P - 4, 8])).toBe(4);
  });

  it('poll: POLLOUT, never POLLIN; lseek, pread and pwrite -ESPIPE', () => {
    const u = setup();
    const [, , fd] = faultAlloc(u);
    const pfd = u.mmap(P);
    u.mem.write32(pfd, fd);
    u.mem.write16(pfd + 4, POLLIN | POLLOUT);
    expect(u.call('poll', [pfd, 1, 0])).toBe(1);
    expect(u.mem.read16(pfd + 6)).toBe(POLLOUT);
    expect(u.call('lseek', [fd, 0, SEEK_SET])).toBe(-ESPIPE);
    expect(u.call('pread64', [fd, pfd + 64, 40, 0, 0, 0])).toBe(-ESPIPE);
    expect(u.call('pwrite64', [fd, pfd + 64, 8, 0, 0, 0])).toBe(-ESPIPE);
  });
});
