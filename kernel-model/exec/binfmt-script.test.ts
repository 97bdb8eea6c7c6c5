import { describe, expect, it } from 'vitest';
import { parseScriptLine, type BinfmtScript } from './binfmt-script.js';

const ENOEXEC = 8;
const b = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const both = (s: string): Record<BinfmtScript, unknown> => ({
  'buf128-truncate': parseScriptLine(b(s), 'buf128-truncate'),
  'buf256-enoexec': parseScriptLine(b(s), 'buf256-enoexec'),
});

describe('binfmt_script: the "#!" line (fs/binfmt_script.c load_script, 3.14 and v6.12)', () => {
  it('interpreter, one optional argument with its inner blanks, blanks around trimmed (both eras)', () => {
    for (const era of ['buf128-truncate', 'buf256-enoexec'] as const) {
      expect(parseScriptLine(b('#!/bin/sh\necho\n'), era)).toEqual({ interp: '/bin/sh', arg: null });
      expect(parseScriptLine(b('#! \t/bin/sh  -e  -x \t\nrest'), era)).toEqual({ interp: '/bin/sh', arg: '-e  -x' });
      expect(parseScriptLine(b('#!/bin/sh'), era)).toEqual({ interp: '/bin/sh', arg: null });
      expect(parseScriptLine(b('#!   \n'), era)).toBe(-ENOEXEC);
      expect(parseScriptLine(b('#!\n/bin/sh\n'), era)).toBe(-ENOEXEC);
      expect(parseScriptLine(b('# !/bin/sh\n'), era)).toBe(-ENOEXEC);
      expect(parseScriptLine(b('\x7fELF'), era)).toBe(-ENOEXEC);
    }
  });

  it('a line longer than the buffer: 3.14 cuts it at 127 bytes and runs the cut path; v6.12 reads 256 and refuses a path with no end in it', () => {
    const long = '/' + 'a'.repeat(200);
    const r = both(`#!${long}\n`);
    expect(r['buf128-truncate']).toEqual({ interp: long.slice(0, 125), arg: null });
    expect(r['buf256-enoexec']).toEqual({ interp: long, arg: null });
    const huge = '/' + 'b'.repeat(300);
    const h = both(`#!${huge}\n`);
    expect(h['buf128-truncate']).toEqual({ interp: huge.slice(0, 125), arg: null });
    expect(h['buf256-enoexec']).toBe(-ENOEXEC);
    // a path that ends within the buffer, its argument cut: v6.12 runs it with the cut argument
    const a = both(`#!/bin/sh ${'x'.repeat(300)}\n`);
    expect(a['buf256-enoexec']).toEqual({ interp: '/bin/sh', arg: 'x'.repeat(256 - 11) });
    expect(a['buf128-truncate']).toEqual({ interp: '/bin/sh', arg: 'x'.repeat(127 - 10) });
  });

  it('a short file ending in a blank without a newline: v6.12 gives an empty argument (the NUL padding is not trimmed), 3.14 none', () => {
    const r = both('#!/bin/sh ');
    expect(r['buf128-truncate']).toEqual({ interp: '/bin/sh', arg: null });
    expect(r['buf256-enoexec']).toEqual({ interp: '/bin/sh', arg: '' });
  });

  it('a NUL ends the search for the newline (strchr / strnchr)', () => {
    const r = both('#!/bin/sh\0 x\n');
    expect(r['buf128-truncate']).toEqual({ interp: '/bin/sh', arg: null });
    expect(r['buf256-enoexec']).toEqual({ interp: '/bin/sh', arg: null });
  });
});
