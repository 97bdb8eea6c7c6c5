import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX, programArb } from './arb.js';
import { runCampaign, runProgram } from './engine.js';
import { FindingError, Harness, type Finding } from './harness.js';
import type { Call } from './program.js';
import { GraphSnapshot, SnapshotUnsupported, graphDigest } from './snapshot.js';

/** run a program on a harness (already in its post-set-up state); first finding or null */
function exec(h: Harness, program: readonly Call[]): Finding | null {
  try {
    for (const c of program) h.exec(c);
    h.finish();
  } catch (e) {
    if (e instanceof FindingError) return e.finding;
    throw e;
  }
  return null;
}

function programs(seed: number, n: number): Call[][] {
  return fc.sample(programArb(24), { seed, numRuns: n }).map((p, i) => (i % 2 === 0 ? [...SETUP_PREFIX, ...p] : p));
}

describe('snapshot/restore of the fuzz harness', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: after arbitrary runs, restore gives back the snapshot state exactly (object graph and every RAM byte)`, () => {
      const h = new Harness({ profile, transcript: true });
      const snap = new GraphSnapshot([h], h.sys.machine.ram);
      const ram = h.sys.machine.ram[0]!;
      const ramCopy = ram.bytes.slice();
      // RAM is compared byte for byte below (hashing it in the digest would be slow)
      const skip = [ram.bytes.buffer];
      const d0 = graphDigest([h], skip);
      let dirtied = 0;
      for (const p of programs(11, 12)) {
        exec(h, p);
        dirtied += ram.dirty!.reduce((a, b) => a + b, 0);
        expect(graphDigest([h], skip)).not.toBe(d0); // the run changed the state
        snap.restore();
        expect(graphDigest([h], skip)).toBe(d0);
        expect(Buffer.compare(Buffer.from(ram.bytes.buffer), Buffer.from(ramCopy.buffer))).toBe(0);
      }
      expect(dirtied).toBeGreaterThan(0);
    });

    it(`${profile}: programs give identical transcripts, findings, virtual time and syscall counts on a restored and a freshly booted harness`, () => {
      const h = new Harness({ profile, transcript: true });
      const snap = new GraphSnapshot([h], h.sys.machine.ram);
      let findings = 0;
      for (const p of programs(23, 10)) {
        snap.restore();
        const f1 = exec(h, p);
        const fresh = runProgram(profile, p, { transcript: true });
        expect(h.transcript).toEqual(fresh.harness.transcript);
        expect(f1).toEqual(fresh.finding);
        expect(h.sys.now).toBe(fresh.harness.sys.now);
        expect(h.runSyscalls).toBe(fresh.harness.runSyscalls);
        expect([...h.coverage.entries()].map(([k, v]) => [k, [...v]])).toEqual([...fresh.harness.coverage.entries()].map(([k, v]) => [k, [...v]]));
        if (f1) findings++;
      }
      if (profile === 'rfc-v4') expect(findings).toBeGreaterThan(0);
    });
  }

  it('a campaign gives the same findings, runs, syscall count and coverage with snapshots as with a boot per run', () => {
    const a = runCampaign({ profile: 'rfc-v4', seed: 3, runs: 30, reuse: true });
    const b = runCampaign({ profile: 'rfc-v4', seed: 3, runs: 30, reuse: false });
    expect(a.runs).toBe(b.runs);
    expect(a.execs).toBe(b.execs);
    expect(a.coverage).toEqual(b.coverage);
    expect(a.findings.map((f) => [f.sig, f.program, f.transcript])).toEqual(b.findings.map((f) => [f.sig, f.program, f.transcript]));
  });

  it('restores objects, arrays, maps, sets and buffers in place and drops what was added', () => {
    const inner = { x: 1 };
    const root = { n: 1, s: 'a', arr: [1, inner], m: new Map([['k', inner]]), set: new Set([1]), u8: new Uint8Array([1, 2, 3]), dict: { a: 1 } as Record<string, number> };
    const snap = new GraphSnapshot([root], []);
    const d0 = graphDigest([root]);
    root.n = 2;
    root.s = 'b';
    inner.x = 5;
    root.arr.push(7);
    root.m.set('z', { x: 9 });
    root.m.delete('k');
    root.set.add(2);
    root.u8[1] = 9;
    root.dict.b = 2;
    expect(graphDigest([root])).not.toBe(d0);
    snap.restore();
    expect(graphDigest([root])).toBe(d0);
    expect(root).toEqual({ n: 1, s: 'a', arr: [1, { x: 1 }], m: new Map([['k', { x: 1 }]]), set: new Set([1]), u8: new Uint8Array([1, 2, 3]), dict: { a: 1 } });
    expect(root.arr[1]).toBe(inner);
  });

  it('refuses a graph holding a generator (its state cannot be captured)', () => {
    function* g(): Generator<number> {
      yield 1;
    }
    expect(() => new GraphSnapshot([{ it: g() }], [])).toThrow(SnapshotUnsupported);
  });
});
