/**
 * Kernel profiles: which patches of the RFC v4 series "VFIO support for platform
 * devices" (Antonios Motakis, linux-arm-kernel / kvmarm, February 2014) are applied, and
 * whether the kernel is the 2014 one or mainline.
 *
 * This is the ONE place where the profile selects behaviour: it turns a profile into a
 * record of named capabilities. The fields and what each means are the vocabulary in
 * kernel-model/capabilities.ts (`Capabilities`, `Bugs`); their values per kernel and per patch
 * are decided here. Subsystems read capabilities, never patch numbers or the profile kind
 * (`npm run lint` rejects both outside this file).
 */
import type { Bugs, Capabilities, CapabilityDelta } from './capabilities.js';

export type { Bugs, Capabilities, CapabilityDelta };

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

/** The 2014 tree the series applies to (Linux 3.14-era drivers/base, type1, arm-smmu), no patch applied. */
/**
 * madvise_behavior_valid (mm/madvise.c) for the boards' configurations (capability
 * `madviseAdvice`): 3.14 MADV_NORMAL 0, RANDOM 1, SEQUENTIAL 2, WILLNEED 3, DONTNEED 4,
 * REMOVE 9, DONTFORK 10, DOFORK 11, DONTDUMP 16, DODUMP 17; v6.12 also FREE 8, WIPEONFORK 18,
 * KEEPONFORK 19, COLD 20, PAGEOUT 21, POPULATE_READ 22, POPULATE_WRITE 23, DONTNEED_LOCKED 24.
 * Neither has CONFIG_KSM (MERGEABLE 12, UNMERGEABLE 13), CONFIG_TRANSPARENT_HUGEPAGE
 * (HUGEPAGE 14, NOHUGEPAGE 15, v6.12's COLLAPSE 25: 32-bit ARM has it only with LPAE) or
 * CONFIG_MEMORY_FAILURE (HWPOISON 100, SOFT_OFFLINE 101: not on 32-bit ARM).
 */
export const MADVISE_ADVICE_3_14: readonly number[] = [0, 1, 2, 3, 4, 9, 10, 11, 16, 17];
export const MADVISE_ADVICE_6_12: readonly number[] = [0, 1, 2, 3, 4, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23, 24];

