/**
 * The CLI's code cache (tools/cli/code-cache.ts): a CommonJS bundle loaded through vm.Script
 * behaves as Node's own loader would run it; its cache is used only when it belongs to the
 * bundle's exact bytes, and a refused, stale or missing cache only costs the compile.
 * The built CLI's use of it is tested by the pack test (tools/pack/install.packtest.ts).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { codeCacheFile, loadCjsBundle, wrapCommonJs, writeCodeCache, type LoadedBundle } from './code-cache.js';
import { runCommand } from './commands.js';
import { memoryIo } from './testing/memory-io.js';

const dir = mkdtempSync(join(tmpdir(), 'vae-code-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// a bundle using what the CLI's bundle uses: exports, require of a builtin, __filename,
// __dirname, this === exports, and import() of an ES module at run time
const BUNDLE = `"use strict";
const path = require('node:path');
function scale(x) { return x * 2 + 1; }
exports.scale = scale;
exports.where = [__filename, __dirname, path.basename(__filename)];
exports.self = this === exports;
exports.load = (url) => import(url);
`;

describe('loadCjsBundle', () => {
  // V8 keeps the scripts it compiled in a per-process cache keyed by source and file name,
  // and a hit there skips `cachedData` altogether: each load below uses a file name of its own
  let n = 0;
  const fresh = (text: string): string => {
    const f = join(dir, `b${n++}.cjs`);
    writeFileSync(f, text);
    return f;
  };
  /** `text` as a bundle of its own with `cache` as its cache file, loaded */
  const loadWith = async (text: string, cache: Buffer): Promise<LoadedBundle> => {
    const f = fresh(text);
    writeFileSync(`${f}.v8cache`, cache);
    return (await loadCjsBundle(f, `${f}.v8cache`))!;
  };
  const sha1 = (b: string | Buffer): Buffer => createHash('sha1').update(b).digest();
  const scale = (b: LoadedBundle, x: number): number => (b.exports as { scale: (x: number) => number }).scale(x);
  /** a bundle loaded once, scale() run, and its cache written */
  const cached = async (): Promise<{ file: string; data: Buffer; digest: Buffer }> => {
    const file = fresh(BUNDLE);
    const a = (await loadCjsBundle(file, `${file}.v8cache`))!;
    scale(a, 1); // compiled, so in the cache
    const size = await writeCodeCache(a, `${file}.v8cache`);
    const data = readFileSync(`${file}.v8cache`);
    expect(size).toBe(data.length);
    return { file, data, digest: a.digest };
  };
  writeFileSync(join(dir, 'm.mjs'), 'export const seven = 7;\n');

  it('runs a CommonJS bundle as Node loads one, with no cache file: absent', async () => {
    const file = fresh(BUNDLE);
    const b = (await loadCjsBundle(file, `${file}.v8cache`))!;
    expect(b.cache).toBe('absent');
    const e = b.exports as { where: string[]; self: boolean; load: (u: string) => Promise<{ seven: number }> };
    expect(scale(b, 20)).toBe(41);
    expect(e.where).toEqual([file, dir, basename(file)]);
    expect(e.self).toBe(true);
    expect((await e.load(pathToFileURL(join(dir, 'm.mjs')).href)).seven).toBe(7);
    expect(b.digest.equals(sha1(BUNDLE))).toBe(true);
  });

  it('writes a cache (header, the digests, V8 data) that a load of the same bytes accepts, with the same behaviour', async () => {
    const { data, digest } = await cached();
    expect(data.subarray(0, 8).toString('latin1')).toBe('VAEV8CC1');
    expect(data.subarray(8, 28).equals(digest)).toBe(true);
    expect(data.subarray(28, 48).equals(sha1(data.subarray(48)))).toBe(true);
    expect(data.length).toBeGreaterThan(48 + 100);
    const b = await loadWith(BUNDLE, data);
    expect(b.cache).toBe('accepted');
    expect(scale(b, 20)).toBe(41);
  });

  it("another build's bytes of the same length: V8 would run the old bytecode; the digest makes the cache stale", async () => {
    const { data } = await cached();
    const edited = BUNDLE.replace('x * 2 + 1', 'x * 3 + 1');
    expect(edited.length).toBe(BUNDLE.length);
    const b = await loadWith(edited, data);
    expect(b.cache).toBe('stale');
    expect(scale(b, 20)).toBe(61);
    // the same V8 data under a header naming the edited bytes: V8 takes it, and runs the
    // bytecode of the original scale() (this is what the digest is for; it also shows that an
    // accepted cache is really what runs)
    const c = await loadWith(edited, await codeCacheFile(sha1(edited), data.subarray(48)));
    expect(c.cache).toBe('accepted');
    expect(scale(c, 20)).toBe(41);
  });

  it('damaged data behind a right header, a truncated file, a foreign file: damaged, not handed to V8; the bundle still runs', async () => {
    const { data } = await cached();
    // V8 (a release build) would take these bytes: it checks no checksum of its data
    const bad = Buffer.from(data);
    for (let i = 200; i < bad.length; i += 97) bad[i] = bad[i]! ^ 0x5a;
    for (const bytes of [bad, data.subarray(0, 46), Buffer.from('#!/bin/sh\necho not a cache\n')]) {
      const b = await loadWith(BUNDLE, bytes);
      expect(b.cache).toBe('damaged');
      expect(scale(b, 20)).toBe(41);
    }
  });

  it('data V8 refuses (written by a V8 with other flags, under a right header): rejected; the bundle still runs', async () => {
    const f = join(dir, 'w.cjs');
    writeFileSync(join(dir, 'w.js'), wrapCommonJs(BUNDLE));
    // another process, with another V8 flag (so another flag hash), compiles the same text
    const child = `const vm = require('node:vm'); const fs = require('node:fs');
const s = new vm.Script(fs.readFileSync(process.argv[1], 'latin1'), { filename: process.argv[2] });
s.runInThisContext();
fs.writeFileSync(process.argv[3], s.createCachedData());`;
    execFileSync(process.execPath, ['--stack-size=900', '-e', child, join(dir, 'w.js'), f, join(dir, 'w.v8')]);
    const b = await loadWith(BUNDLE, await codeCacheFile(sha1(BUNDLE), readFileSync(join(dir, 'w.v8'))));
    expect(b.cache).toBe('rejected');
    expect(scale(b, 20)).toBe(41);
  });

  it('no bundle: null (the CLI then takes the ES modules)', async () => {
    expect(await loadCjsBundle(join(dir, 'none.cjs'), join(dir, 'none.cjs.v8cache'))).toBeNull();
  });
});

describe("the commands module's entry", () => {
  it('reports its usage and input errors itself, with its own error classes (exit 2, one line and the hint)', async () => {
    const io = memoryIo();
    expect(await runCommand('run', ['no-such-scenario'], io)).toBe(2);
    expect(io.e).toMatch(/^vfio-arm-emu: unknown scenario 'no-such-scenario'.*\ntry 'vfio-arm-emu run --help'/);
    const io2 = memoryIo();
    expect(await runCommand('run', ['pl330-vfio-test', '--profile', 'nonsense'], io2)).toBe(2);
    expect(io2.e).toMatch(/^vfio-arm-emu: .*nonsense/);
    const io3 = memoryIo();
    expect(await runCommand('trace', ['summarize', join(dir, 'absent.json')], io3)).toBe(2);
    expect(io3.e).toMatch(/^vfio-arm-emu: .*absent\.json/);
  });
});
