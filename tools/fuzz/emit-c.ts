/**
 * C reproducers for fuzz findings (issue 22): a finding's program (Call[] with symbolic fds,
 * pointers and offsets) becomes a standalone C program that uses only <linux/vfio.h> and libc,
 * builds with guest-tests/c/build.sh (static armhf) and runs under `run --cpu unicorn --elf`
 * or on a real board with that kernel.
 *
 * Shape of the emitted program (docs/FUZZING.md, "C reproducers"):
 * - main() is a coordinator that makes no call itself: each call runs in a worker process, the
 *   process of the harness's slot that makes it (P0 root with CAP_IPC_LOCK, P1 root without it,
 *   P2 uid 1000: the worker takes the slot's credentials with setrlimit, capset and setuid). The
 *   coordinator sends each call's number down the worker's command pipe and waits for its reply,
 *   or for its death: a kernel Oops kills the calling process (arch/arm/kernel/traps.c oops_end ->
 *   make_task_dead(SIGSEGV)), and the coordinator, every worker's parent, reports it. A `fork`
 *   call is a clone with CLONE_PARENT in the worker (the child takes the other slot); an `exit`
 *   ends the worker, and the slot's next call gets a fresh one (emit-c-runtime.ts).
 * - the coordinator binds the device to the VFIO driver by sysfs writes when it is not bound yet
 *   (what the fuzz harness's administrator does); each worker maps the areas the harness's process has
 *   (scratch buffer, the read-only pages mapped where its third page was, the DMA area), then makes the calls.
 *   fds are resolved as the harness resolves them: the i-th (modulo) live fd of that kind.
 * - after the faulting call it checks what shows the finding: the errno, the leaked bytes
 *   (GET_REGION_INFO's struct, a read compared with the mmap'd registers), a DMA probe with
 *   the PL330 for the DMA isolation findings, a process's VmLck in /proc/self/status (locked_vm),
 *   or (Oops) the worker's death inside that call (oops:exit, an Oops of the end-of-run exit: a
 *   worker's death as it exits after the last call).
 * - last line: "REPRODUCED <sig>: <evidence>" (exit 1, as `fuzz --replay` exits 1 when the
 *   finding reproduces), "NOT REPRODUCED <sig>: <why>" (exit 0), or "UNCHECKED <sig>: ..."
 *   (exit 3) for invariants a user program cannot observe (pinned-page counts, the
 *   reference model's state); 2 when the program could not start or a worker could not take
 *   its slot.
 *
 * The TypeScript harness is the reference: the emitter replays the program in it (a fresh
 * System, as `fuzz --replay` does) for the signature, its message and every call's result,
 * which the program prints next to its own results ("model: ...").
 */
import { ERRNO_NAMES } from '../../kernel-model/base/errno.js';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';
import { DMA_PAGES, NPROC } from './arb.js';
import { loadBaseline, matchBaseline } from './baseline.js';
import { runProgram } from './engine.js';
import { DEFAULT_SUPPRESSIONS, DEVICE, FUZZ_BOARD, Harness, type Finding, type StepRecord } from './harness.js';
import { CDEV_REQS, IOMMUFD_REQS } from './program-iommufd.js';
import { MAIN_C, RUNTIME_C } from './emit-c-runtime.js';
import { STRUCTS, VFIO_IOMMU_DIRTY_PAGES, VFIO_REQS, formatCall, hasBoundDevRef, hasDevRef, hasIoasRef, isBoundDevRef, makeRefs, reqName, type Call, type FdKind, type FdRef, type IoctlArg, type Off, type PtrKind, type Value } from './program.js';

const PAGE = 4096;

export interface EmitInput {
  profile: string;
  program: readonly Call[];
  /** the signature the finding file names (the replay's own signature is used when they differ) */
  sig?: string;
  /** where it came from (a finding file's path), for the header comment */
  source?: string;
  /** why it is known: the baseline's reason (the review citation), for the header comment */
  why?: string;
  /** the file's message: where the model gives no finding (another profile), the check of `sig` uses it (the DMA probe's IOVA) */
  message?: string;
  /** the file's `suppressed` list: the replay suppresses these too */
  suppressed?: readonly string[];
}

export interface EmitResult {
  /** the C source */
  c: string;
  /** the signature the TypeScript harness gives for the program (what the C program checks), or null when it runs clean */
  sig: string | null;
  /** the harness's finding (message, step), or null */
  finding: Finding | null;
  /** how the program shows the finding: 'oops' | 'region-info' | 'read-oracle' | 'errno' | 'return' | 'dma-probe' | 'unchecked' */
  check: CheckKind;
}

export type CheckKind = 'oops' | 'region-info' | 'read-oracle' | 'errno' | 'return' | 'dma-probe' | 'ownership' | 'locked-vm' | 'unchecked';

export class EmitError extends Error {}

/** the signatures ignored while replaying for the emitter: the default suppressions and the finding file's `suppressed` list, except the finding's own */
function replayIgnore(sig: string | undefined, suppressed: readonly string[] = []): Set<string> {
  return new Set([...DEFAULT_SUPPRESSIONS, ...suppressed].filter((s) => s !== sig));
}

/** Which check a signature gets. */
export function checkKind(sig: string): CheckKind {
  if (sig.startsWith('oops:')) return 'oops';
  if (sig === 'region-info-leak') return 'region-info';
  if (sig === 'rw-offset-mismatch') return 'read-oracle';
  if (sig.startsWith('bad-errno:')) return 'errno';
  if (sig.startsWith('bad-return:')) return 'return';
  if (sig === 'dma-unmapped' || sig === 'dma-readable-without-read-flag' || sig === 'dma-missing' || sig === 'dma-wrong-page' || sig === 'dma-stale-page') return 'dma-probe';
  if (sig === 'ownership') return 'ownership';
  if (sig === 'locked-vm' || sig === 'leak-locked-vm') return 'locked-vm';
  return 'unchecked';
}

// ------------------------------------------------------------------ C text helpers

