import { describe, expect, it } from 'vitest';
import { System } from '../../tools/system/system.js';
import { EACCES, O_RDONLY, O_WRONLY } from '../uapi/index.js';
import { User } from '../vfio/platform/testing/user.js';

describe('/proc/self/status (fs/proc/array.c proc_pid_status)', () => {
  it('names the process that reads it: comm cut to 15 characters, its pid and uid, VmLck and VmPin in kB', () => {
    const sys = new System({ profile: 'mainline' });
    const a = new User(sys, 'a-name-longer-than-fifteen', { uid: 1000 });
    const b = new User(sys, 'b');
    a.proc.mm.lockedVm = 3;
    a.proc.mm.pinnedVm = 2;
    expect(a.cat('/proc/self/status')).toBe(`Name:\ta-name-longer-t\nTgid:\t${a.proc.pid}\nPid:\t${a.proc.pid}\nUid:\t1000\t1000\t1000\t1000\nVmLck:\t      12 kB\nVmPin:\t       8 kB\n`);
    expect(b.cat('/proc/self/status')).toMatch(new RegExp(`^Name:\\tb\\nTgid:\\t${b.proc.pid}\\n(.*\\n)*VmLck:\\t       0 kB\\n`));
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
