import { describe, expect, it } from 'vitest';
import { parseArgs, parseIntStrict, UsageError } from './args.js';

const spec = {
  seed: { type: 'int' as const, min: 0 },
  profile: { type: 'string' as const },
  fmt: { type: 'string' as const, choices: ['a', 'b'] },
  json: { type: 'bool' as const },
};

describe('parseArgs', () => {
  it('parses options in both forms and keeps positionals', () => {
    const p = parseArgs(['run', 'x', '--seed', '0x10', '--profile=rfc-v4', '--json', '--', '--not-an-opt'], spec);
    expect(p.positionals).toEqual(['run', 'x', '--not-an-opt']);
    expect(p.opts).toEqual({ seed: 16, profile: 'rfc-v4', json: true });
  });
  it.each([
    [['--nope'], /unknown option '--nope'/],
    [['--seed'], /needs a value/],
    [['--seed', 'abc'], /whole number/],
    [['--seed', '-1'], /needs a value|whole number|at least/],
    [['--fmt', 'c'], /one of a, b/],
    [['--json=1'], /takes no value/],
    [['-x'], /unknown option '-x'/],
  ])('rejects %j', (argv, re) => {
    expect(() => parseArgs(argv, spec)).toThrow(UsageError);
    expect(() => parseArgs(argv, spec)).toThrow(re);
  });
  it('reads sizes with binary suffixes', () => {
    expect(parseIntStrict('4K')).toBe(4096);
    expect(parseIntStrict('2M')).toBe(2 * 1024 * 1024);
    expect(parseIntStrict('0x1000')).toBe(4096);
    expect(parseIntStrict('1.5')).toBeNull();
  });
});
