import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EFAULT, EINVAL, EPERM, ESRCH } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import { CAP_LAST_CAP_3_14, CAP_SETPCAP, capFullSet, capIsSubset, capRaised, newCredRef } from '../process/cred.js';
import type { LinuxAbi } from './linux-abi.js';
import { findTaskByVpid } from './sys.js';

/**
 * capget and capset (kernel/capability.c SYSCALL_DEFINE2(capget), SYSCALL_DEFINE2(capset),
 * with security/commoncap.c cap_capget and cap_capset; the same rules in 3.14 and v6.12). The
 * user's structures (include/uapi/linux/capability.h): the header { u32 version; s32 pid } and
 * one (version 1) or two (versions 2 and 3) data records { u32 effective, permitted,
 * inheritable }, the second holding capabilities 32-63. The sets themselves are Process's
 * (kernel-model/process/cred.ts). Credentials are per task in Linux and per process in the
 * model (a choice, as for the comm: exact for single-threaded programs); the pid in the header
 * is compared with the calling thread's id, task_pid_vnr(current), as the kernel does.
 * Not modelled: cap_validate_magic's once-per-boot kernel messages for versions 1 and 2
 * (warn_legacy_capability_use, warn_deprecated_v2).
 */

const LINUX_CAPABILITY_VERSION_1 = 0x19980330;
const LINUX_CAPABILITY_VERSION_2 = 0x20071026;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
/** sizeof(struct __user_cap_data_struct) */
const CAP_DATA_SIZE = 12;

/**
 * cap_validate_magic: the number of data records the header's version takes (1 for
 * _LINUX_CAPABILITY_VERSION_1, 2 for _2 and _3), or -EFAULT (the header unreadable); any
 * other version writes _KERNEL_CAPABILITY_VERSION (_3) into the header and is -EINVAL
 * (-EFAULT if that write faults)
 */
function capValidateMagic(mm: AddressSpace, header: number): number {
  const version = mm.getUser32(header);
  if (version < 0) return -EFAULT;
  if (version === LINUX_CAPABILITY_VERSION_1) return 1;
  if (version === LINUX_CAPABILITY_VERSION_2 || version === LINUX_CAPABILITY_VERSION_3) return 2;
  return mm.putUser32(header, LINUX_CAPABILITY_VERSION_3) < 0 ? -EFAULT : -EINVAL;
}

/** a set's 32-bit word `i` (0: capabilities 0-31, 1: 32-63) */
const word = (set: bigint, i: number): number => Number((set >> BigInt(32 * i)) & 0xffffffffn);

/**
 * capget(header, dataptr): cap_validate_magic; a NULL dataptr is the version probe: 0 whether
 * the version was known or not (the unknown one has had _3 written into the header), the
 * header's fault still -EFAULT. Then the pid (-EFAULT), negative -EINVAL; 0 or the caller's
 * thread id reads the caller's sets, another pid those of the process it names (-ESRCH when
 * there is none); the records for the version are copied out (-EFAULT).
 */
export function sysCapget(p: LinuxAbi, t: UnicornThread, a: Uint32Array): number {
  const mm = p.mm;
  const header = a[0]!, dataptr = a[1]!;
  const tocopy = capValidateMagic(mm, header);
  if (dataptr === 0) return tocopy === -EINVAL || tocopy > 0 ? 0 : tocopy;
  if (tocopy < 0) return tocopy;
  const pid = mm.getUser32(header + 4);
  if (pid < 0) return -EFAULT;
  if ((pid | 0) < 0) return -EINVAL;
  const target = pid !== 0 && pid !== t.tid ? (findTaskByVpid(p.layer, pid)?.proc ?? null) : p.proc;
  if (target === null) return -ESRCH;
  const b = new Uint8Array(CAP_DATA_SIZE * tocopy);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < tocopy; i++) {
    dv.setUint32(CAP_DATA_SIZE * i, word(target.capEffective, i), true);
    dv.setUint32(CAP_DATA_SIZE * i + 4, word(target.capPermitted, i), true);
    dv.setUint32(CAP_DATA_SIZE * i + 8, word(target.capInheritable, i), true);
  }
  return mm.copyToUser(dataptr, b, 0, b.length) === 0 ? 0 : -EFAULT;
}

/**
 * capset(header, data): cap_validate_magic; the pid (-EFAULT) must be 0 or the caller's thread
 * id, else -EPERM; the records for the version are copied in (-EFAULT), the words a version 1
 * caller does not pass are 0, and the bits above CAP_LAST_CAP are dropped (3.14: the last
 * word & CAP_LAST_U32_VALID_MASK; v6.12 mk_kernel_cap: & CAP_VALID_MASK; capability
 * `capLastCap`). Then cap_capset's rules against the caller's old sets, each -EPERM: the new
 * inheritable set within old inheritable | permitted unless CAP_SETPCAP is effective
 * (cap_inh_is_capped), within old inheritable | bounding, the new permitted within the old
 * permitted, the new effective within the new permitted. Committed: the three sets; v6.12
 * keeps the ambient set within permitted & inheritable.
 */
export function sysCapset(p: LinuxAbi, t: UnicornThread, a: Uint32Array): number {
  const mm = p.mm;
  const header = a[0]!;
  const tocopy = capValidateMagic(mm, header);
  if (tocopy < 0) return tocopy;
  const pid = mm.getUser32(header + 4);
  if (pid < 0) return -EFAULT;
  if (pid !== 0 && pid !== t.tid) return -EPERM;
  const b = new Uint8Array(CAP_DATA_SIZE * 2);
  if (mm.copyFromUser(b, 0, a[1]!, CAP_DATA_SIZE * tocopy) < 0) return -EFAULT;
  const dv = new DataView(b.buffer);
  const valid = capFullSet(p.layer.host.capLastCap ?? CAP_LAST_CAP_3_14);
  const set = (off: number): bigint => (BigInt(dv.getUint32(off, true)) | (BigInt(dv.getUint32(CAP_DATA_SIZE + off, true)) << 32n)) & valid;
  const effective = set(0), permitted = set(4), inheritable = set(8);
  const old = p.proc;
  if (!capRaised(old.capEffective, CAP_SETPCAP) && !capIsSubset(inheritable, old.capInheritable | old.capPermitted)) return -EPERM;
  if (!capIsSubset(inheritable, old.capInheritable | old.capBounding)) return -EPERM;
  if (!capIsSubset(permitted, old.capPermitted)) return -EPERM;
  if (!capIsSubset(effective, permitted)) return -EPERM;
  old.capEffective = effective;
  old.credRef = newCredRef(); // capset: prepare_creds / commit_creds
  old.capInheritable = inheritable;
  old.capPermitted = permitted;
  if (old.capAmbient !== null) old.capAmbient &= permitted & inheritable;
  return 0;
}
