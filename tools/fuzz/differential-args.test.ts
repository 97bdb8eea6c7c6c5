import { describe, expect, it } from 'vitest';
import { parseDiffArgs } from './differential-args.js';

describe('fuzz-diff.js command line (differential-args.ts)', () => {
  it('defaults, and every option read', () => {
    expect(parseDiffArgs([])).toEqual({ profile: 'mainline', seed: 1, n: 50, out: null, only: undefined, json: false });
    expect(parseDiffArgs(['--profile', 'rfc-v4', '--seed=-3', '--runs', '7', '--out', '/tmp/x', '--only', '0,6', '--json'])).toEqual({ profile: 'rfc-v4', seed: -3, n: 7, out: '/tmp/x', only: [0, 6], json: true });
    expect(parseDiffArgs(['--profile', 'patches:1-5'])).toMatchObject({ profile: 'patches:1-5' });
    expect(parseDiffArgs(['--help'])).toBe('');
  });

  it('a bad argument is a usage error naming it, never a run with defaults or a host exception', () => {
    const cases: [string[], RegExp][] = [
      [['--bogus'], /Unknown option '--bogus'/],
      [['extra'], /positional argument/],
      [['--runs'], /argument missing|requires? an argument|'--runs <value>'/i],
      [['--runs', '0'], /--runs must be an integer in 1\.\.100000, got '0'/],
      [['--runs', '1e3'], /--runs must be an integer/],
      [['--runs', '100001'], /--runs must be/],
      [['--seed', 'x'], /--seed must be an integer, got 'x'/],
      [['--profile', 'nope'], /unknown profile 'nope'/],
      [['--profile', 'patches:5'], /patch 05 .* needs patch 04/],
      [['--runs', '5', '--only', '5'], /--only takes program numbers 0\.\.4/],
      [['--only', '1,,2'], /--only takes program numbers/],
    ];
    for (const [argv, msg] of cases) {
      const r = parseDiffArgs(argv);
      expect(typeof r, argv.join(' ')).toBe('string');
      expect(r, argv.join(' ')).toMatch(msg);
    }
  });
});
