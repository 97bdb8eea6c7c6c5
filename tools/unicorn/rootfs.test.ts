import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busyboxPath, shouldSkipBusyboxTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { hostExecFs } from './rootfs.js';
import { runElf } from './run.js';

describe('hostExecFs (the programs execve reads)', () => {
  const root = mkdtempSync(join(tmpdir(), 'vfio-rootfs-'));
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin/prog'), 'PROG');
  symlinkSync('prog', join(root, 'bin/alias'));
  symlinkSync('/etc/hostname', join(root, 'bin/escape'));
  const other = mkdtempSync(join(tmpdir(), 'vfio-bb-'));
  writeFileSync(join(other, 'busybox'), 'BB');
  const fs = hostExecFs({ rootfs: root, busybox: join(other, 'busybox'), files: { '/x/extra': join(root, 'bin/prog') } });
  const text = (r: Uint8Array | number): string | number => (typeof r === 'number' ? r : new TextDecoder().decode(r));

  it('serves files under the root, follows symlinks inside it, refuses those leaving it', () => {
    expect(text(fs('/bin/prog'))).toBe('PROG');
    expect(text(fs('/bin/alias'))).toBe('PROG');
    expect(fs('/bin/escape')).toBe(-2);
    expect(fs('/bin/missing')).toBe(-2);
    expect(fs('/bin')).toBe(-13); // a directory: EACCES
  });

  it('busybox for /bin/busybox and /bin/sh, extra files first', () => {
    expect(text(fs('/bin/busybox'))).toBe('BB');
    expect(text(fs('/bin/sh'))).toBe('BB');
    expect(text(fs('/x/extra'))).toBe('PROG');
  });
});

describe.skipIf(shouldSkipBusyboxTests())('--rootfs DIR under busybox: open/read/stat/getdents64/readlink see it, writes are -EROFS', () => {
  const root = mkdtempSync(join(tmpdir(), 'vfio-rootfs-sh-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/motd'), 'hello from the rootfs\n');
  symlinkSync('motd', join(root, 'etc/greeting'));
  symlinkSync('/etc/motd', join(root, 'abs'));

  it('cat, ls, readlink, wc; echo >, mkdir, rm refused read-only; /sys and /tmp still there', () => {
    const elf = busyboxPath();
    if (elf === null) throw new Error('busybox not found: run tools/unicorn/fetch-busybox.sh');
    const r = runElf({
      elf, argv0: 'sh', bind: null, rootfs: root, maxInstructions: 50_000_000,
      args: ['-c', [
        'cat /etc/motd /etc/greeting /abs',
        'ls /', 'ls /etc', 'readlink /etc/greeting; readlink /abs',
        'wc -c < /etc/motd',
        'cd /etc && cat greeting',
        'echo x 2>>/tmp/err > /etc/motd || echo "write $?"',
        'mkdir /etc/new 2>>/tmp/err || echo "mkdir $?"',
        'rm /etc/motd 2>>/tmp/err || echo "rm $?"',
        'echo x 2>>/tmp/err > /new || echo "create $?"',
        'cat /tmp/err',
      ].join('\n')],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([
      'hello from the rootfs', 'hello from the rootfs', 'hello from the rootfs',
      'abs', 'dev', 'etc', 'proc', 'sys', 'tmp',
      'greeting', 'motd',
      'motd', '/etc/motd',
      '22',
      'hello from the rootfs',
      'write 1', 'mkdir 1', 'rm 1', 'create 1',
      "sh: can't create /etc/motd: Read-only file system",
      "mkdir: can't create directory '/etc/new': Read-only file system",
      "rm: can't remove '/etc/motd': Read-only file system",
      "sh: can't create /new: Read-only file system",
      '',
    ].join('\n'));
    expect(r.exitStatus).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
  });
});
