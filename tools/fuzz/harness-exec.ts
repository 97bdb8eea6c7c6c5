/**
 * The fuzzer's executor, second layer: executing a call (exec, the resource-typed refs' making
 * calls, dispatch to the syscall entry and the reference models, coverage, respawn and fork of
 * the slots). The oracles and invariants it runs after each call are Harness's (harness.ts).
 * Split from harness.ts (pure move).
 */
import { ERRNO_NAMES } from '../../kernel-model/base/errno.js';
import { GuestExit, GuestTrap } from '../../emulator/cpu/stub.js';
import type { Process } from '../../kernel-model/process/process.js';
import { TASK_SIZE } from '../../kernel-model/process/mm.js';
import type { File } from '../../kernel-model/vfs/file.js';
import { DMA_PAGES, NPROC } from './arb.js';
import { coverRow } from './cover-rows.js';
import { boundDevFds, ctxFdOf, devIdsOf, hwptIdsOf, ioasIdsOf } from './harness-iommufd.js';
import { MAKE_DEV_CDEVS, makeCall, makeDevCalls, makeHwptCall, makeIoasCall } from './program-iommufd.js';
import { REF_BOUND_DEV, REF_DEV, REF_HWPT, REF_IOAS, REF_MAKE, VFIO_REQS, formatCall, makeRefs, reqName, refFlags, type Call, type FdKind } from './program.js';
import { PAGE, ERESTARTSYS, EACCES_, encoded, ZERO_PAGE, callName, EVENTFD_ONE, type Finding, FindingError, type Slot, ALLOWED, oopsSignature, HarnessBase, isIommufdFile, fileKind } from './harness-base.js';
import { args1, args2, args3, args6 } from './sys-args.js';

export abstract class HarnessExec extends HarnessBase {
  /** the invariants after every call (Harness) */
  abstract checkInvariants(): void;
  protected abstract checkStalls(ns: number): void;
  protected abstract checkRegionInfo(s: Slot, regions: { addr: number; size: number }[]): void;
  protected abstract checkReadOracle(s: Slot, pos: number, n: number, regions: { addr: number; size: number }[]): void;

  // ---------------------------------------------------------------- execution

  protected fail(sig: string, message: string): void {
    const f: Finding = { sig, message, step: this.step };
    this.seen.push(f);
    // thrown at the end of the step, once the call's result is in the transcript
    if (!this.ignore.has(sig) && this.pendingFail === null) this.pendingFail = f;
  }

  protected cover(kind: FdKind | null, what: string, ret: number): void {
    if (kind !== 'container' && kind !== 'group' && kind !== 'device' && kind !== 'iommufd' && kind !== 'fault') return;
    const row = coverRow(kind, what, this.iommufdRows, this.dirtyRow);
    // FIONBIO/FIOCLEX/FIONCLEX are answered by the VFS for every fd, not by VFIO
    if (row === null) return;
    const key = row.key;
    let set = this.coverage.get(key);
    if (!set) this.coverage.set(key, (set = this.coverSet(key)));
    if (this.making) {
      // a call a resource-typed ref made (makeResources): its successes on rows of their own
      if (ret >= 0) this.okCounts.set(row.made, (this.okCounts.get(row.made) ?? 0) + 1);
      return;
    }
    const v = ret >= 0 ? 'ok' : (ERRNO_NAMES[-ret] ?? String(ret));
    if (!set.has(v)) {
      set.add(v);
      this.coverAdds.push(key, v);
    }
    if (ret >= 0) this.okCounts.set(key, (this.okCounts.get(key) ?? 0) + 1);
  }

  /**
   * An empty Set for a coverage row this run adds: the one this harness made for the row
   * before, emptied, when it has one (COVER_SETS). A row added by a run is dropped by the next
   * restore; a new Set per row and run was young, and V8 promoted most of them (held by the
   * coverage map's old tables), to die in the old space (docs/PERFORMANCE.md round 18).
   */
  private coverSet(key: string): Set<string> {
    let sets = COVER_SETS.get(this);
    if (sets === undefined) COVER_SETS.set(this, (sets = new Map()));
    let set = sets.get(key);
    if (set === undefined) sets.set(key, (set = new Set()));
    else if (set.size > 0) set.clear();
    return set;
  }

