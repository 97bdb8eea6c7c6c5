// @ts-check
// A runnable example of the library API (docs/API.md): boot the default board, bind the
// PL330 to vfio-platform as an administrator would, run a guest program written here (the
// VFIO container/group/device set-up and VFIO_DEVICE_GET_INFO), then the pl330 copy.
//
//   npm run build && node examples/device-info.mjs [profile]
//
// In another project: `npm install vfio-arm-emu` and the same import.
import { System, adminBind, runThreads, Libc, uapi, PL330_DEVICE, runScenario } from 'vfio-arm-emu';

const profile = process.argv[2] ?? 'rfc-v4';
const sys = new System({ profile, seed: 1 });
const admin = adminBind(sys, PL330_DEVICE);
if (!admin.result?.ok) throw new Error(`binding failed:\n${admin.output.join('\n')}`);
const group = admin.result.groupPath;

/** the guest program: only syscalls on file descriptors, as a C program would make them */
/** @param {import('vfio-arm-emu').Sys} s */
function* deviceInfo(s) {
  const libc = new Libc(s);
  if ((yield* libc.init()) < 0) return 1;
  const container = yield* s.open('/dev/vfio/vfio', uapi.O_RDWR);
  const grp = yield* s.open(group, uapi.O_RDWR);
  const fdArg = libc.malloc(4);
  s.mem.write32(fdArg, container);
  if ((yield* s.ioctl(grp, uapi.VFIO_GROUP_SET_CONTAINER, fdArg)) < 0) return 2;
  if ((yield* s.ioctl(container, uapi.VFIO_SET_IOMMU, uapi.VFIO_TYPE1_IOMMU)) < 0) return 3;
  const dev = yield* s.ioctl(grp, uapi.VFIO_GROUP_GET_DEVICE_FD, libc.cstring(PL330_DEVICE));
  if (dev < 0) return 4;
  const info = libc.malloc(uapi.vfio_device_info.minsz);
  s.mem.write32(info + uapi.vfio_device_info.argsz, uapi.vfio_device_info.minsz);
  const r = yield* s.ioctl(dev, uapi.VFIO_DEVICE_GET_INFO, info);
  yield* libc.puts(`GET_INFO = ${r}: flags 0x${s.mem.read32(info + uapi.vfio_device_info.flags).toString(16)}, ` +
    `${s.mem.read32(info + uapi.vfio_device_info.num_regions)} region(s), ${s.mem.read32(info + uapi.vfio_device_info.num_irqs)} irq(s)`);
  return r < 0 ? 5 : 0;
}

const { proc, thread } = sys.spawn('device-info', deviceInfo, { stdio: true });
const run = runThreads(sys, [thread]);
process.stdout.write(proc.stdout);
console.log(`device-info: exit ${thread.exit?.status} after ${run.now} ns of virtual time (${run.reason})`);

// the pl330 copy: the project's own guest program, on a fresh board, as a scenario result
const copy = runScenario('pl330-vfio-test', { profile });
console.log(`pl330-vfio-test: ${copy.passed ? 'PASS' : 'FAIL'} (${copy.outcome}), ${copy.dmaBytes} DMA bytes, trace ${copy.traceSha256.slice(0, 16)}...`);
process.exitCode = thread.exit?.status === 0 && copy.passed ? 0 : 1;
