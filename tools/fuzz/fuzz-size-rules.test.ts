/**
 * What the last HWPT round left undrawn or unjudged (2026-12-07): iommufd_fops_ioctl's size rules
 * predicted by the reference model for every iommufd request (model-iommufd-args.ts sizeRuleErr:
 * get_user -EFAULT, below min_size -EINVAL, copy_struct_from_user's tail -E2BIG / -EFAULT),
 * IOMMU_HWPT_ALLOC's nesting path and fault queue (arb-iommufd.ts hwptNestRes), the HWPT requests
 * on the compat container's fd (containerHwptOpArg, model-compat.ts compatHwptOp), and longer
 * structs (oversized). The 2014 trees draw none of them.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { IommufdService } from '../../kernel-model/iommu/iommufd/main.js';
import * as ERRNO from '../../kernel-model/base/errno.js';
import { callArbOf, SETUP_PREFIX } from './arb.js';
import { HWPT_PREFIX } from './arb-iommufd.js';
import { runProgram } from './engine.js';
import { IOMMUFD_REQS } from './program-iommufd.js';
import { hasHwptRef, type Call, type FdRef, type IoctlArg, type PtrKind, type Value } from './program.js';
import { asCallLines, reproUnderUnicorn } from './testing/repro.js';

const I = IOMMUFD_REQS;
const mfd: FdRef = { k: 'iommufd', i: 0, mk: 1 };
const hwpt = (i: number): Value => ({ hwpt: i, mk: 1 });
const dev = (i: number): Value => ({ dev: i, mk: 1 });
const io = (req: number, type: string, fields: Record<string, Value>, ptr: PtrKind = 'ok', tail?: Value[], fd: FdRef = mfd): Call => {
  const arg: IoctlArg = { t: 'struct', type: type as 'iommu_destroy', fields, ptr };
  if (tail) arg.tail = tail;
  return { op: 'ioctl', p: 0, fd, req, arg };
};
const ioasAlloc = (argsz: number, ptr: PtrKind = 'ok', tail?: Value[]): Call => io(I.IOMMU_IOAS_ALLOC, 'iommu_ioas_alloc', { argsz, flags: 0, out_ioas_id: 0 }, ptr, tail);
const hwptAlloc = (flags: number, pt: Value, fault: Value, dataType = 0, dataLen = 0): Call =>
  io(I.IOMMU_HWPT_ALLOC, 'iommu_hwpt_alloc', { argsz: 48, flags, dev_id: dev(0), pt_id: pt, out_hwpt_id: 0, reserved: 0, data_type: dataType, data_len: dataLen, data_uptr: { dma: 0 }, fault_id: fault });
const setDirty = (argsz: number, id: Value, tail?: Value[], fd: FdRef = mfd): Call => io(I.IOMMU_HWPT_SET_DIRTY_TRACKING, 'iommu_hwpt_set_dirty_tracking', { argsz, flags: 1, hwpt_id: id, reserved: 0 }, 'ok', tail, fd);
const faultAlloc: Call = io(I.IOMMU_FAULT_QUEUE_ALLOC, 'iommu_fault_alloc', { argsz: 16, flags: 0, out_fault_id: 0, out_fault_fd: 0 });

/** on a made /dev/iommu context: the size rules, then HWPT_ALLOC's nesting path and fault queue */
const PROG: Call[] = [
  ioasAlloc(11), // below min_size (12)
  ioasAlloc(16, 'ok', [1]), // a non-zero u32 past the kernel's 12 bytes
  ioasAlloc(16, 'ok', [0]), // zero past it: the struct as written (IOAS 1)
  ioasAlloc(12, 'null'), // get_user of the size faults
  ioasAlloc(12, 'unmapped'),
  ioasAlloc(0xffffffff, 'ok', [1]), // a tail past TASK_SIZE: access_ok, -EFAULT before any byte is read
  ioasAlloc(4096, 'ok', [1]), // a tail that fits: -E2BIG
  setDirty(15, hwpt(0)), // below min_size (16)
  setDirty(20, hwpt(0), [7]), // -E2BIG before the lookup
  setDirty(20, hwpt(0), [0]), // a paging HWPT: -EOPNOTSUPP (no dirty_ops)
  faultAlloc, // a fault object (id 5: device 2, IOAS 3, HWPT 4 made above)
  hwptAlloc(0, hwpt(0), 0), // a paging HWPT as pt_id: iommufd_hwpt_nested_alloc without domain_alloc_user
  hwptAlloc(0, hwpt(0), 0, 1, 8), // with driver data: the same
  hwptAlloc(4, hwpt(0), 5), // FAULT_ID_VALID naming the fault object: -EOPNOTSUPP before the lookup
  hwptAlloc(4, { ioas: 0, mk: 1 }, 5), // on an IOAS: the flag alone refuses (no domain_alloc_user)
  hwptAlloc(4, hwpt(0), dev(0)), // another object's id as fault_id: the same
  hwptAlloc(0, hwpt(0), 0, 1, 0), // data_type without data_len: -EINVAL first
];
const RETS = ['-EINVAL', '-E2BIG', '0', '-EFAULT', '-EFAULT', '-EFAULT', '-E2BIG', '-EINVAL', '-E2BIG', '-EOPNOTSUPP', '0', '-EOPNOTSUPP', '-EOPNOTSUPP', '-EOPNOTSUPP', '-EOPNOTSUPP', '-EOPNOTSUPP', '-EINVAL'];