  /** Execute one call and check every invariant. Throws FindingError. */
  exec(call: Call): void {
    // (every call but `run` names its process)
    const pi = call.op !== 'run' ? call.p % NPROC : -1;
    const s = pi >= 0 ? this.slots[pi]! : null;
    let line = '';
    let ret: number | string = 0;
    try {
      // resource-typed refs (FdRef.mk): the calls that make their fds first, in this step
      // (which of the makers below apply: one walk of the arguments, refFlags)
      const refs = s ? refFlags(call) : 0;
      let made = refs & REF_MAKE ? this.makeResources(pi, call) : '';
      // a resource-typed device fd ({ k: 'device', mk }): a cdev bound first when the process has none
      if (refs & REF_BOUND_DEV) made += this.makeBoundDev(pi);
      // resource-typed HWPT ids ({ hwpt, mk }): a HWPT made first when the fd's context has none
      // (before makeIoas: the IOAS it makes is then among the ids `{ ioas }` resolves to, as in C)
      if (refs & REF_HWPT) made += this.makeHwpt(pi, call);
      // resource-typed IOAS ids ({ ioas, mk }): an IOAS made first when the fd's context has none
      if (refs & REF_IOAS) made += this.makeIoas(pi, call);
      // resource-typed device ids ({ dev, mk }): a device bound first when the context has none
      if (refs & REF_DEV) made += this.makeDev(pi, call);
      line = this.opts.transcript ? made + this.formatted(call, pi) : '';
      ret = this.dispatch(call);
    } catch (e) {
      // a making call (makeResources) that threw: the line is the call's own
      if (this.opts.transcript && line === '') line = formatCall(call);
      if (e instanceof GuestExit && s) {
        // a raw exit()/exit_group(): the process ends normally
        ret = `exit(${e.code})`;
        this.respawn(pi);
      } else if (e instanceof GuestTrap && s) {
        // a kernel Oops kills the calling process (the kernel logged it); a user fault too
        ret = e.reason;
        this.respawn(pi);
        if (e.reason.startsWith('killed by kernel Oops')) {
          const msg = e.reason.slice('killed by kernel Oops: '.length);
          this.fail(oopsSignature(this.site(call), msg), msg);
        }
      } else {
        this.record(line, `host exception ${(e as Error).message}`);
        this.fail(`host-exception:${this.site(call)}`, (e as Error).stack ?? String(e));
        ret = 'exception';
      }
    }
    this.record(line, ret);
    if (mayChangeIsolation(call)) this.isolationDirty = true;
    if (call.op === 'run') this.checkStalls(call.ns);
    this.checkInvariants();
    this.step++;
    const f = this.pendingFail;
    if (f) {
      this.pendingFail = null;
      throw new FindingError(f);
    }
  }

  /**
   * The transcript's text of a call of process slot `pi` (-1: `run`), its fd refs resolved. A
   * method of its own: the resolver closure in exec() made V8 allocate exec's context (`pi`)
   * on every call, transcript or not.
   */
  private formatted(call: Call, pi: number): string {
    return formatCall(call, pi >= 0 ? (r) => this.resolveFd(pi, r) : undefined);
  }

  /**
   * The calls that make the fds of a call's resource-typed refs (FdRef.mk; program.ts makeRefs,
   * program-iommufd.ts makeCall) where process p has no live fd of that kind: /dev/iommu's open,
   * and for a fault fd IOMMU_FAULT_QUEUE_ALLOC on its first /dev/iommu fd (opened first when it
   * has none), each dispatched as a call of its own (the models follow it; cover() counts it on
   * `made:` rows). Returns them as a comment for the transcript line ('' when none ran, or without a
   * transcript).
   */
  protected makeResources(p: number, call: Call): string {
    const refs = makeRefs(call);
    if (refs.length === 0) return '';
    const made: string[] = [];
    const make = (k: 'iommufd' | 'fault'): void => {
      if (this.hasFd(p, k)) return;
      if (k === 'fault') make('iommufd');
      if (k === 'fault' && !this.hasFd(p, 'iommufd')) return;
      const r = this.runMade(makeCall(p, k), made);
      // the open has no coverage row: counted here (the ioctl by cover())
      if (k === 'iommufd' && r >= 0) this.okCounts.set('made:open:/dev/iommu', (this.okCounts.get('made:open:/dev/iommu') ?? 0) + 1);
    };
    for (const r of refs) make(r.k as 'iommufd' | 'fault');
    return madeComment(made);
  }

