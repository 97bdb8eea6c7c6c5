/**
 * The snapshot's comparison and restore of Map and Set records (snapshot.ts restoreRecs,
 * recChanged). Split from snapshot.ts (round 18: the restore without clear()).
 */

/** a === b, telling -0 from 0 (Object.is without its NaN case: NaN is rewritten, as before) */
export function same(a: unknown, b: unknown): boolean {
  return a === b && (a !== 0 || 1 / (a as number) === 1 / (b as number));
}

/**
 * same entries in the same (iteration) order. Map and Set keys are never -0 (they normalise
 * it to 0), values can be: compared exactly, so that an unchanged map holding a 0 is not
 * cleared and rebuilt on every restore.
 */
export function sameMap(m: Map<unknown, unknown>, keys: unknown[], vals: unknown[]): boolean {
  let j = 0;
  for (const k of m.keys()) {
    if (k !== keys[j] || !same(m.get(k), vals[j])) return false;
    j++;
  }
  return true;
}

export function sameSet(s: Set<unknown>, vals: unknown[]): boolean {
  let j = 0;
  for (const v of s) if (v !== vals[j++]) return false;
  return true;
}

/**
 * Put a Map back to its recorded entries and order without emptying it: the entries after the
 * longest prefix of its iteration order that is the record's keys are deleted, the record's
 * keys after that prefix set again (in order), and the prefix's values that differ rewritten in
 * place (a set of a present key keeps its place). Map.prototype.clear would give a long-lived
 * map a new table in V8's old space every time, and leave its young entries held by the old
 * table until the next full GC, so that they are promoted (docs/PERFORMANCE.md round 18). The
 * deleted entries' values are dropped (set to undefined, in place) before any delete: a delete
 * that shrinks the table leaves the old table holding the entries not deleted yet.
 */
export function restoreMap(m: Map<unknown, unknown>, keys: unknown[], vals: unknown[]): void {
  const n = keys.length;
  let j = 0;
  for (const k of m.keys()) {
    if (j === n || k !== keys[j]) break;
    j++;
  }
  if (j < m.size) {
    let i = 0;
    for (const k of m.keys()) if (i++ >= j) m.set(k, undefined);
    i = 0;
    for (const k of m.keys()) if (i++ >= j) m.delete(k);
  }
  for (let i = 0; i < j; i++) {
    const k = keys[i];
    if (!same(m.get(k), vals[i])) m.set(k, vals[i]);
  }
  for (let i = j; i < n; i++) m.set(keys[i], vals[i]);
}

/** restoreMap for a Set: the values after the record's prefix deleted, the rest added again in order */
export function restoreSet(s: Set<unknown>, vals: unknown[]): void {
  const n = vals.length;
  let j = 0;
  for (const v of s) {
    if (j === n || v !== vals[j]) break;
    j++;
  }
  if (j < s.size) {
    let i = 0;
    for (const v of s) if (i++ >= j) s.delete(v);
  }
  for (let i = j; i < n; i++) s.add(vals[i]);
}