const cstr = (s: string): string => JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
/** a comment that cannot end early */
const cmt = (s: string): string => `/* ${s.replace(/\*\//g, '* /')} */`;

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

interface Ctx {
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
  const n = h.offset(o);
  const sym = 'raw' in o ? 'raw offset' : `region ${o.region} + ${hex(o.off)}`;
  return `(off_t)${hex(BigInt.asUintN(64, BigInt(n)))}ULL ${cmt(sym)}`;
}

function callC(c: Call, ctx: Ctx, L: string[]): void {
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
      if (hasIoasRef(c) || hasDevRef(c)) L.push(`\t\tioas_fd = ctx_fd(${fdExpr(c.fd)});`);
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
    case 'echo':
      L.push(`\t\trc = echo(${cstr(c.path)}, ${cstr(c.value)});`);
      return;
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
      L.push(`\t\trc = ret(syscall(${c.nr}, ${c.args.map((x) => `${hex(x >>> 0)}u`).join(', ') || '0'})); ${cmt('fds this creates or closes are not tracked')}`);
      return;
  }
}

/** the harness's result text ("0", "-EINVAL", "killed by kernel Oops: ...") as a C check of rc; null: nothing to compare */
function expectC(ret: string): { cond: string; text: string } | null {
  const m = /^-([A-Z0-9]+)$/.exec(ret);
  if (m) {
    const n = Object.entries(ERRNO_NAMES).find(([, v]) => v === m[1])?.[0];
    return n === undefined ? null : { cond: `rc == -${n}`, text: ret };
  }
  if (/^-?\d+$/.test(ret)) return { cond: Number(ret) >= 0 ? 'rc >= 0' : `rc == ${ret}`, text: ret };
  return null;
}

interface PlanStep {
  act: 'A_CALL' | 'A_COORD' | 'A_FORK';
  slot: number;
  inc: number;
  into: number;
  newInc: number;
  /** 0: the process goes on; 1: the model's process was killed in the call; 2: it exited (a raw exit) */
  modelEnd: 0 | 1 | 2;
}

interface Plan {
  steps: PlanStep[];
  /** how many processes ever hold a slot (incarnations) */
  nInc: number;
  forkInc: Map<Call, number>;
  checkSlot: number;
  checkInc: number;
  endCheck: boolean;
}

/**
 * Which process makes each call, as the harness replaced them: a slot's first call gets a fresh
 * process (the coordinator forks it), and so does its first call after an exit, after the
 * model's process died in a call (an Oops, a raw exit) or after a fork into it failed; a fork
 * into another slot makes the child that slot's process. The check runs in the process of the
 * slot the finding names (locked_vm: the process whose counter is wrong) or of the faulting call.
 */
function planProcesses(calls: readonly Call[], transcript: readonly StepRecord[], target: Finding | null, check: CheckKind): Plan {
  const cur = Array.from({ length: NPROC }, () => -1);
  let next = 0;
  const forkInc = new Map<Call, number>();
  const steps = calls.map((c, i): PlanStep => {
    if (!('p' in c)) return { act: 'A_COORD', slot: 0, inc: 0, into: 0, newInc: 0, modelEnd: 0 };
    const p = c.p % NPROC;
    if (c.op === 'exit') {
      cur[p] = -1;
      return { act: 'A_COORD', slot: p, inc: 0, into: 0, newInc: 0, modelEnd: 0 };
    }
    if (cur[p]! < 0) cur[p] = next++;
    const ret = transcript[i]?.ret ?? '';
    const modelEnd = ret.startsWith('killed') ? 1 : ret.startsWith('exit(') ? 2 : 0;
    const st: PlanStep = { act: 'A_CALL', slot: p, inc: cur[p]!, into: 0, newInc: 0, modelEnd };
    if (c.op === 'fork' && c.into % NPROC !== p) {
      const q = c.into % NPROC;
      st.act = 'A_FORK';
      st.into = q;
      st.newInc = next++;
      forkInc.set(c, st.newInc);
      // a failed fork (the model's -ENOMEM) leaves the slot to a fresh process
      cur[q] = /^-/.test(ret) ? -1 : st.newInc;
    }
    if (modelEnd) cur[p] = -1;
    return st;
  });
  const last = calls[calls.length - 1];
  // the slot the message names (fuzzN.M): whose counter is wrong, whose page left the pinned one
  const named = (check === 'locked-vm' || target?.sig === 'dma-stale-page') && target ? /^fuzz(\d+)\./.exec(target.message) : null;
  const checkSlot = named ? Number(named[1]) % NPROC : last && 'p' in last ? last.p % NPROC : 0;
  if (cur[checkSlot]! < 0) cur[checkSlot] = next++;
  return { steps, nInc: Math.max(next, 1), forkInc, checkSlot, checkInc: cur[checkSlot]!, endCheck: check === 'locked-vm' && target?.sig === 'leak-locked-vm' };
}

