import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { ECHILD, EFAULT, EINVAL, EPERM, ESRCH } from '../../kernel-model/base/errno.js';
import { ARM_NR } from '../../kernel-model/exec/linux-abi.js';
import type { LinuxAbi } from '../../kernel-model/exec/linux-abi.js';
import { CAP_IPC_LOCK, CAP_SETPCAP, CAP_SETUID, CAP_SYS_RESOURCE, capBit, capFullSet } from '../../kernel-model/process/cred.js';
import { O_RDONLY } from '../../kernel-model/uapi/constants.js';
import { runElf } from './run.js';
import { armProcess } from './testing/arm-process.js';

/**
 * Credentials and resource limits through the ARM syscall entry (kernel-model/exec/capability.ts,
 * sys.ts, lifecycle.ts): capget/capset (kernel/capability.c, security/commoncap.c cap_capset),
 * setuid (kernel/sys.c, cap_emulate_setxuid), prlimit64/setrlimit/ugetrlimit (do_prlimit),
 * clone(CLONE_PARENT) (kernel/fork.c copy_process), in both eras (CAP_LAST_CAP 36 and 40); and
 * guest-tests/c/creds.c, a C program giving its processes the fuzzer's three credentials, each
 * the coordinator's child.
 */
const skip = shouldSkipUnicornTests();
const V1 = 0x19980330, V2 = 0x20071026, V3 = 0x20080522;
const CLONE_PARENT = 0x8000, SIGCHLD = 17, WNOHANG = 1;
const RLIMIT_CPU = 0, RLIMIT_CORE = 4, RLIMIT_NOFILE = 7, RLIMIT_MEMLOCK = 8;
const INF64 = 0xffffffffffffffffn;

/** an ARM process with helpers for the structures these calls read and write (header at page, data at page + 0x100) */
function credProcess(profile: string, popts = {}) {
  const x = armProcess(profile, popts);
  const { proc, call, page } = x;
  const H = page, D = page + 0x100;
  const put32 = (va: number, ...w: number[]): void => w.forEach((v, i) => expect(proc.mm.putUser32(va + 4 * i, v)).toBe(0));
  const get32 = (va: number): number => proc.mm.getUser32(va);
  /** capget(header, data) after writing the header; [effective, permitted, inheritable] read from two records at D */
  const capget = (version = V3, pid = 0, data = D, header = H): number => {
    if (header === H) put32(H, version, pid);
    return call(ARM_NR.capget, header, data) as number;
  };
  const sets = (): [bigint, bigint, bigint] => {
    const w = (i: number): bigint => BigInt(get32(D + 4 * i));
    return [w(0) | (w(3) << 32n), w(1) | (w(4) << 32n), w(2) | (w(5) << 32n)];
  };
  const lo = (s: bigint): number => Number(s & 0xffffffffn), hi = (s: bigint): number => Number(s >> 32n);
  /** capset with the three sets, as two records (version 1: the first only) */
  const capset = (eff: bigint, prm: bigint, inh: bigint, version = V3, pid = 0): number => {
    put32(H, version, pid);
    put32(D, lo(eff), lo(prm), lo(inh), hi(eff), hi(prm), hi(inh));
    return call(ARM_NR.capset, H, D) as number;
  };
  /** the capability lines of /proc/self/status */
  const statusCaps = (): string => {
    const fd = x.open('/proc/self/status', O_RDONLY);
    const n = call(ARM_NR.read, fd, page + 0x800, 0x400) as number;
    call(ARM_NR.close, fd);
    const b = new Uint8Array(n);
    proc.mm.copyFromUser(b, 0, page + 0x800, n);
    return new TextDecoder().decode(b).split('\n').filter((l) => l.startsWith('Cap') || l.startsWith('Uid')).join(' ');
  };
  /** prlimit64(pid, res, new, old) with the new limits written at page + 0x200 (null: no new), the old read from page + 0x300 */
  const prlimit = (pid: number, res: number, nw: [bigint, bigint] | null, old: number | null = page + 0x300): number => {
    if (nw !== null) {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setBigUint64(0, nw[0], true);
      new DataView(b.buffer).setBigUint64(8, nw[1], true);
      expect(proc.mm.copyToUser(page + 0x200, b, 0, 16)).toBe(0);
    }
    return call(ARM_NR.prlimit64, pid, res, nw === null ? 0 : page + 0x200, old ?? 0) as number;
  };
  const oldLimits = (): [bigint, bigint] => {
    const b = new Uint8Array(16);
    proc.mm.copyFromUser(b, 0, page + 0x300, 16);
    const dv = new DataView(b.buffer);
    return [dv.getBigUint64(0, true), dv.getBigUint64(8, true)];
  };
  /** ugetrlimit(res) into page + 0x400: [cur, max] as 32-bit values, or the errno */
  const getrlimit = (res: number): [number, number] | number => {
    const r = call(ARM_NR.ugetrlimit, res, page + 0x400) as number;
    return r < 0 ? r : [get32(page + 0x400), get32(page + 0x404)];
  };
  return { ...x, H, D, put32, get32, capget, sets, capset, statusCaps, prlimit, oldLimits, getrlimit };
}

