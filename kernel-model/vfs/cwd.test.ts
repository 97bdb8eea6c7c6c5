/**
 * Path walks that start at a directory (fs/namei.c path_init: the cwd, a dirfd), the cwd held
 * as the directory itself (fs->pwd), and d_path of open files and of the cwd after renames and
 * removals (dentry.ts); execve's open of the image (exec/open-exec.ts) in both eras.
 */
import { describe, expect, it } from 'vitest';
import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EACCES, EBUSY, ENOENT, ENOTDIR } from '../base/errno.js';
import { ARM_NR } from '../exec/arm-nr.js';
import { sysChdir, sysGetcwd, sysMkdirUnlink, sysOpen, type LayerEntry } from '../exec/fs-calls.js';
import { sysRename } from '../exec/fs-ops.js';
import { openExec, type ExecOpenCheck } from '../exec/open-exec.js';
import type { Process } from '../process/process.js';
import { KERNEL_3_14, MAINLINE } from '../profile.js';
import { fileStat, nodeStat } from '../syscall/stat.js';
import { armArgs, makeMachine, type Machine } from '../syscall/testing/machine.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_WRONLY, PROT_READ, PROT_WRITE } from '../uapi/index.js';
import { File } from './file.js';
import { RENAME_EXCHANGE } from './names.js';
import { fdPath } from './procfs.js';

const AT_FDCWD = -100;

/** what a test does in a running process: the ARM entry's calls with string arguments, and the layer's */
interface Proc {
  proc: Process;
  /** an ARM-entry call: string arguments are written to the process's memory */
  call(fn: (x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array) => number, nr: number, ...args: (number | string)[]): number;
  getcwd(): string | number;
  open(path: string, flags: number): number;
  file(fd: number): File;
}

/** run `body` inside a process of `m` (uid `uid`, no capabilities unless root) */
function inProcess(m: Machine, uid: number, body: (p: Proc) => void): void {
  let proc: Process | null = null;
  const started = m.start(function* (sys) {
    const b = yield* sys.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const p = proc!;
    const task = m.sys.taskOf(p, null);
    const x = { layer: m.sys, proc: p, cpu: m.cpu, restartable: (_t: UnicornThread, fn: (t: typeof task) => number) => fn(task), kernel: (_t: UnicornThread, nr: number, args: readonly number[]) => m.sys.invoke(p, null, nr, args) } as unknown as LayerEntry;
    const api: Proc = {
      proc: p,
      call(fn, nr, ...args) {
        return fn(x, null as unknown as UnicornThread, nr, armArgs(sys.mem, b, args));
      },
      getcwd() {
        const r = sysGetcwd(x, new Uint32Array([b + 4096, 4096]));
        return r < 0 ? r : sys.mem.readCString(b + 4096, 4096);
      },
      open: (path, flags) => api.call((xx, t, nr, a) => sysOpen(xx, t, nr, a) as number, ARM_NR.openat, AT_FDCWD, path, flags, 0o644),
      file: (fd) => p.fdget(fd)!,
    };
    body(api);
    return 0;
  }, { uid });
  proc = started.proc;
  m.sched.runUntilPredicate(() => started.thread.exit !== null, { within: 1_000_000_000 });
  expect(started.thread.exit?.trap ?? null).toBe(null);
}

const statOf = (m: Machine, p: Parameters<Machine['vfs']['walk']>[0]): ReturnType<typeof nodeStat> | number => {
  const r = m.vfs.walk(p, true);
  return typeof r === 'number' ? r : nodeStat(r.node);
};

