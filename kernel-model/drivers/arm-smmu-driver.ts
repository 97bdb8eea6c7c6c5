/**
 * The arm-smmu platform driver (drivers/iommu/arm-smmu.c of 3.14; mainline
 * drivers/iommu/arm/arm-smmu/arm-smmu.c): the driver the driver core binds to the SMMU node
 * (`ArmSmmuDriver`: of_match table, mainline's disable_bypass module parameter), its probe and
 * remove, and what probe does to the hardware before the SMMU serves a bus:
 * arm_smmu_device_dt_probe (resources, `#global-interrupts`, the global fault interrupts),
 * arm_smmu_device_cfg_probe (the ID registers sIDR0-2: translation stages, stream matching and
 * SMR width, page size, context banks, IAS/OAS), arm_smmu_device_reset (stream-map entries,
 * context banks and TLBs cleared, sCR0), then bus_set_iommu and the IOMMU groups of its
 * masters (arm-smmu-of.ts finds and groups them). The probed instance, `ArmSmmu` (arm-smmu.ts),
 * is the bus's IOMMU ops; its fault handlers are in arm-smmu-fault.ts.
 */
import { ENODEV } from '../base/errno.js';
import { Device } from '../driver/core.js';
import type { KDevice, KDriver } from '../driver/types.js';
import { IRQF_SHARED } from '../irq/types.js';
import { ofDmaIsCoherent, propU32 } from '../platform/of.js';
import { ArmSmmu } from './arm-smmu.js';
import { smmuDtMasters, smmuGroupMasters, type BindingState } from './arm-smmu-of.js';
import {
  CB_FSR,
  CB_SCTLR,
  FSR_FAULT,
  GR0_S2CR,
  GR0_SMR,
  GR0_STLBIALL,
  GR0_TLBIALLH,
  GR0_TLBIALLNSNH,
  GR0_sCR0,
  GR0_sGFSR,
  GR0_sIDR0,
  GR0_sIDR1,
  GR0_sIDR2,
  GR0_PIDR2,
  ID0_CTTW,
  ID0_NUMSIDB_SHIFT,
  ID0_NTS,
  ID0_PTFS_NO_AARCH32,
  ID0_PTFS_NO_AARCH32S,
  ID0_S1TS,
  ID0_S2TS,
  ID0_SMS,
  S2CR_TYPE_BYPASS,
  sCR0_BSU_MASK,
  sCR0_CLIENTPD,
  sCR0_FB,
  sCR0_GCFGFIE,
  sCR0_GCFGFRE,
  sCR0_GFIE,
  sCR0_GFRE,
  sCR0_PTM,
  sCR0_USFCFG,
  sCR0_VMIDPNE,
} from './arm-smmu-regs.js';
import type { KernelServices } from './services.js';

/** The arm-smmu platform driver. */
export class ArmSmmuDriver implements KDriver {
  readonly name = 'arm-smmu';
  readonly ofMatch = Object.freeze(['arm,smmu-v1', 'arm,mmu-400', 'arm,mmu-401', 'arm,smmu-v2', 'arm,mmu-500'] as const);
  readonly instances: ArmSmmu[] = [];
  /** the DT binding in use system-wide (mainline: using_legacy_binding / using_generic_binding) */
  readonly binding: BindingState = { legacy: false, generic: false };