  /**
   * A call with resource-typed IOAS ids (Value `{ ioas, mk }`, hasIoasRef): where its fd is a live
   * /dev/iommu fd (or a cdev fd bound to the context of one: ctxFdOf, ATTACH's) whose context has no
   * IOAS, IOMMU_IOAS_ALLOC on that /dev/iommu fd first (makeIoasCall,
   * dispatched like a program's call: the models follow it, cover() counts it on a `made:` row);
   * then the ids the refs resolve to (value()): that context's IOAS ids in id order (ioasIdsOf).
   * Returns the made call as a transcript comment ('' when none ran).
   */
  protected makeIoas(p: number, call: Call): string {
    this.ioasIds = [];
    const ctx = this.ctxOf(p, call);
    if (ctx === null || !this.sys.iommufd) return '';
    const made: string[] = [];
    if (ioasIdsOf(this.sys.iommufd, ctx.f).length === 0) this.runMade(makeIoasCall(p, ctx.fd), made);
    this.ioasIds = ioasIdsOf(this.sys.iommufd, ctx.f);
    return madeComment(made);
  }

  /**
   * A call with resource-typed device ids (Value `{ dev, mk }`, hasDevRef): where its fd is a live
   * /dev/iommu fd whose context has no bound device, a device is bound to it first: for each cdev
   * of MAKE_DEV_CDEVS in turn, open, VFIO_DEVICE_BIND_IOMMUFD with that fd, and close when the bind
   * failed (a group open or in a container, the device open elsewhere), until a bind succeeds
   * (makeDevCalls; each dispatched like a program's call: the models follow them, cover() counts
   * the binds on a `made:` row); the bound cdev fd stays open in the process. Then the ids the
   * refs resolve to (value()): the context's device ids in id order (devIdsOf). Returns the made
   * calls as a transcript comment ('' when none ran).
   */
  protected makeDev(p: number, call: Call): string {
    this.devIds = [];
    const ctx = this.ctxOf(p, call);
    if (ctx === null || !this.sys.iommufd) return '';
    const made: string[] = [];
    const run = (c: Call): number => this.runMade(c, made);
    if (devIdsOf(this.sys.iommufd, ctx.f).length === 0) bindFreeCdev(p, ctx.fd, run);
    this.devIds = devIdsOf(this.sys.iommufd, ctx.f);
    return madeComment(made);
  }

  /**
   * A call with resource-typed HWPT ids (Value `{ hwpt, mk }`, hasHwptRef): where its fd names a
   * live /dev/iommu context (ctxOf: its own, a bound cdev's) that has no paging HWPT, one is made
   * first: a device bound when the context has none (bindFreeCdev, as makeDev), a fresh IOAS
   * (makeIoasCall) and IOMMU_HWPT_ALLOC of the context's first device on it (makeHwptCall; an empty
   * IOAS is what arm-smmu's HWPT_ALLOC succeeds on), each dispatched like a program's call (the
   * models follow them; cover() counts them on `made:` rows). Then the ids the refs resolve to
   * (value()): the context's paging HWPT ids in id order (hwptIdsOf: HWPT_ALLOC's and ATTACH's auto
   * domains). Returns the made calls as a transcript comment ('' when none ran).
   */
  protected makeHwpt(p: number, call: Call): string {
    this.hwptIds = [];
    const ctx = this.ctxOf(p, call);
    const svc = this.sys.iommufd;
    if (ctx === null || !svc) return '';
    const made: string[] = [];
    const run = (c: Call): number => this.runMade(c, made);
    if (hwptIdsOf(svc, ctx.f).length === 0) {
      if (devIdsOf(svc, ctx.f).length === 0) bindFreeCdev(p, ctx.fd, run);
      const before = ioasIdsOf(svc, ctx.f);
      if (run(makeIoasCall(p, ctx.fd)) === 0) {
        const ioas = ioasIdsOf(svc, ctx.f).find((id) => !before.includes(id)) ?? 0;
        run(makeHwptCall(p, ctx.fd, devIdsOf(svc, ctx.f)[0] ?? 0, ioas));
      }
    }
    this.hwptIds = hwptIdsOf(svc, ctx.f);
    return madeComment(made);
  }

