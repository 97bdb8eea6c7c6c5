/**
 * pl330-vfio-test as a guest program: the user-space test the RFC series was validated
 * with (virtualopensystems/pl330-vfio-test), step by step as the upstream program does
 * describes, with the original program's messages. It sees only the syscall API.
 *
 * Documented deviations from the C original:
 *  - the source data comes from a seeded generator (the original seeded rand() with the
 *    wall clock);
 *  - the completion interrupt is awaited with select() on the eventfd in the program's
 *    own thread, with a virtual-time timeout, before the buffers are compared (the
 *    original compared right after starting the DMA, racing its IRQ thread);
 *  - the DMA program encodes the outer loop end with loop counter 1 (see pl330-prog.ts);
 *  - the channel's completion event is the channel number, and the VFIO IRQ index used
 *    is that event's interrupt (the original always signalled event 0 while enabling
 *    INTEN bit <channel>, so only channel 0 ever interrupted);
 *  - `transfers > 1` repeats the transfer, doing INTCLR and then VFIO UNMASK in between
 *    as the automasked line requires (rfc-v4 patch 10, and mainline).
 */
import {
  EAGAIN,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  VFIO_API_VERSION,
  VFIO_CHECK_EXTENSION,
  VFIO_DEVICE_FLAGS_AMBA,
  VFIO_DEVICE_FLAGS_PLATFORM,
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_SET_IRQS,
  VFIO_DMA_MAP_FLAG_EXEC,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_GET_API_VERSION,
  VFIO_GROUP_FLAGS_VIABLE,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_SET_IOMMU,
  VFIO_TYPE1_IOMMU,
  O_RDWR,
  timeval,
  vfio_device_info,
  vfio_group_status,
  vfio_iommu_type1_dma_map,
  vfio_iommu_type1_info,
  vfio_irq_info,
  vfio_irq_set,
  vfio_region_info,
  type GuestProgram,
  type Sys,
  type SysCall,
  type UserMem,
} from '../../kernel-model/uapi/index.js';
import { hex, hex64, Libc, Rand } from '../lib/libc.js';
import { dbgInst0, dbgInst1, dmaGo, memToMemProgram } from '../lib/pl330-prog.js';

/** PL330 register offsets (ARM DDI 0424, PL330 TRM, 3.3 register summary) */
const R = {
  DSR: 0x000,
  INTEN: 0x020,
  INTCLR: 0x02c,
  FSRC: 0x034,
  FTR: (n: number) => 0x040 + 4 * n,
  CSR: (n: number) => 0x100 + 8 * n,
  DBGSTATUS: 0xd00,
  DBGCMD: 0xd04,
  DBGINST0: 0xd08,
  DBGINST1: 0xd0c,
  CR0: 0xe00,
  CRD: 0xe14,
} as const;

export type StepName =
  | 'open-container'
  | 'api-version'
  | 'check-extension'
  | 'open-group'
  | 'group-viable'
  | 'set-container'
  | 'set-iommu'
  | 'iommu-info'
  | 'map-dma'
  | 'device-fd'
  | 'device-info'
  | 'region-info'
  | 'mmap-region'
  | 'irq-info'
  | 'eventfd'
  | 'set-irqs'
  | 'irq-quiet'
  | 'interrupt'
  | 'compare'
  | 'unmask'
  | 'teardown'
  // the cdev + iommufd form (iommufd.ts)
  | 'open-iommufd'
  | 'find-cdev'
  | 'open-cdev'
  | 'bind'
  | 'ioas-alloc'
  | 'attach-pt'
  | 'ioas-map';

