/**
 * How arm-smmu finds its masters in the device tree, per kernel (caps.smmuDtBinding), and
 * how it groups them (caps.groupingRule). The driver (arm-smmu-driver.ts) calls
 * smmuDtMasters() from its probe and smmuGroupMasters() once the hardware is up.
 *
 * 3.14 (drivers/iommu/arm-smmu.c, arm_smmu_device_dt_probe): the SMMU node lists its masters,
 *   `mmu-masters = <&master sid...>`, each master saying how many stream ids follow with
 *   `#stream-id-cells`. The list is walked with of_parse_phandle_with_args() until it fails
 *   (drivers/of/base.c __of_parse_phandle_with_args prints "<smmu>: could not get
 *   #stream-id-cells for <master>" and the walk ends there); every entry goes through
 *   register_smmu_master() ("rejecting multiple registrations for master device %s" -EBUSY,
 *   "reached maximum number (%d) of stream IDs for master device %s" -ENOSPC; either makes
 *   the probe fail with "failed to add master %s"); then dev_notice "registered %d master
 *   devices". A master that only has `iommus` is never found: arm_smmu_add_device returns
 *   -ENODEV and the device gets no IOMMU group (the only trace is the master count).
 *
 * mainline (arm_smmu_device_dt_probe, arm_smmu_of_xlate, arm_smmu_register_legacy_master):
 *   an SMMU node with `mmu-masters` selects the legacy binding for the whole system
 *   (pr_notice 'deprecated "mmu-masters" DT property in use; DMA API support unavailable',
 *   once; CONFIG_ARM_SMMU_LEGACY_DT_BINDINGS=y assumed), one without selects the generic one
 *   (`iommus = <&smmu id [mask]>` on the master, the first cell the stream id); an SMMU whose
 *   binding differs from the one already in use is refused: "not probing due to mismatched
 *   DT properties", -ENODEV. In legacy mode a master needs `#stream-id-cells`
 *   (arm_smmu_register_legacy_master: -ENODEV, no group, without it).
 *
 * Model reductions: the master list is built at the SMMU's probe (mainline builds a
 * device's fwspec at its own probe through of_iommu_configure); an `iommus` mask cell is not
 * used (this driver programs SMRs with mask 0).
 */
import type { DeviceTree, DtNode } from '../../emulator/dt/types.js';
import { EBUSY, ENODEV, ENOSPC } from '../base/errno.js';
import type { KDevice } from '../driver/types.js';
import { getProp, isAvailable, parsePhandleList } from '../platform/of.js';
import type { KernelServices } from './services.js';

/** 3.14: MAX_MASTER_STREAMIDS = MAX_PHANDLE_ARGS (include/linux/of.h: 8) */
export const MAX_MASTER_STREAMIDS = 8;

export interface SmmuMaster {
  node: DtNode;
  sids: number[];
}

/** the binding in use system-wide (mainline's using_legacy_binding / using_generic_binding) */
export interface BindingState {
  legacy: boolean;
  generic: boolean;
}

/** every available node of the tree with an `iommus` entry pointing at `smmu` (arm_smmu_of_xlate's first cell) */
function genericMasters(tree: DeviceTree, smmu: DtNode): SmmuMaster[] {
  const out: SmmuMaster[] = [];
  const visit = (n: DtNode): void => {
    for (const c of n.children) {
      if (isAvailable(c) && getProp(c, 'iommus')) {
        const { entries } = parsePhandleList(tree, c, 'iommus', '#iommu-cells');
        const sids: number[] = [];
        for (const e of entries) if (e.node === smmu && e.args.length > 0) sids.push(e.args[0]!);
        if (sids.length > 0) out.push({ node: c, sids });
      }
      visit(c);
    }
  };
  visit(tree.root);
  return out;
}

/**
 * The masters of the SMMU whose node is `smmuNode`, as the profile's arm-smmu reads the
 * tree, or -errno when the probe must fail (the messages are logged here).
 */
