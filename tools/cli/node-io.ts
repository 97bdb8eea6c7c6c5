import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CliIo } from './main.js';
import { checkOutputDir, checkOutputFile, mkdirs } from './outputs.js';

/** stdout's reader went away (`| head -1`): further output is dropped (see bin.ts) */
let stdoutClosed = false;
export function markStdoutClosed(): void {
  stdoutClosed = true;
}

/** The CLI's I/O on a real host: stdout/stderr and files. */
export function nodeIo(): CliIo {
  return {
    out: (s: string) => {
      if (!stdoutClosed) process.stdout.write(s);
    },
    err: (s: string) => process.stderr.write(s),
    // output files (--trace, --junit, fuzz findings) may name a directory that does not exist
    // yet (`--junit reports/x.xml` in a fresh CI checkout): create it, as test reporters do
    writeFile: (p: string, d: string) => {
      mkdirs(dirname(p));
      writeFileSync(p, d);
    },
    readFile: (p: string) => readFileSync(p, 'utf8'),
    // checked before the run starts (tools/cli/outputs.ts)
    checkOutput: (p: string, kind: 'file' | 'dir', what: string) => (kind === 'dir' ? checkOutputDir(p, what) : checkOutputFile(p, what)),
    isTTY: Boolean(process.stdout.isTTY),
    errIsTTY: Boolean(process.stderr.isTTY),
  };
}