/** Emit the C reproducer of a finding program. Throws EmitError for programs it cannot express. */
export function emitC(input: EmitInput): EmitResult {
  const { profile, program } = input;
  // a fork of P2 (uid 1000) into P0 or P1 gives the child root's credentials in the harness; a
  // process of uid 1000 cannot take them back (kernel/sys.c setuid, kernel/capability.c capset)
  const up = program.findIndex((c) => c.op === 'fork' && c.p % NPROC === 2 && c.into % NPROC !== 2);
  if (up >= 0) throw new EmitError(`call ${up} forks P2 (uid 1000) into P${(program[up] as { into: number }).into % NPROC}: a process of uid 1000 cannot take root's credentials, so no C program can reproduce it`);
  // the reference: replay in the TypeScript harness (a fresh System), call by call
  const { finding, harness: h } = runProgram(profile, program, { ignore: replayIgnore(input.sig, input.suppressed), transcript: true });
  const transcript: StepRecord[] = h.transcript;
  const sig = finding?.sig ?? null;
  // a program the model runs clean (e.g. a finding of rfc-v4 emitted for mainline) still gets the
  // check of the file's signature, which then prints NOT REPRODUCED where the kernel is right
  // (oops:exit is the end-of-run exit: its step is past the last call, as Harness.finish reports it)
  const target: Finding | null = finding ?? (input.sig ? { sig: input.sig, message: input.message ?? '', step: input.sig === 'oops:exit' ? program.length : program.length - 1 } : null);
  const check: CheckKind = target === null ? 'unchecked' : checkKind(target.sig);
  const step = target && target.step >= 0 && target.step < program.length ? target.step : program.length - 1;
  // an Oops of the end-of-run exit (Harness.finish: the exit-time release of the process's
  // files, signature oops:exit): the program makes every call, then exits, and that is the faulting step
  const atExit = check === 'oops' && target !== null && target.step >= program.length && program.length > 0;
  const calls = program.slice(0, step + 1);
  const caps = h.sys.profile.caps;
  const bit2 = caps.dmaMapBit2 === 'exec' ? 'VFIO_DMA_MAP_FLAG_EXEC' : caps.dmaMapBit2 === 'vaddr' ? 'VFIO_DMA_MAP_FLAG_VADDR' : '0x4 /* not a flag in this profile */';
  const plan = planProcesses(calls, transcript, target, check);
  const ctx: Ctx = { h, bit2, lines: [], forkInc: plan.forkInc };
  const bindVfioBind = caps.vfioPlatform && caps.bindMechanism === 'vfio_bind';

  const L: string[] = [];
  const targetSig = target?.sig ?? 'none';
  // ---- header comment
  L.push('/*');
  L.push(` * Reproducer of the fuzz finding "${targetSig}" on profile ${profile}`.replace(/\*\//g, '* /'));
  L.push(' * (generated by `vfio-arm-emu fuzz --replay FILE --emit-c`: tools/fuzz/emit-c.ts; docs/FUZZING.md).');
  if (input.source) L.push(` * From: ${input.source.replace(/\*\//g, '* /')}`);
  if (input.why) L.push(` * Known finding: ${input.why.replace(/\*\//g, '* /')}`);
  if (input.sig && sig === null) L.push(` * The model of ${profile} runs this program clean: the program checks for "${input.sig}" all the same (expect NOT REPRODUCED).`);
  else if (input.sig && sig !== input.sig) L.push(` * The file names "${input.sig}", but its program gives "${sig}" in the model: this program checks the latter.`);
  if (finding) L.push(` * The model's report: ${finding.message.replace(/\*\//g, '* /')}`);
  L.push(' *');
  L.push(' * Build: guest-tests/c/build.sh (arm-linux-gnueabihf-gcc -static). Run: ./repro [/dev/vfio/<group>]');
  L.push(` * (under the emulator, on the fuzzer's board: vfio-arm-emu run --cpu unicorn --elf repro --profile ${profile} --board ${FUZZ_BOARD}).`);
  L.push(' * Prints one verdict line: "REPRODUCED <sig>: ..." (exit 1), "NOT REPRODUCED <sig>: ..." (exit 0),');
  L.push(' * "UNCHECKED <sig>: ..." (exit 3: an invariant no user program can observe); exit 2: could not start.');
  L.push(' * main() makes no call: each call runs in a worker process, the process of the fuzz harness\'s slot');
  L.push(' * that makes it (P0 root with CAP_IPC_LOCK, P1 root without it, P2 uid 1000). A kernel Oops kills the');
  L.push(' * process that made the call (arch/arm/kernel/traps.c oops_end), and main() reports it; the Oops itself');
  L.push(' * is in the kernel log.');
  if (targetSig.startsWith('oops:bug:')) {
    L.push(' * A kernel BUG(): Linux kills the caller and goes on (tainted), so main() prints the verdict; the');
    L.push(' * emulator stops the machine after such a BUG (tools/system/system.ts), so there the run ends with');
    L.push(' * "the machine stopped the run: kernel BUG: ..." and the BUG report in the kernel log instead.');
  }
  L.push(' */');
  L.push('#define _GNU_SOURCE');
  L.push('#define _FILE_OFFSET_BITS 64');
  L.push('#include <linux/vfio.h>');
  L.push('/* the calls pass bad pointers and sizes on purpose */');
  L.push('#pragma GCC diagnostic ignored "-Wpragmas"\n#pragma GCC diagnostic ignored "-Wnonnull"\n#pragma GCC diagnostic ignored "-Wstringop-overflow"\n#pragma GCC diagnostic ignored "-Wstringop-overread"\n#pragma GCC diagnostic ignored "-Warray-bounds"');
  L.push('#include <errno.h>\n#include <fcntl.h>\n#include <poll.h>\n#include <signal.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <sched.h>\n#include <time.h>\n#include <sys/eventfd.h>\n#include <sys/ioctl.h>\n#include <sys/mman.h>\n#include <sys/resource.h>\n#include <sys/syscall.h>\n#include <sys/wait.h>\n#include <unistd.h>');
  L.push('');
  L.push('/* Constants of the 2014 RFC series "VFIO support for platform devices" that today\'s header');
  L.push(' * lacks or gives another meaning (bit 2 of the MAP_DMA flags is VFIO_DMA_MAP_FLAG_VADDR since v5.12). */');
  L.push('#ifndef VFIO_DMA_MAP_FLAG_EXEC\n#define VFIO_DMA_MAP_FLAG_EXEC (1 << 2) /* RFC patch 02: executable by the device */\n#endif');
  L.push('#ifndef VFIO_DMA_MAP_FLAG_VADDR\n#define VFIO_DMA_MAP_FLAG_VADDR (1 << 2)\n#endif');
  L.push('#ifndef VFIO_DEVICE_FLAGS_PLATFORM\n#define VFIO_DEVICE_FLAGS_PLATFORM (1 << 2) /* RFC patch 05: vfio-platform device */\n#endif');
  L.push('#ifndef VFIO_DMA_UNMAP_FLAG_ALL\n#define VFIO_DMA_UNMAP_FLAG_ALL (1 << 1)\n#endif');
  L.push('#ifndef VFIO_DMA_UNMAP_FLAG_VADDR\n#define VFIO_DMA_UNMAP_FLAG_VADDR (1 << 2)\n#endif');
  L.push('');
  L.push(`#define SIG ${cstr(targetSig)}`);
  L.push(`#define DEVICE ${cstr(DEVICE)}`);
  L.push(`#define PAGE ${PAGE}`);
  L.push(`static const char *group_path_default = ${cstr(`/dev/vfio/${h.group}`)}; /* the device's IOMMU group (argv[1] replaces it) */`);
  L.push('#define MAXFDS 256\n#define MAXMAPS 64');
  L.push(`#define NSLOTS ${NPROC} ${cmt('the harness\'s process slots: P0 root with CAP_IPC_LOCK, P1 root without it, P2 uid 1000')}`);
  L.push(`#define NINC ${plan.nInc} ${cmt('the processes that ever hold a slot: one command pipe each')}`);
  L.push('');
  L.push(RUNTIME_C);
  // ---- binding
  L.push('/* the administrator\'s binding, by sysfs writes (as the fuzz harness does): each device the harness');
  L.push(' * binds to VFIO, only when it exists and is not bound to the VFIO driver yet */');
  L.push('static void bind_device(const char *bus, const char *dev, const char *vfio)\n{\n\tchar p[300], name[256], *drv;');
  L.push('\tsnprintf(p, sizeof p, "/sys/bus/%s/devices/%s", bus, dev);');
  L.push('\tif (access(p, F_OK) != 0) return; /* not on this board */');
  L.push('\tdrv = sysfs_link(bus, dev, "driver", name, sizeof name) == 0 ? name : NULL;');
  L.push('\tif (drv && strcmp(drv, vfio) == 0) return;');
  if (bindVfioBind) {
    L.push('\t/* 2014 series (patch 04): unbind the current driver, then vfio-platform\'s vfio_bind file */');
    L.push('\tif (drv) { snprintf(p, sizeof p, "/sys/bus/platform/drivers/%s/unbind", drv); echo(p, dev); }');
    L.push('\techo("/sys/bus/platform/drivers/vfio-platform/vfio_bind", dev);');
  } else {
    L.push('\t/* mainline: driver_override, unbind, drivers_probe (Documentation/driver-api/vfio.rst; Documentation/ABI/testing/sysfs-bus-platform and sysfs-bus-amba: driver_override) */');
    L.push('\tsnprintf(p, sizeof p, "/sys/bus/%s/devices/%s/driver_override", bus, dev);');
    L.push('\techo(p, vfio);');
    L.push('\tif (drv) { snprintf(p, sizeof p, "/sys/bus/%s/drivers/%s/unbind", bus, drv); echo(p, dev); }');
    L.push('\tsnprintf(p, sizeof p, "/sys/bus/%s/drivers_probe", bus);');
    L.push('\techo(p, dev);');
  }
  L.push('}');
  L.push('');
  L.push('static void bind_devices(void)\n{');
  for (const d of h.devices) {
    const b = h.sys.kernel.driverCore.findDeviceOnAnyBus(d.name)?.bus.name ?? 'platform';
    L.push(`\tbind_device(${cstr(b)}, ${cstr(d.name)}, ${cstr(b === 'amba' ? 'vfio-amba' : 'vfio-platform')}); ${cmt(`IOMMU group ${d.group}`)}`);
  }
  // the harness's iommufd.allow_unsafe_interrupts (Harness set-up): VFIO_DEVICE_BIND_IOMMUFD is
  // -EPERM without it on this board (iommufd_device_bind: no isolated MSI)
  if (h.sys.iommufd) L.push('\techo("/sys/module/iommufd/parameters/allow_unsafe_interrupts", "1"); /* as the harness: BIND_IOMMUFD needs it here */');
  L.push('}');
  L.push('');
  // ---- check helpers for the signature
  L.push(checkHelpers(check, h, calls, target, transcript));
  // ---- the calls: a worker's (do_call) and the coordinator's (coord_call: run, exit)
  const doCall: string[] = ['/* the calls a worker makes, each printed with the model\'s result */', 'static long do_call(int i)\n{\n\tlong rc = 0;\n\tswitch (i) {'];
  const coordCall: string[] = ['/* the calls the coordinator makes: the passing of time, and a process\'s exit */', 'static void coord_call(int i)\n{\n\tlong rc = 0;\n\tswitch (i) {'];
  calls.forEach((c, i) => {
    const out = plan.steps[i]!.act === 'A_COORD' ? coordCall : doCall;
    out.push(`\t/* call ${i}: ${formatCall(c).replace(/\*\//g, '* /').replace(/\/\*/g, '/ *')} */`);
    out.push(`\tcase ${i}:`);
    out.push('\t{');
    callC(c, ctx, out);
    out.push('\t}');
    const exp = transcript[i] ? expectC(transcript[i]!.ret) : null;
    const model = transcript[i]?.ret ?? '?';
    out.push(`\t\tshow(${i}, rc, ${exp ? exp.cond : 1}, ${cstr(model.length > 120 ? model.slice(0, 117) + '...' : model)});`);
    out.push('\t\tbreak;');
  });
  for (const out of [doCall, coordCall]) out.push('\tdefault:\n\t\tbreak;\n\t}\n\t(void)rc;\n\treturn' + (out === doCall ? ' rc;' : ';') + '\n}\n');
  L.push(...doCall, ...coordCall);
  // ---- the plan and the verdict's parameters
  L.push('/* the plan: for each call, the slot whose process makes it and that process\'s number (its incarnation);');
  L.push(' * A_COORD: the coordinator makes it; A_FORK: the child is `new_inc` in slot `into`; model_end: the');
  L.push(' * model\'s process ended in the call (1 killed, 2 exited: the slot gets a fresh process after) */');
  L.push('enum { A_CALL, A_COORD, A_FORK };');
  L.push('static const struct plan { int8_t act, slot, inc, into, new_inc, model_end; } plan[] = {');
  plan.steps.forEach((p, i) => L.push(`\t{ ${p.act}, ${p.slot}, ${p.inc}, ${p.into}, ${p.newInc}, ${p.modelEnd} }, ${cmt(`call ${i}`)}`));
  if (plan.steps.length === 0) L.push('\t{ A_COORD, 0, 0, 0, 0, 0 }');
  L.push('};');
  L.push(`#define NSTEPS ${calls.length}`);
  L.push(`#define OOPS_AT ${check === 'oops' && !atExit ? step : -1} ${cmt('the call a kernel Oops kills its caller in, for an Oops finding')}`);
  L.push(`#define AT_EXIT ${atExit ? 1 : 0} ${cmt('an Oops of the end-of-run exit')}`);
  L.push(`#define END_CHECK ${plan.endCheck ? 1 : 0} ${cmt('the check after every process released what it holds')}`);
  L.push(`#define CHECK_SLOT ${plan.checkSlot} ${cmt('the slot whose process makes the check')}`);
  L.push(`#define CHECK_INC ${plan.checkInc}`);
  L.push(MAIN_C);
  return { c: L.join('\n') + '\n', sig, finding, check };
}

/** the check after the faulting call: check_finding(rc) returns the child's exit status and prints the evidence */
function checkHelpers(check: CheckKind, h: Harness, calls: readonly Call[], finding: Finding | null, transcript: readonly StepRecord[]): string {
  const L: string[] = [];
  const last = calls[calls.length - 1];
  const sig = finding?.sig ?? 'none';
  L.push(`/* how the finding shows: ${check} */`);
  switch (check) {
    case 'oops':
      L.push('/* reaching this means the call returned: no Oops */');
      L.push('UNUSED static int check_finding(long rc)\n{\n\t(void)rc;\n\tprintf("the call returned: no kernel Oops\\n");\n\treturn 0;\n}');
      break;
    case 'region-info': {
      // the device's real regions: index, size and file offset as the profile's ABI encodes it
      const regs = h.regions.map((r, i) => `{ ${hex(r.size)}ULL, ${hex(BigInt(h.offset({ region: i, off: 0 })))}ULL }`);
      L.push(`/* the regions the device has (size, file offset): ${h.regions.length} */`);
      L.push(`static const struct { uint64_t size, offset; } regions[] = { ${regs.join(', ') || '{ 0, 0 }'} };`);
      L.push(`#define NREGIONS ${h.regions.length}`);
      L.push('/* a GET_REGION_INFO that succeeds must describe a real region (index < num_regions, its size and offset) */');
      L.push('static int check_finding(long rc)\n{\n\tstruct vfio_region_info *s = (void *)scratch;\n\tchar b[80];\n\tint ok;');
      L.push('\tif (rc != 0) { printf("GET_REGION_INFO failed: nothing leaked\\n"); return 0; }');
      L.push('\tok = s->index < NREGIONS && regions[s->index].size == s->size && regions[s->index].offset == s->offset && (s->flags & ~7u) == 0;');
      L.push('\tif (ok) { printf("GET_REGION_INFO(index %u) describes a real region\\n", s->index); return 0; }');
      L.push('\thexdump((const uint8_t *)s, 32, b);');
      L.push('\tprintf("leak: GET_REGION_INFO(index %u) succeeded with a region the device does not have (the device has %d): flags 0x%x size 0x%llx offset 0x%llx; bytes %s\\n", s->index, NREGIONS, s->flags, (unsigned long long)s->size, (unsigned long long)s->offset, b);');
      L.push('\treturn 1;\n}');
      break;
    }
    case 'read-oracle': {
      if (!last || last.op !== 'pread' || 'raw' in last.off) {
        L.push('static int check_finding(long rc)\n{\n\t(void)rc;\n\tprintf("the faulting call is not a read of a device region: cannot compare\\n");\n\treturn 3;\n}');
        break;
      }
      const reg = h.regions[last.off.region];
      const pos = h.offset(last.off);
      const mapOff = h.offset({ region: last.off.region, off: 0 });
      const pa = reg ? reg.addr + last.off.off : 0;
      L.push('/* a read of the device fd must return what the registers hold: compared with the registers as the');
      L.push(' * mmap of the same region shows them (32-bit loads: the PL330 decodes only word accesses) */');
      L.push('static int check_finding(long rc)\n{\n\tchar got[2 * 4096 + 1], want[2 * 4096 + 1];\n\tuint8_t w[4096];\n\tvolatile uint32_t *regs;\n\tlong k;');
      L.push(`\tif (rc <= 0) { printf("the read failed: nothing to compare\\n"); return 0; }`);
      L.push(`\tregs = mmap(NULL, ${hex(reg?.size ?? PAGE)}, PROT_READ, MAP_SHARED, fd_of(K_DEVICE, ${'k' in last.fd ? last.fd.i >>> 0 : 0}u), (off_t)${hex(BigInt.asUintN(64, BigInt(mapOff)))}ULL);`);
      L.push('\tif (regs == MAP_FAILED) { printf("cannot mmap the region to compare: %s\\n", strerror(errno)); return 3; }');
      L.push(`\tfor (k = 0; k < rc; k++) { unsigned o = ${last.off.off >>> 0}u + k; w[k] = (uint8_t)(regs[o / 4] >> (8 * (o % 4))); }`);
      L.push('\thexdump((const uint8_t *)scratch, rc, got);\n\thexdump(w, rc, want);');
      L.push(`\tif (strcmp(got, want) == 0) { printf("the read returned what the registers hold\\n"); return 0; }`);
      L.push(`\tprintf("mismatch: read of %ld bytes at offset ${hex(pos)} returned %s, but the register at physical ${hex(pa)} holds %s\\n", rc, got, want);`);
      L.push('\treturn 1;\n}');
      break;
    }
    case 'errno': {
      const n = Number(sig.split(':').pop());
      L.push(`/* ${sig.replace(/\*\//g, '')}: the call returns errno ${n}, which is not a valid error for it */`);
      L.push(`static int check_finding(long rc)\n{\n\tif (rc == -${n}) { printf("the call returned errno ${n} (%s), not a valid error for it\\n", strerror(${n})); return 1; }`);
      L.push(`\tprintf("the call returned %ld, not errno ${n}\\n", rc);\n\treturn 0;\n}`);
      break;
    }
    case 'return': {
      let cond = '0';
      let what = 'an impossible value';
      if (last && (last.op === 'pread' || last.op === 'pwrite')) {
        cond = `rc > ${last.count >>> 0}`;
        what = `more than the ${last.count >>> 0} bytes asked for`;
      } else if (last && last.op === 'mmap') {
        cond = 'rc >= 0 && ((unsigned long)rc % PAGE != 0 || (unsigned long)rc >= 0xbf000000ul)';
        what = 'an address that is not a page-aligned user address';
      }
      L.push(`static int check_finding(long rc)\n{\n\tif (${cond}) { printf("the call returned %ld: ${what}\\n", rc); return 1; }`);
      L.push('\tprintf("the call returned %ld\\n", rc);\n\treturn 0;\n}');
      break;
    }
    case 'dma-probe':
      L.push(dmaProbe(h, finding!, calls));
      break;
    case 'ownership':
      L.push(ownershipCheck(h));
      break;
    case 'locked-vm':
      L.push(lockedVmCheck(finding!));
      break;
    case 'unchecked': {
      const want = transcript[calls.length - 1]?.ret ?? '';
      if (finding) {
        L.push(`/* ${sig.replace(/\*\//g, '')} is an invariant of the model a user program cannot observe (the kernel's`);
        L.push(' * counters, page tables or the reference model): the program shows the calls run as in the model */');
      } else L.push('/* the model finds nothing in this program: it shows the calls and their results only */');
      L.push(`static int check_finding(long rc)\n{\n\tprintf("last call returned %ld (model: %s)\\n", rc, ${cstr(want)});\n\treturn 3;\n}`);
      break;
    }
  }
  return L.join('\n') + '\n';
}

/**
 * The ownership finding (harness.ts: a group a user space container holds has a device bound to
 * a host driver): for each device the harness binds to VFIO, the sysfs `driver` link names the
 * driver it is bound to and the `iommu_group` link its group (/dev/vfio/N); the group fds the
 * program holds for that group say with VFIO_GROUP_GET_STATUS whether a container holds it
 * (VFIO_GROUP_FLAGS_CONTAINER_SET). A device bound to a driver other than the VFIO one while a
 * container holds its group reproduces it. Only what a user program can see is used: on a real
 * board the links and the ioctl are the same.
 */
function ownershipCheck(h: Harness): string {
  const devs = h.devices.map((d) => {
    const bus = h.sys.kernel.driverCore.findDeviceOnAnyBus(d.name)?.bus.name ?? 'platform';
    return `{ ${cstr(bus)}, ${cstr(d.name)}, ${cstr(bus === 'amba' ? 'vfio-amba' : 'vfio-platform')} }`;
  });
  return String.raw`/* a group a user space container holds must have no device bound to a host driver (3.14
 * vfio_dev_viable and the group notifier; mainline iommu_device_use_default_domain): each device's
 * sysfs driver and iommu_group links, and VFIO_GROUP_GET_STATUS on the program's fds of that group */
static const struct { const char *bus, *dev, *vfio; } devs[] = { ${devs.join(', ')} };
#define NDEVS ${devs.length}

/* 1: a container holds group g (an fd of it says CONTAINER_SET), 0: not, -1: the program has no fd of it */
static int group_held(int g, unsigned *flags)
{
	struct vfio_group_status st;
	int k, seen = -1;
	for (k = 0; k < ntfd; k++) {
		if (tkind[k] != K_GROUP || tgrp[k] != g) continue;
		memset(&st, 0, sizeof st);
		st.argsz = sizeof st;
		if (ioctl(tfd[k], VFIO_GROUP_GET_STATUS, &st) != 0) continue;
		*flags = st.flags;
		if (st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET) return 1;
		seen = 0;
	}
	return seen;
}

static int check_finding(long rc)
{
	char drv[256], grp[64];
	unsigned flags = 0;
	int i, held;
	(void)rc;
	for (i = 0; i < NDEVS; i++) {
		if (sysfs_link(devs[i].bus, devs[i].dev, "driver", drv, sizeof drv) != 0) { printf("%s: not bound to a driver\n", devs[i].dev); continue; }
		if (sysfs_link(devs[i].bus, devs[i].dev, "iommu_group", grp, sizeof grp) != 0) { printf("%s: bound to %s, in no IOMMU group\n", devs[i].dev, drv); continue; }
		held = group_held(atoi(grp), &flags);
		printf("%s: bound to %s, IOMMU group %s: %s\n", devs[i].dev, drv, grp, held < 0 ? "the program has no fd of it" : held ? "a container holds it" : "no container holds it");
		if (held == 1 && strcmp(drv, devs[i].vfio) != 0) {
			printf("ownership: group %s is in a user space container (GET_STATUS flags 0x%x) and its device %s is bound to the host driver %s\n", grp, flags, devs[i].dev, drv);
			return 1;
		}
	}
	printf("no group a container holds has a device bound to a host driver\n");
	return 0;
}`;
}

/**
 * locked-vm / leak-locked-vm: the process's locked_vm as /proc/self/status shows it (VmLck,
 * fs/proc/array.c task_mem: locked_vm << (PAGE_SHIFT - 10) kB, an unsigned long, so a counter
 * below zero prints wrapped), read in the process of the slot the harness names, against what
 * the model says its live mappings lock (the harness's message: "the live mappings account N";
 * 0 for a leak, read after every process closed its fds and unmapped its mappings).
 */
function lockedVmCheck(finding: Finding): string {
  const leak = finding.sig === 'leak-locked-vm';
  const want = leak ? 0 : Number(/the live mappings account (-?\d+)/.exec(finding.message)?.[1] ?? 0);
  return String.raw`#define WANT_PAGES (${want}L) /* the pages the model says the process's live mappings lock */
/* VmLck from /proc/self/status, in kB; 0 or -1 */
static int vmlck(unsigned long *kb)
{
	char b[4096], *p;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0) return -1;
	n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n <= 0) return -1;
	b[n] = 0;
	p = strstr(b, "\nVmLck:");
	if (!p) return -1;
	*kb = strtoul(p + 7, NULL, 10);
	return 0;
}

static int check_finding(long rc)
{
	unsigned long kb, want = (unsigned long)WANT_PAGES << 2;
	(void)rc;
	if (vmlck(&kb) != 0) { printf("cannot read VmLck from /proc/self/status\n"); return 3; }
	if (kb == want) { printf("P%d: VmLck %lu kB, what its live DMA mappings lock\n", my_slot, kb); return 0; }
	printf("locked_vm: P%d's VmLck is %lu kB${leak ? ' after every process closed its fds and unmapped its mappings' : ''}, but its live DMA mappings lock %lu kB\n", my_slot, kb, want);
	return 1;
}`;
}

/**
 * The IOVA and the access a DMA finding's message names, for the probe: the harness's
 * messages (tools/fuzz/harness.ts, the isolation check) say "reaches iova X -> PA (read/write)"
 * (a writable entry where nothing is mapped: probe a write, which a read-only entry would
 * fault), "can write iova X", "can read iova X", "iova X is mapped (write) but ..." (probe the
 * access the mapping grants), "iova X translates to ..." (dma-wrong-page: a read); older
 * finding files "stream S write at iova X". null when the message names no IOVA.
 */
export function dmaTarget(message: string): { write: boolean; iova: number } | null {
  const old = /(read|write) at iova 0x([0-9a-f]+)/.exec(message);
  if (old) return { write: old[1] === 'write', iova: parseInt(old[2]!, 16) };
  const m = /iova 0x([0-9a-f]+)/.exec(message);
  if (!m) return null;
  const write = /reaches iova 0x[0-9a-f]+ -> 0x[0-9a-f]+ \(read\/write\)|can write iova|is mapped \(write\)/.test(message);
  return { write, iova: parseInt(m[1]!, 16) };
}

/**
 * The DMA findings: the PL330 (driven through the mmap'd registers and its debug instruction
 * interface, as guest-tests/c/pl330-vfio-test.c does) copies one word from or to the IOVA the
 * harness's SMMU check named. A completed transfer shows that the device reached it (dma-unmapped,
 * dma-readable-without-read-flag, dma-wrong-page when the word is not where the mapping's page is),
 * a fault shows dma-missing. The probe's own program and buffer are a page mapped READ|WRITE at an
 * IOVA no mapping of the program uses.
 */
function dmaProbe(h: Harness, finding: Finding, calls: readonly Call[]): string {
  const L: string[] = [];
  const t = dmaTarget(finding.message);
  const write = t?.write ?? false;
  const x = t?.iova ?? 0;
  // the mappings after the program (type1's list, in the harness): the probe's page goes above them
  let top = 0x100000;
  let userOf: string | null = null;
  for (const c of h.sys.vfio.containerStates()) {
    if (c.iommu !== 'vfio-iommu-type1' || !c.data) continue;
    for (const d of (c.data as Type1Iommu).dmas) top = Math.max(top, d.iova + d.size);
  }
  // where the word at x is in this process (the MAP_DMA of the program that covers x, by its dma-area vaddr)
  for (const c of calls) {
    if (c.op !== 'ioctl' || c.req !== VFIO_REQS.VFIO_IOMMU_MAP_DMA || c.arg.t !== 'struct') continue;
    const f = c.arg.fields;
    const iova = typeof f['iova'] === 'number' || typeof f['iova'] === 'string' ? Number(BigInt(f['iova'])) : NaN;
    const size = typeof f['size'] === 'number' || typeof f['size'] === 'string' ? Number(BigInt(f['size'])) : NaN;
    const va = f['vaddr'];
    if (x >= iova && x < iova + size && va !== undefined && typeof va === 'object' && 'dma' in va) userOf = `dma_area + ${va.dma} * PAGE + ${hex(x - iova)}`;
  }
  const probe = Math.ceil((top + 0x100000) / 0x100000) * 0x100000;
  const r0 = h.regions[0] ?? { addr: 0, size: PAGE };
  const regOff = h.offset({ region: 0, off: 0 });
  const want = finding.sig === 'dma-missing' ? 'fault' : finding.sig === 'dma-wrong-page' || finding.sig === 'dma-stale-page' ? 'elsewhere' : 'complete';
  L.push(`#define PROBE_IOVA ${hex(probe)}u /* above every mapping of the program */`);
  L.push(`#define X_IOVA ${hex(x)}u /* the IOVA the model's SMMU check named (${write ? 'write' : 'read'}) */`);
  L.push('#define PATTERN 0x5ca1ab1eu');
  L.push('/* PL330 registers (ARM DDI 0424D, 3.3) */');
  L.push('#define DSR 0x000\n#define FSRC 0x034\n#define FTR(n) (0x040 + 4 * (n))\n#define CSR(n) (0x100 + 8 * (n))\n#define DBGSTATUS 0xd00\n#define DBGCMD 0xd04\n#define DBGINST0 0xd08\n#define DBGINST1 0xd0c');
  L.push('static int check_finding(long rc)\n{');
  L.push('\tvolatile uint32_t *regs;\n\tuint8_t *pg, *p;\n\tuint32_t ccr, state = 1, got = 0;\n\tint i, mapped = 0;');
  L.push(`\tvolatile uint32_t *xu = ${userOf ? `(volatile uint32_t *)(${userOf})` : 'NULL'}; /* the word at X_IOVA in this process, when a mapping of the program covers it */`);
  L.push('\t(void)rc;');
  L.push(`\tregs = mmap(NULL, ${hex(r0.size)}, PROT_READ | PROT_WRITE, MAP_SHARED, fd_of(K_DEVICE, 0), (off_t)${hex(BigInt.asUintN(64, BigInt(regOff)))}ULL);`);
  L.push('\tif (regs == MAP_FAILED) { printf("DMA probe: cannot mmap the device registers: %s\\n", strerror(errno)); return 3; }');
  L.push('\tpg = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);');
  L.push('\tfor (i = 0; i < ntfd && !mapped; i++) {');
  // the PL330 fetches its program through the SMMU as an instruction access: the 2014 arm-smmu
  // maps XN unless IOMMU_EXEC (arm_smmu_alloc_init_pte; capability iommuExecSemantics)
  const probeFlags = h.sys.profile.caps.iommuExecSemantics === 'exec-flag' && h.sys.profile.caps.dmaMapBit2 === 'exec' ? ' | VFIO_DMA_MAP_FLAG_EXEC' : '';
  L.push(`\t\tstruct vfio_iommu_type1_dma_map mp = { sizeof mp, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE${probeFlags}, (uintptr_t)pg, PROBE_IOVA, PAGE };`);
  L.push('\t\tif (tkind[i] == K_CONTAINER && ioctl(tfd[i], VFIO_IOMMU_MAP_DMA, &mp) == 0) mapped = 1;\n\t}');
  L.push('\tif (!mapped) { printf("DMA probe: cannot map the probe page: %s\\n", strerror(errno)); return 3; }');
  L.push('\t/* the channel program: CCR (one 4-byte beat, incrementing, non-secure), SAR, DAR, LD, RMB, ST, WMB, END */');
  L.push('\tccr = 1 | (2 << 1) | (2 << 8) | (1 << 14) | (2 << 15) | (2 << 22);');
  L.push('\tp = pg;');
  L.push('#define MOV(rd, v) do { uint32_t v_ = (v); *p++ = 0xbc; *p++ = (rd); memcpy(p, &v_, 4); p += 4; } while (0)');
  if (write) {
    L.push('\t/* the device writes PATTERN (from the probe page) to X_IOVA */');
    L.push('\t*(uint32_t *)(pg + 0x800) = PATTERN; /* the word at X_IOVA is left alone: a store would break copy-on-write of the pinned page */');
    L.push('\tMOV(1, ccr); MOV(0, PROBE_IOVA + 0x800); MOV(2, X_IOVA);');
  } else {
    L.push('\t/* the device reads X_IOVA into the probe page */');
    L.push('\t*(uint32_t *)(pg + 0x800) = 0;\n\tif (xu) *xu = PATTERN;');
    L.push('\tMOV(1, ccr); MOV(0, X_IOVA); MOV(2, PROBE_IOVA + 0x800);');
  }
  L.push('\t*p++ = 0x04; *p++ = 0x12; *p++ = 0x08; *p++ = 0x13; *p++ = 0x00;');
  L.push('\t/* DMAGO channel 0 at PROBE_IOVA, through the manager thread\'s debug instruction registers */');
  L.push('\tfor (i = 0; i < 100000 && (regs[DBGSTATUS / 4] & 1); i++)\n\t\t;');
  L.push('\tif (regs[DBGSTATUS / 4] & 1) { printf("DMA probe: the debug interface stays busy\\n"); return 3; }');
  L.push('\tregs[DBGINST0 / 4] = ((uint32_t)(0xa0 | 2) << 16) | (0u << 24);');
  L.push('\tregs[DBGINST1 / 4] = PROBE_IOVA;');
  L.push('\tregs[DBGCMD / 4] = 0;');
  L.push('\t/* a 4-byte transfer takes microseconds: look after 1 ms (the channel may not have left "stopped" right after the DBGCMD) */');
  L.push('\t{ struct timespec ms = { 0, 1000000 }; nanosleep(&ms, NULL); }');
  L.push('\tfor (i = 0; i < 1000; i++) {');
  L.push('\t\tstruct timespec ts = { 0, 10000 };');
  L.push('\t\tstate = regs[CSR(0) / 4] & 0xf;');
  L.push('\t\tif (state == 0 || state == 0xe || state == 0xf || (regs[FSRC / 4] & 1)) break;');
  L.push('\t\tnanosleep(&ts, NULL);\n\t}');
  L.push(write ? '\tgot = xu ? *xu : 0;' : '\tgot = *(volatile uint32_t *)(pg + 0x800);');
  L.push('\tif (state == 0xe || state == 0xf || (regs[FSRC / 4] & 1)) {');
  L.push('\t\tprintf("DMA probe: the device\'s %s at iova 0x%x faulted (fault type 0x%x)\\n", ' + (write ? '"write"' : '"read"') + ', X_IOVA, regs[FTR(0) / 4]);');
  L.push(`\t\treturn ${want === 'fault' ? 1 : 0};\n\t}`);
  L.push('\tif (state != 0) { printf("DMA probe: the channel did not stop (state 0x%x)\\n", state); return 3; }');
  if (write) {
    L.push('\tprintf("DMA probe: the device\'s write at iova 0x%x completed without a fault%s\\n", X_IOVA, xu ? (got == PATTERN ? " and landed in the mapped page" : " but not in the mapped page") : "");');
    L.push(`\treturn ${want === 'complete' ? '1' : want === 'elsewhere' ? '(xu && got != PATTERN)' : '0'};`);
  } else {
    L.push('\tprintf("DMA probe: the device\'s read at iova 0x%x completed without a fault%s\\n", X_IOVA, xu ? (got == PATTERN ? " and read the mapped page" : " but did not read the mapped page") : "");');
    L.push(`\treturn ${want === 'complete' ? '1' : want === 'elsewhere' ? '(xu && got != PATTERN)' : '0'};`);
  }
  L.push('}');
  return L.join('\n');
}

/** Emit the C reproducer of a finding (file or campaign report), naming the committed baseline's reason when the signature is known. */
export function emitFinding(f: { profile: string; sig: string; message?: string; program: readonly Call[]; suppressed?: readonly string[] }, source?: string): EmitResult {
  const why = matchBaseline(loadBaseline(), f.profile, [f.sig]).known.get(f.sig)?.why;
  return emitC({ profile: f.profile, program: f.program, sig: f.sig, source, why, message: f.message, suppressed: f.suppressed });
}
