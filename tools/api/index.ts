/**
 * The library API: `import { ... } from 'vfio-arm-emu'` (docs/API.md).
 *
 * Everything here is re-exported from the modules that implement it, so the types in
 * dist/types/ are generated from the same sources (tsconfig.types.json). The layers stay as
 * they are (docs/ARCHITECTURE.md): a user's guest program sees only the syscall API (`Sys`,
 * the uapi constants and structs), a scenario boots a `System`, binds a device and runs
 * guest programs on it, and reports a `ScenarioResult` like the built-in scenarios do.
 */
import '../scenarios/index.js';
import { getScenario, listScenarios as listRegistered, type Scenario, type ScenarioOptions, type ScenarioResult } from '../scenarios/registry.js';
import { listBoards } from '../../emulator/machine.js';
import pkg from '../../package.json' with { type: 'json' };

/** the package's version (package.json) */
export const version: string = pkg.version;

// ------------------------------------------------------------------ machine and system
export { System, type SystemOptions } from '../system/system.js';
export { createMachine, createBoardMachine, loadBoardSource, listBoards, BoardError, DEFAULT_BOARD, DEFAULT_SEED, type Machine, type MachineOptions, type CreateMachineOptions } from '../../emulator/machine.js';
export { defaultRegistry } from '../../devices/registry.js';
export type { RunResult } from '../../emulator/scheduler.js';
export type { MmioObserver, MmioRegion, MmioDevice } from '../../emulator/bus.js';
export type { TraceEvent } from '../../emulator/trace.js';

// ------------------------------------------------------------------ profiles
export { parseProfile, ProfileError, PATCH_TITLES, type Profile, type Capabilities, type PatchNo } from '../../kernel-model/profile.js';

// ------------------------------------------------------------------ guest programs (the syscall API)
export * as uapi from '../../kernel-model/uapi/index.js';
export type { Sys, SysCall, GuestProgram } from '../../kernel-model/uapi/index.js';
export { Libc, hex, hex64 } from '../../guest-tests/lib/libc.js';
export { setIrqTrigger } from '../../guest-tests/lib/vfio.js';
export { pl330VfioTest, type Pl330TestOptions } from '../../guest-tests/pl330-vfio-test/main.js';
export { memToMemProgram, Pl330Program } from '../../guest-tests/lib/pl330-prog.js';
export { bindToVfio, type BindResult, type BindMethod } from '../../guest-tests/admin/bind.js';

// ------------------------------------------------------------------ scenarios
export type { Scenario, ScenarioOptions, ScenarioResult, ScenarioFault } from '../scenarios/registry.js';
export { adminBind, bootSystem, finishResult, runThreads, splitLines, SCENARIO_TIME_LIMIT_NS } from '../scenarios/runner.js';
export { runPl330, pl330Of, PL330_DEVICE, type Pl330RunOptions } from '../scenarios/pl330.js';
export { computeMatrix, type MatrixRow } from '../scenarios/matrix.js';
export { toJson, toJunit, summaryLines, oneLine, JSON_SCHEMAS } from '../cli/report.js';

/** the built-in scenarios (name, description, profiles) */
export function listScenarios(): Array<Pick<Scenario, 'name' | 'description' | 'profiles' | 'accepts'>> {
  return listRegistered().map((s) => ({ name: s.name, description: s.description, profiles: s.profiles, accepts: s.accepts }));
}

/**
 * Run a built-in scenario by name, or a Scenario object (a user's own, docs/API.md), with
 * the CLI's defaults (rfc-v4, the default board, seed 1). Throws for an unknown name.
 */
export function runScenario(scenario: string | Scenario, opts: Partial<ScenarioOptions> = {}): ScenarioResult {
  const sc = typeof scenario === 'string' ? getScenario(scenario) : scenario;
  if (!sc) throw new Error(`unknown scenario '${String(scenario)}' (known: ${listRegistered().map((s) => s.name).join(', ')})`);
  return sc.run({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1, ...opts });
}

/** a user's scenario, typed (the identity: `export default defineScenario({ ... })`) */
export function defineScenario(s: Scenario): Scenario {
  return s;
}

/** the shipped boards (emulator/boards/*.dts), by name */
export function boards(): string[] {
  return listBoards();
}

// ------------------------------------------------------------------ fuzzing
export { runCampaign, runProgram, type CampaignOptions, type CampaignResult, type FindingReport } from '../fuzz/engine.js';
export { loadBaseline, matchBaseline, type FuzzBaseline } from '../fuzz/baseline.js';
export { emitC, emitFinding, EmitError, type EmitInput, type EmitResult } from '../fuzz/emit-c.js';
