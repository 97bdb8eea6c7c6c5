/**
 * The C text of a reproducer's calls (emit-c.ts): values, pointers, structs and fd references as
 * C expressions resolving what the harness resolves (the runtime's fd_of, bound_fd, ioas_of, ...),
 * and each call of the program as the worker's lines (callC). Split from emit-c.ts (pure move).
 */
import { ERRNO_NAMES } from '../../kernel-model/base/errno.js';
import { DMA_PAGES, NPROC } from './arb.js';
import { Harness } from './harness.js';
import { CDEV_REQS, IOMMUFD_REQS } from './program-iommufd.js';
import { STRUCTS, VFIO_IOMMU_DIRTY_PAGES, VFIO_REQS, hasBoundDevRef, hasDevRef, hasHwptRef, hasIoasRef, isBoundDevRef, makeRefs, reqName, type Call, type FdKind, type FdRef, type IoctlArg, type Off, type PtrKind, type Value } from './program.js';

const PAGE = 4096;

// ------------------------------------------------------------------ C text helpers

export const cstr = (s: string): string => JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
export const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
/** a comment that cannot end early */
export const cmt = (s: string): string => `/* ${s.replace(/\*\//g, '* /')} */`;

const KIND_C: Record<FdKind, string> = { any: 'K_ANY', container: 'K_CONTAINER', group: 'K_GROUP', device: 'K_DEVICE', eventfd: 'K_EVENTFD', iommufd: 'K_IOMMUFD', fault: 'K_FAULT' };

function fdExpr(r: FdRef): string {
  // a resource-typed device fd: a bound cdev fd (callC runs make_bound_dev first)
  if (isBoundDevRef(r)) return `bound_fd(${(r as { i: number }).i >>> 0}u)`;
  return 'raw' in r ? `${r.raw | 0} ${cmt('raw fd')}` : `fd_of(${KIND_C[r.k]}, ${r.i >>> 0}u)`;
}

/** a value as a 64-bit C expression (the harness's value(): BigInt.asUintN(64, ...)) */
function valExpr(v: Value): string {
  if (typeof v === 'number' || typeof v === 'string') return `${hex(BigInt.asUintN(64, BigInt(v)))}ULL`;
  if ('fd' in v) return `(uint64_t)(int64_t)${fdExpr(v.fd)}`;
  if ('dma' in v) return `(uint64_t)(uintptr_t)(dma_area + ${v.dma} * PAGE${v.off ? ` + ${hex(v.off)}` : ''})`;
  // a resource-typed IOAS id: of the call's fd (callC sets ioas_fd and runs make_ioas first)
  if ('ioas' in v) return `(uint64_t)ioas_of(ioas_fd, ${v.ioas >>> 0}u)`;
  // a resource-typed device id: bound to the call's fd's context (callC runs make_dev first)
  if ('dev' in v) return `(uint64_t)dev_of(ioas_fd, ${v.dev >>> 0}u)`;
  // a resource-typed HWPT id: a paging HWPT of the call's fd's context (callC runs make_hwpt first)
  if ('hwpt' in v) return `(uint64_t)hwpt_of(ioas_fd, ${v.hwpt >>> 0}u)`;
  return `(uint64_t)(uintptr_t)(ro_area + ${v.ro} * PAGE)`;
}

/** the pointer expression for a PtrKind (the harness's ptr()) */
function ptrExpr(k: PtrKind, len: number): string {
  switch (k) {
    case 'ok':
      return 'scratch';
    case 'null':
      return 'NULL';
    case 'unmapped':
      return `(char *)0x1000 ${cmt('unmapped')}`;
    case 'ro':
      return `ro_area ${cmt('read-only page')}`;
    case 'tail':
      return `(scratch + 2 * PAGE - ${Math.min(8, Math.max(1, len - 1))}) ${cmt('straddles the end of the scratch buffer')}`;
  }
}

/** header struct and field names for the harness's layouts (resv: the 2014 name of cap_offset) */
const C_STRUCT: Record<string, string> = {
  vfio_group_status: 'struct vfio_group_status',
  vfio_iommu_type1_info: 'struct vfio_iommu_type1_info',
  vfio_iommu_type1_dma_map: 'struct vfio_iommu_type1_dma_map',
  vfio_iommu_type1_dma_unmap: 'struct vfio_iommu_type1_dma_unmap',
  vfio_device_info: 'struct vfio_device_info',
  vfio_region_info: 'struct vfio_region_info',
  vfio_irq_info: 'struct vfio_irq_info',
  vfio_irq_set: 'struct vfio_irq_set',
  int32: 'int32_t',
};

