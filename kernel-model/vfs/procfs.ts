/**
 * procfs's per-process part (fs/proc/root.c, base.c, self.c, fd.c): the entries of /proc that
 * come from the process table rather than from registered files. proc_root_lookup /
 * proc_root_readdir give the registered entries (proc_readdir), then "self" and the pids
 * (proc_pid_readdir: pids ascending); /proc/self is a symbolic link whose text is the tgid of
 * the process following it (proc_self_get_link); with the profile's `procThreadSelf` (v3.17)
 * /proc/thread-self is a link to "<tgid>/task/<tid>" of the thread following it; /proc/<pid>
 * has task/, the registered per-process files (status), fd/, fdinfo/, comm (procfs-comm.ts),
 * maps, cwd, root and exe in the order of tgid_base_stuff (fs/proc/base.c), and task/<tid>/ the
 * same but task/ for each thread of the group (tid_base_stuff). The links (cwd, root, exe,
 * fd/N) are found whatever the task holds; proc_fd_access_allowed (procfs-access.ts) and their
 * proc_get_link decide what readlink and following them answer.
 *
 * Inode numbers (model choice): Linux gives every instantiated /proc/<pid> inode a fresh
 * get_next_ino() (proc_pid_make_inode), which would make later pipes and anonymous inodes
 * depend on whether a program looked at /proc. Here they are computed from (pid, path) in a
 * range of their own (`procIno`), so looking does not move the namespace's counter; the
 * registered per-process files keep the number they got at registration, for every pid, and
 * "self" the one the old /proc/self directory had. The entries below /proc/<id> (a pid, or a
 * thread's tid for /proc/<tid>) are procIno(id, their path below it), task/<tid>/... included,
 * so the numbers of the entries that existed before task/ did not change; "thread-self" (Linux:
 * proc_alloc_inum at boot) is procIno(0, "thread-self"), not a number taken from the counter.
 */
import { shownStart } from '../process/stack-grow.js';
import { ENOENT, ENXIO } from '../base/errno.js';
import type { GuestThread } from '../../emulator/cpu/cpu.js';
import type { Process } from '../process/process.js';
import { DT_DIR, DT_LNK, DT_REG, O_ACCMODE } from '../uapi/constants.js';
import { EACCES } from './errors.js';
import { File, type DirEntry } from './file.js';
import { dirFops, textFops } from './nodes.js';
import { openComm } from './procfs-comm.js';
import { procAccessAllowed, type ProcPtraceAccess } from './procfs-access.js';

export type { ProcPtraceAccess } from './procfs-access.js';
import { dentryPath, dirDPath, isNamedDir } from './dentry.js';
import type { Mount, VNode } from './vfs.js';

/**
 * how an open of /proc/<pid>/fd/N reaches a file that has no path (an anonymous inode): the
 * profile's `procFdAnonOpen`. 'anon-inode-fops': 3.14 anon_inode_mkinode gives the one anon
 * inode anon_inode_fops, an empty file_operations, so the open succeeds with a file that has
 * no read or write (-EINVAL); 'enxio': v6.12 alloc_anon_inode leaves inode_init_always's
 * no_open_fops (fs/inode.c no_open: -ENXIO; "new helper: no_open", Al Viro 2014, v3.19)
 */
export type ProcFdAnonOpen = 'anon-inode-fops' | 'enxio';

/**
 * what /proc/<pid>/fdinfo/N prints: the profile's `procFdinfo` (fs/proc/fd.c seq_show).
 * 'pos-flags': 3.14 "pos:\t%lli\nflags:\t0%o\n"; 'mnt-id-ino': v6.12 also the mount's id
 * ("mnt_id:", 49d063cb3 "proc: show mnt_id in /proc/pid/fdinfo", v3.15) and the inode number
 * ("ino:", the "procfs/dmabuf" commit that added it, v5.14). Then, in both, the
 * file's show_fdinfo (FileOps.showFdinfo), which may print per era too (eventfd).
 */
export type ProcFdinfo = 'pos-flags' | 'mnt-id-ino';

