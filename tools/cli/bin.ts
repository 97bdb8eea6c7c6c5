import { readFileSync, writeFileSync } from 'node:fs';
import { runCli } from './main.js';

const code = runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  writeFile: (p, d) => writeFileSync(p, d),
  readFile: (p) => readFileSync(p, 'utf8'),
  isTTY: Boolean(process.stdout.isTTY),
});
process.exitCode = code;
