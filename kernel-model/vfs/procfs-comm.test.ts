import { describe, expect, it } from 'vitest';
import type { GuestThread } from '../../emulator/cpu/cpu.js';
import { System } from '../../tools/system/system.js';
import { EACCES, EINVAL, ENOENT, O_RDONLY, O_RDWR, O_WRONLY } from '../uapi/index.js';
import { User } from '../vfio/platform/testing/user.js';
import { File } from './file.js';

/**
 * /proc/<pid>/comm, task/<tid>/comm, /proc/<pid>/root and the links of a process without an
 * executable (kernel-model/vfs/procfs.ts, procfs-comm.ts; fs/proc/base.c comm_show,
 * comm_write, proc_root_link, proc_exe_link, proc_pid_readlink, proc_pid_get_link /
 * 3.14 proc_pid_follow_link). The stub CPU's processes are driven from outside; the ARM
 * ABI's side (prctl, clone, execve) is tools/unicorn/proccomm.test.ts.
 */
const ERAS = [['rfc-v4', '3.14'], ['mainline', 'v6.12']] as const;

const statusName = (u: User, path: string): string | undefined => String(u.cat(path)).split('\n').find((l) => l.startsWith('Name:'));

/** write `text` to `path` through one fd: the write's answer (or open's error) */
function write(u: User, path: string, text: string): number {
  const fd = u.open(path, O_WRONLY);
  if (fd < 0) return fd;
  const r = u.call('write', [fd, u.str(text), text.length]);
  u.call('close', [fd]);
  return r;
}