/**
 * mnt_id (model choice): Linux numbers mounts from mnt_id_ida as they are made, internal
 * kern_mounts included (rootfs, sysfs, proc's own, pipefs, anon_inodefs, ...), so the real
 * numbers depend on the config. The model numbers its mounts once, in the order a boot would
 * make them: the root, pipefs (init_pipe_fs) and anon_inodefs (anon_inode_init, both
 * fs_initcall), devtmpfs (devtmpfs_mount), then /proc, /sys and /tmp as init mounts them.
 */
export const MNT_ID: Readonly<Record<Mount | 'pipefs' | 'anon_inodefs', number>> = { root: 1, pipefs: 2, anon_inodefs: 3, dev: 4, proc: 5, sys: 6, tmp: 7 };

/**
 * what procfs needs of the rest of the kernel: the processes and `current`. `processes` gives
 * the live ones and the zombies (exited, not yet reaped: their /proc/<pid> stays until
 * release_task; proc_fd_link, the fd and fdinfo listings and maps find no files or mm,
 * proc_cwd_link, proc_root_link and proc_exe_link -ENOENT: the links are found, their
 * readlink and following fail)
 */
export interface ProcfsHost {
  processes(): Iterable<Process>;
  current(): Process | null;
  /** the thread of `current` whose call runs (null: unknown, taken as the group leader) */
  currentThread?(): GuestThread | null;
}

/**
 * a registered per-process file (Vfs.addProcSelfFile): its text about the process and one of
 * its threads (`tid`: the pid for /proc/<pid>/<name>, the thread's for task/<tid>/<name>), and
 * its inode number
 */
export interface PidFile {
  provider: (proc: Process, tid: number) => string;
  ino: number;
}

/**
 * the thread group as /proc/<pid>/task lists it (fs/proc/base.c proc_task_readdir: first_tid,
 * next_thread, 3.14 and v6.12): the leader first (its tid is the tgid; it stays listed as a
 * zombie while other threads run, and in a zombie process), then the other threads not yet
 * ended (release_task took the ended ones), in creation order (copy_process adds a thread at
 * the tail of the group's list). Model: a thread's tid is its GuestThread's, from the pid space
 * (SyscallLayer.allocPid); the ARM ABI's are what gettid and clone answer, the stub CPU's the
 * same numbers (SyscallLayer.spawn; it has no gettid)
 */
export function groupTids(p: Process): number[] {
  const out = [p.pid];
  for (const th of p.threads) if (th !== p.threads[0] && th.tid !== p.pid && th.state !== 'exited') out.push(th.tid);
  return out;
}

/** the tid of a thread of `p`: the leader's is the pid */
export function tidOf(p: Process, th: GuestThread | null): number {
  return th === null || th === p.threads[0] ? p.pid : th.tid;
}

/** where a per-thread entry is: /proc/<id>/<sub><name> (sub "" or "task/<tid>/") */
interface At {
  id: number;
  sub: string;
}

/**
 * the entries of /proc/<pid> the model has, in tgid_base_stuff's order (fs/proc/base.c, 3.14
 * and v6.12: DIR("task"), DIR("fd"), DIR("fdinfo"), ... ONE("status"), ... REG("comm"), ... REG("maps"), ...
 * LNK("cwd"), LNK("root"), LNK("exe")); registered files the array does not name come after,
 * by name. /proc/<pid>/task/<tid> has tid_base_stuff's, the same without "task" (DIR("fd"),
 * DIR("fdinfo"), ... ONE("status"), ... REG("comm"), ... REG("maps"), ... LNK("cwd"),
 * LNK("root"), LNK("exe")); "comm" comes after "status" and before "maps" in both lists
 */
const TGID_BASE_ORDER = ['task', 'fd', 'fdinfo', 'status', 'comm', 'maps', 'cwd', 'root', 'exe'];

/** the entries procfs.ts makes itself (the rest of TGID_BASE_ORDER are registered files) */
const BUILTIN = ['task', 'fd', 'fdinfo', 'comm', 'maps', 'cwd', 'root', 'exe'];

/** the d_type of a per-process entry */
const entryType = (name: string): number => (name === 'task' || name === 'fd' || name === 'fdinfo' ? DT_DIR : name === 'cwd' || name === 'root' || name === 'exe' ? DT_LNK : DT_REG);