  /**
   * `param` is the seam to the kernel's module parameters (kernel command line from
   * /chosen/bootargs, `arm-smmu.disable_bypass=0`): it answers a parameter's string value
   * or undefined when not given (kernel.ts wires it to the parsed command line,
   * kernel-model/base/params.ts; the default answers undefined: disable_bypass keeps its default).
   */
  constructor(
    readonly k: KernelServices,
    readonly param: (name: string) => string | undefined = () => undefined,
  ) {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  /**
   * mainline `static bool disable_bypass = IS_ENABLED(CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT)`,
   * module_param(disable_bypass, bool, ...): CONFIG=y assumed (the default on arm64 and in
   * multi_v7 builds with ARM_SMMU); a given value is parsed as param_set_bool (kstrtobool:
   * 1/y/Y/on, 0/n/N/off); an unparsable value leaves the default (the kernel prints an error
   * and ignores it). 3.14 has no such parameter (caps.smmuBypass 'bypass').
   */
  disableBypass(): boolean {
    if (this.k.profile.caps.smmuBypass !== 'disable-bypass-param') return false;
    const v = this.param('arm-smmu.disable_bypass');
    if (v === undefined || v === '') return true;
    const t = v.toLowerCase();
    if (t[0] === '1' || t[0] === 'y' || t === 'on') return true;
    if (t[0] === '0' || t[0] === 'n' || t === 'off') return false;
    return true;
  }

  probe(kdev: KDevice): number {
    if (!(kdev instanceof Device)) return -ENODEV;
    const smmu = new ArmSmmu(this.k, kdev, this.disableBypass());
    const k = this.k;
    // the masters, as this kernel reads the tree (arm-smmu-of.ts: mmu-masters / iommus)
    const found = kdev.ofNode ? smmuDtMasters(k, kdev.ofNode, smmu.prefix, this.binding) : [];
    if (typeof found === 'number') return found;
    const r = armSmmuDeviceProbe(smmu);
    if (r < 0) return r;
    kdev.drvdata = smmu;
    this.instances.push(smmu);
    // the stream ids of each master device (3.14: struct arm_smmu_master; mainline: its iommu_fwspec)
    const masters: KDevice[] = [];
    // masters on every bus the SMMU serves: the platform bus and, where PrimeCells are AMBA
    // devices, the AMBA bus (mainline: of_iommu_configure / the fwspec of any device)
    // devices, in the tree order of_platform_populate created them in (byNode keeps it)
    const devices = k.platformBus.amba ? [...k.platformBus.byNode.values()].filter((d) => d.registered) : k.platformBus.bus.devices;
    for (const dev of devices) {
      const m = found.find((x) => x.node === dev.ofNode);
      if (!m) continue;
      for (const s of m.sids) if (!dev.streamIds.includes(s)) dev.streamIds.push(s);
      masters.push(dev);
    }
    // bus_set_iommu(&platform_bus_type, &arm_smmu_ops): first SMMU serves the bus
    if (!k.iommu.present('platform')) k.iommu.busSetIommu('platform', smmu);
    // and the AMBA bus when there is one (mainline: arm_smmu_bus_init / iommu_device_register ->
    // bus_iommu_probe over iommu_buses[], which lists &amba_bustype with CONFIG_ARM_AMBA)
    if (k.platformBus.amba && !k.iommu.present('amba')) k.iommu.busSetIommu('amba', smmu);
    for (const set of smmuGroupMasters(k, masters)) {
      const g = k.iommu.groupAlloc();
      for (const m of set) k.iommu.groupAddDevice(g, m);
      // mainline iommu_probe_device: stream-map entries and the default domain, IDENTITY with
      // the legacy binding (arm_smmu_def_domain_type), else IOMMU_DOMAIN_DMA (the core's
      // default for a DMA-API-capable platform device). 3.14: nothing until a user attaches.
      // Model limit: a failure (no free stream-map entry or context bank) leaves the group
      // without a default domain, silently; mainline would fail the device's probe_device.
      k.iommu.groupProbe(g, this.binding.legacy ? 'identity' : 'dma');
    }
    return 0;
  }

  remove(kdev: KDevice): void {
    const smmu = kdev.drvdata as ArmSmmu | null;
    if (!smmu) return;
    armSmmuDeviceRemove(smmu);
    const i = this.instances.indexOf(smmu);
    if (i >= 0) this.instances.splice(i, 1);
  }

  /** the SMMU instance serving a domain's faults (tools) */
  get first(): ArmSmmu | null {
    return this.instances[0] ?? null;
  }
}

/** sIDR2.IAS/OAS encodings in bits */
const ias2bits = (e: number): number => [32, 36, 40, 42, 44, 48][e] ?? 48;

/**
 * arm_smmu_device_dt_probe's device part: the register window (first `mem` resource),
 * `#global-interrupts` (missing: -ENODEV) and enough interrupts for them plus one context
 * interrupt; arm_smmu_device_cfg_probe; the global fault interrupts requested (shared); then
 * arm_smmu_device_reset. 0 or -errno (what was requested is freed again).
 */
function armSmmuDeviceProbe(smmu: ArmSmmu): number {
  const k = smmu.k;
  const mem = smmu.dev.resource('mem', 0);
  if (!mem) return -ENODEV;
  smmu.base = mem.start;
  smmu.size = mem.size;
  const node = smmu.dev.ofNode;
  const ng = node ? propU32(k.tree, node, '#global-interrupts') : null;
  if (ng === null) {
    k.log.err(smmu.prefix, 'missing #global-interrupts property');
    return -ENODEV;
  }
  smmu.numGlobalIrqs = ng;
  smmu.irqs = smmu.dev.resources.filter((r) => r.kind === 'irq').map((r) => r.start);
  if (smmu.irqs.length <= ng) {
    k.log.err(smmu.prefix, `found ${smmu.irqs.length} interrupts but expected at least ${ng + 1}`);
    return -ENODEV;
  }
  const r = armSmmuDeviceCfgProbe(smmu);
  if (r < 0) return r;
  for (let i = 0; i < ng; i++) {
    const irq = smmu.irqs[i]!;
    const rr = k.irq.requestIrq(irq, smmu.globalFault, IRQF_SHARED, 'arm-smmu global fault', smmu);
    if (rr < 0) {
      k.log.err(smmu.prefix, `failed to request global IRQ ${i} (${irq})`);
      freeGlobalIrqs(smmu);
      return rr;
    }
    smmu.requestedGlobal.push(irq);
  }
  armSmmuDeviceReset(smmu);
  if (k.profile.caps.smmuCfgProbe === '6.12') armSmmuTestSmrMasks(smmu);
  return 0;
}

function freeGlobalIrqs(smmu: ArmSmmu): void {
  for (const irq of smmu.requestedGlobal) smmu.k.irq.freeIrq(irq, smmu);
  smmu.requestedGlobal = [];
}

/**
 * arm_smmu_device_cfg_probe: read the ID registers and say what they hold (dev_notice), as
 * each kernel does (`smmuCfgProbe`; 3.14 drivers/iommu/arm-smmu.c, v6.12
 * drivers/iommu/arm/arm-smmu/arm-smmu.c). The mainline SMR width probe runs after the reset
 * (armSmmuTestSmrMasks).
 */
function armSmmuDeviceCfgProbe(smmu: ArmSmmu): number {
  const log = smmu.k.log;
  const caps = smmu.k.profile.caps;
  const v612 = caps.smmuCfgProbe === '6.12';
  const note = (msg: string): void => log.log('notice', smmu.prefix, msg);
  note('probing hardware configuration...');
  // 3.14: smmu->version = PIDR2.ARCHITECTURE + 1; v6.12: from the of_match data ("arm,mmu-400"
  // and "arm,smmu-v1" are ARM_SMMU_V1): SMMUv1 either way on these boards
  const version = v612 ? 1 : ((smmu.rd(smmu.gr0 + GR0_PIDR2) >>> 4) & 0xf) + 1;
  note(`SMMUv${version} with:`);
  const id0 = smmu.rd(smmu.gr0 + GR0_sIDR0);
  // 3.14 (!CONFIG_64BIT): ((id >> ID0_PTFS_SHIFT) & ID0_PTFS_MASK) == ID0_PTFS_V8_ONLY, i.e.
  // PTFS bit 25 (no AArch32 long descriptors)
  if (!v612 && (id0 & ID0_PTFS_NO_AARCH32) !== 0) {
    log.err(smmu.prefix, '\tno v7 descriptor support!');
    return -ENODEV;
  }
  if (id0 & ID0_S1TS) note('\tstage 1 translation');
  if (id0 & ID0_S2TS) note('\tstage 2 translation');
  if (id0 & ID0_NTS) note('\tnested translation');
  if (!(id0 & (ID0_S1TS | ID0_S2TS | (v612 ? 0 : ID0_NTS)))) {
    log.err(smmu.prefix, '\tno translation support!');
    return -ENODEV;
  }
  // ARM_SMMU_FEAT_TRANS_S1 / _S2 / _NESTED: arm_smmu_init_domain_context picks the stage from
  // them (capability `smmuStageChoice`, arm-smmu.ts stageFor)
  smmu.transS1 = (id0 & ID0_S1TS) !== 0;
  smmu.transS2 = (id0 & ID0_S2TS) !== 0;
  smmu.transNested = (id0 & ID0_NTS) !== 0;
  // v6.12: ARM_SMMU_FEAT_TRANS_OPS for stage 1 on an SMMUv1 (ATOSNS is a v2 field)
  if (v612 && smmu.transS1) {
    smmu.transOps = true;
    note('\taddress translation ops');
  }
  const cttwReg = (id0 & ID0_CTTW) !== 0;
  if (caps.smmuCoherentWalk === 'id-register') {
    smmu.coherentWalk = cttwReg;
    if (cttwReg) note('\tcoherent table walk');
  } else {
    // v6.12: "we must defer to what the FW says about coherency, regardless of what the
    // hardware claims": ARM_SMMU_FEAT_COHERENT_WALK was set by arm_smmu_device_dt_probe from
    // of_dma_is_coherent(dev->of_node)
    const node = smmu.dev.ofNode;
    const cttwFw = node !== null && ofDmaIsCoherent(node);
    smmu.coherentWalk = cttwFw;
    if (cttwFw || cttwReg) note(`\t${cttwFw ? '' : 'non-'}coherent table walk`);
    if (cttwFw !== cttwReg) note('\t(IDR0.CTTW overridden by FW configuration)');
  }
  // streamid_mask: (1 << NUMSIDB) - 1 (v6.12, narrowed by arm_smmu_test_smr_masks)
  smmu.streamidMask = 2 ** ((id0 >>> ID0_NUMSIDB_SHIFT) & 0xf) - 1;
  if (id0 & ID0_SMS) {
    smmu.streamMatching = true;
    smmu.numMappingGroups = id0 & 0xff;
    if (smmu.numMappingGroups === 0) {
      log.err(smmu.prefix, 'stream-matching supported, but no SMRs present!');
      return -ENODEV;
    }
    if (v612) {
      note(`\tstream matching with ${smmu.numMappingGroups} register groups`);
    } else {
      // 3.14: find out how many mask/id bits SMR0 implements
      smmu.wr(smmu.gr0 + GR0_SMR(0), (0x7fff << 16) | 0x7fff);
      const smr = smmu.rd(smmu.gr0 + GR0_SMR(0));
      const mask = (smr >>> 16) & 0x7fff;
      const sid = smr & 0x7fff;
      if ((mask & sid) !== sid) {
        log.err(smmu.prefix, `SMR mask bits (0x${mask.toString(16)}) insufficient for ID field (0x${sid.toString(16)})`);
        return -ENODEV;
      }
      smmu.smrMaskMask = mask;
      note(`\tstream matching with ${smmu.numMappingGroups} register groups, mask 0x${mask.toString(16)}`);
    }
  } else {
    smmu.numMappingGroups = 1 << ((id0 >>> 9) & 0xf);
  }
  for (let i = 0; i < smmu.numMappingGroups; i++) smmu.smrMap.push(false);

  const id1 = smmu.rd(smmu.gr0 + GR0_sIDR1);
  smmu.pageSize = id1 & (1 << 31) ? 1 << 16 : 1 << 12;
  const npages = 1 << (((id1 >>> 28) & 7) + 1);
  if (npages * smmu.pageSize * 2 !== smmu.size) {
    log.warn(smmu.prefix, `SMMU address space size (0x${(npages * smmu.pageSize * 2).toString(16)}) differs from mapped region size (0x${smmu.size.toString(16)})!`);
  }
  smmu.numS2ContextBanks = (id1 >>> 16) & 0xff;
  smmu.numContextBanks = id1 & 0xff;
  if (smmu.numS2ContextBanks > smmu.numContextBanks) {
    log.err(smmu.prefix, 'impossible number of S2 context banks!');
    return -ENODEV;
  }
  for (let i = 0; i < smmu.numContextBanks; i++) smmu.contextMap.push(false);
  note(`\t${smmu.numContextBanks} context banks (${smmu.numS2ContextBanks} stage-2 only)`);

  const id2 = smmu.rd(smmu.gr0 + GR0_sIDR2);
  smmu.ias = ias2bits(id2 & 0xf);
  smmu.oas = ias2bits((id2 >>> 4) & 0xf);
  if (v612) {
    // ARM_SMMU_FEAT_FMT_AARCH32_L (always on v1) and _S (unless PTFS says no short
    // descriptors): the page sizes each format offers
    let pg = 0x1000 | 0x200000 | 0x40000000;
    if (!(id0 & ID0_PTFS_NO_AARCH32S)) pg |= 0x1000 | 0x10000 | 0x100000 | 0x1000000;
    note(`\tSupported page sizes: 0x${(pg >>> 0).toString(16).padStart(8, '0')}`);
    // SMMUv1: va_size = ipa_size
    note(`\tStage-1: ${smmu.ias}-bit VA -> ${smmu.ias}-bit IPA`);
    if (id0 & ID0_S2TS) note(`\tStage-2: ${smmu.ias}-bit IPA -> ${smmu.oas}-bit PA`);
  } else {
    // input_size 32 on SMMUv1; s1_output_size min(32, IAS) (!CONFIG_64BIT); s2_output_size
    // min(PHYS_MASK_SHIFT (40 with LPAE), OAS)
    note(`\t32-bit VA, ${Math.min(32, smmu.ias)}-bit IPA, ${Math.min(40, smmu.oas)}-bit PA`);
  }
  return 0;
}

/**
 * v6.12 arm_smmu_test_smr_masks, after arm_smmu_device_reset: on the first SMR no
 * firmware-preserved mapping holds (all of them here), write the ID field with streamid_mask
 * and read back the ID bits that stick, then the same for the MASK field
 */
function armSmmuTestSmrMasks(smmu: ArmSmmu): void {
  if (!smmu.streamMatching) return;
  const i = smmu.smrMap.indexOf(false);
  if (i < 0) return;
  smmu.wr(smmu.gr0 + GR0_SMR(i), smmu.streamidMask & 0xffff);
  smmu.streamidMask = smmu.rd(smmu.gr0 + GR0_SMR(i)) & 0xffff;
  smmu.wr(smmu.gr0 + GR0_SMR(i), (smmu.streamidMask & 0xffff) << 16);
  smmu.smrMaskMask = (smmu.rd(smmu.gr0 + GR0_SMR(i)) >>> 16) & 0xffff;
}

/** arm_smmu_device_reset */
function armSmmuDeviceReset(smmu: ArmSmmu): void {
  const gr0 = smmu.gr0;
  const gfsr = smmu.rd(gr0 + GR0_sGFSR);
  smmu.wr(gr0 + GR0_sGFSR, gfsr);
  for (let i = 0; i < smmu.numMappingGroups; i++) {
    if (smmu.smesAtProbe) {
      // mainline arm_smmu_write_sme: S2CR (s2cr_init_val: FAULT with disable_bypass) then an invalid SMR
      smmu.wr(gr0 + GR0_S2CR(i), smmu.s2crInit);
      if (smmu.streamMatching) smmu.wr(gr0 + GR0_SMR(i), 0);
      continue;
    }
    // invalid SMR (the 2014 driver writes ~SMR_VALID; 0 is equally invalid and keeps reserved bits clear)
    if (smmu.streamMatching) smmu.wr(gr0 + GR0_SMR(i), 0);
    smmu.wr(gr0 + GR0_S2CR(i), S2CR_TYPE_BYPASS);
  }
  for (let i = 0; i < smmu.numContextBanks; i++) {
    smmu.wr(smmu.cb(i) + CB_SCTLR, 0);
    smmu.wr(smmu.cb(i) + CB_FSR, FSR_FAULT);
  }
  smmu.wr(gr0 + GR0_STLBIALL, 0);
  smmu.wr(gr0 + GR0_TLBIALLH, 0);
  smmu.wr(gr0 + GR0_TLBIALLNSNH, 0);
  let reg = smmu.rd(gr0 + GR0_sCR0);
  reg |= sCR0_GFRE | sCR0_GFIE | sCR0_GCFGFRE | sCR0_GCFGFIE;
  // enable client access; unmatched streams bypass (3.14: USFCFG clear) or, with mainline's
  // disable_bypass, fault (arm_smmu_device_reset: USFCFG set)
  reg &= ~(sCR0_CLIENTPD | sCR0_USFCFG);
  if (smmu.disableBypass) reg |= sCR0_USFCFG;
  reg |= sCR0_VMIDPNE | sCR0_PTM;
  reg &= ~sCR0_FB;
  reg &= ~sCR0_BSU_MASK;
  smmu.tlbSync();
  smmu.wr(gr0 + GR0_sCR0, reg);
}

/** arm_smmu_device_remove: tear down (client access off, sCR0.CLIENTPD; global interrupts freed) */
function armSmmuDeviceRemove(smmu: ArmSmmu): void {
  if (smmu.contextMap.some((x) => x)) smmu.k.log.err(smmu.prefix, 'removing device with active domains!');
  smmu.wr(smmu.gr0 + GR0_sCR0, sCR0_CLIENTPD);
  freeGlobalIrqs(smmu);
}
