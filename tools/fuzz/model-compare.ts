/**
 * The reference model against the implementation (model.ts RefModel): the containers whose
 * groups translate through their mappings (the isolation check's), and compare(), run after
 * every call: groups, containers, mappings, and the compat containers' contexts and IOASes.
 */
import type { Ioas, IommufdCtx } from '../../kernel-model/iommu/iommufd/index.js';
import type { File } from '../../kernel-model/vfs/file.js';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';
import { ModelCompat } from './model-compat.js';
import type { MMap, UserDomain } from './model-state.js';

/**
 * userDomains' answer and its objects, refilled per call (host scratch at module level: its
 * one caller, the isolation check, reads it before the next call and keeps nothing of it)
 */
const UD_OUT: UserDomain[] = [];
const UD_POOL: UserDomain[] = [];

/** the `i`th pooled domain object */
function udAt(i: number): UserDomain {
  let d = UD_POOL[i];
  if (d === undefined) UD_POOL.push((d = { container: 0, groups: [], maps: [] }));
  return d;
}

export class ModelCompare extends ModelCompat {
  /**
   * the containers with an IOMMU and their groups (vfio_iommu_type1_attach_group has put
   * the groups' streams in the container's domain): null while the model is lost
   */
  userDomains(): readonly UserDomain[] | null {
    if (this.lost) return null;
    const out = UD_OUT;
    out.length = 0;
    // (a compat container's IOAS: the isolation check reads iommufd's attachments)
    for (const c of this.containers.values()) {
      if (c.compat !== null || !c.iommu || c.groups.length === 0) continue;
      const d = udAt(out.length);
      d.container = c.id;
      d.groups = c.groups;
      d.maps = c.maps;
      out.push(d);
    }
    return out;
  }

  /** compare with the implementation; a message on divergence */
  compare(insts: { id: number; it: Type1Iommu }[]): string | null {
    const pend = this.pending;
    this.pending = null;
    if (this.lost) return null;
    if (pend) return pend;
    // read from the implementation's own objects (groupRef, containers, dmas): this runs after
    // every call, and groupState()/containerStates()/mappings() build new objects each time;
    // those are only called to word a difference
    const vfio = this.sys.vfio;
    if (this.compat) return this.compareCompat();
    for (const g of this.groups.values()) {
      const real = vfio.groupRef(g.id);
      if (!real) continue;
      const users = (g.holds ? 1 : 0) + g.devFds;
      let open = false;
      for (const d of real.devices) if (d.openCount > 0) open = true;
      if (real.opened !== g.opened || (real.container !== null) !== (g.container !== null) || real.containerUsers !== users || open !== g.devFds > 0) {
        const st = vfio.groupState(g.id)!;
        return `group ${g.id}: implementation ${JSON.stringify({ opened: st.opened, containerSet: st.containerSet, users: st.containerUsers, openDevices: st.openDevices.length })}, model ${JSON.stringify({ opened: g.opened, containerSet: g.container !== null, users, deviceFds: g.devFds })}`;
      }
    }
    if (vfio.containers.size !== this.containers.size) return `${vfio.containers.size} live containers, the model has ${this.containers.size}`;
    for (const rc of vfio.containers) {
      const mc = this.containers.get(rc.id);
      if (!mc) return `container ${rc.id} is alive, the model freed it`;
      let same = rc.groups.length === mc.groups.length;
      for (let i = 0; same && i < rc.groups.length; i++) same = rc.groups[i]!.id === mc.groups[i];
      if (!same) return `container ${rc.id}: groups [${rc.groups.map((x) => x.id)}] vs model [${mc.groups}]`;
      if ((rc.iommuDriver !== null) !== mc.iommu) return `container ${rc.id}: IOMMU ${rc.iommuDriver?.name ?? 'unset'}, model ${mc.iommu ? 'set' : 'unset'}`;
      let inst: Type1Iommu | null = null;
      for (const x of insts) {
        if (x.id !== rc.id) continue;
        inst = x.it;
        break;
      }
      if ((inst !== null && inst.dirtyPageTracking) !== mc.dirty) return `container ${rc.id}: dirty page tracking ${inst !== null && inst.dirtyPageTracking ? 'on' : 'off'}, model ${mc.dirty ? 'on' : 'off'}`;
      // compared field by field; the text only on a difference
      if (!sameMappings(inst ? inst.dmas : NO_MAPPINGS, mc.maps)) {
        const real = inst ? inst.mappings() : [];
        const a = real.map((m) => `${m.iova.toString(16)}+${m.size.toString(16)}@${m.vaddr.toString(16)}${m.vaddrInvalid ? '!' : ''}/${m.prot}`).join(' ');
        const b = mc.maps.map((m) => `${m.iova.toString(16)}+${m.size.toString(16)}@${m.vaddr.toString(16)}${m.vaddrInvalid ? '!' : ''}/${m.prot}`).join(' ');
        if (a !== b) return `container ${rc.id}: mappings [${a}] vs model [${b}]`;
      }
    }
    return null;
  }

