/**
 * The iommufd compat container (CONFIG_IOMMUFD_VFIO_CONTAINER, profile mainline+iommufd-compat):
 * /dev/vfio/vfio is an iommufd (drivers/iommu/iommufd/main.c vfio_misc_dev), the group path
 * attaches groups to it (drivers/vfio/group.c vfio_group_ioctl_set_container ->
 * iommufd_vfio_compat_ioas_create), devices bind at GET_DEVICE_FD (vfio_df_group_open ->
 * iommufd_device_bind, vfio_iommufd_compat_attach_ioas) and the container ioctls are
 * vfio_compat.c's. The PL330 copies through the compat IOAS with the SMMU translating.
 */
import { describe, expect, it } from 'vitest';
import { dbgInst0, dbgInst1, dmaGo, memToMemProgram } from '../../../guest-tests/lib/pl330-prog.js';
import { EBUSY, EFAULT, EINVAL, ENODEV, ENOENT, ENOMEM, EPERM } from '../../base/errno.js';
import {
  MAP_SHARED, PROT_READ, PROT_WRITE, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU, VFIO_DMA_MAP_FLAG_READ as R, VFIO_DMA_MAP_FLAG_WRITE as W, VFIO_GET_API_VERSION,
  VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_SET_CONTAINER, VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL, VFIO_UPDATE_VADDR,
} from '../../uapi/index.js';
import { PL330, bindToVfio } from '../../vfio/platform/testing/user.js';
import { BOOTARGS, bootMainline, IfdUser, pinnedPages } from './testing/ifd-user.js';

const P = 4096;
const DBGSTATUS = 0xd00;
const DBGCMD = 0xd04;
const DBGINST0 = 0xd08;
const DBGINST1 = 0xd0c;

function mapDma(u: IfdUser, c: number, flags: number, vaddr: number, iova: number, size: number): number {
  const a = u.page;
  u.mem.fill(a, 0, 0x40);
  u.mem.write32(a, 32);
  u.mem.write32(a + 4, flags);
  u.mem.write64(a + 8, BigInt(vaddr));
  u.mem.write64(a + 16, BigInt(iova));
  u.mem.write64(a + 24, BigInt(size));
  return u.ioctl(c, VFIO_IOMMU_MAP_DMA, a);
}

function unmapDma(u: IfdUser, c: number, iova: number, size: number, flags = 0): [number, number] {
  const a = u.page;
  u.mem.fill(a, 0, 0x40);
  u.mem.write32(a, 24);
  u.mem.write32(a + 4, flags);
  u.mem.write64(a + 8, BigInt(iova));
  u.mem.write64(a + 16, BigInt(size));
  const r = u.ioctl(c, VFIO_IOMMU_UNMAP_DMA, a);
  return [r, Number(u.mem.read64(a + 16))];
}

/** container + group (SET_CONTAINER) for the PL330 bound to vfio */
function setup(profile = 'mainline+iommufd-compat', bootargs = BOOTARGS, memlock?: number): { u: IfdUser; c: number; g: number } {
  const sys = bootMainline(profile, bootargs);
  const u = new IfdUser(sys, 'compat', memlock === undefined ? {} : { memlock, capIpcLock: false });
  expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
  const c = u.open('/dev/vfio/vfio');
  const link = u.readlink(`/sys/bus/amba/devices/${PL330}/iommu_group`) as string;
  const g = u.open(`/dev/vfio/${link.split('/').pop()}`);
  expect([c >= 0, g >= 0]).toEqual([true, true]);
  return { u, c, g };
}

function setContainer(u: IfdUser, g: number, c: number): number {
  u.mem.write32(u.page, c);
  return u.ioctl(g, VFIO_GROUP_SET_CONTAINER, u.page);
}

