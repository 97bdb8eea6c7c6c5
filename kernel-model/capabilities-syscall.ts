/**
 * The capabilities of the syscall layer, the file systems user land sees and the process
 * credentials (fs/, mm/shmem.c, lib/iov_iter.c, kernel/capability.c, kernel/sys.c): part of the
 * capability vocabulary (kernel-model/capabilities.ts,
 * `Capabilities` extends this), decided per profile in kernel-model/profile.ts like the rest.
 */
export interface SyscallCapabilities {
  /**
   * select() on an fd closed by another thread while the caller sleeps (the fds are checked on
   * entry only, fs/select.c do_select -> max_select_fd; the re-scans after a wake-up fdget each
   * fd): 'skip' (3.14 do_select: `if (f.file) { ... }` around the poll and the result bits, a
   * closed fd is passed over) or 'ready' (mainline do_select: mask starts as EPOLLNVAL, which
   * POLLIN_SET, POLLOUT_SET and POLLEX_SET include, so a closed fd is reported in every set
   * it was asked for)
   */
  selectClosedFd: 'skip' | 'ready';
  /**
   * whether an anonymous inode's file can be seeked: 'never' (3.14 fs/file_table.c alloc_file:
   * f_mode is the access mode, FMODE_LSEEK only comes from do_dentry_open, so vfs_llseek falls
   * back to no_llseek, -ESPIPE, even for eventfd's noop_llseek) or 'with-llseek' (mainline
   * file_init_path: FMODE_LSEEK when the fops have an llseek: lseek on an eventfd returns its
   * position, 0). Neither sets FMODE_PREAD/FMODE_PWRITE: pread/pwrite are -ESPIPE either way.
   */
  anonInodeLseek: 'never' | 'with-llseek';
  /**
   * MAX_LFS_FILESIZE of this 32-bit kernel (include/linux/fs.h), tmpfs's s_maxbytes
   * (shmem_fill_super), the largest position lseek may set on a tmpfs file (vfs_setpos: past it
   * -EINVAL): 2^43 - 1 in 3.14 (`((u64)PAGE_CACHE_SIZE << (BITS_PER_LONG-1))-1`) and
   * (2^32 - 1) << 12 in v6.12 (`((loff_t)ULONG_MAX << PAGE_SHIFT)`, since v4.15's "Clarify
   * (and fix) MAX_LFS_FILESIZE macros")
   */
  maxLfsFilesize: number;
  /**
   * tmpfs lseek SEEK_DATA/SEEK_HOLE with a negative offset (shmem_file_llseek, mm/shmem.c):
   * 'einval' (3.14: `if (offset < 0) offset = -EINVAL;`) or 'enxio' (v6.12: `if (offset < 0)
   * return -ENXIO;` before mapping_seek_hole_data)
   */
  shmemSeekNegative: 'einval' | 'enxio';
  /**
   * how writev checks its vector: 'rw-copy-check-uvector' (3.14 fs/read_write.c: the array
   * copied in at once (-EFAULT), then per segment a negative length -EINVAL and a range
   * access_ok refuses -EFAULT) or 'import-iovec' (v6.12 lib/iov_iter.c: copy_iovec_from_user
   * reads the array element by element, -EINVAL at the first negative length, then
   * __import_iovec's access_ok per segment -EFAULT: every length before any range)
   */
  iovecImport: 'rw-copy-check-uvector' | 'import-iovec';
  /**
   * CAP_LAST_CAP (include/uapi/linux/capability.h): 36 in 3.14 (CAP_BLOCK_SUSPEND) and 40 in
   * v6.12 (CAP_CHECKPOINT_RESTORE). Root's capability sets hold every capability up to it
   * (CAP_FULL_SET), capset drops the bits above it (3.14 kernel/capability.c: the last u32 word
   * masked with CAP_LAST_U32_VALID_MASK; v6.12 mk_kernel_cap: CAP_VALID_MASK), and
   * /proc/self/status's CapBnd shows it (0000001fffffffff, 000001ffffffffff)
   */
  capLastCap: number;
  /**
   * whether struct cred has the ambient set (cap_ambient, since v4.3): v6.12's fs/proc/array.c
   * task_cap prints "CapAmb:" after CapBnd, security/commoncap.c cap_capset keeps it within
   * permitted & inheritable and cap_emulate_setxuid clears it when root gives up its uid; 3.14
   * has no such set and no line
   */
  capAmbient: boolean;
  /**
   * kernel/sys.c do_prlimit setting an RLIMIT_CPU soft limit of 0: 'one-second' (3.14: "we use
   * the zero value to mean 'it was never set'. So let's cheat and make it one second instead":
   * the limit reads back as 1) or 'zero' (v6.12: stored as given, the posix CPU timer code
   * takes 0 as a limit)
   */
  rlimitCpuZero: 'one-second' | 'zero';
  /**
   * what fork does with an anonymous page pinned by get_user_pages (a VFIO DMA mapping's):
   * 'cow-shared' (3.14 copy_one_pte: shared copy-on-write like every private page, so the
   * first writer gets a copy and the device keeps the frame the other process maps: a parent
   * that writes its DMA buffer after a fork writes a page the device never sees, unless the
   * buffer was madvise(MADV_DONTFORK)ed, as QEMU does for VFIO; and a read-only pin taken
   * after the fork pins the frame both still share, which the pinner's next write leaves
   * behind) or 'copy' (v6.12
   * copy_present_page: the child gets a copy at fork time and the parent keeps its frame,
   * commit 70e806e4e645 "mm: Do early cow for pinned pages during fork() for ptes", v5.9).
   * kernel-model/process/vma.ts VmaSpace.forkInto
   */
  forkPinnedPages: 'cow-shared' | 'copy';
  /**
   * the madvise advice the kernel accepts (mm/madvise.c madvise_behavior_valid; any other is
   * -EINVAL before the range is looked at), for the boards' configurations (no CONFIG_KSM, no
   * CONFIG_TRANSPARENT_HUGEPAGE: 32-bit ARM without LPAE, no CONFIG_MEMORY_FAILURE on ARM):
   * 3.14 NORMAL, RANDOM, SEQUENTIAL, WILLNEED, DONTNEED, REMOVE, DONTFORK, DOFORK, DONTDUMP,
   * DODUMP (0-4, 9-11, 16, 17); v6.12 adds FREE (8, v4.5), WIPEONFORK / KEEPONFORK (18, 19,
   * v4.14), COLD / PAGEOUT (20, 21, v5.4), POPULATE_READ / _WRITE (22, 23, v5.14) and
   * DONTNEED_LOCKED (24, v5.18). kernel-model/process/vma.ts VmaSpace.madvise
   */
  madviseAdvice: readonly number[];
  /**
   * MADV_REMOVE's access test of a shared mapping: 'vm-write' (3.14 madvise_remove: VM_SHARED
   * and VM_WRITE, the mapping's present protection) or 'vm-maywrite' (v6.12
   * vma_is_shared_maywrite: VM_SHARED and VM_MAYWRITE, "mm: drop the assumption that VM_SHARED
   * always implies writable", v6.7): a read-only MAP_SHARED anonymous mapping is -EACCES in
   * 3.14 and has its pages removed in v6.12
   */
  madviseRemoveAccess: 'vm-write' | 'vm-maywrite';
  /**
   * getdents64's check of the buffer (fs/readdir.c): 'access-ok-first' (3.14 sys_getdents64:
   * access_ok(dirent, count) before the fd is looked up: -EFAULT before -EBADF, at the end of
   * the directory too, and for a count reaching past user space) or 'per-record' (v6.12
   * filldir64: user_write_access_begin per record, no check before the fd; an empty answer
   * never faults). Either way the records written before a fault are the answer.
   */
  getdentsAccess: 'access-ok-first' | 'per-record';
  /**
   * sigaltstack's SS_AUTODISARM flag (kernel/signal.c do_sigaltstack, "signals/sigaltstack:
   * Implement SS_AUTODISARM flag", v4.7): false (3.14: any ss_flags but 0, SS_ONSTACK and
   * SS_DISABLE is -EINVAL) or true (v6.12: the flag is kept beside the mode; delivering a
   * handler on the alternate stack disables it until sigreturn restores it)
   */
  sigaltstackAutodisarm: boolean;
  /**
   * a signal sent to a process whose group exit has begun (SIGNAL_GROUP_EXIT), a zombie included
   * (kernel/signal.c prepare_signal): 'queued' (3.14: "the process is in the middle of dying,
   * nothing to do", the signal goes on to sig_ignored and is queued, charged to the target's user,
   * until release_task frees it at the reap) or 'dropped' (v6.12: prepare_signal returns false,
   * 9a95f78eab70 "signal: Drop signals received after a fatal signal has been processed"; and
   * do_group_exit sets SIGNAL_GROUP_EXIT for a single-threaded exit_group too, cbe9dac37904
   * "signal: Ensure SIGNAL_GROUP_EXIT gets set in do_group_exit"; both Eric W. Biederman's, in
   * v6.1: the pull of tag signal-for-v5.20 was sent on 2022-10-03, after v6.0, and merged as
   * e572410e47a4 in the v6.1 merge window (an earlier "Drop signals" patch, posted in December
   * 2021, was dropped from the queue in January 2022, before v5.17). prepare_signal and
   * do_group_exit read in 6.12.19 and 3.14.4, docs/KERNEL.md "Kernel trees read"). Either way
   * kill() answers 0. A process whose threads all left by exit(2) (not exit_group) has the flag
   * only with `groupExitOnLastThread`.
   */
  signalsAfterGroupExit: 'queued' | 'dropped';
  /**
   * whether the exit of a process's last thread sets SIGNAL_GROUP_EXIT whatever way it left
   * (kernel/exit.c): false (3.14: only do_group_exit, for a group of several threads, a fatal
   * signal's complete_signal and a core dump's zap_threads set it, so when every thread leaves by exit(2) the flag stays clear and
   * wait_task_zombie reports the leader's own exit_code, the leader having left first) or true
   * (v6.12: do_exit's synchronize_group_exit sets it, with group_exit_code the last thread's
   * code, when quick_threads reaches 0: d80f7d7b2c75 "signal: Guarantee that SIGNAL_GROUP_EXIT is
   * set on process exit", v6.1, the pull of the two commits of `signalsAfterGroupExit`; so wait
   * reports the last thread's code and, with 'dropped', every zombie drops signals). Read in
   * 3.14.4 and 6.12.19 (docs/KERNEL.md "Kernel trees read"); guest-tests/c/sigzombie.c.
   */
  groupExitOnLastThread: boolean;
  /**
   * whether a SIGKILL sent with a siginfo (kill, tgkill, rt_sigqueueinfo from user space) gets a
   * queue entry, charged to the target's user (SigQ) until the reap: 'queued' 3.14
   * (kernel/signal.c __send_signal skips the allocation only for SEND_SIG_FORCED, read in a 3.x
   * copy); 'none' v6.12 (__send_signal_locked: "Skip useless siginfo allocation for SIGKILL and
   * kernel threads", sig == SIGKILL goes to out_set, read in later copies; the commit that added
   * it is not identified here). The bit is set either way; delivery is the same.
   */
  sigkillEntry: 'queued' | 'none';
  /**
   * how rt_sigqueueinfo and rt_tgsigqueueinfo copy the caller's siginfo in (kernel/signal.c):
   * 'whole' (3.14: copy_from_user of the 128-byte siginfo_t, -EFAULT if any of it faults) or
   * 'checked-tail' (v6.12 __copy_siginfo_from_user: the 32-byte kernel_siginfo of this 32-bit
   * kernel, -EFAULT; then post_copy_siginfo_from_user: for an si_code known_siginfo_layout does
   * not know for the signal, the other 96 bytes are read too, -EFAULT, and must be zero, else
   * -E2BIG; a known one never reads them). Read in 3.14.4 and 6.12.19 (docs/KERNEL.md "Kernel
   * trees read"); guest-tests/c/sigrt.c checks both.
   */
  siginfoFromUser: 'whole' | 'checked-tail';
  /**
   * what do_DataAbort (arch/arm/mm/fault.c) prints for a user access's external abort (a device
   * access answered with a bus error, SIGBUS; kernel-model/exec/fsr.ts): '3.14' the KERN_ALERT
   * line "Unhandled fault: <fsr_info name> (0x<fsr>) at 0x<addr>"; '6.12' pr_alert
   * "8<--- cut here ---" before it (and show_pte's page-table line after it, not modelled)
   */
  dataAbortReport: '3.14' | '6.12';
  /**
   * the kernel whose ARM syscall table the entry serves, [major, minor]: [3, 14] (3.14.4's
   * arch/arm/kernel/calls.S) or [6, 12] (6.12.19's arch/arm/tools/syscall.tbl). A number the
   * entry knows whose first kernel (kernel-model/exec/syscall-era.ts SYSCALL_SINCE) is later
   * answers -ENOSYS before its arguments are read, and is not counted as unknown: statx,
   * the *_time64 calls, rseq, membarrier, clone3, faccessat2, renameat2, getrandom, fchmodat2
   * in 3.14 (renameat2, getrandom and fchmodat2 were capabilities of their own before the table)
   */
  syscallTable: readonly [major: number, minor: number];
  /**
   * copy_process's clone flag checks (kernel/fork.c; kernel-model/exec/clone-flags.ts), for
   * clone and clone3: '3.14' (read in 3.14.4: a new pid or user namespace refused with
   * CLONE_SIGHAND) or '6.12' (read in 6.12.19: refused only with CLONE_THREAD; CLONE_PIDFD with
   * CLONE_DETACHED, or with CLONE_PARENT_SETTID on the same pointer, -EINVAL). Both: CLONE_NEWNS
   * or CLONE_NEWUSER with CLONE_FS, CLONE_THREAD without CLONE_SIGHAND, CLONE_SIGHAND without
   * CLONE_VM -EINVAL
   */
  cloneFlagChecks: '3.14' | '6.12';
  /**
   * how deep symbolic links met in the middle of a path may nest (fs/namei.c): 8 (3.14
   * nested_symlink: link_path_walk recurses once per level, -ELOOP at MAX_NESTED_LINKS) or 40
   * (v6.12: the walk keeps its own stack of links, "namei: remove restrictions on nesting depth",
   * v4.2; only MAXSYMLINKS, 40 links in all, bounds it). Both eras allow 40 links per lookup.
   */
  nestedSymlinkLimit: number;
  /**
   * open(2) of /proc/<pid>/fd/N when N is an anonymous inode (an eventfd, a 3.14 VFIO device
   * fd; fs/proc/fd.c proc_fd_link jumps to the file's own inode): 'anon-inode-fops' (3.14
   * fs/anon_inodes.c anon_inode_mkinode: i_fop = anon_inode_fops, an empty file_operations: the
   * open succeeds, read and write -EINVAL) or 'enxio' (v6.12: alloc_anon_inode leaves
   * inode_init_always's no_open_fops, fs/inode.c no_open: -ENXIO; "new helper: no_open",
   * bd9b51e79cb0, v3.19). kernel-model/vfs/procfs.ts
   */
  procFdAnonOpen: 'anon-inode-fops' | 'enxio';
  /**
   * how execve's open of the image treats what is not a regular file (fs/exec.c, fs/namei.c
   * may_open): 'open-then-isreg' (3.14 do_open_exec: do_filp_open with MAY_EXEC | MAY_OPEN,
   * so inode_permission comes first and a device's open runs, its error winning; then
   * !S_ISREG -EACCES) or 'may-open' (v6.12: may_open refuses a directory, a device, a fifo or
   * a socket opened with MAY_EXEC with -EACCES before inode_permission and before any open,
   * 633fb6ac3980 "exec: move S_ISREG() check earlier", v5.9). kernel-model/exec/open-exec.ts
   */
  execOpenCheck: 'open-then-isreg' | 'may-open';
  /**
   * how execve reads a "#!" script's first line (fs/binfmt_script.c load_script):
   * 'buf128-truncate' (3.14: BINPRM_BUF_SIZE 128, an interpreter path longer than the buffer
   * is cut to what fits and run) or 'buf256-enoexec' (v6.12: BINPRM_BUF_SIZE 256, 6eb3c3d0a52d,
   * v5.0; a path with no newline, blank or NUL after it within the buffer may be truncated and
   * is -ENOEXEC, b5372fe5dc84, v5.0; the parser as ccbb18b67323 rewrote it, v5.8).
   * kernel-model/exec/binfmt-script.ts
   */
  binfmtScript: 'buf128-truncate' | 'buf256-enoexec';
  /**
   * whether an executed file denies writing while it runs (deny_write_access, fs/exec.c and
   * include/linux/fs.h): true (3.14: do_open_exec denies it, -ETXTBSY when the file is open
   * for writing; the image's VM_DENYWRITE mappings keep the denial while the process runs, so
   * an open for writing or a truncate of it is -ETXTBSY); false (v6.12: "fs: don't block
   * i_writecount during exec", 2a010c412853, v6.11, removed both; its revert 3b832035387f came
   * in v6.13 and the 6.12.y stable series, not in v6.12: 6.12.19's do_open_execat denies again
   * and dup_mm_exe_file / replace_mm_exe_file hold the denial for mm->exe_file, read in
   * 6.12.19; the profile follows the v6.12 release). The ELF interpreter's open_exec likewise:
   * 3.14 -ETXTBSY when it is open for writing, and its MAP_DENYWRITE mappings keep the denial
   * while the process runs. kernel-model/exec/lifecycle.ts
   */
  execDenyWrite: boolean;
  /**
   * the signal that ends a process whose execve failed after the point of no return (the old
   * image already gone; kernel-model/exec/load.ts ExecLateError: elf_map's vm_mmap refusing a
   * segment, a segment beyond TASK_SIZE or with p_filesz > p_memsz, padzero's fault, an entry
   * point beyond TASK_SIZE, the stack): 'sigkill' (3.14 fs/binfmt_elf.c load_elf_binary's own
   * signal at the failure: send_sig(SIGKILL), which wins over search_binary_handler's
   * force_sigsegv as the group exit code, so the parent's wait sees signal 9; send_sig(SIGSEGV)
   * after padzero and force_sig(SIGSEGV) for the entry point: signal 11) or 'sigsegv' (v6.12:
   * load_elf_binary returns the error, fs/exec.c bprm_execve force_fatal_sig(SIGSEGV): signal 11)
   */
  execMapFailure: 'sigkill' | 'sigsegv';
  /**
   * how the main thread's stack VMA (VM_GROWSDOWN, grown by faults below it up to
   * RLIMIT_STACK) keeps away from the mapping below (kernel-model/process/stack-grow.ts):
   * 'guard-page' (3.14: its lowest page is a guard page, check_stack_guard_page grows the VMA a
   * page further at its first fault, or SIGBUS when a mapping that does not grow down ends
   * right below; expand_stack refuses only a page that mapping ends at; /proc/<pid>/maps hides
   * the guard page) or 'guard-gap' (v4.12+: stack_guard_gap, 256 pages, between the faulting
   * page and an accessible mapping below, refused: SIGSEGV; no guard page; read in 3.14.4 and
   * 6.12.19 mm/mmap.c, mm/memory.c)
   */
  stackGuard: 'guard-page' | 'guard-gap';
  /**
   * whether get_user_pages grows a VM_GROWSDOWN VMA (the [stack], a MAP_GROWSDOWN mapping) for
   * an address just below it (kernel-model/process/mm.ts pinUserPage; VFIO type1's pinning):
   * 'find-extend-vma' (3.14: __get_user_pages looks the VMA up with find_extend_vma, which
   * expands the stack as a fault would, within RLIMIT_STACK and the guard rule of `stackGuard`;
   * read in 3.14.4 mm/memory.c, mm/mmap.c) or 'vma-lookup' (v6.12: gup_vma_lookup, a plain
   * vma_lookup: -EFAULT below the VMA; read in 6.12.19 mm/gup.c; the change is "mm: make
   * find_extend_vma() fail if write lock not held" and its GUP counterpart in v6.5, from memory)
   */
  gupStackExpand: 'find-extend-vma' | 'vma-lookup';
  /**
   * pselect6's write of the time left (kernel-model/syscall/select-time.ts) against its restore
   * of the caller's signal mask (kernel-model/exec/signal-usermask.ts finishPollWait):
   * 'copy-first' (3.14 do_pselect: poll_select_copy_remaining, then the mask; a write that
   * faults turns a signal's -ERESTARTNOHAND into -EINTR, so the caller's mask comes back at once
   * (sigprocmask) and a signal that only the call's mask let through stays pending, its handler
   * not run; 3.14's ppoll decides on the mask first, as 'mask-first') or 'mask-first' (v6.12
   * poll_select_finish: restore_saved_sigmask_unless on the call's own result, then the write:
   * the mask stays for the delivery, the handler runs, the call returns -EINTR). Read in 3.14.4
   * and 6.12.19 fs/select.c
   */
  pselectTimeLeft: 'copy-first' | 'mask-first';
  /**
   * nanosleep(2) and clock_nanosleep(2) set the thread's restart_block.fn to
   * do_no_restart_syscall once their arguments are read and valid, before they sleep: true
   * (v6.12 sys_nanosleep_time32 / sys_clock_nanosleep(_time32), which also keep rmtp there for
   * do_nanosleep) or false (3.14 sys_nanosleep / sys_clock_nanosleep leave it: a
   * restart_syscall(2) of the user's own after them runs the last block left). Observable
   * through restart_syscall(2) only (kernel-model/exec/signal-restart.ts). Read in 3.14.4
   * kernel/hrtimer.c and kernel/posix-timers.c, 6.12.19 kernel/time/hrtimer.c and
   * kernel/time/posix-timers.c
   */
  nanosleepRestartReset: boolean;
  /**
   * the generation of fs/binfmt_elf.c load_elf_binary (kernel-model/exec/elf-exec.ts, load.ts):
   * 'inline' (3.14: the program headers read inline, e_phnum up to 2048, a short read -EIO, no
   * FDPIC check; every PT_LOAD MAP_FIXED; one padzero at the end of the highest file part,
   * checked whatever the protection: a fault kills by SIGSEGV) or 'elf-load' (v6.12:
   * load_elf_phdrs, a table of at most ELF_MIN_ALIGN bytes (128 headers), a short read
   * -ENOEXEC; EI_OSABI ELFOSABI_ARM_FDPIC -ENOEXEC; the first PT_LOAD MAP_FIXED_NOREPLACE;
   * elf_load's padzero per segment, a fault fatal only for a writable one). Where an ET_DYN
   * goes (load.ts mainPlacement; the model has no ASLR): 'inline' at ELF_ET_DYN_BASE
   * (0x2a000000: 2 * TASK_SIZE / 3 in 32 bits) with or without an interpreter, its first
   * segment's mapping with that hint; 'elf-load' with an interpreter at ELF_ET_DYN_BASE
   * (0x400000) aligned down to its largest p_align, without one where mmap puts it (load_bias 0). The interpreter's program headers: 'inline' reads them in
   * load_elf_interp after the point of no return (a bad table kills, SIGSEGV), 'elf-load' before
   * (-ELIBBAD)
   */
  execElfLoad: 'inline' | 'elf-load';
  /**
   * the initial stack's auxiliary vector (fs/binfmt_elf.c create_elf_tables, read in 3.14.4 /
   * 6.12.19; emulator/cpu/unicorn/elf.ts buildInitialStack): '3.14' its 17 entries (ARM defines
   * no ELF_HWCAP2 and no ARCH_DLINFO in 3.14) or '6.12' with AT_HWCAP2 (ELF_HWCAP2, asm/hwcap.h)
   * after AT_RANDOM and AT_RSEQ_FEATURE_SIZE / AT_RSEQ_ALIGN (CONFIG_RSEQ, v6.3) after
   * AT_PLATFORM: 20 (the vDSO's AT_SYSINFO_EHDR is not modelled)
   */
  execAuxv: '3.14' | '6.12';
  /**
   * how much execve's argument and environment strings may take (fs/exec.c;
   * kernel-model/exec/exec-args.ts): 'arg-pages' (3.14 get_arg_page: the pages the strings and
   * the file name reach, beyond ARG_MAX at most a quarter of RLIMIT_STACK, -E2BIG) or
   * 'stack-limits' (v6.12 bprm_stack_limits: max(min(6 MiB, a quarter of RLIMIT_STACK), ARG_MAX)
   * less a pointer per string (max(argc, 1) + envc), -E2BIG); each string at most
   * MAX_ARG_STRLEN in both
   */
  execArgLimit: 'arg-pages' | 'stack-limits';
  /**
   * what execve gives a program when argv is NULL or empty (fs/exec.c; kernel-model/exec/exec-args.ts
   * emptyArgv): 'argc-zero' (3.14 do_execve_common: argc 0, argv[0] NULL) or 'empty-string'
   * (v6.12 do_execveat_common: one empty string, argc 1, and a pr_warn_once to the kernel log;
   * dcd46d897adb, "exec: Force single empty string when argv is empty", v5.18)
   */
  execEmptyArgv: 'argc-zero' | 'empty-string';
  /**
   * what /proc/<pid>/fdinfo/N prints (fs/proc/fd.c seq_show, then the file's show_fdinfo):
   * 'pos-flags' (3.14: "pos:" and "flags:"; eventfd_show_fdinfo "eventfd-count:" only);
   * 'mnt-id-ino' (v6.12: also "mnt_id:" (49d063cb3, "proc: show mnt_id in
   * /proc/pid/fdinfo", v3.15) and "ino:" (the "procfs/dmabuf" commit that added the inode number,
   * v5.14); eventfd also "eventfd-id:" ("eventfd: present id to userspace
   * via fdinfo", v5.2) and "eventfd-semaphore:" ("eventfd: show the EFD_SEMAPHORE flag in
   * fdinfo", v6.5)). kernel-model/vfs/procfs.ts
   */
  procFdinfo: 'pos-flags' | 'mnt-id-ino';
  /**
   * /proc/thread-self (fs/proc/thread_self.c, "proc: Implement /proc/thread-self to point at
   * the directory of the current thread", 0097875bd415, v3.17): a link whose text is
   * "<tgid>/task/<tid>" of the thread following it, listed after "self" in /proc
   * (proc_pid_readdir); false: 3.14 has no such entry (-ENOENT, not listed).
   * kernel-model/vfs/procfs.ts
   */
  procThreadSelf: boolean;
  /**
   * proc_fd_access_allowed's ptrace_may_access before the readlink or the following of
   * /proc/<pid>/{cwd,root,exe,fd/N} (kernel/ptrace.c __ptrace_may_access, security/commoncap.c
   * cap_ptrace_access_check): 'read-realcreds' (3.14, PTRACE_MODE_READ): a target without an
   * mm (a zombie) counts as not dumpable (dumpable = 0 unless task->mm), so it needs
   * CAP_SYS_PTRACE; the target's permitted set must be within the caller's permitted set.
   * 'read-fscreds' (v6.12, PTRACE_MODE_READ_FSCREDS: "ptrace: use fsuid, fsgid, effective creds
   * for fs access checks", caf70a3ae0a4, v4.5): within the caller's effective set; a target
   * without an mm skips the dumpable test ("if (mm && ...)"; the commit that relaxed v4.10's
   * "!mm ||" was not identified). kernel-model/vfs/procfs-access.ts
   */
  procPtraceAccess: 'read-realcreds' | 'read-fscreds';
  /**
   * the length argument of ftruncate (ARM 93; fs/open.c): 'unsigned-long' (3.14
   * SYSCALL_DEFINE2(ftruncate, unsigned int, fd, unsigned long, length): never negative, so
   * -1 is 4 GiB - 1, past MAX_NON_LFS -EINVAL without O_LARGEFILE) or 'off-t' (v6.12: a signed
   * off_t, -1 is -EINVAL; "ftruncate: pass a signed offset",
   * 4b8e88e563b5f666446d002ad0dc1e6e8e7102b0, v6.10). ftruncate64 takes a loff_t in both.
   */
  ftruncateLength: 'unsigned-long' | 'off-t';
  /**
   * where fallocate (ARM 352) refuses the modes tmpfs does not implement: 'vfs-mask' (3.14
   * do_fallocate, fs/open.c: a mode beyond KEEP_SIZE|PUNCH_HOLE -EOPNOTSUPP before the fd
   * checks; ZERO_RANGE, COLLAPSE_RANGE, INSERT_RANGE came in v3.15 and v4.1) or 'shmem' (v6.12
   * vfs_fallocate lets ZERO_RANGE, UNSHARE_RANGE and a lone COLLAPSE_RANGE or INSERT_RANGE
   * through its mask, so a descriptor not open for writing is -EBADF, a pipe -ESPIPE, a
   * non-regular file -ENODEV first, and mm/shmem.c shmem_fallocate answers -EOPNOTSUPP);
   * kernel-model/exec/fallocate.ts
   */
  fallocateModes: 'vfs-mask' | 'shmem';
  /**
   * who may linkat(AT_EMPTY_PATH) (fs/namei.c): 'cap-dac-read-search' (3.14 sys_linkat: the
   * flag without CAP_DAC_READ_SEARCH is -ENOENT, whatever the path) or 'opener-cred-or-cap'
   * (v6.12 path_init with LOOKUP_LINKAT_EMPTY: a dirfd whose file was opened under other
   * credentials than the caller's, f_cred != current_cred(), needs CAP_DAC_READ_SEARCH, else
   * -ENOENT; "vfs: relax linkat() AT_EMPTY_PATH - aka flink() - requirements",
   * 42bd2af5950456d46fdaa91c3a8fb02e680f19f5, v6.10)
   */
  linkatEmptyPath: 'cap-dac-read-search' | 'opener-cred-or-cap';
  /**
   * what /dev/random and /dev/urandom are (drivers/char/random.c): 'entropy-pools' (3.14: reads
   * go through extract_entropy_user, 10 bytes (EXTRACT_SIZE) per copy_to_user, and a fault is
   * -EFAULT whatever was copied before it; /dev/random's random_read hands out at most
   * SEC_XFER_SIZE (512) bytes a call; writes go through write_pool, 64 bytes per
   * copy_from_user, a fault -EFAULT) or 'crng' (v6.12, since the v5.17/v5.18 rewrite by Jason
   * A. Donenfeld: both read through get_random_bytes_user, byte counts up to a fault, -EFAULT
   * only when nothing was copied; /dev/random blocks only until the crng is ready, v5.6
   * "random: make /dev/random be almost like /dev/urandom", 30c08efec8884fb106b8e57094baa51bb4c44e32;
   * writes through write_pool_user, the bytes taken before a fault).
   * kernel-model/char/random.ts
   */
  randomChardev: 'entropy-pools' | 'crng';
}
