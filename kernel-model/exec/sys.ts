import { encodeRlimit64, encodeUtsname, RLIM_INFINITY } from '../../emulator/cpu/unicorn/abi.js';
import { EFAULT, EINVAL, EPERM } from '../base/errno.js';
import type { Process } from '../process/process.js';

/**
 * The kernel/sys.c calls of the ARM entry on the process's or the system's settings:
 * uname (sys_newuname), prlimit64 and ugetrlimit (the limits: RLIMIT_STACK 8 MiB, NOFILE and
 * MEMLOCK from the process, the others unlimited; setting them is not supported) and prctl's
 * comm (PR_SET_NAME, PR_GET_NAME). `a` are the call's registers.
 */

/** uname(struct new_utsname *) */
export function sysUname(proc: Process, a: Uint32Array): number {
  const u = encodeUtsname({ sysname: 'Linux', nodename: 'vfio-arm-emu', release: '3.17.0-rc1-vfio', version: '#1 SMP PREEMPT', machine: 'armv7l', domainname: '(none)' });
  return proc.mm.copyToUser(a[0]!, u, 0, u.length) === 0 ? 0 : -EFAULT;
}

/** prlimit64(pid, resource, new_rlim, old_rlim): the caller's own limits, read only */
export function sysPrlimit64(proc: Process, a: Uint32Array): number {
  if (a[0] !== 0 && a[0] !== proc.pid) return -EPERM;
  if (a[2] !== 0) return -EPERM; // setting limits is not supported
  if (a[3] !== 0) {
    const res = a[1]!;
    const lim = res === 3 /* STACK */ ? encodeRlimit64(8n << 20n, RLIM_INFINITY)
      : res === 7 /* NOFILE */ ? encodeRlimit64(BigInt(proc.rlimitNofile), BigInt(proc.rlimitNofile))
        : res === 8 /* MEMLOCK */ ? encodeRlimit64(BigInt(proc.rlimitMemlock), BigInt(proc.rlimitMemlock))
          : encodeRlimit64(RLIM_INFINITY, RLIM_INFINITY);
    if (proc.mm.copyToUser(a[3]!, lim, 0, lim.length) !== 0) return -EFAULT;
  }
  return 0;
}

/** ugetrlimit(resource, struct rlimit *): the 32-bit form (RLIM_INFINITY 0xffffffff) */
export function sysUgetrlimit(proc: Process, a: Uint32Array): number {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  const res = a[0]!;
  const v = res === 3 ? 8 << 20 : res === 7 ? proc.rlimitNofile : res === 8 ? proc.rlimitMemlock : 0xffffffff;
  dv.setUint32(0, v, true);
  dv.setUint32(4, res === 3 ? 0xffffffff : v, true);
  return proc.mm.copyToUser(a[1]!, b, 0, b.length) === 0 ? 0 : -EFAULT;
}

/**
 * prctl(option, arg2, ...) (kernel/sys.c): PR_SET_NAME (15) copies at most 15 bytes of the string
 * at arg2 (strncpy_from_user: up to its NUL; a fault before it, -EFAULT) and makes it the comm
 * (set_task_comm); PR_GET_NAME (16) writes the comm as 16 bytes, NUL-padded. The comm is per task
 * in Linux; the model keeps one per process (`Process.name`, also the name in kernel messages), so
 * a thread's PR_SET_NAME renames its whole process: a choice, exact for single-threaded programs.
 * The other options are not modelled: -EINVAL.
 */
export function sysPrctl(proc: Process, a: Uint32Array): number {
  if (a[0] === 15) {
    const b = new Uint8Array(16);
    let n = 0;
    for (; n < 15; n++) {
      if (proc.mm.copyFromUser(b, n, a[1]! + n, 1) < 0) return -EFAULT;
      if (b[n] === 0) break;
    }
    proc.name = new TextDecoder().decode(b.subarray(0, n));
    return 0;
  }
  if (a[0] === 16) {
    const b = new Uint8Array(16);
    b.set(new TextEncoder().encode(proc.name).subarray(0, 15));
    return proc.mm.copyToUser(a[1]!, b, 0, b.length) === 0 ? 0 : -EFAULT;
  }
  return -EINVAL;
}
