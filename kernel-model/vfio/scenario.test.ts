import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
// the guest program below uses only the user ABI, like guest-tests/ programs
import {
  EAGAIN, EFD_NONBLOCK, MAP_ANONYMOUS, MAP_PRIVATE, O_RDWR, PROT_READ, PROT_WRITE,
  VFIO_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_DMA_MAP_FLAG_EXEC, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_GET_API_VERSION, VFIO_GROUP_FLAGS_VIABLE, VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER,
  VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU,
  vfio_group_status, vfio_iommu_type1_dma_map, vfio_iommu_type1_info, type Sys,
} from '../uapi/index.js';
import { makeFixture } from './testing/fixture.js';

/** steps 1-5 and the eventfd check of pl330-vfio-test, printing like the original */
function* pl330Prefix(sys: Sys, record: (s: string) => void): GuestProgram<number> {
  const s = yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  // printf to stdout through write(2)
  function* print(line: string): GuestProgram<number> {
    record(line);
    sys.mem.writeCString(s + 2048, line + '\n');
    yield* sys.write(1, s + 2048, line.length + 1);
    return 1;
  }
  const container = yield* sys.open('/dev/vfio/vfio', O_RDWR);
  if ((yield* sys.ioctl(container, VFIO_GET_API_VERSION)) !== VFIO_API_VERSION) return yield* print('Unknown API version');
  if (!(yield* sys.ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU))) return yield* print("Doesn't support the IOMMU driver we want");
  const group = yield* sys.open('/dev/vfio/0', O_RDWR);
  sys.mem.write32(s + vfio_group_status.argsz, vfio_group_status.minsz);
  yield* sys.ioctl(group, VFIO_GROUP_GET_STATUS, s);
  if (!(sys.mem.read32(s + vfio_group_status.flags) & VFIO_GROUP_FLAGS_VIABLE)) return yield* print('Group is not viable (not all devices bound for vfio)');
  sys.mem.write32(s, container);
  yield* sys.ioctl(group, VFIO_GROUP_SET_CONTAINER, s);
  yield* sys.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
  sys.mem.write32(s + vfio_iommu_type1_info.argsz, vfio_iommu_type1_info.minsz);
  yield* sys.ioctl(container, VFIO_IOMMU_GET_INFO, s);
  for (let i = 0; i < 3; i++) {
    const buf = yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const m = s + 512;
    sys.mem.write32(m + vfio_iommu_type1_dma_map.argsz, vfio_iommu_type1_dma_map.minsz);
    sys.mem.write32(m + vfio_iommu_type1_dma_map.flags, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_EXEC);
    sys.mem.write64(m + vfio_iommu_type1_dma_map.vaddr, BigInt(buf));
    sys.mem.write64(m + vfio_iommu_type1_dma_map.iova, BigInt(i * 0x1000));
    sys.mem.write64(m + vfio_iommu_type1_dma_map.size, 4096n);
    if ((yield* sys.ioctl(container, VFIO_IOMMU_MAP_DMA, m)) !== 0) return yield* print('Could not map DMA memory');
  }
  sys.mem.writeCString(s + 1024, '2c0a0000.dma');
  const device = yield* sys.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, s + 1024);
  yield* print(`=== VFIO device file descriptor ${device} ===`);
  const efd = yield* sys.eventfd(0, EFD_NONBLOCK);
  if ((yield* sys.read(efd, s, 8)) !== -EAGAIN) return yield* print("IRQ 0 shouldn't trigger yet.");
  return 0;
}

describe('pl330-vfio-test prefix across patch levels', () => {
  it.each([
    ['baseline', 1, "Doesn't support the IOMMU driver we want"],
    ['patches:1,3-10', 1, 'Could not map DMA memory'],
    ['patches:1-10', 0, '=== VFIO device file descriptor 5 ==='],
    ['mainline', 1, 'Could not map DMA memory'],
  ])('%s', (profile, code, line) => {
    const fx = makeFixture(profile);
    const lines: string[] = [];
    const { thread, proc } = fx.run((sys) => pl330Prefix(sys, (l) => void lines.push(l)), { stdio: true });
    expect(thread.exit).toMatchObject({ code, trap: null, hostError: null });
    expect(lines.at(-1)).toBe(line);
    expect(fx.mem.pages.pinnedPages).toBe(0);
    expect(proc.stdout).toBe(lines.join('\n') + '\n');
  });
});
