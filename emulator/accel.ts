/**
 * The accelerator switch (docs/ARCHITECTURE.md, "Reference models and accelerators").
 *
 * Every device model is a reference model a reviewer can check against its manual; speed-ups
 * (bulk copies, walk caches, hit memos, copy runs) live in each device's `accel/` folder and
 * must give the same results: same memory, same virtual time, same statistics, same trace.
 * This switch turns all of them off, so the suite can prove it.
 *
 * Where it is decided, in order:
 *  1. a device node's boolean property `vfio-arm-emu,no-accel` (that device only);
 *  2. the machine option `accel` (`createMachine({ accel: false })`, CLI `--no-accel`);
 *  3. the default: on, unless the environment variable VFIO_ARM_EMU_ACCEL is `0` or `off`
 *     (how CI runs the whole suite with accelerators off; host configuration read once at
 *     start-up, not model state).
 */
function envDefault(): boolean {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  const v = g.process?.env?.['VFIO_ARM_EMU_ACCEL'];
  return !(v === '0' || v === 'off' || v === 'false');
}

/** The default for machines and devices built without an explicit choice. */
export const ACCEL_DEFAULT: boolean = envDefault();

/** The device-tree property that turns the accelerators of one device off. */
export const NO_ACCEL_PROP = 'vfio-arm-emu,no-accel';