/** an unmapped user address */
const UNMAPPED = 0x1000;

describe.skipIf(skip)('credentials through the ARM entry', () => {
  it('capget: the version probe with a NULL data pointer, -EINVAL with _3 written back, -EFAULT, the pid rules, one record for version 1', () => {
    for (const [profile, full] of [['rfc-v4', capFullSet(36)], ['patches:1-3', capFullSet(36)], ['mainline', capFullSet(40)]] as const) {
      const x = credProcess(profile);
      try {
        // root: every capability up to CAP_LAST_CAP effective and permitted, none inheritable
        expect(x.capget(), profile).toBe(0);
        expect(x.sets(), profile).toEqual([full, full, 0n]);
        // a NULL data pointer is the version probe: 0 for a known version and for an unknown one, which gets _3
        expect(x.capget(V1, 0, 0)).toBe(0);
        expect(x.capget(0x12345678, 0, 0)).toBe(0);
        expect(x.get32(x.H)).toBe(V3);
        // with data: -EINVAL, and the header says _3 again
        expect(x.capget(0, 0)).toBe(-EINVAL);
        expect(x.get32(x.H)).toBe(V3);
        // an unreadable header: -EFAULT, even with a NULL data pointer
        expect(x.capget(V3, 0, 0, UNMAPPED)).toBe(-EFAULT);
        expect(x.capget(V3, 0, x.D, UNMAPPED)).toBe(-EFAULT);
        // an unknown version in a read-only header: the write back faults, -EFAULT (also for the probe)
        const ro = x.call(ARM_NR.mmap2, 0, 4096, 3, 0x22, 0xffffffff, 0) as number;
        x.put32(ro, 7, 0);
        expect(x.call(ARM_NR.mprotect, ro, 4096, 1)).toBe(0);
        expect(x.call(ARM_NR.capget, ro, 0)).toBe(-EFAULT);
        expect(x.call(ARM_NR.capget, ro, x.D)).toBe(-EFAULT);
        // pid: negative -EINVAL, unknown -ESRCH, the caller's own id as 0, another process's sets
        expect(x.capget(V3, -1)).toBe(-EINVAL);
        expect(x.capget(V3, 99999)).toBe(-ESRCH);
        expect(x.capget(V3, x.proc.pid)).toBe(0);
        const other = x.system.syscalls.createProcess({ name: 'other', uid: 1000 });
        expect(x.capget(V3, other.pid)).toBe(0);
        expect(x.sets()).toEqual([0n, 0n, 0n]);
        // version 1: one 12-byte record (capabilities 0-31), the rest of the buffer untouched
        x.put32(x.D, ...new Array<number>(6).fill(0xaaaaaaaa));
        expect(x.capget(V1)).toBe(0);
        expect([x.get32(x.D), x.get32(x.D + 4), x.get32(x.D + 8), x.get32(x.D + 12)]).toEqual([0xffffffff, 0xffffffff, 0, 0xaaaaaaaa]);
        // version 2 as version 3
        expect(x.capget(V2)).toBe(0);
        expect(x.sets()).toEqual([full, full, 0n]);
        // an unwritable data pointer
        expect(x.capget(V3, 0, UNMAPPED)).toBe(-EFAULT);
      } finally {
        x.arm.engine.close();
      }
    }
  });

  it('capset: the pid, the faults, bits above CAP_LAST_CAP dropped, cap_capset\'s four -EPERM rules, and P1\'s drop and regain of CAP_IPC_LOCK', () => {
    for (const [profile, last] of [['rfc-v4', 36], ['mainline', 40]] as const) {
      const x = credProcess(profile);
      const full = capFullSet(last);
      try {
        // the fuzzer's P1: CAP_IPC_LOCK out of the effective set only, and back
        const noLock = full & ~capBit(CAP_IPC_LOCK);
        expect(x.capset(noLock, full, 0n), profile).toBe(0);
        expect(x.proc.capIpcLock).toBe(false);
        expect(x.statusCaps()).toBe(`Uid:\t0\t0\t0\t0 CapInh:\t0000000000000000 CapPrm:\t${full.toString(16).padStart(16, '0')} CapEff:\t${noLock.toString(16).padStart(16, '0')} CapBnd:\t${full.toString(16).padStart(16, '0')}${profile === 'mainline' ? ' CapAmb:\t0000000000000000' : ''}`);
        expect(x.capset(full, full, 0n)).toBe(0);
        expect(x.proc.capIpcLock).toBe(true);
        // bits above CAP_LAST_CAP are dropped before the rules: all 64 asked, the valid ones set
        expect(x.capset(INF64, INF64, 0n)).toBe(0);
        expect(x.capget()).toBe(0);
        expect(x.sets()).toEqual([full, full, 0n]);
        // the header: an unknown version -EINVAL (before the pid), a pid other than 0 or the caller's -EPERM
        expect(x.capset(full, full, 0n, 0, 12345)).toBe(-EINVAL);
        expect(x.capset(full, full, 0n, V3, x.proc.pid)).toBe(0);
        expect(x.capset(full, full, 0n, V3, x.proc.pid + 1)).toBe(-EPERM);
        // unreadable data (after the pid check): -EFAULT
        x.put32(x.H, V3, 0);
        expect(x.call(ARM_NR.capset, x.H, UNMAPPED)).toBe(-EFAULT);
        expect(x.call(ARM_NR.capset, UNMAPPED, x.D)).toBe(-EFAULT);
        // version 1 passes capabilities 0-31 only: the upper word is 0, so the sets lose 32 and up
        expect(x.capset(full, full, 0n, V1)).toBe(0);
        expect(x.capget()).toBe(0);
        expect(x.sets()).toEqual([0xffffffffn, 0xffffffffn, 0n]);
        // permitted within the old permitted: the upper capabilities cannot come back
        expect(x.capset(full, full, 0n)).toBe(-EPERM);
        const p = 0xffffffffn;
        // effective within the new permitted
        expect(x.capset(p, p & ~capBit(3), 0n)).toBe(-EPERM);
        // inheritable beyond old inheritable | permitted: allowed with CAP_SETPCAP effective ...
        expect(x.capset(p, p, capBit(33))).toBe(0);
        // ... and refused without it (cap_inh_is_capped)
        const noSetpcap = p & ~capBit(CAP_SETPCAP);
        expect(x.capset(noSetpcap, p, capBit(33))).toBe(0);
        expect(x.capset(noSetpcap, p, capBit(33) | capBit(34))).toBe(-EPERM);
        // within old inheritable | permitted it is fine without CAP_SETPCAP
        expect(x.capset(noSetpcap, p, capBit(33) | capBit(5))).toBe(0);
        // inheritable within old inheritable | bounding, even with CAP_SETPCAP (the model has no
        // PR_CAPBSET_DROP: the test narrows the bounding set itself)
        expect(x.capset(p, p, capBit(33) | capBit(5))).toBe(0);
        x.proc.capBounding &= ~capBit(35);
        expect(x.capset(p, p, capBit(33) | capBit(35))).toBe(-EPERM);
        expect(x.capget()).toBe(0);
        expect(x.sets()).toEqual([p, p, capBit(33) | capBit(5)]);
      } finally {
        x.arm.engine.close();
      }
    }
  });

  it('setuid32 from root clears the permitted and effective sets (capget, /proc/self/status); no way back; without CAP_SETUID only the own uid; -1 -EINVAL; getresuid32', () => {
    for (const [profile, bnd, amb] of [['rfc-v4', '0000001fffffffff', ''], ['mainline', '000001ffffffffff', ' CapAmb:\t0000000000000000']] as const) {
      const x = credProcess(profile);
      try {
        // without CAP_SETUID in the effective set, root may only name its own uid
        const full = x.proc.capPermitted;
        expect(x.capset(full & ~capBit(CAP_SETUID), full, 0n), profile).toBe(0);
        expect(x.call(ARM_NR.setuid32, 1000)).toBe(-EPERM);
        expect(x.call(ARM_NR.setuid32, 0)).toBe(0);
        expect(x.capset(full, full, capBit(4))).toBe(0);
        // -1 is no uid: -EINVAL before any permission (also the 16-bit call's 0xffff)
        expect(x.call(ARM_NR.setuid32, 0xffffffff)).toBe(-EINVAL);
        expect(x.call(ARM_NR.setuid, 0xffff)).toBe(-EINVAL);
        // root to 1000: every uid, permitted and effective cleared, inheritable and bounding kept
        expect(x.call(ARM_NR.setuid32, 1000)).toBe(0);
        expect([x.call(ARM_NR.getuid32), x.call(ARM_NR.geteuid32), x.call(ARM_NR.getuid)]).toEqual([1000, 1000, 1000]);
        expect(x.call(ARM_NR.getresuid32, x.page + 0x500, x.page + 0x504, x.page + 0x508)).toBe(0);
        expect([x.get32(x.page + 0x500), x.get32(x.page + 0x504), x.get32(x.page + 0x508)]).toEqual([1000, 1000, 1000]);
        expect(x.capget()).toBe(0);
        expect(x.sets()).toEqual([0n, 0n, capBit(4)]);
        expect(x.statusCaps()).toBe(`Uid:\t1000\t1000\t1000\t1000 CapInh:\t0000000000000010 CapPrm:\t0000000000000000 CapEff:\t0000000000000000 CapBnd:\t${bnd}${amb}`);
        expect(x.proc.capIpcLock).toBe(false);
        // no way back: root, a capability, or another uid; the own uid is accepted
        expect(x.call(ARM_NR.setuid32, 0)).toBe(-EPERM);
        expect(x.call(ARM_NR.setuid, 0)).toBe(-EPERM);
        expect(x.call(ARM_NR.setuid32, 1001)).toBe(-EPERM);
        expect(x.call(ARM_NR.setuid32, 1000)).toBe(0);
        expect(x.capset(capBit(CAP_IPC_LOCK), capBit(CAP_IPC_LOCK), 0n)).toBe(-EPERM);
        // a uid of more than 16 bits (root's setuid32): the 16-bit getuid answers overflowuid
        const big = credProcess(profile);
        try {
          expect(big.call(ARM_NR.setuid32, 100000)).toBe(0);
          expect([big.call(ARM_NR.getuid32), big.call(ARM_NR.getuid), big.call(ARM_NR.geteuid)]).toEqual([100000, 65534, 65534]);
        } finally {
          big.arm.engine.close();
        }
        // getresuid32: put_user in order, the first fault ends it
        x.put32(x.page + 0x500, 0, 0);
        expect(x.call(ARM_NR.getresuid32, x.page + 0x500, UNMAPPED, x.page + 0x504)).toBe(-EFAULT);
        expect([x.get32(x.page + 0x500), x.get32(x.page + 0x504)]).toEqual([1000, 0]);
        expect(x.call(ARM_NR.getresgid32, x.page + 0x500, x.page + 0x504, x.page + 0x508)).toBe(0);
        expect(x.get32(x.page + 0x508)).toBe(0);
      } finally {
        x.arm.engine.close();
      }
    }
  });

  it('prlimit64, setrlimit, ugetrlimit: do_prlimit\'s checks in order, both widths of RLIM_INFINITY, the old limits written last, another process, RLIMIT_CPU 0 per era', () => {
    for (const [profile, cpuZero] of [['rfc-v4', 1], ['mainline', 0]] as const) {
      const x = credProcess(profile);
      try {
        const { prlimit, getrlimit } = x;
        // the defaults: STACK 8 MiB/unlimited, NOFILE 1024, MEMLOCK 64 KiB, the rest unlimited
        expect(getrlimit(3), profile).toEqual([8 << 20, 0xffffffff]);
        expect(getrlimit(RLIMIT_NOFILE)).toEqual([1024, 1024]);
        expect(prlimit(0, RLIMIT_MEMLOCK, null)).toBe(0);
        expect(x.oldLimits()).toEqual([65536n, 65536n]);
        expect(prlimit(0, RLIMIT_CORE, null)).toBe(0);
        expect(x.oldLimits()).toEqual([INF64, INF64]);
        // resource past RLIM_NLIMITS: -EINVAL (prlimit64, ugetrlimit, setrlimit)
        expect(prlimit(0, 16, null)).toBe(-EINVAL);
        expect(getrlimit(16)).toBe(-EINVAL);
        x.put32(x.page + 0x600, 1, 2);
        expect(x.call(ARM_NR.setrlimit, 16, x.page + 0x600)).toBe(-EINVAL);
        // the new limits are copied in first: -EFAULT before the pid's -ESRCH and the resource's -EINVAL
        expect(x.call(ARM_NR.prlimit64, 99999, 16, UNMAPPED, 0)).toBe(-EFAULT);
        expect(x.call(ARM_NR.setrlimit, 16, UNMAPPED)).toBe(-EFAULT);
        expect(prlimit(99999, RLIMIT_MEMLOCK, null)).toBe(-ESRCH);
        // soft above hard -EINVAL; NOFILE's hard limit above sysctl_nr_open -EPERM (even for root, even unlimited)
        expect(prlimit(0, RLIMIT_MEMLOCK, [3n, 2n])).toBe(-EINVAL);
        expect(prlimit(0, RLIMIT_NOFILE, [1024n, 1048577n])).toBe(-EPERM);
        expect(prlimit(0, RLIMIT_NOFILE, [1024n, INF64])).toBe(-EPERM);
        expect(prlimit(0, RLIMIT_NOFILE, [1024n, 1048576n])).toBe(0);
        expect(x.oldLimits()).toEqual([1024n, 1024n]);
        // a new limit is what a later read returns; the old ones come back in the same call
        expect(prlimit(0, RLIMIT_MEMLOCK, [8192n, 16384n])).toBe(0);
        expect(x.oldLimits()).toEqual([65536n, 65536n]);
        expect(x.proc.rlimitMemlock).toBe(8192);
        expect(getrlimit(RLIMIT_MEMLOCK)).toEqual([8192, 16384]);
        // the old limits are written last: a fault there is -EFAULT with the new limits stored
        expect(prlimit(0, RLIMIT_MEMLOCK, [4096n, 16384n], UNMAPPED)).toBe(-EFAULT);
        expect(getrlimit(RLIMIT_MEMLOCK)).toEqual([4096, 16384]);
        // 64-bit values from 2^32 - 1 up are the 32-bit kernel's RLIM_INFINITY; it reads back as 2^64 - 1
        expect(prlimit(0, RLIMIT_CORE, [0xfffffffen, 2n ** 32n + 5n])).toBe(0);
        expect(prlimit(0, RLIMIT_CORE, null)).toBe(0);
        expect(x.oldLimits()).toEqual([0xfffffffen, INF64]);
        expect(getrlimit(RLIMIT_CORE)).toEqual([0xfffffffe, 0xffffffff]);
        // setrlimit's 32-bit struct: 0xffffffff is RLIM_INFINITY
        x.put32(x.page + 0x600, 100, 0xffffffff);
        expect(x.call(ARM_NR.setrlimit, RLIMIT_CORE, x.page + 0x600)).toBe(0);
        expect(prlimit(0, RLIMIT_CORE, null)).toBe(0);
        expect(x.oldLimits()).toEqual([100n, INF64]);
        // RLIMIT_CPU soft 0: 3.14 stores 1 second, v6.12 0 (capability rlimitCpuZero)
        expect(prlimit(0, RLIMIT_CPU, [0n, 10n])).toBe(0);
        expect(getrlimit(RLIMIT_CPU)).toEqual([cpuZero, 10]);
        // another process: root may (CAP_SYS_RESOURCE), and its limit changes
        const other = x.system.syscalls.createProcess({ name: 'other', uid: 1000 });
        const same = x.system.syscalls.createProcess({ name: 'same' });
        expect(prlimit(other.pid, RLIMIT_MEMLOCK, [4096n, 4096n])).toBe(0);
        expect(other.rlimitMemlock).toBe(4096);
        // without CAP_SYS_RESOURCE: lowering and raising the soft limit within the hard one are
        // fine, raising the hard limit is -EPERM; another uid's process -EPERM, the same uid's fine
        const full = x.proc.capPermitted;
        expect(x.capset(full & ~capBit(CAP_SYS_RESOURCE), full, 0n)).toBe(0);
        expect(prlimit(0, RLIMIT_MEMLOCK, [16384n, 16384n])).toBe(0);
        expect(prlimit(0, RLIMIT_MEMLOCK, [16384n, 16385n])).toBe(-EPERM);
        expect(prlimit(0, RLIMIT_MEMLOCK, [0n, 8192n])).toBe(0);
        x.put32(x.page + 0x600, 8192, 8193);
        expect(x.call(ARM_NR.setrlimit, RLIMIT_MEMLOCK, x.page + 0x600)).toBe(-EPERM);
        expect(prlimit(other.pid, RLIMIT_MEMLOCK, null)).toBe(-EPERM);
        expect(prlimit(same.pid, RLIMIT_MEMLOCK, [4096n, 4096n])).toBe(0);
        expect(same.rlimitMemlock).toBe(4096);
      } finally {
        x.arm.engine.close();
      }
    }
  });

  it('fork copies the credentials and limits; clone(CLONE_PARENT): the caller\'s parent gets the child, -EINVAL from init, init adopts it when the caller has no parent in the model', () => {
    const x = credProcess('mainline');
    const closeAll = (): void => {
      for (const p of x.arm.abi.tree) p.closeEngine();
      x.arm.engine.close();
    };
    const syscall = (p: LinuxAbi, nr: number, ...regs: number[]): number => {
      const a = new Uint32Array(7);
      regs.forEach((v, i) => {
        a[i] = v >>> 0;
      });
      return p.syscall(p.threads[0]!, nr, a) as number;
    };
    try {
      const full = x.proc.capPermitted;
      expect(x.capset(full & ~capBit(CAP_IPC_LOCK), full, capBit(2))).toBe(0);
      expect(x.prlimit(0, RLIMIT_MEMLOCK, [8192n, 16384n])).toBe(0);
      // a process the kernel treats as init (SIGNAL_UNKILLABLE) may not make siblings
      x.arm.abi.signalUnkillable = true;
      expect(x.call(ARM_NR.clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0)).toBe(-EINVAL);
      x.arm.abi.signalUnkillable = false;
      // fork: the child has the caller's sets and limits
      const cpid = x.call(ARM_NR.fork) as number;
      expect(cpid).toBeGreaterThan(0);
      const child = x.arm.abi.children[0]!;
      expect([child.proc.pid, child.proc.capEffective, child.proc.capPermitted, child.proc.capInheritable, child.proc.capIpcLock]).toEqual([cpid, full & ~capBit(CAP_IPC_LOCK), full, capBit(2), false]);
      expect(child.proc.rlimit(RLIMIT_MEMLOCK)).toEqual({ cur: 8192, max: 16384 });
      // the child's clone(CLONE_PARENT): a sibling, the caller's child, with the child's credentials
      const gpid = syscall(child, ARM_NR.clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
      expect(gpid).toBeGreaterThan(cpid);
      expect(x.arm.abi.children.map((c) => c.proc.pid)).toEqual([cpid, gpid]);
      expect(child.children).toEqual([]);
      const sib = x.arm.abi.children[1]!;
      expect(syscall(sib, ARM_NR.getppid)).toBe(x.proc.pid);
      expect(sib.proc.capIpcLock).toBe(false);
      expect(syscall(child, ARM_NR.wait4, -1, 0, WNOHANG, 0)).toBe(-ECHILD);
      expect(syscall(child, ARM_NR.wait4, gpid, 0, WNOHANG, 0)).toBe(-ECHILD);
      expect(x.call(ARM_NR.wait4, gpid, 0, WNOHANG, 0)).toBe(0);
      // the board-started process's real parent is init: its CLONE_PARENT child goes to init
      // (getppid 1) and no process of the run can wait for it
      const opid = x.call(ARM_NR.clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0) as number;
      expect(opid).toBeGreaterThan(gpid);
      const orphan = x.arm.abi.tree.find((p) => p.proc.pid === opid)!;
      expect([orphan.parent, syscall(orphan, ARM_NR.getppid)]).toEqual([null, 1]);
      expect(x.call(ARM_NR.wait4, opid, 0, WNOHANG, 0)).toBe(-ECHILD);
      expect(x.arm.abi.children.length).toBe(2);
    } finally {
      closeAll();
    }
  });
});

describe.skipIf(skip)('guest-tests/c/creds.c: the fuzzer\'s credentials from C, every worker the coordinator\'s child', () => {
  it('P1 root without CAP_IPC_LOCK under a 64 KiB RLIMIT_MEMLOCK set by prlimit64 (MAP_DMA pins), P2 uid 1000, P0 cannot wait for its CLONE_PARENT siblings: 3.14 and v6.12', () => {
    for (const [profile, full, noLock] of [['rfc-v4', '0000001fffffffff', '0000001fffffbfff'], ['mainline', '000001ffffffffff', '000001ffffffbfff']] as const) {
      const r = runElf({ elf: guestBinary('creds'), args: ['/dev/vfio/0'], profile });
      expect(r.exitStatus, `${profile}: ${r.exitReport}\n${r.stdout}`).toBe(0);
      const lines = r.stdout.split('\n').filter((l) => l.length > 0);
      const of = (who: string): string[] => lines.filter((l) => l.startsWith(`${who}: `)).map((l) => l.slice(who.length + 2));
      expect(of('P0'), profile).toEqual([`CapPrm ${full} CapEff ${full} CapBnd ${full}`, 'waitpid(-1) = -ECHILD']);
      expect(of('P1'), profile).toEqual([
        'parent is the coordinator 1',
        'prlimit(MEMLOCK, 64 KiB) = 0, was 65536/65536',
        'capset without CAP_IPC_LOCK = 0',
        `CapPrm ${full} CapEff ${noLock} CapBnd ${full}`,
        'SET_CONTAINER = 0',
        'SET_IOMMU(TYPE1) = 0',
        // 32 pages pass the 16-page limit, 16 fit; with CAP_IPC_LOCK back the limit does not apply
        'MAP_DMA 32 pages = -ENOMEM',
        'MAP_DMA 16 pages = 0',
        'capset with CAP_IPC_LOCK = 0',
        'MAP_DMA 16 more pages = 0',
        'VmLck      128 kB',
        // check_kill_permission: root signals its uid-1000 child with CAP_KILL only
        'kill(uid-1000 child, 0) = 0, capset without CAP_KILL = 0, kill(child, 0) = -EPERM, SIGKILL = -EPERM',
        'CAP_KILL back = 0, SIGKILL = 0, child killed by 9',
      ]);
      expect(of('P2'), profile).toEqual([
        'parent is the coordinator 1',
        'setrlimit(MEMLOCK, 64 KiB) = 0',
        'setuid(1000) = 0',
        'uids 1000 1000 1000',
        'capget effective 0000000000000000 permitted 0000000000000000',
        `CapPrm 0000000000000000 CapEff 0000000000000000 CapBnd ${full}`,
        // check_kill_permission: root's process -EPERM for a uid-1000 caller without CAP_KILL,
        // SIGCONT within the session; kill(-1) skips them and answers 0 (the coordinator lives on)
        'kill(coordinator, 0) = -EPERM, SIGUSR1 = -EPERM, SIGCONT = 0, kill(self, 0) = 0',
        'kill(-1, SIGTERM) = 0, tgkill(coordinator, coordinator, 0) = -EPERM',
        'capset with CAP_IPC_LOCK = -EPERM',
        'setuid(0) = -EPERM',
        'setrlimit(MEMLOCK, hard 128 KiB) = -EPERM',
      ]);
      // the coordinator reaps all three (P0 10, P1 11, P2 12), then ECHILD
      const reaped = of('coordinator');
      expect(reaped.slice(0, 3).sort(), profile).toEqual(['reaped status 10', 'reaped status 11', 'reaped status 12']);
      expect(reaped.slice(3)).toEqual(['3 children, then ECHILD']);
      expect(r.unknownSyscalls).toEqual({});
      // glibc's prlimit and setrlimit are prlimit64 (369); setuid is setuid32 (213): P2's two and
      // P1's kill child's; capset (185): P1's two, P2's, and P1's two around CAP_KILL
      expect([r.syscallsByNr['369'], r.syscallsByNr['213'], r.syscallsByNr['185']]).toEqual([3, 3, 5]);
    }
  });
});
