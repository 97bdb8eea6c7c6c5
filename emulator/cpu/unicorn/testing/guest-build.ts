import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUnicornAvailable } from '../native.js';

/**
 * Test support: build guest-tests/c with its build.sh (static, arm-linux-gnueabihf-gcc)
 * into the gitignored guest-tests/c/build when a binary is missing or older than its
 * source or the script. Binaries are never committed; CI builds them from source.
 */
const FROM_SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../guest-tests/c');
/** guest-tests/c: found relative to this source file, or (bundled into dist/) to the working directory */
export const GUEST_C_DIR = existsSync(join(FROM_SOURCE, 'build.sh')) ? FROM_SOURCE : resolve(process.cwd(), 'guest-tests/c');
export const GUEST_BUILD_DIR = join(GUEST_C_DIR, 'build');

export function hasCrossCompiler(): boolean {
  return spawnSync('arm-linux-gnueabihf-gcc', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** true when the Unicorn tests can run here */
export function unicornTestsRunnable(): boolean {
  return isUnicornAvailable() && hasCrossCompiler();
}

/**
 * Skip only on developer machines lacking the prerequisites; in CI (process.env.CI set)
 * never skip, so that a missing package fails loudly.
 */
export function shouldSkipUnicornTests(): boolean {
  return !process.env['CI'] && !unicornTestsRunnable();
}

let built = false;

/**
 * (Re)build every guest binary if any is missing or stale (once per process). The test run's
 * global set-up (tools/testing/vitest-global-setup.ts) calls it before the test workers start,
 * so the build of all programs does not run inside the first Unicorn test's timeout, nor in
 * every worker at once; guestBinary calls it too (a single test file, a bench).
 */
export function ensureGuestBinaries(): void {
  if (built) return;
  const script = join(GUEST_C_DIR, 'build.sh');
  const names = readdirSync(GUEST_C_DIR).sort();
  // a program is stale when it is older than the script, its source or any shared header (pl330-regs.h)
  const sharedTime = Math.max(statSync(script).mtimeMs, ...names.filter((n) => n.endsWith('.h')).map((n) => statSync(join(GUEST_C_DIR, n)).mtimeMs));
  let stale = false;
  for (const f of names.filter((n) => n.endsWith('.c'))) {
    const bin = join(GUEST_BUILD_DIR, f.slice(0, -2));
    if (!existsSync(bin)) { stale = true; break; }
    const t = statSync(bin).mtimeMs;
    if (t < statSync(join(GUEST_C_DIR, f)).mtimeMs || t < sharedTime) { stale = true; break; }
  }
  if (stale) execFileSync(script, [GUEST_BUILD_DIR], { stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}

/** Path of a guest binary, (re)building all of them if any is missing or stale. */
export function guestBinary(name: string): string {
  ensureGuestBinaries();
  const p = join(GUEST_BUILD_DIR, name);
  if (!existsSync(p)) throw new Error(`guest binary ${name} missing after build (no ${name}.c?)`);
  return p;
}

/**
 * Debian's busybox-static (armhf), fetched by tools/unicorn/fetch-busybox.sh into a cache
 * outside git: $VFIO_ARM_EMU_BUSYBOX (the binary), else $VFIO_ARM_EMU_BUSYBOX_DIR/bin/busybox,
 * else ~/.cache/vfio-arm-emu/busybox/bin/busybox. null when absent.
 */
export function busyboxPath(): string | null {
  const env = process.env;
  const home = env['HOME'] ?? '/root';
  const p = env['VFIO_ARM_EMU_BUSYBOX'] ?? join(env['VFIO_ARM_EMU_BUSYBOX_DIR'] ?? join(home, '.cache/vfio-arm-emu/busybox'), 'bin/busybox');
  return existsSync(p) ? p : null;
}

/** skip the busybox tests only on a developer machine without it (or without Unicorn); never in CI */
export function shouldSkipBusyboxTests(): boolean {
  return !process.env['CI'] && (!isUnicornAvailable() || busyboxPath() === null);
}