export function smmuDtMasters(k: KernelServices, smmuNode: DtNode, prefix: string, state: BindingState): SmmuMaster[] | number {
  const tree = k.tree;
  const legacy = getProp(smmuNode, 'mmu-masters') !== null;
  if (k.profile.caps.smmuDtBinding === 'mmu-masters') {
    // 3.14 arm_smmu_device_dt_probe
    const { entries, error } = parsePhandleList(tree, smmuNode, 'mmu-masters', '#stream-id-cells');
    if (error !== null) k.log.err('', error);
    const out: SmmuMaster[] = [];
    for (const e of entries) {
      let r = 0;
      if (out.some((m) => m.node === e.node)) {
        k.log.err(prefix, `rejecting multiple registrations for master device ${e.node.name}`);
        r = -EBUSY;
      } else if (e.args.length > MAX_MASTER_STREAMIDS) {
        k.log.err(prefix, `reached maximum number (${MAX_MASTER_STREAMIDS}) of stream IDs for master device ${e.node.name}`);
        r = -ENOSPC;
      }
      if (r < 0) {
        k.log.err(prefix, `failed to add master ${e.node.name}`);
        return r;
      }
      out.push({ node: e.node, sids: e.args });
    }
    k.log.log('notice', prefix, `registered ${out.length} master devices`);
    return out;
  }
  // mainline arm_smmu_device_dt_probe: one binding for the whole system
  if (legacy && !state.generic) {
    if (!state.legacy) k.log.log('notice', '', 'deprecated "mmu-masters" DT property in use; DMA API support unavailable');
    state.legacy = true;
  } else if (!legacy && !state.legacy) {
    state.generic = true;
  } else {
    k.log.err(prefix, 'not probing due to mismatched DT properties');
    return -ENODEV;
  }
  if (!legacy) return genericMasters(tree, smmuNode);
  // arm_smmu_register_legacy_master: the masters listed in mmu-masters that carry #stream-id-cells
  const { entries } = parsePhandleList(tree, smmuNode, 'mmu-masters', '#stream-id-cells');
  const out: SmmuMaster[] = [];
  for (const e of entries) {
    const m = out.find((x) => x.node === e.node);
    if (m) for (const s of e.args) { if (!m.sids.includes(s)) m.sids.push(s); }
    else out.push({ node: e.node, sids: [...e.args] });
  }
  return out;
}

/**
 * The groups the driver forms over its master devices (in device registration order, as
 * iommu_bus_init's bus_for_each_dev reaches them): 'per-device' (3.14 arm_smmu_add_device:
 * iommu_group_alloc() per master) or 'by-stream-id' (mainline: masters sharing a stream id
 * share the stream-map entry and so its group).
 */
export function smmuGroupMasters(k: KernelServices, devices: readonly KDevice[]): KDevice[][] {
  if (k.profile.caps.groupingRule === 'per-device') return devices.map((d) => [d]);
  return partitionMasters(devices);
}

/**
 * Union of masters the SMMU cannot tell apart (mainline grouping, caps.groupingRule
 * 'by-stream-id'): two devices whose stream ids overlap (this driver programs SMRs with
 * mask 0, so overlap = an equal id) share a group. (Mainline's arm_smmu_device_group
 * refuses a master whose ids straddle two existing groups with -EINVAL; the model merges.)
 * Groups are ordered by their first member in device registration (= tree) order.
 */
export function partitionMasters(masters: readonly KDevice[]): KDevice[][] {
  const groups: KDevice[][] = [];
  const sidsOf: number[][] = [];
  for (const m of masters) {
    const hits: number[] = [];
    groups.forEach((_, gi) => {
      if (m.streamIds.some((s) => sidsOf[gi]!.includes(s))) hits.push(gi);
    });
    if (hits.length === 0) {
      groups.push([m]);
      sidsOf.push([...m.streamIds]);
      continue;
    }
    const first = hits[0]!;
    groups[first]!.push(m);
    sidsOf[first]!.push(...m.streamIds);
    // merge later groups bridged by this master into the first one
    for (const gi of hits.slice(1).reverse()) {
      groups[first]!.push(...groups[gi]!);
      sidsOf[first]!.push(...sidsOf[gi]!);
      groups.splice(gi, 1);
      sidsOf.splice(gi, 1);
    }
  }
  return groups;
}

