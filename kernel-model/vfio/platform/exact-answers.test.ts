/**
 * Issue 16, item 6: the exact answers of the 2014 stack (Linux 3.14 + the RFC v4 series),
 * each decided by a named kernel function, and mainline's where it differs (capabilities
 * `containerFileOps`, `type1v2`, `copyToUserReturn`, `bugs.maskSleepsUnderSpinlock`).
 */
import { describe, expect, it } from 'vitest';
import {
  EFAULT, EINVAL, ENODEV, ENOTTY, ESPIPE, MAP_ANONYMOUS, VFIO_GROUP_GET_DEVICE_FD, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE,
  VFIO_CHECK_EXTENSION, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_GET_REGION_INFO, VFIO_DMA_MAP_FLAG_READ,
  VFIO_GROUP_SET_CONTAINER, VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA, VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_NONE, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, vfio_iommu_type1_dma_map,
} from '../../uapi/index.js';
import { System } from '../../../tools/system/system.js';
import { PL330, PL330_BASE, User, bindToVfio, setup, vfioDriverOf } from './testing/user.js';

/** a System with the PL330 on vfio-platform, a container and its group attached (SET_IOMMU not done) */
function attached(profile: string): { sys: System; u: User; container: number; group: number } {
  const sys = new System({ profile });
  const u = new User(sys);
  expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
  const container = u.open('/dev/vfio/vfio');
  const group = u.open('/dev/vfio/0');
  u.mem.write32(u.page, container);
  expect(u.ioctl(group, VFIO_GROUP_SET_CONTAINER, u.page)).toBe(0);
  return { sys, u, container, group };
}

describe('the container without an IOMMU driver', () => {
  it.each(['rfc-v4', 'mainline'])('%s: an unknown, a device or an IOMMU ioctl is -EINVAL (vfio_fops_unl_ioctl), not -ENOTTY', (profile) => {
    const { u, container } = attached(profile);
    expect(u.ioctl(container, 0x3b99, 0)).toBe(-EINVAL);
    expect(u.ioctl(container, 0x1234, 0)).toBe(-EINVAL);
    expect(u.ioctl(container, VFIO_DEVICE_GET_INFO, u.page)).toBe(-EINVAL);
    expect(u.ioctl(container, VFIO_IOMMU_GET_INFO, u.page)).toBe(-EINVAL);
  });

  it('rfc-v4: mmap, read and write of a container fd without a driver are -EINVAL (vfio_fops_mmap/read/write)', () => {
    const { u, container } = attached('rfc-v4');
    expect(u.call('mmap2', [0, 4096, PROT_READ, MAP_SHARED, container, 0])).toBe(-EINVAL);
    expect(u.call('read', [container, u.page + 0x800, 8])).toBe(-EINVAL);
    expect(u.call('write', [container, u.page + 0x800, 8])).toBe(-EINVAL);
    // type1 has no mmap: with the driver set it is still -EINVAL
    expect(u.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)).toBe(0);
    expect(u.call('mmap2', [0, 4096, PROT_READ, MAP_SHARED, container, 0])).toBe(-EINVAL);
  });

  it('mainline: the container fops have no mmap: -ENODEV from do_mmap; read/write -EINVAL', () => {
    const { u, container } = attached('mainline');
    expect(u.call('mmap2', [0, 4096, PROT_READ, MAP_SHARED, container, 0])).toBe(-ENODEV);
    expect(u.call('read', [container, u.page + 0x800, 8])).toBe(-EINVAL);
  });
});

describe('SET_IOMMU', () => {
  it('rfc-v4: an unknown type and TYPE1v2 (3.14 type1 offers TYPE1 only) are -ENODEV (vfio_ioctl_set_iommu)', () => {
    const { u, container } = attached('rfc-v4');
    expect(u.ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)).toBe(0);
    expect(u.ioctl(container, VFIO_SET_IOMMU, 42)).toBe(-ENODEV);
    expect(u.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(-ENODEV);
    expect(u.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)).toBe(0);
  });

  it('mainline: an unknown type is -ENODEV; TYPE1v2 is offered and accepted', () => {
    const { u, container } = attached('mainline');
    expect(u.ioctl(container, VFIO_SET_IOMMU, 42)).toBe(-ENODEV);
    expect(u.ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)).toBe(1);
    expect(u.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(0);
  });
});

