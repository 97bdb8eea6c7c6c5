/**
 * vfio-platform interrupts (vfio_platform_irq.c): the irq array built at open, the
 * SET_IRQS actions (TRIGGER, MASK, UNMASK), the handler user space is signalled from,
 * mask/unmask and their eventfds (virqfd).
 *
 * Which rules apply is read from the profile's capabilities: `setIrqsActions`,
 * `setIrqsValidation`, `setIrqsBoolFalse`, `maskUnmaskEventfd`, `irqHandler`,
 * `irqRequest`, `irqReleaseUnmask`, `openRule` and `bugs.loopbackNullTrigger`
 * (kernel-model/profile.ts, docs/PROFILES.md).
 */
import { EBUSY, EFAULT, EINVAL, ENOMEM, ENOTTY } from '../../base/errno.js';
import { KernelOops } from '../../base/oops.js';
import { IRQ_TYPE_LEVEL_HIGH, IRQ_TYPE_LEVEL_LOW, resourcesOfKind } from '../../driver/types.js';
import { eventfdCtxFdget, eventfdSignalAt, type EventfdCtx, type KernelMemory } from '../../eventfd/eventfd.js';
import { IRQ_HANDLED, IRQ_NONE, IRQF_NO_AUTOEN, type IrqReturn } from '../../irq/types.js';
import {
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_IRQ_SET_DATA_TYPE_MASK,
} from '../../uapi/constants.js';
import type { Task } from '../../vfs/file.js';
import { IRQ_COUNT, IRQ_FLAGS, IRQ_HWIRQ, IRQ_MASKED, IRQ_NAME, IRQ_STRUCT_SIZE, IRQ_STRUCT_SIZE_09, IRQ_TRIGGER, VDEV_IRQ, VDEV_NUM_IRQS, ZERO_SIZE_PTR, safeKfree, type PlatIrq, type VfioPlatformDeps, type VfioPlatformDevice, type VirqFd } from './private.js';

const enc = new TextEncoder();

/** the callers of a loopback's handler call (patch 09/10 vfio_platform_set_irq_trigger, from the ioctl) */
const LOOPBACK_CALLERS = ['vfio_platform_set_irq_trigger', 'vfio_platform_set_irqs_ioctl', 'vfio_platform_ioctl', 'vfio_device_fops_unl_ioctl', 'do_vfs_ioctl', 'SyS_ioctl'];

export class VfioPlatformIrqs {
  /** interrupts delivered to user space through trigger eventfds, per device name (statistics) */
  readonly signalled = new Map<string, number>();
  private readonly scratch = new Uint8Array(8);
  private readonly sv = new DataView(this.scratch.buffer);

