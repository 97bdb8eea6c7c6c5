/**
 * Every `--json` output carries a `schema` id, and real outputs validate against the JSON
 * Schema in docs/schemas/ that the id names (ajv, strict mode).
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runCli } from './main.js';
import { JSON_SCHEMAS } from './report.js';
import { memoryIo } from './testing/memory-io.js';
import { tempDir } from '../testing/tmp.js';

const root = new URL('../../', import.meta.url);
const ajv = new Ajv({ strict: true, allErrors: true });
const schemaFor = (id: string): object => JSON.parse(readFileSync(new URL(JSON_SCHEMAS[id]!, root), 'utf8')) as object;

function expectValid(out: unknown): void {
  const id = (out as { schema?: unknown }).schema;
  expect(typeof id, 'the output has a schema field').toBe('string');
  expect(JSON_SCHEMAS, `a JSON Schema for ${String(id)}`).toHaveProperty([id as string]);
  const validate = ajv.getSchema(id as string) ?? ajv.addSchema(schemaFor(id as string), id as string).getSchema(id as string)!;
  const ok = validate(out);
  expect(ok, JSON.stringify(validate.errors)).toBe(true);
}

async function json(argv: string[], files: Record<string, string> = {}): Promise<{ code: number; out: unknown; files: Record<string, string> }> {
  const x = memoryIo(files);
  const code = await runCli(argv, x);
  return { code, out: JSON.parse(x.o) as unknown, files: x.files };
}

describe('JSON Schemas of the --json outputs (docs/schemas/)', () => {
  it('each schema file names its id in properties.schema.const and compiles', () => {
    for (const [id, file] of Object.entries(JSON_SCHEMAS)) {
      const s = JSON.parse(readFileSync(new URL(file, root), 'utf8')) as { properties: { schema: { const: string } } };
      expect(s.properties.schema.const).toBe(id);
      expect(() => new Ajv({ strict: true }).compile(s)).not.toThrow();
    }
  });

  it('run --json: a passing and a failing scenario', async () => {
    const a = await json(['run', 'pl330-vfio-test', '--json']);
    expect(a.code).toBe(0);
    expectValid(a.out);
    const b = await json(['run', 'pl330-vfio-test', '--json', '--profile', 'patches:1-9']);
    expect((b.out as { passed: boolean }).passed).toBe(b.code === 0);
    expectValid(b.out);
    // the schema is not vacuous: a wrong field fails it
    expect(ajv.getSchema('vfio-arm-emu/run/1')!({ ...(a.out as object), traceSha256: 'x' })).toBe(false);
  });

  it('matrix --json', async () => {
    const m = await json(['matrix', '--json']);
    expect(m.code).toBe(0);
    expectValid(m.out);
  });

  it('fuzz --json (with and without the baseline), fuzz --replay --json, and the committed baseline', async () => {
    const out = tempDir('schema-fuzz');
    const f = await json(['fuzz', '--profile', 'rfc-v4', '--runs', '10', '--json', '--out', out]);
    expectValid(f.out);
    const g = await json(['fuzz', '--profile', 'rfc-v4', '--runs', '10', '--json', '--out', out, '--no-baseline']);
    expectValid(g.out);
    const file = Object.keys(g.files).find((p) => p.startsWith(`${out}/`));
    expect(file, 'a finding file').toBeDefined();
    const r = await json(['fuzz', '--replay', file!, '--json'], g.files);
    expectValid(r.out);
    expectValid(JSON.parse(readFileSync(new URL('tools/fuzz/baseline.json', root), 'utf8')));
    // mainline: the coverage table has the iommufd and fault fd rows too
    const m = await json(['fuzz', '--profile', 'mainline', '--runs', '10', '--json', '--out', out]);
    expect((m.out as { coverage: { fd: string }[] }).coverage.map((r) => r.fd)).toEqual(expect.arrayContaining(['iommufd', 'fault']));
    expectValid(m.out);
  });

  it.skipIf(shouldSkipUnicornTests())('run --cpu unicorn --json', async () => {
    const u = await json(['run', '--cpu', 'unicorn', '--elf', guestBinary('hello'), '--json']);
    expect(u.code).toBe(0);
    expectValid(u.out);
  });
});
