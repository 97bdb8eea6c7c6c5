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
import { EFAULT, EINVAL, ENOMEM, ENOTTY } from '../../base/errno.js';
import { KernelOops } from '../../base/oops.js';
import { IRQ_TYPE_LEVEL_HIGH, IRQ_TYPE_LEVEL_LOW } from '../../driver/types.js';
import { eventfdCtxFdget, type EventfdCtx } from '../../eventfd/eventfd.js';
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
import { IRQ_STRUCT_SIZE, VDEV_IRQ, VDEV_NUM_IRQS, ZERO_SIZE_PTR, safeKfree, type PlatIrq, type VfioPlatformDeps, type VfioPlatformDevice, type VirqFd } from './private.js';

const enc = new TextEncoder();

export class VfioPlatformIrqs {
  /** interrupts delivered to user space through trigger eventfds, per device name (statistics) */
  readonly signalled = new Map<string, number>();
  private readonly scratch = new Uint8Array(8);
  private readonly sv = new DataView(this.scratch.buffer);

  constructor(private readonly d: VfioPlatformDeps) {}

  private get caps(): VfioPlatformDeps['profile']['caps'] {
    return this.d.profile.caps;
  }

  private isLevel(hwirq: number): boolean {
    return (this.d.irq.irqGetTriggerType(hwirq) & (IRQ_TYPE_LEVEL_HIGH | IRQ_TYPE_LEVEL_LOW)) !== 0;
  }

  /** vfio_platform_irq_init: one entry per platform IRQ resource, kmalloc'd in the kernel heap */
  init(vdev: VfioPlatformDevice): number {
    const caps = this.caps;
    const virqs = vdev.pdev.resources.filter((r) => r.kind === 'irq').map((r) => r.start);
    const kva = virqs.length ? this.d.kmem.kmalloc(IRQ_STRUCT_SIZE * virqs.length) : ZERO_SIZE_PTR;
    if (kva === 0) return -ENOMEM;
    vdev.irqKva = kva;
    vdev.irqs = virqs.map((hwirq, index) => {
      let flags = 0;
      if (caps.setIrqsActions !== 'none') flags |= VFIO_IRQ_INFO_EVENTFD;
      if (caps.setIrqsActions === 'trigger-mask-unmask') flags |= VFIO_IRQ_INFO_MASKABLE;
      if (caps.irqHandler === 'automask' && this.isLevel(hwirq)) flags |= VFIO_IRQ_INFO_AUTOMASKED;
      const irq: PlatIrq = { index, hwirq, flags, count: 1, trigger: null, name: null, nameKva: 0, masked: false, requested: false, unmaskFd: null, maskFd: null, signalled: 0 };
      return irq;
    });
    for (const irq of vdev.irqs) this.mirror(vdev, irq);
    this.d.kmem.write32(vdev.kva + VDEV_IRQ, kva);
    this.d.kmem.write32(vdev.kva + VDEV_NUM_IRQS, virqs.length);
    if (caps.irqRequest === 'at-open-disabled') {
      // mainline: handlers are requested at open with the line left disabled; setting a
      // trigger enables it
      for (const irq of vdev.irqs) {
        irq.name = `vfio-irq[${irq.hwirq}](${vdev.pdev.name})`;
        const r = this.d.irq.requestIrq(irq.hwirq, (_n, id) => this.handler(vdev, id as PlatIrq), IRQF_NO_AUTOEN, irq.name, irq);
        if (r < 0) {
          for (const o of vdev.irqs) if (o.requested) this.d.irq.freeIrq(o.hwirq, o);
          this.d.kmem.kfree(kva);
          vdev.irqs = [];
          return r;
        }
        irq.requested = true;
      }
    }
    return 0;
  }

  /** keep the kernel-heap copy of struct vfio_platform_irq in step with the model's state */
  private mirror(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    const k = this.d.kmem;
    const base = vdev.irqKva + irq.index * IRQ_STRUCT_SIZE;
    k.write32(base, irq.flags);
    k.write32(base + 4, irq.count);
    k.write32(base + 8, irq.trigger ? 0xc0de0000 + (irq.index << 4) : 0); // an opaque kernel pointer value
    k.write32(base + 12, irq.hwirq);
    k.write32(base + 16, irq.nameKva);
    k.write8(base + 20, irq.masked ? 1 : 0);
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
        const ctx = eventfdCtxFdget(task.proc, fd);
        if (typeof ctx === 'number') return ctx;
        return this.setTrigger(vdev, irq, ctx);
      }
      default:
        return -EFAULT;
    }
  }

  /** user-space loopback: run the handler as if the line had fired */
  private loopback(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    if (this.caps.bugs.loopbackNullTrigger && irq.trigger === null) {
      // patch 10's handler calls eventfd_signal(irq_ctx->trigger) unconditionally: with
      // no trigger set that is a NULL dereference (spin_lock on ctx->wqh.lock, offset 4)
      this.handlerMask(vdev, irq);
      throw new KernelOops('paging-request', 0x4, `NULL pointer dereference in vfio_irq_handler (eventfd_signal of an unset trigger, ${vdev.pdev.name} irq ${irq.index})`);
    }
    this.handler(vdev, irq);
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
      if (irq.nameKva) this.d.kmem.kfree(irq.nameKva);
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
      irq.masked = false;
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
   * vfio_irq_handler. Patch 09 signals the trigger on every interrupt and never masks a
   * line: a level line stays asserted until user space clears the device, so the CPU
   * re-enters here forever (the storm the matrix shows). Patch 09 as posted passes the
   * struct vfio_platform_irq as dev_id while its handler treats dev_id as the eventfd
   * context; patch 10 fixes that. The model signals the registered eventfd at both
   * levels (documented deviation: the memory corruption is not modelled).
   */
  private handler(vdev: VfioPlatformDevice, irq: PlatIrq): IrqReturn {
    const ret = this.handlerMask(vdev, irq);
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
    if (mask) this.maskIrq(vdev, irq);
    else this.unmaskIrq(vdev, irq);
    return 0;
  }

  private maskIrq(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    if (!irq.masked) {
      this.d.irq.disableIrq(irq.hwirq);
      irq.masked = true;
      this.mirror(vdev, irq);
    }
  }

  private unmaskIrq(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    if (irq.masked) {
      this.d.irq.enableIrq(irq.hwirq);
      irq.masked = false;
      this.mirror(vdev, irq);
    }
  }

  /** mainline virqfd: signalling the eventfd masks/unmasks the line (fd -1 removes it) */
  private setVirqfd(vdev: VfioPlatformDevice, irq: PlatIrq, task: Task, fd: number, which: 'mask' | 'unmask'): number {
    this.dropVirqfd(irq, which);
    if (fd < 0) return 0;
    const ctx = eventfdCtxFdget(task.proc, fd);
    if (typeof ctx === 'number') return ctx;
    const listener = (): void => {
      if (ctx.count === 0n) return;
      ctx.count = 0n; // virqfd consumes the count (eventfd_ctx_do_read)
      if (which === 'unmask') this.unmaskIrq(vdev, irq);
      else this.maskIrq(vdev, irq);
    };
    const v: VirqFd = { ctx, listener };
    ctx.kernelListeners.push(listener);
    if (which === 'unmask') irq.unmaskFd = v;
    else irq.maskFd = v;
    if (ctx.count > 0n) listener();
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
