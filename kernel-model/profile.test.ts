import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNEL_3_14, MAINLINE, NAMED_PROFILES, PATCH_CAPS, ProfileError, parseProfile, type Capabilities, type PatchNo } from './profile.js';

/** every capability key, bugs as `bugs.<name>` */
function keys(c: Readonly<Capabilities>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(c)) if (k !== 'bugs') out.push(k);
  for (const k of Object.keys(c.bugs)) out.push(`bugs.${k}`);
  return out;
}

function valueOf(c: Readonly<Capabilities>, key: string): unknown {
  return key.startsWith('bugs.') ? (c.bugs as unknown as Record<string, unknown> | undefined)?.[key.slice(5)] : (c as unknown as Record<string, unknown>)[key];
}

describe('profiles', () => {
  it('named profiles and patch subsets parse; unknown names and broken subsets are refused', () => {
    expect(parseProfile('rfc-v4').caps).toEqual(parseProfile('patches:1-10').caps);
    expect(parseProfile('baseline').caps).toEqual(parseProfile('patches:none').caps);
    expect(parseProfile('baseline').caps).toEqual(KERNEL_3_14);
    expect(parseProfile('mainline').caps).toBe(MAINLINE);
    expect(parseProfile(' patches:3,1 ').name).toBe('patches:1,3');
    expect(() => parseProfile('v5')).toThrow(ProfileError);
    expect(() => parseProfile('patches:1-3,5')).toThrow(/patch 05 .* needs patch 04/);
    // an inherited property name is not a profile
    expect(() => parseProfile('toString')).toThrow(ProfileError);
  });

  it('a subset has exactly the changes of the patches it contains', () => {
    // 08 needs only 05: without 06 and 07 there is no read/write and no mmap
    const c = parseProfile('patches:1-5,8').caps;
    expect([c.irqInfo, c.regionInfo, c.rwImplementation, c.mmapRegions, c.setIrqsActions]).toEqual([true, true, 'none', 'none', 'none']);
    expect(c.bugs).toEqual({ regionInfoNoBoundsCheck: true, rwOffsetScaledBy4: false, readEfaultOutsideRegions: false, loopbackNullTrigger: false, irqHandlerDevIdMismatch: false, maskSleepsUnderSpinlock: false });
    // 02 alone: the EXEC flag, but type1 does not register for the platform bus
    const e = parseProfile('patches:2').caps;
    expect([e.dmaMapBit2, e.type1PlatformBus, e.vfioPlatform]).toEqual(['exec', false, false]);
    // the value a later patch sets wins (09 then 10)
    expect(parseProfile('patches:1-9').caps.setIrqsActions).toBe('trigger');
    expect(parseProfile('patches:1-10').caps.setIrqsActions).toBe('trigger-mask-unmask');
  });

  it('every record has every capability, and patch deltas name only capabilities', () => {
    const all = keys(KERNEL_3_14);
    expect(keys(MAINLINE)).toEqual(all);
    for (const n of Object.keys(NAMED_PROFILES)) expect(keys(parseProfile(n).caps)).toEqual(all);
    for (const d of Object.values(PATCH_CAPS)) {
      for (const k of Object.keys(d)) if (k !== 'bugs') expect(all).toContain(k);
      for (const k of Object.keys(d.bugs ?? {})) expect(all).toContain(`bugs.${k}`);
    }
  });

  it('docs/PROFILES.md lists every capability with the values profile.ts gives it', () => {
    const md = readFileSync(join(__dirname, '..', 'docs', 'PROFILES.md'), 'utf8');
    const start = md.indexOf('## Capabilities per profile');
    expect(start).toBeGreaterThan(0);
    const rows = new Map<string, string[]>();
    const end = md.indexOf('\n## ', start + 1);
    for (const line of md.slice(start, end < 0 ? undefined : end).split('\n')) {
      const m = /^\| `([\w.]+)` \|(.*)\|$/.exec(line);
      if (m) rows.set(m[1]!, m[2]!.split('|').map((x) => x.trim()));
    }
    const base = parseProfile('baseline').caps;
    const rfc = parseProfile('rfc-v4').caps;
    for (const k of keys(KERNEL_3_14)) {
      const row = rows.get(k);
      expect(row, `no row for ${k}`).toBeDefined();
      const [b, patch, r, m] = row!;
      expect([k, b, r, m]).toEqual([k, `\`${valueOf(base, k)}\``, `\`${valueOf(rfc, k)}\``, `\`${valueOf(MAINLINE, k)}\``]);
      const sets: string[] = [];
      for (const p of Object.keys(PATCH_CAPS).map(Number) as PatchNo[]) {
        const v = valueOf(PATCH_CAPS[p] as Capabilities, k);
        if (v !== undefined) sets.push(`${String(p).padStart(2, '0')}: \`${v}\``);
      }
      expect([k, patch]).toEqual([k, sets.join(', ') || '-']);
    }
    expect([...rows.keys()].filter((k) => !keys(KERNEL_3_14).includes(k))).toEqual([]);
  });

  it('docs/PROFILES.md "Mainline vs 2014: every difference" names every capability whose rfc-v4 and mainline values differ', () => {
    const md = readFileSync(join(__dirname, '..', 'docs', 'PROFILES.md'), 'utf8');
    const start = md.indexOf('## Mainline vs 2014: every difference');
    expect(start).toBeGreaterThan(0);
    const end = md.indexOf('\n## ', start + 1);
    const section = md.slice(start, end < 0 ? undefined : end);
    const header = '| Area | 2014 (3.14 + RFC v4) | Mainline | Capability |';
    expect(section).toContain(header);
    // the Capability column (the last cell) of every row
    const named = new Set<string>();
    for (const line of section.split('\n')) {
      if (!line.startsWith('| ') || line === header) continue;
      const cells = line.split(' | ');
      for (const m of (cells[cells.length - 1] ?? '').matchAll(/`([\w.]+)`/g)) named.add(m[1]!);
    }
    const rfc = parseProfile('rfc-v4').caps;
    const differing = keys(KERNEL_3_14).filter((k) => JSON.stringify(valueOf(rfc, k)) !== JSON.stringify(valueOf(MAINLINE, k)));
    expect(differing.length).toBeGreaterThan(30);
    expect(differing.filter((k) => !named.has(k))).toEqual([]);
    // and nothing it names is unknown or the same in both
    expect([...named].filter((k) => !differing.includes(k))).toEqual([]);
  });
});
