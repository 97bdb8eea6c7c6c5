import { copyFileSync, chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * mmap of regular files from C (guest-tests/c/filemap.c; kernel-model/process/filemap.ts,
 * vfs/tmpfs.ts, vfs/rootfs.ts): tmpfs MAP_SHARED and MAP_PRIVATE, SIGBUS past the end of the
 * file (also after ftruncate), do_mmap's checks, msync, /proc/self/maps; the read-only rootfs.
 * Both eras answer alike. Mandatory in CI.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('mmap of regular files from C (filemap.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: shared and private file mappings as shmem_fault / filemap_fault give them`, () => {
      const root = mkdtempSync(join(tmpdir(), 'vfio-filemap-'));
      mkdirSync(join(root, 'bin'));
      copyFileSync(guestBinary('filemap'), join(root, 'bin/filemap'));
      chmodSync(join(root, 'bin/filemap'), 0o755);
      const r = runElf({ elf: join(root, 'bin/filemap'), argv0: '/bin/filemap', rootfs: root, bind: null, profile });
      expect(r.unknownSyscalls).toEqual({});
      expect(lines(r.stdout)).toEqual([
        '-- MAP_SHARED',
        'byte 3: 21, byte 4106 through the second mapping: 70',
        'store 0xab: second mapping 0xab, pread 0xab',
        'pwrite 0x5a at 20: mapping 0x5a',
        'past the end in the last page: byte 5999 9, 6000 0, 8191 0',
        'a fork child\'s store: 0xcd',
        'msync MS_SYNC: 0, MS_ASYNC|MS_SYNC: EINVAL, unaligned: EINVAL',
        '-- MAP_PRIVATE',
        'byte 1: 7',
        'after a shared store of 0x11: 0x11',
        'after its own store to the page: byte 1 0x11, byte 2 0x22, the file\'s byte 2 14, byte 1 0x33',
        'the page not written sees pwrite: 0x44',
        'a fork child: saw its copy yes, its store stays its own: 21',
        '-- checks',
        'O_WRONLY: EACCES',
        'O_RDONLY MAP_SHARED PROT_WRITE: EACCES',
        'offset 100: EINVAL',
        'O_RDONLY MAP_SHARED PROT_READ: ok, mprotect writable: EACCES',
        'maps: 2 pages rw-s offset 0 inode =st_ino /tmp/f',
        'maps: 1 pages r--s offset 1000 inode =st_ino /tmp/f',
        'maps: 2 pages rw-p offset 0 inode =st_ino /tmp/f',
        'maps: 1 pages r--s offset 0 inode =st_ino /tmp/f',
        '-- SIGBUS',
        'page 1 (partial): 188',
        'page 2 of 3 (past the end): signal 7 code 2 at +8200',
        'ftruncate 40: 0',
        'byte 39: 17',
        'byte 50: 0',
        'page 1 now: signal 7 code 2 at +4100',
        'the private copy of page 0 (byte 2): 34',
        'the private page 1: signal 7 code 2 at +4096',
        '-- rootfs',
        'open O_RDWR: EROFS',
        'MAP_SHARED PROT_WRITE: EACCES',
        'magic ELF, private store x',
        // the program's own segments (load.ts mapFromFile): text, the data glibc made read-only after relocation (RELRO), data
        'maps: 98 pages r-xp offset 0 inode =st_ino /bin/filemap',
        'maps: 2 pages r--p offset 62000 inode =st_ino /bin/filemap',
        'maps: 2 pages rw-p offset 64000 inode =st_ino /bin/filemap',
        'maps: 1 pages rw-p offset 1000 inode =st_ino /bin/filemap',
        'maps: 1 pages r--s offset 0 inode =st_ino /bin/filemap',
      ]);
      expect(r.exitStatus, r.stdout).toBe(0);
    });
  }
});
