/**
 * Fuzz baselines: the known findings of a profile (tools/fuzz/baseline.json, or a user's
 * file given with `fuzz --baseline FILE`). A campaign that finds only known signatures is a
 * success (exit 0); a new signature fails it (exit 1). docs/FUZZING.md, "Baselines".
 */
import { parseProfile } from '../../kernel-model/profile.js';
import builtin from './baseline.json' with { type: 'json' };

export const BASELINE_SCHEMA = 'vfio-arm-emu/fuzz-baseline/1';

export interface BaselineEntry {
  sig: string;
  why: string;
}

export interface FuzzBaseline {
  schema: string;
  comment?: string;
  profiles: Record<string, BaselineEntry[]>;
}

export class BaselineError extends Error {}

/** the committed baseline, or a user's file (validated: schema, profiles, entries) */
export function loadBaseline(text?: string, source = 'tools/fuzz/baseline.json'): FuzzBaseline {
  let o: unknown = builtin;
  if (text !== undefined) {
    try {
      o = JSON.parse(text);
    } catch (e) {
      throw new BaselineError(`${source}: not JSON (${(e as Error).message})`);
    }
  }
  const b = o as Partial<FuzzBaseline>;
  if (typeof b !== 'object' || b === null || b.schema !== BASELINE_SCHEMA) throw new BaselineError(`${source}: not a fuzz baseline (schema must be "${BASELINE_SCHEMA}")`);
  if (typeof b.profiles !== 'object' || b.profiles === null || Array.isArray(b.profiles)) throw new BaselineError(`${source}: "profiles" must be an object of profile name -> entries`);
  for (const [p, list] of Object.entries(b.profiles)) {
    if (!Array.isArray(list)) throw new BaselineError(`${source}: profiles["${p}"] must be an array`);
    list.forEach((e: unknown, i) => {
      const x = e as Partial<BaselineEntry>;
      if (typeof x !== 'object' || x === null || typeof x.sig !== 'string' || x.sig === '' || typeof x.why !== 'string') {
        throw new BaselineError(`${source}: profiles["${p}"][${i}] needs a non-empty "sig" and a "why"`);
      }
    });
  }
  return b as FuzzBaseline;
}

/** two spellings of one behaviour (rfc-v4 and patches:1-10): same capabilities */
function sameProfile(a: string, b: string): boolean {
  try {
    return JSON.stringify(parseProfile(a).caps) === JSON.stringify(parseProfile(b).caps);
  } catch {
    return false;
  }
}

/** the baseline entries that apply to a profile (every key naming an equivalent profile) */
export function entriesFor(b: FuzzBaseline, profile: string): BaselineEntry[] {
  return Object.entries(b.profiles).filter(([k]) => k === profile || sameProfile(k, profile)).flatMap(([, v]) => v);
}

function sigMatches(pattern: string, sig: string): boolean {
  return pattern.endsWith('*') ? sig.startsWith(pattern.slice(0, -1)) : pattern === sig;
}

/** split signatures into known (with the entry that matched) and new ones */
export function matchBaseline(b: FuzzBaseline | null, profile: string, sigs: readonly string[]): { known: Map<string, BaselineEntry>; fresh: string[] } {
  const entries = b === null ? [] : entriesFor(b, profile);
  const known = new Map<string, BaselineEntry>();
  const fresh: string[] = [];
  for (const s of sigs) {
    const e = entries.find((x) => sigMatches(x.sig, s));
    if (e) known.set(s, e);
    else fresh.push(s);
  }
  return { known, fresh };
}