  /**
   * A call whose fd is a resource-typed device fd (FdRef `{ k: 'device', mk }`, hasBoundDevRef:
   * ATTACH/DETACH_IOMMUFD_PT's): where process p has no cdev fd bound to the context of one of its
   * /dev/iommu fds (boundDevFds), one is made: /dev/iommu opened when it has none (makeCall, as
   * makeResources), then a free device's cdev opened and bound to its first /dev/iommu fd
   * (bindFreeCdev, as makeDev). Each call dispatched like a program's (the models follow them;
   * cover() counts the binds on a `made:` row); the bound cdev fd stays open. Returns the made calls
   * as a transcript comment ('' when none ran).
   */
  protected makeBoundDev(p: number): string {
    const proc = this.slots[p]!.proc;
    if (!this.sys.iommufd || boundDevFds(proc, isIommufdFile).length > 0) return '';
    const made: string[] = [];
    const run = (c: Call): number => this.runMade(c, made);
    if (!this.hasFd(p, 'iommufd') && run(makeCall(p, 'iommufd')) >= 0) this.okCounts.set('made:open:/dev/iommu', (this.okCounts.get('made:open:/dev/iommu') ?? 0) + 1);
    const ifd = this.resolveFd(p, { k: 'iommufd', i: 0 });
    if (ifd < 1000) bindFreeCdev(p, ifd, run);
    return madeComment(made);
  }

  /**
   * The /dev/iommu context a call's resource-typed ids resolve in (makeIoas, makeDev): its fd's, when
   * that is a live /dev/iommu fd, or for a cdev fd bound to a context (ATTACH's) the process's fd of
   * that context (ctxFdOf); null when the call has no fd, or the fd names no such context, or the
   * profile has no /dev/iommu
   */
  private ctxOf(p: number, call: Call): { fd: number; f: File } | null {
    if (!('fd' in call) || !this.sys.iommufd) return null;
    const proc = this.slots[p]!.proc;
    const fd = ctxFdOf(proc, this.resolveFd(p, call.fd), isIommufdFile);
    const f = fd >= 0 ? proc.fdget(fd) : null;
    return f === null ? null : { fd, f };
  }

  /**
   * One call a maker (makeResources, makeIoas, makeDev, makeBoundDev) runs for a resource-typed
   * ref: dispatched like a program's call (the models follow it; cover() counts it on a `made:`
   * row); its text goes to `made` only with a transcript (exec reads the makers' answer only then).
   * Returns the call's result.
   */
  protected runMade(c: Call, made: string[]): number {
    this.making = true;
    try {
      const r = this.dispatch(c);
      if (this.opts.transcript) made.push(`${formatCall(c).replace(/^P\d+: /, '').replace(/;$/, '')} = ${r}`);
      return r;
    } finally {
      this.making = false;
    }
  }

  /** whether process p has a live fd of kind k */
  protected hasFd(p: number, k: FdKind): boolean {
    const proc = this.slots[p]!.proc;
    // the open fds by fdLimit/fdget, without openFds' list (this runs for most calls)
    const lim = proc.fdLimit;
    for (let fd = 0; fd < lim; fd++) {
      const f = proc.fdget(fd);
      if (f !== null && fileKind(f) === k) return true;
    }
    return false;
  }

  protected record(line: string, ret: number | string): void {
    if (!this.opts.transcript) return;
    const last = this.transcript[this.transcript.length - 1];
    if (last && last.line === line && last.ret === '') return;
    this.transcript.push({ line, ret: typeof ret === 'number' ? (ret < 0 ? `-${ERRNO_NAMES[-ret] ?? -ret}` : String(ret)) : ret });
  }

  protected site(c: Call): string {
    // a raw syscall's site names its number (ARM EABI): an Oops in pread64 (180) is not one in
    // an unrelated raw call, and the baseline lists them one by one
    return c.op === 'ioctl' ? `ioctl:${reqName(c.req)}` : c.op === 'raw' ? `raw:${c.nr}` : c.op;
  }

  /** the files a process's exit will release (for the iommufd model) */
  protected filesOf(proc: Process): ReturnType<Process['fdget']>[] {
    return proc.openFds.map((fd) => proc.fdget(fd));
  }

