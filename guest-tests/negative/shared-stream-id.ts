/**
 * Two DMA masters with one stream id (board vexpress-vfio-shared-group: the PL330 dma0 and
 * the test DMA dma1, both stream id 1). Two processes:
 *
 * the administrator (root): reads where the host's test-dma selftest buffers are
 * (/sys/devices/platform/2c0b0000.dma/selftest), hands the PL330 to vfio, and once the user
 * is set up runs the host's selftest DMA on dma1; later hands dma1 to vfio as well.
 *
 * the user: opens the PL330's group; when it is viable, puts it in a container with the
 * type1 IOMMU and maps two of its own pages at the IOVAs equal to the host's buffer
 * addresses; after the host's DMA it looks at its pages. Then it takes dma1 (through its
 * group: another one in 2014, the same one in mainline) and runs a copy on it between its
 * two pages.
 *
 * 2014 (a group per master): the PL330's group is viable while dma1 stays on its host
 * driver; attaching it programs an SMR for stream id 1, which dma1 matches too, so the
 * host's DMA is translated through the user's tables: it reads the user's page and writes
 * into the user's other page (the host sees a mismatch). Attaching dma1's own group adds a
 * second SMR for stream id 1: the next transaction raises the stream match conflict.
 * Mainline (one group): not viable while the host driver holds dma1; the host's DMA stays
 * untranslated; with both masters on vfio the group is viable and the copy works.
 */
import {
  MAP_SHARED, O_RDONLY, O_RDWR, PROT_READ, PROT_WRITE,
  VFIO_DEVICE_GET_REGION_INFO, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_GROUP_FLAGS_VIABLE, VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER, VFIO_IOMMU_MAP_DMA, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU,
  errnoName, type GuestProgram, type Sys,
} from '../../kernel-model/uapi/index.js';
import { vfio_group_status, vfio_iommu_type1_dma_map, vfio_region_info } from '../../kernel-model/uapi/structs.js';
import { bindToVfio, echoTo, type BindMethod } from '../admin/bind.js';
import { Libc } from '../lib/libc.js';

export const SHARED_PL330 = '2c0a0000.dma';
export const SHARED_TDMA = '2c0b0000.dma';
/** bytes the user's own copy on dma1 moves */
export const USER_COPY_LEN = 64;

export interface SharedSidState {
  hostSrc: number;
  hostDst: number;
  /** /dev/vfio/<N> of the PL330, then of dma1 */
  group1: string | null;
  group2: string | null;
  userReady: boolean;
  hostResult: string | null;
  userDone: boolean;
  // what the user saw
  viable1: boolean;
  /** the host's DMA wrote the user's source bytes into the user's page at the host's destination IOVA */
  landed: boolean;
  /** dma1's STATUS after the user's copy (null: not reached) */
  copyStatus: number | null;
  copyOk: boolean;
}

export function newSharedSidState(): SharedSidState {
  return { hostSrc: 0, hostDst: 0, group1: null, group2: null, userReady: false, hostResult: null, userDone: false, viable1: false, landed: false, copyStatus: null, copyOk: false };
}

function* sleep100us(sys: Sys, ts: number): GuestProgram<void> {
  sys.mem.write32(ts, 0);
  sys.mem.write32(ts + 4, 100_000);
  yield* sys.nanosleep(ts, 0);
}

function* readText(sys: Sys, libc: Libc, path: string): GuestProgram<string> {
  const fd = yield* sys.open(path, O_RDONLY);
  if (fd < 0) return '';
  const buf = libc.malloc(256, 1);
  const n = yield* sys.read(fd, buf, 255);
  yield* sys.close(fd);
  return n > 0 ? new TextDecoder().decode(sys.mem.readBytes(buf, n)).trim() : '';
}