  constructor(private readonly d: VfioPlatformDeps) {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  private get caps(): VfioPlatformDeps['profile']['caps'] {
    return this.d.profile.caps;
  }

  /** sizeof(struct vfio_platform_irq): patch 10 (the automasking handler) adds `masked` */
  private get irqSize(): number {
    return this.caps.irqHandler === 'automask' ? IRQ_STRUCT_SIZE : IRQ_STRUCT_SIZE_09;
  }

  /** the kernel address of vdev->irq[index] */
  irqKvaOf(vdev: VfioPlatformDevice, irq: PlatIrq): number {
    return (vdev.irqKva + irq.index * this.irqSize) >>> 0;
  }

  /** the kernel's loads and stores for code that runs on raw heap bytes (eventfd_signal on a wrong object) */
  private get kernelMemory(): KernelMemory {
    const k = this.d.kmem;
    return { read32: (a) => k.read32(a), write32: (a, v) => k.write32(a, v), isMapped: (a) => k.lin.kvaToPa(a) >= 0 };
  }

  private isLevel(hwirq: number): boolean {
    return (this.d.irq.irqGetTriggerType(hwirq) & (IRQ_TYPE_LEVEL_HIGH | IRQ_TYPE_LEVEL_LOW)) !== 0;
  }

  /** vfio_platform_irq_init: one entry per platform IRQ resource, kmalloc'd in the kernel heap */
  init(vdev: VfioPlatformDevice): number {
    const caps = this.caps;
    const virqs = resourcesOfKind(vdev.pdev.resources, 'irq').map((r) => r.start);
    const kva = virqs.length ? this.d.kmem.kmalloc(this.irqSize * virqs.length) : ZERO_SIZE_PTR;
    if (kva === 0) return -ENOMEM;
    vdev.irqKva = kva;
    vdev.irqs = virqs.map((hwirq, index) => {
      let flags = 0;
      if (caps.setIrqsActions !== 'none') flags |= VFIO_IRQ_INFO_EVENTFD;
      // RFC patch 10: every line MASKABLE; mainline vfio_platform_irq_init: MASKABLE (with
      // AUTOMASKED) only for a level-triggered line (`irqMaskable`)
      if (caps.setIrqsActions === 'trigger-mask-unmask' && (caps.irqMaskable === 'all' || this.isLevel(hwirq))) flags |= VFIO_IRQ_INFO_MASKABLE;
      if (caps.irqHandler === 'automask' && this.isLevel(hwirq)) flags |= VFIO_IRQ_INFO_AUTOMASKED;
      const irq: PlatIrq = { index, hwirq, flags, count: 1, trigger: null, name: null, nameKva: 0, masked: false, requested: false, requestError: 0, unmaskFd: null, maskFd: null, signalled: 0 };
      return irq;
    });
    for (const irq of vdev.irqs) this.mirror(vdev, irq);
    this.d.kmem.write32(vdev.kva + VDEV_IRQ, kva);
    this.d.kmem.write32(vdev.kva + VDEV_NUM_IRQS, virqs.length);
    if (caps.irqRequest === 'at-open-disabled') {
      // mainline: handlers are requested at open with the line left disabled; setting a
      // trigger enables it
      for (const irq of vdev.irqs) {
        // mainline vfio_platform_irq_init: "vfio-irq[%d](%s)" of hwirq and vdev->name
        irq.name = `vfio-irq[${irq.hwirq}](${vdev.name})`;
        const r = this.d.irq.requestIrq(irq.hwirq, (_n, id) => this.handler(vdev, id as PlatIrq), IRQF_NO_AUTOEN, irq.name, irq);
        if (r < 0) {
          // "vfio/platform: Create persistent IRQ handlers" (2024): the error is kept in the
          // name pointer (ERR_PTR) and the open goes on; SET_IRQS on the line returns it
          // (vfio_platform_set_irqs_ioctl), polling user space still works
          irq.name = null;
          irq.requestError = r;
          continue;
        }
        irq.requested = true;
      }
    }
    return 0;
  }

  /** keep the kernel-heap copy of struct vfio_platform_irq in step with the model's state */
  private mirror(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    const k = this.d.kmem;
    const base = this.irqKvaOf(vdev, irq);
    k.write32(base + IRQ_TRIGGER, irq.trigger ? 0xc0de0000 + (irq.index << 4) : 0); // an opaque kernel pointer value
    k.write32(base + IRQ_FLAGS, irq.flags);
    k.write32(base + IRQ_COUNT, irq.count);
    k.write32(base + IRQ_HWIRQ, irq.hwirq);
    k.write32(base + IRQ_NAME, irq.nameKva);
    if (this.irqSize > IRQ_MASKED) k.write8(base + IRQ_MASKED, irq.masked ? 1 : 0);
  }

  /** vfio_platform_irq_cleanup */
  cleanup(vdev: VfioPlatformDevice): void {
    const rule = this.caps.irqReleaseUnmask;
    for (const irq of vdev.irqs) {
      if (rule === 'enable-before-free' && irq.masked) {
        this.d.irq.enableIrq(irq.hwirq);
        irq.masked = false;
      }
      this.setTrigger(vdev, irq, null);
      if (rule === 'enable-after-free' && irq.masked) {
        // patch 10, in the posted order: vfio_set_trigger(-1) (free_irq: irq_shutdown,
        // depth 1, masked at the GIC) and THEN enable_irq for a line left masked, so the
        // GIC enable bit ends up set on a line without a handler. Should the device
        // still assert it, the next take finds no action and masks it again
        // (handle_fasteoi_irq), so nothing storms.
        this.d.irq.enableIrq(irq.hwirq);
        irq.masked = false;
      }
      // virqfds exist only with maskUnmaskEventfd, handlers requested at open only with
      // irqRequest 'at-open-disabled': both no-ops otherwise
      this.dropVirqfd(irq, 'unmask');
      this.dropVirqfd(irq, 'mask');
      if (irq.requested) this.d.irq.freeIrq(irq.hwirq, irq);
      irq.requested = false;
    }
    if (this.caps.openRule === 'every-open') {
      // 2014: kfree(vdev->irq) only; the pointer, num_irqs and the state stay (dangling)
      if (vdev.irqKva && vdev.irqKva !== ZERO_SIZE_PTR) safeKfree(this.d, vdev.irqKva, `the irq array of ${vdev.pdev.name}`);
      return;
    }
    if (vdev.irqKva && vdev.irqKva !== ZERO_SIZE_PTR) this.d.kmem.kfree(vdev.irqKva);
    vdev.irqKva = 0;
    vdev.irqs = [];
  }

  // ------------------------------------------------------------------ SET_IRQS

  /**
   * vfio_platform_set_irqs_ioctl: the header (flags, index, start, count) has been
   * validated by the ioctl dispatch; `data` is the user address of the payload.
   */
  setIrqs(vdev: VfioPlatformDevice, task: Task, flags: number, index: number, count: number, data: number): number {
    const irq = vdev.irqs[index]!;
    switch (flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) {
      case VFIO_IRQ_SET_ACTION_TRIGGER:
        return this.setIrqTrigger(vdev, irq, task, count, flags, data);
      case VFIO_IRQ_SET_ACTION_MASK:
      case VFIO_IRQ_SET_ACTION_UNMASK: {
        if (this.caps.setIrqsActions !== 'trigger-mask-unmask') return -ENOTTY; // patch 09: "XXX not implemented"
        if (this.caps.setIrqsValidation === 'validate-and-prepare' && !(irq.flags & VFIO_IRQ_INFO_MASKABLE)) return -EINVAL;
        return this.setIrqMaskUnmask(vdev, irq, task, count, flags, data, (flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) === VFIO_IRQ_SET_ACTION_MASK);
      }
      default:
        return -ENOTTY;
    }
  }

  private readU8(task: Task, va: number): number {
    const r = task.mm.copyFromUser(this.scratch, 0, va, 1);
    return r < 0 ? -EFAULT : this.scratch[0]!;
  }

  private readS32(task: Task, va: number): number | null {
    const r = task.mm.copyFromUser(this.scratch, 0, va, 4);
    return r < 0 ? null : this.sv.getInt32(0, true);
  }

  private setIrqTrigger(vdev: VfioPlatformDevice, irq: PlatIrq, task: Task, count: number, flags: number, data: number): number {
    switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
      case VFIO_IRQ_SET_DATA_NONE:
        if (count === 0) return this.setTrigger(vdev, irq, null);
        this.loopback(vdev, irq);
        return 0;
      case VFIO_IRQ_SET_DATA_BOOL: {
        const b = this.readU8(task, data);
        if (b < 0) return b;
        if (b === 1) {
          this.loopback(vdev, irq);
          return 0;
        }
        return this.caps.setIrqsBoolFalse === 'noop' ? 0 : -EINVAL;
      }
      case VFIO_IRQ_SET_DATA_EVENTFD: {
        const fd = this.readS32(task, data);
        if (fd === null) return -EFAULT;
        if (fd < 0) return this.setTrigger(vdev, irq, null);
        // vfio_set_trigger (the RFC's and mainline's): the old trigger goes first, then the fd
        // is looked up (eventfd_ctx_fdget): a bad fd leaves the line without a trigger
        this.setTrigger(vdev, irq, null);
        const ctx = eventfdCtxFdget(task.proc, fd);
        if (typeof ctx === 'number') return ctx;
        return this.setTrigger(vdev, irq, ctx);
      }
      default:
        return -EFAULT;
    }
  }

