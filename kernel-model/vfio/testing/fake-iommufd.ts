import { EBADFD, EBUSY, ENOENT } from '../../base/errno.js';
import type { KDevice } from '../../driver/types.js';
import { File, type FileOps } from '../../vfs/file.js';
import type { Vfs } from '../../vfs/vfs.js';
import type { VfioIommufd } from '../types.js';

/** A recording stand-in for iommufd's kernel API: /dev/iommu files are contexts, IOAS ids known to the fake. */
export class FakeIommufd implements VfioIommufd {
  readonly fops: FileOps = { name: 'fake-iommufd', release: () => this.ctxPut() };
  /** context references: 1 per open /dev/iommu file, +1 per ctxFromFile */
  refs = 0;
  /** pt ids that exist (an IOAS id attaches as `hwpt`) */
  readonly ioas = new Set<number>([1]);
  readonly hwpt = 2;
  /** what iommufd_device_bind returns when set (e.g. -EBUSY for a group owned elsewhere) */
  bindError = 0;
  readonly bound = new Set<KDevice>();
  readonly attached = new Map<KDevice, number>();
  readonly events: string[] = [];
  private nextId = 3;

  constructor(vfs: Vfs) {
    vfs.addDevNode('/dev/iommu', 0o660, (flags, _t, path) => (this.refs++, new File(this.fops, { ctx: true }, flags, path)));
  }

  ctxFromFile(f: File): object | number {
    if (f.ops !== this.fops) return -EBADFD;
    this.refs++;
    return f.priv as object;
  }

  ctxPut(): void {
    this.refs--;
  }

  deviceBind(_ctx: object, dev: KDevice): { idev: object; devId: number } | number {
    if (this.bindError) return this.bindError;
    if (this.bound.has(dev)) return -EBUSY;
    this.bound.add(dev);
    this.events.push(`bind ${dev.name}`);
    return { idev: { dev }, devId: this.nextId++ };
  }

  deviceAttach(idev: object, ptId: number): number {
    const dev = (idev as { dev: KDevice }).dev;
    if (!this.ioas.has(ptId) && ptId !== this.hwpt) return -ENOENT;
    this.attached.set(dev, ptId);
    this.events.push(`attach ${dev.name} ${ptId}`);
    return this.hwpt;
  }

  deviceReplace(idev: object, ptId: number): number {
    const dev = (idev as { dev: KDevice }).dev;
    if (!this.ioas.has(ptId) && ptId !== this.hwpt) return -ENOENT;
    this.attached.set(dev, ptId);
    this.events.push(`replace ${dev.name} ${ptId}`);
    return this.hwpt;
  }

  deviceDetach(idev: object): void {
    const dev = (idev as { dev: KDevice }).dev;
    this.attached.delete(dev);
    this.events.push(`detach ${dev.name}`);
  }

  deviceUnbind(idev: object): void {
    const dev = (idev as { dev: KDevice }).dev;
    this.bound.delete(dev);
    this.events.push(`unbind ${dev.name}`);
  }
}
