import { describe, expect, it } from 'vitest';
import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EACCES, EBUSY, EEXIST, EFBIG, EINVAL, EISDIR, ELOOP, ENOENT, ENOSYS, ENOTDIR, ENOTEMPTY, EOPNOTSUPP, EPERM, EROFS, EXDEV } from '../base/errno.js';
import { ARM_NR } from '../exec/arm-nr.js';
import { absentSyscalls } from '../exec/syscall-era.js';
import { sysChdir, type LayerEntry } from '../exec/fs-calls.js';
import { sysChmod, sysLink, sysRename, sysTruncate, sysUmask } from '../exec/fs-ops.js';
import type { Process } from '../process/process.js';
import { KERNEL_3_14, MAINLINE, type Capabilities } from '../profile.js';
import { armArgs, makeMachine, type Machine } from '../syscall/testing/machine.js';
import { nodeStat } from '../syscall/stat.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, PROT_READ, PROT_WRITE } from '../uapi/index.js';
import { TmpfsFile } from './tmpfs.js';
import { RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT } from './names.js';
import type { Cred } from './permission.js';

const O_NOFOLLOW = 0o100000, O_LARGEFILE = 0o400000, AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000;
const USER: Cred = { uid: 1000, capEffective: 0n };

/** a machine of one era: the VFS's nesting limit and the syscall host's capabilities from the profile record */
function machine(c: Capabilities): Machine {
  return makeMachine({
    maxLfsFilesize: c.maxLfsFilesize, nestedSymlinkLimit: c.nestedSymlinkLimit,
    host: { syscallTable: c.syscallTable, ftruncateLength: c.ftruncateLength, linkatEmptyPath: c.linkatEmptyPath },
  });
}

function write(m: Machine, path: string, text: string): void {
  m.run(function* (sys) {
    const b = yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sys.mem.writeCString(b, text);
    const fd = yield* sys.open(path, O_CREAT | O_WRONLY);
    yield* sys.write(fd, b, text.length);
    return 0;
  });
}

/** what a lookup found, as the tmpfs file (or other node) the test knows it is */
const found = (m: Machine, p: string, follow = true): { node: TmpfsFile; path: string } => m.vfs.walk(p, follow) as unknown as { node: TmpfsFile; path: string };
const statOf = (m: Machine, p: string, follow = true): ReturnType<typeof nodeStat> | number => {
  const r = m.vfs.walk(p, follow);
  return typeof r === 'number' ? r : nodeStat(r.node);
};
const dataOf = (m: Machine, p: string): string => {
  const n = found(m, p, true).node;
  return String.fromCharCode(...n.data.subarray(0, n.backed));
};

/**
 * The ARM entry's calls (exec/fs-ops.ts) from a stub process: `strs` are written to its memory
 * and their addresses replace the string arguments; every call gets the same (machine, process)
 */
function abi(m: Machine, body: (call: (fn: (x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array) => number, nr: number, ...args: (number | string)[]) => number, proc: Process) => void): void {
  let proc: Process | null = null;
  const started = m.start(function* (sys) {
    const b = yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const x = { layer: m.sys, proc: proc!, cpu: m.cpu } as unknown as LayerEntry;
    const call = (fn: (x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array) => number, nr: number, ...args: (number | string)[]): number =>
      fn(x, null as unknown as UnicornThread, nr, armArgs(sys.mem, b, args));
    body(call, proc!);
    return 0;
  });
  proc = started.proc;
  m.sched.runUntilPredicate(() => started.thread.exit !== null, { within: 1_000_000_000 });
  expect(started.thread.exit?.trap ?? null).toBe(null);
}

