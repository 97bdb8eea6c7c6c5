import { describe, expect, it } from 'vitest';
import { System } from '../../tools/system/system.js';
import { capBit, CAP_SYS_PTRACE } from '../process/cred.js';
import { EACCES, ENOENT } from '../uapi/index.js';
import { User } from '../vfio/platform/testing/user.js';
import { File } from './file.js';

/**
 * proc_fd_access_allowed before the links of /proc/<pid> (kernel-model/vfs/procfs-access.ts;
 * kernel/ptrace.c __ptrace_may_access, security/commoncap.c cap_ptrace_access_check), per the
 * profile's `procPtraceAccess`. The C side is tools/unicorn/proccomm.test.ts.
 */
const ERAS = [['rfc-v4', '3.14'], ['mainline', 'v6.12']] as const;

describe('/proc/<pid> links: ptrace_may_access (proc_fd_access_allowed)', () => {
  for (const [profile, era] of ERAS) {
    it(`${era}: another uid is refused (-EACCES, before proc_get_link's answer); the same uid is let through; root has CAP_SYS_PTRACE`, () => {
      const sys = new System({ profile });
      const root = new User(sys, 'root');
      const u1 = new User(sys, 'u1', { uid: 1000 });
      const u2 = new User(sys, 'u2', { uid: 1000 });
      root.proc.setExeFile(new File({ name: 'execfs' }, null, 0, '/bin/r'));
      for (const l of ['cwd', 'root', 'exe']) expect(u1.readlink(`/proc/${root.proc.pid}/${l}`)).toBe(-EACCES);
      // following them too (proc_pid_get_link)
      expect(u1.list(`/proc/${root.proc.pid}/root/dev`)).toBe(-EACCES);
      expect(u1.readlink(`/proc/${u2.proc.pid}/cwd`)).toBe('/');
      expect(u1.readlink(`/proc/${u2.proc.pid}/exe`)).toBe(-ENOENT);
      expect(root.readlink(`/proc/${u1.proc.pid}/root`)).toBe('/');
      expect(u1.readlink('/proc/self/root')).toBe('/');
      // a third uid with no more capabilities than the target: the uid test alone refuses it
      const u3 = new User(sys, 'u3', { uid: 2000 });
      expect(u3.readlink(`/proc/${u1.proc.pid}/cwd`)).toBe(-EACCES);
    });

    it(`${era}: a target that is not dumpable (setuid, PR_SET_DUMPABLE 0) needs CAP_SYS_PTRACE; its own group is always let through`, () => {
      const sys = new System({ profile });
      const root = new User(sys, 'root');
      const u1 = new User(sys, 'u1', { uid: 1000 });
      const u2 = new User(sys, 'u2', { uid: 1000 });
      u2.proc.dumpable = false;
      expect(u1.readlink(`/proc/${u2.proc.pid}/cwd`)).toBe(-EACCES);
      expect(u2.readlink('/proc/self/cwd')).toBe('/');
      expect(root.readlink(`/proc/${u2.proc.pid}/cwd`)).toBe('/');
    });

    it(`${era}: the target's permitted set must be within the caller's ${era === '3.14' ? 'permitted' : 'effective'} set, else CAP_SYS_PTRACE`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const b = new User(sys, 'b');
      // a keeps every capability permitted and drops CAP_SYS_PTRACE and CAP_IPC_LOCK from its effective set
      a.proc.capEffective = a.proc.capPermitted & ~capBit(CAP_SYS_PTRACE) & ~capBit(14);
      expect(a.readlink(`/proc/${b.proc.pid}/root`)).toBe(era === '3.14' ? '/' : -EACCES);
      // with CAP_SYS_PTRACE back in its effective set, both let it through
      a.proc.capEffective |= capBit(CAP_SYS_PTRACE);
      expect(a.readlink(`/proc/${b.proc.pid}/root`)).toBe('/');
      // fd/N links take the same check
      const fd = b.open('/dev/vfio/vfio');
      a.proc.capEffective &= ~capBit(CAP_SYS_PTRACE);
      expect(a.readlink(`/proc/${b.proc.pid}/fd/${fd}`)).toBe(era === '3.14' ? '/dev/vfio/vfio' : -EACCES);
    });

    it(`${era}: a zombie's links for a caller without CAP_SYS_PTRACE: ${era === '3.14' ? '-EACCES (no mm: not dumpable)' : '-ENOENT (no mm: no dumpable test)'}`, () => {
      const sys = new System({ profile });
      const u1 = new User(sys, 'u1', { uid: 1000 });
      const z = new User(sys, 'z', { uid: 1000 });
      const pid = z.proc.pid;
      z.proc.teardown();
      sys.syscalls.processes.delete(pid);
      sys.syscalls.zombies.set(pid, z.proc);
      for (const l of ['cwd', 'root', 'exe']) expect(u1.readlink(`/proc/${pid}/${l}`)).toBe(era === '3.14' ? -EACCES : -ENOENT);
    });
  }
});
