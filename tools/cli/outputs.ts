/**
 * Output files named on the command line (--trace, --junit, fuzz --out) are checked before
 * any work starts, so a run never ends by losing its results to a path that cannot be
 * written; and their missing parent directories are created one level at a time (Node's
 * recursive mkdir spins forever under /proc).
 */
import { accessSync, constants, existsSync, mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** A bad input that is not a command-line mistake (unreadable/unwritable file, bad board): message, exit 2, no usage text. */
export class InputError extends Error {}

/**
 * Pseudo file systems where no file or directory can be created by a user (statfs f_type,
 * include/uapi/linux/magic.h): proc, sysfs, cgroup, cgroup2, debugfs, tracefs, securityfs,
 * pstore, bpf, devpts, configfs.
 */
const PSEUDO_FS = new Map<number, string>([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'], [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'], [0x73636673, 'securityfs'], [0x6165676c, 'pstore'], [0xcafe4a11, 'bpf'], [0x1cd1, 'devpts'],
  [0x62656570, 'configfs'],
]);

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** the nearest ancestor of p (or p itself) that exists */
function nearestExisting(p: string): string {
  let cur = resolve(p);
  while (!existsSync(cur)) {
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return cur;
}

function checkCreatableUnder(dir: string, path: string, what: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new InputError(`cannot write ${what} ${path}: ${dir}: ${errCode(e)}`);
  }
  if (!st.isDirectory()) throw new InputError(`cannot write ${what} ${path}: ${dir} is not a directory`);
  try {
    const fs = PSEUDO_FS.get(Number(statfsSync(dir).type));
    if (fs !== undefined) throw new InputError(`cannot write ${what} ${path}: ${dir} is on the ${fs} pseudo file system`);
  } catch (e) {
    if (e instanceof InputError) throw e;
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new InputError(`cannot write ${what} ${path}: ${dir}: ${errCode(e)}`);
  }
}

/** check that an output file can be written (it may exist: it is replaced); throws InputError */
export function checkOutputFile(path: string, what: string): void {
  if (path === '') throw new InputError(`${what}: empty file name`);
  const p = resolve(path);
  if (existsSync(p)) {
    const st = statSync(p);
    if (st.isDirectory()) throw new InputError(`cannot write ${what} ${path}: it is a directory`);
    checkCreatableUnder(dirname(p), path, what);
    try {
      accessSync(p, constants.W_OK);
    } catch (e) {
      throw new InputError(`cannot write ${what} ${path}: ${errCode(e)}`);
    }
    return;
  }
  checkCreatableUnder(nearestExisting(dirname(p)), path, what);
}

/** check that an output directory exists as a directory or can be created; throws InputError */
export function checkOutputDir(path: string, what: string): void {
  if (path === '') throw new InputError(`${what}: empty directory name`);
  const p = resolve(path);
  if (existsSync(p)) {
    if (!statSync(p).isDirectory()) throw new InputError(`${what} ${path} exists and is not a directory`);
    checkCreatableUnder(p, path, what);
    return;
  }
  checkCreatableUnder(nearestExisting(p), path, what);
}

/** create a directory and its missing parents one level at a time (each mkdir either works or fails: no spinning) */
export function mkdirs(dir: string): void {
  const p = resolve(dir);
  const missing: string[] = [];
  for (let cur = p; !existsSync(cur); cur = dirname(cur)) {
    missing.push(cur);
    if (dirname(cur) === cur) break;
  }
  for (let i = missing.length - 1; i >= 0; i--) mkdirSync(missing[i]!);
}