export const KERNEL_3_14: Readonly<Capabilities> = {
  driverProbeDeviceExported: false,
  driverOverride: false,
  probeErrors: 'ignored',
  probeFailureMessage: '3.14',
  bindBoundDevice: 'enodev',
  iommuExecSemantics: 'exec-flag',
  smmuIntrRemap: false,
  type1PlatformBus: false,
  dmaMapBit2: 'none',
  iommuInfoPgsizes: false,
  vfioPlatform: false,
  bindMechanism: 'vfio_bind',
  openRule: 'every-open',
  regionInfo: false,
  regionOffsetEncoding: 'physical-address',
  rwImplementation: 'none',
  mmapRegions: 'none',
  irqInfo: false,
  setIrqsActions: 'none',
  setIrqsValidation: 'rfc-header',
  setIrqsBoolFalse: 'einval',
  maskUnmaskEventfd: false,
  irqHandler: 'signal',
  irqRequest: 'at-set-trigger',
  irqReleaseUnmask: 'none',
  iommuNoAccessPte: 'faulting-unless-exec',
  smmuPgtable: 'arm-smmu-3.14',
  smmuPgtableAlloc: 'domain-init',
  groupingRule: 'per-device',
  groupOwnershipGuard: 'bug-on',
  smmuDtBinding: 'mmu-masters',
  smmuContextFaultMode: 'stall',
  smmuCbProgramming: 'init-context-bank',
  smmuStageChoice: 'nested-s1-else-s2',
  smmuTlbInvalidation: 'asid',
  smmuUnhandledFaultReturn: 'irq-none',
  copyToUserReturn: 'bytes-not-copied',
  containerFileOps: 'passthrough',
  type1v2: false,
  type1MergeMappings: true,
  type1UnmapRule: 'trim-split',
  type1UnmapAll: false,
  type1IovaAperture: false,
  type1InfoCaps: false,
  type1DirtyPages: false,
  type1DmaEntryLimit: 0,
  type1UnmapChunk: 'page',
  type1PinChunk: 'pin-pages',
  type1LockAcct: 'current-mm',
  maxLfsFilesize: 2 ** 43 - 1,
  shmemSeekNegative: 'einval',
  iovecImport: 'rw-copy-check-uvector',
  capLastCap: 36,
  capAmbient: false,
  rlimitCpuZero: 'one-second',
  forkPinnedPages: 'cow-shared',
  madviseAdvice: MADVISE_ADVICE_3_14,
  madviseRemoveAccess: 'vm-write',
  getdentsAccess: 'access-ok-first',
  sigaltstackAutodisarm: false,
  signalsAfterGroupExit: 'queued',
  sigkillEntry: 'queued',
  siginfoFromUser: 'whole',
  groupExitOnLastThread: false,
  dataAbortReport: '3.14',
  syscallTable: [3, 14],
  cloneFlagChecks: '3.14',
  nestedSymlinkLimit: 8,
  procFdAnonOpen: 'anon-inode-fops',
  execOpenCheck: 'open-then-isreg',
  binfmtScript: 'buf128-truncate',
  execDenyWrite: true,
  execMapFailure: 'sigkill',
  stackGuard: 'guard-page',
  gupStackExpand: 'find-extend-vma',
  pselectTimeLeft: 'copy-first',
  nanosleepRestartReset: false,
  execElfLoad: 'inline',
  execAuxv: '3.14',
  execArgLimit: 'arg-pages',
  execEmptyArgv: 'argc-zero',
  procFdinfo: 'pos-flags',
  procThreadSelf: false,
  procPtraceAccess: 'read-realcreds',
  ftruncateLength: 'unsigned-long',
  fallocateModes: 'vfs-mask',
  linkatEmptyPath: 'cap-dac-read-search',
  randomChardev: 'entropy-pools',
  type1FgspProbe: false,
  type1MapCache: false,
  iommuResvRegions: false,
  type1ResvRegions: false,
  type1DmaCc: false,
  groupIoctls: 'vfio-c',
  deviceReset: 'einval',
  cmdlineRules: 'strtobool-first-error',
  type1MsiIsolation: 'pci-intr-remap',
  vfioPlatformResetRequired: false,
  smmuDisableBypassParam: false,
  smmuBypass: 'bypass',
  smmuCfgProbe: '3.14',
  ratelimitReset: 'zero',
  smmuCoherentWalk: 'id-register',
  vfioRequireCacheCoherency: false,
  iommuDefaultDomain: 'none',
  smmuFaultMessages: '3.14',
  kernelRelease: '3.14.0',
  primecellBus: 'platform',
  vfioAmba: false,
  selectClosedFd: 'skip',
  anonInodeLseek: 'never',
  vfioDeviceCdev: false,
  vfioDeviceFeature: false,
  vfioGroupRevoke: false,
  type1Nesting: false,
  irqMaskable: 'all',
  iommufd: 'none',
  irqDomain: 'legacy',
  irqKstat: 'every-take',
  procInterruptsRows: 'action-or-count',
  gicChipLabel: 'GIC',
  irqSharedTrigger: 'request-flags',
  irqMaskStateCheck: false,
  irqTypeAtMapping: 'set-type',
  gicSetType: 'enable-check',
  bugs: { regionInfoNoBoundsCheck: false, rwOffsetScaledBy4: false, readEfaultOutsideRegions: false, loopbackNullTrigger: false, irqHandlerDevIdMismatch: false, maskSleepsUnderSpinlock: false },
};

/** What each patch of the RFC v4 series changes, applied in patch order over KERNEL_3_14. */
export const PATCH_CAPS: Record<PatchNo, CapabilityDelta> = {
  1: { driverProbeDeviceExported: true },
  2: { dmaMapBit2: 'exec' },
  3: { type1PlatformBus: true },
  4: { vfioPlatform: true },
  5: { regionInfo: true, bugs: { regionInfoNoBoundsCheck: true } },
  6: { rwImplementation: 'ioremap-by-address', bugs: { rwOffsetScaledBy4: true, readEfaultOutsideRegions: true } },
  7: { mmapRegions: 'by-address' },
  8: { irqInfo: true },
  9: { setIrqsActions: 'trigger', bugs: { irqHandlerDevIdMismatch: true } },
  10: { setIrqsActions: 'trigger-mask-unmask', irqHandler: 'automask', irqReleaseUnmask: 'enable-after-free', bugs: { loopbackNullTrigger: true, irqHandlerDevIdMismatch: false, maskSleepsUnderSpinlock: true } },
};

