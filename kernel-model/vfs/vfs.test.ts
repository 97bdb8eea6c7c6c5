import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import { makeMachine, type Machine } from '../syscall/testing/machine.js';
import {
  EACCES, EFAULT, EINVAL, EISDIR, ENOENT, ENOTDIR, MAP_ANONYMOUS, MAP_PRIVATE, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_WRONLY,
  PROT_READ, PROT_WRITE, DT_DIR, DT_LNK, DT_REG, type Sys,
} from '../uapi/index.js';

function* scratch(sys: Sys): GuestProgram<number> {
  return yield* sys.mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

function populate(m: Machine): string[] {
  const stored: string[] = [];
  m.sysfs.mkdir('devices/platform/2c0a0000.dma');
  m.sysfs.addFile('devices/platform/2c0a0000.dma/driver_override', {
    mode: 0o644,
    show: () => '(null)\n',
    store: (d) => {
      stored.push(d);
      return d === 'bad\n' ? -EINVAL : d.length;
    },
  });
  m.sysfs.addFile('bus/platform/drivers_probe', { mode: 0o200, store: (d) => (stored.push(d), d.length) });
  m.sysfs.mkdir('kernel/iommu_groups/0/devices');
  m.sysfs.addLink('devices/platform/2c0a0000.dma/iommu_group', '/sys/kernel/iommu_groups/0');
  m.sysfs.addLink('kernel/iommu_groups/0/devices/2c0a0000.dma', '/sys/devices/platform/2c0a0000.dma');
  m.vfs.addProcFile('interrupts', () => '           CPU0\n 130:          1     GIC-0  98 Level     test\n');
  return stored;
}

function* str(sys: Sys, s: string, at: number): GuestProgram<number> {
  sys.mem.writeCString(at, s);
  return at;
}

describe('VFS-lite', () => {
  it('sysfs attributes: read shows the text, write hands the bytes to store, errors from store come back', () => {
    const m = makeMachine();
    const stored = populate(m);
    const out: unknown[] = [];
    m.run(function* (sys) {
      const b = yield* scratch(sys);
      const fd = yield* sys.open('/sys/devices/platform/2c0a0000.dma/driver_override', O_RDWR);
      const n = yield* sys.read(fd, b, 100);
      out.push(n, sys.mem.readCString(b, n));
      out.push(yield* sys.read(fd, b, 100)); // EOF
      yield* str(sys, 'vfio-platform\n', b);
      out.push(yield* sys.write(fd, b, 14));
      yield* str(sys, 'bad\n', b);
      out.push(yield* sys.write(fd, b, 4));
      out.push(yield* sys.open('/sys/bus/platform/drivers_probe', O_RDONLY));
      const p = yield* sys.open('/sys/bus/platform/drivers_probe', O_WRONLY);
      yield* str(sys, '2c0a0000.dma', b);
      out.push(yield* sys.write(p, b, 12));
      return 0;
    });
    expect(out).toEqual([7, '(null)\n', 0, 14, -EINVAL, -EACCES, 12]);
    expect(stored).toEqual(['vfio-platform\n', 'bad\n', '2c0a0000.dma']);
  });

  it('readlink of the iommu_group link gives the group number; paths through links resolve', () => {
    const m = makeMachine();
    populate(m);
    const out: unknown[] = [];
    m.run(function* (sys) {
      const b = yield* scratch(sys);
      const n = yield* sys.readlink('/sys/devices/platform/2c0a0000.dma/iommu_group', b, 256);
      out.push(sys.mem.readCString(b, n).slice(0, n));
      out.push(yield* sys.readlink('/sys/devices/platform/2c0a0000.dma/iommu_group', b, 3));
      out.push(yield* sys.readlink('/sys/devices/platform/2c0a0000.dma/driver_override', b, 256));
      out.push(yield* sys.readlink('/sys/nope', b, 256));
      out.push(yield* sys.readlink('/sys/devices/platform/2c0a0000.dma/iommu_group', b, 0));
      const fd = yield* sys.open('/sys/kernel/iommu_groups/0/devices/2c0a0000.dma/driver_override', O_RDONLY);
      out.push(fd >= 0);
      const fd2 = yield* sys.open('/sys/devices/platform/2c0a0000.dma/iommu_group/devices', O_RDONLY | O_DIRECTORY);
      out.push(fd2 >= 0);
      return 0;
    });
    expect(out).toEqual(['../../../kernel/iommu_groups/0', 3, -EINVAL, -ENOENT, -EINVAL, true, true]);
  });

  it('getdents64 lists a sysfs directory in linux_dirent64 records', () => {
    const m = makeMachine();
    populate(m);
    const names: [string, number][] = [];
    const out: unknown[] = [];
    m.run(function* (sys) {
      const b = yield* scratch(sys);
      const fd = yield* sys.open('/sys/devices/platform/2c0a0000.dma', O_RDONLY | O_DIRECTORY);
      out.push(yield* sys.getdents64(fd, b, 10)); // too small for one record
      for (;;) {
        const n = yield* sys.getdents64(fd, b, 48);
        if (n <= 0) {
          out.push(n);
          break;
        }
        for (let o = 0; o < n; ) {
          const reclen = sys.mem.read16(b + o + 16);
          names.push([sys.mem.readCString(b + o + 19), sys.mem.read8(b + o + 18)]);
          o += reclen;
        }
      }
      out.push(yield* sys.read(fd, b, 10));
      const e = yield* sys.eventfd(0, 0);
      out.push(yield* sys.getdents64(e, b, 100), yield* sys.getdents64(77, b, 100));
      return 0;
    });
    expect(out).toEqual([-EINVAL, 0, -EISDIR, -ENOTDIR, -9]);
    expect(names).toEqual([['.', DT_DIR], ['..', DT_DIR], ['driver_override', DT_REG], ['iommu_group', DT_LNK]]);
  });

  it.each([['access-ok-first'], ['per-record']] as const)('getdents64 with a buffer that faults (%s): the records before the fault are the answer, the position at the faulting entry; the buffer check 3.14 makes first', (mode) => {
    const m = makeMachine({ getdentsAccess: mode });
    populate(m);
    const out: unknown[] = [];
    const names: string[] = [];
    m.run(function* (sys) {
      // two writable pages, the second unmapped again: records run into the hole 4 KiB in
      const b = yield* sys.mmap(0, 0x2000, 3, 0x22, -1, 0);
      yield* sys.munmap(b + 0x1000, 0x1000);
      const fd = yield* sys.open('/sys/devices/platform/2c0a0000.dma', O_RDONLY | O_DIRECTORY);
      // 4056 bytes of the first page, then the hole: the first two records (24 bytes each) fit before it
      out.push(yield* sys.getdents64(fd, b + 0x1000 - 48, 4096));
      for (let o = 0; o < 48; ) {
        names.push(sys.mem.readCString(b + 0x1000 - 48 + o + 19));
        o += sys.mem.read16(b + 0x1000 - 48 + o + 16);
      }
      // the next entry starts in the hole: nothing written
      out.push(yield* sys.getdents64(fd, b + 0x1000, 4096));
      // the listing goes on from the faulting entry
      out.push(yield* sys.getdents64(fd, b, 4096));
      names.push(sys.mem.readCString(b + 19));
      // at the end, with a buffer past user space, and with a bad fd and such a buffer
      out.push(yield* sys.getdents64(fd, 0xbffff000, 4096));
      out.push(yield* sys.getdents64(77, 0xbffff000, 4096));
      // a valid buffer with a count that reaches past user space
      out.push(yield* sys.lseek(fd, 0, 0), yield* sys.getdents64(fd, b, 0xffffffff));
      return 0;
    });
    const first = mode === 'access-ok-first';
    // 3.14: access_ok(dirent, count) before the fd: -EFAULT at the end of the directory and for a bad fd; a
    // count past user space -EFAULT. v6.12: an empty answer (0), -EBADF, and records up to the buffer's end
    expect(out).toEqual([48, -EFAULT, 72, first ? -EFAULT : 0, first ? -EFAULT : -9, 0, first ? -EFAULT : 120]);
    expect(names).toEqual(['.', '..', 'driver_override']);
  });

  it('lookup errors and procfs', () => {
    const m = makeMachine();
    populate(m);
    const out: unknown[] = [];
    m.run(function* (sys) {
      const b = yield* scratch(sys);
      out.push(yield* sys.open('/nonexistent', O_RDONLY));
      out.push(yield* sys.open('/sys/devices/platform/2c0a0000.dma/driver_override/x', O_RDONLY));
      out.push(yield* sys.open('/sys/devices', O_RDWR));
      out.push(yield* sys.open('/sys/devices/platform/2c0a0000.dma/driver_override', O_RDONLY | O_DIRECTORY));
      out.push(yield* sys.open('/sys/devices/newfile', O_WRONLY | O_CREAT));
      out.push(yield* sys.open('/dev/nope/x', O_WRONLY | O_CREAT));
      out.push(yield* sys.open('/proc/interrupts', O_WRONLY));
      const fd = yield* sys.open('/proc/interrupts', O_RDONLY);
      const n = yield* sys.read(fd, b, 4096);
      out.push(sys.mem.readCString(b, n).includes('GIC-0  98 Level'));
      out.push(yield* sys.lseek(fd, 0, 0), (yield* sys.read(fd, b, 4)) === 4, yield* sys.lseek(fd, 0, 2));
      out.push(yield* sys.pread(fd, b, 4, 11), sys.mem.readCString(b, 4));
      return 0;
    });
    expect(out).toEqual([-ENOENT, -ENOTDIR, -EISDIR, -ENOTDIR, -EACCES, -ENOENT, -EACCES, true, 0, true, -EINVAL, 4, 'CPU0']);
  });

  it('non-root processes are held to the mode bits', () => {
    const m = makeMachine();
    populate(m);
    const out: unknown[] = [];
    m.run(function* (sys) {
      out.push(yield* sys.open('/sys/devices/platform/2c0a0000.dma/driver_override', O_WRONLY));
      out.push((yield* sys.open('/sys/devices/platform/2c0a0000.dma/driver_override', O_RDONLY)) >= 0);
      return 0;
    }, { uid: 1000 });
    expect(out).toEqual([-EACCES, true]);
  });
});
