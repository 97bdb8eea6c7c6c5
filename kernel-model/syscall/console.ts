import { latin1 } from '../base/text.js';
import type { Process } from '../process/process.js';
import type { FileOps } from '../vfs/file.js';

/**
 * The console behind fds 0-2 of a process created with stdio: reads EOF, writes are captured
 * in `owner`'s stdout/stderr, whichever process writes (a forked child inherits the console:
 * its output lands where its parent's does, as on a terminal).
 */
export function consoleFops(owner: Process): FileOps {
  return {
    name: 'console',
    read: () => 0,
    write(f, task, buf, count) {
      const b = new Uint8Array(Math.min(count, 65536));
      const r = task.mm.copyFromUser(b, 0, buf, b.length);
      if (r < 0) return r;
      const text = latin1(b);
      if (f.priv === 2) owner.stderr += text;
      else owner.stdout += text;
      return b.length;
    },
  };
}
