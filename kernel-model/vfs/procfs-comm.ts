/**
 * /proc/<pid>/comm and /proc/<pid>/task/<tid>/comm (fs/proc/base.c REG("comm", S_IRUGO|S_IWUSR,
 * proc_pid_set_comm_operations), in tgid_base_stuff and tid_base_stuff between "status" and
 * "maps" in both 3.14 and v6.12): the task's comm (Process.comm).
 *
 * comm_show: the comm and a newline (3.14 seq_printf "%s\n" of p->comm; v6.12 proc_task_name
 * without escaping, then the newline): the bytes as they are, a newline a write put in included.
 *
 * comm_write (3.14 and v6.12 alike): copy_from_user of min(count, TASK_COMM_LEN - 1) bytes into
 * a zeroed buffer (a fault: -EFAULT), get_proc_task (gone: -ESRCH), then set_task_comm when the
 * task is in the writer's thread group (same_thread_group(current, p)), else -EINVAL; the
 * answer is the whole count, however many bytes were taken. No newline is stripped ("echo x >
 * comm" makes the comm "x\n"); the comm ends at the first NUL of the buffer (strscpy). The
 * file position is neither read nor moved. The mode is 0644 owned by the process's uid
 * (proc_pid_make_inode), so another uid is refused at open (EACCES) and root from another
 * thread group gets -EINVAL at the write. Verified against the comm_write bodies of the
 * file_inode/maxlen form (3.x-5.x) and the later proc_comm_connector form, which keep the
 * same_thread_group test.
 */
import { EFAULT, EINVAL, ESRCH } from '../base/errno.js';
import { latin1 } from '../base/text.js';
import type { Process } from '../process/process.js';
import { TASK_COMM_LEN } from '../process/process.js';
import { File, type FileOps, simpleReadFromBuffer } from './file.js';

interface CommPriv {
  proc: Process;
  tid: number;
  /** the process whose call runs (current) */
  current: () => Process | null;
  /** get_proc_task finds the task: the process is live or a zombie not yet reaped */
  present: () => boolean;
}

const bytesOf = (s: string): Uint8Array => {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
};

export const commFops: FileOps = {
  name: 'proc_pid_set_comm_operations',
  read(f, task, buf, count, pos) {
    const c = f.priv as CommPriv;
    // comm_show: get_proc_task, a reaped task -ESRCH (a zombie's comm is still there)
    if (!c.present()) return -ESRCH;
    const b = bytesOf(`${c.proc.comm(c.tid)}\n`);
    return simpleReadFromBuffer(task, buf, count, pos, b);
  },
  write(f, task, buf, count) {
    const c = f.priv as CommPriv;
    const n = Math.min(count, TASK_COMM_LEN - 1);
    const b = new Uint8Array(n);
    if (n > 0 && task.mm.copyFromUser(b, 0, buf, n) < 0) return -EFAULT;
    if (!c.present()) return -ESRCH;
    // same_thread_group(current, p)
    if (c.current() !== c.proc) return -EINVAL;
    const nul = b.indexOf(0);
    c.proc.setComm(c.tid, latin1(nul < 0 ? b : b.subarray(0, nul)));
    return count;
  },
  // comm_write leaves *offset alone; seq_read moves it
  writeKeepsPos: true,
};

/** an open of /proc/<id>/<sub>comm about the thread `tid` of `proc` (`path`: the name it was opened by) */
export function openComm(priv: CommPriv, flags: number, path: string): File {
  return new File(commFops, priv, flags, path);
}
