/**
 * The fuzzer's coverage rows (Harness.cover): which row of the ioctl x result table a call on an
 * fd of some kind counts on, interned so that no key is built per call (round 15,
 * docs/PERFORMANCE.md). Split from harness-exec.ts.
 */
import { CONTAINER_IOMMUFD_IOCTLS } from './program-iommufd.js';
import { FD_IOCTLS } from './program.js';

/** a coverage row: its key ("kind:CALL") and the key of the made calls' successes on it ("made:kind:CALL") */
export interface CoverRow {
  key: string;
  made: string;
}

/**
 * The coverage row of (fd kind, call name) in a harness with or without the container's iommufd
 * rows and its VFIO_IOMMU_DIRTY_PAGES row: "kind:CALL", or "kind:unknown" for a call the fd kind
 * does not have; the compat container's iommufd requests get rows of their own where /dev/iommu
 * exists and VFIO_IOMMU_DIRTY_PAGES where type1 has it (`type1DirtyPages`); null for
 * FIONBIO/FIOCLEX/FIONCLEX (no row). Interned per (name, kind, the two flags): one Map lookup: building the keys by
 * concatenation made fresh strings per call (two for a made call), which every Map lookup then
 * had to flatten and hash.
 */
const COVER_ROWS = new Map<string, (CoverRow | null | undefined)[]>();
/** coverRow's slot of a kind (times 4: the two flags) */
const COVER_KIND = { container: 0, group: 4, device: 8, iommufd: 12, fault: 16 } as const;
export function coverRow(kind: 'container' | 'group' | 'device' | 'iommufd' | 'fault', what: string, iommufdRows: boolean, dirtyRow: boolean): CoverRow | null {
  let rows = COVER_ROWS.get(what);
  if (rows === undefined) {
    rows = new Array<CoverRow | null | undefined>(20).fill(undefined);
    // bounded like `encoded`: call names come from the generator's small sets
    if (COVER_ROWS.size < 4096) COVER_ROWS.set(what, rows);
  }
  const i = COVER_KIND[kind] + ((iommufdRows ? 2 : 0) | (dirtyRow ? 1 : 0));
  let row = rows[i];
  if (row === undefined) {
    let key: string | null;
    if (what.startsWith('FIO')) key = null;
    else if (kind === 'container' && iommufdRows && CONTAINER_IOMMUFD_IOCTLS.includes(what)) key = `container:${what}`;
    else if (kind === 'container' && dirtyRow && what === 'VFIO_IOMMU_DIRTY_PAGES') key = 'container:VFIO_IOMMU_DIRTY_PAGES';
    else key = `${kind}:${FD_IOCTLS[kind].includes(what) ? what : 'unknown'}`;
    row = rows[i] = key === null ? null : { key, made: `made:${key}` };
  }
  return row;
}

