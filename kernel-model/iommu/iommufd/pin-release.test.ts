/**
 * Nothing stays pinned, accounted, owned or alive once every holder is gone, in every close
 * order (fast-check): random IOAS work (maps, copies between IOASes, unmaps, HWPT
 * allocations, attach/detach, huge-page and accounting options) on /dev/iommu, then the
 * iommufd fds (and a dup), the device binding (as a VFIO cdev would hold it: detach then
 * unbind, iommufd_device_unbind) and the process itself (exit: every fd closed, the mm torn
 * down while pages are still pinned) go in a random order. The same for the compat container
 * (container, group and device fds). The kernel functions: iommufd_fops_release (leaves
 * first), iommufd_device_destroy (iommu_device_release_dma_owner), iopt_table_remove_domain /
 * iopt_unfill_domain (unpin when the last domain goes), do_update_pinned (user locked_vm,
 * mm locked_vm, pinned_vm).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { System } from '../../../tools/system/system.js';
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_SET_CONTAINER, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU } from '../../uapi/index.js';
import { PL330, bindToVfio } from '../../vfio/platform/testing/user.js';
import { iommufdDeviceAttach, iommufdDeviceDetach, iommufdDeviceUnbind, type IommufdDevice } from './index.js';
import { bootMainline, IfdUser, kdev, pinnedPages } from './testing/ifd-user.js';
import { IOMMU_IOAS_MAP_FIXED_IOVA as F, IOMMU_IOAS_MAP_READABLE as R, IOMMU_IOAS_MAP_WRITEABLE as W, IOMMU_OPTION, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, IOMMU_OPTION_RLIMIT_MODE } from './uapi.js';

const P = 4096;

type Op =
  | { k: 'map'; ioas: number; off: number; n: number; slot: number | null; write: boolean }
  | { k: 'copy'; from: number; slot: number; n: number; dst: number | null }
  | { k: 'unmap'; ioas: number; slot: number; n: number }
  | { k: 'attach'; ioas: number }
  | { k: 'detach' }
  | { k: 'hwpt'; ioas: number }
  | { k: 'destroy'; id: number }
  | { k: 'nohuge'; ioas: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('map' as const), ioas: fc.nat(1), off: fc.nat(12), n: fc.integer({ min: 1, max: 4 }), slot: fc.option(fc.nat(15)), write: fc.boolean() }),
  fc.record({ k: fc.constant('copy' as const), from: fc.nat(1), slot: fc.nat(15), n: fc.integer({ min: 1, max: 4 }), dst: fc.option(fc.nat(15)) }),
  fc.record({ k: fc.constant('unmap' as const), ioas: fc.nat(1), slot: fc.nat(15), n: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ k: fc.constant('attach' as const), ioas: fc.nat(1) }),
  fc.constant({ k: 'detach' as const }),
  fc.record({ k: fc.constant('hwpt' as const), ioas: fc.nat(1) }),
  fc.record({ k: fc.constant('destroy' as const), id: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ k: fc.constant('nohuge' as const), ioas: fc.nat(1) }),
);

const slotIova = (s: number): number => 0x100000 + s * P;

/** every invariant of "all released" */
function expectReleased(sys: System): void {
  expect(pinnedPages(sys)).toBe(0);
  expect(sys.iommufd!.contexts.size).toBe(0);
  expect(sys.iommufd!.userLockedVm.total()).toBe(0);
  const g = sys.kernel.iommu.groups()[0]!;
  expect([g.ownerCnt, g.owner, g.blocked]).toEqual([0, null, false]);
  expect(g.domain).toBe(g.defaultDomain === 'identity' ? null : g.defaultDomain);
}