describe('tmpfs names and inodes (Vfs)', () => {
  it('rename: replaces atomically, fds keep their inodes, onto itself is nothing, and the errors of do_renameat2/vfs_rename', () => {
    const m = makeMachine();
    const v = m.vfs;
    write(m, '/tmp/a', 'one');
    write(m, '/tmp/b', 'two');
    const old = found(m, '/tmp/b', true).node;
    expect(v.rename('/tmp/a', '/tmp/b', 0)).toBe(0);
    expect(dataOf(m, '/tmp/b')).toBe('one');
    expect(v.walk('/tmp/a', true)).toBe(-ENOENT);
    // the replaced inode lost its name, not its data
    expect([old.nlink, String.fromCharCode(...old.data.subarray(0, 3))]).toEqual([0, 'two']);
    expect(v.tmp.used).toBe(3);
    expect(v.link(found(m, '/tmp/b', true), '/tmp/b2')).toBe(0);
    expect(v.rename('/tmp/b', '/tmp/b2', 0)).toBe(0);
    expect((statOf(m, '/tmp/b') as { nlink: number }).nlink).toBe(2);
    for (const d of ['/tmp/d', '/tmp/d/sub', '/tmp/e', '/tmp/f']) expect(v.mkdir(d, 0o755)).toBe(0);
    write(m, '/tmp/e/x', 'x');
    expect(v.rename('/tmp/d', '/tmp/d/sub/y', 0)).toBe(-EINVAL);
    expect(v.rename('/tmp/d/sub', '/tmp/d', 0)).toBe(-ENOTEMPTY);
    expect(v.rename('/tmp/d', '/tmp/e', 0)).toBe(-ENOTEMPTY);
    expect(v.rename('/tmp/d', '/tmp/b', 0)).toBe(-ENOTDIR);
    expect(v.rename('/tmp/b', '/tmp/d', 0)).toBe(-EISDIR);
    expect(v.rename('/tmp/b/', '/tmp/c', 0)).toBe(-ENOTDIR);
    expect(v.rename('/tmp/none', '/tmp/c', 0)).toBe(-ENOENT);
    expect(v.rename('/tmp/.', '/tmp/c', 0)).toBe(-EBUSY);
    expect(v.rename('/tmp/b', '/dev/b', 0)).toBe(-EXDEV);
    v.addProcFile('x', () => '');
    expect(v.rename('/proc/x', '/proc/y', 0)).toBe(-EPERM);
    // a directory over an empty one; link counts follow
    expect((statOf(m, '/tmp') as { nlink: number }).nlink).toBe(2 + 3);
    expect(v.rename('/tmp/d', '/tmp/f', 0)).toBe(0);
    expect([(statOf(m, '/tmp') as { nlink: number }).nlink, (statOf(m, '/tmp/f/sub') as { mode: number }).mode & 0o170000]).toEqual([2 + 2, 0o040000]);
    // renameat2's flags at the VFS
    expect(v.rename('/tmp/b', '/tmp/e/x', RENAME_NOREPLACE)).toBe(-EEXIST);
    expect(v.rename('/tmp/b', '/tmp/zz', RENAME_EXCHANGE)).toBe(-ENOENT);
    expect(v.rename('/tmp/b', '/tmp/e/x', RENAME_EXCHANGE)).toBe(0);
    expect([dataOf(m, '/tmp/b'), dataOf(m, '/tmp/e/x')]).toEqual(['x', 'one']);
    expect(v.rename('/tmp/b', '/tmp/w', RENAME_WHITEOUT)).toBe(0);
    expect(statOf(m, '/tmp/b')).toMatchObject({ mode: 0o020000, nlink: 1 });
  });

  it('link, symlink and lookups: nlink in stat, ELOOP at 40 links, relative targets, trailing slashes, O_NOFOLLOW, creation through a dangling link', () => {
    const m = makeMachine();
    const v = m.vfs;
    write(m, '/tmp/f', 'data');
    const f = found(m, '/tmp/f', true);
    expect(v.link(f, '/tmp/g')).toBe(0);
    expect(v.link(f, '/tmp/g')).toBe(-EEXIST);
    expect(v.link(found(m, '/tmp', true), '/tmp/dl')).toBe(-EPERM);
    expect(v.link(f, '/dev/f')).toBe(-EXDEV);
    expect(v.link(f, '/tmp/h/')).toBe(-ENOENT);
    expect(statOf(m, '/tmp/g')).toMatchObject({ nlink: 2, size: 4 });
    expect(v.remove('/tmp/f', false)).toBe(0);
    expect([dataOf(m, '/tmp/g'), f.node.nlink, v.tmp.used]).toEqual(['data', 1, 4]);
    expect(v.remove('/tmp/g', false)).toBe(0);
    expect(v.link(f, '/tmp/again')).toBe(-ENOENT); // the last name is gone
    write(m, '/tmp/c0', 'end');
    for (let i = 1; i <= 41; i++) expect(v.symlink(`c${i - 1}`, `/tmp/c${i}`)).toBe(0);
    expect(v.walk('/tmp/c40', true)).toMatchObject({ path: '/tmp/c0' });
    expect(v.walk('/tmp/c41', true)).toBe(-ELOOP);
    expect(statOf(m, '/tmp/c41', false)).toMatchObject({ mode: 0o120777, size: 3 });
    expect(v.symlink('x', '/tmp/c1')).toBe(-EEXIST);
    expect(v.symlink('x', '/proc/l')).toBe(-EPERM);
    expect(v.mkdir('/tmp/d', 0o700)).toBe(0);
    expect(v.symlink('../../tmp/./d/../c0', '/tmp/d/up')).toBe(0);
    expect(v.walk('/tmp/d/up', true)).toMatchObject({ path: '/tmp/c0' });
    expect(v.walk('/tmp/c0/', true)).toBe(-ENOTDIR);
    expect(v.symlink('d', '/tmp/dl')).toBe(0);
    expect(v.walk('/tmp/dl/', false)).toMatchObject({ path: '/tmp/d' });
    expect(v.walk('/tmp/dl', false)).toMatchObject({ path: '/tmp/dl' });
    expect(v.readlink('/tmp/dl')).toBe('d');
    expect(v.symlink('new', '/tmp/dangling')).toBe(0);
    const out: number[] = [];
    m.run(function* (sys) {
      out.push(yield* sys.open('/tmp/dl', O_RDONLY | O_NOFOLLOW));
      out.push((yield* sys.open('/tmp/dangling', O_CREAT | O_WRONLY)) >= 0 ? 0 : -1);
      out.push(yield* sys.open('/tmp/nodir/', O_CREAT | O_WRONLY));
      return 0;
    });
    expect(out).toEqual([-ELOOP, 0, -EISDIR]);
    expect(statOf(m, '/tmp/new')).toMatchObject({ mode: 0o100644 });
  });

  it('symbolic links nested in the middle of a path: 8 levels in 3.14 (MAX_NESTED_LINKS), only the 40 links in v6.12', () => {
    const nested = (c: Capabilities): (string | number)[] => {
      const m = machine(c);
      const v = m.vfs;
      v.mkdir('/tmp/n0', 0o755);
      write(m, '/tmp/n0/f', 'x');
      for (let i = 1; i <= 10; i++) v.symlink(`n${i - 1}/.`, `/tmp/n${i}`);
      return [8, 9, 10].map((k) => {
        const r = v.walk(`/tmp/n${k}/f`, true);
        return typeof r === 'number' ? r : r.path;
      });
    };
    expect(nested(KERNEL_3_14)).toEqual(['/tmp/n0/f', -ELOOP, -ELOOP]);
    expect(nested(MAINLINE)).toEqual(['/tmp/n0/f', '/tmp/n0/f', '/tmp/n0/f']);
  });

  it('chmod and permissions: the owner or CAP_FOWNER, modes in stat, the sticky /tmp, EROFS, /proc/self EPERM, symbolic links EOPNOTSUPP', () => {
    const m = makeMachine();
    const v = m.vfs;
    write(m, '/tmp/r', 'root');
    const r = found(m, '/tmp/r', true);
    expect(v.chmod(r.node, r.path, 0o4600)).toBe(0);
    expect(statOf(m, '/tmp/r')).toMatchObject({ mode: 0o104600, uid: 0 });
    expect(v.chmod(r.node, r.path, 0o644, USER)).toBe(-EPERM);
    expect(v.remove('/tmp/r', false, USER)).toBe(-EPERM); // sticky /tmp, not the owner
    expect(v.rename('/tmp/r', '/tmp/mine', 0, USER)).toBe(-EPERM);
    expect(v.mkdir('/tmp/u', 0o755, USER)).toBe(0);
    expect(statOf(m, '/tmp/u')).toMatchObject({ uid: 1000 });
    expect(v.mkdir('/tmp/rootdir', 0o755)).toBe(0);
    expect(v.mkdir('/tmp/rootdir/x', 0o755, USER)).toBe(-EACCES);
    expect(v.truncate(r.node, r.path, 0, USER)).toBe(-EACCES);
    expect(v.symlink('r', '/tmp/l')).toBe(0);
    const link = found(m, '/tmp/l', false);
    expect(v.chmod(link.node, link.path, 0o600)).toBe(-EOPNOTSUPP);
    v.addProcSelfFile('status', () => '');
    // /proc/<pid>/status (what /proc/self/status reaches: the link needs a current process)
    const self = m.vfs.walk(`/proc/${m.sys.createProcess().pid}/status`, true);
    expect(typeof self === 'number' ? self : v.chmod(self.node, self.path, 0o700)).toBe(-EPERM);
    m.vfs.mountRootfs((p) => (p === '/' ? { kind: 'dir', mode: 0o755, names: ['etc'] } : p === '/etc' ? { kind: 'dir', mode: 0o755, names: [] } : null));
    const etc = found(m, '/etc', true);
    expect(v.chmod(etc.node, etc.path, 0o700)).toBe(-EROFS);
    expect(v.rename('/etc', '/etc2', 0)).toBe(-EROFS);
    expect(v.symlink('x', '/etc/x')).toBe(-EROFS);
    expect(v.link(r, '/etc/r')).toBe(-EROFS);
    // the open path: a non-root process is held to the stored mode
    const out: number[] = [];
    m.run(function* (sys) {
      out.push(yield* sys.open('/tmp/r', O_RDONLY));
      return 0;
    }, { uid: 1000 });
    expect(out).toEqual([-EACCES]);
  });

  it('truncate: grows with a hole (no ENOSPC), shrinks, EFBIG past s_maxbytes, EISDIR, EINVAL for other files', () => {
    const m = makeMachine();
    const v = m.vfs;
    write(m, '/tmp/t', '0123456789');
    const t = found(m, '/tmp/t', true);
    expect(v.truncate(t.node, t.path, 64 << 20)).toBe(0);
    expect([t.node.size, v.tmp.used]).toEqual([64 << 20, 10]);
    expect(v.truncate(t.node, t.path, 2 ** 43)).toBe(-EFBIG);
    expect(v.truncate(t.node, t.path, 4)).toBe(0);
    expect([dataOf(m, '/tmp/t'), v.tmp.used]).toEqual(['0123', 4]);
    const d = found(m, '/tmp', true);
    expect(v.truncate(d.node, d.path, 0)).toBe(-EISDIR);
    v.addDevNode('/dev/c', 0o666, () => -ENOENT);
    const c = found(m, '/dev/c', true);
    expect(v.truncate(c.node, c.path, 0)).toBe(-EINVAL);
  });
});

