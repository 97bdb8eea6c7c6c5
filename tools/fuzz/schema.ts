/**
 * Schema validation of fuzz finding files (`fuzz --replay FILE`): everything the harness will
 * read is checked first, so a hand-edited, truncated or foreign file is a one-line error
 * naming the first bad field (`program[3].fd: ...`), never a host exception in the replay.
 */
import { DMA_PAGES, NPROC } from './arb.js';
import type { Call, FdRef, IoctlArg, Off, PtrKind, StructName, Value } from './program.js';
import { STRUCTS } from './program.js';

export const FINDING_FORMAT = 'vfio-arm-emu-fuzz-finding';
export const FINDING_VERSION = 1;

export interface FindingFile {
  format: typeof FINDING_FORMAT;
  version: 1;
  profile: string;
  sig: string;
  message: string;
  seed: number;
  program: Call[];
  /** C-like transcript of the shrunk program when it was found */
  transcript: { line: string; ret: string }[];
  /** the signatures the campaign did not stop at when it confirmed this one (FindingReport.suppressed): a replay suppresses them too */
  suppressed?: string[];
}

export class SchemaError extends Error {}

/** bounds that keep a replay small: the fuzzer's own programs stay far below them */
const MAX_CALLS = 10_000;
const MAX_LIST = 4096;
const MAX_STR = 65_536;

const CALL_OPS = ['open', 'close', 'ioctl', 'pread', 'pwrite', 'read', 'write', 'mmap', 'munmap', 'mmio', 'store', 'eventfd', 'efd_write', 'poll', 'echo', 'exit', 'fork', 'run', 'raw'] as const;
const FD_KINDS = ['container', 'group', 'device', 'eventfd', 'any', 'iommufd', 'fault'];
/** the kinds an FdRef's `mk` is valid on (version 1 files; `device` since 2026-12-07: a bound cdev fd) */
const MK_KINDS = ['iommufd', 'fault', 'device'];
const PTR_KINDS: PtrKind[] = ['ok', 'null', 'unmapped', 'ro', 'tail'];

const fail = (path: string, msg: string): never => {
  throw new SchemaError(`${path}: ${msg}`);
};
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const show = (x: unknown): string => {
  const s = JSON.stringify(x) ?? String(x);
  return s.length > 40 ? s.slice(0, 40) + '...' : s;
};

function obj(x: unknown, path: string): Record<string, unknown> {
  if (!isObj(x)) fail(path, `expected an object, got ${show(x)}`);
  return x as Record<string, unknown>;
}
function int(x: unknown, path: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) fail(path, `expected a whole number ${min}..${max}, got ${show(x)}`);
  return x as number;
}
function str(x: unknown, path: string, re?: RegExp): string {
  if (typeof x !== 'string' || x.length > MAX_STR) fail(path, `expected a string, got ${show(x)}`);
  if (re && !re.test(x as string)) fail(path, `malformed value ${show(x)}`);
  return x as string;
}
function bool(x: unknown, path: string): boolean {
  if (typeof x !== 'boolean') fail(path, `expected true or false, got ${show(x)}`);
  return x as boolean;
}
function oneOf<T>(x: unknown, path: string, values: readonly T[], what: string): T {
  if (!values.includes(x as T)) fail(path, `unknown ${what} ${show(x)} (expected one of ${values.join(', ')})`);
  return x as T;
}
function list(x: unknown, path: string, min = 0, max = MAX_LIST): unknown[] {
  if (!Array.isArray(x)) fail(path, `expected a list, got ${show(x)}`);
  const a = x as unknown[];
  if (a.length < min || a.length > max) fail(path, `expected ${min}..${max} entries, got ${a.length}`);
  return a;
}

const U32 = 0xffff_ffff;
const HEX64 = /^(0x[0-9a-fA-F]{1,16}|\d{1,20})$/;

function fdRef(x: unknown, path: string): FdRef {
  const o = obj(x, path);
  if ('raw' in o) {
    int(o['raw'], `${path}.raw`, -(2 ** 31), 2 ** 31 - 1);
  } else {
    oneOf(o['k'], `${path}.k`, FD_KINDS, 'fd kind');
    int(o['i'], `${path}.i`, 0, 1 << 20);
    if (o['mk'] !== undefined) {
      int(o['mk'], `${path}.mk`, 1, 1);
      // resource-typed refs: made fds (MAKE_KINDS) and bound cdev fds (program.ts hasBoundDevRef)
      oneOf(o['k'], `${path}.k`, MK_KINDS, 'resource-typed fd kind (with mk)');
    }
  }
  return o as FdRef;
}