describe('iommufd: every pin released after every close order', () => {
  it('/dev/iommu: random IOAS work, then fds, dup, the binding and process exit in any order', () => {
    const sys = bootMainline();
    const setup = new IfdUser(sys, 'setup');
    expect(bindToVfio(setup, PL330)).toBeGreaterThan(0);
    fc.assert(
      fc.property(
        fc.record({ capIpcLock: fc.boolean(), memlockPages: fc.integer({ min: 2, max: 24 }), perProcess: fc.boolean(), uid: fc.constantFrom(0, 1000) }),
        fc.array(opArb, { minLength: 1, maxLength: 14 }),
        fc.shuffledSubarray(['fd', 'dup', 'binding', 'exit', 'other'] as const, { minLength: 5, maxLength: 5 }),
        (cfg, ops, order) => {
          const u = new IfdUser(sys, 'p', { capIpcLock: cfg.capIpcLock, memlock: cfg.memlockPages * P });
          expect(u.openIommufd()).toBeGreaterThanOrEqual(0);
          if (cfg.perProcess) expect(u.option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, 1n)[0]).toBe(0);
          u.proc.uid = cfg.uid;
          const ioas = [u.ioasAlloc(), u.ioasAlloc()];
          const buf = u.mmap(16 * P);
          for (let i = 0; i < 16; i++) u.mem.write32(buf + i * P, i);
          // dup(fd): another fd on the same file (fd_install of get_file)
          const dup = u.proc.fdInstall(u.proc.fdget(u.fd)!.get(), false);
          expect(dup).toBeGreaterThan(u.fd);
          // a second process with its own iommufd (contexts are independent)
          const other = new IfdUser(sys, 'q');
          other.openIommufd();
          const oi = other.ioasAlloc();
          other.map(oi, R | F, other.mmap(P), P, 0x10000);
          const b = u.bind(PL330);
          if (typeof b === 'number') throw new Error(`bind ${b}`);
          let idev: IommufdDevice | null = b.idev;
          let attached = false;
          for (const op of ops) {
            switch (op.k) {
              case 'map':
                u.map(ioas[op.ioas]!, R | (op.write ? W : 0) | (op.slot === null ? 0 : F), buf + op.off * P, op.n * P, op.slot === null ? 0 : slotIova(op.slot));
                break;
              case 'copy':
                u.copy(ioas[1 - op.from]!, ioas[op.from]!, R | (op.dst === null ? 0 : F), op.n * P, slotIova(op.slot), op.dst === null ? 0 : slotIova(op.dst));
                break;
              case 'unmap':
                u.unmap(ioas[op.ioas]!, slotIova(op.slot), op.n * P);
                break;
              case 'attach':
                if (!attached && iommufdDeviceAttach(b.idev, ioas[op.ioas]!) > 0) attached = true;
                break;
              case 'detach':
                if (attached) iommufdDeviceDetach(b.idev);
                attached = false;
                break;
              case 'hwpt':
                u.hwptAlloc(b.devId, ioas[op.ioas]!);
                break;
              case 'destroy':
                u.destroy(op.id);
                break;
              case 'nohuge':
                u.ioctl(u.fd, IOMMU_OPTION, 0);
                u.option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas[op.ioas]!, 0n);
                break;
            }
            // accounting never exceeds what is pinned, pinned_vm always equals it
            expect(u.proc.mm.pinnedVm).toBeLessThanOrEqual(pinnedPages(sys));
          }
          for (const step of order) {
            if (step === 'fd') u.call('close', [u.fd]);
            else if (step === 'dup') u.call('close', [dup]);
            else if (step === 'other') other.proc.teardown();
            else if (step === 'exit') u.proc.teardown();
            else if (idev !== null) {
              // the VFIO cdev's release: vfio_iommufd_physical_unbind
              if (attached) iommufdDeviceDetach(idev);
              attached = false;
              expect(iommufdDeviceUnbind(idev)).toBe(0);
              idev = null;
            }
          }
          expectReleased(sys);
          expect([u.proc.mm.pinnedVm, u.proc.mm.lockedVm]).toEqual([0, 0]);
          // the device can be bound again by a fresh context
          const v = new IfdUser(sys, 'again');
          v.openIommufd();
          const again = v.bind(PL330);
          expect(typeof again).toBe('object');
          if (typeof again === 'object') iommufdDeviceUnbind(again.idev);
          v.proc.teardown();
          expectReleased(sys);
        },
      ),
      { numRuns: 40, seed: 23 },
    );
    expect(kdev(sys, PL330).name).toBe(PL330);
  });

  it('compat container: container, group and device fds and process exit in any order', () => {
    const sys = bootMainline('mainline+iommufd-compat');
    const setup = new IfdUser(sys, 'setup');
    expect(bindToVfio(setup, PL330)).toBeGreaterThan(0);
    const link = setup.readlink(`/sys/bus/amba/devices/${PL330}/iommu_group`) as string;
    const groupPath = `/dev/vfio/${link.split('/').pop()}`;
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.record({ off: fc.nat(12), n: fc.integer({ min: 1, max: 4 }), slot: fc.nat(15), unmap: fc.boolean() }), { maxLength: 8 }),
        fc.boolean(),
        fc.shuffledSubarray(['container', 'group', 'device', 'exit'] as const, { minLength: 4, maxLength: 4 }),
        (v1, maps, openFirst, order) => {
          const u = new IfdUser(sys, 'c', { capIpcLock: false, memlock: 64 * P });
          const c = u.open('/dev/vfio/vfio');
          const g = u.open(groupPath);
          u.mem.write32(u.page, c);
          expect(u.ioctl(g, VFIO_GROUP_SET_CONTAINER, u.page)).toBe(0);
          expect(u.ioctl(c, VFIO_SET_IOMMU, v1 ? VFIO_TYPE1_IOMMU : VFIO_TYPE1v2_IOMMU)).toBe(0);
          const buf = u.mmap(16 * P);
          let dev = openFirst ? u.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330)) : -1;
          for (const m of maps) {
            const a = u.page + 0x100;
            u.mem.fill(a, 0, 32);
            u.mem.write32(a, 32);
            if (m.unmap) {
              u.mem.write32(a, 24);
              u.mem.write64(a + 8, BigInt(slotIova(m.slot)));
              u.mem.write64(a + 16, BigInt(m.n * P));
              u.ioctl(c, VFIO_IOMMU_UNMAP_DMA, a);
            } else {
              u.mem.write32(a + 4, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
              u.mem.write64(a + 8, BigInt(buf + m.off * P));
              u.mem.write64(a + 16, BigInt(slotIova(m.slot)));
              u.mem.write64(a + 24, BigInt(m.n * P));
              u.ioctl(c, VFIO_IOMMU_MAP_DMA, a);
            }
          }
          if (!openFirst) dev = u.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330));
          expect(dev).toBeGreaterThanOrEqual(0);
          for (const step of order) {
            if (step === 'container') u.call('close', [c]);
            else if (step === 'group') u.call('close', [g]);
            else if (step === 'device') u.call('close', [dev]);
            else u.proc.teardown();
          }
          u.proc.teardown();
          expectReleased(sys);
          expect([u.proc.mm.pinnedVm, u.proc.mm.lockedVm]).toEqual([0, 0]);
        },
      ),
      { numRuns: 30, seed: 23 },
    );
  });
});
