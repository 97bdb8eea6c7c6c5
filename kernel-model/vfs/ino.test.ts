import { describe, expect, it } from 'vitest';
import { fileStat } from '../syscall/stat.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, O_DIRECTORY, O_RDONLY, PROT_READ, PROT_WRITE } from '../uapi/index.js';
import { makeMachine } from '../syscall/testing/machine.js';
import { ThreadTask } from '../syscall/task.js';

/** a fresh machine's /dev/vfio listing: d_ino of each entry */
function inodes(): number[] {
  const m = makeMachine();
  m.vfs.addDevNode('/dev/vfio/7', 0o600, () => -19);
  const dir: number[] = [];
  m.run(function* (sys) {
    const buf = yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const fd = yield* sys.open('/dev/vfio', O_RDONLY | O_DIRECTORY);
    const n = yield* sys.getdents64(fd, buf, 4096);
    for (let o = 0; o < n; o += sys.mem.read16(buf + o + 16)) dir.push(sys.mem.read32(buf + o));
    return 0;
  });
  return dir;
}

describe('inode numbers (fs/inode.c get_next_ino, per machine)', () => {
  it('are the same in two identical machines of one host process', () => {
    const a = inodes();
    expect(a.length).toBe(3); // ., .., 7
    expect(inodes()).toEqual(a);
  });

  it('a pipe has one inode for both ends; anonymous-inode files share the one anon_inode_inode', () => {
    const m = makeMachine();
    let ptr = 0;
    let efds: number[] = [];
    const { proc } = m.start(function* (sys) {
      ptr = yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      efds = [yield* sys.eventfd(0, 0), yield* sys.eventfd(0, 0)];
      return yield* sys.read(efds[0]!, ptr + 64, 8); // blocks: the process stays alive
    });
    m.sched.runUntilPredicate(() => efds.length === 2, { within: 1_000_000 });
    const t = new ThreadTask(proc, null);
    expect(m.sys.sysPipe2(t, ptr, 0)).toBe(0);
    expect(m.sys.sysPipe2(t, ptr + 8, 0)).toBe(0);
    const st = (fd: number) => fileStat(m.vfs, proc.fdget(fd)!);
    const [r1, w1, r2, w2] = [0, 4, 8, 12].map((o) => st(proc.mm.getUser32(ptr + o)));
    expect(r1!.ino).toBe(w1!.ino);
    expect(r2!.ino).toBe(w2!.ino);
    expect(r2!.ino).not.toBe(r1!.ino);
    const [e1, e2] = efds.map(st);
    expect(e1!.ino).toBe(m.vfs.anonIno);
    expect(e2!.ino).toBe(e1!.ino);
    expect(e1!.ino).not.toBe(r1!.ino);
  });
});
