import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
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
    writeFile: (p: string, d: string | Iterable<string>) => {
      mkdirs(dirname(p));
      if (typeof d === 'string') return writeFileSync(p, d);
      // piece by piece: a large trace is never one string
      const fd = openSync(p, 'w');
      try {
        for (const piece of d) writeSync(fd, piece);
      } finally {
        closeSync(fd);
      }
    },
    readFile: (p: string) => readFileSync(p, 'utf8'),
    // checked before the run starts (tools/cli/outputs.ts)
    checkOutput: (p: string, kind: 'file' | 'dir', what: string) => (kind === 'dir' ? checkOutputDir(p, what) : checkOutputFile(p, what)),
    isTTY: Boolean(process.stdout.isTTY),
    errIsTTY: Boolean(process.stderr.isTTY),
  };
}
