/**
 * The fuzzer's executor: boots a System for a profile, binds the PL330 to vfio-platform
 * the way the profile's administrator does (vfio_bind in 2014 profiles, driver_override +
 * drivers_probe in mainline), creates NPROC user processes, executes Calls through the
 * plain syscall entry (`syscalls.invoke(proc, null, ...)`: never blocks), and checks the
 * invariants after every call. A violated invariant throws FindingError.
 */
import { ATTR_NS } from '../../emulator/attrs.js';
import { GuestTrap } from '../../emulator/cpu/stub.js';
import type { Type1Iommu, VfioDma } from '../../kernel-model/vfio/type1.js';
import { IOMMU_READ, IOMMU_WRITE } from '../../kernel-model/iommu/types.js';
import { Group } from '../../kernel-model/iommu/core.js';
import { SmmuView, type ExpectedPage, type Leaf, type TlbLeaf } from './isolation.js';
import type { UserDomain } from './model.js';
import { iommufdAttachments, iommufdBoundDevices, iommufdPins } from './harness-iommufd.js';
import { HarnessExec } from './harness-exec.js';
import { PageCounts } from './pin-counts.js';
import { PAGE, FindingError, CHECKED_UIDS, type Slot, oopsSignature } from './harness-base.js';

export { DEFAULT_SUPPRESSIONS, DEVICE, DEVICE2, FUZZ_BOARD, FindingError, oopsSignature, type Finding, type FuzzDevice, type HarnessOptions, type StepRecord } from './harness-base.js';

/**
 * checkInvariants' pin count per physical page: host scratch shared by every harness of the
 * process (refilled within each check), outside the harness so that the snapshot neither
 * records nor restores it
 */
const PER_PA = new PageCounts();

export class Harness extends HarnessExec {
  // ---------------------------------------------------------------- bug oracles

  /** GET_REGION_INFO returned 0: the struct must describe a real region of the device */
  protected checkRegionInfo(s: Slot, regions: { addr: number; size: number }[]): void {
    const mem = s.proc.mm;
    const b = new Uint8Array(32);
    if (mem.copyFromUser(b, 0, s.scratch, 32) < 0) return;
    const dv = new DataView(b.buffer);
    const index = dv.getUint32(8, true);
    const size = Number(dv.getBigUint64(16, true));
    const offset = Number(dv.getBigUint64(24, true));
    const flags = dv.getUint32(4, true);
    const reg = regions[index];
    const ok = reg !== undefined && reg.size === size && offset === (this.indexOffsets ? index * 2 ** 40 : reg.addr) && (flags & ~7) === 0;
    if (!ok) {
      const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
      this.fail('region-info-leak', `GET_REGION_INFO(index ${index}) succeeded with a region the device does not have (the device has ${regions.length}): flags 0x${flags.toString(16)} size 0x${size.toString(16)} offset 0x${offset.toString(16)}; bytes ${hex}`);
    }
  }

