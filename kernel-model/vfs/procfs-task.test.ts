import { describe, expect, it } from 'vitest';
import type { GuestThread, ThreadState } from '../../emulator/cpu/cpu.js';
import { System } from '../../tools/system/system.js';
import { ENOENT, O_CREAT, O_RDONLY, O_RDWR } from '../uapi/index.js';
import { User } from '../vfio/platform/testing/user.js';

/**
 * /proc/<pid>/task, /proc/<tid>, /proc/thread-self and /proc/<pid>/exe's d_path
 * (kernel-model/vfs/procfs.ts; fs/proc/base.c proc_task_lookup, proc_task_readdir,
 * tid_base_stuff, proc_pid_lookup; fs/proc/thread_self.c; proc_exe_link). The stub CPU's
 * processes are driven from outside here: their threads are stand-ins with made-up tids
 * (pid * 10 + n, numbers no process of the test has; real tids come from the pid space, as the
 * last test shows; the ARM ABI's real threads are in tools/unicorn/proctask.test.ts).
 */

/** a thread of the process as the scheduler sees it (tid, state) */
function thread(tid: number, state: ThreadState = 'runnable'): GuestThread {
  return { tid, name: `t${tid}`, state, run: () => ({ kind: 'exit' }) as never };
}

const line = (text: string | number, key: string): string | undefined => String(text).split('\n').find((l) => l.startsWith(`${key}:`));

const ERAS = [['rfc-v4', '3.14'], ['mainline', 'v6.12']] as const;

