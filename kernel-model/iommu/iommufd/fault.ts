/**
 * iommufd's fault queue (Linux v6.12 drivers/iommu/iommufd/fault.c): IOMMU_FAULT_QUEUE_ALLOC
 * creates a fault object and its file "[iommufd-pgfault]", from which user space would read
 * the I/O page faults of an HWPT allocated with IOMMU_HWPT_FAULT_ID_VALID and to which it
 * would write the responses.
 *
 * On this board no fault ever reaches the queue: an HWPT with a fault queue cannot be made on
 * the arm-smmu (SMMUv1/v2). iommufd_hwpt_alloc passes its flags, FAULT_ID_VALID included, to
 * iommufd_hwpt_paging_alloc, which refuses any flag without a domain_alloc_user op
 * (-EOPNOTSUPP, arm-smmu has none), and iommufd_hwpt_nested_alloc likewise; so the
 * iommufd_get_fault lookup after it is never reached (device.ts iommufdHwptAlloc), nor the
 * attach's iommufd_fault_iopf_enable (IOMMU_DEV_FEAT_IOPF, which arm-smmu does not offer
 * either). What remains is the object's life and the file's operations on an empty queue:
 *
 * - read: `*ppos` non-zero or a count that is not a multiple of struct iommu_hwpt_pgfault (40
 *   bytes) -ESPIPE; otherwise nothing to deliver, 0 (it never blocks, whatever O_NONBLOCK says);
 * - write: `*ppos` non-zero or a count that is not a multiple of struct
 *   iommu_hwpt_page_response (8 bytes) -ESPIPE; count 0 is 0; the first response is read with
 *   copy_from_user, whose non-zero result (the bytes it could not copy) the v6.12 code returns
 *   as is: a response the kernel cannot read gives a POSITIVE count, e.g. 8 for an unmapped
 *   buffer, although nothing was written. Then a code other than IOMMUFD_PAGE_RESP_SUCCESS (0)
 *   or _INVALID (1) -EINVAL, and an unknown cookie (every cookie: nothing was delivered)
 *   -EINVAL;
 * - poll: EPOLLOUT, never EPOLLIN;
 * - no llseek, and anon_inode_getfile gives neither FMODE_LSEEK nor FMODE_PREAD/PWRITE (VFIO's
 *   device fd adds them by hand; this file does not): lseek, pread and pwrite -ESPIPE. The
 *   position is never moved (read and write do not touch *ppos);
 * - release: drops the file's reference on the object and on the iommufd context.
 *
 * The object has two references while the file is open (the xarray's, the file's), so
 * IOMMU_DESTROY is -EBUSY until the file is closed; the file also holds the iommufd file
 * (iommufd_ctx_get), so closing the iommufd first leaves the context alive until the fault
 * file goes.
 */
import { WaitQueue } from '../../../emulator/cpu/cpu.js';
import { EINVAL, EOPNOTSUPP, ESPIPE } from '../../base/errno.js';
import { O_RDWR, POLLOUT } from '../../uapi/constants.js';
import { anonInodeGetFile, type File, type FileOps, type PollTable, type Task } from '../../vfs/file.js';
import { ucmdRespond, type Ucmd } from './main.js';
import { IommufdObject, type IommufdCtx } from './objects.js';

/** sizeof(struct iommu_hwpt_pgfault): flags, dev_id, pasid, grpid, perm, __reserved, addr (u64), length, cookie */
export const IOMMU_HWPT_PGFAULT_SIZE = 40;
/** sizeof(struct iommu_hwpt_page_response): cookie, code */
export const IOMMU_HWPT_PAGE_RESPONSE_SIZE = 8;
/** enum iommufd_page_response_code */
export const IOMMUFD_PAGE_RESP_SUCCESS = 0;
export const IOMMUFD_PAGE_RESP_INVALID = 1;

/** struct iommufd_fault */
export class IommufdFault extends IommufdObject {
  readonly type = 'fault' as const;
  /** fault->wait_queue: poll waits here; nothing wakes it (no fault is ever delivered) */
  readonly waitQueue = new WaitQueue('iommufd-pgfault');
  /** fault->filep */
  file: File | null = null;
  constructor(readonly ictx: IommufdCtx) {
    super();
  }
}

