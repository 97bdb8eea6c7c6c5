/**
 * A mainline C reproducer (emit-c.ts) built with guest-tests/c/build.sh and run under Unicorn on
 * the fuzzer's board: the tests that check a reproducer returns what the harness returned.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_C_DIR } from '../../../emulator/cpu/unicorn/testing/guest-build.js';
import { tempDir } from '../../testing/tmp.js';
import { runElf } from '../../unicorn/run.js';
import { emitC } from '../emit-c.js';
import { FUZZ_BOARD } from '../harness.js';
import type { Call } from '../program.js';

/** `program`'s reproducer under Unicorn (`profile`: mainline or mainline+iommufd-compat): its `call i = r` lines (the errno dropped) and its whole stdout */
export function reproUnderUnicorn(name: string, program: readonly Call[], profile = 'mainline'): { calls: string[]; stdout: string } {
  const out = tempDir(`${name}-repro`);
  const stage = tempDir(`${name}-repro-src`);
  writeFileSync(join(stage, `${name}.c`), emitC({ profile, program: [...program], sig: 'leak-iommufd' }).c);
  execFileSync(join(GUEST_C_DIR, 'build.sh'), [out, stage], { stdio: ['ignore', 'ignore', 'inherit'] });
  const u = runElf({ elf: join(out, name), argv0: 'repro', profile, board: FUZZ_BOARD, bind: null });
  return { calls: (u.stdout.match(/^call \d+ = .*$/gm) ?? []).map((l) => l.replace(/ \(errno.*$/, '')), stdout: u.stdout };
}

/** the `call i = r` lines a reproducer prints for the harness's transcript results (an error: -1) */
export const asCallLines = (rets: readonly string[]): string[] => rets.map((r, i) => `call ${i} = ${r.startsWith('-') ? -1 : r}`);