  /** the models after `proc` exited; `fds` and `files`: its open fds and their files before the exit */
  protected exitedModels(proc: Process, fds: readonly number[], files: readonly (File | null)[]): void {
    for (const f of files) this.imodel.closedFile(f);
    this.model.processExited(proc, (fd) => (files[fds.indexOf(fd)]?.refs ?? 0) > 0);
  }

  protected respawn(p: number): void {
    this.endSlot(p);
    this.slots[p] = this.newSlot(p);
  }

  /**
   * the models after a successful close of `fd` (its file `file`, read before the close). A
   * device file the model releases may still be held by a mapping of it (a vma holds a
   * reference, in this process or, after a fork, in another): the device stays open until the
   * munmap or the exit, which the models do not follow; they stop comparing.
   */
  protected closedFd(proc: Process, fd: number, kind: FdKind | null, file: File | null): void {
    const released = this.model.closed(proc, fd, kind);
    if (kind === 'device' && file !== null && file.refs > 0) {
      if (released) this.model.deviceMayOutliveFd();
      this.imodel.lose();
    }
    this.imodel.closedFile(file);
  }

  /** slot p's process exits: every file and mapping it holds goes */
  protected endSlot(p: number): void {
    this.isolationDirty = true;
    const old = this.slots[p]!;
    const fds = old.proc.openFds;
    const files = this.filesOf(old.proc);
    this.sys.syscalls.exitProcess(old.proc);
    this.exitedModels(old.proc, fds, files);
  }

  /**
   * fork() of slot p into slot q (kernel/fork.c copy_process): q's process exits, and a
   * process with q's credentials and a copy of p's address space (AddressSpace.forkInto: its
   * pages copied, device mappings shared; locked_vm and pinned_vm start at 0, as dup_mmap /
   * mm_init leave them) and of p's fd table (copy_files -> dup_fd: the same files, one more
   * reference each) takes the slot, with p's scratch, read-only and DMA areas at the same
   * addresses and p's device mappings. Returns the child's pid, or -ENOMEM (the slot then
   * gets a fresh process). The reference model follows the shared files (RefModel.forked: a
   * file is released with its last fd, in either process); the iommufd model stops comparing.
   */
  protected fork(p: number, q: number): number {
    const parent = this.slots[p]!;
    this.endSlot(q);
    const proc = this.slotProcess(q);
    const r = parent.proc.mm.forkInto(proc.mm, this.sys.profile.caps.forkPinnedPages);
    if (r < 0) {
      this.sys.syscalls.exitProcess(proc);
      this.slots[q] = this.newSlot(q);
      return r;
    }
    parent.proc.copyFdsTo(proc);
    this.slots[q] = { proc, scratch: parent.scratch, ro: parent.ro, dma: parent.dma, maps: parent.maps.slice() };
    this.model.forked(parent.proc, proc);
    // the iommufd model's files are not followed across processes: it stops comparing
    this.imodel.lose();
    return proc.pid;
  }

  /**
   * `what` names the call in a finding; for an ioctl, `fdKind` and `req` do (`ioctl(kind, REQ)`),
   * so that the name is built only when there is something to report (this runs after every call)
   */
  protected checkRet(kind: string, ret: number, what: string, fdKind?: string, req?: string): void {
    if (!Number.isInteger(ret)) {
      const w = callName(what, fdKind, req);
      this.fail(`bad-return:${w}`, `${w} returned ${ret}`);
    } else if (ret < 0 && !ALLOWED[kind]!.has(-ret) && !(ret === -ERESTARTSYS && kind === 'rw') && !(ret === -EACCES_ && req === 'VFIO_IOMMU_DIRTY_PAGES')) {
      const w = callName(what, fdKind, req);
      this.fail(`bad-errno:${w}:${-ret}`, `${w} returned ${ret} (${ERRNO_NAMES[-ret] ?? 'not an errno'}), not a valid error for this call`);
    }
  }

