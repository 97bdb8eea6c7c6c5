import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * procfs from a VFIO program (guest-tests/c/procfs.c; kernel-model/vfs/procfs.ts): /proc/self
 * the link to the pid, /proc/self/fd's links for the container, group, device and eventfd, the
 * /proc/self/maps line of a region mmap, /proc/<pid>/exe and cwd, a zombie's /proc/<pid>, the eventfd's fdinfo per era, and no fd left after the closes; both eras. Mandatory
 * in CI.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('procfs from C (procfs.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: /proc/self, /proc/self/fd links, the region's maps line, no fd leak`, () => {
      const r = runElf({ elf: guestBinary('procfs'), args: ['2c0a0000.dma'], profile });
      expect(r.bind?.ok, r.stdout).toBe(true);
      expect(r.unknownSyscalls).toEqual({});
      const out = lines(r.stdout);
      expect(out[0]).toMatch(/^\/proc\/self -> \d+ \(getpid same\)$/);
      const open = out.filter((l) => l.startsWith('open: '));
      expect(open).toEqual([
        'open: fd 0 -> /dev/console',
        'open: fd 1 -> /dev/console',
        'open: fd 2 -> /dev/console',
        'open: fd 3 -> /dev/vfio/vfio',
        expect.stringMatching(/^open: fd 4 -> \/dev\/vfio\/\d+$/),
        'open: fd 5 -> anon_inode:[vfio-device]',
        'open: fd 6 -> anon_inode:[eventfd]',
      ]);
      // /proc/<pid>/exe and /proc/self/exe: the program's path; /proc/self/cwd after chdir
      expect(out.find((l) => l.startsWith('exe: '))).toMatch(/^exe: \/\S+ \(\/proc\/<pid>\/exe same\)$/);
      expect(out.filter((l) => l.startsWith('cwd: '))).toEqual(['cwd: /tmp']);
      // comm after execve("/proc/self/exe"): kbasename(bprm->filename), the name as given
      expect(out.filter((l) => l.startsWith('comm: '))).toEqual(['comm: Name:\texe']);
      // an exited child stays a zombie: /proc/<pid> until waitpid, its fd/ empty, exe -ENOENT
      expect(out.filter((l) => l.startsWith('zombie: '))).toEqual(['zombie: /proc/<pid> present, fds 0, exe ENOENT; reaped: /proc/<pid> absent']);
      // fdinfo per era (procFdinfo): 3.14 pos, flags, eventfd-count; v6.12 also mnt_id (anon_inodefs), ino, eventfd-id, eventfd-semaphore
      const fdinfo = out.filter((l) => l.startsWith('fdinfo: ')).map((l) => l.slice(8));
      if (profile === 'rfc-v4') expect(fdinfo).toEqual(['pos:\t0', 'flags:\t02', 'eventfd-count:                0']);
      else expect(fdinfo).toEqual(['pos:\t0', 'flags:\t02', 'mnt_id:\t3', expect.stringMatching(/^ino:\t\d+$/), 'eventfd-count:                0', 'eventfd-id: 0', 'eventfd-semaphore: 0']);
      const maps = out.filter((l) => l.startsWith('maps: '));
      expect(maps).toHaveLength(1);
      expect(maps[0]).toMatch(/^maps: rw-s 2c0a0000 00:00 \d+ +anon_inode:\[vfio-device\]$/);
      const tagged = (tag: string): string[] => out.filter((l) => l.startsWith(`${tag}: `)).map((l) => l.slice(tag.length));
      expect(tagged('after')).toEqual(tagged('before'));
      expect(out.at(-1)).toBe('fds before 3 after 3: no leak');
      expect(r.exitStatus, r.stdout).toBe(0);
    });
  }
});