describe('/proc/<pid>/comm, root and exe links (fs/proc/base.c)', () => {
  for (const [profile, era] of ERAS) {
    it(`${era}: comm is the name and a newline, 0644; its writers are the thread group (comm_write: -EINVAL for another, EACCES for another uid); the text up to 15 bytes, newline kept; status Name: escapes it`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a-long-process-name');
      const b = new User(sys, 'b');
      const c = new User(sys, 'c', { uid: 1000 });
      // TASK_COMM_LEN - 1 characters
      expect(a.cat('/proc/self/comm')).toBe('a-long-process-\n');
      expect(a.cat(`/proc/${b.proc.pid}/comm`)).toBe('b\n');
      const st = sys.vfs.walk(`/proc/${a.proc.pid}/comm`, true);
      expect(typeof st === 'number' ? st : st.node.kind === 'file' ? st.node.mode : -1).toBe(0o644);
      // another thread group: root opens it (CAP_DAC_OVERRIDE) and the write is -EINVAL
      expect(write(b, `/proc/${a.proc.pid}/comm`, 'x')).toBe(-EINVAL);
      expect(a.cat('/proc/self/comm')).toBe('a-long-process-\n');
      // another uid: the mode refuses the open
      expect(c.open(`/proc/${a.proc.pid}/comm`, O_WRONLY)).toBe(-EACCES);
      expect(c.open(`/proc/${a.proc.pid}/comm`, O_RDONLY)).toBeGreaterThanOrEqual(0);
      // its own: the count is answered whole, 15 bytes taken, the newline kept
      expect(write(a, '/proc/self/comm', 'renamed\n')).toBe(8);
      expect(a.cat('/proc/self/comm')).toBe('renamed\n\n');
      expect(statusName(a, '/proc/self/status')).toBe('Name:\trenamed\\n');
      expect(write(a, '/proc/self/comm', 'abcdefghijklmnopqrstuvwxyz')).toBe(26);
      expect(a.cat('/proc/self/comm')).toBe('abcdefghijklmno\n');
      expect(a.proc.name).toBe('abcdefghijklmno');
      expect(write(a, '/proc/self/comm', 'back\\slash')).toBe(10);
      expect(statusName(a, '/proc/self/status')).toBe('Name:\tback\\\\slash');
      // the comm ends at a NUL of the buffer (strscpy)
      expect(write(a, '/proc/self/comm', 'ab\0cd')).toBe(5);
      expect(a.cat('/proc/self/comm')).toBe('ab\n');
    });

    it(`${era}: comm_write leaves the position; the read after it starts where it was`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const fd = a.open('/proc/self/comm', O_RDWR);
      expect(a.call('write', [fd, a.str('xyz'), 3])).toBe(3);
      const buf = a.page + 0x800;
      const n = a.call('read', [fd, buf, 64]);
      expect(new TextDecoder().decode(a.mem.readBytes(buf, n))).toBe('xyz\n');
      // the read moved it (seq_read)
      expect(a.call('read', [fd, buf, 64])).toBe(0);
    });

    it(`${era}: task/<tid>/comm is the thread's own; a write there renames that thread only`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const pid = a.proc.pid;
      const other: GuestThread = { tid: pid * 10 + 1, name: 'x', state: 'runnable', run: () => ({ kind: 'exit' }) as never };
      a.proc.threads.push({ tid: pid, name: 'a', state: 'runnable', run: () => ({ kind: 'exit' }) as never }, other);
      // clone copies the creator's comm (lifecycle.ts); a thread the model never named has the leader's
      expect(a.cat(`/proc/self/task/${other.tid}/comm`)).toBe('a\n');
      expect(write(a, `/proc/self/task/${other.tid}/comm`, 'worker')).toBe(6);
      expect(a.cat(`/proc/self/task/${other.tid}/comm`)).toBe('worker\n');
      expect(a.cat(`/proc/${other.tid}/comm`)).toBe('worker\n');
      expect(statusName(a, `/proc/self/task/${other.tid}/status`)).toBe('Name:\tworker');
      expect(a.cat('/proc/self/comm')).toBe('a\n');
      expect(a.cat(`/proc/self/task/${pid}/comm`)).toBe('a\n');
      expect(statusName(a, '/proc/self/status')).toBe('Name:\ta');
    });

    it(`${era}: /proc/<pid>/root is a link to "/" (proc_root_link; no chroot here); following it reaches the root`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const b = new User(sys, 'b', { uid: 1000 });
      expect(a.readlink('/proc/self/root')).toBe('/');
      expect(a.readlink(`/proc/${b.proc.pid}/root`)).toBe('/');
      expect(a.list('/proc/self/root/proc/self/root/dev/vfio')).toEqual(a.list('/dev/vfio'));
      const w = sys.vfs.walk(`/proc/${a.proc.pid}/task/${a.proc.pid}/root`, false);
      expect(typeof w === 'number' ? w : w.node.kind).toBe('link');
    });

    it(`${era}: a process without mm->exe_file (the stub CPU's): exe is found (lstat, listing), its readlink, stat and open -ENOENT (proc_exe_link)`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      expect(a.list('/proc/self')).toContain('exe');
      const l = sys.vfs.walk(`/proc/${a.proc.pid}/exe`, false);
      expect(typeof l === 'number' ? l : l.node.kind).toBe('link');
      expect(sys.vfs.walk(`/proc/${a.proc.pid}/exe`, true)).toBe(-ENOENT);
      expect(a.readlink('/proc/self/exe')).toBe(-ENOENT);
      expect(a.open('/proc/self/exe', O_RDONLY)).toBe(-ENOENT);
      // with an exe_file: its path (the one source, Process.exeFile)
      a.proc.setExeFile(new File({ name: 'execfs' }, null, 0, '/bin/prog'));
      expect(a.readlink('/proc/self/exe')).toBe('/bin/prog');
      a.proc.setExeFile(null);
      expect(a.readlink('/proc/self/exe')).toBe(-ENOENT);
    });

    it(`${era}: a zombie's cwd, root and exe are listed and found; their readlink is -ENOENT (no fs, no mm); its comm stays`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const z = new User(sys, 'zed');
      z.proc.setExeFile(new File({ name: 'execfs' }, null, 0, '/bin/zed'));
      const pid = z.proc.pid;
      // what the ARM ABI's exit does for a process whose parent has not reaped it
      z.proc.teardown();
      sys.syscalls.processes.delete(pid);
      sys.syscalls.zombies.set(pid, z.proc);
      expect(a.list(`/proc/${pid}`)).toEqual(['.', '..', 'task', 'fd', 'fdinfo', 'status', 'comm', 'maps', 'cwd', 'root', 'exe']);
      for (const link of ['cwd', 'root', 'exe']) {
        const l = sys.vfs.walk(`/proc/${pid}/${link}`, false);
        expect(typeof l === 'number' ? l : l.node.kind).toBe('link');
        expect(a.readlink(`/proc/${pid}/${link}`)).toBe(-ENOENT);
      }
      expect(a.cat(`/proc/${pid}/comm`)).toBe('zed\n');
      sys.syscalls.zombies.delete(pid);
      expect(a.cat(`/proc/${pid}/comm`)).toBe(-ENOENT);
    });
  }
});
