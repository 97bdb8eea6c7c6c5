/**
 * PL330 accelerators (docs/PL330.md, "Accelerators"): bulk execution of counted load/store
 * loops with exactly the results of the reference executor. Deleting this folder and its
 * one use in pl330.ts (`createPl330Accel`) leaves a correct, slower model.
 */
import type { AccelHost } from './host.js';
import { Pl330Accel } from './state.js';

export type { AccelHost } from './host.js';
export { Pl330Accel } from './state.js';

export function createPl330Accel(host: AccelHost): Pl330Accel {
  return new Pl330Accel(host);
}
