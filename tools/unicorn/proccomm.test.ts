import { copyFileSync, chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * task->comm and /proc/<pid>/root from C (guest-tests/c/proccomm.c; kernel-model/vfs/procfs.ts,
 * procfs-comm.ts, kernel-model/exec/sys.ts sysPrctl, lifecycle.ts): the comm after execve,
 * PR_SET_NAME/PR_GET_NAME and writes of /proc/self/comm, a fork child's, a pthread's own,
 * /proc/self/root, a zombie's links, an execve through a long-named link, then
 * proc_fd_access_allowed's ptrace check on those links (procfs-access.ts). The eras differ in
 * /proc/thread-self (v3.17) and the ptrace check (`procPtraceAccess`). The program runs as
 * /bin/proccomm from a rootfs.
 * Mandatory in CI.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('comm and root from C (proccomm.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: as Linux keeps task->comm and fs->root`, () => {
      const root = mkdtempSync(join(tmpdir(), 'vfio-proccomm-'));
      mkdirSync(join(root, 'bin'));
      copyFileSync(guestBinary('proccomm'), join(root, 'bin/proccomm'));
      chmodSync(join(root, 'bin/proccomm'), 0o755);
      const r = runElf({ elf: join(root, 'bin/proccomm'), argv0: '/bin/proccomm', rootfs: root, bind: null, profile });
      expect(r.exitStatus, r.stdout).toBe(0);
      expect(r.unknownSyscalls).toEqual({});
      const v612 = profile === 'mainline';
      expect(lines(r.stdout)).toEqual([
        '-- exec and prctl',
        '/proc/self/comm: \'proccomm|\'',
        'status Name: proccomm',
        'PR_GET_NAME: \'proccomm\'',
        'PR_SET_NAME of 20 bytes: 0',
        // TASK_COMM_LEN - 1
        '/proc/self/comm: \'a-twenty-byte-n|\'',
        'PR_GET_NAME: \'a-twenty-byte-n\'',
        '-- writes of /proc/self/comm',
        // comm_write answers the count and keeps the newline; status escapes it
        'write \'viawrite\\n\': 9',
        '/proc/self/comm: \'viawrite||\'',
        'status Name: viawrite\\n',
        'PR_GET_NAME: \'viawrite|\'',
        'write 26 bytes: 26',
        '/proc/self/comm: \'abcdefghijklmno|\'',
        'write \'back\\\\slash\': 10',
        'status Name: back\\\\slash',
        // comm_write leaves the position at 0
        'O_RDWR: write then read: \'rw\'',
        '-- fork',
        'child: /proc/self/comm: \'parent|\'',
        // same_thread_group(current, p) fails
        'child: write the parent\'s comm: EINVAL',
        'child: write its own: 5',
        // S_IRUGO|S_IWUSR of the parent's uid
        'uid 1000: write the parent\'s comm: open EACCES',
        'uid 1000: read the parent\'s comm: \'parent|\'',
        'parent: /proc/self/comm: \'parent|\'',
        '-- a thread',
        'thread: PR_GET_NAME at start: \'parent\'',
        'thread: after its PR_SET_NAME: \'worker\'',
        // dup_task_struct copies the creating thread's comm
        'subthread: PR_GET_NAME: \'worker\'',
        'thread\'s fork child: /proc/self/comm: \'worker|\'',
        v612 ? 'thread: /proc/thread-self/comm: \'worker|\'' : 'thread: /proc/thread-self/comm: ENOENT',
        'thread: task/<tid>/comm: \'worker|\'',
        'main: /proc/self/comm: \'parent|\'',
        'main: PR_GET_NAME: \'parent\'',
        'main: task/<tid>/comm: \'worker|\'',
        'main: task/<tid>/status Name: worker',
        'main: write task/<tid>/comm: 2',
        'thread: PR_GET_NAME after main\'s write: \'w2\'',
        'main: after the join, /proc/self/comm: \'parent|\'',
        '-- root',
        '/proc/self/root: /',
        '/proc/self/root/tmp is /tmp: yes',
        '-- a zombie',
        // the links are there; proc_cwd_link, proc_root_link, proc_exe_link answer -ENOENT
        'zombie cwd: lstat a link, stat ENOENT, readlink: ENOENT',
        'zombie root: lstat a link, stat ENOENT, readlink: ENOENT',
        'zombie exe: lstat a link, stat ENOENT, readlink: ENOENT',
        'zombie comm: \'parent|\'',
        'reaped comm: ENOENT',
        '-- execve through a long-named link',
        'symlink: 0',
        // kbasename(bprm->filename): the name given, not the file's, cut to 15
        'reexec: /proc/self/comm: \'a-very-long-pro|\'',
        // mm->exe_file: the file the link led to
        'reexec: exe: /bin/proccomm',
        'reexec exited 0',
        '-- ptrace_may_access',
        // proc_fd_access_allowed: another uid without CAP_SYS_PTRACE, -EACCES
        'uid 1000: root\'s exe: EACCES',
        'uid 1000: its own exe: /bin/proccomm',
        // commit_creds: the euid changed, set_dumpable(suid_dumpable = 0)
        'uid 1000: PR_GET_DUMPABLE after setuid: 0',
        'its child (uid 1000): the non-dumpable parent\'s cwd: EACCES',
        'its child: PR_GET_DUMPABLE: 0',
        'exec\'d by the non-dumpable one: PR_GET_DUMPABLE: 1',
        'uid 1000: PR_SET_DUMPABLE 2: EINVAL',
        'uid 1000: PR_SET_DUMPABLE 1: 0',
        'its child: the dumpable parent\'s cwd: /',
        // 3.14: no mm, dumpable stays 0; v6.12: "mm && ..." skips the test, proc_exe_link answers
        v612 ? 'uid 1000: its zombie child\'s exe: ENOENT' : 'uid 1000: its zombie child\'s exe: EACCES',
        'capset without CAP_SYS_PTRACE: 0',
        // cap_ptrace_access_check: permitted within permitted (3.14), within effective (v6.12)
        v612 ? 'root without CAP_SYS_PTRACE effective: the parent\'s exe: EACCES' : 'root without CAP_SYS_PTRACE effective: the parent\'s exe: /bin/proccomm',
      ]);
    });
  }
});
