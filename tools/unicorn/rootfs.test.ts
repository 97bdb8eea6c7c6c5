import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostExecFs } from './rootfs.js';

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