/** the administrator */
export function* sharedSidAdmin(sys: Sys, method: BindMethod, st: SharedSidState): GuestProgram {
  const libc = new Libc(sys);
  if ((yield* libc.init(64 * 1024)) < 0) return 1;
  const ts = libc.malloc(8);
  const selftest = `/sys/devices/platform/${SHARED_TDMA}/selftest`;
  const info = yield* readText(sys, libc, selftest);
  yield* libc.puts(`# cat ${selftest}: ${info}`);
  const m = /src 0x([0-9a-f]+) dst 0x([0-9a-f]+)/.exec(info);
  if (!m) return 1;
  st.hostSrc = parseInt(m[1]!, 16);
  st.hostDst = parseInt(m[2]!, 16);
  const b1 = yield* bindToVfio(sys, libc, SHARED_PL330, method);
  for (const l of b1.transcript) yield* libc.puts(`# ${l}`);
  st.group1 = b1.groupPath ?? '/dev/vfio/0';
  while (!st.userReady) yield* sleep100us(sys, ts);
  // the host driver's own DMA on dma1
  const r = yield* echoTo(sys, libc, selftest, '1');
  yield* libc.puts(`# echo 1 > ${selftest}: ${r === 0 ? 'ok' : errnoName(r)}`);
  let res = '';
  for (let i = 0; i < 1000; i++) {
    res = yield* readText(sys, libc, selftest);
    if (!res.endsWith('running')) break;
    yield* sleep100us(sys, ts);
  }
  yield* libc.puts(`# cat ${selftest}: ${res}`);
  st.hostResult = res.split(' ').slice(6).join(' ');
  // dma1 to vfio as well
  const b2 = yield* bindToVfio(sys, libc, SHARED_TDMA, method);
  for (const l of b2.transcript) yield* libc.puts(`# ${l}`);
  st.group2 = b2.groupPath ?? '/dev/vfio/1';
  while (!st.userDone) yield* sleep100us(sys, ts);
  return 0;
}