export interface Pl330TestOptions {
  /** argv[1]: /dev/vfio/<group> */
  groupPath: string;
  /** argv[2]: the device name */
  device: string;
  /** '2014': the original program (EXEC map flag, offsets as returned); 'mainline': the program rewritten for mainline rules */
  abi: '2014' | 'mainline';
  /** bytes per transfer: a multiple of 256 (default one page) */
  size?: number;
  transfers?: number;
  channel?: number;
  seed?: number;
  /** pass VFIO_DMA_MAP_FLAG_EXEC (default: abi === '2014') */
  mapExec?: boolean;
  /** UNMASK the automasked interrupt between transfers (default true) */
  unmaskBetween?: boolean;
  /** how long to wait for the completion interrupt (virtual ms, default 1000) */
  irqTimeoutMs?: number;
  /** make the DMA program's source point at this IOVA instead (unmapped-IOVA scenario) */
  srcIovaOverride?: number;
  /**
   * close-in-flight variant: right after starting the DMA, close these fds / unmap the
   * buffers in this order and exit without waiting (the kernel must keep every page the
   * DMA can still reach until the IOMMU mapping is gone)
   */
  closeInFlight?: Array<'container' | 'group' | 'device' | 'eventfd' | 'munmap'>;
  /** observer for the harness: each step's result as it happens */
  observe?: (step: StepName, ok: boolean, detail?: string) => void;
  /** the program's printed lines land here too (the Libc records them) */
  libcOut?: (libc: Libc) => void;
}

export function* pl330VfioTest(sys: Sys, o: Pl330TestOptions): GuestProgram {
  const libc = new Libc(sys);
  o.libcOut?.(libc);
  const note = (s: StepName, ok: boolean, d?: string): boolean => {
    o.observe?.(s, ok, d);
    return ok;
  };
  if ((yield* libc.init(256 * 1024)) < 0) return 1;
  const m = sys.mem;
  const size = o.size ?? 4096;
  const mapExec = o.mapExec ?? o.abi === '2014';

  // 1. container
  const container = yield* sys.open('/dev/vfio/vfio', O_RDWR);
  note('open-container', container >= 0, String(container));
  const ver = yield* sys.ioctl(container, VFIO_GET_API_VERSION);
  if (!note('api-version', ver === VFIO_API_VERSION, String(ver))) {
    yield* libc.puts('Unknown API version');
    return 1;
  }
  const ext = yield* sys.ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU);
  if (!note('check-extension', ext > 0, String(ext))) {
    yield* libc.puts("Doesn't support the IOMMU driver we want");
    return 1;
  }

  // 2. group (the original does not check open()'s result: a missing group shows up as "not viable")
  const group = yield* sys.open(o.groupPath, O_RDWR);
  note('open-group', group >= 0, String(group));
  const gs = libc.malloc(vfio_group_status.minsz);
  m.write32(gs + vfio_group_status.argsz, vfio_group_status.minsz);
  yield* sys.ioctl(group, VFIO_GROUP_GET_STATUS, gs);
  if (!note('group-viable', (m.read32(gs + vfio_group_status.flags) & VFIO_GROUP_FLAGS_VIABLE) !== 0)) {
    yield* libc.puts('Group is not viable (not all devices bound for vfio)');
    return 1;
  }

  // 3. container set-up (return values unchecked, as in the original)
  const pfd = libc.malloc(4);
  m.write32(pfd, container);
  note('set-container', (yield* sys.ioctl(group, VFIO_GROUP_SET_CONTAINER, pfd)) === 0);
  const setIommu = yield* sys.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
  note('set-iommu', setIommu === 0, String(setIommu));
  const info = libc.malloc(vfio_iommu_type1_info.minsz);
  m.write32(info, vfio_iommu_type1_info.minsz);
  note('iommu-info', (yield* sys.ioctl(container, VFIO_IOMMU_GET_INFO, info)) === 0);

  // 4. three anonymous mappings mapped for DMA at IOVA 0, len, 2*len, where len is the
  //    transfer size rounded up to whole pages (MAP_DMA needs page-aligned IOVA and size; the
  //    original's one page is the case size = len)
  const flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | (mapExec ? VFIO_DMA_MAP_FLAG_EXEC : 0);
  const progBytes = Math.max(4096, Math.ceil((64 + 16 * Math.ceil(size / 65536)) / 4096) * 4096);
  const len = Math.ceil(size / 4096) * 4096;
  const areas: DmaArea[] = [
    { len, iova: 0, vaddr: 0 },
    { len, iova: len, vaddr: 0 },
    { len: progBytes, iova: 2 * len, vaddr: 0 },
  ];
  let mapRet = 0;
  for (const a of areas) {
    a.vaddr = yield* libc.mmapAnon(a.len);
    const map = libc.malloc(vfio_iommu_type1_dma_map.minsz);
    m.write32(map + vfio_iommu_type1_dma_map.argsz, vfio_iommu_type1_dma_map.minsz);
    m.write32(map + vfio_iommu_type1_dma_map.flags, flags);
    libc.write64(map + vfio_iommu_type1_dma_map.vaddr, a.vaddr >>> 0);
    libc.write64(map + vfio_iommu_type1_dma_map.iova, a.iova);
    libc.write64(map + vfio_iommu_type1_dma_map.size, a.len);
    mapRet |= yield* sys.ioctl(container, VFIO_IOMMU_MAP_DMA, map);
  }
  if (!note('map-dma', mapRet === 0, String(mapRet))) {
    yield* libc.puts('Could not map DMA memory');
    return 1;
  }

  // 5. device fd
  const device = yield* sys.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, libc.cstring(o.device));
  note('device-fd', device >= 0, String(device));
  yield* libc.puts(`=== VFIO device file descriptor ${device} ===`);
  return yield* pl330DeviceTest(sys, libc, o, device, areas, note, { container, group, device });
}

