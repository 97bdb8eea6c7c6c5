// Bundles the CLI, the library, the benchmark runner and the fuzz worker into dist/ with
// esbuild, with code splitting: each command's code is a chunk the CLI imports only when
// that command runs (docs/PERFORMANCE.md, "CLI start-up"). Types: `npm run build:types`.
// `--coverage` (npm run build:cov) builds the branch-coverage variant instead, into dist/cov/
// (not shipped): see coverageBuild below and docs/FUZZING.md, "Coverage-guided fuzzing".
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';

const BANNER = "#!/usr/bin/env node\nimport { createRequire as __vae_cr } from 'node:module'; const require = __vae_cr(import.meta.url);";
if (process.argv.includes('--coverage')) {
  await coverageBuild();
  process.exit(0);
}

const entryPoints = { cli: 'tools/cli/bin.ts', index: 'tools/api/index.ts' };
if (existsSync('tools/bench/main.ts')) entryPoints.bench = 'tools/bench/main.ts';
if (existsSync('tools/fuzz/worker.ts')) entryPoints['fuzz-worker'] = 'tools/fuzz/worker.ts';
// the differential check of the harness against the C reproducers under Unicorn (docs/FUZZING.md)
if (existsSync('tools/fuzz/differential-main.ts')) entryPoints['fuzz-diff'] = 'tools/fuzz/differential-main.ts';

// stale chunks of an earlier build would ship in the package
if (existsSync('dist')) for (const f of readdirSync('dist')) if (/\.c?js(\.map)?$|\.v8cache$/.test(f)) rmSync(`dist/${f}`);

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
  banner: { js: BANNER },
  // whitespace and syntax, not identifiers: a smaller bundle for the parser of every CLI
  // process to scan (docs/PERFORMANCE.md, p19-scen3), with function names kept in stack traces
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
for (const name of Object.keys(entryPoints)) chmodSync(`dist/${name}.js`, 0o755);