/** the user */
export function* sharedSidUser(sys: Sys, st: SharedSidState): GuestProgram {
  const libc = new Libc(sys);
  if ((yield* libc.init(64 * 1024)) < 0) return 1;
  const m = sys.mem;
  const ts = libc.malloc(8);
  const say = (s: string): GuestProgram<number> => libc.puts(`user: ${s}`);
  while (st.group1 === null) yield* sleep100us(sys, ts);
  const container = yield* sys.open('/dev/vfio/vfio', O_RDWR);
  const pfd = libc.malloc(4);
  m.write32(pfd, container);
  const iovaA = st.hostSrc - (st.hostSrc % 4096);
  const iovaB = st.hostDst - (st.hostDst % 4096);
  const pageA = yield* libc.mmapAnon(4096);
  const pageB = yield* libc.mmapAnon(4096);
  for (let i = 0; i < 4096; i++) m.write8(pageA + i, (0x5a + 3 * i) & 0xff);
  let setUp = false;
  const setUpGroup = function* (group: number): GuestProgram<boolean> {
    const sc = yield* sys.ioctl(group, VFIO_GROUP_SET_CONTAINER, pfd);
    const si = setUp ? 0 : yield* sys.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
    yield* say(`SET_CONTAINER ${errnoName(sc)}${setUp ? '' : `, SET_IOMMU ${errnoName(si)}`}`);
    if (sc < 0 || si < 0) return false;
    if (!setUp) {
      for (const [va, iova] of [[pageA, iovaA], [pageB, iovaB]] as const) {
        const map = libc.malloc(vfio_iommu_type1_dma_map.minsz);
        m.write32(map + vfio_iommu_type1_dma_map.argsz, vfio_iommu_type1_dma_map.minsz);
        m.write32(map + vfio_iommu_type1_dma_map.flags, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
        libc.write64(map + vfio_iommu_type1_dma_map.vaddr, va >>> 0);
        libc.write64(map + vfio_iommu_type1_dma_map.iova, iova);
        libc.write64(map + vfio_iommu_type1_dma_map.size, 4096);
        const r = yield* sys.ioctl(container, VFIO_IOMMU_MAP_DMA, map);
        yield* say(`MAP_DMA IOVA 0x${iova.toString(16)} (4 KiB) ${errnoName(r)}`);
        if (r < 0) return false;
      }
    }
    setUp = true;
    return true;
  };
  const viable = function* (group: number): GuestProgram<boolean> {
    const gs = libc.malloc(vfio_group_status.minsz);
    m.write32(gs + vfio_group_status.argsz, vfio_group_status.minsz);
    yield* sys.ioctl(group, VFIO_GROUP_GET_STATUS, gs);
    return (m.read32(gs + vfio_group_status.flags) & VFIO_GROUP_FLAGS_VIABLE) !== 0;
  };

  // phase 1: the PL330's group, the host's DMA on dma1
  const g1 = yield* sys.open(st.group1, O_RDWR);
  st.viable1 = g1 >= 0 && (yield* viable(g1));
  yield* say(`${st.group1}: ${st.viable1 ? 'viable' : 'not viable (not all devices bound for vfio)'}`);
  if (st.viable1) yield* setUpGroup(g1);
  st.userReady = true;
  while (st.hostResult === null) yield* sleep100us(sys, ts);
  if (setUp) {
    const offS = st.hostSrc % 4096;
    const offD = st.hostDst % 4096;
    const got = m.readBytes(pageB + offD, 16);
    const mine = m.readBytes(pageA + offS, 16);
    st.landed = got.every((x, i) => x === mine[i]) && got.some((x) => x !== 0);
    const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    yield* say(`my page at IOVA 0x${iovaB.toString(16)} + 0x${offD.toString(16)}: ${hex(got)}${st.landed ? ' = my bytes at IOVA 0x' + (iovaA + offS).toString(16) + ': the host\'s DMA went through my IOVA space' : ''}`);
  }

  // phase 2: dma1 through its group
  while (st.group2 === null) yield* sleep100us(sys, ts);
  let g2 = g1;
  if (st.group2 !== st.group1) g2 = yield* sys.open(st.group2, O_RDWR);
  const v2 = g2 >= 0 && (yield* viable(g2));
  yield* say(`${st.group2}: ${v2 ? 'viable' : 'not viable'}`);
  if (!v2 || (g2 !== g1 || !setUp ? !(yield* setUpGroup(g2)) : false)) {
    st.userDone = true;
    return 1;
  }
  const dev = yield* sys.ioctl(g2, VFIO_GROUP_GET_DEVICE_FD, libc.cstring(SHARED_TDMA));
  const reg = libc.malloc(vfio_region_info.minsz);
  m.write32(reg, vfio_region_info.minsz);
  m.write32(reg + vfio_region_info.index, 0);
  const ri = dev >= 0 ? yield* sys.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, reg) : dev;
  const base = ri === 0 ? yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, dev, libc.read64(reg + vfio_region_info.offset)) : -1;
  yield* say(`${SHARED_TDMA}: device fd ${dev}, region 0 ${errnoName(ri)}, mmap ${base < 0 ? errnoName(base) : 'ok'}`);
  if (base < 0) {
    st.userDone = true;
    return 1;
  }
  const dstOff = 0x800;
  for (let i = 0; i < USER_COPY_LEN; i++) m.write8(pageB + dstOff + i, 0);
  m.write32(base + 0x00, iovaA);
  m.write32(base + 0x04, iovaB + dstOff);
  m.write32(base + 0x08, USER_COPY_LEN);
  m.write32(base + 0x0c, 1);
  let status = m.read32(base + 0x10);
  for (let i = 0; i < 100 && (status & 1) !== 0; i++) {
    yield* sleep100us(sys, ts);
    status = m.read32(base + 0x10);
  }
  st.copyStatus = status;
  const copied = m.readBytes(pageB + dstOff, USER_COPY_LEN);
  const src = m.readBytes(pageA, USER_COPY_LEN);
  st.copyOk = (status & 2) !== 0 && copied.every((x, i) => x === src[i]);
  const err = (status & 4) !== 0 ? `ERROR (code ${(status >>> 8) & 7}) at 0x${m.read32(base + 0x14).toString(16)}` : (status & 2) !== 0 ? 'DONE' : 'still busy';
  yield* say(`copy on ${SHARED_TDMA} IOVA 0x${iovaA.toString(16)} -> 0x${(iovaB + dstOff).toString(16)}: STATUS 0x${status.toString(16)} ${err}${st.copyOk ? ', data copied' : ''}`);
  st.userDone = true;
  return 0;
}
