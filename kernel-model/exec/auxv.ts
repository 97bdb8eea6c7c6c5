import { HWCAP_CORTEX_A15, type StackOptions } from '../../emulator/cpu/unicorn/elf.js';
import { RSEQ_ALIGN, RSEQ_END } from './rseq.js';

/**
 * ELF_HWCAP2 of the board's Cortex-A15 in v6.12 (arch/arm/kernel/setup.c cpuid_init_hwcaps,
 * read in 6.12.19): the HWCAP2 bits come from ID_ISAR5 (AES, PMULL, SHA1, SHA2, CRC32: the
 * ARMv8 crypto and CRC instructions), ID_ISAR6 (SB) and ID_PFR2 (SSBS). The A15 is ARMv7
 * without them: ISAR5 reads 0 and ISAR6 / PFR2 are unallocated ARMv7 ID registers, read as zero
 * (from memory: Cortex-A15 TRM, "c0 registers"), so none is set.
 */
export const HWCAP2_CORTEX_A15 = 0;

/** the exec'ing task's credentials create_elf_tables reads (the model keeps one uid, no gid: 0) */
export interface ExecCred {
  uid: number;
}

/**
 * What an exec's auxiliary vector holds beyond the image (fs/binfmt_elf.c create_elf_tables,
 * read in 3.14.4 / 6.12.19; elf.ts buildInitialStack writes it), by the profile's `execAuxv`:
 * - AT_UID/AT_EUID/AT_GID/AT_EGID: current_cred()'s uid, euid, gid, egid after the exec's
 *   credentials are committed (3.14 install_exec_creds, v6.12 begin_new_exec, both before
 *   create_elf_tables). The model keeps one uid per process (process.ts: real = effective) and
 *   no group ids (getgid answers 0), and an exec does not change them (no set-user-ID files).
 * - AT_SECURE: 3.14 security_bprm_secureexec -> cap_bprm_secureexec (a non-root uid with
 *   bprm->cap_effective or a permitted set, else euid != uid or egid != gid), v6.12
 *   bprm->secureexec set by cap_bprm_creds_from_file (is_setid, or a non-root uid with
 *   `effective` or a permitted set grown beyond the ambient one); security/commoncap.c read in
 *   both. Without set-user-ID files or file capabilities a non-root exec's permitted set is
 *   its ambient one (empty in 3.14) and `effective` needs euid 0, so both reduce to euid != uid
 *   or egid != gid: 0 in the model, also for a root process with a reduced capability set (the
 *   uid 0 test skips the capability terms). Other LSMs (SELinux, AppArmor) are not modelled.
 * - '6.12': AT_HWCAP2 (HWCAP2_CORTEX_A15) and CONFIG_RSEQ's AT_RSEQ_FEATURE_SIZE
 *   (offsetof(struct rseq, end), 28) and AT_RSEQ_ALIGN (__alignof__(struct rseq), 32)
 *   (include/uapi/linux/rseq.h, read in 6.12.19; "rseq: Extend auxiliary vector", v6.3, from
 *   memory). '3.14': neither (ARM's asm/hwcap.h has no ELF_HWCAP2 there; rseq is v4.18).
 */
export function execAuxOptions(era: '3.14' | '6.12', cred: ExecCred): Omit<StackOptions, 'execfn'> {
  const ids = { uid: cred.uid, euid: cred.uid, gid: 0, egid: 0 };
  const secure = ids.euid !== ids.uid || ids.egid !== ids.gid ? 1 : 0;
  const base = { hwcap: HWCAP_CORTEX_A15, cred: ids, secure };
  return era === '6.12' ? { ...base, hwcap2: HWCAP2_CORTEX_A15, rseq: { featureSize: RSEQ_END, align: RSEQ_ALIGN } } : base;
}