/** inode numbers of the per-process entries: a hash of the pid and the path below it, in [3e6, 4e6) */
export function procIno(pid: number, sub: string): number {
  const s = `${pid}/${sub}`;
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return (h % 1_000_000) + 3_000_000;
}

/**
 * d_path of an open file, as /proc/<pid>/fd/N and maps show it (fs/proc/fd.c proc_fd_link ->
 * d_path: 3.14 fs/dcache.c, v6.12 fs/d_path.c, alike): a file opened by a name that can change
 * (tmpfs, devtmpfs: its dentry) that name now, with " (deleted)" appended once it was unlinked
 * or replaced (d_unlinked); a tmpfs or devtmpfs directory its path now (" (deleted)" once
 * removed); a file elsewhere the path it was opened at (those names never change); a pipe
 * "pipe:[<ino>]" (fs/pipe.c pipefs_dname); an anonymous inode "anon_inode:<name>"
 * (fs/anon_inodes.c anon_inodefs_dname, the name anon_inode_getfile got).
 */
export function fdPath(f: File): string {
  if (f.path === 'pipe:') return `pipe:[${f.ino}]`;
  if (f.dentry !== null) return dentryPath(f.dentry);
  if (f.ops === dirFops) return dirDPath(f.priv as VNode, f.path);
  return f.path;
}

/** canonical decimal (fs/proc/fd.c name_to_int: no sign, no leading zero, fits an int) or -1 */
function nameToInt(name: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(name)) return -1;
  const n = Number(name);
  return n <= 0x7fffffff ? n : -1;
}