describe('the syscalls the eras differ on (exec/fs-ops.ts)', () => {
  const era = (c: Capabilities): number[] => {
    const m = machine(c);
    const out: number[] = [];
    write(m, '/tmp/a', 'abc');
    write(m, '/tmp/b', 'xyz');
    // a number the era's table lacks: the entry's -ENOSYS before the call (LinuxAbi.serve; tools/unicorn/era-gate.test.ts)
    const absent = absentSyscalls(c.syscallTable);
    abi(m, (call0, proc) => {
      const call: typeof call0 = (f, nr, ...a) => (absent.has(nr) ? -ENOSYS : call0(f, nr, ...a));
      out.push(call(sysRename, ARM_NR.renameat2, AT_FDCWD, '/tmp/a', AT_FDCWD, '/tmp/b', RENAME_NOREPLACE));
      out.push(call(sysRename, ARM_NR.renameat2, AT_FDCWD, '/tmp/a', AT_FDCWD, '/tmp/b', 8));
      out.push(call(sysRename, ARM_NR.renameat, AT_FDCWD, '/tmp/a', AT_FDCWD, '/tmp/c'));
      out.push(call(sysChmod, ARM_NR.fchmodat2, AT_FDCWD, '/tmp/c', 0o600, 0));
      out.push(call(sysChmod, ARM_NR.chmod, '/tmp/c', 0o640));
      // ftruncate(fd, -1): 3.14's unsigned long 4 GiB - 1 (EINVAL without O_LARGEFILE), v6.12's off_t -1
      const fd = m.sys.sysOpen(m.sys.taskOf(proc, null), '/tmp/c', O_RDWR);
      const lfs = m.sys.sysOpen(m.sys.taskOf(proc, null), '/tmp/c', O_RDWR | O_LARGEFILE);
      out.push(call(sysTruncate, ARM_NR.ftruncate, fd, -1));
      out.push(call(sysTruncate, ARM_NR.ftruncate, lfs, -1));
      out.push(call(sysTruncate, ARM_NR.ftruncate64, fd, 0, 2 ** 32 - 8, 0)); // the pair r2:r3
      out.push(call(sysTruncate, ARM_NR.ftruncate64, fd, 0, 0, 0xffffffff)); // negative
      out.push(call(sysTruncate, ARM_NR.truncate64, '/tmp/c', 0, 2, 0));
      // linkat AT_EMPTY_PATH without CAP_DAC_READ_SEARCH: the caller's own fd
      proc.capEffective = 0n;
      out.push(call(sysLink, ARM_NR.linkat, fd, '', AT_FDCWD, '/tmp/d', AT_EMPTY_PATH));
      out.push(call(sysLink, ARM_NR.linkat, fd, '', AT_FDCWD, '/tmp/e', 0));
      out.push(sysUmask(proc, 0o1077), sysUmask(proc, 0o22));
    });
    out.push((statOf(m, '/tmp/c') as { mode: number }).mode & 0o777, (statOf(m, '/tmp/c') as { nlink: number }).nlink);
    return out;
  };

  it('3.14: renameat2 and fchmodat2 -ENOSYS, ftruncate\'s length unsigned, AT_EMPTY_PATH only with CAP_DAC_READ_SEARCH', () => {
    expect(era(KERNEL_3_14)).toEqual([-ENOSYS, -ENOSYS, 0, -ENOSYS, 0, -EINVAL, 0, 0, -EINVAL, 0, -ENOENT, -ENOENT, 0o022, 0o077, 0o640, 1]);
  });

  it('v6.12: renameat2 and fchmodat2 served, ftruncate\'s length signed, AT_EMPTY_PATH with the opener\'s credentials', () => {
    expect(era(MAINLINE)).toEqual([-EEXIST, -EINVAL, 0, 0, 0, -EINVAL, -EINVAL, 0, -EINVAL, 0, 0, -ENOENT, 0o022, 0o077, 0o640, 2]);
  });
});