describe('relative paths start at the cwd (path_init: current->fs->pwd)', () => {
  it('only the directories after the cwd are searched: a cwd under a directory the caller can no longer search still reaches its names', () => {
    const m = makeMachine();
    const v = m.vfs;
    expect(v.mkdir('/tmp/p', 0o755)).toBe(0);
    expect(v.mkdir('/tmp/p/q', 0o777)).toBe(0);
    const out: unknown[] = [];
    inProcess(m, 1000, (p) => {
      out.push(p.call(sysChdir, ARM_NR.chdir, '/tmp/p/q'));
      out.push(p.open('f', O_CREAT | O_WRONLY) >= 0);
      // root takes the search permission of /tmp/p away
      const pnode = v.walk('/tmp/p', true);
      if (typeof pnode === 'number') throw new Error('no /tmp/p');
      v.chmod(pnode.node, '/tmp/p', 0o700);
      out.push(p.open('f', O_RDONLY) >= 0); // from the cwd: q is searchable
      out.push(p.open('/tmp/p/q/f', O_RDONLY)); // from the root: /tmp/p is not
      out.push(p.open('./f', O_RDONLY) >= 0);
      out.push(p.open('../q/f', O_RDONLY)); // ".." leaves q, then "q" is looked up in /tmp/p
      out.push(p.getcwd()); // getcwd needs no search permission
    });
    expect(out).toEqual([0, true, true, -EACCES, true, -EACCES, '/tmp/p/q']);
  });

  it('a renamed cwd is the same directory: its names stay reachable, getcwd and /proc/<pid>/cwd give the new path', () => {
    const m = makeMachine();
    const v = m.vfs;
    expect(v.mkdir('/tmp/a', 0o755)).toBe(0);
    const out: unknown[] = [];
    inProcess(m, 0, (p) => {
      out.push(p.call(sysChdir, ARM_NR.chdir, '/tmp/a'));
      out.push(p.open('x', O_CREAT | O_WRONLY) >= 0);
      out.push(v.rename('/tmp/a', '/tmp/b', 0));
      out.push(p.open('x', O_RDONLY) >= 0, p.getcwd(), v.readlink(`/proc/${p.proc.pid}/cwd`));
      // a new name made relative to it is in /tmp/b
      out.push(p.call(sysMkdirUnlink, ARM_NR.mkdir, 'sub', 0o755), typeof v.walk('/tmp/b/sub', true));
      // renamed again through a relative name from inside it
      out.push(p.call(sysRename, ARM_NR.rename, '../b', '../c'), p.getcwd());
    });
    expect(out).toEqual([0, true, 0, true, '/tmp/b', '/tmp/b', 0, 'object', 0, '/tmp/c']);
  });

  it('an rmdir\'d cwd: getcwd -ENOENT, /proc/<pid>/cwd "(deleted)", no new names (-ENOENT), "." and ".." still resolve', () => {
    const m = makeMachine();
    const v = m.vfs;
    expect(v.mkdir('/tmp/d', 0o755)).toBe(0);
    const out: unknown[] = [];
    inProcess(m, 0, (p) => {
      out.push(p.call(sysChdir, ARM_NR.chdir, '/tmp/d'));
      out.push(p.call(sysMkdirUnlink, ARM_NR.rmdir, '/tmp/d'));
      out.push(p.getcwd(), v.readlink(`/proc/${p.proc.pid}/cwd`));
      out.push(p.open('n', O_CREAT | O_WRONLY), p.call(sysMkdirUnlink, ARM_NR.mkdir, 'm', 0o755));
      const at = p.proc.cwdAt!;
      const dot = statOf(m, { at, name: '.' });
      out.push(typeof dot === 'number' ? dot : dot.nlink);
      const dfd = p.open('.', O_RDONLY | O_DIRECTORY);
      out.push(dfd >= 0, p.open('x', O_RDONLY));
      // getdents of the dead directory: iterate_dir's IS_DEADDIR -> -ENOENT (no "." or "..")
      out.push(p.file(dfd).ops.readdir!(p.file(dfd)));
      const up = v.walk({ at, name: '..' }, true);
      out.push(typeof up === 'number' ? up : up.path);
      // a directory made again at the old name is another one
      out.push(v.mkdir('/tmp/d', 0o755), p.getcwd());
      out.push(p.call(sysChdir, ARM_NR.chdir, '/tmp/d'), p.getcwd());
    });
    expect(out).toEqual([0, 0, -ENOENT, '/tmp/d (deleted)', -ENOENT, -ENOENT, 0, true, -ENOENT, -ENOENT, '/tmp', 0, -ENOENT, 0, '/tmp/d']);
  });

  it('openat with a dirfd starts at that directory, which follows renames; fchdir takes the directory itself', () => {
    const m = makeMachine();
    const v = m.vfs;
    expect(v.mkdir('/tmp/a', 0o755)).toBe(0);
    const out: unknown[] = [];
    inProcess(m, 0, (p) => {
      const dfd = p.open('/tmp/a', O_RDONLY | O_DIRECTORY);
      const reg = p.open('/tmp/r', O_CREAT | O_RDWR);
      out.push(v.rename('/tmp/a', '/tmp/b', 0));
      out.push(p.call((x, t, nr, a) => sysOpen(x, t, nr, a) as number, ARM_NR.openat, dfd, 'y', O_CREAT | O_WRONLY, 0o644) >= 0);
      out.push(typeof v.walk('/tmp/b/y', true));
      out.push(p.call((x, t, nr, a) => sysOpen(x, t, nr, a) as number, ARM_NR.openat, reg, 'y', O_RDONLY, 0)); // not a directory
      out.push(p.call((x, t, nr, a) => sysOpen(x, t, nr, a) as number, ARM_NR.openat, 99, '/tmp/b/y', O_RDONLY, 0) >= 0); // absolute: the dirfd is not used
      out.push(p.call(sysChdir, ARM_NR.fchdir, dfd), p.getcwd());
      out.push(fdPath(p.file(dfd)));
    });
    expect(out).toEqual([0, true, 'object', -ENOTDIR, true, 0, '/tmp/b', '/tmp/b']);
  });
});

