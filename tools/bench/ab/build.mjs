// Same-process A/B of fuzz campaigns, step 1 (docs/PERFORMANCE.md "Comparing two trees"):
//   node tools/bench/ab/build.mjs TREE
// bundles TREE/tools/fuzz/engine.ts (runCampaign) to TREE/dist/ab-engine.mjs with this checkout's esbuild.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const tree = process.argv[2];
if (!tree) {
  console.error('usage: node tools/bench/ab/build.mjs TREE   (a checkout of vfio-arm-emu)');
  process.exit(2);
}
const root = resolve(tree);
const { build } = createRequire(import.meta.url)('esbuild');
await build({
  entryPoints: [`${root}/tools/fuzz/engine.ts`],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: `${root}/dist/ab-engine.mjs`,
  external: ['koffi'],
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
});
console.log('built', `${root}/dist/ab-engine.mjs`);
