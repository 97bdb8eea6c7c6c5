import { describe, expect, it } from 'vitest';
import { EINVAL } from '../base/errno.js';
import { CLONE_DETACHED, CLONE_FS, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SIGHAND, CLONE_THREAD, CLONE_VM, cloneFlagsValid } from './clone-flags.js';

/** copy_process's clone flag checks per era (clone-flags.ts; capability `cloneFlagChecks`) */
describe('cloneFlagsValid', () => {
  const PTHREAD = CLONE_VM | CLONE_FS | CLONE_SIGHAND | CLONE_THREAD | CLONE_PARENT_SETTID;
  it('both eras: the namespace/fs, thread/sighand and sighand/vm pairs; glibc\'s pthread and fork flags pass', () => {
    for (const era of ['3.14', '6.12'] as const) {
      expect(cloneFlagsValid(era, PTHREAD, true), era).toBe(0);
      expect(cloneFlagsValid(era, 17, true), era).toBe(0);
      for (const f of [CLONE_NEWNS | CLONE_FS, CLONE_NEWUSER | CLONE_FS, CLONE_VM | CLONE_THREAD, CLONE_SIGHAND, CLONE_THREAD | CLONE_SIGHAND]) expect(cloneFlagsValid(era, f, true), `${era} ${f.toString(16)}`).toBe(-EINVAL);
      expect(cloneFlagsValid(era, PTHREAD | CLONE_NEWPID, true), era).toBe(-EINVAL);
      expect(cloneFlagsValid(era, (PTHREAD & ~CLONE_FS) | CLONE_NEWUSER, true), era).toBe(-EINVAL);
    }
  });
  it('3.14 refuses a new pid namespace with CLONE_SIGHAND, v6.12 only with CLONE_THREAD; CLONE_PIDFD only in v6.12', () => {
    const f = CLONE_VM | CLONE_SIGHAND | CLONE_NEWPID;
    expect([cloneFlagsValid('3.14', f, true), cloneFlagsValid('6.12', f, true)]).toEqual([-EINVAL, 0]);
    expect([cloneFlagsValid('3.14', CLONE_PIDFD | CLONE_DETACHED, true), cloneFlagsValid('6.12', CLONE_PIDFD | CLONE_DETACHED, false)]).toEqual([0, -EINVAL]);
    expect([cloneFlagsValid('6.12', CLONE_PIDFD | CLONE_PARENT_SETTID, true), cloneFlagsValid('6.12', CLONE_PIDFD | CLONE_PARENT_SETTID, false)]).toEqual([-EINVAL, 0]);
  });
});
