/**
 * Virtual time.
 *
 * The unit of virtual time everywhere in the model is the **nanosecond**, held in a
 * JavaScript number that is always an integer. 2^53 ns is about 104 days of virtual
 * time, far beyond any run. Clock periods of the modelled hardware are chosen so that
 * they are whole nanoseconds (PL330 at 100 MHz = 10 ns, CPU at 1 GHz = 1 ns).
 *
 * No model code ever reads the host's clock: time only advances when the scheduler
 * runs an event.
 */
export type Ns = number;

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

/** A clock domain: frequency in Hz with an integer period in ns. */
export class Clock {
  readonly periodNs: number;
  constructor(readonly name: string, readonly hz: number) {
    const p = NS_PER_S / hz;
    if (!Number.isInteger(p) || p <= 0) {
      throw new RangeError(`clock ${name}: ${hz} Hz does not have a whole-nanosecond period`);
    }
    this.periodNs = p;
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }
  cycles(n: number): Ns {
    return n * this.periodNs;
  }
}

export function formatNs(t: Ns): string {
  if (t < NS_PER_US) return `${t} ns`;
  if (t < NS_PER_MS) return `${(t / NS_PER_US).toFixed(3)} us`;
  if (t < NS_PER_S) return `${(t / NS_PER_MS).toFixed(3)} ms`;
  return `${(t / NS_PER_S).toFixed(6)} s`;
}

/**
 * The initial value of a number field that will hold virtual times (ns), running totals or
 * 32-bit addresses: values that pass 2^31 in any run longer than 2.1 s of virtual time or
 * 2 GiB of DMA, or on any bus address in the upper half. The constructor sets the field to
 * its real starting value right after.
 *
 * Why (V8 in Node 20, 64-bit): a field first written with a small integer ("Smi", 32-bit
 * signed) is laid out as one; the first value at or above 2^31 changes its layout to a
 * double, which gives the object a new hidden class and deprecates the old one, and
 * compiled code that inlined the old class is thrown away. Usually it is recompiled, but in
 * 9 of 44 dma-copy runs of 30 transfers under `--trace-deopt` the PL330 copy run instead
 * deoptimised on every call (65 times per 64 MiB transfer, to the end of the run) once
 * virtual time passed 2^31 ns, each transfer taking 1.5-2x as long (docs/PERFORMANCE.md,
 * "DMA: the JIT's warm-up and hidden classes at 2^31"); in 72 runs with the scheduler's, the CPU's, the master port's,
 * the PL330 threads' and the SMMU's such fields initialised with this value, none did. A
 * field whose first value is not a small integer is a double from the start, later small
 * integers are stored in it unchanged, and its hidden class never changes
 * (tools/bench/wide-fields.test.ts checks it with V8's %HaveSameMap).
 */
export const WIDE_FIELD_INIT = 2 ** 53;
