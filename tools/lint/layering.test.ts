import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing/tmp.js';

const script = join(__dirname, 'layering.mjs');

function tree(files: Record<string, string>): string {
  const root = tempDir('layering');
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

function lint(root: string): { code: number; out: string } {
  const r = spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

describe('layering lint', () => {
  it('passes a tree that respects the rule', () => {
    const root = tree({
      'emulator/bus.ts': 'export const x = 1;\n',
      'devices/a/dev.ts': "import { x } from '../../emulator/bus.js';\n",
      'kernel-model/k.ts': "import { x } from '../emulator/bus.js';\n",
      'kernel-model/uapi/api.ts': 'export const O_RDWR = 2;\n',
      'guest-tests/p.ts': "import { O_RDWR } from '../kernel-model/uapi/api.js';\n",
      'kernel-model/k.test.ts': "import '../devices/a/dev.js';\n",
      // a host-side cache, marked; `let` inside a function is not module state
      'emulator/cache.ts': "// host-only: a parse cache\nlet last: string | null = null;\nlet other = 0; // host-only: a counter of host work\nexport function f(): number {\n  let n = 0;\n  return n + other + (last ?? '').length;\n}\n",
      // `from '...'` in text after an export is not an import
      'kernel-model/doc.ts': "export function f(): string {\n  // copied from '../devices/x.js'\n  return Array.from('ab').join('');\n}\n",
    });
    const r = lint(root);
    expect(r.out).toMatch(/layering: ok/);
    expect(r.code).toBe(0);
  });
  it('accepts capability reads, and profile kinds and patch sets where the profile rule allows them', () => {
    const root = tree({
      // subsystems read named capabilities
      'kernel-model/vfio/platform/common.ts': [
        "export function rw(caps: { rwImplementation: string; regionInfo: boolean }): number {",
        "  if (caps.rwImplementation === 'none') return 0;",
        '  return caps.regionInfo ? 1 : 2;',
        '}',
        // LPAE walk levels are not patch numbers
        'export const leaf = (level: number): boolean => level >= 3;',
        '',
      ].join('\n'),
      // the table itself
      'kernel-model/profile.ts': "export const f = (p: { kind: string; patches: Set<number> }): boolean => p.kind === 'mainline' || p.patches.has(4);\n",
      // tests may pick and assert per profile
      'kernel-model/vfio/platform/levels.test.ts': "const mainline = profile.kind === 'mainline' && level >= 5;\n",
      // the matrix names profiles, it does not decide behaviour
      'tools/scenarios/matrix.ts': "export const MATRIX = ['baseline', 'patches:1-9', 'rfc-v4', 'mainline'];\n",
      'tools/scenarios/expected.ts': "export const abi = (c: { dmaMapBit2: string }): string => (c.dmaMapBit2 === 'vaddr' ? 'mainline' : '2014');\n",
    });
    const r = lint(root);
    expect(r.out).toMatch(/layering: ok/);
    expect(r.code).toBe(0);
  });
  it.each([
    ['kernel-model/vfio/type1.ts', 'if (this.features.mainline) mask |= 4;\n', /type1\.ts:1: profile decision .*`mainline` switch/],
    ['kernel-model/drivers/arm-smmu.ts', 'const remap = this.k.profile.caps.mainline;\n', /`mainline` switch/],
    ['kernel-model/vfio/platform/vfio-platform.ts', 'const x = 1;\nif (f.vfioPlatformLevel < 4) return -19;\n', /vfio-platform\.ts:2: profile decision .*vfioPlatformLevel/],
    ['kernel-model/vfio/platform/irq.ts', 'if (this.level >= 10) automask();\n', /patch-level comparison/],
    ['kernel-model/driver/core.ts', 'if (this.profile.patches.has(1)) exportIt();\n', /patch set/],
    ['kernel-model/driver/core.ts', "if (this.profile.kind === 'mainline') return -16;\n", /profile kind/],
    ['kernel-model/vfio/vfio.ts', "switch (p.kind) {\n  case 'rfc-v4':\n    break;\n}\n", /vfio\.ts:1: .*profile kind|vfio\.ts:2: .*profile kind/],
    ['tools/system/system.ts', 'if (this.profile.features.vfioPlatformLevel >= 4) register();\n', /tools\/system\/system\.ts:1: profile decision/],
    ['tools/fuzz/model.ts', "const mainline = k === 'mainline';\n", /profile kind/],
  ])('rejects a profile decision in %s', (file, text, re) => {
    const root = tree({ [file]: text });
    const r = lint(root);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(re);
  });
  it.each([
    ['kernel-model/k.ts', "import { D } from '../devices/a/dev.js';\n", /kernel-model\/ may not import/],
    ['devices/a/dev.ts', "import { K } from '../../kernel-model/k.js';\n", /devices\/ may not import/],
    ['guest-tests/p.ts', "import { Bus } from '../emulator/bus.js';\n", /guest-tests\/ may not import/],
    ['guest-tests/q.ts', "export { K } from '../kernel-model/vfio/core.js';\n", /guest-tests\/ may not import/],
    ['emulator/e.ts', "import('../tools/cli.js');\n", /emulator\/ may not import/],
    ['devices/b.ts', 'const t = Date.now();\n', /host clock/],
    ['kernel-model/r.ts', 'const r = Math.random();\n', /unseeded randomness|host clock/],
    ['guest-tests/r.ts', 'const r = Math.random();\n', /unseeded randomness|host clock/],
    // a counter shared by every machine of the process (an inode number a guest can read)
    ['kernel-model/vfs/n.ts', 'let nextIno = 1000;\nexport const ino = (): number => nextIno++;\n', /kernel-model\/vfs\/n\.ts:1: module-level mutable state/],
    ['devices/c.ts', 'export var count = 0;\n', /module-level mutable state/],
    // a statement over several lines (as formatters write long import lists), with its line
    ['kernel-model/m.ts', "export const a = 1;\nimport {\n  D,\n  E,\n} from '../devices/a/dev.js';\n", /kernel-model\/m\.ts:5: kernel-model\/ may not import/],
    ['devices/m.ts', "import type {\n  K,\n} from '../kernel-model/k.js';\n", /devices\/ may not import/],
  ])('fails on %s', (file, text, re) => {
    const root = tree({ [file]: text });
    const r = lint(root);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(re);
  });
});
