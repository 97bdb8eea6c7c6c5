/**
 * The data abort status codes the model's kernel reports for a user access that fsr_info leaves
 * to do_bad (arch/arm/mm/fault.c do_DataAbort): the external aborts. Both eras run the
 * short-descriptor table (fault.c includes fsr-2level.c without CONFIG_ARM_LPAE; the boards'
 * kernels have no LPAE, as the FSR values of the SIGSEGV path already assume).
 */

/** BUS_OBJERR (include/uapi/asm-generic/siginfo.h): "object specific hardware error" */
export const BUS_OBJERR = 3;

/** fault.c fsr_fs(): FS[3:0] and FS[4] (bit 10) of a short-descriptor FSR, the index into fsr_info */
export function fsrFs(fsr: number): number {
  return (fsr & 0xf) | ((fsr & 0x400) >> 6);
}

export interface FsrInfo {
  /** the signal arm_notify_die sends */
  sig: number;
  /** its si_code */
  code: number;
  /** the name "Unhandled fault" prints */
  name: string;
}

/**
 * The fsr_info entries (arch/arm/mm/fsr-2level.c, the same in 3.14 and v6.12) an external abort
 * selects: all SIGBUS; si_code 0 but for the imprecise (asynchronous) abort, BUS_OBJERR.
 */
const EXTERNAL: ReadonlyMap<number, FsrInfo> = new Map([
  [4, { sig: 7, code: 0, name: 'external abort on linefetch' }],
  [6, { sig: 7, code: 0, name: 'external abort on linefetch' }],
  [8, { sig: 7, code: 0, name: 'external abort on non-linefetch' }],
  [10, { sig: 7, code: 0, name: 'external abort on non-linefetch' }],
  [12, { sig: 7, code: 0, name: 'external abort on translation' }],
  [14, { sig: 7, code: 0, name: 'external abort on translation' }],
  [22, { sig: 7, code: BUS_OBJERR, name: 'imprecise external abort' }],
]);

/** fsr_info + fsr_fs(fsr) for an external abort; null for any other status */
export function externalAbortInfo(fsr: number): FsrInfo | null {
  return EXTERNAL.get(fsrFs(fsr)) ?? null;
}

/**
 * What do_DataAbort prints before arm_notify_die (KERN_ALERT: on the console at the default
 * loglevel; unconditional, unlike __do_user_fault's "unhandled page fault" line, which needs
 * CONFIG_DEBUG_USER and user_debug): 3.14 printk "Unhandled fault: %s (0x%03x) at 0x%08lx";
 * v6.12 pr_alert "8<--- cut here ---" first, the same line, then show_pte's "[addr] *pgd=..."
 * line, which is not modelled (the model keeps no hardware page tables).
 */
export function dataAbortReport(era: '3.14' | '6.12', info: FsrInfo, fsr: number, addr: number): string[] {
  const line = `Unhandled fault: ${info.name} (0x${(fsr >>> 0).toString(16).padStart(3, '0')}) at 0x${(addr >>> 0).toString(16).padStart(8, '0')}`;
  return era === '3.14' ? [line] : ['8<--- cut here ---', line];
}