/** iommufd_fault_fops */
export const IOMMUFD_FAULT_FOPS: FileOps = {
  name: 'iommufd-pgfault',
  keepsPos: true,
  read: (f, _task, _buf, count) => {
    // iommufd_fault_fops_read: the delivery list is empty, so done == 0 and rc == 0
    if (f.pos !== 0 || count % IOMMU_HWPT_PGFAULT_SIZE !== 0) return -ESPIPE;
    return 0;
  },
  write: (f, task, buf, count) => faultWrite(f, task, buf, count),
  poll: (f, pt: PollTable | null) => {
    // iommufd_fault_fops_poll: poll_wait on fault->wait_queue; EPOLLOUT, EPOLLIN only with faults to deliver
    if (pt !== null) pt.wait((f.priv as IommufdFault).waitQueue);
    return POLLOUT;
  },
  release: (f) => {
    // iommufd_fault_fops_release: refcount_dec(&fault->obj.users); iommufd_ctx_put(fault->ictx)
    const fault = f.priv as IommufdFault;
    fault.users--;
    fault.ictx.svc.ctxPut(fault.ictx);
  },
};

/** scratch for one struct iommu_hwpt_page_response */
const response = new Uint8Array(IOMMU_HWPT_PAGE_RESPONSE_SIZE);
const responseView = new DataView(response.buffer);

/** iommufd_fault_fops_write on an empty response xarray (the module comment gives the rules) */
function faultWrite(f: File, task: Task, buf: number, count: number): number {
  if (f.pos !== 0 || count % IOMMU_HWPT_PAGE_RESPONSE_SIZE !== 0) return -ESPIPE;
  if (count === 0) return 0;
  // rc = copy_from_user(&response, buf + done, response_size); if (rc) break; ... return done == 0 ? rc : done
  const left = uncopied(task, buf, IOMMU_HWPT_PAGE_RESPONSE_SIZE);
  if (left > 0) return left;
  const code = responseView.getUint32(4, true);
  if (code !== IOMMUFD_PAGE_RESP_SUCCESS && code !== IOMMUFD_PAGE_RESP_INVALID) return -EINVAL;
  // group = xa_erase(&fault->response, response.cookie): no group was ever delivered
  return -EINVAL;
}

/**
 * copy_from_user of `len` bytes into `response`: the bytes it could not copy (0: all). The
 * model counts from the first byte it cannot read to the end; ARM's copy_from_user may report
 * more (it is allowed to), never fewer.
 */
function uncopied(task: Task, va: number, len: number): number {
  if (task.mm.copyFromUser(response, 0, va, len) === 0) return 0;
  let ok = 0;
  while (ok < len && task.mm.copyFromUser(response, ok, va + ok, 1) === 0) ok++;
  return len - ok;
}

/**
 * iommufd_fault_alloc (IOMMU_FAULT_QUEUE_ALLOC, struct iommu_fault_alloc: size, flags,
 * out_fault_id, out_fault_fd): flags -EOPNOTSUPP; the object (id reserved), its file (a
 * reference on the object and on the context), an fd number with O_CLOEXEC (-EMFILE), the
 * answer copied back (-EFAULT: the fd number released, the file put, the object aborted),
 * then the object finalized and the fd installed
 */
export function iommufdFaultAlloc(u: Ucmd): number {
  if (u.dv.getUint32(4, true) !== 0) return -EOPNOTSUPP;
  const ictx = u.ictx;
  const fault = new IommufdFault(ictx);
  ictx.reserve(fault);
  const f = anonInodeGetFile('[iommufd-pgfault]', IOMMUFD_FAULT_FOPS, fault, O_RDWR);
  fault.users++;
  ictx.svc.ctxGet(ictx);
  fault.file = f;
  const fdno = u.task.proc.unusedFd();
  const rc = fdno < 0 ? fdno : respond(u, fault.id, fdno);
  if (rc) {
    f.put(); // out_fput: the release drops the object's and the context's references
    ictx.abort(fault); // iommufd_object_abort_and_destroy (iommufd_fault_destroy: nothing queued)
    return rc;
  }
  ictx.finalize(fault);
  u.task.proc.fdInstall(f, true); // fd_install(fdno, ...): the number reserved above
  return 0;
}

function respond(u: Ucmd, id: number, fd: number): number {
  u.dv.setUint32(8, id, true);
  u.dv.setUint32(12, fd, true);
  return ucmdRespond(u, 16);
}