  /**
   * user-space loopback: patches 09/10 call vfio_irq_handler(irq->hwirq, irq) from the
   * ioctl, in process context: what the handler does to a wrong object is an Oops that
   * kills the caller (the syscall boundary), not a panic
   */
  private loopback(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    try {
      this.handler(vdev, irq);
    } catch (e) {
      if (e instanceof KernelOops) throw e.withCallers(LOOPBACK_CALLERS);
      throw e;
    }
  }

  /**
   * vfio_set_trigger: drop the old trigger (free_irq, eventfd put), then, when given a
   * context, request the line (2014: flags 0, i.e. not shared: a host driver still holding
   * the line makes this -EBUSY) or, in mainline, enable the handler requested at open.
   */
  private setTrigger(vdev: VfioPlatformDevice, irq: PlatIrq, ctx: EventfdCtx | null): number {
    const atOpen = this.caps.irqRequest === 'at-open-disabled';
    if (irq.trigger) {
      if (atOpen) this.d.irq.disableIrq(irq.hwirq);
      else this.d.irq.freeIrq(irq.hwirq, irq);
      if (irq.nameKva) this.kfreeName(vdev, irq);
      irq.nameKva = 0;
      irq.trigger = null;
      this.mirror(vdev, irq);
    }
    if (ctx === null) return 0;
    irq.name = `vfio-irq[${irq.hwirq}](${vdev.pdev.name})`;
    // kasprintf: the name lives in the kernel heap too
    const nb = enc.encode(irq.name);
    irq.nameKva = this.d.kmem.kmalloc(nb.length + 1);
    if (irq.nameKva === 0) return -ENOMEM;
    this.d.kmem.writeBytes(irq.nameKva, nb);
    irq.trigger = ctx;
    if (atOpen) {
      // mainline vfio_set_trigger: enable_irq, `masked` untouched ("irq->masked effectively
      // provides nested disables within the overall enable relative to trigger"): a line
      // automasked under the old trigger stays masked until UNMASK
      this.d.irq.enableIrq(irq.hwirq);
      this.mirror(vdev, irq);
      return 0;
    }
    const r = this.d.irq.requestIrq(irq.hwirq, (_n, id) => this.handler(vdev, id as PlatIrq), 0, irq.name, irq);
    if (r) {
      this.d.kmem.kfree(irq.nameKva);
      irq.nameKva = 0;
      irq.trigger = null;
      this.mirror(vdev, irq);
      return r;
    }
    this.mirror(vdev, irq);
    return 0;
  }