describe('/proc/<pid>/task, /proc/<tid>, /proc/thread-self (fs/proc/base.c, thread_self.c)', () => {
  for (const [profile, era] of ERAS) {
    it(`${era}: task/ lists the leader then the live threads; task/<tid>/ has tid_base_stuff's entries; status is the thread's`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const b = new User(sys, 'b');
      const pid = b.proc.pid;
      b.proc.threads.push(thread(pid), thread(pid * 10 + 1, 'blocked'), thread(pid * 10 + 2), thread(pid * 10 + 3, 'exited'));
      // the leader first (tid = tgid), then the others in creation order; an ended one is gone
      expect(a.list(`/proc/${pid}/task`)).toEqual(['.', '..', String(pid), String(pid * 10 + 1), String(pid * 10 + 2)]);
      // tid_base_stuff: tgid_base_stuff without "task"
      expect(a.list(`/proc/${pid}/task/${pid * 10 + 1}`)).toEqual(['.', '..', 'fd', 'fdinfo', 'status', 'comm', 'maps', 'cwd', 'root', 'exe']);
      const st = a.cat(`/proc/${pid}/task/${pid * 10 + 1}/status`);
      expect([line(st, 'Tgid'), line(st, 'Pid'), line(st, 'State')]).toEqual([`Tgid:\t${pid}`, `Pid:\t${pid * 10 + 1}`, 'State:\tS (sleeping)']);
      expect(line(a.cat(`/proc/${pid}/task/${pid}/status`), 'Pid')).toBe(`Pid:\t${pid}`);
      expect(line(a.cat(`/proc/${pid}/task/${pid * 10 + 2}/status`), 'State')).toBe('State:\tR (running)');
      // the threads share the fd table, cwd and mm: the same fd/ and cwd
      expect(a.list(`/proc/${pid}/task/${pid * 10 + 2}/fd`)).toEqual(a.list(`/proc/${pid}/fd`));
      expect(a.readlink(`/proc/${pid}/task/${pid * 10 + 2}/cwd`)).toBe('/');
      // an ended thread, another group's thread, a non-number: -ENOENT (same_thread_group)
      expect(a.cat(`/proc/${pid}/task/${pid * 10 + 3}/status`)).toBe(-ENOENT);
      expect(a.cat(`/proc/${a.proc.pid}/task/${pid * 10 + 1}/status`)).toBe(-ENOENT);
      expect(a.list(`/proc/${pid}/task/x`)).toBe(-ENOENT);
      // the leader ended while others run: still listed, a zombie
      b.proc.threads[0]!.state = 'exited';
      expect(a.list(`/proc/${pid}/task`)).toEqual(['.', '..', String(pid), String(pid * 10 + 1), String(pid * 10 + 2)]);
      expect(line(a.cat(`/proc/${pid}/status`), 'State')).toBe('State:\tZ (zombie)');
    });

    it(`${era}: /proc/<tid> of a thread that is not a leader: found (proc_pid_lookup), not listed; its status is the thread's, its task/ the group's`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const pid = a.proc.pid;
      const tid = pid * 10 + 1;
      a.proc.threads.push(thread(pid), thread(tid));
      expect(a.list('/proc')).not.toContain(String(tid));
      expect(a.list(`/proc/${tid}`)).toEqual(['.', '..', 'task', 'fd', 'fdinfo', 'status', 'comm', 'maps', 'cwd', 'root', 'exe']);
      const st = a.cat(`/proc/${tid}/status`);
      expect([line(st, 'Tgid'), line(st, 'Pid')]).toEqual([`Tgid:\t${pid}`, `Pid:\t${tid}`]);
      expect(a.list(`/proc/${tid}/task`)).toEqual(['.', '..', String(pid), String(tid)]);
      a.proc.threads[1]!.state = 'exited';
      expect(a.cat(`/proc/${tid}/status`)).toBe(-ENOENT);
    });

    it(`${era}: /proc/thread-self ${era === 'v6.12' ? 'is a link to <tgid>/task/<tid> of the caller' : 'does not exist (v3.17)'}`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const pid = a.proc.pid;
      if (era === '3.14') {
        expect(a.readlink('/proc/thread-self')).toBe(-ENOENT);
        expect(a.cat('/proc/thread-self/status')).toBe(-ENOENT);
        expect(a.list('/proc')).not.toContain('thread-self');
        return;
      }
      expect(a.readlink('/proc/thread-self')).toBe(`${pid}/task/${pid}`);
      expect(line(a.cat('/proc/thread-self/status'), 'Pid')).toBe(`Pid:\t${pid}`);
      // a call made by a thread that is not the leader: its tid
      const th = thread(pid * 10 + 1);
      a.proc.threads.push(thread(pid), th);
      const buf = a.page + 0x800;
      const n = sys.syscalls.invoke(a.proc, th, 'readlink', [a.str('/proc/thread-self'), buf, 255]);
      expect(new TextDecoder().decode(a.mem.readBytes(buf, n))).toBe(`${pid}/task/${pid * 10 + 1}`);
      // outside a syscall there is no current: following it is -ENOENT
      expect(typeof sys.vfs.walk('/proc/thread-self/status', true)).toBe('number');
    });

    it(`${era}: /proc/<pid>/exe follows a rename of the executable and shows " (deleted)" after its unlink (d_path of mm->exe_file)`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const fd = a.call('open', [a.str('/tmp/prog'), O_CREAT | O_RDWR, 0o755]);
      expect(fd).toBeGreaterThanOrEqual(0);
      const f = a.proc.fdget(fd)!;
      expect(f.dentry).not.toBeNull();
      // mm->exe_file: the opened file (set_mm_exe_file takes a reference)
      a.proc.setExeFile(f.get());
      expect(a.readlink('/proc/self/exe')).toBe('/tmp/prog');
      expect(sys.vfs.rename('/tmp/prog', '/tmp/prog2', 0)).toBe(0);
      expect(a.readlink('/proc/self/exe')).toBe('/tmp/prog2');
      expect(a.readlink(`/proc/${a.proc.pid}/task/${a.proc.pid}/exe`)).toBe('/tmp/prog2');
      expect(sys.vfs.remove('/tmp/prog2', false)).toBe(0);
      expect(a.readlink('/proc/self/exe')).toBe('/tmp/prog2 (deleted)');
      // following it still reaches the file (proc_exe_link's nd_jump_link)
      const g = a.open('/proc/self/exe', O_RDONLY);
      expect(g).toBeGreaterThanOrEqual(0);
      expect(a.readlink(`/proc/self/fd/${g}`)).toBe('/tmp/prog2 (deleted)');
    });
  }

  for (const [profile, era] of ERAS) {
    it(`${era}: the stub CPU's threads have tids from the pid space: the leader's is the pid, a further thread's the next number, a later process's pid the one after`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const idle = function* (): Generator<never, number> {
        return 0;
      };
      const { proc, thread: leader } = sys.spawn('p', idle);
      const second = sys.syscalls.spawn(proc, idle);
      const b = new User(sys, 'b');
      // copy_process -> alloc_pid (kernel/pid.c) for every task: one counter, no number twice
      expect([leader.tid, second.tid, b.proc.pid]).toEqual([proc.pid, proc.pid + 1, proc.pid + 2]);
      expect(a.list(`/proc/${proc.pid}/task`)).toEqual(['.', '..', String(proc.pid), String(second.tid)]);
      // /proc/<tid> is the thread (proc_pid_lookup), no process has its number
      const st = a.cat(`/proc/${second.tid}/status`);
      expect([line(st, 'Tgid'), line(st, 'Pid')]).toEqual([`Tgid:\t${proc.pid}`, `Pid:\t${second.tid}`]);
    });
  }
});