describe('d_path of open files: the current name, " (deleted)" once it went', () => {
  it('tmpfs: rename, unlink, a rename over the file, RENAME_EXCHANGE, hard links, a removed directory', () => {
    const m = makeMachine();
    const v = m.vfs;
    const out: unknown[] = [];
    inProcess(m, 0, (p) => {
      const f = p.open('/tmp/f', O_CREAT | O_RDWR);
      const ino = nodeStat(p.file(f).dentry!.node).ino;
      out.push(fdPath(p.file(f)));
      v.rename('/tmp/f', '/tmp/g', 0);
      out.push(fdPath(p.file(f)), v.readlink(`/proc/${p.proc.pid}/fd/${f}`));
      v.remove('/tmp/g', false);
      out.push(fdPath(p.file(f)));
      // /proc/<pid>/fd/N of the unlinked file opens its inode (nd_jump_link), named as it was
      const again = p.open(`/proc/${p.proc.pid}/fd/${f}`, O_RDONLY);
      out.push(again >= 0 && nodeStat(p.file(again).dentry!.node).ino === ino, fdPath(p.file(again)));
      // a rename over an open file: its name is gone
      const t = p.open('/tmp/t', O_CREAT | O_RDWR);
      p.open('/tmp/s', O_CREAT | O_RDWR);
      v.rename('/tmp/s', '/tmp/t', 0);
      out.push(fdPath(p.file(t)));
      // RENAME_EXCHANGE swaps the names of the open files
      const e1 = p.open('/tmp/e1', O_CREAT | O_RDWR);
      const e2 = p.open('/tmp/e2', O_CREAT | O_RDWR);
      v.rename('/tmp/e1', '/tmp/e2', RENAME_EXCHANGE);
      out.push(fdPath(p.file(e1)), fdPath(p.file(e2)));
      // hard links: the name it was opened by going is its deletion, whatever other names it has
      const h = p.open('/tmp/h1', O_CREAT | O_RDWR);
      v.link(v.walk('/tmp/h1', false) as { node: never; path: string }, '/tmp/h2');
      v.remove('/tmp/h1', false);
      out.push(fdPath(p.file(h)), fdPath(p.file(p.open('/tmp/h2', O_RDONLY))));
      // a directory's file: its path now, " (deleted)" once removed
      v.mkdir('/tmp/dd', 0o755);
      const d = p.open('/tmp/dd', O_RDONLY | O_DIRECTORY);
      v.rename('/tmp/dd', '/tmp/de', 0);
      out.push(fdPath(p.file(d)));
      v.remove('/tmp/de', true);
      out.push(fdPath(p.file(d)));
      // a file in a directory moved away keeps its name under the new path
      v.mkdir('/tmp/m', 0o755);
      const mf = p.open('/tmp/m/f', O_CREAT | O_RDWR);
      v.rename('/tmp/m', '/tmp/n', 0);
      out.push(fdPath(p.file(mf)));
    });
    expect(out).toEqual([
      '/tmp/f', '/tmp/g', '/tmp/g', '/tmp/g (deleted)', true, '/tmp/g (deleted)', '/tmp/t (deleted)',
      '/tmp/e2', '/tmp/e1', '/tmp/h1 (deleted)', '/tmp/h2', '/tmp/de', '/tmp/de (deleted)', '/tmp/n/f',
    ]);
  });

  it('devtmpfs: a driver\'s node renamed and unlinked while open; fstat still finds its inode', () => {
    const m = makeMachine();
    const v = m.vfs;
    v.addDevNode('/dev/k/node', 0o666, (flags, _t, path) => new File({ name: 'plain' }, null, flags, path), 0x105);
    const out: unknown[] = [];
    inProcess(m, 0, (p) => {
      const fd = p.open('/dev/k/node', O_RDONLY);
      out.push(fdPath(p.file(fd)), fileStat(v, p.file(fd)).rdev);
      v.rename('/dev/k', '/dev/j', 0);
      out.push(fdPath(p.file(fd)));
      v.rename('/dev/j/node', '/dev/moved', 0);
      out.push(fdPath(p.file(fd)), fileStat(v, p.file(fd)).rdev);
      v.remove('/dev/moved', false);
      out.push(fdPath(p.file(fd)), fileStat(v, p.file(fd)).rdev);
    });
    expect(out).toEqual(['/dev/k/node', 0x105, '/dev/j/node', '/dev/moved', 0x105, '/dev/moved (deleted)', 0x105]);
  });
});

