/**
 * Value minimization of guided findings (campaign.ts minimizeValues): the numeric arguments of
 * the call that showed a finding are taken toward 0 as fc.integer shrinks one, keeping the
 * smallest value that still shows a finding; the result may be another finding (as with
 * fast-check's shrink of a random run).
 */
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX } from '../arb.js';
import { runProgram } from '../engine.js';
import { DEFAULT_SUPPRESSIONS } from '../harness.js';
import type { Call } from '../program.js';
import { minimizeValues } from './tweak.js';

const pread = (off: number, count = 4): Call => ({ op: 'pread', p: 0, fd: { k: 'device', i: 0 }, off: { region: 0, off }, count, ptr: 'ok' });

describe('guided finding value minimization', () => {
  const program = [...SETUP_PREFIX, pread(0xff0)];
  const first = runProgram('rfc-v4', program, { ignore: new Set(DEFAULT_SUPPRESSIONS) }).finding!;

  it('rfc-v4: a pread far past the region is taken to the smallest offset and count that still Oops', () => {
    expect(first.sig).toBe('oops:pread');
    // rw-offset-mismatch known: only an Oops keeps a candidate
    const ignore = new Set([...DEFAULT_SUPPRESSIONS, 'rw-offset-mismatch']);
    const m = minimizeValues('rfc-v4', program, first, ignore);
    expect(m.finding.sig).toBe('oops:pread');
    const last = m.program[m.program.length - 1] as { off: { region: number; off: number }; count: number };
    // 2014 vfio_platform_read scales the offset by 4: 0x400 is the first offset past the 4 KiB ioremap
    expect(last.off).toEqual({ region: 0, off: 0x400 });
    expect(last.count).toBe(1);
    expect(m.syscalls).toBeGreaterThan(0);
    // the program is the same but for that call, and it replays to the same finding
    expect(m.program.slice(0, -1)).toEqual(program.slice(0, -1));
    expect(runProgram('rfc-v4', m.program, { ignore }).finding?.sig).toBe('oops:pread');
  });

  it('rfc-v4: with the mismatch not yet known, the shrink may end in it (an offset below 0x400 that reads the wrong register)', () => {
    const m = minimizeValues('rfc-v4', program, first, new Set(DEFAULT_SUPPRESSIONS));
    const last = m.program[m.program.length - 1] as { off: { region: number; off: number }; count: number };
    expect(['oops:pread', 'rw-offset-mismatch']).toContain(m.finding.sig);
    expect(last.off.off).toBeLessThanOrEqual(0x400);
    if (m.finding.sig === 'rw-offset-mismatch') expect(last.off.off).toBeLessThan(0x400);
  });

  it('mainline: a program without a finding at that call is left as it is', () => {
    const clean = runProgram('mainline', program, { ignore: new Set(DEFAULT_SUPPRESSIONS) }).finding;
    expect(clean).toBeNull();
    // a finding record pointing at a call that shows nothing in this profile: no candidate is kept
    const m = minimizeValues('mainline', program, { ...first }, new Set(DEFAULT_SUPPRESSIONS));
    expect(m.program).toEqual(program);
  });
});

describe('the harness on what guided seeds ask', () => {
  it('open(O_CREAT|O_EXCL) of a file that exists returns EEXIST, an allowed errno, not a finding', () => {
    const o = (flags: number): Call => ({ op: 'open', p: 1, path: '/tmp/x', flags });
    const r = runProgram('mainline', [o(0o302), o(0o302)], { ignore: new Set(DEFAULT_SUPPRESSIONS), transcript: true });
    expect(r.finding).toBeNull();
    expect(r.harness.transcript.map((t) => String((t as { ret?: unknown }).ret))).toContain('-EEXIST');
  });
});