describe('search permission along a path (fs/namei.c link_path_walk -> may_lookup)', () => {
  const CAP_DAC_OVERRIDE = 1n << 1n, CAP_DAC_READ_SEARCH = 1n << 2n;
  const era = (c: Capabilities): unknown[] => {
    const m = machine(c);
    const v = m.vfs;
    expect(v.mkdir('/tmp/p', 0o700)).toBe(0);
    expect(v.mkdir('/tmp/p/q', 0o755)).toBe(0);
    write(m, '/tmp/p/q/f', 'x');
    expect(v.mkdir('/tmp/x', 0o711)).toBe(0);
    write(m, '/tmp/x/f', 'x');
    expect(v.symlink('/tmp/p/q', '/tmp/lp')).toBe(0);
    expect(v.symlink('loop', '/tmp/loop')).toBe(0);
    const code = (r: unknown): unknown => (typeof r === 'number' ? r : 'ok');
    const out: unknown[] = [
      code(v.walk('/tmp/p/q/f', true, USER)),
      code(v.lookup('/tmp/p/nope', true, USER)), // EACCES before ENOENT
      code(v.lookup('/tmp/x/nope', true, USER)), // a searchable parent: the name's ENOENT (node null)
      (v.lookup('/tmp/x/nope', true, USER) as { node: unknown }).node,
      code(v.walk('/tmp/x/f', true, USER)),
      code(v.walk('/tmp/x/f/g', true, USER)), // ENOTDIR
      code(v.walk('/tmp/lp/f', true, USER)), // through a link into the 0700 directory
      code(v.walk('/tmp/lp', false, USER)), // the link itself, not followed
      code(v.walk('/tmp/loop/a', true, USER)), // ELOOP
      code(v.walk('/tmp/p/.', true, USER)), // "." is looked up in the directory too
      code(v.walk('/tmp/p', true, USER)), // the directory itself: /tmp is searchable
      code(v.parentOf('/tmp/p/new', USER)),
      code(v.parentOf('/tmp/p', USER)),
      v.mkdir('/tmp/p/new', 0o755, USER),
      v.remove('/tmp/p/q/f', false, USER),
      v.rename('/tmp/p/q/f', '/tmp/g', 0, USER),
      v.symlink('x', '/tmp/p/q/s', USER),
      v.link(found(m, '/tmp/x/f'), '/tmp/p/q/h', USER),
      v.readlink('/tmp/p/q', USER),
      // CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE search any directory (generic_permission)
      code(v.walk('/tmp/p/q/f', true, { uid: 1000, capEffective: CAP_DAC_READ_SEARCH })),
      code(v.walk('/tmp/p/q/f', true, { uid: 1000, capEffective: CAP_DAC_OVERRIDE })),
      // the owner's x bit
      code(v.walk('/tmp/p/q/f', true, { uid: 0, capEffective: 0n })),
    ];
    // the syscall paths pass the process: open, stat and chdir of a uid-1000 process
    m.run(function* (sys) {
      out.push(yield* sys.open('/tmp/p/q/f', O_RDONLY));
      out.push(yield* sys.open('/tmp/p/q/new', O_CREAT | O_RDWR));
      return 0;
    }, { uid: 1000 });
    return out;
  };
  const want = [-EACCES, -EACCES, 'ok', null, 'ok', -ENOTDIR, -EACCES, 'ok', -ELOOP, -EACCES, 'ok', -EACCES, 'ok',
    -EACCES, -EACCES, -EACCES, -EACCES, -EACCES, -EACCES, 'ok', 'ok', 'ok', -EACCES, -EACCES];

  it('3.14: every directory looked up in needs x for the caller', () => {
    expect(era(KERNEL_3_14)).toEqual(want);
  });
  it('v6.12: the same answers', () => {
    expect(era(MAINLINE)).toEqual(want);
  });

  it('".." moves up without checking the directories above; chdir needs x on the directory', () => {
    const m = makeMachine();
    const v = m.vfs;
    expect(v.mkdir('/tmp/o', 0o711)).toBe(0);
    expect(v.mkdir('/tmp/o/in', 0o755)).toBe(0);
    expect(v.mkdir('/tmp/c', 0o600)).toBe(0);
    const r = v.walk('/tmp/o/in/..', true, USER);
    expect(typeof r === 'number' ? r : r.path).toBe('/tmp/o');
    const out: number[] = [];
    abi(m, (call, proc) => {
      proc.uid = 1000;
      proc.capEffective = 0n;
      out.push(call(sysChdir, ARM_NR.chdir, '/tmp/o/in'), call(sysChdir, ARM_NR.chdir, '/tmp/c'));
    });
    expect(out).toEqual([0, -EACCES]);
  });
});