describe('execve\'s open of the image (do_open_exec / do_open_execat)', () => {
  const era = (check: ExecOpenCheck): unknown[] => {
    const m = makeMachine();
    const v = m.vfs;
    const opens: string[] = [];
    v.addDevNode('/dev/busy', 0o755, () => { opens.push('busy'); return -EBUSY; });
    v.addDevNode('/dev/plain', 0o644, () => { opens.push('plain'); return -EBUSY; });
    v.mkdir('/tmp/bin', 0o755);
    inProcess(m, 0, (root) => {
      root.open('/tmp/bin/prog', O_CREAT | O_WRONLY);
      v.symlink('prog', '/tmp/bin/ln');
    });
    const ELF = new Uint8Array([0x7f, 0x45, 0x4c, 0x46]);
    const execFs = (path: string): Uint8Array | number => (path === '/bin/tool' ? ELF : -ENOENT);
    const run = (uid: number, name: string): unknown => {
      let r: unknown;
      inProcess(m, uid, (p) => {
        const img = openExec({ vfs: v, task: m.sys.taskOf(p.proc, null), check, execFs, running: null, images: new Map() }, name);
        r = typeof img === 'number' ? img : img.path;
      });
      return r;
    };
    const prog = (v.walk('/tmp/bin/prog', true) as { node: { mode: number } }).node;
    const bin = (v.walk('/tmp/bin', true) as { node: { mode: number } }).node;
    const out: unknown[] = [];
    prog.mode = 0o644;
    out.push(run(0, '/tmp/bin/prog'), run(1000, '/tmp/bin/prog')); // no x bit: root neither (generic_permission)
    prog.mode = 0o744;
    out.push(run(0, '/tmp/bin/prog'), run(1000, '/tmp/bin/prog')); // root's owner bits; another uid the group's
    prog.mode = 0o755;
    out.push(run(1000, '/tmp/bin/prog'), run(1000, '/tmp/bin/ln')); // a link: the file's path
    bin.mode = 0o700;
    out.push(run(1000, '/tmp/bin/prog'), run(0, '/tmp/bin/prog')); // search permission on the way
    bin.mode = 0o755;
    out.push(run(0, '/tmp/bin'), run(0, '/tmp/bin/prog/x'), run(0, '/tmp/nope'), run(0, '/bin/tool'));
    out.push(run(0, '/dev/plain'), run(1000, '/dev/busy'), opens);
    return out;
  };
  const P = '/tmp/bin/prog';
  const same = [-EACCES, -EACCES, P, -EACCES, P, P, -EACCES, P, -EACCES, -ENOTDIR, -ENOENT, '/bin/tool', -EACCES];
  it('3.14: the walk as the caller, MAY_EXEC on the file, a device\'s open before !S_ISREG (its error wins)', () => {
    expect(era(KERNEL_3_14.execOpenCheck)).toEqual([...same, -EBUSY, ['busy']]);
  });
  it('v6.12: the same, but what is not a regular file is -EACCES before any open (may_open)', () => {
    expect(era(MAINLINE.execOpenCheck)).toEqual([...same, -EACCES, []]);
  });
});