  protected dispatch(c: Call): number {
    const sc = this.sys.syscalls;
    if (c.op === 'run') {
      this.sys.machine.scheduler.runUntil(this.sys.now + c.ns);
      return 0;
    }
    const p = c.p % NPROC;
    const s = this.slots[p]!;
    const proc = s.proc;
    switch (c.op) {
      case 'open': {
        const b = encoded(c.path, '\0');
        if (!this.scratchIntact(s)) {
          // the path the kernel reads is not the one written: what opened is unknown
          this.model.scratchLost();
          this.imodel.lose();
        }
        proc.mm.copyToUser(s.scratch, b, 0, b.length);
        const before = this.model.snapshotOpen(proc, c.path);
        const r = sc.invoke(proc, null, 'open', args2(s.scratch, c.flags));
        this.checkRet('open', r, 'open');
        this.model.opened(proc, c.path, r, before);
        this.imodel.opened(proc, c.path, r);
        return r;
      }
      case 'close': {
        const fd = this.resolveFd(p, c.fd);
        const kind = this.kindOf(proc, fd);
        const file = this.imodel.fileOf(proc, fd);
        const r = sc.invoke(proc, null, 'close', args1(fd));
        this.checkRet('close', r, 'close');
        if (r === 0) this.closedFd(proc, fd, kind, file);
        return r;
      }
      case 'ioctl': {
        const fd = this.resolveFd(p, c.fd);
        const kind = this.kindOf(proc, fd);
        const intact = this.scratchIntact(s);
        if (!intact) {
          this.model.scratchLost();
          this.imodel.lose();
        }
        const arg = this.marshal(p, c.arg);
        const val = this.valueOf[p]!;
        const pre = this.model.preIoctl(proc, fd, kind, c.req, c.arg, val, arg);
        const file = this.imodel.fileOf(proc, fd);
        const ipre = this.imodel.pre(proc, file, c.req, c.arg, val, arg);
        const r = sc.invoke(proc, null, 'ioctl', args3(fd, c.req, arg));
        const name = reqName(c.req);
        this.cover(kind, name, r);
        this.checkRet('ioctl', r, 'ioctl', kind ?? 'bad fd', name);
        const err = this.model.postIoctl(proc, fd, kind, c.req, r, pre, s.scratch, c.arg);
        if (err) this.fail(`model:${kind}:${name}`, err);
        this.imodel.post(proc, file, c.req, r, ipre, s.scratch, c.arg);
        // mainline SET_CONTAINER accepts an iommufd (vfio_group_ioctl_set_container ->
        // iommufd_vfio_compat_ioas_create): a /dev/iommu context gains an IOAS the iommufd model
        // does not follow. A VFIO container or the compat container (/dev/vfio/vfio; the
        // container part of the model follows it) leaves the /dev/iommu contexts alone.
        if (r === 0 && kind === 'group' && c.req === VFIO_REQS.VFIO_GROUP_SET_CONTAINER && !this.setsContainerKind(p, c.arg)) this.imodel.lose();
        if (r === 0 && intact && kind === 'device' && c.req === VFIO_REQS.VFIO_DEVICE_GET_REGION_INFO && c.arg.t === 'struct' && c.arg.ptr === 'ok') this.checkRegionInfo(s, this.regionsOf(proc, fd));
        return r;
      }
      case 'pread':
      case 'pwrite': {
        const fd = this.resolveFd(p, c.fd);
        const kind = this.kindOf(proc, fd);
        const regions = this.regionsOf(proc, fd);
        this.offsetWords(c.off, regions);
        const lo = this.offLo;
        const hi = this.offHi;
        const buf = this.ptr(p, c.ptr, c.count);
        if (c.op === 'pwrite') proc.mm.copyToUser(s.scratch, ZERO_PAGE, 0, Math.min(c.count, PAGE));
        const r = sc.invoke(proc, null, c.op === 'pread' ? 'pread64' : 'pwrite64', args6(fd, buf, c.count, 0, lo, hi));
        this.cover(kind, c.op === 'pread' ? 'read' : 'write', r);
        this.checkRet('rw', r, c.op);
        if (r > c.count) this.fail(`bad-return:${c.op}`, `${c.op} of ${c.count} bytes returned ${r}`);
        // a loff_t with its sign bit set (the high word's top bit)
        if (kind === 'fault') this.imodel.faultRw(proc, proc.fdget(fd), c.op, buf, c.count, r, hi >= 0x80000000);
        if (r > 0 && kind === 'device' && c.op === 'pread' && c.ptr === 'ok' && this.scratchIntact(s)) this.checkReadOracle(s, hi * 2 ** 32 + lo, r, regions);
        return r;
      }
      case 'read':
      case 'write': {
        const fd = this.resolveFd(p, c.fd);
        const kind = this.kindOf(proc, fd);
        // eventfds are read/written 8 bytes at a time; the scratch holds a small count
        if (c.op === 'write') proc.mm.copyToUser(s.scratch, EVENTFD_ONE, 0, 8);
        const buf = this.ptr(p, c.ptr, c.count);
        const r = sc.invoke(proc, null, c.op, args3(fd, buf, c.count));
        this.cover(kind, c.op, r);
        this.checkRet('rw', r, c.op);
        if (kind === 'fault') this.imodel.faultRw(proc, proc.fdget(fd), c.op, buf, c.count, r);
        return r;
      }
      case 'mmap': {
        const fd = this.resolveFd(p, c.fd);
        const kind = this.kindOf(proc, fd);
        const off = this.offset(c.off, this.regionsOf(proc, fd));
        // mmap2 cannot express it: the C library returns EINVAL (glibc mmap64 MMAP_OFF_MASK, musl
        // mmap OFF_MASK: an offset that is not page aligned, or whose page number needs more than 32 bits)
        if (off % PAGE !== 0 || off / PAGE >= 2 ** 32) {
          this.cover(kind, 'mmap', -22);
          return -22;
        }
        const r = sc.invoke(proc, null, 'mmap2', args6(0, c.len, c.prot, c.flags, fd, off / PAGE));
        this.cover(kind, 'mmap', r);
        if (r < 0) this.checkRet('mmap', r, 'mmap');
        else {
          if (r % PAGE !== 0 || r >= TASK_SIZE) this.fail('bad-return:mmap', `mmap returned 0x${r.toString(16)}`);
          s.maps.push(r);
        }
        return r;
      }
      case 'munmap': {
        if (s.maps.length === 0) return 0;
        const i = c.map % s.maps.length;
        const r = sc.invoke(proc, null, 'munmap', args2(s.maps[i]!, c.len));
        this.checkRet('munmap', r, 'munmap');
        if (r === 0) s.maps.splice(i, 1);
        return r;
      }
      case 'mmio': {
        if (s.maps.length === 0) return 0;
        const va = s.maps[c.map % s.maps.length]! + c.off;
        // user loads/stores through the mapping (a fault raises SIGSEGV/SIGBUS: the process dies)
        const mem = proc.mm;
        if (c.write) mem.storeU(va, c.width, c.value >>> 0);
        else return mem.loadU(va, c.width);
        return 0;
      }
      case 'store':
        // a user store into the DMA area (a fault kills the process: GuestTrap); to a page a
        // 3.14 fork shares copy-on-write it breaks the sharing (VmaSpace.resolve -> breakCow)
        proc.mm.storeU(s.dma + (c.page % DMA_PAGES) * PAGE + (c.off & 0xffc), 4, c.value >>> 0);
        return 0;
      case 'eventfd': {
        const r = sc.invoke(proc, null, 'eventfd2', args2(c.init, c.flags));
        this.checkRet('eventfd', r, 'eventfd');
        return r;
      }
      case 'efd_write': {
        const fd = this.resolveFd(p, c.fd);
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, BigInt(c.value), true);
        proc.mm.copyToUser(s.scratch, b, 0, 8);
        const r = sc.invoke(proc, null, 'write', args3(fd, s.scratch, 8));
        this.checkRet('rw', r, 'write(eventfd)');
        // an fd reference of another kind can name a fault fd: 8 bytes are one page response
        if (this.kindOf(proc, fd) === 'fault') this.imodel.faultRw(proc, proc.fdget(fd), 'write', s.scratch, 8, r);
        return r;
      }
      case 'poll': {
        const b = new Uint8Array(8 * c.fds.length);
        const dv = new DataView(b.buffer);
        const fds = c.fds.map((f) => this.resolveFd(p, f));
        fds.forEach((fd, i) => {
          dv.setInt32(8 * i, fd, true);
          dv.setInt16(8 * i + 4, c.events & 0x7fff, true);
        });
        const intact = this.scratchIntact(s);
        proc.mm.copyToUser(s.scratch, b, 0, b.length);
        const r = sc.invoke(proc, null, 'poll', args3(s.scratch, c.fds.length, 0));
        this.checkRet('poll', r, 'poll');
        // the pollfds go to and the revents come back in the scratch: judged while it is the harness's own memory
        if (r >= 0 && intact) this.imodel.polled(proc, fds, c.events & 0x7fff, s.scratch);
        return r;
      }
      case 'echo': {
        const r = this.echo(proc, s.scratch, c.path, c.value);
        // a failed write changed nothing; a bind, unbind or probe may have changed the groups
        if (r === 0) this.model.sysfsChanged();
        this.imodel.lose();
        return r;
      }
      case 'exit':
        this.respawn(p);
        return 0;
      case 'fork': {
        const q = c.into % NPROC;
        return q === p ? 0 : this.fork(p, q);
      }
      case 'raw': {
        this.pinnedFramesOff = true;
        const r = sc.invoke(proc, null, c.nr, c.args);
        if (!Number.isInteger(r)) this.fail('bad-return:raw', `syscall ${c.nr} returned ${r}`);
        // a raw close/ioctl may change VFIO state behind the model's back: resynchronise it
        this.model.resync(proc);
        this.imodel.lose();
        return r;
      }
    }
  }

}