  /** the live iommufd contexts the compat containers are (the iommufd model counts them with its own) */
  compatContexts(): number {
    let n = 0;
    for (const c of this.containers.values()) if (c.compat !== null) n++;
    return n;
  }

  /**
   * Is the compat container of file `f` alive in the model? (A fault fd made on it holds its
   * context after the model let the container go: the iommufd model counts that context then.)
   */
  compatAlive(f: File): boolean {
    for (const c of this.containers.values()) if (c.compat === f) return true;
    return false;
  }

  /** compare() when /dev/vfio/vfio is the compat container: groups, contexts, compat IOAS areas */
  private compareCompat(): string | null {
    const vfio = this.sys.vfio;
    const svc = this.sys.iommufd;
    const ctxOf = (id: number | null): IommufdCtx | null => (id === null ? null : (this.containers.get(id)?.compat?.priv as IommufdCtx | undefined) ?? null);
    for (const g of this.groups.values()) {
      const real = vfio.groupRef(g.id);
      if (!real) continue;
      let open = false;
      for (const d of real.devices) if (d.openCount > 0) open = true;
      if (real.opened !== g.opened || real.iommufd !== ctxOf(g.container) || real.containerUsers !== 0 || open !== g.devFds > 0) {
        return `group ${g.id}: implementation ${JSON.stringify({ opened: real.opened, iommufd: real.iommufd !== null, users: real.containerUsers, openDevices: open })}, model ${JSON.stringify({ opened: g.opened, container: g.container, deviceFds: g.devFds })}`;
      }
    }
    if (vfio.containers.size !== 0) return `${vfio.containers.size} live VFIO containers with the compat container`;
    for (const c of this.containers.values()) {
      const ctx = c.compat!.priv as IommufdCtx;
      if (!svc || !svc.contexts.has(ctx)) return `the compat container ${c.id} (${c.compat!.path}) is alive in the model, its iommufd context is not`;
      const ioas = ctx.vfioIoas;
      if ((ioas !== null) !== (c.cur !== null)) return `compat container ${c.id}: compat IOAS ${ioas !== null ? `present (${ioas.id})` : 'absent'}, the model has it ${c.cur !== null ? 'present' : 'absent'}`;
      if (ioas !== null && c.cur!.id !== 0 && ioas.id !== c.cur!.id) return `compat container ${c.id}: the compat IOAS is ${ioas.id}, the model's is ${c.cur!.id}`;
      // every IOAS of the context is one the model knows (or the one whose id it has not learned)
      let n = 0;
      for (const o of ctx.objects.values()) if (o.type === 'ioas') n++;
      if (n !== c.ioases.size + (c.anon !== null ? 1 : 0)) return `compat container ${c.id}: ${n} IOAS(es) in its context, the model has ${c.ioases.size}${c.anon !== null ? ' and one of unknown id' : ''}`;
      for (const m of c.ioases.values()) {
        const o = ctx.objects.get(m.id);
        if (o === undefined || o.type !== 'ioas') return `compat container ${c.id}: the model's IOAS ${m.id} is ${o === undefined ? 'not in the context' : `a ${o.type}`}`;
        const d = compatAreasDiffer(c.id, m.id, (o as Ioas).iopt.areas, m.maps);
        if (d !== null) return d;
      }
      if (c.anon !== null && c.cur === c.anon) {
        const d = compatAreasDiffer(c.id, ioas!.id, ioas!.iopt.areas, c.anon.maps);
        if (d !== null) return d;
      }
    }
    return null;
  }
}


const NO_MAPPINGS: readonly MappingFields[] = Object.freeze([]);

/** compat: an IOAS's areas against the model's (the same [iova, last] in order), a message if they differ */
function compatAreasDiffer(container: number, id: number, areas: readonly { iova: number; last: number }[], maps: readonly MMap[]): string | null {
  let same = areas.length === maps.length;
  for (let i = 0; same && i < areas.length; i++) same = areas[i]!.iova === maps[i]!.iova && areas[i]!.last === maps[i]!.iova + maps[i]!.size - 1;
  if (same) return null;
  const a = areas.map((x) => `${x.iova.toString(16)}-${x.last.toString(16)}`).join(' ');
  const b = maps.map((x) => `${x.iova.toString(16)}-${(x.iova + x.size - 1).toString(16)}`).join(' ');
  return `compat container ${container}: IOAS ${id} areas [${a}], the model has [${b}]`;
}


type MappingFields = Pick<MMap, 'iova' | 'size' | 'vaddr' | 'prot' | 'vaddrInvalid'>;

/** the same mappings in the same order (what comparing their `iova+size@vaddr!/prot` texts tells) */
function sameMappings(a: readonly MappingFields[], b: readonly MappingFields[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.iova !== y.iova || x.size !== y.size || x.vaddr !== y.vaddr || x.prot !== y.prot || x.vaddrInvalid !== y.vaddrInvalid) return false;
  }
  return true;
}