  /**
   * kfree(irq->name). Patch 09's handler increments `name` in the heap (it is the low word
   * of the wrong object's ctx->count), so after a loopback that Oopsed the kernel frees
   * name + 1: SLUB's debug check refuses it ("Invalid object pointer", the model's
   * slub_debug choice, see safeKfree) and the name object leaks.
   */
  private kfreeName(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    if (this.caps.bugs.irqHandlerDevIdMismatch) {
      const heap = this.d.kmem.read32(this.irqKvaOf(vdev, irq) + IRQ_NAME);
      if (heap !== irq.nameKva) {
        this.d.log.err('', `=============================================================================`);
        this.d.log.err('', `BUG kmalloc: Invalid object pointer 0x${heap.toString(16)}: kfree(irq->name) of ${vdev.pdev.name} irq ${irq.index} (the name was 0x${irq.nameKva.toString(16)}; eventfd_signal incremented it)`);
        this.d.log.err('', `FIX kmalloc: Object at 0x${heap.toString(16)} not freed`);
        return;
      }
    }
    // every-open (patches 05-10): the release before may have freed this object already
    // through the dangling region or irq array it was handed out again as (kasprintf reuses
    // the freed slot; the earlier kfree(vdev->region) freed the name): a double kfree,
    // refused and logged as every 2014 cleanup's kfree is (safeKfree: the model's slub_debug
    // choice, SLUB free_debug_processing "Object already free"), not a BUG. Mainline frees
    // each name once: a strict kfree keeps a model error loud there.
    if (this.caps.openRule === 'every-open') safeKfree(this.d, irq.nameKva, `irq->name of ${vdev.pdev.name} irq ${irq.index}`);
    else this.d.kmem.kfree(irq.nameKva);
  }

  /** the automask part of the handler (patch 10 / mainline's automasked handler) */
  private handlerMask(vdev: VfioPlatformDevice, irq: PlatIrq): IrqReturn {
    if (this.caps.irqHandler !== 'automask') return IRQ_HANDLED;
    if (irq.masked) return IRQ_NONE;
    if (irq.flags & VFIO_IRQ_INFO_AUTOMASKED) {
      this.d.irq.disableIrqNosync(irq.hwirq);
      irq.masked = true;
      this.mirror(vdev, irq);
    }
    return IRQ_HANDLED;
  }

