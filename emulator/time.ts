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
