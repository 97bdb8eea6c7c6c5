/**
 * The scenario registry: every runnable scenario (guest program + set-up + expected
 * outcome) that `vfio-arm-emu run` and the regression suite know. Scenarios register
 * themselves from tools/scenarios/index.ts.
 */
import { parseProfile, type Profile } from '../../kernel-model/profile.js';
import type { Machine } from '../../emulator/machine.js';
import type { TraceExports } from '../../emulator/trace.js';

export interface ScenarioOptions {
  profile: string;
  board: string;
  seed: number;
  size?: number;
  transfers?: number;
  channel?: number;
  trace?: { enabled: boolean; keep: boolean };
  /** accelerator layers on/off (emulator/accel.ts); undefined: the default (VFIO_ARM_EMU_ACCEL) */
  accel?: boolean;
  /** the kernel command line, replacing the board's /chosen/bootargs (CLI --bootargs); undefined: the board's */
  bootargs?: string;
  /** called with the machine right after it is assembled, before the kernel boots (CLI --trace-mmio) */
  onMachine?: (m: Machine) => void;
}

export interface ScenarioFault {
  source: string;
  kind: string;
  detail: string;
  t: number;
}

/** the trace exports (emulator/trace.ts TraceExports) are there when the run kept its trace events */
export interface ScenarioResult extends Partial<TraceExports> {
  scenario: string;
  profile: string;
  board: string;
  seed: number;
  /** the scenario's observed outcome matched the expected one for this profile */
  passed: boolean;
  /** the expected outcome (e.g. "pass", "stops: CHECK_EXTENSION(TYPE1) = 0") */
  expected: string;
  /** what happened (same vocabulary as expected) */
  outcome: string;
  virtualTimeNs: number;
  traceSha256: string;
  dmaBytes: number;
  /** interrupts delivered to user space (eventfd signals from vfio-platform) */
  interrupts: number;
  /** kstat counts of the device's lines (/proc/interrupts; 3.14 also counts the take that masks a lazily disabled line, mainline not: capability irqKstat) */
  irqTakes: number;
  faults: ScenarioFault[];
  /** whether the device accelerators were allowed (machine option `accel`) */
  accel: boolean;
  /** guest errors reported by register maps (emulator/regmap.ts), counted with tracing on or off */
  guestErrors: number;
  /** the same per reporting device, in order of first occurrence */
  guestErrorsByDevice: Record<string, number>;
  kernelLog: string[];
  output: string[];
  exitStatus: number | null;
}

export interface Scenario {
  name: string;
  description: string;
  /** profiles the scenario applies to (for the regression suite); undefined: all */
  profiles?: readonly string[];
  /**
   * true when the scenario computes its expected outcome for every profile (`profiles` is then
   * only what the regression suite runs). Otherwise the expected outcome is defined for
   * `profiles` only, and the CLI refuses other profiles (exit 2) rather than report a FAIL
   * that means nothing (docs/CLI.md).
   */
  anyProfile?: boolean;
  /** the run options this scenario honours beyond profile and seed (the CLI refuses others) */
  accepts: ReadonlyArray<'board' | 'size' | 'transfers' | 'channel'>;
  /** host-time budget of one run in the regression suite, when longer than the default */
  timeoutMs?: number;
  run(opts: ScenarioOptions): ScenarioResult;
}

const scenarios = new Map<string, Scenario>();

export function registerScenario(s: Scenario): void {
  if (scenarios.has(s.name)) throw new Error(`scenario ${s.name} registered twice`);
  scenarios.set(s.name, s);
}

export function getScenario(name: string): Scenario | undefined {
  return scenarios.get(name);
}

export function listScenarios(): Scenario[] {
  return [...scenarios.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // code-point order: the same on every host locale
}

/** two profile names select the same behaviour (rfc-v4 and patches:1-10 do) */
function sameProfile(a: Profile, b: Profile): boolean {
  return JSON.stringify(a.caps) === JSON.stringify(b.caps);
}

/** the scenario's expected outcome is defined for this profile */
export function definedForProfile(s: Scenario, profile: string): boolean {
  if (s.anyProfile || s.profiles === undefined) return true;
  const p = parseProfile(profile);
  return s.profiles.some((q) => sameProfile(parseProfile(q), p));
}

/** the profile a run uses when none is given: rfc-v4, or the scenario's first one if rfc-v4 is not among them */
export function defaultProfileFor(s: Scenario): string {
  return definedForProfile(s, 'rfc-v4') ? 'rfc-v4' : s.profiles![0]!;
}