/** mainline+iommufd-compat: the group path (compat IOAS 1, device 2, auto HWPT 3), then the HWPT requests on the container's fd */
const cfd: FdRef = { k: 'container', i: 0 };
const COMPAT: Call[] = [
  ...SETUP_PREFIX,
  setDirty(16, 3, undefined, cfd), // the auto HWPT: no dirty_ops
  setDirty(16, 1, undefined, cfd), // the compat IOAS: not a paging HWPT
  setDirty(16, 2, undefined, cfd), // the device
  setDirty(20, 3, [1], cfd), // longer, non-zero tail
  io(I.IOMMU_HWPT_GET_DIRTY_BITMAP, 'iommu_hwpt_get_dirty_bitmap', { argsz: 48, hwpt_id: 3, flags: 0, reserved: 0, iova: 0, length: 0, page_size: 0x1000, data: { dma: 0 } }, 'ok', undefined, cfd), // length 0 wraps
  io(I.IOMMU_HWPT_INVALIDATE, 'iommu_hwpt_invalidate', { argsz: 32, hwpt_id: 3, data_uptr: { dma: 0 }, data_type: 0, entry_len: 16, entry_num: 1, reserved: 0 }, 'ok', undefined, cfd), // no nested HWPT
];
const COMPAT_RETS = ['-EOPNOTSUPP', '-ENOENT', '-ENOENT', '-E2BIG', '-EOVERFLOW', '-ENOENT'];

