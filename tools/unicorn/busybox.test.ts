import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busyboxPath, shouldSkipBusyboxTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf, type UnicornRunOptions, type UnicornRunResult } from './run.js';

/**
 * Debian's busybox-static (armhf, tools/unicorn/fetch-busybox.sh; .ci/run installs it) on the
 * Unicorn backend: applets and the shell's builtins over sysfs and devtmpfs. Skipped only on a
 * developer machine without it; in CI (CI set) a missing binary fails.
 */
const skip = shouldSkipBusyboxTests();

function busybox(args: string[], opts: Partial<UnicornRunOptions> = {}): UnicornRunResult {
  const elf = busyboxPath();
  if (elf === null) throw new Error('busybox not found: run tools/unicorn/fetch-busybox.sh');
  return runElf({ elf, argv0: 'busybox', args, maxInstructions: 20_000_000, ...opts });
}

const DEV = '/sys/bus/platform/devices/2c0a0000.dma';

describe.skipIf(skip)('busybox (Debian busybox-static armhf) on the Unicorn backend', () => {
  it('ls, cat and readlink over sysfs and devtmpfs, with no unknown syscall', () => {
    const ls = busybox(['ls', '/sys/bus/platform/devices']);
    expect(ls.exitStatus).toBe(0);
    expect(ls.stdout.split('\n')).toContain('2c0a0000.dma');
    expect(ls.unknownSyscalls).toEqual({});
    const cat = busybox(['cat', `${DEV}/uevent`]);
    expect(cat.exitStatus).toBe(0);
    expect(cat.stdout).toContain('DRIVER=vfio-platform\n'); // bound by the administrator step
    expect(cat.unknownSyscalls).toEqual({});
    const rl = busybox(['readlink', `${DEV}/iommu_group`]);
    expect(rl.stdout).toMatch(/^\.\.\/\.\.\/\.\.\/kernel\/iommu_groups\/\d+\n$/);
    expect(rl.unknownSyscalls).toEqual({});
    const dev = busybox(['ls', '-l', '/dev/vfio'], { bind: null });
    expect(dev.stdout).toMatch(/^crw-rw-rw- .* vfio$/m);
    expect(dev.unknownSyscalls).toEqual({});
  });

  it('sh -c: builtins, $?, cd/pwd, and echo > a sysfs attribute (mainline driver_override)', () => {
    // mainline puts the PL330 (an arm,primecell) on the AMBA bus: vfio-amba is its VFIO driver
    const amba = '/sys/bus/amba/devices/2c0a0000.dma';
    const r = busybox(['sh', '-c', `echo a; false; echo "status $?"; cd ${amba}; pwd; pwd -P; echo vfio-amba > driver_override; echo "write $?"; read o < driver_override; echo "override $o"`], { profile: 'mainline', bind: null });
    expect(r.exitStatus).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['a', 'status 1', amba, '/sys/devices/platform/2c0a0000.dma', 'write 0', 'override vfio-amba', '']);
    expect(r.unknownSyscalls).toEqual({});
  });

  it('a write to an attribute the profile does not have fails as in the shell (rfc-v4: no driver_override)', () => {
    const r = busybox(['sh', '-c', `echo vfio-platform > ${DEV}/driver_override; echo "rc $?"`], { bind: null });
    expect(r.stdout).toBe('rc 1\n');
    expect(r.stderr).toContain('driver_override: Permission denied');
    expect(r.unknownSyscalls).toEqual({});
  });
  it('procfs: readlink /proc/self is the reading process, ls /proc/self/fd its fds (0-2 and the listing\'s own), cat /proc/self/maps | wc -l (both eras)', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = busybox(['sh', '-c', 'echo $$; readlink /proc/self; ls /proc/self/fd; ls /proc | grep -c "^[0-9]"; cat /proc/self/maps | wc -l'], { bind: null, profile });
      expect(r.stderr, profile).toBe('');
      const out = r.stdout.split('\n');
      const sh = Number(out[0]);
      // readlink runs in a child of the shell: its own pid, a later one
      expect(Number(out[1]), profile).toBeGreaterThan(sh);
      expect(out.slice(2, 6), profile).toEqual(['0', '1', '2', '3']);
      // the shell and the ls and grep of the pipeline at least
      expect(Number(out[6]), profile).toBeGreaterThanOrEqual(3);
      // cat's image, heap, stack and more
      expect(Number(out[7]), profile).toBeGreaterThanOrEqual(3);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    }
  });

  it('binfmt_script: ./script and a PATH lookup run the "#!" interpreter with its argument; /proc/<pid>/exe is the interpreter, comm the script; a loop -ELOOP (both eras)', () => {
    const sh = [
      'cd /tmp',
      // the kernel runs busybox with argv [/bin/busybox, echo, ./s, x, y]: the echo applet (ash would run the file itself)
      "printf '#!/bin/busybox echo\\n' > s", 'chmod +x s', './s x y', 'echo "rc $?"',
      "printf '#!/bin/sh\\nhead -1 /proc/$$/status; readlink /proc/$$/exe; echo \"args $0 $*\"\\n' > t", 'chmod +x t', './t 1 2',
      'PATH=/tmp:$PATH t 3',
      "printf '#!/tmp/u\\n' > u", 'chmod +x u', './u', 'echo "loop $?"',
    ].join('; ');
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = busybox(['sh', '-c', sh], { bind: null, profile });
      expect(r.stdout.split('\n'), profile).toEqual(['./s x y', 'rc 0', 'Name:\tt', '/bin/sh', 'args ./t 1 2', 'Name:\tt', '/bin/sh', 'args /tmp/t 3', 'loop 127', '']);
      expect(r.stderr, profile).toBe('sh: ./u: Too many levels of symbolic links\n');
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    }
  });

  it('binfmt_script: five nested scripts run, the sixth level is -ELOOP (3.14 search_binary_handler, v6.12 exec_binprm)', () => {
    const sh = "cd /tmp; printf '#!/bin/busybox echo\\n' > a0; for i in 1 2 3 4 5; do printf '#!/tmp/a%d\\n' $((i - 1)) > a$i; done; chmod +x a0 a1 a2 a3 a4 a5; ./a4 x; ./a5 x; echo \"rc $?\"";
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = busybox(['sh', '-c', sh], { bind: null, profile });
      expect(r.stdout.split('\n'), profile).toEqual(['/tmp/a0 /tmp/a1 /tmp/a2 /tmp/a3 ./a4 x', 'rc 127', '']);
      expect(r.stderr, profile).toBe('sh: ./a5: Too many levels of symbolic links\n');
    }
  });

  it('ETXTBSY: 3.14 refuses execve of a file open for writing and a write open of a running program; v6.12 (2a010c412853) neither: a program that truncates its own image dies of SIGBUS', () => {
    // a copy of busybox in /tmp, from a --rootfs holding it
    const root = mkdtempSync(join(tmpdir(), 'bb-rootfs-'));
    mkdirSync(join(root, 'bin'));
    copyFileSync(busyboxPath()!, join(root, 'bin', 'busybox'));
    const sh = 'cp /bin/busybox /tmp/sh; chmod +x /tmp/sh; exec 4>> /tmp/sh; /tmp/sh -c "echo no"; echo "busy $?"; exec 4>&-; /tmp/sh -c "true > /tmp/sh || echo write-refused"; : > /tmp/sh; echo "after $?"';
    const want = { 'rfc-v4': ['busy 126', 'write-refused', 'after 0', ''], mainline: ['no', 'busy 0', 'after 0', ''] };
    for (const profile of ['rfc-v4', 'mainline'] as const) {
      const r = busybox(['sh', '-c', sh], { bind: null, profile, rootfs: root });
      expect(r.stdout.split('\n'), profile).toEqual(want[profile]);
      // v6.12: the child /tmp/sh truncates its own running image (`true > /tmp/sh`): its text is
      // mapped from the file (load.ts mapFromFile), truncate_pagecache takes the pages, and its
      // next instruction fetch is SIGBUS past the end of the file, as on Linux ("Bus error")
      expect(r.stderr, profile).toBe(profile === 'rfc-v4' ? 'sh: /tmp/sh: Text file busy\n/tmp/sh: can\'t create /tmp/sh: Text file busy\n' : 'Bus error\n');
      expect(r.exitStatus, profile).toBe(0);
    }
  });

  it('sh -c: a renamed cwd (pwd -P), an open file removed (readlink /proc/self/fd/3 " (deleted)"), an rmdir\'d cwd (no new names) (both eras)', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = busybox(['sh', '-c', 'mkdir /tmp/a; cd /tmp/a; mv /tmp/a /tmp/b; pwd -P; echo hi > f; cat /tmp/b/f; exec 3< f; rm f; readlink /proc/self/fd/3; cd /; mkdir /tmp/d; cd /tmp/d; rmdir /tmp/d; readlink /proc/self/cwd; echo z > x; echo "create $?"'], { bind: null, profile });
      expect(r.stdout.split('\n'), profile).toEqual(['/tmp/b', 'hi', '/tmp/b/f (deleted)', '/tmp/d (deleted)', 'create 1', '']);
      // may_create in a dead directory: -ENOENT, which ash reports as a nonexistent directory
      expect(r.stderr, profile).toBe('sh: can\'t create x: nonexistent directory\n');
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    }
  });

  it('sh -c: a pipeline, $(...), $? of a child and exit statuses through fork, execve of /proc/self/exe and wait4', () => {
    const r = busybox(['sh', '-c', `echo a | cat; x=$(echo hi); echo "got $x"; sh -c 'exit 5'; echo "rc $?"; ls /sys/bus | cat; false | true; echo "pipe rc $?"`], { bind: null });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['a', 'got hi', 'rc 5', 'platform', 'pipe rc 0', '']);
    expect(r.exitStatus).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
    // the forks and re-execs really happened: processes ended besides the shell, with their statuses
    expect(r.syscallsByNr['11']).toBeGreaterThan(0); // execve
    expect(r.processes.some((p) => p.status === 5)).toBe(true);
    expect(r.processes.length).toBeGreaterThanOrEqual(5);
  });
});
