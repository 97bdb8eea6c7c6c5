/**
 * A kernel Oops: a fault taken in kernel context (an external abort on a device access,
 * an out-of-bounds kernel read that hits unmapped kernel memory). It is thrown from
 * the faulting kernel code path and caught at the syscall or IRQ boundary, where the
 * kernel model does what Linux does: log the Oops, kill the current process, and keep
 * the machine running.
 */
export class KernelOops extends Error {
  constructor(
    readonly kind: 'external-abort' | 'paging-request' | 'bug',
    readonly address: number,
    readonly detail: string,
  ) {
    super(`Unable to handle kernel ${kind === 'paging-request' ? 'paging request' : kind} at virtual address 0x${(address >>> 0).toString(16).padStart(8, '0')}: ${detail}`);
  }
}