describe('iommufd size rules, HWPT nesting and fault ids, HWPT requests on the compat container', () => {
  it('mainline draws them; the 2014 tree draws none', () => {
    const sample = (iommufd: boolean): Call[] => fc.sample(callArbOf(iommufd, false), { seed: 5, numRuns: 8000 });
    const main = sample(true);
    const ioctl = (c: Call): c is Extract<Call, { op: 'ioctl' }> => c.op === 'ioctl';
    const struct = (c: Call): (IoctlArg & { tail?: Value[] }) | null => (ioctl(c) && c.arg.t === 'struct' ? c.arg : null);
    const field = (c: Call, k: string): Value | undefined => (struct(c)?.t === 'struct' ? (struct(c) as { fields: Record<string, Value> }).fields[k] : undefined);
    const alloc = main.filter((c) => ioctl(c) && c.req === I.IOMMU_HWPT_ALLOC);
    const nest = alloc.filter((c) => typeof field(c, 'pt_id') === 'object' && 'hwpt' in (field(c, 'pt_id') as object));
    const faultValid = alloc.filter((c) => ((field(c, 'flags') as number) & 4) !== 0);
    expect(nest.length / alloc.length).toBeGreaterThan(0.08);
    expect(faultValid.length / alloc.length).toBeGreaterThan(0.05);
    const onContainer = main.filter((c) => ioctl(c) && c.fd !== undefined && 'k' in c.fd && c.fd.k === 'container' && (c.req === I.IOMMU_HWPT_SET_DIRTY_TRACKING || c.req === I.IOMMU_HWPT_GET_DIRTY_BITMAP || c.req === I.IOMMU_HWPT_INVALIDATE));
    expect(onContainer.length).toBeGreaterThan(40);
    // longer than the kernel's struct with a u32 past it
    const tails = main.filter((c) => ioctl(c) && c.req >= 0x3b80 && c.req <= 0x3b8f && struct(c)?.tail !== undefined);
    expect(tails.length).toBeGreaterThan(15);
    const old = sample(false);
    expect(old.filter((c) => ioctl(c) && (hasHwptRef(c) || struct(c)?.tail !== undefined && c.req >= 0x3b80 && c.req <= 0x3b8f))).toEqual([]);
    expect(old.filter((c) => ioctl(c) && c.req === I.IOMMU_HWPT_SET_DIRTY_TRACKING)).toEqual([]);
  });

  it('each call gets the errno the size rules and v6.12\'s HWPT_ALLOC order give, the model agreeing', () => {
    const { finding, harness: h } = runProgram('mainline', PROG, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript.map((t) => t.ret)).toEqual(RETS);
  });

  it('a kernel that accepts a non-zero tail, or scans past TASK_SIZE, is a model divergence', () => {
    type Copy = (task: { mm: { copyFromUser: (d: Uint8Array, o: number, va: number, n: number) => number } }, dst: Uint8Array, arg: number, usize: number) => number;
    const proto = IommufdService.prototype as unknown as { copyStructFromUser: Copy };
    const orig = proto.copyStructFromUser;
    try {
      // the kernel model before its fix: no access_ok of the tail (size 0xffffffff scanned: -E2BIG)
      proto.copyStructFromUser = (task, dst, arg, usize) => {
        if (usize > dst.length) return -7; // -E2BIG, whatever the tail
        return task.mm.copyFromUser(dst, 0, arg, usize) < 0 ? -14 : 0;
      };
      const { finding } = runProgram('mainline', [PROG[2]!], {});
      expect(finding?.sig).toBe('model-divergence:iommufd');
      const r2 = runProgram('mainline', [PROG[5]!], {});
      expect(r2.finding?.sig).toBe('model-divergence:iommufd');
    } finally {
      proto.copyStructFromUser = orig;
    }
  });

  it('the HWPT requests on the compat container\'s fd answer as on /dev/iommu, the model agreeing', () => {
    const { finding, harness: h } = runProgram('mainline+iommufd-compat', COMPAT, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript.slice(SETUP_PREFIX.length).map((t) => t.ret)).toEqual(COMPAT_RETS);
  });

  it.skipIf(shouldSkipUnicornTests())('the C reproducers return what the harness returned under Unicorn', () => {
    const u = reproUnderUnicorn('sizerules', PROG);
    expect(u.calls).toEqual(asCallLines(RETS));
    expect(u.stdout).not.toContain('differs from the model');
    expect(u.stdout).toMatch(/^call 1 = -1 \(errno 7\b/m); // E2BIG
    expect(u.stdout).toMatch(/^call 5 = -1 \(errno 14\b/m); // EFAULT
    const c = reproUnderUnicorn('compathwpt', COMPAT, 'mainline+iommufd-compat');
    expect(c.calls.slice(SETUP_PREFIX.length)).toEqual(asCallLines(COMPAT_RETS).map((l, i) => l.replace(`call ${i} `, `call ${i + SETUP_PREFIX.length} `)));
    expect(c.stdout).toMatch(new RegExp(`^call ${SETUP_PREFIX.length + 4} = -1 \\(errno 75\\b`, 'm'));
  });

  it.skipIf(shouldSkipUnicornTests())('a generated program of the new draws gets the harness\'s results from its C reproducer under Unicorn', () => {
    // HWPT_PREFIX, then the first 24 drawn calls that are new: longer structs, HWPT_ALLOC's nesting / FAULT_ID_VALID draws
    const isNew = (c: Call): boolean => {
      if (c.op !== 'ioctl' || c.arg.t !== 'struct' || !('k' in c.fd) || c.fd.k !== 'iommufd') return false;
      const f = c.arg.fields;
      const ref = (v: Value | undefined): boolean => typeof v === 'object' && v !== null && 'hwpt' in v;
      return c.arg.tail !== undefined || (c.req === I.IOMMU_HWPT_ALLOC && (ref(f['pt_id']) || ((f['flags'] as number) & 4) !== 0));
    };
    const drawn = fc.sample(callArbOf(true, false), { seed: 11, numRuns: 20000 }).filter(isNew).slice(0, 24).map((c) => ({ ...c, p: 0 }) as Call);
    const prog = [...HWPT_PREFIX, ...drawn];
    const { finding, harness: h } = runProgram('mainline', prog, { transcript: true });
    expect(finding).toBeNull();
    const rets = h.transcript.map((t) => t.ret);
    expect(rets.slice(HWPT_PREFIX.length)).toEqual(expect.arrayContaining(['-E2BIG', '-EOPNOTSUPP']));
    const u = reproUnderUnicorn('sizegen', prog);
    expect(u.calls).toEqual(asCallLines(rets));
    expect(u.stdout).not.toContain('differs from the model');
    // the errnos too
    const errnos = rets.map((r, i) => (r.startsWith('-') ? `${i}:${(ERRNO as unknown as Record<string, number>)[r.slice(1)]}` : null)).filter((x) => x !== null);
    const got = [...u.stdout.matchAll(/^call (\d+) = -1 \(errno (\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(got).toEqual(errnos);
  });
});