function flagNames(type: string, v: Value, bit2: string): string {
  if (typeof v !== 'number') return '';
  const names: [number, string][] =
    type === 'vfio_iommu_type1_dma_map'
      ? [[1, 'VFIO_DMA_MAP_FLAG_READ'], [2, 'VFIO_DMA_MAP_FLAG_WRITE'], [4, bit2]]
      : type === 'vfio_irq_set'
        ? [[1, 'VFIO_IRQ_SET_DATA_NONE'], [2, 'VFIO_IRQ_SET_DATA_BOOL'], [4, 'VFIO_IRQ_SET_DATA_EVENTFD'], [8, 'VFIO_IRQ_SET_ACTION_MASK'], [16, 'VFIO_IRQ_SET_ACTION_UNMASK'], [32, 'VFIO_IRQ_SET_ACTION_TRIGGER']]
        : type === 'vfio_iommu_type1_dma_unmap'
          ? [[1, 'VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP'], [2, 'VFIO_DMA_UNMAP_FLAG_ALL'], [4, 'VFIO_DMA_UNMAP_FLAG_VADDR']]
          : [];
  if (!names.length || v === 0) return '';
  let rest = v >>> 0;
  const out: string[] = [];
  for (const [b, n] of names) if (rest & b) { out.push(n); rest &= ~b; }
  if (rest) out.push(hex(rest));
  return ` ${cmt(out.join(' | '))}`;
}

// ------------------------------------------------------------------ emitter

export interface Ctx {
  h: Harness;
  bit2: string;
  lines: string[];
  /** the incarnation number of each fork call's child (the plan's) */
  forkInc: Map<Call, number>;
}

/** marshal an ioctl argument into the scratch buffer (the harness's marshal()); returns the pointer/int expression */
function marshal(a: IoctlArg, ctx: Ctx, L: string[]): string {
  if (a.t === 'int') return `(unsigned long)(uint32_t)${valExpr(a.v)}`;
  if (a.t === 'str') {
    if (a.nul) {
      L.push(`\t\tmemcpy(scratch, ${cstr(a.s)}, ${new TextEncoder().encode(a.s).length + 1});`);
    } else {
      L.push(`\t\tmemset(scratch, 'A', 2 * PAGE - 8); ${cmt('no NUL within 4096 bytes')}`);
    }
    const len = a.nul ? new TextEncoder().encode(a.s).length + 1 : 2 * PAGE - 8;
    return tailCopy(a.ptr, len, L);
  }
  if (a.t === 'bytes') {
    L.push(`\t\t{ static const uint8_t b[] = { ${a.b.map((x) => hex(x & 0xff)).join(', ') || '0'} }; memcpy(scratch, b, ${a.b.length}); }`);
    return tailCopy(a.ptr, a.b.length, L);
  }
  const st = STRUCTS[a.type];
  const tail = a.tail ?? [];
  const len = Math.max(st.minsz, ...st.fields.map(([, o, sz]) => o + sz)) + 4 * tail.length + 8;
  L.push(`\t\tmemset(scratch, 0, ${len});`);
  if (a.type === 'int32') {
    const v = a.fields['v'];
    if (v !== undefined) L.push(`\t\t*(int32_t *)scratch = (int32_t)(uint32_t)${valExpr(v)};`);
  } else if (C_STRUCT[a.type] === undefined) {
    // iommufd / cdev structs: written field by field at their uapi offsets (program-iommufd.ts)
    L.push(`\t\t${cmt(`struct ${a.type}`)}`);
    for (const [name, off, size] of st.fields) {
      const v = a.fields[name];
      if (v === undefined) continue;
      L.push(`\t\t*(uint${size * 8}_t *)(scratch + ${off}) = (uint${size * 8}_t)${valExpr(v)}; ${cmt(name)}`);
    }
    // words past min_size, as the harness writes them (a longer struct's tail, arb-iommufd.ts oversized)
    tail.forEach((v, i) => L.push(`\t\t((uint32_t *)(scratch + ${st.minsz}))[${i}] = (uint32_t)${valExpr(v)};`));
  } else {
    L.push(`\t\t${C_STRUCT[a.type]} *s = (void *)scratch;`);
    for (const [name, , size] of st.fields) {
      const v = a.fields[name];
      if (v === undefined) continue;
      const field = name === 'resv' ? 'cap_offset' : name;
      const note = name === 'resv' ? ` ${cmt('resv in the 2014 series')}` : name === 'flags' ? flagNames(a.type, v, ctx.bit2) : '';
      L.push(`\t\ts->${field} = (uint${size * 8}_t)${valExpr(v)};${note}`);
    }
    tail.forEach((v, i) => L.push(`\t\t((uint32_t *)(scratch + ${st.minsz}))[${i}] = (uint32_t)${valExpr(v)};`));
  }
  return tailCopy(a.ptr, len, L);
}