/** How the story ended: mainline (Linux v6.12, the release the model follows) drivers/vfio/platform, type1, arm-smmu, the IOMMU core and the driver core. */
export const MAINLINE: Readonly<Capabilities> = {
  driverProbeDeviceExported: false,
  driverOverride: true,
  probeErrors: 'returned',
  probeFailureMessage: 'call-driver-probe',
  bindBoundDevice: 'ebusy',
  iommuExecSemantics: 'noexec-flag',
  smmuIntrRemap: false,
  type1PlatformBus: true,
  dmaMapBit2: 'vaddr',
  iommuInfoPgsizes: true,
  vfioPlatform: true,
  bindMechanism: 'driver_override',
  openRule: 'first-open-last-close',
  regionInfo: true,
  regionOffsetEncoding: 'index-shift-40',
  rwImplementation: 'by-index-checked',
  mmapRegions: 'by-index-checked',
  irqInfo: true,
  setIrqsActions: 'trigger-mask-unmask',
  setIrqsValidation: 'validate-and-prepare',
  setIrqsBoolFalse: 'noop',
  maskUnmaskEventfd: true,
  irqHandler: 'automask',
  irqRequest: 'at-open-disabled',
  irqReleaseUnmask: 'enable-before-free',
  iommuNoAccessPte: 'einval',
  smmuPgtable: 'io-pgtable-arm',
  smmuPgtableAlloc: 'first-attach',
  groupingRule: 'by-stream-id',
  groupOwnershipGuard: 'refuse-bind',
  smmuDtBinding: 'iommus-or-legacy',
  smmuContextFaultMode: 'terminate',
  smmuCbProgramming: 'write-context-bank',
  smmuStageChoice: 's1-first',
  smmuTlbInvalidation: 'va',
  smmuUnhandledFaultReturn: 'irq-handled',
  copyToUserReturn: 'efault',
  containerFileOps: 'ioctl-only',
  type1v2: true,
  type1MergeMappings: false,
  type1UnmapRule: 'whole-mappings',
  type1UnmapAll: true,
  type1IovaAperture: true,
  type1InfoCaps: true,
  type1DirtyPages: true,
  type1DmaEntryLimit: 65535,
  type1UnmapChunk: 'range',
  type1PinChunk: 'pin-pages-remote',
  type1LockAcct: 'dma-mm',
  maxLfsFilesize: (2 ** 32 - 1) * 4096,
  shmemSeekNegative: 'enxio',
  iovecImport: 'import-iovec',
  capLastCap: 40,
  capAmbient: true,
  rlimitCpuZero: 'zero',
  forkPinnedPages: 'copy',
  madviseAdvice: MADVISE_ADVICE_6_12,
  madviseRemoveAccess: 'vm-maywrite',
  getdentsAccess: 'per-record',
  sigaltstackAutodisarm: true,
  signalsAfterGroupExit: 'dropped',
  sigkillEntry: 'none',
  siginfoFromUser: 'checked-tail',
  groupExitOnLastThread: true,
  dataAbortReport: '6.12',
  syscallTable: [6, 12],
  cloneFlagChecks: '6.12',
  nestedSymlinkLimit: 40,
  procFdAnonOpen: 'enxio',
  execOpenCheck: 'may-open',
  binfmtScript: 'buf256-enoexec',
  execDenyWrite: false,
  execMapFailure: 'sigsegv',
  stackGuard: 'guard-gap',
  gupStackExpand: 'vma-lookup',
  pselectTimeLeft: 'mask-first',
  nanosleepRestartReset: true,
  execElfLoad: 'elf-load',
  execAuxv: '6.12',
  execArgLimit: 'stack-limits',
  execEmptyArgv: 'empty-string',
  procFdinfo: 'mnt-id-ino',
  procThreadSelf: true,
  procPtraceAccess: 'read-fscreds',
  ftruncateLength: 'off-t',
  fallocateModes: 'shmem',
  linkatEmptyPath: 'opener-cred-or-cap',
  randomChardev: 'crng',
  type1FgspProbe: true,
  type1MapCache: true,
  iommuResvRegions: true,
  type1ResvRegions: true,
  type1DmaCc: true,
  groupIoctls: 'group-c',
  deviceReset: 'call-reset',
  cmdlineRules: 'kstrtobool-all-errors',
  type1MsiIsolation: 'group-isolated-msi',
  vfioPlatformResetRequired: true,
  smmuDisableBypassParam: true,
  smmuBypass: 'disable-bypass-param',
  smmuCfgProbe: '6.12',
  ratelimitReset: 'jiffies',
  smmuCoherentWalk: 'firmware',
  vfioRequireCacheCoherency: true,
  iommuDefaultDomain: 'per-binding',
  smmuFaultMessages: '6.12',
  kernelRelease: '6.12.0',
  primecellBus: 'amba',
  vfioAmba: true,
  selectClosedFd: 'ready',
  anonInodeLseek: 'with-llseek',
  vfioDeviceCdev: true,
  vfioDeviceFeature: true,
  vfioGroupRevoke: true,
  type1Nesting: true,
  irqMaskable: 'level',
  iommufd: 'dev-iommu',
  irqDomain: 'linear',
  irqKstat: 'handler-runs',
  procInterruptsRows: 'action',
  gicChipLabel: 'GIC-0',
  irqSharedTrigger: 'line-type',
  irqMaskStateCheck: true,
  irqTypeAtMapping: 'record',
  gicSetType: 'masked-configure',
  bugs: { regionInfoNoBoundsCheck: false, rwOffsetScaledBy4: false, readEfaultOutsideRegions: false, loopbackNullTrigger: false, irqHandlerDevIdMismatch: false, maskSleepsUnderSpinlock: false },
};

