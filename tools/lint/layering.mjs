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
// deterministic machine): host wall clocks and unseeded randomness; and module-level mutable
// bindings (`let`/`var` at the top of a file): state there is shared by every machine of a host
// process, outlives them and escapes the fuzzer's snapshots, so a counter a guest can observe
// (an inode number, say) would make the second machine of a process differ from the first. A
// host-side cache the guest cannot observe may stay, marked `host-only:` (with the reason) on
// its line or the line above.
//
// Profile rule (issue 15): behaviour that differs between kernel profiles is decided in ONE
// place, kernel-model/profile.ts, as named capabilities (`profile.caps.*`). Everywhere else
// in kernel-model/ and tools/ a line is rejected when it
//   - names `vfioPlatformLevel` (the old patch-level number),
//   - reads a property called `mainline` (`features.mainline`, `caps.mainline`,
//     `this.mainline`: a whole-era switch is a profile-kind check under another name),
//   - reads a profile's patch set (`.patches`, e.g. `profile.patches.has(4)`),
//   - compares a `level`-named value with a patch number 4..10 (`level >= 4`,
//     `patchLevel < 10`; LPAE walk levels 0..3 are not patch numbers),
//   - reads `profile.kind`, or compares anything with a profile kind literal
//     (`=== 'mainline'`, `!== 'rfc-v4'`, `case 'baseline':`, `'patches' ===` ...).
// The match is on source text, comments included, so old names do not survive in prose.
// Not checked: kernel-model/profile.ts (the table itself), test files and testing/ helpers
// (a test may pick or assert per profile), and tools/lint/ (this rule's own text).
// tools/ IS covered: tools/system/system.ts is kernel init, the fuzzer's model is a
// second reference model of the kernel, and the scenarios choose the administrator's
// and the program's behaviour; all of them must follow capabilities, or a new profile
// silently breaks them. Expected outcomes (tools/scenarios/expected.ts) are derived from
// capabilities too; the matrix lists profiles by NAME ('patches:1-9'), which this rule
// does not match, so it may keep naming patch sets.
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
const PROFILE_LAYERS = ['kernel-model', 'tools'];
const PROFILE_EXEMPT = (rel) => rel === join('kernel-model', 'profile.ts') || rel.startsWith(join('tools', 'lint') + sep);
const KINDS = "(?:baseline|patches|rfc-v4|mainline)";
const PROFILE_RULES = [
  [/\bvfioPlatformLevel\b/, 'vfioPlatformLevel (read a named capability instead)'],
  [/\.mainline\b/, 'a `mainline` switch (read a named capability instead)'],
  [/\.patches\b/, "a profile's patch set (read a named capability instead)"],
  [/\b\w*[lL]evel\s*(?:[<>]=?|[!=]==?)\s*(?:[4-9]|10)\b/, 'a patch-level comparison (read a named capability instead)'],
  [/\bprofile\.kind\b/, 'the profile kind (read a named capability instead)'],
  [new RegExp(`(?:[!=]==?\\s*['"\`]${KINDS}['"\`])|(?:['"\`]${KINDS}['"\`]\\s*[!=]==?)|(?:\\bcase\\s+['"\`]${KINDS}['"\`])`), 'a comparison with a profile kind (read a named capability instead)'],
];
const MODULE_STATE = /^(?:export\s+)?(?:let|var)\s/;
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
    const profileRule = PROFILE_LAYERS.includes(layer) && !PROFILE_EXEMPT(rel);
    lines.forEach((line, i) => {
      if (layer !== 'tools' && WALLCLOCK.test(line)) {
        problems.push(`${rel}:${i + 1}: host clock or unseeded randomness in model code: ${line.trim()}`);
      }
      if (layer !== 'tools' && MODULE_STATE.test(line) && !/host-only:/.test(line) && !(i > 0 && /host-only:/.test(lines[i - 1]))) {
        problems.push(`${rel}:${i + 1}: module-level mutable state in model code (shared by every machine of the process; keep it in the machine's objects, or mark a host-side cache 'host-only: <why>'): ${line.trim()}`);
      }
      if (profileRule) {
        const hit = PROFILE_RULES.find(([re]) => re.test(line));
        if (hit) problems.push(`${rel}:${i + 1}: profile decision outside kernel-model/profile.ts: ${hit[1]}: ${line.trim()}`);
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
