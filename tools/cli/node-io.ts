import { chmodSync, closeSync, existsSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CliIo } from './main.js';
import { checkOutputDir, checkOutputFile, mkdirs } from './outputs.js';

/** stdout's reader went away (`| head -1`): further output is dropped (see bin.ts) */
let stdoutClosed = false;
export function markStdoutClosed(): void {
  stdoutClosed = true;
}

function writeTo(p: string, d: string | Iterable<string>): void {
  if (typeof d === 'string') return writeFileSync(p, d);
  // piece by piece: a large trace is never one string
  const fd = openSync(p, 'w');
  try {
    for (const piece of d) writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write an output file so that it is, at every instant, either the old file or the new one
 * whole: the bytes go to a hidden temporary file beside it (`.NAME.PID.tmp`), renamed over it
 * when complete (rename(2) is atomic within a directory). A campaign stopped by a CI time limit
 * or SIGKILL while it rewrites a finding file, or a run killed while writing a large trace,
 * leaves the previous file intact, never a truncated one; at worst a stray `.tmp` file. A
 * symbolic link is followed (the file it names is replaced, the link stays); a target that
 * exists and is not a regular file (`/dev/null`, a FIFO, `/dev/stdout`) is written in place.
 * The replaced file keeps its permission bits. The directory was checked writable before the
 * run (checkOutputFile in tools/cli/outputs.ts checks the directory even when the file exists).
 */
export function writeReplacing(p: string, d: string | Iterable<string>): void {
  const target = existsSync(p) ? realpathSync(p) : p;
  const old = existsSync(target) ? statSync(target) : undefined;
  if (old !== undefined && !old.isFile()) return writeTo(target, d);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    writeTo(tmp, d);
    if (old !== undefined) chmodSync(tmp, old.mode & 0o7777);
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw e;
  }
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
      writeReplacing(p, d);
    },
    readFile: (p: string) => readFileSync(p, 'utf8'),
    // checked before the run starts (tools/cli/outputs.ts)
    checkOutput: (p: string, kind: 'file' | 'dir', what: string) => (kind === 'dir' ? checkOutputDir(p, what) : checkOutputFile(p, what)),
    isTTY: Boolean(process.stdout.isTTY),
    errIsTTY: Boolean(process.stderr.isTTY),
  };
}