/**
 * The made bind of a resource-typed device (Harness.makeDev, makeBoundDev): for each cdev of
 * MAKE_DEV_CDEVS in turn, open, VFIO_DEVICE_BIND_IOMMUFD with /dev/iommu fd `ifd`, and close when
 * the bind failed (the group open, the device open elsewhere), until a bind succeeds; `run`
 * dispatches a call and returns its result
 */
function bindFreeCdev(p: number, ifd: number, run: (c: Call) => number): void {
  for (const path of MAKE_DEV_CDEVS) {
    const dfd = run(makeDevCalls.open(p, path));
    if (dfd < 0) continue;
    if (run(makeDevCalls.bind(p, dfd, ifd)) === 0) return;
    run(makeDevCalls.close(p, dfd));
  }
}

/**
 * Per harness, the Set it last used for each coverage row (cover(), coverSet): host-side, out
 * of the harness's graph (the snapshot neither records nor restores it; a Set in use is in
 * `coverage`, where the snapshot sees it). A Set is handed out empty, to its own harness only.
 */
const COVER_SETS = new WeakMap<object, Map<string, Set<string>>>();

/** requests that change neither mappings, attachments nor stream-map entries */
const ISOLATION_NEUTRAL = new Set<number>([
  VFIO_REQS.VFIO_GET_API_VERSION,
  VFIO_REQS.VFIO_CHECK_EXTENSION,
  VFIO_REQS.VFIO_GROUP_GET_STATUS,
  VFIO_REQS.VFIO_IOMMU_GET_INFO,
  VFIO_REQS.VFIO_DEVICE_GET_INFO,
  VFIO_REQS.VFIO_DEVICE_GET_REGION_INFO,
  VFIO_REQS.VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_REQS.VFIO_DEVICE_SET_IRQS,
  VFIO_REQS.VFIO_DEVICE_RESET,
]);

/**
 * Can this call change what a stream id reaches? Closes, exits and forks (a fork ends the child slot's old process; a last reference
 * detaches a group and frees its mappings), container and group ioctls, sysfs writes
 * (rebinding), raw syscalls, and device writes (pwrite, write, stores through a mapping: a
 * broken read/write or mmap path may reach any address). Other calls leave the SMMU and the tables alone: the isolation
 * check skips them (a process killed by a fault sets the flag itself, in respawn).
 */
function mayChangeIsolation(c: Call): boolean {
  switch (c.op) {
    case 'close':
    case 'echo':
    case 'exit':
    case 'fork':
    case 'raw':
    case 'pwrite':
    case 'write':
      return true;
    case 'mmio':
      return c.write;
    case 'ioctl':
      return !ISOLATION_NEUTRAL.has(c.req >>> 0);
    default:
      return false;
  }
}

/** the makers' transcript comment: the made calls, '' when none ran (or no transcript) */
function madeComment(made: readonly string[]): string {
  return made.length > 0 ? `/* made: ${made.join('; ')} */ ` : '';
}
