/**
 * The bundled CLI's source of the commands list/run/matrix/trace (installed by bin.ts; the
 * sources and the tests import tools/cli/commands.ts directly).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.js';
import { loadCjsBundle, writeCodeCache } from './code-cache.js';
import type { CommandsModule } from './main.js';
import { isScenarioPath } from './scenario-file.js';
import { RUN_OPTS } from './specs.js';

/**
 * `list`, `run`, `matrix` and `trace` from the code-cached bundle next to the bundled CLI
 * (dist/cli-commands.cjs, tools/cli/code-cache.ts), else from the ES-module chunk. A `run` of
 * a scenario file takes the ES modules: the file imports the library (dist/index.js, the
 * same chunks), and the scenario it defines must meet the same classes and registries as
 * the command that runs it. VFIO_ARM_EMU_CODE_CACHE (docs/CLI.md): `off` always takes the ES
 * modules, `report` says on stderr which code ran, `write` (the build) writes the cache after
 * the command.
 */
export async function loadCommands(cmd: string, argv: readonly string[]): Promise<CommandsModule> {
  const mode = process.env['VFIO_ARM_EMU_CODE_CACHE'] ?? '';
  if (mode !== '' && mode !== 'on' && mode !== 'off' && mode !== 'report' && mode !== 'write') {
    process.stderr.write(`vfio-arm-emu: ignoring VFIO_ARM_EMU_CODE_CACHE=${mode} (expected on, off, report or write)\n`);
  }
  const esm = (why: string): Promise<CommandsModule> => {
    if (mode === 'report') process.stderr.write(`vfio-arm-emu: code cache: not used (${why})\n`);
    return import('./commands.js');
  };
  if (mode === 'off') return esm('VFIO_ARM_EMU_CODE_CACHE=off');
  if (namesScenarioFile(cmd, argv)) return esm('a scenario file');
  const file = fileURLToPath(new URL('./cli-commands.cjs', import.meta.url));
  const cacheFile = `${file}.v8cache`;
  const b = await loadCjsBundle(file, cacheFile);
  if (b === null) return esm('no bundle, or a Node without vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER');
  if (mode === 'report') process.stderr.write(`vfio-arm-emu: code cache: ${b.cache} (${file})\n`);
  const m = b.exports as unknown as CommandsModule;
  if (mode !== 'write') return m;
  return {
    async runCommand(c, a, io) {
      const code = await m.runCommand(c, a, io);
      try {
        const n = await writeCodeCache(b, cacheFile);
        process.stderr.write(`vfio-arm-emu: code cache: wrote ${n} bytes to ${cacheFile}\n`);
      } catch (e) {
        // (a read-only installation): said, and the command's own status stands
        process.stderr.write(`vfio-arm-emu: code cache: cannot write ${cacheFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      }
      return code;
    },
  };
}

function namesScenarioFile(cmd: string, argv: readonly string[]): boolean {
  if (cmd !== 'run') return false;
  try {
    return parseArgs(argv, RUN_OPTS).positionals.some(isScenarioPath);
  } catch {
    return false; // a usage error: reported by the command, from either module alike
  }
}
