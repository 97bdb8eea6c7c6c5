import { copyFileSync, chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * procfs's thread entries and /proc/<pid>/exe's d_path from C (guest-tests/c/proctask.c;
 * kernel-model/vfs/procfs.ts): /proc/self/task with one thread and with a pthread (clone
 * CLONE_THREAD), task/<tid>/ and its status (Tgid, Pid, State), /proc/<tid> found but not
 * listed, /proc/thread-self per era (`procThreadSelf`: v3.17), then a copy of the program in
 * /tmp whose exe follows its rename and shows " (deleted)" after its unlink, and an execve of
 * that /proc/self/exe. The program runs as /bin/proctask from a rootfs so that it can copy
 * itself. Mandatory in CI.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('procfs thread entries and exe from C (proctask.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: task/, task/<tid>/, /proc/<tid>, thread-self, exe after rename and unlink`, () => {
      const root = mkdtempSync(join(tmpdir(), 'vfio-proctask-'));
      mkdirSync(join(root, 'bin'));
      copyFileSync(guestBinary('proctask'), join(root, 'bin/proctask'));
      chmodSync(join(root, 'bin/proctask'), 0o755);
      const r = runElf({ elf: join(root, 'bin/proctask'), argv0: '/bin/proctask', rootfs: root, bind: null, profile });
      expect(r.exitStatus, r.stdout).toBe(0);
      expect(r.unknownSyscalls).toEqual({});
      const v612 = profile === 'mainline';
      expect(lines(r.stdout)).toEqual([
        '-- one thread',
        // tgid_base_stuff's order: task first
        '/proc/self: task fd fdinfo status comm maps cwd root exe',
        '/proc/self/task: pid',
        // tid_base_stuff: the same without task
        'task/<pid>: fd fdinfo status comm maps cwd root exe',
        'task/<pid>/status: Pid: pid',
        'task/<pid>/status: State:\tR (running)',
        v612 ? '/proc/thread-self: <pid>/task/<pid>' : '/proc/thread-self: ENOENT',
        // thread-self after self (proc_pid_readdir), only in v3.17+
        v612 ? '/proc: interrupts self thread-self pid' : '/proc: interrupts self pid',
        '-- two threads',
        v612 ? 'thread: /proc/thread-self: <pid>/task/<tid>' : 'thread: /proc/thread-self: ENOENT',
        v612 ? 'thread: readlinkat(/proc, thread-self): <pid>/task/<tid>' : 'thread: readlinkat(/proc, thread-self): ENOENT',
        v612 ? 'thread: /proc/thread-self/status: Pid: tid' : 'thread: /proc/thread-self/status: ENOENT',
        'thread tid differs from the pid',
        '/proc/self/task: pid tid',
        'task/<tid>: fd fdinfo status comm maps cwd root exe',
        'task/<tid>/status: Tgid: pid',
        'task/<tid>/status: Pid: tid',
        // blocked in read(2): TASK_INTERRUPTIBLE
        'task/<tid>/status: State:\tS (sleeping)',
        'task/<tid>/exe: /bin/proctask',
        // proc_pid_lookup finds any task; proc_pid_readdir lists only the tgids
        'stat /proc/<tid>: a directory',
        '/proc/<tid>/status: Pid: tid',
        '/proc/<tid>/status: Tgid: pid',
        v612 ? '/proc: interrupts self thread-self pid' : '/proc: interrupts self pid',
        // one pid space (kernel/pid.c alloc_pid): the fork child's pid follows the tid, and
        // /proc/<tid> stays the thread's (not a process that got the same number)
        'fork child: pid is the tid + 1',
        'fork child: /proc/<tid>/status: Tgid: pid',
        '-- joined',
        '/proc/self/task: pid',
        'stat /proc/<tid>: ENOENT',
        // numbers only grow (no pid_max wrap in a run): the next thread's tid follows the child's pid
        'second thread: tid is the fork child\'s pid + 1',
        '-- exe of a copy in /tmp',
        'copy: exe /tmp/pt',
        // mm->exe_file's d_path: the new name, then " (deleted)"
        'copy: renamed, exe /tmp/pt2',
        'copy: renamed: text mapped from /tmp/pt2',
        'copy: renamed, task/<pid>/exe /tmp/pt2',
        'copy: renamed, a fork child\'s exe /tmp/pt2',
        'copy: unlinked, exe /tmp/pt2 (deleted)',
        'copy: unlinked: text mapped from /tmp/pt2 (deleted)',
        'copy: stat /tmp/pt2 ENOENT',
        // another process's execve of the copy's /proc/<pid>/exe: the unlinked file too
        'reexec: runs, exe /tmp/pt2 (deleted)',
        'reexec: Name:\texe',
        'execve of /proc/<copy>/exe exited 0',
        // execve of /proc/self/exe reaches the unlinked file (nd_jump_link); comm is "exe"
        'reexec: runs, exe /tmp/pt2 (deleted)',
        'reexec: Name:\texe',
        'copy exited 0',
      ]);
    });
  }
});
