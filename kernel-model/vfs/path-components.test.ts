import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pathComponents, splitPath } from './nodes.js';

describe('pathComponents', () => {
  it('answers what split("/") and a filter of the empty components (and of "." for splitPath) answer', () => {
    const text = fc.array(fc.constantFrom('/', '.', 'a', 'b', '..', 'dev', 'vfio', ' '), { maxLength: 24 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, (p) => {
        expect(pathComponents(p)).toEqual(p.split('/').filter((c) => c.length > 0));
        expect(pathComponents(p, true)).toEqual(p.split('/').filter((c) => c.length > 0 && c !== '.'));
        expect(splitPath(p)).toEqual(pathComponents(p, true));
      }),
      { seed: 19, numRuns: 2000 },
    );
    expect(pathComponents('/sys/bus/platform/drivers/vfio-platform/bind')).toEqual(['sys', 'bus', 'platform', 'drivers', 'vfio-platform', 'bind']);
    expect(pathComponents('./a/./..//b/')).toEqual(['.', 'a', '.', '..', 'b']);
    expect(pathComponents('./a/./..//b/', true)).toEqual(['a', '..', 'b']);
    expect(pathComponents('')).toEqual([]);
  });
});