  /** a successful read of device registers must return what the registers hold at the correct address */
  protected checkReadOracle(s: Slot, pos: number, n: number, regions: { addr: number; size: number }[]): void {
    let pa: number;
    if (this.indexOffsets) {
      const r = regions[Math.floor(pos / 2 ** 40)];
      if (!r) return;
      pa = r.addr + (pos % 2 ** 40);
    } else pa = pos;
    const got = new Uint8Array(n);
    if (s.proc.mm.copyFromUser(got, 0, s.scratch, n) < 0) return;
    const want = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const left = n - off;
      const a = pa + off;
      const w = left >= 4 && a % 4 === 0 ? 4 : left >= 2 && a % 2 === 0 ? 2 : 1;
      const v = this.sys.machine.bus.read(a, w, ATTR_NS);
      for (let k = 0; k < w; k++) want[off + k] = v < 0 ? 0 : (v >>> (8 * k)) & 0xff;
      off += w;
    }
    for (let k = 0; k < n; k++) {
      if (got[k] !== want[k]) {
        const hex = (x: Uint8Array): string => [...x].map((y) => y.toString(16).padStart(2, '0')).join('');
        this.fail('rw-offset-mismatch', `read of ${n} bytes at offset 0x${pos.toString(16)} returned ${hex(got)}, but the register at physical 0x${pa.toString(16)} holds ${hex(want)}`);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- invariants

  /**
   * the live type1 instances, from the containers themselves (containerStates() builds a record
   * of each). One list and its entries, refilled by each call (this runs after every call): the
   * answer is valid until the next call, and its readers (the checks below) keep no part of it.
   */
  private type1Instances(): { id: number; it: Type1Iommu }[] {
    const out = this.insts;
    let n = 0;
    for (const c of this.sys.vfio.containers) {
      if (c.iommuDriver?.name !== 'vfio-iommu-type1' || !c.iommuData) continue;
      const e = out[n];
      if (e === undefined) out.push({ id: c.id, it: c.iommuData as Type1Iommu });
      else {
        e.id = c.id;
        e.it = c.iommuData as Type1Iommu;
      }
      n++;
    }
    if (out.length !== n) out.length = n;
    return out;
  }

  checkInvariants(): void {
    const insts = this.type1Instances();
    // pinned pages and locked_vm equal what the live mappings imply. Per mm: counted per
    // process slot (the only mms compared below); per page: pin-counts.ts's PageCounts, kept
    // across calls and restarted per check without emptying a Map (a new Map per call was half
    // of what the checks allocated, ~16 KB per run; a cleared one gets a new table)
    const slots = this.slots;
    const perSlot = this.perSlot;
    perSlot.fill(0);
    const perPa = PER_PA;
    perPa.begin();
    for (const { it } of insts) {
      for (const d of it.dmas) {
        let n = 0;
        for (let i = 0; i < d.pa.length; i++) {
          if (d.reserved[i]) continue;
          n++;
          perPa.add(d.pa[i]!, 1);
          this.everPinned.add(d.pa[i]!);
        }
        for (let k = 0; k < slots.length; k++) {
          if (slots[k]!.proc.mm !== d.mm) continue;
          perSlot[k]! += n;
          if (d.vaddrInvalid) this.vaddrRevised.add(d);
          else if (!this.pinnedFramesOff && !this.vaddrRevised.has(d)) this.checkPinnedFrames(slots[k]!, d);
        }
      }
    }
    // iommufd's IOAS areas pin too (harness-iommufd.ts): pinned_vm always, locked_vm per account
    // mode; their per-page pins go into perPa (and everPinned) directly
    const ip = iommufdPins(this.sys.iommufd, perPa, this.everPinned);
    for (let k = 0; k < slots.length; k++) {
      const s = slots[k]!;
      const mm = s.proc.mm;
      const want = perSlot[k]!;
      const wantLocked = want + (ip.locked.get(mm) ?? 0);
      const wantPinned = want + (ip.pinned.get(mm) ?? 0);
      if (mm.lockedVm !== wantLocked) this.fail('locked-vm', `${s.proc.name}: locked_vm ${mm.lockedVm} pages, the live mappings account ${wantLocked}`);
      if (mm.pinnedThrough !== wantPinned) this.fail('pinned-pages', `${s.proc.name}: ${mm.pinnedThrough} pages pinned through the mm, the live mappings pin ${wantPinned}`);
      if (mm.pinnedVm !== (ip.pinned.get(mm) ?? 0)) this.fail('pinned-vm', `${s.proc.name}: pinned_vm ${mm.pinnedVm} pages, the live IOAS areas pin ${ip.pinned.get(mm) ?? 0}`);
    }
    if (this.sys.iommufd) {
      const u = this.sys.iommufd.userLockedVm;
      for (const uid of CHECKED_UIDS) if (u.get(uid) !== (ip.user.get(uid) ?? 0)) this.fail('user-locked-vm', `uid ${uid}: user locked_vm ${u.get(uid)} pages, the live IOAS areas account ${ip.user.get(uid) ?? 0}`);
    }
    const pages = this.sys.kernel.mm.pages;
    for (const pa of this.everPinned) {
      const want = perPa.get(pa);
      if (pages.pinCount(pa) !== want) this.fail('pin-count', `page 0x${pa.toString(16)}: pin count ${pages.pinCount(pa)}, the live mappings hold ${want}`);
    }
    if (this.isolationDirty) {
      this.isolationDirty = false;
      this.checkIsolation(insts);
      this.checkOwnership();
      this.checkIsolationIommufd();
    }
    const err = this.model.compare(insts);
    if (err) this.fail('model-divergence', err);
    const ierr = this.imodel.compare(this.model.compatContexts(), this.model);
    if (ierr) this.fail('model-divergence:iommufd', ierr);
  }

  /**
   * The pages a type1 mapping pinned are still the pages of its process at its vaddr
   * (`dma-stale-page`): what the process writes there is what the device reads. vfio_pin_pages
   * took the page each vaddr mapped at MAP_DMA time; the kernel must keep it there while the
   * mapping lives. 3.14 does not after a fork: copy_one_pte shares the pinned page
   * copy-on-write, and the parent's next write (do_wp_page: the child still maps it) gives the
   * parent a copy, so its later writes never reach the device and what the device writes is
   * seen by the child only (the GUP-after-fork problem; mainline copies a pinned page for the
   * child at fork instead, copy_present_page, commit 70e806e4e645; capability
   * forkPinnedPages). Checked for a live slot's mappings, anonymous pages present in its
   * address space; not once a raw syscall ran in the run (pinnedFramesOff) nor for a mapping
   * whose vaddr user space replaced (vaddrRevised).
   */
  private checkPinnedFrames(s: Slot, d: VfioDma): void {
    const mm = d.mm;
    const n = d.pa.length;
    for (let i = 0; i < n; i++) {
      if (d.reserved[i]) continue;
      const va = d.vaddr + i * PAGE;
      const v = mm.find(va);
      if (v === null || v.kind !== 'anon') continue;
      const now = v.pages![Math.floor((va - v.start) / PAGE)]!;
      if (now < 0 || now === d.pa[i]) continue;
      const iova = d.iova + i * PAGE;
      const how = (d.prot & IOMMU_READ) !== 0 ? 'read' : 'write';
      this.fail('dma-stale-page', `${s.proc.name}: iova 0x${iova.toString(16)} is mapped (${how}) from vaddr 0x${va.toString(16)}, whose page was pinned at 0x${d.pa[i]!.toString(16)}, but the process's page there is now 0x${now.toString(16)}: the device no longer sees the process's memory`);
      return;
    }
  }

  /**
   * Stall faults: a context bank in stall mode (the 2014 arm-smmu: CBn_SCTLR.CFCFG, see
   * `smmuContextFaultMode`) holds a faulting transaction until software writes CBn_RESUME;
   * 3.14 arm_smmu_context_fault does so from the context interrupt (RESUME terminate: VFIO
   * registers no fault handler). Once virtual time has passed (a `run` call), no transaction
   * may still be held: its master would wait forever (`stall-stuck`).
   */
  protected checkStalls(ns: number): void {
    const st = this.smmu?.fault.stalled;
    if (!st || st.length === 0 || ns < 100_000) return;
    const t = st[0]!;
    this.fail('stall-stuck', `${st.length} transaction(s) still stalled after ${ns} ns: context bank ${t.cb}, stream ${(t.attrs >>> 16) & 0x7fff}, va 0x${t.va.toString(16)}, stalled since ${t.since} ns`);
  }

  /**
   * the stream ids of every IOMMU group (the device tree's masters), by group id, each list in
   * device then stream-id order without repeats. Groups, their devices and the devices' stream
   * ids change only when a device is added (boot, a probe); the answer is kept and checked
   * against them in place (streamsStill: no allocation) rather than rebuilt after every call.
   */
  private groupStreams(): GroupStreams {
    const groups = this.sys.kernel.iommu.groups();
    if (this.streams !== null && streamsStill(this.streams, groups)) return this.streams;
    return (this.streams = buildGroupStreams(groups));
  }

  /**
   * Ownership: an IOMMU group is owned by at most one of a host driver (a device of the group
   * bound to a driver that does not manage DMA itself: not vfio-platform/vfio-amba) and a user
   * space container (the VFIO group is in one). 3.14 enforces it with the BUG_ON in
   * vfio_iommu_group_notifier and the viability check of vfio_group_get_device_fd; mainline
   * with owner_cnt (iommu_device_use_default_domain refuses a host driver -EBUSY while
   * iommu_group_claim_dma_owner holds the group, and the claim fails -EPERM while a host
   * driver uses it), whose count must agree.
   */
  private checkOwnership(): void {
    const ownerCnt = this.sys.profile.caps.groupOwnershipGuard === 'refuse-bind';
    for (const g of this.sys.kernel.iommu.groups()) {
      let hosts = 0;
      for (const d of g.devices) if (isHostDriver(d.driver)) hosts++;
      const container = (this.sys.vfio.groupRef(g.id)?.container ?? null) !== null;
      // devices of the group bound to an iommufd (VFIO cdev path): iommufd_device_bind claims DMA
      // ownership per device (iommu_device_claim_dma_owner: owner_cnt counts the claims)
      const bound = iommufdBoundDevices(this.sys.iommufd, g.id);
      const user = container || bound > 0;
      if (hosts > 0 && user) {
        // the names only for the message (this check runs after most calls)
        const host = g.devices.filter((d) => isHostDriver(d.driver)).map((d) => `${d.name} (${d.driver!.name})`).join(', ');
        this.fail('ownership', `group ${g.id} is ${container ? 'in a user space container' : 'bound to an iommufd'} and its device ${host} is bound to a host driver`);
      }
      else if (ownerCnt && g instanceof Group) {
        const want = container ? 1 : bound > 0 ? bound : hosts;
        if (g.ownerCnt !== want || (g.owner !== null) !== user) this.fail('ownership', `group ${g.id}: owner_cnt ${g.ownerCnt}, owner ${g.owner === null ? 'none' : 'set'}; ${container ? 'user space holds it' : bound > 0 ? `${bound} device(s) bound to an iommufd` : `${hosts} host driver(s) use it`}`);
      }
    }
  }

  /** the implementation's own view of the user domains (when the reference model is lost) */
  private implDomains(insts: { id: number; it: Type1Iommu }[]): readonly UserDomain[] {
    // refilled module-level objects (IMPL_OUT, IMPL_POOL), each with its own groups array; the
    // maps are the implementation's own records (read only)
    const out = IMPL_OUT;
    out.length = 0;
    for (const { id, it } of insts) {
      if (it.groups.length === 0) continue;
      let d = IMPL_POOL[out.length];
      if (d === undefined) IMPL_POOL.push((d = { container: 0, groups: [], maps: [] }));
      d.container = id;
      d.groups.length = 0;
      for (const g of it.groups) d.groups.push(g.id);
      d.maps = it.dmas;
      out.push(d);
    }
    return out;
  }

  /**
   * DMA isolation: every stream id of a group in a container with an IOMMU reaches exactly
   * its container's mappings (page, physical page, write permission), and no other stream
   * reaches that container's context bank. The SMMU side is read from its registers and its
   * tables in guest RAM (isolation.ts); the expected side is the reference model's mappings
   * (the implementation's own record only while the model is lost). Runs only after calls
   * that can change mappings, attachments or the stream mapping table (`isolationDirty`).
   */
  private checkIsolation(insts: { id: number; it: Type1Iommu }[]): void {
    const view = this.view;
    if (!view) return;
    const domains = this.model.userDomains() ?? this.implDomains(insts);
    const streams = this.groupStreams();
    // the banks' owners and the groups held, young per check (none without a user domain):
    // emptying long-lived ones made V8 allocate their new tables in the old space (round 18)
    const some = domains.length > 0;
    const cbOwner = some ? new Map<number, number>() : NO_OWNERS;
    const attached = some ? new Set<number>() : NO_GROUPS;
    for (const dom of domains) {
      let exp: Map<number, ExpectedPage> | null = null;
      for (const gid of dom.groups) {
        attached.add(gid);
        for (const sid of streams.byId.get(gid) ?? NO_SIDS) {
          const r = view.route(sid);
          // the stream a message names (whoText), in fields: no closure per stream (this loop
          // runs after most calls)
          this.whoSet(sid, gid, dom.container, false);
          if (r.kind === 'bypass') {
            this.fail('dma-unmapped', `${this.whoText()} bypasses translation (${r.why}): the device reaches all of memory`);
            continue;
          }
          exp ??= expectedPages(dom);
          if (r.kind === 'fault') {
            for (const [pg, e] of exp) {
              if (e.read || e.write) {
                this.fail('dma-missing', `${this.whoText()}: iova 0x${(pg * PAGE).toString(16)} is mapped but the stream faults (${r.why})`);
                break;
              }
            }
            continue;
          }
          const other = cbOwner.get(r.cb);
          if (other !== undefined && other !== dom.container) this.fail('dma-cross-group', `${this.whoText()} translates in context bank ${r.cb}, which container ${other}'s groups use`);
          if (other !== undefined) continue; // the same bank, already compared
          cbOwner.set(r.cb, dom.container);
          this.compareBank(view, r.cb, exp);
        }
      }
    }
    // streams of groups no user domain holds must stay out of the user domains' banks
    for (let gi = 0; gi < streams.ids.length; gi++) {
      const gid = streams.ids[gi]!;
      const sids = streams.lists[gi]!;
      if (attached.has(gid)) continue;
      for (const sid of sids) {
        const r = view.route(sid);
        if (r.kind === 'translate' && cbOwner.has(r.cb)) this.fail('dma-cross-group', `stream ${sid} of group ${gid} (in no user container) translates in context bank ${r.cb} of container ${cbOwner.get(r.cb)}`);
      }
    }
  }

  /**
   * The stream the isolation checks' messages name: stream `sid` of group `gid` in container
   * `ctx` (iommufd false) or attached to iommufd HWPT `ctx` (true). Kept in fields, with its
   * text built only for a message (whoText): a closure or a string per stream compared was
   * most of what these checks allocated (docs/PERFORMANCE.md, round 17).
   */
  private whoSid = 0;
  private whoGroup = 0;
  private whoCtx = 0;
  private whoIommufd = false;
  private whoCache: string | null = null;

  private whoSet(sid: number, gid: number, ctx: number, iommufd: boolean): void {
    this.whoSid = sid;
    this.whoGroup = gid;
    this.whoCtx = ctx;
    this.whoIommufd = iommufd;
    this.whoCache = null;
  }

  private whoText(): string {
    return (this.whoCache ??= this.whoIommufd
      ? `stream ${this.whoSid} (group ${this.whoGroup}, iommufd HWPT ${this.whoCtx})`
      : `stream ${this.whoSid} (group ${this.whoGroup}, container ${this.whoCtx})`);
  }

  /** compareBank's state for its callbacks (bound once: no closure per call) */
  private cmpExp: Map<number, ExpectedPage> | null = null;
  private cmpCb = 0;
  private cmpBad = false;

  private compareBank(view: SmmuView, cb: number, exp: Map<number, ExpectedPage>): void {
    if (this.hit.size > 0) this.hit = new Map();
    this.cmpExp = exp;
    this.cmpCb = cb;
    this.cmpBad = false;
    view.leaves(cb, this.cmpLeaf);
    if (this.cmpBad) return void (this.cmpExp = null);
    // the bank's TLB entries: a cached leaf is reachable until invalidated, whatever the tables
    // say now (an unmap whose TLBIASID/TLBIVA was missed or not synced)
    view.tlbEntries(cb, this.cmpTlb);
    if (this.cmpBad) return void (this.cmpExp = null);
    // every mapped page has its entry (the first one missing is reported; insertion order)
    exp.forEach(this.cmpMissing);
    this.cmpExp = null;
  }

  private readonly cmpLeaf = (l: Leaf): void => {
    const exp = this.cmpExp!;
    const cb = this.cmpCb;
    const hit = this.hit;
    for (let va = l.va; va < l.va + l.size && !this.cmpBad; va += PAGE) {
      const e = exp.get(va / PAGE);
      const pa = l.pa + (va - l.va);
      if (!e || (!e.read && !e.write)) {
        this.fail('dma-unmapped', `${this.whoText()} reaches iova 0x${va.toString(16)} -> 0x${pa.toString(16)}${l.write ? ' (read/write)' : ''}, which is not mapped for it${e ? ' with READ or WRITE' : ''} (context bank ${cb})`);
        this.cmpBad = true;
      } else if (e.pa !== pa) {
        this.fail('dma-wrong-page', `${this.whoText()}: iova 0x${va.toString(16)} translates to 0x${pa.toString(16)}, the mapping pinned 0x${e.pa.toString(16)}`);
        this.cmpBad = true;
      } else if (l.write && !e.write) {
        this.fail('dma-unmapped', `${this.whoText()} can write iova 0x${va.toString(16)}, mapped without VFIO_DMA_MAP_FLAG_WRITE`);
        this.cmpBad = true;
      } else if (!e.read) {
        // LPAE stage-1 descriptors have no "write-only" or "no-read" permission: a mapping
        // without READ is still readable by the device, in every profile (io-pgtable-arm
        // maps WRITE-only as read/write). A documented finding, suppressed by default.
        this.fail('dma-readable-without-read-flag', `${this.whoText()} can read iova 0x${va.toString(16)} although the mapping was made without VFIO_DMA_MAP_FLAG_READ`);
      }
      hit.set(va / PAGE, l.write);
    }
  };

  private readonly cmpTlb = (l: TlbLeaf): void => {
    const exp = this.cmpExp!;
    const cb = this.cmpCb;
    for (let va = l.va; va < l.va + l.size && !this.cmpBad; va += PAGE) {
      const e = exp.get(va / PAGE);
      const pa = l.pa + (va - l.va);
      if (!e || (!e.read && !e.write) || e.pa !== pa || (l.write && !e.write)) {
        this.fail('dma-stale-tlb', `${this.whoText()} reaches iova 0x${va.toString(16)} -> 0x${pa.toString(16)}${l.write ? ' (read/write)' : ''} through a TLB entry of context bank ${cb}, where ${!e || (!e.read && !e.write) ? 'nothing is mapped for it' : e.pa !== pa ? `the mapping pinned 0x${e.pa.toString(16)}` : 'the mapping is read-only'}`);
        this.cmpBad = true;
      }
    }
  };

  private readonly cmpMissing = (e: ExpectedPage, pg: number): void => {
    if (this.cmpBad || (!e.read && !e.write)) return;
    const w = this.hit.get(pg);
    if (w === undefined || (e.write && !w)) {
      this.fail('dma-missing', `${this.whoText()}: iova 0x${(pg * PAGE).toString(16)} is mapped (${e.write ? 'write' : 'read'}) but context bank ${this.cmpCb} has ${w === undefined ? 'no valid entry' : 'a read-only entry'} for it`);
      this.cmpBad = true;
    }
  };

  /**
   * DMA isolation through iommufd: every stream of a group attached to a HWPT reaches exactly
   * the pages its IOAS areas pinned (page, physical page, write permission), read from the
   * SMMU registers and tables in guest RAM as for the containers (compareBank).
   */
  private checkIsolationIommufd(): void {
    const view = this.view;
    if (!view || !this.sys.iommufd) return;
    const atts = iommufdAttachments(this.sys.iommufd);
    if (atts.length === 0) return;
    const streams = this.groupStreams();
    for (const att of atts) {
      const exp = att.exp;
      for (const sid of streams.byId.get(att.group) ?? NO_SIDS) {
        const r = view.route(sid);
        this.whoSet(sid, att.group, att.hwpt, true);
        if (r.kind === 'bypass') {
          this.fail('dma-unmapped', `${this.whoText()} bypasses translation (${r.why}): the device reaches all of memory`);
          continue;
        }
        if (r.kind === 'fault') {
          for (const [pg, e] of exp) {
            if (e.read || e.write) {
              this.fail('dma-missing', `${this.whoText()}: iova 0x${(pg * PAGE).toString(16)} is in an IOAS area but the stream faults (${r.why})`);
              break;
            }
          }
          continue;
        }
        this.compareBank(view, r.cb, exp);
      }
    }
  }

  /**
   * Close every process's fds in an order that varies from run to run (rotated and
   * sometimes reversed by the run's length), so that iommufd contexts, cdevs, groups and
   * containers are released in every order across a campaign; then the exits.
   */
  private closeAllVaried(): void {
    for (let p = 0; p < this.slots.length; p++) {
      const s = this.slots[p]!;
      const fds = [...s.proc.openFds].sort((a, b) => a - b);
      if (fds.length < 2) continue;
      const rot = (this.step + p) % fds.length;
      const order = [...fds.slice(rot), ...fds.slice(0, rot)];
      if (((this.step >> 1) + p) & 1) order.reverse();
      for (const fd of order) {
        const kind = this.kindOf(s.proc, fd);
        const file = this.imodel.fileOf(s.proc, fd);
        let r: number;
        try {
          r = this.sys.syscalls.invoke(s.proc, null, 'close', [fd]);
        } catch (e) {
          if (!(e instanceof GuestTrap) || !e.reason.startsWith('killed by kernel Oops')) throw e;
          const msg = e.reason.slice('killed by kernel Oops: '.length);
          this.fail(oopsSignature('close', msg), msg);
          break;
        }
        if (r === 0) this.closedFd(s.proc, fd, kind, file);
        // the model after each close, as after each call (an object freed in the wrong order shows here)
        const ierr = this.imodel.compare(this.model.compatContexts(), this.model);
        if (ierr) this.fail('model-divergence:iommufd', ierr);
      }
    }
  }

  /** End of a run: every process exits; nothing may stay pinned, locked, open or attached. */
  finish(): void {
    if (this.sys.iommufd) this.closeAllVaried();
    for (let p = 0; p < this.slots.length; p++) {
      const s = this.slots[p]!;
      const fds = s.proc.openFds;
      const files = this.filesOf(s.proc);
      try {
        this.sys.syscalls.exitProcess(s.proc);
      } catch (e) {
        // an Oops in the exit-time release of the process's files is a finding too
        if (!(e instanceof GuestTrap) || !e.reason.startsWith('killed by kernel Oops')) throw e;
        const msg = e.reason.slice('killed by kernel Oops: '.length);
        this.fail(oopsSignature('exit', msg), msg);
      }
      this.exitedModels(s.proc, fds, files);
    }
    const pages = this.sys.kernel.mm.pages;
    for (const pa of this.everPinned) if (pages.pinCount(pa) !== 0) this.fail('leak-pinned', `page 0x${pa.toString(16)} still pinned (${pages.pinCount(pa)}) after every fd was closed`);
    for (const s of this.slots) if (s.proc.mm.lockedVm !== 0) this.fail('leak-locked-vm', `${s.proc.name}: locked_vm ${s.proc.mm.lockedVm} after exit`);
    for (const s of this.slots) if (s.proc.mm.pinnedVm !== 0) this.fail('leak-pinned-vm', `${s.proc.name}: pinned_vm ${s.proc.mm.pinnedVm} after exit`);
    const ifd = this.sys.iommufd;
    if (ifd && ifd.userLockedVm.total() !== 0) this.fail('leak-user-locked-vm', `user locked_vm ${ifd.userLockedVm.total()} pages after every fd was closed`);
    if (ifd && ifd.contexts.size !== 0) this.fail('leak-iommufd', `iommufd contexts still alive after every fd was closed: ${JSON.stringify([...ifd.contexts].map((c) => c.ids().map((id) => `${id}:${c.objects.get(id)!.type}`)))}`);
    const cs = this.sys.vfio.containerStates();
    const f = this.pendingFail;
    this.pendingFail = null;
    if (f) throw new FindingError(f);
    if (cs.length !== 0) this.fail('leak-container', `containers still alive after every fd was closed: ${JSON.stringify(cs.map((c) => ({ id: c.id, groups: c.groups })))}`);
    for (const d of this.devices) {
      const g = this.sys.vfio.groupState(d.group);
      if (g && (g.opened || g.containerSet || g.containerUsers !== 0 || g.openDevices.length)) this.fail('leak-group', `group ${d.group} after every fd was closed: ${JSON.stringify(g)}`);
    }
    const f2 = this.pendingFail;
    this.pendingFail = null;
    if (f2) throw new FindingError(f2);
  }

  /** syscalls executed so far (set-up included) */
  get syscalls(): number {
    return this.sys.syscalls.count;
  }

  /** syscalls executed by the run itself (after the set-up) */
  get runSyscalls(): number {
    return this.sys.syscalls.count - this.setupSyscalls;
  }
}

/** the pages a user domain maps, by IOVA page number */
/**
 * whether `m` (groupStreams' answer) still lists exactly the groups' stream ids: the same group
 * ids in order, each with its devices' stream ids in order without repeats. Reads only.
 */
/** the groups as groupStreams sees them */
type StreamGroups = readonly { id: number; devices: readonly { streamIds: readonly number[] }[] }[];

/** groupStreams' answer built from the groups: each group's devices' stream ids in order, without repeats */
export function buildGroupStreams(groups: StreamGroups): GroupStreams {
  const r: GroupStreams = { ids: [], lists: [], byId: new Map() };
  for (const g of groups) {
    const sids: number[] = [];
    for (const d of g.devices) for (const sid of d.streamIds) if (!sids.includes(sid)) sids.push(sid);
    r.ids.push(g.id);
    r.lists.push(sids);
    r.byId.set(g.id, sids);
  }
  return r;
}

export function streamsStill(m: GroupStreams, groups: StreamGroups): boolean {
  if (m.ids.length !== groups.length) return false;
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi]!;
    if (g.id !== m.ids[gi]) return false;
    const sids = m.lists[gi]!;
    let k = 0;
    for (let di = 0; di < g.devices.length; di++) {
      const own = g.devices[di]!.streamIds;
      for (let si = 0; si < own.length; si++) {
        const sid = own[si]!;
        // a repeat of one already listed is skipped, as groupStreams skips it
        const at = sids.indexOf(sid);
        if (at >= 0 && at < k) continue;
        if (sids[k] !== sid) return false;
        k++;
      }
    }
    if (k !== sids.length) return false;
  }
  return true;
}

