import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CliIo } from './main.js';

/** The CLI's I/O on a real host: stdout/stderr and files. */
export function nodeIo(): CliIo {
  return {
    out: (s: string) => process.stdout.write(s),
    err: (s: string) => process.stderr.write(s),
    // output files (--trace, --junit, fuzz findings) may name a directory that does not exist
    // yet (`--junit reports/x.xml` in a fresh CI checkout): create it, as test reporters do
    writeFile: (p: string, d: string) => {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, d);
    },
    readFile: (p: string) => readFileSync(p, 'utf8'),
    isTTY: Boolean(process.stdout.isTTY),
  };
}
