import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../emulator/cpu/cpu.js';
import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EFAULT, EINVAL } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import type { Process } from '../process/process.js';
import { UserCounts } from '../process/user-counts.js';
import type { SyscallLayer } from '../syscall/syscalls.js';
import { SignalState, type SignalProcess } from './signal.js';
import { restoreSavedSigmask, setUserSigmask, signalLetThrough } from './signal-usermask.js';
import { sigmask } from './sigqueue.js';

const SIGHUP = 1, SIGKILL = 9, SIGUSR1 = 10, SIGUSR2 = 12, SIGSTOP = 19;
const MASK_VA = 0x1000, BAD_VA = 0x10;

/** a SignalState of one thread (not asleep) whose user memory holds `mask` at MASK_VA */
function state(mask: bigint): { s: SignalState; t: UnicornThread; mm: AddressSpace } {
  const t = { state: 'running', exitInfo: null } as unknown as UnicornThread;
  const mm = {
    copyFromUser(dst: Uint8Array, off: number, va: number, len: number): number {
      if (va !== MASK_VA) return len;
      new DataView(dst.buffer, dst.byteOffset + off, len).setBigUint64(0, mask, true);
      return 0;
    },
  } as unknown as AddressSpace;
  const proc = { users: new UserCounts(), mm } as unknown as Process;
  const p: SignalProcess = { proc, threads: [t], exit: null, groupExit: false, cancelSleep: () => false, signalSleep: () => null };
  const layer = { host: {}, currentThread: t } as unknown as SyscallLayer;
  const s = new SignalState(p, layer, {} as Cpu);
  return { s, t, mm };
}

describe('pselect6/ppoll\'s signal mask (signal-usermask.ts; fs/select.c, kernel/signal.c set_user_sigmask)', () => {
  it('a NULL mask: nothing changes, whatever the size; a size other than 8: -EINVAL; an unreadable mask: -EFAULT; neither changes the mask nor saves one', () => {
    const { s, t, mm } = state(0n);
    s.setBlocked(t, sigmask(SIGUSR1));
    expect(setUserSigmask(s, mm, t, 0, 3)).toBe(0);
    expect(setUserSigmask(s, mm, t, MASK_VA, 4)).toBe(-EINVAL);
    expect(setUserSigmask(s, mm, t, MASK_VA, 16)).toBe(-EINVAL);
    expect(setUserSigmask(s, mm, t, BAD_VA, 8)).toBe(-EFAULT);
    expect(s.blockedOf(t)).toBe(sigmask(SIGUSR1));
    expect(s.saved.has(t)).toBe(false);
  });

  it('the call\'s mask (less SIGKILL and SIGSTOP) blocks during the wait, the caller\'s is saved and comes back once', () => {
    const call = sigmask(SIGUSR2) | sigmask(SIGHUP) | sigmask(SIGKILL) | sigmask(SIGSTOP);
    const { s, t, mm } = state(call);
    const caller = sigmask(SIGUSR1) | sigmask(SIGUSR2);
    s.setBlocked(t, caller);
    expect(setUserSigmask(s, mm, t, MASK_VA, 8)).toBe(0);
    expect(s.blockedOf(t)).toBe(sigmask(SIGUSR2) | sigmask(SIGHUP));
    expect(s.saved.get(t)).toBe(caller);
    restoreSavedSigmask(s, t);
    expect(s.blockedOf(t)).toBe(caller);
    expect(s.saved.has(t)).toBe(false);
    s.setBlocked(t, 0n);
    restoreSavedSigmask(s, t); // nothing saved: no change
    expect(s.blockedOf(t)).toBe(0n);
  });

  it('a pending signal the caller blocks is let through by a call\'s mask without it, not by one with it', () => {
    const { s, t, mm } = state(sigmask(SIGUSR2));
    s.setBlocked(t, sigmask(SIGUSR1) | sigmask(SIGUSR2));
    s.shared.add(SIGUSR1);
    expect(signalLetThrough(s, t)).toBe(false);
    expect(setUserSigmask(s, mm, t, MASK_VA, 8)).toBe(0);
    expect(signalLetThrough(s, t)).toBe(true);
    restoreSavedSigmask(s, t);
    expect(signalLetThrough(s, t)).toBe(false);
    const b = state(sigmask(SIGUSR1));
    b.s.setBlocked(b.t, sigmask(SIGUSR1));
    b.s.shared.add(SIGUSR1);
    expect(setUserSigmask(b.s, b.mm, b.t, MASK_VA, 8)).toBe(0);
    expect(signalLetThrough(b.s, b.t)).toBe(false);
  });
});
