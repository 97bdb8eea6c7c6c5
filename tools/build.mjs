// Bundles the CLI, the library, the benchmark runner and the fuzz worker into dist/ with
// esbuild, with code splitting: each command's code is a chunk the CLI imports only when
// that command runs (docs/PERFORMANCE.md, "CLI start-up"). Types: `npm run build:types`.
import { build } from 'esbuild';
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';

const entryPoints = { cli: 'tools/cli/bin.ts', index: 'tools/api/index.ts' };
if (existsSync('tools/bench/main.ts')) entryPoints.bench = 'tools/bench/main.ts';
if (existsSync('tools/fuzz/worker.ts')) entryPoints['fuzz-worker'] = 'tools/fuzz/worker.ts';

// stale chunks of an earlier build would ship in the package
if (existsSync('dist')) for (const f of readdirSync('dist')) if (/\.js(\.map)?$/.test(f)) rmSync(`dist/${f}`);

await build({
  entryPoints,
  outdir: 'dist',
  entryNames: '[name]',
  // next to the entries: modules find fuzz-worker.js, index.js and ../emulator/boards from their own URL
  chunkNames: 'chunk-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // koffi: the Unicorn backend's optional native binding; esbuild: loaded only to bundle a scenario file
  external: ['koffi', 'esbuild'],
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __vae_cr } from 'node:module'; const require = __vae_cr(import.meta.url);" },
  logLevel: 'warning',
});
for (const name of Object.keys(entryPoints)) chmodSync(`dist/${name}.js`, 0o755);