export function applyDelta(base: Readonly<Capabilities>, d: CapabilityDelta): Capabilities {
  const { bugs, ...rest } = d;
  return { ...base, ...rest, bugs: { ...base.bugs, ...bugs } };
}

/** The 2014 kernel with a (dependency-checked) patch subset: KERNEL_3_14 plus each patch's delta, in patch order. */
export function capsOfPatches(patches: ReadonlySet<PatchNo>): Capabilities {
  let c = applyDelta(KERNEL_3_14, {});
  for (const p of ALL) if (patches.has(p)) c = applyDelta(c, PATCH_CAPS[p]);
  return c;
}

export interface Profile {
  readonly name: string;
  readonly kind: ProfileKind;
  /** the series' patches the profile contains (for reports and the matrix; behaviour reads `caps`) */
  readonly patches: ReadonlySet<PatchNo>;
  readonly caps: Readonly<Capabilities>;
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

const ALL: PatchNo[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/**
 * The named profiles. Adding one (say the series' v5, or a 3.19 tree) is an entry here:
 * its kind, the patches it contains and its capabilities (usually a base record plus
 * deltas), then a column in docs/PROFILES.md.
 */
export const NAMED_PROFILES: Readonly<Record<string, { kind: ProfileKind; patches: readonly PatchNo[]; caps: Readonly<Capabilities> }>> = {
  baseline: { kind: 'baseline', patches: [], caps: capsOfPatches(new Set()) },
  // patches 1-10 as posted, review findings included (they are part of the patches)
  'rfc-v4': { kind: 'rfc-v4', patches: ALL, caps: capsOfPatches(new Set(ALL)) },
  mainline: { kind: 'mainline', patches: ALL, caps: MAINLINE },
  // a kernel-configuration variant of mainline: CONFIG_IOMMUFD_VFIO_CONTAINER=y (and so
  // CONFIG_VFIO_CONTAINER=n). A build option, not a command-line one, hence a profile and not
  // a bootarg.
  'mainline+iommufd-compat': { kind: 'mainline', patches: ALL, caps: { ...MAINLINE, iommufd: 'dev-iommu+vfio-compat' } },
};

/**
 * Profile names: the NAMED_PROFILES (`baseline`, `rfc-v4`, `mainline`, and the mainline
 * kernel-configuration variant `mainline+iommufd-compat`), `patches:<list>`
 * (e.g. patches:1-10, patches:1,3-10) and `patches:none`. Patch subsets reproduce the
 * series as posted, review findings included (they are part of the patches).
 */
export function parseProfile(name: string): Profile {
  const n = name.trim();
  const named = Object.hasOwn(NAMED_PROFILES, n) ? NAMED_PROFILES[n] : undefined;
  if (named) return Object.freeze({ name: n, kind: named.kind, patches: new Set(named.patches), caps: freezeCaps(named.caps) });
  const m = /^patches:(.*)$/.exec(n);
  if (m) {
    const ps = parsePatchList(m[1]!);
    checkDeps(ps);
    const list = [...ps].sort((a, b) => a - b);
    return Object.freeze({ name: `patches:${formatPatchList(list)}`, kind: 'patches', patches: ps, caps: freezeCaps(capsOfPatches(ps)) });
  }
  throw new ProfileError(`unknown profile '${name}' (expected ${Object.keys(NAMED_PROFILES).join(', ')} or patches:<list> such as patches:1-10 or patches:1,3-10)`);
}

/**
 * A profile's capabilities are never written (the behaviour of an era is fixed): frozen with
 * their nested records and lists, so that the fuzzer's snapshot leaves them alone (111 keys a
 * restore would otherwise compare). Freezing a shared NAMED_PROFILES record again is a no-op.
 */
function freezeCaps(c: Readonly<Capabilities>): Readonly<Capabilities> {
  for (const v of Object.values(c)) if (v !== null && typeof v === 'object') Object.freeze(v);
  return Object.freeze(c);
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

export const PROFILE_NAMES = [...Object.keys(NAMED_PROFILES), 'patches:<list>'] as const;
