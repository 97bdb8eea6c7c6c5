import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pathComponents } from './nodes.js';

describe('pathComponents (the components lookup and parentOf walk)', () => {
  it("is split('/') without the empty strings, for any text of slashes, dots and names", () => {
    const text = fc.array(fc.constantFrom('/', '//', '.', '..', 'a', 'dev', 'vfio', '1', ' '), { maxLength: 12 }).map((p) => p.join(''));
    fc.assert(
      fc.property(text, (t) => {
        expect(pathComponents(t)).toEqual(t.split('/').filter((c) => c.length > 0));
      }),
      { numRuns: 2000 },
    );
    expect(pathComponents('/dev//vfio/1/')).toEqual(['dev', 'vfio', '1']);
    expect(pathComponents('')).toEqual([]);
  });
});
