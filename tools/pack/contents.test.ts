/**
 * What `npm pack` ships (package.json `files`): the bundles (the CLI commands' CommonJS bundle
 * too, but not its V8 code cache: see tools/cli/code-cache.ts), the generated types, the boards,
 * the JSON Schemas, the baseline and the user docs; never tests, test helpers, CI files or
 * sources. Listed without building (`--ignore-scripts`); the built tarball itself is checked
 * by tools/pack/install.packtest.ts (`npm run test:pack`).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface PackEntry {
  files: Array<{ path: string; size: number }>;
  size: number;
  unpackedSize: number;
  entryCount: number;
}

describe('npm pack contents', () => {
  it('no tests, test helpers, CI files or sources; only the whitelisted paths', () => {
    const root = new URL('../../', import.meta.url).pathname;
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [pack] = JSON.parse(out) as PackEntry[];
    const paths = pack!.files.map((f) => f.path);
    for (const p of paths) {
      expect(p).not.toMatch(/\.test\.ts$|packtest|\/testing\/|^\.ci\/|^\.github\/|vitest|tsconfig|^tools\/(?!fuzz\/baseline\.json$)|\.map$/);
      expect(p).toMatch(/^(dist\/[^/]+\.js|dist\/cli-commands\.cjs|dist\/types\/.+\.d\.ts|emulator\/boards\/[^/]+\.dts|docs\/schemas\/[^/]+\.json|docs\/(API|CLI)\.md|tools\/fuzz\/baseline\.json|README\.md|package\.json|LICENSE)$/);
    }
    // a V8 code cache is valid for the V8 that wrote it only: the installed package makes its own
    expect(paths.filter((p) => p.endsWith('.v8cache'))).toEqual([]);
    for (const p of ['package.json', 'README.md', 'emulator/boards/vexpress-vfio.dts', 'docs/schemas/run.schema.json', 'docs/API.md']) expect(paths).toContain(p);
    // reported, not asserted: it depends on whether dist/ was built
    console.log(`npm pack: ${pack!.entryCount} files, ${(pack!.size / 1024).toFixed(0)} KiB packed, ${(pack!.unpackedSize / 1024).toFixed(0)} KiB unpacked (dist/ ${paths.some((p) => p.startsWith('dist/')) ? 'built' : 'not built'})`);
  });
});