/** the bytes always go to the scratch buffer; a 'tail' pointer also gets them (up to the scratch buffer's end) */
function tailCopy(k: PtrKind, len: number, L: string[]): string {
  const p = ptrExpr(k, len);
  if (k === 'tail') {
    const back = Math.min(8, Math.max(1, len - 1));
    L.push(`\t\tmemcpy(scratch + 2 * PAGE - ${back}, scratch, ${Math.min(len, back)});`);
  }
  return p;
}

/** the file offset the harness passes (Harness.offset), with its symbolic form as a comment */
function offExpr(o: Off, h: Harness): string {
  const sym = 'raw' in o ? 'raw offset' : `region ${o.region} + ${hex(o.off)}`;
  return `(off_t)${hex(h.offset64(o))}ULL ${cmt(sym)}`;
}

export function callC(c: Call, ctx: Ctx, L: string[]): void {
  const h = ctx.h;
  // resource-typed refs (FdRef.mk): their fds made first when the process has none (make_fd)
  for (const r of makeRefs(c)) L.push(`\t\tmake_fd(${KIND_C[r.k]});`);
  // a resource-typed device fd ({ k: 'device', mk }): a cdev bound first when the process has none
  if (hasBoundDevRef(c)) L.push('\t\tmake_bound_dev();');
  switch (c.op) {
    case 'open': {
      const kind: FdKind = c.path === '/dev/vfio/vfio' ? 'container' : /^\/dev\/vfio\/\d+$/.test(c.path) ? 'group' : c.path === '/dev/iommu' ? 'iommufd' : /^\/dev\/vfio\/devices\/vfio\d+$/.test(c.path) ? 'device' : 'any';
      const path = c.path === `/dev/vfio/${h.group}` ? 'group_path' : cstr(c.path);
      L.push(`\t\trc = ret(open(${path}, 0${c.flags.toString(8)}));`);
      L.push(kind === 'group' ? `\t\tif (rc >= 0) track_group(rc, ${path});` : `\t\tif (rc >= 0) track(rc, ${KIND_C[kind]});`);
      return;
    }
    case 'close':
      L.push(`\t\t{ int fd = ${fdExpr(c.fd)}; rc = ret(close(fd)); if (rc == 0) untrack(fd); }`);
      return;
    case 'ioctl': {
      // the /dev/iommu fd of the context the call's fd names (itself, or a bound cdev's: ctx_fd)
      if (hasIoasRef(c) || hasDevRef(c) || hasHwptRef(c)) L.push(`\t\tioas_fd = ctx_fd(${fdExpr(c.fd)});`);
      // resource-typed HWPT ids ({ hwpt, mk }): a HWPT made first when the context has none (before
      // make_ioas, as the harness: the IOAS it makes is one `{ ioas }` can name)
      if (hasHwptRef(c)) L.push('\t\tmake_hwpt(ioas_fd);');
      // resource-typed IOAS ids ({ ioas, mk }): an IOAS made first when the fd's context has none
      if (hasIoasRef(c)) L.push('\t\tmake_ioas(ioas_fd);');
      // resource-typed device ids ({ dev, mk }): a device bound first when the context has none
      if (hasDevRef(c)) L.push('\t\tmake_dev(ioas_fd);');
      const arg = marshal(c.arg, ctx, L);
      const name = reqName(c.req);
      // iommufd and cdev requests by number (the reproducer's headers may predate them), and
      // VFIO_IOMMU_DIRTY_PAGES (v5.8 headers)
      const req = name.startsWith('0x') || name.startsWith('IOMMU_') || name.includes('IOMMUFD') || c.req === VFIO_IOMMU_DIRTY_PAGES ? `${hex(c.req >>> 0)}u ${cmt(name)}` : name;
      L.push(`\t\trc = ret(ioctl(${fdExpr(c.fd)}, ${req}, ${arg}));`);
      if (c.req === VFIO_REQS.VFIO_GROUP_GET_DEVICE_FD) L.push('\t\tif (rc >= 0) track(rc, K_DEVICE);');
      // IOMMU_FAULT_QUEUE_ALLOC answers its fd in out_fault_fd (offset 12); it succeeds only with
      // the struct in the scratch buffer (the other pointer kinds fault or read a size of 0)
      // IOMMU_IOAS_ALLOC's out_ioas_id (offset 8) and IOMMU_DESTROY's id (offset 4): the IOAS ids
      // the fd's context has (track_ioas, untrack_ioas: what make_ioas and ioas_of read)
      // (a `tail` struct straddles into the read-only zeros: read where it lies)
      const at = (off: number): string => `*(uint32_t *)((char *)${ptrExpr((c.arg as { ptr: PtrKind }).ptr, 9)} + ${off})`;
      const okOrTail = c.arg.t === 'struct' && (c.arg.ptr === 'ok' || c.arg.ptr === 'tail');
      if (c.req === IOMMUFD_REQS.IOMMU_IOAS_ALLOC && okOrTail) L.push(`\t\tif (rc == 0) track_ioas(${fdExpr(c.fd)}, ${at(8)}); ${cmt('out_ioas_id')}`);
      if (c.req === IOMMUFD_REQS.IOMMU_DESTROY && okOrTail) L.push(`\t\tif (rc == 0) untrack_ioas(${fdExpr(c.fd)}, ${at(4)}); ${cmt('id')}`);
      // VFIO_DEVICE_BIND_IOMMUFD's iommufd (offset 8) and out_devid (offset 12): the devices bound to that fd's context (track_dev: what make_dev and dev_of read)
      if (c.req === CDEV_REQS.VFIO_DEVICE_BIND_IOMMUFD && okOrTail) L.push(`\t\tif (rc == 0) track_dev(${at(8)}, ${fdExpr(c.fd)}, ${at(12)}); ${cmt('iommufd, out_devid')}`);
      if (c.req === IOMMUFD_REQS.IOMMU_FAULT_QUEUE_ALLOC && c.arg.t === 'struct' && c.arg.ptr === 'ok') L.push(`\t\tif (rc == 0) track(*(uint32_t *)(scratch + 12), K_FAULT); ${cmt('out_fault_fd')}`);
      return;
    }
    case 'pread':
    case 'pwrite': {
      if (c.op === 'pwrite') L.push(`\t\tmemset(scratch, 0, ${Math.min(c.count, PAGE)});`);
      L.push(`\t\trc = ret(${c.op}(${fdExpr(c.fd)}, ${ptrExpr(c.ptr, c.count)}, ${c.count >>> 0}u, ${offExpr(c.off, h)}));`);
      return;
    }
    case 'read':
    case 'write':
      if (c.op === 'write') L.push('\t\tmemset(scratch, 0, 8); scratch[0] = 1;');
      L.push(`\t\trc = ret(${c.op}(${fdExpr(c.fd)}, ${ptrExpr(c.ptr, c.count)}, ${c.count >>> 0}u));`);
      return;
    case 'mmap':
      L.push(`\t\t{ void *m = mmap(NULL, ${hex(c.len >>> 0)}, ${c.prot}, ${hex(c.flags >>> 0)}, ${fdExpr(c.fd)}, ${offExpr(c.off, h)});`);
      L.push(`\t\t  rc = m == MAP_FAILED ? -errno : (long)(uintptr_t)m; if (m != MAP_FAILED && nmaps < MAXMAPS) { maplen[nmaps] = ${hex(c.len >>> 0)}; maps[nmaps++] = m; } }`);
      return;
    case 'munmap':
      L.push(`\t\tif (nmaps) { int i = ${c.map >>> 0}u % nmaps; rc = ret(munmap(maps[i], ${hex(c.len >>> 0)})); if (rc == 0) { memmove(&maps[i], &maps[i + 1], (nmaps - i - 1) * sizeof maps[0]); memmove(&maplen[i], &maplen[i + 1], (nmaps - i - 1) * sizeof maplen[0]); nmaps--; } } else rc = 0;`);
      return;
    case 'mmio': {
      const t = `volatile uint${c.width * 8}_t *`;
      L.push(`\t\tif (nmaps) { ${t}p = (${t})((char *)maps[${c.map >>> 0}u % nmaps] + ${hex(c.off >>> 0)});`);
      // a store of `width` bytes keeps the value's low bytes (the harness's storeU)
      const v = c.width === 4 ? c.value >>> 0 : (c.value >>> 0) & ((1 << (8 * c.width)) - 1);
      L.push(c.write ? `\t\t  *p = ${hex(v)}u; rc = 0; } else rc = 0;` : '\t\t  rc = *p; } else rc = 0;');
      return;
    }
    case 'store':
      // the harness's store: a whole word at that byte of the DMA area page (a write to a page a
      // 3.14 fork shares copy-on-write takes the write-protection fault that breaks the sharing)
      L.push(`\t\t*(volatile uint32_t *)(dma_area + ${c.page % DMA_PAGES} * PAGE + ${hex(c.off & 0xffc)}) = ${hex(c.value >>> 0)}u; rc = 0;`);
      return;
    case 'eventfd':
      L.push(`\t\trc = ret(eventfd(${c.init >>> 0}u, ${hex(c.flags >>> 0)})); if (rc >= 0) track(rc, K_EVENTFD);`);
      return;
    case 'efd_write':
      L.push(`\t\t{ uint64_t v = ${hex(BigInt.asUintN(64, BigInt(c.value)))}ULL; memcpy(scratch, &v, 8); rc = ret(write(${fdExpr(c.fd)}, scratch, 8)); }`);
      return;
    case 'poll': {
      L.push(`\t\t{ struct pollfd *p = (void *)scratch;`);
      c.fds.forEach((f, i) => L.push(`\t\t  p[${i}].fd = ${fdExpr(f)}; p[${i}].events = ${hex(c.events & 0x7fff)}; p[${i}].revents = 0;`));
      L.push(`\t\t  rc = ret(poll(p, ${c.fds.length}, 0)); }`);
      return;
    }
    case 'echo': {
      // the harness's echo (Harness.echo) passes the path from the scratch buffer and the value
      // (with its newline) from scratch + 1024: the bytes a later call's struct may read past its
      // own length (a GET_HW_INFO size of 0x68 reads them: -E2BIG where they are not zero)
      const pl = new TextEncoder().encode(c.path).length + 1;
      const vl = new TextEncoder().encode(c.value).length + 1;
      L.push(`\t\tmemcpy(scratch, ${cstr(c.path)}, ${pl}); memcpy(scratch + 1024, ${cstr(`${c.value}\n`)}, ${vl}); ${cmt('as the harness lays them out')}`);
      L.push(`\t\trc = echo(${cstr(c.path)}, ${cstr(c.value)});`);
      return;
    }
    case 'fork': {
      // the plan numbers the child's incarnation; a fork into its own slot does nothing (the harness's)
      const into = c.into % NPROC;
      const inc = ctx.forkInc.get(c) ?? -1;
      if (into === c.p % NPROC || inc < 0) L.push(`\t\trc = 0; ${cmt('a fork into its own slot: nothing')}`);
      else L.push(`\t\trc = fork_into(${into}, ${inc});\n\t\tif (became) return 0; ${cmt(`the child, now P${into}: it replies to the coordinator from its loop`)}`);
      return;
    }
    case 'exit':
      L.push(`\t\trc = 0; end_slot(${c.p % NPROC}); ${cmt('the process exits: every fd and mapping goes; the slot\'s next call gets a fresh process')}`);
      return;
    case 'run':
      L.push(`\t\t{ struct timespec ts = { ${Math.floor(c.ns / 1e9)}, ${c.ns % 1e9} }; nanosleep(&ts, NULL); rc = 0; }`);
      return;
    case 'raw':
      L.push(`\t\trc = ret(syscall(${c.nr}, ${c.args.map((x) => `${hex(x >>> 0)}u`).join(', ') || '0'}));`);
      // the fds a close or a dup of the fd table changes (raw_fds); others a raw call makes are not tracked
      L.push(`\t\traw_fds(${c.nr}, ${hex((c.args[0] ?? 0) >>> 0)}u, ${hex((c.args[1] ?? 0) >>> 0)}u, rc);`);
      return;
  }
}

/** the harness's result text ("0", "-EINVAL", "killed by kernel Oops: ...") as a C check of rc; null: nothing to compare */
export function expectC(ret: string): { cond: string; text: string } | null {
  const m = /^-([A-Z0-9]+)$/.exec(ret);
  if (m) {
    const n = Object.entries(ERRNO_NAMES).find(([, v]) => v === m[1])?.[0];
    return n === undefined ? null : { cond: `rc == -${n}`, text: ret };
  }
  if (/^-?\d+$/.test(ret)) return { cond: Number(ret) >= 0 ? 'rc >= 0' : `rc == ${ret}`, text: ret };
  return null;
}

