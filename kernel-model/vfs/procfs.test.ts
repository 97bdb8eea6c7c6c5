import { describe, expect, it } from 'vitest';
import { System } from '../../tools/system/system.js';
import { EACCES, EINVAL, ENOENT, ENXIO, MAP_SHARED, O_RDONLY, PROT_READ, PROT_WRITE } from '../uapi/index.js';
import { setup, User } from '../vfio/platform/testing/user.js';
import { File } from './file.js';

const ERAS = [['rfc-v4', '3.14'], ['mainline', 'v6.12']] as const;

describe('procfs per-process entries (fs/proc/root.c, base.c, self.c, fd.c, task_mmu.c)', () => {
  for (const [profile, era] of ERAS) {
    it(`${era}: /proc lists its files, self, then the live pids ascending; /proc/self is a link to the reader's pid; /proc/<pid> has fd, fdinfo, status, maps`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const b = new User(sys, 'b', { uid: 1000 });
      // thread-self (v3.17, procThreadSelf) after self (proc_pid_readdir's TGID_OFFSET - 1)
      const selves = era === 'v6.12' ? ['self', 'thread-self'] : ['self'];
      expect(a.list('/proc')).toEqual(['.', '..', 'interrupts', ...selves, String(a.proc.pid), String(b.proc.pid)]);
      expect(a.readlink('/proc/self')).toBe(String(a.proc.pid));
      expect(b.readlink('/proc/self')).toBe(String(b.proc.pid));
      expect(a.list('/proc/self')).toEqual(['.', '..', 'task', 'fd', 'fdinfo', 'status', 'comm', 'maps', 'cwd', 'root', 'exe']);
      expect(a.cat(`/proc/${b.proc.pid}/status`)).toContain(`Pid:\t${b.proc.pid}\n`);
      // /proc/<pid>/fd is S_IRUSR|S_IXUSR of the task's owner: another user cannot list it
      expect(b.list(`/proc/${a.proc.pid}/fd`)).toBe(-EACCES);
      expect(a.cat('/proc/0/status')).toBe(-ENOENT);
      expect(a.cat('/proc/01/status')).toBe(-ENOENT);
      sys.syscalls.exitProcess(b.proc);
      expect(a.list('/proc')).toEqual(['.', '..', 'interrupts', ...selves, String(a.proc.pid)]);
      expect(a.cat(`/proc/${b.proc.pid}/status`)).toBe(-ENOENT);
    });

    it(`${era}: /proc/self/fd lists the open fds ascending, each a link to what d_path names (the group node, anon_inode:[vfio-device], anon_inode:[eventfd], pipe:[ino]); closing removes them`, () => {
      const { sys, u, device } = setup(profile);
      const efd = u.call('eventfd2', [0, 0]);
      const t = sys.syscalls.taskOf(u.proc, null);
      expect(sys.syscalls.sysPipe2(t, u.page, 0)).toBe(0);
      const [r, w] = [u.mem.read32(u.page), u.mem.read32(u.page + 4)];
      const names = u.list('/proc/self/fd') as string[];
      // the listing's own fd is among them, as in Linux
      const fds = names.slice(2).map(Number);
      expect(fds).toEqual([...fds].sort((x, y) => x - y));
      // setup opened the container, the group and the device in that order (User has no stdio)
      const [container, group] = [device - 2, device - 1];
      expect(fds).toEqual(expect.arrayContaining([container, group, device, efd, r, w]));
      const links = Object.fromEntries(fds.map((fd) => [fd, u.readlink(`/proc/self/fd/${fd}`)]));
      expect(links[container]).toBe('/dev/vfio/vfio');
      expect(links[device]).toBe('anon_inode:[vfio-device]');
      expect(links[efd]).toBe('anon_inode:[eventfd]');
      expect(links[r]).toMatch(/^pipe:\[\d+\]$/);
      expect(links[w]).toBe(links[r]);
      expect(String(links[group])).toMatch(/^\/dev\/vfio\/\d+$/);
      // re-opening: a path-backed file opens its path again; an anonymous inode per era; a pipe not modelled
      const again = u.open(`/proc/self/fd/${container}`, O_RDONLY);
      expect(again).toBeGreaterThan(0);
      expect(u.readlink(`/proc/self/fd/${again}`)).toBe('/dev/vfio/vfio');
      const anon = u.open(`/proc/self/fd/${efd}`, O_RDONLY);
      if (era === '3.14') {
        expect(anon).toBeGreaterThan(0);
        expect(u.call('read', [anon, u.page + 0x800, 8])).toBe(-EINVAL);
      } else {
        expect(anon).toBe(-ENXIO);
      }
      expect(u.open(`/proc/self/fd/${r}`, O_RDONLY)).toBe(-ENXIO);
      // fdinfo: pos and flags in octal, then eventfd_show_fdinfo (v6.12: mnt_id, ino, id, semaphore too)
      const count = 'eventfd-count:                0\n';
      if (era === '3.14') expect(u.cat(`/proc/self/fdinfo/${efd}`)).toBe(`pos:\t0\nflags:\t02\n${count}`);
      else expect(u.cat(`/proc/self/fdinfo/${efd}`)).toBe(`pos:\t0\nflags:\t02\nmnt_id:\t3\nino:\t${sys.vfs.anonIno}\n${count}eventfd-id: 0\neventfd-semaphore: 0\n`);
      for (const fd of [device, efd, r, w, again]) u.call('close', [fd]);
      if (anon > 0) u.call('close', [anon]);
      const after = (u.list('/proc/self/fd') as string[]).slice(2).map(Number);
      // the container and the group, and the listing's own fd (the lowest free number: the device's)
      expect(after).toEqual([container, group, device]);
      expect(u.readlink(`/proc/self/fd/${device}`)).toBe(-ENOENT);
    });

    it(`${era}: /proc/<pid>/fdinfo/N: pos, flags (O_CLOEXEC from the fd), ${era === '3.14' ? 'no mnt_id or ino' : 'mnt_id per mount and the inode'}; eventfd's count${era === '3.14' ? '' : ', its id (lowest free, reused) and EFD_SEMAPHORE'}`, () => {
      const { sys, u } = setup(profile);
      const e1 = u.call('eventfd2', [0x1234, 0o2000000 | 1]); // EFD_CLOEXEC | EFD_SEMAPHORE
      const e2 = u.call('eventfd2', [0, 0]);
      const t = sys.syscalls.taskOf(u.proc, null);
      expect(sys.syscalls.sysPipe2(t, u.page, 0)).toBe(0);
      const r = u.mem.read32(u.page);
      const cons = u.open('/proc/self/status', O_RDONLY);
      expect(u.call('read', [cons, u.page + 0x800, 5])).toBe(5);
      const lines = (fd: number): string[] => String(u.cat(`/proc/${u.proc.pid}/fdinfo/${fd}`)).split('\n');
      if (era === '3.14') {
        expect(lines(e1)).toEqual(['pos:\t0', 'flags:\t02000002', 'eventfd-count:             1234', '']);
        expect(lines(r)).toEqual(['pos:\t0', 'flags:\t00', '']);
        expect(lines(cons)).toEqual(['pos:\t5', 'flags:\t00', '']);
      } else {
        expect(lines(e1)).toEqual(['pos:\t0', 'flags:\t02000002', 'mnt_id:\t3', `ino:\t${sys.vfs.anonIno}`, 'eventfd-count:             1234', 'eventfd-id: 0', 'eventfd-semaphore: 1', '']);
        expect(lines(e2).slice(4)).toEqual(['eventfd-count:                0', 'eventfd-id: 1', 'eventfd-semaphore: 0', '']);
        expect(lines(r)).toEqual(['pos:\t0', 'flags:\t00', 'mnt_id:\t2', expect.stringMatching(/^ino:\t[1-9]\d*$/), '']);
        expect(lines(r)[3]).toBe(`ino:\t${/\d+/.exec(String(u.readlink(`/proc/self/fd/${r}`)))![0]}`);
        expect(lines(cons).slice(0, 3)).toEqual(['pos:\t5', 'flags:\t00', 'mnt_id:\t5']);
        // ida_alloc: a closed eventfd's id is the next one's
        u.call('close', [e1]);
        const e3 = u.call('eventfd2', [0, 0]);
        expect(lines(e3)[5]).toBe('eventfd-id: 0');
      }
    });

    it(`${era}: /proc/self/maps: a VFIO region mmap shows the device file, shared, the region's physical address as offset`, () => {
      const { u, device } = setup(profile);
      const reg = u.regionInfo(device, 0);
      expect(reg.ret).toBe(0);
      const va = u.call('mmap2', [0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, device, Number(reg.offset) / 4096]);
      expect(va).toBeGreaterThan(0);
      const maps = String(u.cat('/proc/self/maps')).split('\n').filter((l) => l.length > 0);
      // the scratch page (anonymous, private) and the region
      expect(maps).toHaveLength(2);
      const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
      const line = maps.find((l) => l.startsWith(hex(va)))!;
      expect(line.slice(0, 49)).toMatch(new RegExp(`^${hex(va)}-${hex(va + 4096)} rw-s 2c0a0000 00:00 \\d+ +$`));
      expect(line.slice(49)).toBe('anon_inode:[vfio-device]');
      expect(maps.find((l) => l.startsWith(hex(u.page)))).toBe(`${hex(u.page)}-${hex(u.page + 4096)} rw-p 00000000 00:00 0 `);
    });
  }

  for (const [profile, era] of ERAS) {
    it(`${era}: /proc/<pid>/cwd and /proc/<pid>/exe are links to the cwd and the executable (proc_cwd_link, proc_exe_link); no executable: -ENOENT`, () => {
      const sys = new System({ profile });
      const a = new User(sys, 'a');
      const b = new User(sys, 'b');
      expect(a.readlink(`/proc/${b.proc.pid}/cwd`)).toBe('/');
      b.proc.cwdAt = { node: sys.vfs.tmp.root, path: '/tmp' };
      expect(a.readlink(`/proc/${b.proc.pid}/cwd`)).toBe('/tmp');
      expect(b.readlink('/proc/self/cwd')).toBe('/tmp');
      expect(a.readlink('/proc/self/cwd')).toBe('/');
      // a stub-CPU process has no mm->exe_file
      expect(a.readlink('/proc/self/exe')).toBe(-ENOENT);
      b.proc.setExeFile(new File({ name: 'execfs' }, null, 0, '/bin/busybox'));
      expect(a.readlink(`/proc/${b.proc.pid}/exe`)).toBe('/bin/busybox');
      expect(b.readlink('/proc/self/exe')).toBe('/bin/busybox');
    });
  }

  it('/proc/self/status and chmod keep their answers through the link (proc_setattr -EPERM)', () => {
    const sys = new System({ profile: 'mainline' });
    const a = new User(sys, 'a');
    expect(a.cat('/proc/self/status')).toContain(`Tgid:\t${a.proc.pid}\n`);
    const self = sys.vfs.walk(`/proc/${a.proc.pid}/status`, true);
    expect(typeof self === 'number' ? self : sys.vfs.chmod(self.node, self.path, 0o600)).toBe(-1);
  });
});
