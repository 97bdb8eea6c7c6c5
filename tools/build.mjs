// Bundles the CLI (and the benchmark runner) into dist/ with esbuild.
import { build } from 'esbuild';
import { chmodSync, existsSync } from 'node:fs';

const entries = [
  { in: 'tools/cli/bin.ts', out: 'dist/cli.js' },
];
if (existsSync('tools/bench/main.ts')) entries.push({ in: 'tools/bench/main.ts', out: 'dist/bench.js' });
if (existsSync('tools/fuzz/worker.ts')) entries.push({ in: 'tools/fuzz/worker.ts', out: 'dist/fuzz-worker.js' });

for (const e of entries) {
  await build({
    entryPoints: [e.in],
    outfile: e.out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external: ['koffi'],
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __vae_cr } from 'node:module'; const require = __vae_cr(import.meta.url);" },
    logLevel: 'warning',
  });
  chmodSync(e.out, 0o755);
}