export class Procfs {
  constructor(
    private readonly host: ProcfsHost,
    private readonly anonOpen: ProcFdAnonOpen,
    /** the registered per-process files, by name */
    private readonly files: ReadonlyMap<string, PidFile>,
    /** the inode of the /proc/self link (proc_setup_self's self_inum) */
    private readonly selfIno: () => number,
    /** the inode number fstat gives an open file (its node's, the anonymous inode's) */
    private readonly fileIno: (f: File) => number,
    /** the profile's procFdinfo */
    private readonly fdinfoFormat: ProcFdinfo = 'pos-flags',
    /** the mount of a path-backed open file (its f_path.mnt) */
    private readonly fileMount: (f: File) => Mount = () => 'root',
    /** the profile's procThreadSelf: /proc/thread-self exists (v3.17) */
    private readonly threadSelf = false,
    /** the profile's procPtraceAccess: proc_fd_access_allowed's check (procfs-access.ts) */
    private readonly ptraceAccess: ProcPtraceAccess = 'read-realcreds',
  ) {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  /**
   * a link of /proc/<pid> (cwd, root, exe, fd/N) as proc_pid_readlink / proc_pid_get_link
   * answer it for the current caller: refused by proc_fd_access_allowed, -EACCES (whatever
   * proc_get_link would say); else the link as given
   */
  private guarded(p: Process, link: VNode & { kind: 'link' }): VNode {
    return procAccessAllowed(this.host.current(), p, this.ptraceAccess) ? link : { kind: 'link', ino: link.ino, target: '', uid: link.uid, err: EACCES };
  }

  /** the process (live or zombie) with this pid (find_task_by_pid_ns), or null */
  private process(pid: number): Process | null {
    for (const p of this.host.processes()) if (p.pid === pid) return p;
    return null;
  }

  /** the processes (live and zombies) by pid ascending (next_tgid's walk of the pid idr) */
  private pids(): Process[] {
    return [...this.host.processes()].sort((a, b) => a.pid - b.pid);
  }

  /**
   * proc_root_lookup's part past the registered entries: "self" (fs/proc/self.c: a link whose
   * text is the follower's tgid, proc_self_get_link; with no current process -ENOENT when
   * followed: the empty text), with `procThreadSelf` "thread-self" (fs/proc/thread_self.c
   * proc_thread_self_get_link, 0097875bd415, v3.17: "<tgid>/task/<tid>" of the follower; in
   * 3.14 no such entry, -ENOENT) and "<pid>" (proc_pid_lookup, name_to_int,
   * find_task_by_pid_ns: any task, so a thread's tid finds /proc/<tid>, a directory like the
   * leader's whose status is the thread's, though /proc's listing has only the tgids; 3.14
   * and v6.12 alike)
   */
  lookup(name: string): VNode | null {
    if (name === 'self') {
      const cur = this.host.current();
      return { kind: 'link', ino: this.selfIno(), target: cur === null ? '' : String(cur.pid) };
    }
    if (name === 'thread-self' && this.threadSelf) {
      const cur = this.host.current();
      const tid = cur === null ? 0 : tidOf(cur, this.host.currentThread?.() ?? null);
      return { kind: 'link', ino: procIno(0, 'thread-self'), target: cur === null ? '' : `${cur.pid}/task/${tid}` };
    }
    const id = nameToInt(name);
    if (id < 0) return null;
    const p = this.process(id);
    if (p !== null) return this.pidDir(p, p.pid);
    // a thread that is not a group leader (a live one: release_task freed the ended)
    for (const q of this.pids()) if (groupTids(q).includes(id)) return this.pidDir(q, id);
    return null;
  }

  /**
   * proc_pid_readdir after the registered entries (proc_root_readdir): "self", with
   * `procThreadSelf` "thread-self" (TGID_OFFSET - 1, v3.17), then the tgids ascending
   */
  list(): DirEntry[] {
    return [
      { name: 'self', ino: this.selfIno(), type: DT_LNK },
      ...(this.threadSelf ? [{ name: 'thread-self', ino: procIno(0, 'thread-self'), type: DT_LNK }] : []),
      ...this.pids().map((p) => ({ name: String(p.pid), ino: procIno(p.pid, ''), type: DT_DIR })),
    ];
  }

  /** the per-process entries in tgid_base_stuff's order (`task` true) or tid_base_stuff's */
  private entryNames(task: boolean): string[] {
    const named = TGID_BASE_ORDER.filter((n) => (task || n !== 'task') && (BUILTIN.includes(n) || this.files.has(n)));
    return [...named, ...[...this.files.keys()].filter((n) => !TGID_BASE_ORDER.includes(n)).sort()];
  }

  /**
   * /proc/<id> for the thread `id` of `p` (the pid: the process's; proc_pid_instantiate:
   * S_IFDIR 0555, owned by the task's euid; proc_tgid_base_operations)
   */
  private pidDir(p: Process, id: number): VNode {
    const names = this.entryNames(true);
    const at: At = { id, sub: '' };
    return {
      kind: 'dir',
      mode: 0o555,
      ino: procIno(id, ''),
      uid: p.uid,
      lookup: (name) => (names.includes(name) ? this.pidEntry(p, id, name, at) : null),
      list: () => names.map((name) => ({ name, ino: this.pidEntry(p, id, name, at)?.ino ?? procIno(id, name), type: entryType(name) })),
    };
  }

  /**
   * /proc/<id>/task (proc_task_lookup, proc_task_readdir; DIR("task", S_IRUGO|S_IXUGO)): the
   * group's threads (groupTids), each a directory; a tid of another group or an ended thread
   * -ENOENT (same_thread_group)
   */
  private taskDir(p: Process, id: number): VNode {
    return {
      kind: 'dir',
      mode: 0o555,
      ino: procIno(id, 'task'),
      uid: p.uid,
      lookup: (name) => {
        const tid = nameToInt(name);
        return tid >= 0 && groupTids(p).includes(tid) ? this.tidDir(p, id, tid) : null;
      },
      list: () => groupTids(p).map((tid) => ({ name: String(tid), ino: procIno(id, `task/${tid}`), type: DT_DIR })),
    };
  }

  /** /proc/<id>/task/<tid> (proc_task_instantiate: S_IFDIR 0555; proc_tid_base_operations) */
  private tidDir(p: Process, id: number, tid: number): VNode {
    const names = this.entryNames(false);
    const at: At = { id, sub: `task/${tid}/` };
    return {
      kind: 'dir',
      mode: 0o555,
      ino: procIno(id, `task/${tid}`),
      uid: p.uid,
      lookup: (name) => (names.includes(name) ? this.pidEntry(p, tid, name, at) : null),
      list: () => names.map((name) => ({ name, ino: this.pidEntry(p, tid, name, at)?.ino ?? procIno(id, at.sub + name), type: entryType(name) })),
    };
  }

  /**
   * an entry of /proc/<id> or /proc/<id>/task/<tid> about the thread `tid` of `p`: the files,
   * mm and fs the threads share (CLONE_FILES, CLONE_VM, CLONE_FS: all of the model's threads)
   * give the same fd/, fdinfo/, maps, cwd and exe; status is the thread's
   */
  private pidEntry(p: Process, tid: number, name: string, at: At): VNode | null {
    const ino = procIno(at.id, at.sub + name);
    if (name === 'task') return this.taskDir(p, at.id);
    if (name === 'fd') return this.fdDir(p, at);
    if (name === 'fdinfo') return this.fdinfoDir(p, at);
    // the links (proc_pid_link_inode_operations, 3.14 and v6.12): the entry is found whatever
    // the task holds (proc_pident_lookup); readlink (proc_pid_readlink) and following it
    // (3.14 proc_pid_follow_link, v6.12 proc_pid_get_link) call the entry's proc_get_link,
    // whose -ENOENT they answer: `err`. proc_fd_access_allowed's ptrace_may_access check
    // before it is procfs-access.ts's (`guarded`: -EACCES first), fd/N's too.
    // proc_cwd_link: fs->pwd, none once exit_fs ran (a zombie); the text is its d_path
    // (" (deleted)" once removed) and following it jumps to the directory itself (nd_jump_link)
    if (name === 'cwd') {
      if (!p.alive) return this.guarded(p, { kind: 'link', ino, target: '', uid: p.uid, err: ENOENT });
      const cwd = p.cwdAt;
      return this.guarded(p, { kind: 'link', ino, target: p.cwd, uid: p.uid, ...(cwd !== null && isNamedDir(cwd.node) ? { jump: () => cwd.node } : {}) });
    }
    // proc_root_link -> get_task_root: fs->root, none once exit_fs ran. The model has no
    // chroot (nor mount namespaces): every process's root is the namespace's, "/"
    if (name === 'root') return this.guarded(p, p.alive ? { kind: 'link', ino, target: '/', uid: p.uid } : { kind: 'link', ino, target: '', uid: p.uid, err: ENOENT });
    // proc_exe_link: mm->exe_file (3.14 get_mm_exe_file, v6.12 get_task_exe_file), none for a
    // process without an executable (a stub-CPU program) or a zombie (its mm went): -ENOENT.
    // The text is the file's d_path (its current name, " (deleted)" once unlinked); following
    // it jumps to the file when it has a dentry; one found elsewhere is reached by its path
    // (those names never change)
    if (name === 'exe') {
      const exe = p.exe;
      if (exe === null) return this.guarded(p, { kind: 'link', ino, target: '', uid: p.uid, err: ENOENT });
      const d = p.exeDentry;
      return this.guarded(p, { kind: 'link', ino, target: exe, uid: p.uid, ...(d !== null ? { jump: () => d.node, jumpDentry: d } : {}) });
    }
    // REG("comm", S_IRUGO|S_IWUSR): the thread's comm, written by its thread group (procfs-comm.ts)
    if (name === 'comm') {
      return {
        kind: 'file',
        mode: 0o644,
        ino,
        uid: p.uid,
        open: (flags) => openComm({ proc: p, tid, current: () => this.host.current(), present: () => this.process(p.pid) === p }, flags, `/proc/${at.id}/${at.sub}comm`),
      };
    }
    if (name === 'maps') return this.textFile(p, at, 'maps', ino, () => procMaps(p, this.fileIno));
    const f = this.files.get(name);
    return f === undefined ? null : this.textFile(p, at, name, f.ino, () => f.provider(p, tid));
  }

  /**
   * a read-only text file about `p` (proc_single_show / seq_file users: 0444), its text
   * computed at each read; open for writing -EACCES
   */
  private textFile(p: Process, at: At, name: string, ino: number, show: () => string): VNode {
    return {
      kind: 'file',
      mode: 0o444,
      ino,
      uid: p.uid,
      open: (flags) => ((flags & O_ACCMODE) !== 0 ? -EACCES : new File(textFops, { show }, flags, `/proc/${at.id}/${at.sub}${name}`)),
    };
  }

  /** /proc/<pid>/fd (fs/proc/fd.c: S_IFDIR|S_IRUSR|S_IXUSR, proc_readfd: the open fds ascending, each DT_LNK) */
  private fdDir(p: Process, at: At): VNode {
    return {
      kind: 'dir',
      mode: 0o500,
      ino: procIno(at.id, `${at.sub}fd`),
      uid: p.uid,
      lookup: (name) => {
        const fd = nameToInt(name);
        const f = fd < 0 ? null : p.fdget(fd);
        if (f === null) return null;
        const link = this.fdLink(p, fd, f, procIno(at.id, `${at.sub}fd/${fd}`));
        return link.kind === 'link' ? this.guarded(p, link) : link;
      },
      list: () => p.openFds.map((fd) => ({ name: String(fd), ino: procIno(at.id, `${at.sub}fd/${fd}`), type: DT_LNK })),
    };
  }

  /**
   * /proc/<pid>/fd/N (proc_fd_instantiate, proc_pid_readlink / proc_fd_link): readlink gives
   * the file's d_path; following it jumps to the file itself (nd_jump_link). A path-backed file
   * is reached by its path here (the same node while it stays there); a pipe or an anonymous
   * inode through `jump`: the anonymous inode's open is the profile's `procFdAnonOpen`; a pipe's
   * (fifo_open on the pipefs inode: another reader or writer of the same pipe) is not modelled:
   * -ENXIO.
   */
  private fdLink(p: Process, fd: number, f: File, ino: number): VNode {
    const target = fdPath(f);
    // a file opened by a name that can change: the jump lands on its inode at that name (which
    // may have moved or gone); a directory that follows renames: on the directory itself
    const dentry = f.dentry;
    if (dentry !== null) return { kind: 'link', ino, target, uid: p.uid, jump: () => dentry.node, jumpDentry: dentry };
    if (f.ops === dirFops && isNamedDir(f.priv as VNode)) return { kind: 'link', ino, target, uid: p.uid, jump: () => f.priv as VNode };
    if (target.startsWith('/')) return { kind: 'link', ino, target, uid: p.uid };
    const anon = target.startsWith('anon_inode:');
    const node: VNode = {
      kind: 'file',
      mode: 0o600,
      ino: f.ino,
      uid: p.uid,
      open: (flags) => (anon && this.anonOpen === 'anon-inode-fops' ? new File({ name: 'anon_inode_fops' }, null, flags, target) : -ENXIO),
    };
    return { kind: 'link', ino, target, uid: p.uid, jump: () => node };
  }

  /**
   * /proc/<pid>/fdinfo (fs/proc/fd.c: S_IFDIR|S_IRUSR|S_IXUSR; proc_fdinfo_instantiate: S_IFREG
   * S_IRUSR files named by fd)
   */
  private fdinfoDir(p: Process, at: At): VNode {
    return {
      kind: 'dir',
      mode: 0o500,
      ino: procIno(at.id, `${at.sub}fdinfo`),
      uid: p.uid,
      lookup: (name) => {
        const fd = nameToInt(name);
        if (fd < 0 || p.fdget(fd) === null) return null;
        return {
          kind: 'file',
          mode: 0o400,
          ino: procIno(at.id, `${at.sub}fdinfo/${fd}`),
          uid: p.uid,
          open: (flags) => {
            if ((flags & O_ACCMODE) !== 0) return -EACCES;
            // seq_show reads the fd at each read: a closed fd then -ENOENT
            return new File(textFops, { show: () => { const f = p.fdget(fd); return f === null ? -ENOENT : this.fdinfo(p, fd, f); } }, flags, `/proc/${at.id}/${at.sub}fdinfo/${fd}`);
          },
        };
      },
      list: () => p.openFds.map((fd) => ({ name: String(fd), ino: procIno(at.id, `${at.sub}fdinfo/${fd}`), type: DT_REG })),
    };
  }

  /**
   * fs/proc/fd.c seq_show (3.14, v6.12): "pos:" and "flags:" (octal, the fd's close-on-exec as
   * O_CLOEXEC); with 'mnt-id-ino' then "mnt_id:" (MNT_ID: a pipe's pipefs, an anonymous
   * inode's anon_inodefs, else the mount the path is on) and "ino:" (file_inode's i_ino, as
   * fstat shows it); then the file's show_fdinfo. show_fd_locks' "lock:" lines are not
   * modelled (the model has no file locks).
   */
  private fdinfo(p: Process, fd: number, f: File): string {
    const cloexec = p.fdEntry(fd)?.cloexec === true ? 0o2000000 : 0;
    let out = `pos:\t${f.pos}\nflags:\t0${(f.flags | cloexec).toString(8)}\n`;
    if (this.fdinfoFormat === 'mnt-id-ino') {
      const mnt = f.path === 'pipe:' ? MNT_ID.pipefs : f.path.startsWith('anon_inode:') ? MNT_ID.anon_inodefs : MNT_ID[this.fileMount(f)];
      out += `mnt_id:\t${mnt}\nino:\t${this.fileIno(f) >>> 0}\n`;
    }
    return out + (f.ops.showFdinfo?.(f, this.fdinfoFormat) ?? '');
  }
}


const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/**
 * /proc/<pid>/maps (fs/proc/task_mmu.c show_map_vma; 3.14 and v6.12 print the same): per VMA
 * "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " (start, end, r/w/x and 's' for VM_MAYSHARE else
 * 'p', the offset, the device, the inode), then, when the VMA has a name, spaces to column 49
 * (3.14 pad_len_spaces: 25 + sizeof(void *) * 6 on this 32-bit kernel, at least one; v6.12
 * seq_setwidth/seq_pad to the same column) and the name: a mapped file's d_path (an anonymous
 * inode's "anon_inode:[vfio-device]", a device node's path), a shared anonymous mapping's shmem
 * file "/dev/zero (deleted)" (shmem_zero_setup), else "[heap]" where the VMA meets
 * [start_brk, brk] and "[stack]" where it holds start_stack. The offset is vm_pgoff << PAGE_SHIFT
 * for a file mapping (0 for anonymous memory); a remap_pfn_range'd VFIO region's vm_pgoff is
 * the region's physical page (vfio_platform_mmap_mmio sets it), so the physical address shows.
 * The device is 00:00 (the model gives every file system st_dev 0); a shared anonymous
 * mapping's shmem inode is not modelled (0).
 */
export function procMaps(p: Process, fileIno: (f: File) => number): string {
  const mm = p.mm;
  let out = '';
  for (const v of mm.mappings) {
    const f = v.file ?? null;
    const shared = (v.flags & 1) !== 0; // MAP_SHARED: VM_MAYSHARE
    const flags = `${(v.prot & 1) !== 0 ? 'r' : '-'}${(v.prot & 2) !== 0 ? 'w' : '-'}${(v.prot & 4) !== 0 ? 'x' : '-'}${shared ? 's' : 'p'}`;
    let off = 0;
    let ino = 0;
    let name = '';
    if (f !== null) {
      off = v.kind === 'pfn' ? v.pfnBase : v.pgoff * 4096;
      ino = fileIno(f);
      name = fdPath(f);
    } else if (v.shm != null) {
      off = v.pgoff * 4096;
      name = '/dev/zero (deleted)';
    } else if (mm.startBrk !== 0 && v.start <= mm.brk && v.end >= mm.startBrk) {
      name = '[heap]';
    } else if (mm.startStack !== 0 && v.start <= mm.startStack && v.end >= mm.startStack) {
      name = '[stack]';
    }
    // 3.14 hides the stack's guard page (stack-grow.ts shownStart)
    let line = `${hex8(shownStart(mm.mappings, v, mm.stackGuard))}-${hex8(v.end)} ${flags} ${hex8(off)} 00:00 ${ino >>> 0} `;
    if (name !== '') line += ' '.repeat(Math.max(49 - line.length, 1)) + name;
    out += line + '\n';
  }
  return out;
}
