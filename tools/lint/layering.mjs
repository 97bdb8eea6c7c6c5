#!/usr/bin/env node
// Layering check (npm run lint). The real system's boundaries are the code's:
//   guest-tests/  -> kernel-model/uapi/ only (the syscall API), and guest-tests itself
//   kernel-model/ -> emulator/ and itself; never devices/, tools/, guest-tests/
//   devices/      -> emulator/ and itself
//   emulator/     -> itself only
//   tools/        -> anything
// Test files (*.test.ts) and test helpers (*/testing/*) may reach across layers to build
// fixtures; the rule is for the model's own code. Also forbidden in model code
// (emulator, devices, kernel-model) and in guest programs (guest-tests, which run inside the
// deterministic machine): host wall clocks and unseeded randomness.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? resolve(process.argv[rootArg + 1]) : resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
const LAYERS = ['emulator', 'devices', 'kernel-model', 'guest-tests', 'tools'];
const ALLOWED = {
  emulator: ['emulator'],
  devices: ['devices', 'emulator'],
  'kernel-model': ['kernel-model', 'emulator'],
  'guest-tests': ['guest-tests', 'kernel-model/uapi'],
  tools: LAYERS,
};
const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'";()=]*?\sfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
const WALLCLOCK = /\b(Math\.random|Date\.now|new Date\(|performance\.now|process\.hrtime|setTimeout|setInterval|setImmediate)\b/;

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) yield* walk(p);
    else if (/\.(ts|mts|js|mjs)$/.test(name)) yield p;
  }
}

const isTestFile = (rel) => /\.test\.ts$/.test(rel) || rel.split(sep).includes('testing');
const problems = [];
let files = 0;
for (const layer of LAYERS) {
  let base;
  try {
    base = join(root, layer);
    statSync(base);
  } catch {
    continue;
  }
  for (const file of walk(base)) {
    const rel = relative(root, file);
    if (isTestFile(rel)) continue;
    files++;
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    // import/export specifiers, also when the statement spans several lines
    // (`import {\n  a,\n  b,\n} from '...'`): the span between the keyword and `from` holds no
    // quote, parenthesis, '=' or ';', so it cannot run on into unrelated code
    IMPORT_RE.lastIndex = 0;
    for (let m; (m = IMPORT_RE.exec(text)) !== null; ) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec && spec.startsWith('.')) {
        const line = text.slice(0, m.index + m[0].length).split('\n').length;
        const target = relative(root, resolve(dirname(file), spec));
        const ok = target === 'package.json' || ALLOWED[layer].some((a) => target === a || target.startsWith(a + '/') || target.startsWith(a + sep));
        if (!ok) problems.push(`${rel}:${line}: ${layer}/ may not import '${spec}' (resolves to ${target}); allowed: ${ALLOWED[layer].join(', ')}`);
      }
    }
    lines.forEach((line, i) => {
      if (layer !== 'tools' && WALLCLOCK.test(line)) {
        problems.push(`${rel}:${i + 1}: host clock or unseeded randomness in model code: ${line.trim()}`);
      }
    });
  }
}
if (problems.length) {
  console.error(`layering: ${problems.length} problem(s)`);
  for (const p of problems) console.error('  ' + p);
  process.exit(1);
}
console.log(`layering: ok (${files} files checked)`);
