/**
 * The CLI's code cache (issue 19, "CLI start-up"; docs/PERFORMANCE.md round 10).
 *
 * A CLI process for the main job spends about half of what it adds to a bare `node` process
 * compiling the emulator, kernel model and scenarios (parsing the ES modules, then compiling
 * each function on its first call). Node 20 has no compile cache for ES modules
 * (`module.enableCompileCache` arrived in Node 22.1), but V8's code cache is reachable for a
 * script: `new vm.Script(source, { cachedData })` takes the bytecode a previous
 * `script.createCachedData()` produced, and V8 skips the parse and the lazy compiles of every
 * function in it.
 *
 * So the build emits the `list`/`run`/`matrix`/`trace` commands (tools/cli/commands.ts and
 * its imports) a second time, as one CommonJS bundle (dist/cli-commands.cjs), and after the
 * build one run of the main job writes the bytecode of everything it ran next to it
 * (dist/cli-commands.cjs.v8cache). The CLI's entry (bin.ts) loads that bundle here instead of
 * the ES-module chunk whenever it can. The results are the same either way: the same code,
 * only its compiled form is reused.
 *
 * The cache file is `VAEV8CC1`, the SHA-1 of the bundle's bytes, the SHA-1 of V8's data, then
 * V8's data. V8 itself refuses data from another V8 version or made with other V8 flags
 * (`rejected`), but it checks the source only by its length and, in a release build, does not
 * checksum the data: the first digest makes a cache of another build's bundle `stale` instead
 * of silently running that build's bytecode, the second makes damaged data `damaged` instead
 * of running it (Node 22's own compile cache checksums its entries likewise). Any of these
 * costs only the normal compile. SHA-1 tells builds and damage apart here, not adversaries (who
 * could rewrite the bundle itself); it is the cheapest digest node:crypto (loaded by the
 * emulator anyway) offers: 1.5 MB is 15 M instructions, SHA-256 39 M without SHA extensions.
 */
import { isAscii } from 'node:buffer';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/**
 * what happened to the cache file when the bundle was loaded: used (`accepted`), refused by
 * V8 (`rejected`), of another bundle (`stale`), not intact (`damaged`), or none (`absent`)
 */
export type CodeCacheState = 'accepted' | 'rejected' | 'stale' | 'damaged' | 'absent';

export interface LoadedBundle {
  /** the bundle's `module.exports` */
  exports: Record<string, unknown>;
  cache: CodeCacheState;
  /** for writeCodeCache: the compiled script */
  script: import('node:vm').Script;
  /** the bundle's SHA-1 */
  digest: Buffer;
}

const MAGIC = Buffer.from('VAEV8CC1', 'latin1');
const DIGEST = 20;
const HEADER = MAGIC.length + 2 * DIGEST;

/** a bundle's text in the CommonJS module wrapper (what Node's own loader puts around a .cjs file) */
export function wrapCommonJs(text: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${text}\n})`;
}

/** the cache file for V8's data `v8` of the bundle whose SHA-1 is `bundleDigest` */
export async function codeCacheFile(bundleDigest: Buffer, v8: Buffer): Promise<Buffer> {
  const { createHash } = await import('node:crypto');
  return Buffer.concat([MAGIC, bundleDigest, createHash('sha1').update(v8).digest(), v8]);
}

/**
 * Load the CommonJS bundle `file` in this context with the code cache `cacheFile` when that
 * is usable. Null when the file does not exist, or when this Node cannot give a vm script the
 * main context's `import()` (`vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER`, Node >= 20.12):
 * the caller then uses the ES modules. Errors of the bundle's own evaluation propagate.
 */
export async function loadCjsBundle(file: string, cacheFile: string): Promise<LoadedBundle | null> {
  const vm = await import('node:vm');
  const importModuleDynamically = (vm.constants as Partial<typeof vm.constants> | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (importModuleDynamically === undefined) return null;
  let source: Buffer;
  try {
    source = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const { createHash } = await import('node:crypto');
  const digest = createHash('sha1').update(source).digest();
  let cache: CodeCacheState = 'absent';
  let cachedData: Buffer | undefined;
  let data: Buffer | null = null;
  try {
    data = readFileSync(cacheFile);
  } catch {
    // no cache (or an unreadable one): compile as usual
  }
  if (data !== null) {
    if (data.length <= HEADER || !data.subarray(0, MAGIC.length).equals(MAGIC)) cache = 'damaged';
    else if (!data.subarray(MAGIC.length, MAGIC.length + DIGEST).equals(digest)) cache = 'stale';
    else if (!createHash('sha1').update(data.subarray(HEADER)).digest().equals(data.subarray(MAGIC.length + DIGEST, HEADER))) cache = 'damaged';
    else cachedData = data.subarray(HEADER);
  }
  // esbuild writes ASCII (its default charset escapes the rest): decoded as Latin-1, a copy
  // of the bytes, it is the same text as UTF-8 gives, several ms sooner for 600 KB
  const text = isAscii(source) ? source.toString('latin1') : source.toString('utf8');
  const script = new vm.Script(wrapCommonJs(text), {
    filename: file,
    cachedData,
    // an `import()` in the bundle works as in any module of the main context (scenario files,
    // the one use the sources have, are run from the ES modules anyway: commands-loader.ts)
    importModuleDynamically,
  });
  if (cachedData !== undefined) cache = script.cachedDataRejected === true ? 'rejected' : 'accepted';
  const wrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  const mod = { exports: {} as Record<string, unknown> };
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  return { exports: mod.exports, cache, script, digest };
}

/**
 * Write the cache of a loaded bundle: the bytecode of every function compiled so far (so call
 * it after the work it should cover), behind the header. Written to a temporary name and
 * renamed, so a concurrent reader sees the old file or the new one. Returns its size in bytes.
 */
export async function writeCodeCache(bundle: LoadedBundle, cacheFile: string): Promise<number> {
  const data = await codeCacheFile(bundle.digest, bundle.script.createCachedData());
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, cacheFile);
  return data.length;
}
