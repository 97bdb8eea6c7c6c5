/**
 * Issue 16 item 3: MAP_DMA with VFIO_DMA_MAP_FLAG_EXEC alone (patch 02).
 *
 * The 2014 arm_smmu_alloc_init_pte (drivers/iommu/arm-smmu.c) writes "if IOMMU_EXEC clear
 * XN, else if neither READ nor WRITE make a faulting entry", and sets AP_RDONLY only for READ
 * without WRITE: an EXEC-only mapping is a valid page the master can read, write and
 * execute. vfio_dma_do_map pins it with get_user_pages(write = prot & IOMMU_WRITE), i.e.
 * for read only. From user space: the PL330 fetches its program, loads the source and
 * stores the destination through three EXEC-only mappings, and the data arrives.
 */
import { describe, expect, it } from 'vitest';
import { dbgInst0, dbgInst1, dmaGo, memToMemProgram } from '../../guest-tests/lib/pl330-prog.js';
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, VFIO_DMA_MAP_FLAG_EXEC, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_IOMMU_MAP_DMA, vfio_iommu_type1_dma_map,
} from '../uapi/index.js';
import { EFAULT } from '../base/errno.js';
import { PL330, PL330_BASE, User, bindToVfio, openDevice } from '../vfio/platform/testing/user.js';
import { System } from '../../tools/system/system.js';

const P = 4096;
const DBGSTATUS = 0xd00;
const DBGCMD = 0xd04;
const DBGINST0 = 0xd08;
const DBGINST1 = 0xd0c;
const FSRC = 0x034;

function run(profile: string, flags: number): { map: number[]; copied: boolean; fsrc: number } {
  const sys = new System({ profile });
  const u = new User(sys);
  expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
  const { container, device } = openDevice(u, PL330);
  const bufs = [0, 1, 2].map(() => u.call('mmap2', [0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]));
  // source data and the program are written by the CPU first (they must be there to copy)
  for (let i = 0; i < P / 4; i++) u.mem.write32(bufs[0]! + 4 * i, (0x9e3779b9 * (i + 1)) >>> 0);
  u.mem.fill(bufs[1]!, 0, P);
  const prog = memToMemProgram({ src: 0, dst: P, size: P, burstBytes: 16, burstLen: 16, event: null });
  u.mem.writeBytes(bufs[2]!, Uint8Array.from(prog.bytes));
  const map: number[] = [];
  for (let i = 0; i < 3; i++) map.push(mapOne(u, container, flags, bufs[i]!, i * P));
  // start the DMA from user space through the mmap of the register region (rfc-v4: the offset is the physical address)
  const regs = u.call('mmap2', [0, P, PROT_READ | PROT_WRITE, MAP_SHARED, device, PL330_BASE / P]);
  expect(regs).toBeGreaterThan(0);
  expect(u.mem.read32(regs + DBGSTATUS) & 1).toBe(0);
  const go = dmaGo(0, 2 * P, true);
  u.mem.write32(regs + DBGINST0, dbgInst0(go, 'manager'));
  u.mem.write32(regs + DBGINST1, dbgInst1(go));
  u.mem.write32(regs + DBGCMD, 0);
  sys.machine.scheduler.runUntilIdle(1_000_000);
  const fsrc = u.mem.read32(regs + FSRC);
  let copied = true;
  for (let i = 0; i < P / 4; i++) if (u.mem.read32(bufs[1]! + 4 * i) !== u.mem.read32(bufs[0]! + 4 * i)) copied = false;
  return { map, copied, fsrc };
}

function mapOne(u: User, container: number, flags: number, vaddr: number, iova: number): number {
  const a = u.page;
  u.mem.fill(a, 0, 0x40);
  u.mem.write32(a + vfio_iommu_type1_dma_map.argsz, vfio_iommu_type1_dma_map.minsz);
  u.mem.write32(a + vfio_iommu_type1_dma_map.flags, flags);
  u.mem.write64(a + vfio_iommu_type1_dma_map.vaddr, BigInt(vaddr));
  u.mem.write64(a + vfio_iommu_type1_dma_map.iova, BigInt(iova));
  u.mem.write64(a + vfio_iommu_type1_dma_map.size, BigInt(P));
  return u.ioctl(container, VFIO_IOMMU_MAP_DMA, a);
}

describe('issue 16 item 3: an EXEC-only MAP_DMA (2014: a valid read/write/execute page)', () => {
  it('rfc-v4: MAP_DMA(EXEC) succeeds and the PL330 fetches, reads and writes through it', () => {
    const r = run('rfc-v4', VFIO_DMA_MAP_FLAG_EXEC);
    expect(r.map).toEqual([0, 0, 0]);
    expect(r.fsrc).toBe(0);
    expect(r.copied).toBe(true);
  });

  it('rfc-v4: EXEC alone is pinned for read (vfio_pin_pages: write = prot & IOMMU_WRITE): a PROT_READ buffer maps, READ|WRITE on it is -EFAULT', () => {
    const sys = new System({ profile: 'rfc-v4' });
    const u = new User(sys);
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    const { container } = openDevice(u, PL330);
    const ro = u.call('mmap2', [0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    expect(mapOne(u, container, VFIO_DMA_MAP_FLAG_EXEC, ro, 0)).toBe(0);
    expect(mapOne(u, container, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, ro, P)).toBe(-EFAULT);
  });

  it('rfc-v4: READ|EXEC stays read-only (AP_RDONLY): the store faults, nothing copied', () => {
    const r = run('rfc-v4', VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_EXEC);
    expect(r.map).toEqual([0, 0, 0]);
    expect(r.fsrc).toBe(1);
    expect(r.copied).toBe(false);
  });
});