/** the DMA buffers of the test: source, destination and the PL330 program, each mapped at `iova` */
export interface DmaArea {
  len: number;
  iova: number;
  vaddr: number;
}

/**
 * Steps 6-14 of the program, the same whichever way the device fd was obtained (through its
 * group, or its cdev bound to an iommufd): device and region info, the register mmap, the
 * interrupt, the transfer(s) and the comparison. `fds` names what closeInFlight closes.
 */
export function* pl330DeviceTest(
  sys: Sys,
  libc: Libc,
  o: Omit<Pl330TestOptions, 'groupPath' | 'closeInFlight'> & { closeInFlight?: readonly string[] },
  device: number,
  areas: readonly DmaArea[],
  note: (s: StepName, ok: boolean, d?: string) => boolean,
  fds: Readonly<Record<string, number>>,
): GuestProgram {
  const m = sys.mem;
  const size = o.size ?? 4096;
  const transfers = o.transfers ?? 1;
  const [srcA, dstA, instA] = areas as [DmaArea, DmaArea, DmaArea];

  // 6. device info
  const di = libc.malloc(vfio_device_info.minsz);
  m.write32(di, vfio_device_info.minsz);
  if (!note('device-info', (yield* sys.ioctl(device, VFIO_DEVICE_GET_INFO, di)) === 0)) {
    yield* libc.puts('Could not get VFIO device');
    return 1;
  }
  if (o.abi === 'mainline') {
    // the mainline program checks the device type GET_INFO reports: an AMBA device (one that
    // /sys/bus/amba/devices lists) must come with VFIO_DEVICE_FLAGS_AMBA (vfio_amba_init_dev),
    // a platform device with VFIO_DEVICE_FLAGS_PLATFORM (vfio_platform_init_dev)
    const flags = m.read32(di + vfio_device_info.flags);
    const lb = libc.malloc(256, 1);
    const amba = (yield* sys.readlink(`/sys/bus/amba/devices/${o.device}`, lb, 255)) >= 0;
    yield* libc.puts(`Device flags=0x${hex(flags)} (${amba ? 'AMBA' : 'platform'} device)`);
    if (!note('device-info', (flags & (amba ? VFIO_DEVICE_FLAGS_AMBA : VFIO_DEVICE_FLAGS_PLATFORM)) !== 0, `flags 0x${hex(flags)}`)) {
      yield* libc.puts(`Device is not reported as ${amba ? 'an AMBA' : 'a platform'} device`);
      return 1;
    }
  }
  yield* libc.puts(`Device has ${m.read32(di + vfio_device_info.num_regions)} region(s):`);

  // 7. region 0 and its mmap
  const reg = libc.malloc(vfio_region_info.minsz);
  m.write32(reg, vfio_region_info.minsz);
  m.write32(reg + vfio_region_info.index, 0);
  if (!note('region-info', (yield* sys.ioctl(device, VFIO_DEVICE_GET_REGION_INFO, reg)) === 0)) {
    yield* libc.puts(`Couldn't get region ${m.read32(reg + vfio_region_info.index)} info`);
    return 1;
  }
  const regSize = libc.read64(reg + vfio_region_info.size);
  const regOff = libc.read64(reg + vfio_region_info.offset);
  yield* libc.puts(`- Region 0: size=0x${hex64(regSize)} offset=0x${hex64(regOff)} flags=0x${hex(m.read32(reg + vfio_region_info.flags))}`);
  let base = yield* sys.mmap(0, regSize, PROT_READ | PROT_WRITE, MAP_SHARED, device, regOff);
  if (note('mmap-region', base >= 0, String(base))) {
    yield* libc.puts(`  - Successful MMAP to address 0x${hex(base)}`);
  } else {
    // the original keeps going with base_regs == MAP_FAILED ((void *)-1)
    base = 0xffffffff;
  }
  const regAddr = (off: number): number => (base + off) >>> 0;

  // 8. IRQ info (index = the channel's event interrupt), eventfd, SET_IRQS trigger
  const chan = o.channel ?? 0;
  const irqIndex = chan;
  const irq = libc.malloc(vfio_irq_info.minsz);
  m.write32(irq, vfio_irq_info.minsz);
  m.write32(irq + vfio_irq_info.index, irqIndex);
  if (!note('irq-info', (yield* sys.ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, irq)) === 0)) {
    yield* libc.puts(`Couldn't get IRQ ${m.read32(irq + vfio_irq_info.index)} info`);
    return 1;
  }
  yield* libc.puts(`- IRQ ${irqIndex}: range of ${m.read32(irq + vfio_irq_info.count)}, flags=0x${hex(m.read32(irq + vfio_irq_info.flags))}`);
  const irqfd = yield* sys.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (!note('eventfd', irqfd >= 0)) return 1;
  const set = libc.malloc(vfio_irq_set.minsz + 4);
  m.write32(set + vfio_irq_set.argsz, vfio_irq_set.minsz + 4);
  m.write32(set + vfio_irq_set.flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
  m.write32(set + vfio_irq_set.index, irqIndex);
  m.write32(set + vfio_irq_set.start, 0);
  m.write32(set + vfio_irq_set.count, 1);
  m.write32(set + vfio_irq_set.data, irqfd);
  if (!note('set-irqs', (yield* sys.ioctl(device, VFIO_DEVICE_SET_IRQS, set)) === 0)) {
    yield* libc.puts(`Failure in vfio_irqfd_init for IRQ ${irqIndex}`);
    return 1;
  }

  // 9. pl330_vfio_init: CRD and CR0 through the mapped registers; no interrupt yet
  m.read32(regAddr(R.CRD));
  const cr0 = m.read32(regAddr(R.CR0));
  const channels = ((cr0 >>> 4) & 7) + 1;
  yield* libc.puts(`device init, num channel: ${channels}`);
  const ebuf = libc.malloc(8);
  const rr = yield* sys.read(irqfd, ebuf, 8);
  if (!note('irq-quiet', rr === -EAGAIN, String(rr))) {
    yield* libc.puts(`IRQ ${irqIndex} shouldn't trigger yet.`);
    return 1;
  }

  // 10. source data and the DMA program
  const rand = new Rand(o.seed ?? 1);
  const words = size / 4;
  fillWords(m, srcA.vaddr, words, rand);
  yield* libc.puts(`source value: 0x${hex(m.read32(srcA.vaddr))}`);
  yield* libc.puts(`destination value: 0x${hex(m.read32(dstA.vaddr))}`);
  yield* libc.puts('start thread');
  yield* libc.puts(`allocated thread ${chan}`);
  yield* libc.puts(`channel ${chan} allocated`);
  const prog = memToMemProgram({ src: o.srcIovaOverride ?? srcA.iova, dst: dstA.iova, size, burstBytes: 16, burstLen: 16, event: chan });
  yield* printDebug(libc, prog.bytes, size);
  m.writeBytes(instA.vaddr, Uint8Array.from(prog.bytes));

  let ok = true;
  const mis = [0, 0];
  const tv = libc.malloc(timeval.size);
  const fdset = libc.malloc(128);
  // the UNMASK argument is allocated once (at first use) and reused: the bump allocator never
  // frees, and one allocation per transfer ran the heap dry after ~10,000 transfers (malloc
  // returned NULL and the program died with SIGSEGV at 0x0)
  let um = 0;
  for (let t = 0; t < transfers; t++) {
    if (t > 0) m.fill(dstA.vaddr, 0, size);
    // 11. INTEN for the channel's event, DMAGO through the debug interface
    if ((m.read32(regAddr(R.DBGSTATUS)) & 1) === 0) {
      m.write32(regAddr(R.INTEN), m.read32(regAddr(R.INTEN)) | (1 << chan));
      const go = dmaGo(chan, instA.iova, true);
      m.write32(regAddr(R.DBGINST0), dbgInst0(go, 'manager'));
      m.write32(regAddr(R.DBGINST1), dbgInst1(go));
      m.write32(regAddr(R.DBGCMD), 0);
    }
    if (o.closeInFlight) {
      for (const what of o.closeInFlight) {
        if (what === 'munmap') {
          for (const a of areas) yield* sys.munmap(a.vaddr, a.len);
          yield* sys.munmap(base, regSize);
        } else {
          const fd = what === 'eventfd' ? irqfd : fds[what]!;
          yield* sys.close(fd);
        }
        yield* libc.puts(`closed ${what} while the transfer is in flight`);
      }
      return 0;
    }
    // 12. wait for the eventfd
    const ms = o.irqTimeoutMs ?? 1000;
    m.fill(fdset, 0, 128);
    m.write32(fdset + 4 * (irqfd >> 5), 1 << (irqfd & 31));
    m.write32(tv + timeval.tv_sec, Math.floor(ms / 1000));
    m.write32(tv + timeval.tv_usec, (ms % 1000) * 1000);
    const sel = yield* sys.select(irqfd + 1, fdset, 0, 0, tv);
    if (!note('interrupt', sel > 0, String(sel))) {
      const csr = m.read32(regAddr(R.CSR(chan)));
      const ftr = m.read32(regAddr(R.FTR(chan)));
      yield* libc.puts(`no interrupt within ${ms} ms: channel ${chan} state 0x${hex(csr & 0xf)}, fault status 0x${hex(m.read32(regAddr(R.FSRC)))}, fault type 0x${hex(ftr)}`);
      ok = false;
      break;
    }
    yield* libc.puts('TRIGGER!');
    yield* sys.read(irqfd, ebuf, 8);
    if (m.read32(regAddr(R.INTEN)) & (1 << chan)) m.write32(regAddr(R.INTCLR), 1 << chan);
    yield* libc.puts('done!');
    yield* libc.puts('the message is: transfer completed');
    // 13. compare
    let bad = 0;
    for (let c = firstMismatch(m, srcA.vaddr, dstA.vaddr, 0, words, mis); c < words; c = firstMismatch(m, srcA.vaddr, dstA.vaddr, c + 1, words, mis)) {
      bad++;
      yield* libc.puts(`test failed! - ${c} - 0x${hex(mis[0]!)} - 0x${hex(mis[1]!)}`);
    }
    note('compare', bad === 0, String(bad));
    if (bad) ok = false;
    if (t + 1 < transfers && (o.unmaskBetween ?? true)) {
      if (um === 0) um = libc.malloc(vfio_irq_set.minsz);
      m.write32(um + vfio_irq_set.argsz, vfio_irq_set.minsz);
      m.write32(um + vfio_irq_set.flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
      m.write32(um + vfio_irq_set.index, irqIndex);
      m.write32(um + vfio_irq_set.start, 0);
      m.write32(um + vfio_irq_set.count, 1);
      note('unmask', (yield* sys.ioctl(device, VFIO_DEVICE_SET_IRQS, um)) === 0);
    }
  }

  // pl330_vfio_reset: stop the manager and every channel that is not stopped
  yield* stopThread(libc, regAddr, 8, channels);
  for (let i = 0; i < channels; i++) yield* stopThread(libc, regAddr, i, channels);
  yield* libc.puts(`source value: 0x${hex(m.read32(srcA.vaddr))}`);
  yield* libc.puts(`destination value: 0x${hex(m.read32(dstA.vaddr))}`);

  // 14. tear down the trigger, close the eventfd
  const clean = libc.malloc(vfio_irq_set.minsz);
  m.write32(clean + vfio_irq_set.argsz, vfio_irq_set.minsz);
  m.write32(clean + vfio_irq_set.flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
  m.write32(clean + vfio_irq_set.index, irqIndex);
  m.write32(clean + vfio_irq_set.start, 0);
  m.write32(clean + vfio_irq_set.count, 0);
  if (!note('teardown', (yield* sys.ioctl(device, VFIO_DEVICE_SET_IRQS, clean)) === 0)) {
    yield* libc.puts(`Failure in vfio_irqfd_clean for IRQ ${irqIndex}`);
    return 1;
  }
  yield* sys.close(irqfd);
  return ok ? 0 : 1;
}

/** pl330_vfio_reset()'s stop_thread: report stopped threads, DMAKILL the others */
/*
 * The program's two word loops as plain functions: a loop inside the generator runs in the
 * JIT's baseline tier (the generator runs once per program), a plain function's hot loop is
 * optimized (issue 19). They make exactly the loads and stores the loops made, in the same
 * order, so the per-access cost accounting (virtual time) is unchanged.
 */

/** the source buffer: `words` 32-bit stores of the generator's values, lowest address first */
function fillWords(m: UserMem, va: number, words: number, rand: Rand): void {
  for (let c = 0; c < words; c++) m.write32(va + 4 * c, rand.next());
}

/**
 * The compare loop up to its next mismatch: for c = from, from+1, ... reads the source word
 * and then the destination word; returns the first c where they differ (their values in
 * out[0], out[1]) or `words` when none does.
 */
function firstMismatch(m: UserMem, src: number, dst: number, from: number, words: number, out: number[]): number {
  for (let c = from; c < words; c++) {
    const s = m.read32(src + 4 * c);
    const d = m.read32(dst + 4 * c);
    if (s !== d) {
      out[0] = s;
      out[1] = d;
      return c;
    }
  }
  return words;
}

function* stopThread(libc: Libc, reg: (off: number) => number, id: number, channels: number): SysCall<void> {
  const m = libc.mem;
  const state = id === 8 ? m.read32(reg(R.DSR)) & 0xf : m.read32(reg(R.CSR(id))) & 0xf;
  if (state === 0 || state === 8 || state === 9) {
    yield* libc.puts(`thread ${id} already stopped`);
    return;
  }
  if (id < channels) {
    m.write32(reg(R.INTEN), m.read32(reg(R.INTEN)) & ~(1 << id));
    yield* libc.print(`closing event ${id} for thread ${id}`);
  }
  const kill = [0x01];
  m.write32(reg(R.DBGINST0), dbgInst0(kill, id === 8 ? 'manager' : id));
  m.write32(reg(R.DBGINST1), 0);
  m.write32(reg(R.DBGCMD), 0);
}

/** the original helper's debug lines while it generated the program (it was built with DEBUG 1) */
function* printDebug(libc: Libc, bytes: readonly number[], size: number): SysCall<void> {
  const u32 = (i: number): number => (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
  const bursts = size / 256;
  let i = 0;
  let loopsAnnounced = false;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0xbc) {
      yield* libc.puts(`debug: DMAMOV ${hex(bytes[i + 1]!)} ${hex(u32(i + 2))}`);
      i += 6;
      continue;
    }
    if (!loopsAnnounced && (b & 0xfd) === 0x20) {
      loopsAnnounced = true;
      yield* libc.puts('debug: set up loops:');
      yield* libc.puts(`debug:     burst_cnt:${bursts}`);
      yield* libc.puts(`debug:     full_loop_cnt:${Math.floor(bursts / 65536)}`);
      yield* libc.puts(`debug:     remaining_burst:${bursts % 65536}`);
    }
    if ((b & 0xfd) === 0x20) {
      const lc = (b >> 1) & 1;
      yield* libc.puts(`debug: DMALP LOOP_CNT_${lc}_REG, count: ${bytes[i + 1]! + 1}`);
      yield* libc.puts(`debug:         ${lc ? 'outer' : 'inner'}_loop_off:${i + 2}, cnt: ${bytes[i + 1]! + 1}`);
      i += 2;
      continue;
    }
    if ((b & 0xf0) === 0x30 && (b & 0x0c) !== 0x04 && b !== 0x34 && b !== 0x35 && b !== 0x36 && b !== 0x30 && b !== 0x31 && b !== 0x32) {
      const lc = (b >> 2) & 1;
      yield* libc.puts(`debug:         ${lc ? 'outer' : 'inner'}_loop_end:${i + 2}, backjmp: ${bytes[i + 1]}`);
      i += 2;
      continue;
    }
    if (b === 0x34) {
      yield* libc.puts(`debug: DMASEV event: ${bytes[i + 1]! >> 3}`);
      i += 2;
      continue;
    }
    if (b === 0x00) {
      yield* libc.puts('debug: DMAEND');
      i += 1;
      continue;
    }
    i += 1;
  }
}