  /**
   * vfio_irq_handler(irq, dev_id), dev_id being the struct vfio_platform_irq that
   * vfio_set_trigger passed to request_irq (and that the loopback passes).
   *
   * Patch 09 (`bugs.irqHandlerDevIdMismatch`): `struct eventfd_ctx *trigger = dev_id;
   * eventfd_signal(trigger, 1);` runs eventfd_signal on the irq struct's heap bytes
   * (eventfdSignalAt: ctx->count is `name` and the next 4 bytes, ctx->wqh.task_list.next
   * is `flags` = VFIO_IRQ_INFO_EVENTFD = 1), so the wait-queue walk loads from address
   * 0x00000001: an Oops in __wake_up_common, a panic when it runs in interrupt context.
   *
   * Patch 10 and mainline: dev_id is the irq struct; automask, then
   * eventfd_signal(irq_ctx->trigger). Patch 10 signals unconditionally
   * (`bugs.loopbackNullTrigger`): with no trigger set (a loopback) that is
   * eventfd_signal(NULL), whose first access (ctx->count, offset 16) Oopses at 0x10.
   */
  private handler(vdev: VfioPlatformDevice, irq: PlatIrq): IrqReturn {
    if (this.caps.bugs.irqHandlerDevIdMismatch) {
      eventfdSignalAt(this.kernelMemory, this.irqKvaOf(vdev, irq), 1, ['vfio_irq_handler']);
      // a struct whose bytes happen to look like an empty wait queue: nothing woken
      return IRQ_HANDLED;
    }
    const ret = this.handlerMask(vdev, irq);
    if (irq.trigger === null && this.caps.bugs.loopbackNullTrigger) {
      // as the model has had it: the signal does not depend on the mask state
      eventfdSignalAt(this.kernelMemory, 0, 1, ['vfio_irq_handler']);
    }
    if (ret === IRQ_HANDLED && irq.trigger) {
      irq.trigger.signal(1);
      irq.signalled++;
      this.signalled.set(vdev.pdev.name, (this.signalled.get(vdev.pdev.name) ?? 0) + 1);
    }
    return ret;
  }

