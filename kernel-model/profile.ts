/**
 * Kernel profiles: which patches of the RFC v4 series "VFIO support for platform
 * devices" (Feb 2014) are applied, and whether the kernel is the 2014 one or mainline.
 *
 * This is the ONE place where the series selects behaviour. Subsystems never test
 * patch numbers: they read the named features below, derived here from the profile.
 */
export type PatchNo = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

export const PATCH_TITLES: Record<PatchNo, string> = {
  1: 'driver core: export driver_probe_device()',
  2: 'vfio/iommu_type1: support for platform bus devices on ARM (VFIO_DMA_MAP_FLAG_EXEC)',
  3: 'vfio/iommu_type1: build for platform devices (register when the platform bus has an IOMMU)',
  4: 'vfio/platform: initial skeleton (vfio_bind)',
  5: 'vfio/platform: return info for bound device (regions)',
  6: 'vfio/platform: read and write support for the device fd',
  7: 'vfio/platform: support MMAP of MMIO regions',
  8: 'vfio/platform: return IRQ info',
  9: 'vfio/platform: initial interrupts support',
  10: 'vfio/platform: support for maskable and automasked interrupts',
};

/** What each patch needs applied before it (as the series was posted). */
export const PATCH_DEPS: Record<PatchNo, PatchNo[]> = {
  1: [], 2: [], 3: [], 4: [1], 5: [4], 6: [5], 7: [6], 8: [5], 9: [8], 10: [9],
};

export type ProfileKind = 'baseline' | 'patches' | 'rfc-v4' | 'mainline';

export interface Features {
  /** 01: driver_probe_device exported (vfio_bind may use it) */
  driverProbeDeviceExported: boolean;
  /** 02: VFIO_DMA_MAP_FLAG_EXEC accepted and passed as IOMMU_EXEC */
  dmaMapExecFlag: boolean;
  /** 03: type1 registers for the platform bus (IOMMU present there) */
  type1PlatformBus: boolean;
  /** 04..10: vfio-platform driver level (0 = not present, 4..10 = last patch applied) */
  vfioPlatformLevel: number;
  /** 2014 arm-smmu: XN unless IOMMU_EXEC; mainline: XN only with IOMMU_NOEXEC */
  iommuExecSemantics: 'exec-flag' | 'noexec-flag';
  /** binding mechanism offered to administrators */
  vfioBindFile: boolean;
  driverOverride: boolean;
  /** rfc-v4 review findings reproduced */
  bugs: {
    regionInfoNoBoundsCheck: boolean;
    rwOffsetScaledBy4: boolean;
    readEfaultOutsideRegions: boolean;
  };
  /** mainline-only behaviour */
  mainline: boolean;
}

export interface Profile {
  readonly name: string;
  readonly kind: ProfileKind;
  readonly patches: ReadonlySet<PatchNo>;
  readonly features: Features;
}

export class ProfileError extends Error {}

/** Parse "1-10", "1,3-10", "" into a patch set; throws ProfileError with a clear message. */
export function parsePatchList(spec: string): Set<PatchNo> {
  const out = new Set<PatchNo>();
  const s = spec.trim();
  if (s === '' || s === 'none') return out;
  for (const part of s.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new ProfileError(`bad patch list element '${part}' (expected N or N-M, N in 1..10)`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (a < 1 || b > 10 || a > b) throw new ProfileError(`patch range '${part.trim()}' is outside 1..10 or reversed`);
    for (let i = a; i <= b; i++) out.add(i as PatchNo);
  }
  return out;
}

export function checkDeps(patches: ReadonlySet<PatchNo>): void {
  for (const p of [...patches].sort((x, y) => x - y)) {
    for (const d of PATCH_DEPS[p]) {
      if (!patches.has(d)) {
        throw new ProfileError(`patch ${String(p).padStart(2, '0')} (${PATCH_TITLES[p]}) needs patch ${String(d).padStart(2, '0')} (${PATCH_TITLES[d]}), which is not in the set`);
      }
    }
  }
}

function features2014(patches: ReadonlySet<PatchNo>, faithfulBugs: boolean): Features {
  let level = 0;
  for (let p = 4; p <= 10; p++) if (patches.has(p as PatchNo)) level = p;
  return {
    driverProbeDeviceExported: patches.has(1),
    dmaMapExecFlag: patches.has(2),
    type1PlatformBus: patches.has(3),
    vfioPlatformLevel: level,
    iommuExecSemantics: 'exec-flag',
    vfioBindFile: level >= 4,
    driverOverride: false,
    bugs: {
      regionInfoNoBoundsCheck: faithfulBugs && level >= 5,
      rwOffsetScaledBy4: faithfulBugs && level >= 6,
      readEfaultOutsideRegions: faithfulBugs && level >= 6,
    },
    mainline: false,
  };
}

const ALL: PatchNo[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/**
 * Profile names: `baseline`, `rfc-v4`, `mainline`, `patches:<list>` (e.g. patches:1-10,
 * patches:1,3-10), and `patches:none`. Patch subsets reproduce the series as posted,
 * review findings included (they are part of the patches).
 */
export function parseProfile(name: string): Profile {
  const n = name.trim();
  if (n === 'baseline') {
    return { name: 'baseline', kind: 'baseline', patches: new Set(), features: features2014(new Set(), true) };
  }
  if (n === 'rfc-v4') {
    const ps = new Set(ALL);
    return { name: 'rfc-v4', kind: 'rfc-v4', patches: ps, features: features2014(ps, true) };
  }
  if (n === 'mainline') {
    return {
      name: 'mainline',
      kind: 'mainline',
      patches: new Set(ALL),
      features: {
        driverProbeDeviceExported: false,
        dmaMapExecFlag: false,
        type1PlatformBus: true,
        vfioPlatformLevel: 10,
        iommuExecSemantics: 'noexec-flag',
        vfioBindFile: false,
        driverOverride: true,
        bugs: { regionInfoNoBoundsCheck: false, rwOffsetScaledBy4: false, readEfaultOutsideRegions: false },
        mainline: true,
      },
    };
  }
  const m = /^patches:(.*)$/.exec(n);
  if (m) {
    const ps = parsePatchList(m[1]!);
    checkDeps(ps);
    const list = [...ps].sort((a, b) => a - b);
    return { name: `patches:${formatPatchList(list)}`, kind: 'patches', patches: ps, features: features2014(ps, true) };
  }
  throw new ProfileError(`unknown profile '${name}' (expected baseline, rfc-v4, mainline or patches:<list> such as patches:1-10 or patches:1,3-10)`);
}

export function formatPatchList(list: readonly number[]): string {
  if (list.length === 0) return 'none';
  const parts: string[] = [];
  let i = 0;
  while (i < list.length) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j]! + 1) j++;
    parts.push(i === j ? `${list[i]}` : `${list[i]}-${list[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export const PROFILE_NAMES = ['baseline', 'rfc-v4', 'mainline', 'patches:<list>'] as const;
