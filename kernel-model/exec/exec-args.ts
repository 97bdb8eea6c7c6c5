import { E2BIG, EFAULT, EINVAL } from '../base/errno.js';
import { RLIMIT_STACK } from '../process/cred.js';
import type { LinuxAbi } from './linux-abi.js';

/**
 * execve's argument and environment strings (fs/exec.c count, copy_strings,
 * copy_string_kernel; 3.14 get_arg_page, v6.12 bprm_stack_limits), both eras read in copies of
 * fs/exec.c (3.x get_arg_page; the v6.12 bprm_stack_limits with its max(argc, 1) fix).
 *
 * Each string, its NUL included, at most MAX_ARG_STRLEN (32 pages), -E2BIG (valid_arg_len).
 * All of them, with the file name as given copied first (bprm->filename) and bprm->p starting
 * one pointer below the top, within the stack limit (capability `execArgLimit`):
 * 'arg-pages' (3.14 get_arg_page): the pages the strings reach, counted as the argument VMA's
 *   size, may exceed ARG_MAX (32 pages) only up to a quarter of RLIMIT_STACK, -E2BIG;
 * 'stack-limits' (v6.12 bprm_stack_limits): max(min(3/4 of _STK_LIM, a quarter of
 *   RLIMIT_STACK), ARG_MAX) less a pointer per string (max(argc, 1) + envc), -E2BIG when the
 *   pointers alone do not fit, and the strings' bytes within what is left.
 * Model order: the strings are read (their -EFAULT) before the limit is applied; the kernel
 * counts the pointers first and copies envp before argv (an execve with both a bad pointer and
 * too much may answer the other errno: not modelled).
 */
export type ArgLimitRules = 'arg-pages' | 'stack-limits';

const PAGE = 4096;
/** MAX_ARG_STRLEN, ARG_MAX (include/uapi/linux/binfmts.h, limits.h): 32 pages */
const MAX_ARG_STRLEN = 32 * PAGE, ARG_MAX = 32 * PAGE;
/** _STK_LIM (include/uapi/linux/resource.h): 8 MiB */
const STK_LIM = 8 << 20;

/** read a NULL-terminated array of string pointers (argv/envp), or a negative errno; `budget`: the most bytes any limit allows */
export function readArgStrings(p: LinuxAbi, ptr: number, budget: number): string[] | number {
  const out: string[] = [];
  if (ptr === 0) return out;
  let bytes = 0;
  for (let i = 0; ; i++) {
    if (bytes > budget) return -E2BIG;
    const s = p.mm.getUser32(ptr + 4 * i);
    if (s < 0) return -EFAULT;
    if (s === 0) return out;
    // strnlen_user(str, MAX_ARG_STRLEN): no NUL within it, -E2BIG
    const str = p.mm.strndupUser(s >>> 0, MAX_ARG_STRLEN);
    if (str === -EINVAL) return -E2BIG;
    if (typeof str === 'number') return str;
    bytes += str.length + 1;
    out.push(str);
  }
}

/** the quarter of the caller's RLIMIT_STACK (soft limit; RLIM_INFINITY reads as 4 GiB - 1) */
function rlimQuarter(p: LinuxAbi): number {
  return Math.floor(p.proc.rlim[2 * RLIMIT_STACK]! / 4);
}

/** the most string bytes either rule can allow the caller (readArgStrings' budget) */
export function argBudget(p: LinuxAbi): number {
  return Math.max(ARG_MAX, rlimQuarter(p));
}

/** 0 when the file name, envp and argv strings fit the stack limit (rules above), else -E2BIG */
export function argStringsFit(p: LinuxAbi, rules: ArgLimitRules, filename: string, argv: readonly string[], envp: readonly string[]): number {
  let bytes = filename.length + 1;
  for (const s of envp) bytes += s.length + 1;
  for (const s of argv) bytes += s.length + 1;
  if (rules === 'arg-pages') {
    // the argument VMA ends at STACK_TOP_MAX (page aligned); bprm->p starts a pointer below it
    const size = Math.ceil((4 + bytes) / PAGE) * PAGE;
    return size <= ARG_MAX || size <= rlimQuarter(p) ? 0 : -E2BIG;
  }
  let limit = Math.max(Math.min((STK_LIM / 4) * 3, rlimQuarter(p)), ARG_MAX);
  const ptrs = (Math.max(argv.length, 1) + envp.length) * 4;
  if (limit <= ptrs) return -E2BIG;
  limit -= ptrs;
  return bytes <= limit ? 0 : -E2BIG;
}

/** capability `execEmptyArgv` (profile.ts) */
export type EmptyArgvRules = 'argc-zero' | 'empty-string';

/**
 * The argv a program gets when execve's argv is NULL or has no string (count() of a NULL array
 * is 0 in both eras): 'argc-zero' (3.14 do_execve_common copies nothing: argc 0, argv[0] NULL);
 * 'empty-string' (v6.12 do_execveat_common, dcd46d897adb "exec: Force single empty string when
 * argv is empty", v5.18: after argv is counted a pr_warn_once "process '<comm>' launched
 * '<filename>' with NULL argv: empty string added", and after envp and argv are copied one
 * empty string, argc 1). binfmt_script's remove_arg_zero then drops that "" (v6.12) or finds
 * nothing to drop (3.14: argc 0 returns at once): a script gets the same argv in both eras.
 * Model order: the warning follows the reading of argv's strings (only a non-empty argv has
 * any, so no errno comes between them).
 */
export function emptyArgv(p: LinuxAbi, rules: EmptyArgvRules, filename: string, argv: readonly string[]): readonly string[] {
  if (argv.length > 0 || rules === 'argc-zero') return argv;
  const once = p.layer.printedOnce;
  if (!once.has('exec-null-argv')) {
    once.add('exec-null-argv');
    p.log?.warn('', `process '${p.proc.comm(p.proc.pid)}' launched '${filename}' with NULL argv: empty string added`);
  }
  return [''];
}