  private setIrqMaskUnmask(vdev: VfioPlatformDevice, irq: PlatIrq, task: Task, count: number, flags: number, data: number, mask: boolean): number {
    if (count !== 1) return -EINVAL; // also covers start via the header check
    switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
      case VFIO_IRQ_SET_DATA_BOOL: {
        const b = this.readU8(task, data);
        if (b < 0) return b;
        if (b !== 1) return this.caps.setIrqsBoolFalse === 'noop' ? 0 : -EINVAL;
        break;
      }
      case VFIO_IRQ_SET_DATA_NONE:
        break;
      case VFIO_IRQ_SET_DATA_EVENTFD: {
        if (!this.caps.maskUnmaskEventfd) return -ENOTTY; // patch 10: "XXX not implemented yet"
        const fd = this.readS32(task, data);
        if (fd === null) return -EFAULT;
        return this.setVirqfd(vdev, irq, task, fd, mask ? 'mask' : 'unmask');
      }
      default:
        return -ENOTTY;
    }
    if (mask) this.maskIrq(vdev, irq, task);
    else this.unmaskIrq(vdev, irq);
    return 0;
  }

  /**
   * vfio_platform_mask. Patch 10 (`bugs.maskSleepsUnderSpinlock`): disable_irq() inside
   * spin_lock_irqsave(&irq_ctx->lock): disable_irq -> synchronize_irq -> wait_event ->
   * might_sleep, with interrupts off and (CONFIG_DEBUG_ATOMIC_SLEEP, model choice: on, it
   * also selects PREEMPT_COUNT) preempt_count 1, so __might_sleep (kernel/sched/core.c)
   * prints its splat; the mask still happens (on one CPU nothing is in progress, so
   * synchronize_irq does not wait; on SMP a handler running on another CPU that takes
   * the same lock would deadlock). Mainline: disable_irq_nosync, no splat.
   */
  private maskIrq(vdev: VfioPlatformDevice, irq: PlatIrq, task: Task | null = null): void {
    if (!irq.masked) {
      if (this.caps.bugs.maskSleepsUnderSpinlock) {
        this.mightSleepSplat(task, ['synchronize_irq', 'disable_irq', 'vfio_platform_mask', 'vfio_platform_set_irq_mask', 'vfio_platform_set_irqs_ioctl', 'vfio_platform_ioctl', 'vfio_device_fops_unl_ioctl', 'do_vfs_ioctl', 'SyS_ioctl']);
        this.d.irq.disableIrq(irq.hwirq);
      } else {
        this.d.irq.disableIrqNosync(irq.hwirq); // mainline vfio_platform_mask
      }
      irq.masked = true;
      this.mirror(vdev, irq);
    }
  }

  /**
   * __might_sleep's report (3.14 kernel/sched/core.c, CONFIG_DEBUG_ATOMIC_SLEEP): the two
   * KERN_ERR lines, then dump_stack's "CPU: ... PID: ... Comm: ..." and the call chain.
   * Model limits: the `:line` after the file name is not reproduced, and the rate limit
   * (one report per second of jiffies) is not modelled: every call reports.
   */
  private mightSleepSplat(task: Task | null, chain: readonly string[]): void {
    const pid = task?.proc.pid ?? 0;
    const comm = task?.proc.name ?? 'swapper';
    const log = this.d.log;
    log.err('', 'BUG: sleeping function called from invalid context at kernel/irq/manage.c');
    log.err('', `in_atomic(): 1, irqs_disabled(): 128, pid: ${pid}, name: ${comm}`);
    log.log('warn', '', `CPU: 0 PID: ${pid} Comm: ${comm} Not tainted`);
    for (let i = 0; i < chain.length; i++) {
      const caller = chain[i + 1];
      log.log('warn', '', caller === undefined ? `(${chain[i]})` : `(${chain[i]}) from (${caller})`);
    }
  }

  private unmaskIrq(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    if (irq.masked) {
      this.d.irq.enableIrq(irq.hwirq);
      irq.masked = false;
      this.mirror(vdev, irq);
    }
  }

  /**
   * mainline virqfd (drivers/vfio/virqfd.c): signalling the eventfd masks/unmasks the line; fd
   * -1 removes it (vfio_virqfd_disable). vfio_virqfd_enable: the fd is looked up first (-EBADF,
   * -EINVAL for a file that is not an eventfd: an existing virqfd stays), then a virqfd already
   * in place is -EBUSY; a wakeup consumes the count (virqfd_wakeup: eventfd_ctx_do_read) and
   * runs the handler, while an event already pending at registration runs it without reading
   * the count ("trigger it as if we didn't miss it")
   */
  private setVirqfd(vdev: VfioPlatformDevice, irq: PlatIrq, task: Task, fd: number, which: 'mask' | 'unmask'): number {
    if (fd < 0) {
      this.dropVirqfd(irq, which);
      return 0;
    }
    const ctx = eventfdCtxFdget(task.proc, fd);
    if (typeof ctx === 'number') return ctx;
    if ((which === 'unmask' ? irq.unmaskFd : irq.maskFd) !== null) return -EBUSY;
    const act = (): void => {
      if (which === 'unmask') this.unmaskIrq(vdev, irq);
      else this.maskIrq(vdev, irq);
    };
    const listener = (): void => {
      if (ctx.count === 0n) return;
      ctx.count = 0n;
      act();
    };
    const v: VirqFd = { ctx, listener };
    ctx.kernelListeners.push(listener);
    if (which === 'unmask') irq.unmaskFd = v;
    else irq.maskFd = v;
    if (ctx.count > 0n) act();
    return 0;
  }

  private dropVirqfd(irq: PlatIrq, which: 'mask' | 'unmask'): void {
    const v = which === 'unmask' ? irq.unmaskFd : irq.maskFd;
    if (!v) return;
    const i = v.ctx.kernelListeners.indexOf(v.listener);
    if (i >= 0) v.ctx.kernelListeners.splice(i, 1);
    if (which === 'unmask') irq.unmaskFd = null;
    else irq.maskFd = null;
  }
}
