import { describe, expect, it } from 'vitest';
import { System } from '../../tools/system/system.js';
import { EACCES, O_RDONLY, O_WRONLY } from '../uapi/index.js';
import { User } from '../vfio/platform/testing/user.js';
import { RLIMIT_SIGPENDING } from './cred.js';

describe('/proc/self/status (fs/proc/array.c proc_pid_status)', () => {
  it('names the process that reads it: comm cut to 15 characters, its pid and uid, VmLck and VmPin in kB, then the capability sets', () => {
    const sys = new System({ profile: 'mainline' });
    const a = new User(sys, 'a-name-longer-than-fifteen', { uid: 1000 });
    const b = new User(sys, 'b');
    a.proc.mm.lockedVm = 3;
    a.proc.mm.pinnedVm = 2;
    // task_sig's SigQ: the signals queued for the uid (every process of it: user_struct / ucounts), then
    // RLIMIT_SIGPENDING's soft limit; two entries charged to uid 1000, one to root
    a.proc.setRlimit(RLIMIT_SIGPENDING, 7, 9);
    a.proc.users.chargeSig(1000, 7, false);
    a.proc.users.chargeSig(1000, 7, false);
    b.proc.users.chargeSig(0, 7, false);
    // task_sig's sets (the signal sets kernel-model/exec/signal-status.ts hands over): 16 hex
    // digits each, signal n at bit n - 1 (SIGUSR1 10: 0x200; signal 64: the top bit)
    a.proc.sigMasks = () => ({ pending: 1n << 9n, shared: 1n << 63n, blocked: 0x10001n, ignored: 1n << 12n, caught: 0xfn << 32n });
    // a non-root process: no capability but the bounding set (CAP_LAST_CAP 40), v6.12's CapAmb last
    expect(a.cat('/proc/self/status')).toBe(`Name:\ta-name-longer-t\nState:\tR (running)\nTgid:\t${a.proc.pid}\nPid:\t${a.proc.pid}\nUid:\t1000\t1000\t1000\t1000\nVmLck:\t      12 kB\nVmPin:\t       8 kB\nThreads:\t1\nSigQ:\t2/7\n` +
      'SigPnd:\t0000000000000200\nShdPnd:\t8000000000000000\nSigBlk:\t0000000000010001\nSigIgn:\t0000000000001000\nSigCgt:\t0000000f00000000\n' +
      'CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n');
    expect(b.cat('/proc/self/status')).toMatch(new RegExp(`^Name:\\tb\\nState:\\tR \\(running\\)\\nTgid:\\t${b.proc.pid}\\n(.*\\n)*VmLck:\\t       0 kB\\n(.*\\n)*SigQ:\\t1/4294967295\\n`));
  });

  it('task_cap (fs/proc/array.c): root\'s full sets up to CAP_LAST_CAP, 36 in 3.14 without a CapAmb line, 40 in v6.12; capIpcLock false clears bit 14 of CapEff only', () => {
    const caps = (profile: string, opts = {}): string => {
      const u = new User(new System({ profile }), 'c', opts);
      return String(u.cat('/proc/self/status')).split('\n').filter((l) => l.startsWith('Cap')).join(' ');
    };
    expect(caps('rfc-v4')).toBe('CapInh:\t0000000000000000 CapPrm:\t0000001fffffffff CapEff:\t0000001fffffffff CapBnd:\t0000001fffffffff');
    expect(caps('mainline')).toBe('CapInh:\t0000000000000000 CapPrm:\t000001ffffffffff CapEff:\t000001ffffffffff CapBnd:\t000001ffffffffff CapAmb:\t0000000000000000');
    expect(caps('patches:1-3', { capIpcLock: false })).toBe('CapInh:\t0000000000000000 CapPrm:\t0000001fffffffff CapEff:\t0000001fffffbfff CapBnd:\t0000001fffffffff');
    expect(caps('mainline', { uid: 1000, capIpcLock: true })).toBe('CapInh:\t0000000000000000 CapPrm:\t0000000000004000 CapEff:\t0000000000004000 CapBnd:\t000001ffffffffff CapAmb:\t0000000000000000');
  });

  it('is read at each read (not at open), stays the opener\'s when another process reads the fd, and cannot be opened for writing', () => {
    const sys = new System({ profile: 'mainline' });
    const a = new User(sys, 'a');
    const fd = a.open('/proc/self/status', O_RDONLY);
    a.proc.mm.lockedVm = 1;
    const b = new User(sys, 'b');
    a.proc.copyFdsTo(b.proc);
    const n = b.call('read', [fd, b.page + 0x800, 0x400]);
    expect(new TextDecoder().decode(b.mem.readBytes(b.page + 0x800, n))).toContain(`Pid:\t${a.proc.pid}\n`);
    expect(b.cat('/proc/self/status')).toContain(`Pid:\t${b.proc.pid}\n`);
    expect(a.cat('/proc/self/status')).toContain('VmLck:\t       4 kB\n');
    expect(a.open('/proc/self/status', O_WRONLY)).toBe(-EACCES);
  });
});