/** groupStreams' answer: group ids in the IOMMU core's order, each one's stream ids (parallel), and the lists by group id */
const NO_SIDS: readonly number[] = Object.freeze([]);

export interface GroupStreams {
  ids: number[];
  lists: number[][];
  byId: Map<number, number[]>;
}

/** implDomains' answer and its objects (the same rules as EXP_POOL) */
const IMPL_OUT: UserDomain[] = [];
const IMPL_POOL: UserDomain[] = [];
/**
 * expectedPages' page objects, refilled per domain (host scratch at module level: checkIsolation
 * uses a domain's map only until it moves to the next domain, and nothing keeps it or its
 * objects past the check); the map itself is new per domain
 */
const EXP_POOL: ExpectedPage[] = [];
/** checkIsolation's tables when there is no user domain (never written) */
const NO_OWNERS = new Map<number, number>();
const NO_GROUPS = new Set<number>();

export function expectedPages(dom: UserDomain): Map<number, ExpectedPage> {
  // a young map per domain: Map.prototype.clear of a long-lived one allocates its new table
  // in V8's old space, and the table's growth after it too (docs/PERFORMANCE.md round 18)
  const m = new Map<number, ExpectedPage>();
  let used = 0;
  for (const d of dom.maps) {
    const n = Math.ceil(d.size / PAGE);
    const read = (d.prot & IOMMU_READ) !== 0;
    const write = (d.prot & IOMMU_WRITE) !== 0;
    for (let i = 0; i < n && i < d.pa.length; i++) {
      let e = EXP_POOL[used];
      if (e === undefined) EXP_POOL.push((e = { pa: 0, read: false, write: false }));
      used++;
      e.pa = d.pa[i]!;
      e.read = read;
      e.write = write;
      m.set(d.iova / PAGE + i, e);
    }
  }
  return m;
}


/** a driver that does not manage DMA itself (not vfio-platform/vfio-amba): it owns its group's DMA */
function isHostDriver(drv: { name: string; driverManagedDma?: boolean } | null): boolean {
  return drv !== null && drv.driverManagedDma !== true && !drv.name.startsWith('vfio');
}
