/**
 * Two processes and one group: the first opens /dev/vfio/<group> and keeps it; the
 * second's open must fail with -EBUSY (a group is opened once: vfio-uapi.md).
 */
import { O_RDWR, errnoName, type GuestProgram, type Sys } from '../../kernel-model/uapi/index.js';
import { Libc } from '../lib/libc.js';

export interface GroupBusyShared {
  /** set by the holder once its open succeeded */
  holderOpen: boolean;
  /** set by the second process when it is done */
  secondDone: boolean;
  secondResult: number | null;
}

/** process 1: open the group, wait until the second process has tried, close */
export function* groupHolder(sys: Sys, groupPath: string, shared: GroupBusyShared): GuestProgram {
  const libc = new Libc(sys);
  if ((yield* libc.init(16 * 1024)) < 0) return 1;
  const fd = yield* sys.open(groupPath, O_RDWR);
  yield* libc.puts(`holder: open(${groupPath}) = ${fd < 0 ? errnoName(fd) : fd}`);
  if (fd < 0) return 1;
  shared.holderOpen = true;
  const ts = libc.malloc(8);
  while (!shared.secondDone) {
    sys.mem.write32(ts, 0);
    sys.mem.write32(ts + 4, 100_000); // 100 us
    yield* sys.nanosleep(ts, 0);
  }
  yield* sys.close(fd);
  return 0;
}

/** process 2: try to open the same group */
export function* groupSecond(sys: Sys, groupPath: string, shared: GroupBusyShared): GuestProgram {
  const libc = new Libc(sys);
  if ((yield* libc.init(16 * 1024)) < 0) return 1;
  const ts = libc.malloc(8);
  while (!shared.holderOpen) {
    sys.mem.write32(ts, 0);
    sys.mem.write32(ts + 4, 100_000);
    yield* sys.nanosleep(ts, 0);
  }
  const fd = yield* sys.open(groupPath, O_RDWR);
  shared.secondResult = fd;
  yield* libc.puts(`second: open(${groupPath}) = ${fd < 0 ? errnoName(fd) : fd}`);
  shared.secondDone = true;
  if (fd >= 0) yield* sys.close(fd);
  return fd < 0 ? 0 : 1;
}