describe('copy-out of the info ioctls (patches 04, 05, 08: `return copy_to_user(...)`)', () => {
  /** two RW pages; the struct at the end of the first, `tail` bytes of it in the second, which is made read-only */
  function straddle(u: User, size: number, tail: number): number {
    const a = u.call('mmap2', [0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    expect(a).toBeGreaterThan(0);
    const s = a + 4096 - (size - tail);
    u.mem.write32(s, size); // argsz
    expect(u.call('mprotect', [a + 4096, 4096, PROT_READ])).toBe(0);
    return s;
  }

  it.each([
    ['GET_INFO', VFIO_DEVICE_GET_INFO, 16],
    ['GET_REGION_INFO', VFIO_DEVICE_GET_REGION_INFO, 32],
    ['GET_IRQ_INFO', VFIO_DEVICE_GET_IRQ_INFO, 16],
  ] as const)('rfc-v4 %s: a copy-out that faults returns the POSITIVE count of bytes not copied; mainline -EFAULT', (_n, req, size) => {
    for (const [profile, want] of [['rfc-v4', 8], ['mainline', -EFAULT]] as const) {
      const { u, device } = setup(profile);
      const s = straddle(u, size, 8);
      expect(u.ioctl(device, req, s), profile).toBe(want);
    }
  });

  it('rfc-v4: a wholly read-only struct: all minsz bytes not copied', () => {
    const { u, device } = setup('rfc-v4');
    const s = straddle(u, 16, 16);
    expect(u.ioctl(device, VFIO_DEVICE_GET_INFO, s)).toBe(16);
  });
});

describe('the device fd cannot seek: lseek is -ESPIPE, read()/write() stay at position 0', () => {
  // vfio_device_fops has no llseek (3.14 vfio.c; v6.12 vfio_main.c): sys_lseek answers -ESPIPE
  // although 3.14 sets FMODE_LSEEK on the file. read()/write() therefore always use f_pos 0,
  // and the drivers' read/write do not move it: read() answers what pread at 0 answers
  it.each(['rfc-v4', 'mainline'])('%s', (profile) => {
    const { sys, u, device } = setup(profile);
    expect(u.call('lseek', [device, 0xe00, 0])).toBe(-ESPIPE);
    expect(u.call('lseek', [device, 0, 1])).toBe(-ESPIPE);
    const b = u.page + 0x900;
    const viaPread = u.call('pread64', [device, b, 4, 0, 0, 0]);
    const at0 = u.mem.read32(b);
    u.mem.write32(b, 0xdeadbeef);
    expect(u.call('read', [device, b, 4])).toBe(viaPread);
    expect(u.call('read', [device, b, 4])).toBe(viaPread);
    if (sys.profile.caps.regionOffsetEncoding === 'index-shift-40') {
      // mainline: position 0 is region 0 at offset 0 (DSR), read twice, the same register
      expect(viaPread).toBe(4);
      expect(u.mem.read32(b)).toBe(at0);
    } else {
      // 2014 (patch 06): the offset is a physical address and no region holds 0, so read()
      // never reaches a register: vfio_platform_read's no-region answer, -EFAULT (finding 3)
      expect(viaPread).toBe(-EFAULT);
    }
  });
});

describe('MAP_DMA wrap checks (vfio_dma_do_map: `if (vaddr + size && vaddr + size < vaddr)` in unsigned long)', () => {
  function map(u: User, container: number, vaddr: number, size: number): number {
    const a = u.page;
    u.mem.fill(a, 0, 32);
    u.mem.write32(a + vfio_iommu_type1_dma_map.argsz, 32);
    u.mem.write32(a + vfio_iommu_type1_dma_map.flags, VFIO_DMA_MAP_FLAG_READ);
    u.mem.write32(a + vfio_iommu_type1_dma_map.vaddr, vaddr >>> 0);
    u.mem.write32(a + vfio_iommu_type1_dma_map.iova, 0x100000);
    u.mem.write32(a + vfio_iommu_type1_dma_map.size, size >>> 0);
    return u.ioctl(container, VFIO_IOMMU_MAP_DMA, a);
  }

  it.each(['rfc-v4', 'mainline'])('%s: vaddr + size == 2^32 passes the check and fails in the pin (-EFAULT); past it wraps (-EINVAL)', (profile) => {
    const { u, container } = attached(profile);
    expect(u.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)).toBe(0);
    expect(map(u, container, 0xfffff000, 0x1000)).toBe(-EFAULT);
    expect(map(u, container, 0xfffff000, 0x2000)).toBe(-EINVAL);
  });
});

describe('patch 10 MASK: disable_irq() under spin_lock_irqsave', () => {
  it('rfc-v4: MASK prints __might_sleep\'s "BUG: sleeping function called from invalid context" and masks', () => {
    const { sys, u, device } = setup('rfc-v4');
    expect(u.setIrqs(device, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 0, 0, 1)).toBe(0);
    const lines = sys.kernel.log.lines();
    const at = lines.findIndex((l) => l.endsWith('BUG: sleeping function called from invalid context at kernel/irq/manage.c'));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(new RegExp(`in_atomic\\(\\): 1, irqs_disabled\\(\\): 128, pid: ${u.proc.pid}, name: ${u.proc.name}$`));
    expect(lines.some((l) => l.endsWith('(disable_irq) from (vfio_platform_mask)'))).toBe(true);
    expect(vfioDriverOf(sys).inspect()[0]!.irqs[0]!.masked).toBe(true);
    // UNMASK (enable_irq) does not sleep: no second report
    expect(u.setIrqs(device, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 0, 1)).toBe(0);
    expect(sys.kernel.log.grep(/sleeping function called from invalid context/)).toHaveLength(1);
  });

  it('mainline: vfio_platform_mask uses disable_irq_nosync: no report', () => {
    const { sys, u, device } = setup('mainline');
    expect(u.setIrqs(device, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 0, 0, 1)).toBe(0);
    expect(sys.kernel.log.grep(/sleeping function called from invalid context/)).toHaveLength(0);
    expect(vfioDriverOf(sys).inspect()[0]!.irqs[0]!.masked).toBe(true);
  });
});

describe('VFIO_DEVICE_FEATURE (VFIO_BASE + 17 on a device fd)', () => {
  /** a device fd of the PL330 through its group */
  function deviceFd(profile: string): { u: User; dev: number } {
    const { u, container, group } = attached(profile);
    expect(u.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)).toBe(0);
    const dev = u.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330));
    expect(dev).toBeGreaterThan(0);
    return { u, dev };
  }
  const feature = (u: User, dev: number, argsz: number, flags: number): number => {
    u.mem.write32(u.page + 0x400, argsz);
    u.mem.write32(u.page + 0x404, flags >>> 0);
    return u.ioctl(dev, 0x3b75, u.page + 0x400);
  };
  const GET = 1 << 16;
  const SET = 1 << 17;
  const PROBE = 1 << 18;

  it('mainline: the core decodes it (vfio_ioctl_device_feature): head checks, the migration and logging features -ENOTTY without mig_ops/log_ops, any other -EINVAL (no device_feature op)', () => {
    const { u, dev } = deviceFd('mainline');
    expect(u.ioctl(dev, 0x3b75, 0x10)).toBe(-EFAULT);
    expect([
      feature(u, dev, 4, GET | 1), // argsz < 8
      feature(u, dev, 8, (1 << 20) | 1), // an unknown flag
      feature(u, dev, 8, GET | SET | 1), // GET and SET without PROBE
      feature(u, dev, 8, PROBE | GET | SET | 1), // MIGRATION: no mig_ops
      feature(u, dev, 8, GET | 2), // MIG_DEVICE_STATE
      feature(u, dev, 8, SET | 6), // DMA_LOGGING_START: no log_ops
      feature(u, dev, 8, GET | 8), // DMA_LOGGING_REPORT
      feature(u, dev, 8, GET | 9), // MIG_DATA_SIZE
      feature(u, dev, 8, PROBE | 0), // PCI_VF_TOKEN: the driver's op, which vfio-amba lacks
      feature(u, dev, 8, GET | 3),
    ]).toEqual([-EINVAL, -EINVAL, -EINVAL, -ENOTTY, -ENOTTY, -ENOTTY, -ENOTTY, -ENOTTY, -EINVAL, -EINVAL]);
  });

  it('rfc-v4: no such request in the core: the bus driver answers (vfio_platform_ioctl default -ENOTTY)', () => {
    const { u, dev } = deviceFd('rfc-v4');
    expect([feature(u, dev, 4, GET | 1), feature(u, dev, 8, PROBE | 0)]).toEqual([-ENOTTY, -ENOTTY]);
  });
});
