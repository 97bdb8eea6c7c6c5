/**
 * pl330-vfio-test in the form today's VFIO user space takes (Documentation/driver-api/vfio.rst,
 * "VFIO device cdev"): no container and no group. The device's cdev (found through its sysfs
 * `vfio-dev` directory) is opened and bound to an iommufd (VFIO_DEVICE_BIND_IOMMUFD), an IOAS
 * is allocated and the device attached to it (VFIO_DEVICE_ATTACH_IOMMUFD_PT), the three
 * buffers are mapped into the IOAS at fixed IOVAs (IOMMU_IOAS_MAP), and from there the test
 * is the mainline program's (pl330DeviceTest): regions, the register mmap, the interrupt, the
 * transfer and the comparison.
 */
import { IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE } from '../../kernel-model/uapi/index.js';
import { O_RDWR, type GuestProgram, type Sys } from '../../kernel-model/uapi/index.js';
import { findVfioCdev, ioasAlloc, ioasMap, vfioDeviceAttachPt, vfioDeviceBindIommufd } from '../lib/iommufd.js';
import { Libc } from '../lib/libc.js';
import { pl330DeviceTest, type DmaArea, type Pl330TestOptions } from './main.js';

export interface Pl330IommufdOptions extends Omit<Pl330TestOptions, 'groupPath' | 'abi' | 'closeInFlight' | 'mapExec'> {
  /** the device's sysfs directory, e.g. /sys/bus/amba/devices/2c0a0000.dma */
  sysfsDevice: string;
  /** close-in-flight variant: close these fds / unmap the buffers right after starting the DMA */
  closeInFlight?: Array<'iommufd' | 'device' | 'eventfd' | 'munmap'>;
}

export function* pl330IommufdTest(sys: Sys, o: Pl330IommufdOptions): GuestProgram {
  const libc = new Libc(sys);
  o.libcOut?.(libc);
  const note: Parameters<typeof pl330DeviceTest>[5] = (s, ok, d) => {
    o.observe?.(s, ok, d);
    return ok;
  };
  if ((yield* libc.init(256 * 1024)) < 0) return 1;
  const size = o.size ?? 4096;

  // 1. the iommufd
  const iommufd = yield* sys.open('/dev/iommu', O_RDWR);
  if (!note('open-iommufd', iommufd >= 0, String(iommufd))) {
    yield* libc.puts(`Could not open /dev/iommu (${iommufd})`);
    return 1;
  }

  // 2. the device's cdev, through sysfs
  const path = yield* findVfioCdev(sys, libc, o.sysfsDevice);
  if (!note('find-cdev', typeof path === 'string', String(path)) || typeof path !== 'string') {
    yield* libc.puts(`No VFIO device cdev under ${o.sysfsDevice}/vfio-dev (${path})`);
    return 1;
  }
  const device = yield* sys.open(path, O_RDWR);
  if (!note('open-cdev', device >= 0, String(device))) {
    yield* libc.puts(`Could not open ${path} (${device})`);
    return 1;
  }

  // 3. bind, IOAS, attach
  const devid = yield* vfioDeviceBindIommufd(sys, libc, device, iommufd);
  if (!note('bind', devid >= 0, String(devid))) {
    yield* libc.puts(`VFIO_DEVICE_BIND_IOMMUFD failed (${devid})`);
    return 1;
  }
  const ioas = yield* ioasAlloc(sys, libc, iommufd);
  if (!note('ioas-alloc', ioas >= 0, String(ioas))) {
    yield* libc.puts(`IOMMU_IOAS_ALLOC failed (${ioas})`);
    return 1;
  }
  const hwpt = yield* vfioDeviceAttachPt(sys, libc, device, ioas);
  if (!note('attach-pt', hwpt >= 0, String(hwpt))) {
    yield* libc.puts(`VFIO_DEVICE_ATTACH_IOMMUFD_PT failed (${hwpt})`);
    return 1;
  }
  yield* libc.puts(`=== VFIO device ${path}: fd ${device}, devid ${devid}, IOAS ${ioas}, HWPT ${hwpt} ===`);

  // 4. the three buffers at IOVA 0, len, 2*len, as the group-path program maps them
  const progBytes = Math.max(4096, Math.ceil((64 + 16 * Math.ceil(size / 65536)) / 4096) * 4096);
  const len = Math.ceil(size / 4096) * 4096;
  const areas: DmaArea[] = [
    { len, iova: 0, vaddr: 0 },
    { len, iova: len, vaddr: 0 },
    { len: progBytes, iova: 2 * len, vaddr: 0 },
  ];
  for (const a of areas) {
    a.vaddr = yield* libc.mmapAnon(a.len);
    const r = yield* ioasMap(sys, libc, iommufd, ioas, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE, a.vaddr, a.len, a.iova);
    if (!note('ioas-map', r >= 0, String(r))) {
      yield* libc.puts(`IOMMU_IOAS_MAP of 0x${a.len.toString(16)} bytes at IOVA 0x${a.iova.toString(16)} failed (${r})`);
      return 1;
    }
  }
  return yield* pl330DeviceTest(sys, libc, { ...o, abi: 'mainline' }, device, areas, note, { iommufd, device });
}