function value(x: unknown, path: string): Value {
  if (typeof x === 'number') return int(x, path, -(2 ** 31), U32);
  if (typeof x === 'string') return str(x, path, HEX64);
  const o = obj(x, path);
  if ('fd' in o) fdRef(o['fd'], `${path}.fd`);
  else if ('dma' in o) {
    int(o['dma'], `${path}.dma`, 0, 1 << 20);
    if (o['off'] !== undefined) int(o['off'], `${path}.off`, 0, 4095);
  }
  else if ('ro' in o) int(o['ro'], `${path}.ro`, 0, 1 << 20);
  else if ('ioas' in o) {
    int(o['ioas'], `${path}.ioas`, 0, 1 << 20);
    int(o['mk'], `${path}.mk`, 1, 1);
  }
  else if ('dev' in o) {
    int(o['dev'], `${path}.dev`, 0, 1 << 20);
    int(o['mk'], `${path}.mk`, 1, 1);
  }
  else if ('hwpt' in o) {
    int(o['hwpt'], `${path}.hwpt`, 0, 1 << 20);
    int(o['mk'], `${path}.mk`, 1, 1);
  }
  else fail(path, `expected a number, a hex string, {fd}, {dma}, {ro}, {ioas, mk}, {dev, mk} or {hwpt, mk}, got ${show(x)}`);
  return o as Value;
}

function off(x: unknown, path: string): Off {
  const o = obj(x, path);
  if ('raw' in o) str(o['raw'], `${path}.raw`, HEX64);
  else {
    int(o['region'], `${path}.region`, 0, 1 << 16);
    int(o['off'], `${path}.off`, 0, U32);
  }
  return o as Off;
}

function ioctlArg(x: unknown, path: string): IoctlArg {
  const o = obj(x, path);
  const t = oneOf(o['t'], `${path}.t`, ['int', 'struct', 'str', 'bytes'], 'argument type');
  if (t === 'int') value(o['v'], `${path}.v`);
  else {
    oneOf(o['ptr'], `${path}.ptr`, PTR_KINDS, 'pointer kind');
    if (t === 'str') {
      str(o['s'], `${path}.s`);
      bool(o['nul'], `${path}.nul`);
    } else if (t === 'bytes') {
      list(o['b'], `${path}.b`).forEach((b, i) => int(b, `${path}.b[${i}]`, 0, 255));
    } else {
      const type = oneOf(o['type'], `${path}.type`, Object.keys(STRUCTS) as StructName[], 'struct');
      const fields = obj(o['fields'], `${path}.fields`);
      const known = STRUCTS[type].fields.map((f) => f[0]);
      for (const [k, v] of Object.entries(fields)) {
        if (!known.includes(k)) fail(`${path}.fields.${k}`, `unknown field of ${type} (expected ${known.join(', ')})`);
        value(v, `${path}.fields.${k}`);
      }
      if (o['tail'] !== undefined) list(o['tail'], `${path}.tail`).forEach((v, i) => value(v, `${path}.tail[${i}]`));
    }
  }
  return o as unknown as IoctlArg;
}

