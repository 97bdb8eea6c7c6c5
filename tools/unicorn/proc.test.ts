import { describe, expect, it } from 'vitest';
import { guestBinary, GUEST_C_DIR, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * Processes on the Unicorn backend (kernel-model/exec/lifecycle.ts): fork, execve from the
 * run's exec file system, exit/wait4/waitid statuses, getppid. Skipped only on a developer
 * machine without libunicorn2 or the cross compiler; in CI (CI set) they must run.
 */
const skip = shouldSkipUnicornTests();
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(skip)('processes on the Unicorn backend', () => {
  it('fork copies private memory, keeps MAP_SHARED anonymous memory shared and shares fds, a child execs another program, statuses through wait4/waitpid/waitid', () => {
    const r = runElf({ elf: guestBinary('fork'), bind: null, execFiles: { '/bin/hello': guestBinary('hello'), '/etc/not-elf': `${GUEST_C_DIR}/fork.c` } });
    expect(r.exitStatus).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'child said: ppid-ok 1 global 42 name 0 kid-with-a-long',
      'waitpid same pid 1, parent global 1, parent name kept 1',
      'child 1: exited 3',
      'hello from hello (argc=2)',
      'wait4 any 1',
      'exec hello: exited 0',
      'WNOHANG 0',
      'waitid 0 signo 17 code 1 pid 1 status 15',
      'execve missing -1 ENOENT',
      'execve not-elf -1 ENOEXEC',
      'wait none -1 ECHILD',
      // MAP_SHARED anonymous: the child saw the parent's pre-fork store, the parent sees the
      // child's stores (page 1 first touched by the child) and both processes' atomic adds
      // (1 + 5 x 10); the private page is still the parent's 1
      'shared anon: child saw 1, parent sees 2 3 add 51, private 1',
      // rfc-v4 shares every private page at fork: the CAS is the write fault that breaks the
      // sharing (UnicornEngine.cowWrite), and runs once (stopping in the hook re-ran it: old 1)
      'cas on a copy-on-write page: old 0 new 1',
    ]);
    expect(r.unknownSyscalls).toEqual({});
    expect(r.processes.map((p) => p.status)).toEqual([3, 0, 128 + 15, 1, 0]);
    // processes share the CPU by the threads' time-slice rule: another slice interleaves them
    // differently but the program observes the same; the quantum is invisible (same run)
    const files = { '/bin/hello': guestBinary('hello'), '/etc/not-elf': `${GUEST_C_DIR}/fork.c` };
    const slice = runElf({ elf: guestBinary('fork'), bind: null, execFiles: files, timeslice: 97 });
    expect(slice.stdout).toBe(r.stdout);
    const q = runElf({ elf: guestBinary('fork'), bind: null, execFiles: files, quantum: 97 });
    expect(q.stdout).toBe(r.stdout);
    expect(q.traceSha256).toBe(r.traceSha256);
    expect(q.instructions).toBe(r.instructions);
  });
  it('memory calls as the CPU sees them: mprotect, munmap, madvise MADV_DONTNEED (a private page zero again, a shared one kept, EINVAL, ENOMEM over a hole after zapping) and MADV_DONTFORK, in both eras; the advice the eras differ on (FREE, WIPEONFORK, POPULATE_WRITE, REMOVE\'s access test)', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = runElf({ elf: guestBinary('madvise'), bind: null, profile });
      expect(r.exitStatus, profile).toBe(0);
      expect(lines(r.stdout), profile).toEqual([
        'mprotect 0',
        'store to the read-only page: SIGSEGV, load: ok; it holds 0x101',
        'dontneed page 2 0: 0x0, page 0 0x100',
        'dontneed shared 0: 0x200',
        'dontneed unaligned EINVAL',
        'munmap page 2 0',
        'dontneed over the hole ENOMEM: page 3 0x0',
        'load from the hole: SIGSEGV',
        'dontfork page 0 0',
        'child: saw the shared page 1; its page 0 load: SIGSEGV',
        'parent: child exit 0; sees its shared store 0x301, keeps page 0 0x400',
        'mergeable (no CONFIG_KSM) EINVAL, advice 99 EINVAL',
        ...(profile === 'rfc-v4'
          ? ['free EINVAL: 0x400', 'wipeonfork EINVAL: the child read its copy, the parent 0x500', 'populate_write EINVAL, on the read-only page EINVAL']
          : ['free 0: 0x400', 'wipeonfork 0: the child read zero, the parent 0x500', 'populate_write 0, on the read-only page EINVAL']),
        'remove private EINVAL',
        'remove shared 0: 0x0',
        profile === 'rfc-v4' ? 'remove read-only shared EACCES: 0x600' : 'remove read-only shared 0: 0x0',
      ]);
      expect(r.unknownSyscalls, profile).toEqual({});
    }
  });
  it('fault handlers: SIGSEGV at the faulting instruction with the registers before it, si_code/si_addr and the frame\'s trap_no, FSR and fault_address; a handler that fixes the page and returns runs the instruction again (in an IT block too); SIGILL at the undefined instruction; a blocked SIGSEGV kills', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = runElf({ elf: guestBinary('sighandler'), bind: null, profile });
      expect(r.exitStatus, profile).toBe(0);
      expect(lines(r.stdout), profile).toEqual([
        // a load from a hole (SEGV_MAPERR, page translation fault 0x7), the third instruction of load3
        'load: sig 11 code 1 addr +4104 pc +4 r1 1 r2 2 trap 14 fsr 0x7 fault_address +4104',
        // a store to a read-only page never touched (SEGV_ACCERR: the VMA is there; no PTE yet, so a page
        // translation fault with WnR, 0x807), the second instruction of store2: r1 still 7
        'store: sig 11 code 2 addr +16 pc +2 r1 7 trap 14 fsr 0x807',
        'retried store: handled 1, the word 7',
        'it block: handled 2, pc +6, result 40',
        'undefined: sig 4 code 1 at +0 trap 6',
        'blocked: child killed by signal 11',
      ]);
    }
  });
  it('SIGBUS from a device bus error (a byte access to the vfio-mapped PL330 registers, SLVERR): a load is a synchronous external abort at the load, a store an asynchronous one after it; siginfo and frame as do_DataAbort/arm_notify_die give them; a returning handler retries the load and goes on after the store; blocked, ignored and default SIGBUS kill (135); "Unhandled fault" per era', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = runElf({ elf: guestBinary('sigbus'), args: ['2c0a0000.dma'], profile });
      expect(r.bind?.ok, profile).toBe(true);
      expect(lines(r.stdout), profile).toEqual([
        'word read: periph id 0 0x30',
        // thread.address: set by __do_user_fault only
        'segv: sig 11 fault_address +4104',
        // fsr_info[8] "external abort on non-linefetch": si_code 0, si_addr the DFAR, trap_no 0,
        // error_code the DFSR (FS 0b01000, ExT for SLVERR); the frame's PC on the load (load_byte + 4), r0 not
        // yet loaded, r1/r2 set; fault_address still the SIGSEGV's
        'load: sig 7 code 0 addr +4064 pc +4 r0 at addr 1 r1 1 r2 2 trap 0 fsr 0x1008 fault_address +4104',
        // fsr_info[22] "imprecise external abort": BUS_OBJERR, DFSR 0x406 | WnR | ExT; the frame after the
        // 32-bit post-indexed strb.w (store_byte + 6) with its writeback (r0 + 1), r1 still 7
        'store: sig 7 code 3 addr +4064 pc +6 r0 +4065 r1 7 trap 0 fsr 0x1c06',
        'returning store handler: handled 1, returned 9',
        'blocked: child killed by signal 7',
        'ignored: child killed by signal 7',
        // the load runs again on the page the handler mapped there
        'retried load: handled 1, read 0x5a',
        'default action next',
      ]);
      expect(r.exitStatus, profile).toBe(135);
      expect(r.exitReport, profile).toMatch(/^sigbus: SIGBUS \(bus error on device read \(status -2\)\) at address 0x[0-9a-f]+ pc 0x[0-9a-f]+; exit status 135$/);
      expect(r.processes.map((p) => p.status), profile).toEqual([0, 135, 135, 135]);
      // do_DataAbort's report, unconditional (KERN_ALERT): one line per SIGBUS, after "cut here" in v6.12
      const report = r.kernelLog.map((l) => l.replace(/^\[[ 0-9.]+\] /, '')).filter((l) => /^(Unhandled fault|8<---)/.test(l));
      const unhandled = (name: string, fsr: string): string[] => [...(profile === 'mainline' ? ['8<--- cut here ---'] : []), `Unhandled fault: ${name} (${fsr}) at 0xADDR`];
      const sync = unhandled('external abort on non-linefetch', '0x1008');
      const async = unhandled('imprecise external abort', '0x1c06');
      expect(report.map((l) => l.replace(/at 0x[0-9a-f]{8}$/, 'at 0xADDR')), profile).toEqual([...sync, ...async, ...async, ...sync, ...sync, ...sync, ...sync]);
      expect(r.unknownSyscalls, profile).toEqual({});
    }
  });
  it('sigaltstack: the setting and its errors, SA_ONSTACK handlers on the alternate stack (a thread\'s stack overflow recovered), SS_AUTODISARM (mainline; 3.14 EINVAL), kept by fork, dropped by execve', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = runElf({ elf: guestBinary('altstack'), bind: null, profile });
      expect(r.exitStatus, profile).toBe(0);
      expect(lines(r.stdout), profile).toEqual([
        'at start: flags 0x2 size 0 at the buffer 0',
        'too small ENOMEM',
        'bad flags EINVAL',
        'set 0',
        'set: flags 0x0 size 65536 at the buffer 1',
        'usr1: on the alternate stack 1, flags inside 0x1, set inside EPERM',
        'thread overflow: recovered on its alternate stack 1',
        'after the handlers: flags 0x0 size 65536 at the buffer 1',
        ...(profile === 'rfc-v4'
          ? ['autodisarm EINVAL']
          : ['autodisarm 0', 'armed: flags 0x80000000 size 65536 at the buffer 1', 'usr1: on the alternate stack 1, flags inside 0x2', 'after siglongjmp: flags 0x0 size 65536 at the buffer 1']),
        'fork child: flags 0x0 size 65536 at the buffer 1',
        'after execve: flags 0x2 size 0',
      ]);
    }
  });
  it('many pages: 16 MiB of heap touched in order runs (its pages merge into a few Unicorn regions); 64 MiB touched so that no page continues a run ends in a SIGSEGV naming the mirror\'s region limit, not a host abort', () => {
    const heap = runElf({ elf: guestBinary('bigmem'), bind: null });
    expect(heap.exitStatus).toBe(0);
    // sum of (page index & 0xff) over 4096 pages: 16 rounds of 0..255
    expect(lines(heap.stdout)).toEqual(['heap: 4096 pages, sum ' + 16 * ((255 * 256) / 2)]);
    const scatter = runElf({ elf: guestBinary('bigmem'), args: ['scatter'], bind: null });
    expect(scatter.exitStatus).toBe(139);
    expect(scatter.stdout).toBe('');
    expect(scatter.exitReport).toMatch(/SIGSEGV \(write of a page the Unicorn mirror could not map: it holds 960 regions, Unicorn 2\.0's limit\)/);
  });
  it('signals: handlers and sigreturn, a blocked signal held pending, alarm interrupting pause, SIGCHLD, kill of a child, a one-shot handler, SIG_IGN, a default action', () => {
    const r = runElf({ elf: guestBinary('signals'), bind: null });
    expect(lines(r.stdout)).toEqual([
      'kill 0 usr1 1 f 3.0',
      'blocked usr1 1',
      'unblocked usr1 2',
      'pause -1 EINTR alrm 1',
      'chld 1 info 1',
      'killed child: signaled 1 sig 15',
      'resethand usr2 1 dfl 1 flag 1',
      'ignored usr2 survived',
    ]);
    expect(r.exitStatus).toBe(128 + 1); // SIGHUP's default action
    expect(r.unknownSyscalls).toEqual({});
    // alarm(1): one second of virtual time passed in pause()
    expect(r.virtualTimeNs).toBeGreaterThanOrEqual(1e9);
  });
  it('signals interrupt sleeping calls: read -EINTR without SA_RESTART and restarted with it; poll and select -EINTR even with SA_RESTART', () => {
    const r = runElf({ elf: guestBinary('sigintr'), bind: null });
    expect(lines(r.stdout)).toEqual([
      'read without SA_RESTART: -1 EINTR, alarms 1',
      "read with SA_RESTART: 1 'h', alarms 2",
      'poll with SA_RESTART: -1 EINTR, alarms 3',
      'select with SA_RESTART: -1 EINTR, alarms 4',
    ]);
    expect(r.exitStatus).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
    // four alarm(1) sleeps of virtual time
    expect(r.virtualTimeNs).toBeGreaterThanOrEqual(4e9);
    const again = runElf({ elf: guestBinary('sigintr'), bind: null });
    expect(again.traceSha256).toBe(r.traceSha256);
  });
});
