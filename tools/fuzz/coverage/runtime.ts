/**
 * The fuzzer's side of branch coverage: the counters and site table the coverage build
 * publishes on globalThis.__vaeCov (tools/build.mjs --coverage; absent in the normal build
 * and from source, where covRuntime() is null), and the compact report of `fuzz --json`:
 * per file, covered/total and a base64 bitmap (bit i = site i of the file, LSB first), which
 * .ci/fuzz-merge.mjs unions across shards.
 */
export interface CovFile {
  /** source path relative to the repository, e.g. kernel-model/vfio/vfio.ts */
  path: string;
  /** first counter of the file in `hits` */
  base: number;
  /** number of sites */
  n: number;
  /** [line, col, kind index (SITE_KINDS), ...] per site */
  sites: number[];
}

export interface CovRuntime {
  /** one counter per branch site of every instrumented file, file after file */
  hits: Uint32Array;
  files: CovFile[];
}

/** The instrumented build's counters, or null (normal build, or running from source). */
export function covRuntime(): CovRuntime | null {
  const g = (globalThis as { __vaeCov?: CovRuntime }).__vaeCov;
  return g ?? null;
}

/** Sites reached: byte i = 1 when counter i is non-zero. */
export function hitBitmap(rt: CovRuntime): Uint8Array {
  const b = new Uint8Array(rt.hits.length);
  for (let i = 0; i < b.length; i++) if (rt.hits[i] !== 0) b[i] = 1;
  return b;
}

/** a |= b (same length); returns a */
export function unionInto(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new Error(`coverage bitmaps of different builds (${a.length} vs ${b.length} sites)`);
  for (let i = 0; i < a.length; i++) a[i] = a[i]! | b[i]!;
  return a;
}

export interface BranchFileReport {
  file: string;
  total: number;
  covered: number;
  /** base64 of the bits, site i of the file = bit (i & 7) of byte i >> 3 */
  bitmap: string;
}

export interface BranchReport {
  total: number;
  covered: number;
  /** the kernel model's share (the acceptance figure of issue 22) */
  kernelModel: { total: number; covered: number };
  files: BranchFileReport[];
}

export function packBits(bytes: Uint8Array, from: number, n: number): string {
  const out = Buffer.alloc((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (bytes[from + i]) out[i >> 3]! |= 1 << (i & 7);
  return out.toString('base64');
}

export function unpackBits(b64: string, n: number): Uint8Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ((buf[i >> 3] ?? 0) >> (i & 7)) & 1;
  return out;
}

/** covered/total per file (files in the table's order: sorted by path) */
export function branchReport(rt: CovRuntime, bitmap: Uint8Array): BranchReport {
  const files: BranchFileReport[] = [];
  let total = 0;
  let covered = 0;
  const km = { total: 0, covered: 0 };
  for (const f of rt.files) {
    let c = 0;
    for (let i = 0; i < f.n; i++) c += bitmap[f.base + i]!;
    files.push({ file: f.path, total: f.n, covered: c, bitmap: packBits(bitmap, f.base, f.n) });
    total += f.n;
    covered += c;
    if (f.path.startsWith('kernel-model/')) {
      km.total += f.n;
      km.covered += c;
    }
  }
  return { total, covered, kernelModel: km, files };
}

/** kernel-model/ sites reached in a bitmap */
export function kernelModelCovered(rt: CovRuntime, bitmap: Uint8Array): number {
  return coveredUnder(rt, bitmap, 'kernel-model/');
}

/** sites of the files under a path prefix reached in a bitmap (one byte per site, as kernelModelCovered) */
export function coveredUnder(rt: CovRuntime, bitmap: Uint8Array, prefix: string): number {
  let c = 0;
  for (const f of rt.files) if (f.path.startsWith(prefix)) for (let i = 0; i < f.n; i++) c += bitmap[f.base + i]!;
  return c;
}
