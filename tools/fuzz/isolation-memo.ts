/**
 * What the DMA-isolation checks read (Harness.checkIsolation and checkIsolationIommufd, docs/FUZZING.md
 * invariant 5), remembered after a pass that found nothing, so that a later call after which none
 * of it changed does not run them again: with the same inputs they would find nothing again.
 *
 * Their inputs, and how each is known to be unchanged:
 * - the SMMU's registers (the stream routes, the banks' walk registers, the TLB entries' ASID
 *   match): `Smmu.epoch`, bumped by every register write and reset, hence by every TLB
 *   invalidation (a TLBI or sync is a register write) and by the TLB's reset;
 * - the TLB's entries: besides invalidations and reset (the epoch), they change only by
 *   insertions, each of which bumps its set's `Tlb.setGen` (Tlb.insertInSet, and the copy
 *   runner's deferred insertions, devices/smmu/accel/copy-run-bulk.ts): their sum (`tlbInsertions`)
 *   only grows between two snapshot restores, and a restore also forgets the memo (harness state);
 * - each compared bank's stage-1 leaves: the bank's kept walk (SmmuView.keptWalk) is still the
 *   one the check read and would find the same leaves now (SmmuView.keptStill: its registers and
 *   the RAM watch epochs of its table pages); a bank whose walk could not be kept (a table read
 *   through the bus, the testing switches) is never remembered;
 * - what is expected: the user domains (the reference model's, or the implementation's while the
 *   model is lost) and the iommufd attachments, flattened into numbers by `expectationKey` (every
 *   field the checks read, in the order they read them), and the groups' stream ids
 *   (Harness.groupStreams: the same object while the groups' devices and stream ids are the same).
 *
 * The ownership check, which runs with them, reads kernel state that nothing here counts: it runs
 * after every such call as before.
 */
import type { Tlb } from '../../devices/smmu/tlb.js';
import type { IommufdService } from '../../kernel-model/iommu/iommufd/index.js';
import type { UserDomain } from './model-state.js';

const PAGE = 4096;

/** the last clean pass of the isolation checks and what it read; `valid` false: none to compare with */
export class IsolationMemo {
  valid = false;
  /** Smmu.epoch when the pass ran */
  epoch = 0;
  /** tlbInsertions when the pass ran */
  tlbGen = 0;
  /** the groupStreams answer the pass used (an identity) */
  streams: object | null = null;
  /** expectationKey of the pass, and the scratch the next key is built in */
  key: number[] = [];
  next: number[] = [];
  /** the banks the pass compared and their kept walks (SmmuView.keptWalk; null: not kept) */
  readonly banks: number[] = [];
  readonly walks: (object | null)[] = [];
  /** passes skipped since the snapshot (diagnostics and tests) */
  skips = 0;
}

/** every insertion into the TLB so far: the sum of its per-set insertion counts (Tlb.setGen) */
export function tlbInsertions(tlb: Tlb): number {
  const g = tlb.setGen;
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]!;
  return s;
}

/**
 * Into `out` (emptied first): the user domains as checkIsolation reads them (each container id,
 * its group ids, each mapping's iova, size, prot and the physical pages expectedPages takes), then
 * the iommufd attachments as iommufdAttachments (harness-iommufd.ts) finds them (each group id,
 * HWPT id and page: iova, pa, prot). Counts precede lists, so two keys are equal only when the
 * inputs are.
 */
export function expectationKey(out: number[], domains: readonly UserDomain[], svc: IommufdService | null): void {
  out.length = 0;
  out.push(domains.length);
  for (const dom of domains) {
    out.push(dom.container, dom.groups.length);
    for (const g of dom.groups) out.push(g);
    out.push(dom.maps.length);
    for (const d of dom.maps) {
      const n = Math.min(Math.ceil(d.size / PAGE), d.pa.length);
      out.push(d.iova, d.size, d.prot, n);
      for (let i = 0; i < n; i++) out.push(d.pa[i]!);
    }
  }
  // the iommufd attachments, in iommufdAttachments' order and with its filters
  const at = out.length;
  out.push(0);
  if (!svc) return;
  let atts = 0;
  for (const ictx of svc.contexts) {
    for (const ig of ictx.groups.values()) {
      const hwpt = ig.hwpt;
      if (hwpt === null || ig.devices.length === 0) continue;
      atts++;
      out.push(ig.group.id, hwpt.id);
      const cAt = out.length;
      out.push(0);
      let pages = 0;
      for (const a of hwpt.ioas.iopt.areas) {
        const p = a.pages;
        if (p === null) continue;
        for (let iova = a.iova - (a.iova % PAGE); iova <= a.last; iova += PAGE) {
          const idx = Math.floor(a.startByteOf(Math.max(iova, a.iova)) / PAGE);
          if (p.users[idx] === undefined || p.users[idx] === 0) continue;
          out.push(iova, p.pfns[idx]!, a.prot);
          pages++;
        }
      }
      out[cAt] = pages;
    }
  }
  out[at] = atts;
}

/** a and b hold the same numbers (NaN never occurs in a key) */
export function sameKey(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
