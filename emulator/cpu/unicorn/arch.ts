import type { UnicornEngine } from './engine.js';
import {
  UC_ARCH_ARM, UC_ARM_REG_C1_C0_2, UC_ARM_REG_CPSR, UC_ARM_REG_FPEXC, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_SP,
  UC_CPU_ARM_CORTEX_A15, UC_MODE_ARM,
  type UnicornApi,
} from './native.js';

/**
 * The architecture seam. Everything the engine and the thread need to know about the
 * guest ISA lives here; ARMV7A is the only implementation today. An AArch64 spec would
 * add 64-bit register access (uc_reg_read with a BigUint64Array), UC_ARCH_ARM64, svc
 * number in x8 and arguments in x0-x5, and intno 2 for EXCP_SWI as well.
 */
export interface ArchSpec {
  readonly name: string;
  readonly ucArch: number;
  readonly ucMode: number;
  readonly cpuModel: number;
  readonly pcReg: number;
  readonly spReg: number;
  /** register holding the syscall number */
  readonly syscallNrReg: number;
  /** argument registers, in order */
  readonly argRegs: readonly number[];
  readonly retReg: number;
  /** UC_HOOK_INTR number raised by the supervisor call */
  readonly svcIntno: number;
  /** size of the svc instruction in the current mode */
  svcSize(e: UnicornEngine): number;
  /** the start address to give uc_emu_start for the current PC (Thumb bit) */
  resumeAddress(e: UnicornEngine): number;
  /** one-time CPU set-up after uc_open (FPU enable etc.) */
  init(e: UnicornEngine): void;
}

const CPSR_T = 1 << 5;

export const ARMV7A: ArchSpec = {
  name: 'armv7-a',
  ucArch: UC_ARCH_ARM,
  ucMode: UC_MODE_ARM,
  cpuModel: UC_CPU_ARM_CORTEX_A15,
  pcReg: UC_ARM_REG_PC,
  spReg: UC_ARM_REG_SP,
  syscallNrReg: UC_ARM_REG_R0 + 7,
  argRegs: [0, 1, 2, 3, 4, 5, 6].map((i) => UC_ARM_REG_R0 + i),
  retReg: UC_ARM_REG_R0,
  svcIntno: 2, // EXCP_SWI
  svcSize: (e) => ((e.reg(UC_ARM_REG_CPSR) & CPSR_T) !== 0 ? 2 : 4),
  resumeAddress: (e) => (e.reg(UC_ARM_REG_PC) | ((e.reg(UC_ARM_REG_CPSR) & CPSR_T) !== 0 ? 1 : 0)) >>> 0,
  init: (e) => {
    // glibc's string functions use NEON: grant cp10/cp11 full access in CPACR and set FPEXC.EN,
    // otherwise the first VFP/NEON instruction is undefined.
    e.setReg(UC_ARM_REG_C1_C0_2, e.reg(UC_ARM_REG_C1_C0_2) | 0x00f00000);
    e.setReg(UC_ARM_REG_FPEXC, 0x40000000);
  },
};

export class UnicornError extends Error {
  constructor(readonly op: string, readonly code: number, api: UnicornApi) {
    super(`unicorn ${op}: ${api.uc_strerror(code)} (${code})`);
    this.name = 'UnicornError';
  }
}
