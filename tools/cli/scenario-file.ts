/**
 * `vfio-arm-emu run ./my-scenario.ts`: a user's scenario loaded by path (docs/API.md,
 * "Scenario files"). The module's default export (or its export named `scenario`) is a
 * Scenario (tools/scenarios/registry.ts): name, description, accepts, run(options) returning
 * a ScenarioResult, usually built with the library's runner helpers.
 *
 * - .ts/.mts/.cts: bundled on the fly with esbuild (imported only here, only then), with
 *   `vfio-arm-emu` resolved to this installation's library (dist/index.js next to the
 *   bundled CLI; the sources when running from the repository), so a scenario file needs
 *   nothing installed beside it.
 * - .mjs/.js: imported by Node as it is (its `vfio-arm-emu` import resolves as Node resolves it).
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Scenario } from '../scenarios/registry.js';
import { InputError } from './outputs.js';

const TS = new Set(['.ts', '.mts', '.cts']);
const JS = new Set(['.mjs', '.js']);

/** a `run` argument that names a file rather than a built-in scenario */
export function isScenarioPath(arg: string): boolean {
  return arg.includes('/') || arg.includes('\\') || TS.has(extname(arg)) || JS.has(extname(arg));
}

/**
 * The library entry a bundled scenario's `import 'vfio-arm-emu'` resolves to: dist/index.js
 * next to the bundled CLI, or the sources when the CLI runs from them (tests). It stays an
 * import (not re-bundled), so the library finds its boards from its own location.
 */
function libraryEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? resolve(dirname(here), '../api/index.ts') : join(dirname(here), 'index.js');
}

export async function loadScenarioFile(arg: string): Promise<Scenario> {
  const file = resolve(arg);
  const ext = extname(file);
  if (!TS.has(ext) && !JS.has(ext)) throw new InputError(`scenario file ${arg}: expected a .ts, .mts, .mjs or .js file`);
  if (!existsSync(file)) throw new InputError(`scenario file not found: ${arg}`);
  if (!statSync(file).isFile()) throw new InputError(`scenario file ${arg} is not a file`);
  let mod: Record<string, unknown>;
  if (TS.has(ext)) {
    let esbuild: typeof import('esbuild');
    try {
      esbuild = await import('esbuild');
    } catch (e) {
      throw new InputError(`scenario file ${arg}: TypeScript scenarios are bundled with esbuild, which cannot be loaded (${(e as Error).message}); install it (npm install esbuild) or write the scenario as .mjs`);
    }
    const lib = libraryEntry();
    let code: string;
    try {
      const out = await esbuild.build({
        entryPoints: [file],
        bundle: true,
        write: false,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        logLevel: 'silent',
        sourcemap: 'inline',
        // everything is bundled (node built-ins stay imports) except the library
        plugins: [
          {
            name: 'vfio-arm-emu',
            setup(b) {
              b.onResolve({ filter: /^vfio-arm-emu$/ }, () => ({ path: pathToFileURL(lib).href, external: true }));
            },
          },
        ],
        banner: { js: "import { createRequire as __vae_cr } from 'node:module'; const require = __vae_cr(import.meta.url);" },
      });
      code = out.outputFiles[0]!.text;
    } catch (e) {
      const errs = (e as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors;
      const first = errs?.[0];
      const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
      throw new InputError(`scenario file ${arg}: ${where}${first?.text ?? (e as Error).message}`);
    }
    // written next to the scenario would litter the user's tree; a temp dir is removed after import
    const dir = mkdtempSync(join(tmpdir(), 'vfio-arm-emu-scenario-'));
    const out = join(dir, 'scenario.mjs');
    writeFileSync(out, code);
    try {
      mod = (await import(pathToFileURL(out).href)) as Record<string, unknown>;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (e) {
      throw new InputError(`scenario file ${arg}: cannot import it: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const sc = (mod['default'] ?? mod['scenario']) as Partial<Scenario> | undefined;
  if (typeof sc !== 'object' || sc === null || typeof sc.run !== 'function' || typeof sc.name !== 'string') {
    throw new InputError(`scenario file ${arg}: its default export (or 'scenario') must be a scenario: { name, description, accepts, run(options) } (docs/API.md)`);
  }
  return { description: '', accepts: [], ...sc } as Scenario;
}