describe('devtmpfs takes user names (drivers/base/devtmpfs.c: a shmem or ramfs)', () => {
  const era = (c: Capabilities): unknown[] => {
    const m = machine(c);
    const v = m.vfs;
    const opens: number[] = [];
    v.addDevNode('/dev/vfio/0', 0o600, () => { opens.push(1); return -ENOENT; });
    const out: unknown[] = [v.mkdir('/dev/x', 0o755), v.mkdir('/dev/x', 0o755), v.mkdir('/dev/x/y', 0o700)];
    write(m, '/dev/x/f', 'data');
    out.push(dataOf(m, '/dev/x/f'), v.symlink('x/f', '/dev/lf'), dataOf(m, '/dev/lf'));
    out.push(v.rename('/dev/x/f', '/dev/g', 0), dataOf(m, '/dev/g'), v.rename('/dev/g', '/tmp/g', 0));
    out.push(v.link(found(m, '/dev/g'), '/dev/g2'), (statOf(m, '/dev/g') as { nlink: number }).nlink);
    out.push(v.remove('/dev/x', true), v.remove('/dev/x/y', true), v.remove('/dev/x', true), v.remove('/dev/g', false));
    // a non-root caller: /dev is root's 0755
    out.push(v.mkdir('/dev/z', 0o755, USER), v.remove('/dev/g2', false, USER));
    // the driver's node: unlinked by a user, the name is gone, removeDevNode does not touch a new one there
    out.push(v.remove('/dev/vfio/0', false), typeof v.walk('/dev/vfio/0', true));
    write(m, '/dev/vfio/0', 'mine');
    v.removeDevNode('/dev/vfio/0');
    out.push(dataOf(m, '/dev/vfio/0'), v.remove('/dev/vfio/0', false), v.remove('/dev/vfio', true), v.addDevNode('/dev/vfio/0', 0o600, () => -ENOENT));
    return out;
  };
  const want = [0, -EEXIST, 0, 'data', 0, 'data', 0, 'data', -EXDEV, 0, 2, -ENOTEMPTY, 0, 0, 0, -EACCES, -EACCES, 0, 'number', 'mine', 0, 0, 0];
  it('3.14: mkdir, O_CREAT, symlink, rename, link, unlink and rmdir under /dev', () => {
    expect(era(KERNEL_3_14)).toEqual(want);
  });
  it('v6.12: the same', () => {
    expect(era(MAINLINE)).toEqual(want);
  });
});