// The commands list/run/matrix/trace once more, as one CommonJS bundle the CLI loads through a
// V8 code cache (tools/cli/code-cache.ts; docs/PERFORMANCE.md round 10): Node 20 caches no
// compiled ES modules, but it does give a vm.Script the bytecode a previous run produced.
// `import.meta.url` becomes the bundle's own file URL (boards, koffi and the library entry
// are found from it, as from the chunks).
await build({
  entryPoints: { 'cli-commands': 'tools/cli/commands.ts' },
  outdir: 'dist',
  entryNames: '[name]',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  external: ['koffi', 'esbuild'],
  define: { 'import.meta.url': '__vae_import_meta_url' },
  banner: { js: "var __vae_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
// ... and its cache: the bytecode of what one run of the main job compiles (the functions it
// never reaches compile lazily as usual). Valid for this Node's V8 only; another V8 refuses it
// and the CLI compiles the bundle as without it. The package does not ship it (docs/CLI.md).
const train = spawnSync(process.execPath, ['dist/cli.js', 'run', 'pl330-vfio-test', '--quiet'], {
  encoding: 'utf8',
  env: { ...process.env, VFIO_ARM_EMU_CODE_CACHE: 'write' },
});
// (any outcome writes it; a crash does not, and then the CLI compiles the bundle as usual: a
// tree whose main job is broken still builds)
if (!existsSync('dist/cli-commands.cjs.v8cache')) {
  console.error(`build: warning: no code cache for the CLI (the main job ended with status ${train.status}):\n${train.stdout}${train.stderr}`);
}

/**
 * The coverage build: dist/cov/fuzz-cov.js (the CLI), dist/cov/fuzz-worker.js (its --jobs
 * worker) and dist/cov/fuzz-cov-bench.js (the fuzz-coverage benchmark's measurement), with
 * every kernel-model/** and devices/** source (tests and testing/ helpers excepted) passed
 * through tools/fuzz/coverage/instrument.ts: one counter per branch arm. Each instrumented
 * file imports its slice of one shared Uint32Array from a virtual module that depends only on
 * the runtime module, so the slice exists before any of the file's code runs. The site table
 * (files sorted by path, sites in source order) is a function of the sources alone: it is
 * embedded after the build in place of a placeholder, and the runtime publishes it with the
 * counters on globalThis.__vaeCov (read by tools/fuzz/coverage/runtime.ts).
 */
async function coverageBuild() {
  const root = process.cwd();
  // --outdir DIR (tests): elsewhere than dist/cov; named boards are then looked up in
  // DIR/../emulator/boards (emulator/machine.ts boardDirs)
  const oi = process.argv.indexOf('--outdir');
  const out = oi > 0 ? process.argv[oi + 1] : 'dist/cov';
  // the instrumenter is TypeScript: bundle it (typescript stays external) and load it
  mkdirSync(out, { recursive: true });
  mkdirSync('dist', { recursive: true });
  for (const f of readdirSync(out)) if (/\.(m?js)(\.map)?$/.test(f)) rmSync(`${out}/${f}`);
  // (written next to the repository's node_modules, where `typescript` resolves from)
  const inst = `dist/.instrumenter-${process.pid}.mjs`;
  await build({ entryPoints: ['tools/fuzz/coverage/instrument.ts'], bundle: true, platform: 'node', format: 'esm', outfile: inst, external: ['typescript'], logLevel: 'warning' });
  const { instrumentSource, flattenSites } = await import(new URL(`../${inst}`, import.meta.url).href);
  rmSync(inst);
  const table = new Map();
  const instrumented = (rel) => /^(kernel-model|devices)\//.test(rel) && !/\.test\.ts$/.test(rel) && !/(^|\/)testing\//.test(rel) && rel.endsWith('.ts') && !rel.endsWith('.d.ts');
  const plugin = {
    name: 'vae-branch-coverage',
    setup(b) {
      b.onResolve({ filter: /^vae-cov:/ }, (a) => ({ path: a.path, namespace: 'vae-cov' }));
      b.onLoad({ filter: /.*/, namespace: 'vae-cov' }, (a) => {
        if (a.path === 'vae-cov:runtime') {
          return {
            loader: 'js',
            contents: `const T = JSON.parse("__VAE_COV_TABLE__");
let n = 0;
const files = T.map(([path, sites]) => { const f = { path, base: n, n: sites.length / 3, sites }; n += f.n; return f; });
const hits = new Uint32Array(n);
const byPath = new Map(files.map((f) => [f.path, f]));
globalThis.__vaeCov = { hits, files };
export function covFile(path) { const f = byPath.get(path); return hits.subarray(f.base, f.base + f.n); }
`,
          };
        }
        const path = a.path.slice('vae-cov:file:'.length);
        return { loader: 'js', contents: `import { covFile } from 'vae-cov:runtime';\nexport default covFile(${JSON.stringify(path)});\n`, resolveDir: root };
      });
      b.onLoad({ filter: /\.ts$/ }, (a) => {
        const rel = relative(root, a.path).split(sep).join('/');
        if (!instrumented(rel)) return undefined;
        const { code, sites } = instrumentSource(readFileSync(a.path, 'utf8'), rel, '__vaeC');
        table.set(rel, flattenSites(sites));
        // first import: evaluated before the file's other imports (and so before any cycle back to it)
        return { loader: 'ts', contents: `import __vaeC from ${JSON.stringify(`vae-cov:file:${rel}`)};\n${code}`, resolveDir: dirname(a.path) };
      });
    },
  };
  const entries = { 'fuzz-cov': 'tools/cli/bin.ts', 'fuzz-worker': 'tools/fuzz/worker.ts', 'fuzz-cov-bench': 'tools/fuzz/coverage/bench-main.ts' };
  const res = await build({
    entryPoints: entries,
    outdir: out,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external: ['koffi', 'esbuild'],
    banner: { js: BANNER },
    logLevel: 'warning',
    write: false,
    plugins: [plugin],
  });
  const tableJson = JSON.stringify([...table].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  let placed = 0;
  for (const f of res.outputFiles) {
    let text = f.text;
    if (text.includes('"__VAE_COV_TABLE__"')) {
      text = text.replace('"__VAE_COV_TABLE__"', JSON.stringify(tableJson));
      placed++;
    }
    writeFileSync(f.path, text);
  }
  if (placed !== 1) throw new Error(`coverage build: the site table placeholder was found in ${placed} outputs (expected 1)`);
  for (const name of Object.keys(entries)) chmodSync(`${out}/${name}.js`, 0o755);
  let sites = 0;
  for (const v of table.values()) sites += v.length / 3;
  console.error(`coverage build: ${table.size} files, ${sites} branch sites -> ${out}/`);
}