function call(x: unknown, path: string): Call {
  const c = obj(x, path);
  const op = oneOf(c['op'], `${path}.op`, CALL_OPS, 'call');
  if (op === 'run') {
    int(c['ns'], `${path}.ns`, 0, 10_000_000_000);
    return c as unknown as Call;
  }
  int(c['p'], `${path}.p`, 0, NPROC - 1);
  const P = (k: string): string => `${path}.${k}`;
  switch (op) {
    case 'open':
      str(c['path'], P('path'));
      int(c['flags'], P('flags'), 0, U32);
      break;
    case 'close':
      fdRef(c['fd'], P('fd'));
      break;
    case 'ioctl':
      fdRef(c['fd'], P('fd'));
      int(c['req'], P('req'), 0, U32);
      ioctlArg(c['arg'], P('arg'));
      break;
    case 'pread':
    case 'pwrite':
      fdRef(c['fd'], P('fd'));
      off(c['off'], P('off'));
      int(c['count'], P('count'), 0, U32);
      oneOf(c['ptr'], P('ptr'), PTR_KINDS, 'pointer kind');
      break;
    case 'read':
    case 'write':
      fdRef(c['fd'], P('fd'));
      int(c['count'], P('count'), 0, U32);
      oneOf(c['ptr'], P('ptr'), PTR_KINDS, 'pointer kind');
      break;
    case 'mmap':
      fdRef(c['fd'], P('fd'));
      int(c['len'], P('len'), 0, U32);
      int(c['prot'], P('prot'), 0, U32);
      int(c['flags'], P('flags'), 0, U32);
      off(c['off'], P('off'));
      break;
    case 'munmap':
      int(c['map'], P('map'), 0, 1 << 20);
      int(c['len'], P('len'), 0, U32);
      break;
    case 'mmio':
      int(c['map'], P('map'), 0, 1 << 20);
      int(c['off'], P('off'), 0, U32);
      oneOf(c['width'], P('width'), [1, 2, 4], 'access width');
      bool(c['write'], P('write'));
      int(c['value'], P('value'), 0, U32);
      break;
    case 'store':
      // inside the DMA area, a whole aligned word (the harness's store and the C reproducer's)
      int(c['page'], P('page'), 0, DMA_PAGES - 1);
      if (int(c['off'], P('off'), 0, 4092) % 4 !== 0) fail(P('off'), `expected a multiple of 4, got ${show(c['off'])}`);
      int(c['value'], P('value'), 0, U32);
      break;
    case 'eventfd':
      int(c['init'], P('init'), 0, U32);
      int(c['flags'], P('flags'), 0, U32);
      break;
    case 'efd_write':
      fdRef(c['fd'], P('fd'));
      str(c['value'], P('value'), HEX64);
      if (BigInt(c['value'] as string) >= 1n << 64n) fail(P('value'), 'does not fit in 64 bits');
      break;
    case 'poll':
      list(c['fds'], P('fds'), 0, 64).forEach((f, i) => fdRef(f, `${P('fds')}[${i}]`));
      int(c['events'], P('events'), 0, U32);
      break;
    case 'echo':
      str(c['path'], P('path'));
      str(c['value'], P('value'));
      break;
    case 'exit':
      break;
    case 'fork':
      int(c['into'], P('into'), 0, NPROC - 1);
      break;
    case 'raw':
      int(c['nr'], P('nr'), 0, 0xfffff);
      list(c['args'], P('args'), 0, 7).forEach((a, i) => int(a, `${P('args')}[${i}]`, -(2 ** 31), U32));
      break;
  }
  return c as unknown as Call;
}

/** Validate a parsed finding file; throws SchemaError naming the first bad field. */
export function validateFindingFile(x: unknown): FindingFile {
  const f = obj(x, 'file');
  if (f['format'] !== FINDING_FORMAT) fail('format', `not a fuzz finding file (expected "${FINDING_FORMAT}", got ${show(f['format'])})`);
  if (f['version'] !== FINDING_VERSION) fail('version', `unsupported finding file version ${show(f['version'])} (this build reads version ${FINDING_VERSION})`);
  str(f['profile'], 'profile');
  str(f['sig'], 'sig');
  if (f['message'] !== undefined) str(f['message'], 'message');
  // the fast-check seed of the round that found it: the campaign's rounds are seeded with `(seed + round * 0x9e3779b1) | 0`, negative half the time
  if (f['seed'] !== undefined) int(f['seed'], 'seed', -(2 ** 31), Number.MAX_SAFE_INTEGER);
  list(f['program'], 'program', 0, MAX_CALLS).forEach((c, i) => call(c, `program[${i}]`));
  if (f['transcript'] !== undefined) list(f['transcript'], 'transcript', 0, MAX_CALLS + 1);
  if (f['suppressed'] !== undefined) list(f['suppressed'], 'suppressed', 0, MAX_LIST).forEach((x, i) => str(x, `suppressed[${i}]`));
  return f as unknown as FindingFile;
}