describe('iommufd compat container (mainline+iommufd-compat)', () => {
  it('/dev/vfio/vfio is an iommufd: the notice, no vfio_iommu_type1, the container ioctls of vfio_compat.c', () => {
    const { u, c, g } = setup();
    const sys = u.sys;
    expect(sys.type1).toBeNull();
    expect(sys.kernel.log.lines().some((l) => l.includes('IOMMUFD is providing /dev/vfio/vfio, not VFIO.'))).toBe(true);
    expect(u.ioctl(c, VFIO_GET_API_VERSION)).toBe(0);
    // iommufd_vfio_check_extension: TYPE1, TYPE1v2, UNMAP_ALL; UPDATE_VADDR never (type1: 1 once set)
    expect([VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL, VFIO_UPDATE_VADDR].map((e) => u.ioctl(c, VFIO_CHECK_EXTENSION, e))).toEqual([1, 1, 1, 0]);
    // iommufd_vfio_cc_iommu before a group: get_compat_ioas -ENODEV (type1: 0)
    expect(u.ioctl(c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU)).toBe(-ENODEV);
    // iommufd_vfio_set_iommu without a group: -ENODEV (type1's vfio_ioctl_set_iommu: -EINVAL)
    expect(u.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(-ENODEV);
    expect(setContainer(u, g, c)).toBe(0);
    expect(u.ioctl(c, VFIO_SET_IOMMU, 2)).toBe(-EINVAL);
    expect(u.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(0);
    // nothing records SET_IOMMU: again is 0 (type1: -EINVAL, the container has a driver)
    expect(u.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(0);
    // no HWPT yet: DMA_CC is 1 (every hwpt of an empty list enforces coherency)
    expect(u.ioctl(c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU)).toBe(1);
  });

  it('MAP_DMA pins nothing until a device attaches; GET_DEVICE_FD binds and attaches; the PL330 copies through the SMMU; closing releases every pin', () => {
    const { u, c, g } = setup();
    const sys = u.sys;
    expect(setContainer(u, g, c)).toBe(0);
    expect(u.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(0);
    const bufs = [0, 1, 2].map(() => u.mmap(P));
    for (let i = 0; i < P / 4; i++) u.mem.write32(bufs[0]! + 4 * i, (0x9e3779b9 * (i + 1)) >>> 0);
    u.mem.fill(bufs[1]!, 0, P);
    const prog = memToMemProgram({ src: 0x10000, dst: 0x11000, size: P, burstBytes: 16, burstLen: 16, event: null });
    u.mem.writeBytes(bufs[2]!, Uint8Array.from(prog.bytes));
    for (let i = 0; i < 3; i++) expect(mapDma(u, c, R | W, bufs[i]!, 0x10000 + i * P, P)).toBe(0);
    // no domain yet: iopt_map_pages pins only into domains (type1 pins at MAP_DMA)
    expect(pinnedPages(sys)).toBe(0);
    const dev = u.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330));
    expect(dev).toBeGreaterThanOrEqual(0);
    expect(pinnedPages(sys)).toBe(3);
    // DMA_CC now 0: the arm-smmu HWPT does not enforce cache coherency
    expect(u.ioctl(c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU)).toBe(0);
    const regs = u.call('mmap2', [0, P, PROT_READ | PROT_WRITE, MAP_SHARED, dev, 0]);
    expect(regs).toBeGreaterThan(0);
    expect(u.mem.read32(regs + DBGSTATUS) & 1).toBe(0);
    const go = dmaGo(0, 0x12000, true);
    u.mem.write32(regs + DBGINST0, dbgInst0(go, 'manager'));
    u.mem.write32(regs + DBGINST1, dbgInst1(go));
    u.mem.write32(regs + DBGCMD, 0);
    sys.machine.scheduler.runUntilIdle(1_000_000);
    for (let i = 0; i < P / 4; i += 97) expect(u.mem.read32(bufs[1]! + 4 * i)).toBe(u.mem.read32(bufs[0]! + 4 * i));
    // UNMAP_DMA of nothing: -ENOENT (type1: 0 with size 0); of a mapping: its size
    expect(unmapDma(u, c, 0x40000, P)).toEqual([-ENOENT, 0]);
    expect(unmapDma(u, c, 0x10000, P)).toEqual([0, P]);
    expect(pinnedPages(sys)).toBe(2);
    for (const fd of [regs]) u.call('munmap', [fd, P]);
    for (const fd of [dev, g, c]) expect(u.call('close', [fd])).toBe(0);
    expect(pinnedPages(sys)).toBe(0);
    expect(sys.iommufd!.contexts.size).toBe(0);
    expect(u.proc.mm.pinnedVm).toBe(0);
  });

  it('per-process accounting (IOPT_PAGES_ACCOUNT_MM, as VFIO): RLIMIT_MEMLOCK fails GET_DEVICE_FD, not MAP_DMA', () => {
    const { u, c, g } = setup('mainline+iommufd-compat', BOOTARGS, 2 * P);
    expect(setContainer(u, g, c)).toBe(0);
    expect(u.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(0);
    const buf = u.mmap(4 * P);
    expect(mapDma(u, c, R | W, buf, 0x10000, 4 * P)).toBe(0);
    // iopt_table_add_domain -> iopt_area_fill_domain -> do_update_pinned -> __account_locked_vm: -ENOMEM
    expect(u.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330))).toBe(-ENOMEM);
    expect(pinnedPages(u.sys)).toBe(0);
    expect(u.proc.mm.lockedVm).toBe(0);
  });

  it('without iommufd.allow_unsafe_interrupts the bind fails (-EPERM), whatever vfio_iommu_type1 says', () => {
    const { u, c, g } = setup('mainline+iommufd-compat', 'vfio_iommu_type1.allow_unsafe_interrupts=1 vfio_platform.reset_required=0');
    expect(setContainer(u, g, c)).toBe(0);
    expect(u.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330))).toBe(-EPERM);
  });

  it('GET_INFO: PGSIZES|CAPS, DMA_AVAIL (12 bytes aligned to 16, U32_MAX) then IOVA_RANGE at 40, argsz raised when short', () => {
    const { u, c, g } = setup();
    expect(setContainer(u, g, c)).toBe(0);
    expect(u.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330))).toBeGreaterThanOrEqual(0);
    const a = u.page;
    u.mem.fill(a, 0, 0x100);
    u.mem.write32(a, 16);
    expect(u.ioctl(c, VFIO_IOMMU_GET_INFO, a)).toBe(0);
    // 24 + 16 (DMA_AVAIL's 12 bytes, aligned) + 16 + 2 ranges (the SW MSI window splits the aperture)
    expect(u.mem.read32(a)).toBe(24 + 16 + 16 + 32);
    expect(u.mem.read32(a + 4)).toBe(3);
    u.mem.fill(a, 0xee, 0x100);
    u.mem.write32(a, 0x100);
    expect(u.ioctl(c, VFIO_IOMMU_GET_INFO, a)).toBe(0);
    expect(u.mem.read32(a + 16)).toBe(24);
    expect([u.mem.read16(a + 24), u.mem.read16(a + 26), u.mem.read32(a + 28), u.mem.read32(a + 32)]).toEqual([3, 1, 40, 0xffffffff]);
    // the 4 alignment bytes are not written: user space keeps what it had there
    expect(u.mem.read32(a + 36)).toBe(0xeeeeeeee);
    expect([u.mem.read16(a + 40), u.mem.read32(a + 48)]).toEqual([1, 2]);
    expect([Number(u.mem.read64(a + 56)), Number(u.mem.read64(a + 64)), Number(u.mem.read64(a + 72))]).toEqual([0, 0x7ffffff, 0x8100000]);
  });

  it('TYPE1 (v1) disables large pages and so can unmap inside a mapping (iopt_cut_iova); TYPE1v2 cannot (-ENOENT)', () => {
    for (const [type, expected] of [[VFIO_TYPE1_IOMMU, [0, P]], [VFIO_TYPE1v2_IOMMU, [-ENOENT, 0]]] as const) {
      const { u, c, g } = setup();
      expect(setContainer(u, g, c)).toBe(0);
      expect(u.ioctl(c, VFIO_SET_IOMMU, type)).toBe(0);
      expect(u.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330))).toBeGreaterThanOrEqual(0);
      const buf = u.mmap(4 * P);
      expect(mapDma(u, c, R | W, buf, 0x10000, 4 * P)).toBe(0);
      expect(unmapDma(u, c, 0x11000, P)).toEqual(expected);
    }
  });

  it('MAP_DMA: READ/WRITE only (VADDR -EINVAL), neither passed to the domain (io-pgtable -EINVAL); PFNMAP memory -EFAULT; UNMAP_DMA flags other than ALL -EINVAL', () => {
    const { u, c, g } = setup();
    expect(setContainer(u, g, c)).toBe(0);
    const dev = u.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330));
    expect(dev).toBeGreaterThanOrEqual(0);
    const buf = u.mmap(4 * P);
    // iommufd_vfio_map_dma: supported_flags READ|WRITE
    expect(mapDma(u, c, 1 << 2, buf, 0x10000, P)).toBe(-EINVAL);
    // no READ/WRITE check: prot IOMMU_CACHE alone reaches the domain, where v6.12.19
    // arm_lpae_map_pages refuses it (-EINVAL); the area goes again, nothing stays pinned
    expect(mapDma(u, c, 0, buf, 0x10000, P)).toBe(-EINVAL);
    expect(pinnedPages(u.sys)).toBe(0);
    // the device's MMIO mmap is VM_PFNMAP: pin_user_pages refuses it
    const regs = u.call('mmap2', [0, P, PROT_READ | PROT_WRITE, MAP_SHARED, dev, 0]);
    expect(mapDma(u, c, R | W, regs, 0x20000, P)).toBe(-EFAULT);
    // iommufd_vfio_unmap_dma: supported_flags VFIO_DMA_UNMAP_FLAG_ALL (VADDR is 1 << 2)
    expect(unmapDma(u, c, 0x10000, P, 1 << 2)[0]).toBe(-EINVAL);
    expect(unmapDma(u, c, 0x10000, P, 1 << 1)[0]).toBe(-EINVAL);
    expect(unmapDma(u, c, 0, 0, 1 << 1)).toEqual([0, 0]); // the refused map left no area
  });

  it('MAP_DMA without READ/WRITE before a device attached: recorded (no domain yet); the device\'s open then fills the new domain and io-pgtable refuses the area (-EINVAL)', () => {
    const { u, c, g } = setup();
    expect(setContainer(u, g, c)).toBe(0);
    expect(u.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(0);
    const buf = u.mmap(P);
    expect(mapDma(u, c, 0, buf, 0x10000, P)).toBe(0);
    // vfio_df_open -> vfio_iommufd_compat_attach_ioas -> iommufd_device_auto_get_domain ->
    // iopt_table_add_domain -> iopt_fill_domain -> iommu_map -> arm_lpae_map_pages: -EINVAL
    expect(u.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330))).toBe(-EINVAL);
    expect(pinnedPages(u.sys)).toBe(0);
    // without that area the device opens
    expect(unmapDma(u, c, 0x10000, P)).toEqual([0, P]);
    expect(u.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330))).toBeGreaterThanOrEqual(0);
  });

  it('mainline: a group attached to /dev/iommu (group.c iommufd branch); the exclusion with a VFIO container holding the group', () => {
    const { u, c, g } = setup('mainline');
    // the group in VFIO's container: iommu_group_claim_dma_owner(group, vfio group)
    expect(setContainer(u, g, c)).toBe(0);
    const v = new IfdUser(u.sys, 'other');
    v.openIommufd();
    // iommufd_device_bind -> iommu_device_claim_dma_owner: another owner -> -EPERM
    expect(v.bind(PL330)).toBe(-EPERM);
    expect(u.call('close', [c])).toBe(0);
    expect(u.call('close', [g])).toBe(0);
    const g2 = v.open(`/dev/vfio/${(u.readlink(`/sys/bus/amba/devices/${PL330}/iommu_group`) as string).split('/').pop()}`);
    expect(setContainer(v, g2, v.fd)).toBe(0);
    // a group already attached (container or iommufd): vfio_group_has_iommu -> -EINVAL
    expect(setContainer(v, g2, v.fd)).toBe(-EINVAL);
    // IOMMU_VFIO_IOAS GET: the compat IOAS the group made (id 1)
    expect(v.vfioIoas(0)).toEqual([0, 1]);
    const dev = v.ioctl(g2, VFIO_GROUP_GET_DEVICE_FD, v.str(PL330));
    expect(dev).toBeGreaterThanOrEqual(0);
    // the device is bound (id 2) and attached to an auto HWPT (id 3): IOAS destroy -EBUSY
    expect(v.destroy(1)).toBe(-EBUSY);
    expect(v.hwInfo(2)[0]).toBe(0);
    for (const fd of [dev, g2, v.fd]) expect(v.call('close', [fd])).toBe(0);
    expect(u.sys.iommufd!.contexts.size).toBe(0);
    const grp = u.sys.kernel.iommu.groups()[0]!;
    expect([grp.ownerCnt, grp.owner]).toEqual([0, null]);
  });

  it('the plain mainline profile keeps VFIO\'s container; /dev/iommu exists beside it', () => {
    const sys = bootMainline('mainline');
    expect(sys.type1).not.toBeNull();
    const u = new IfdUser(sys);
    const c = u.open('/dev/vfio/vfio');
    expect(u.ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR)).toBe(0);
    expect(u.openIommufd()).toBeGreaterThanOrEqual(0);
    expect(u.ioctl(u.fd, VFIO_GET_API_VERSION)).toBe(0);
    expect(u.ioctl(u.fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(-ENODEV);
  });
});
