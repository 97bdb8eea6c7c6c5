/**
 * The reproducers' runtime (emit-c-runtime.ts), its iommufd resource part: how a reproducer resolves
 * and makes what the harness's resource-typed refs name (FdRef.mk, Values { ioas }, { dev }): the
 * i-th fd of a kind, make_fd, the IOAS ids and bound devices per /dev/iommu context (track_ioas,
 * make_ioas, track_dev, make_dev, bind_free; keyed by open file, so a dup names the same context),
 * ctx_fd, bound_fd, make_bound_dev, and the HWPTs (hwpt_of probes the context, make_hwpt). Split from
 * emit-c-runtime.ts (a pure move, 2026-12-07), then grown.
 */

import { IOMMU_FAULT_QUEUE_ALLOC, IOMMU_HWPT_ALLOC, IOMMU_HWPT_GET_DIRTY_BITMAP, IOMMU_IOAS_ALLOC } from '../../kernel-model/iommu/iommufd/uapi.js';
import { HWPT_ID_MAX } from './harness-iommufd.js';
import { CDEV_REQS, MAKE_DEV_CDEVS } from './program-iommufd.js';

const FAULT_ALLOC = `0x${(IOMMU_FAULT_QUEUE_ALLOC >>> 0).toString(16)}`;
const IOAS_ALLOC = `0x${(IOMMU_IOAS_ALLOC >>> 0).toString(16)}`;
const HWPT_ALLOC = `0x${(IOMMU_HWPT_ALLOC >>> 0).toString(16)}`;
const DIRTY_BITMAP = `0x${(IOMMU_HWPT_GET_DIRTY_BITMAP >>> 0).toString(16)}`;
const BIND = `0x${(CDEV_REQS.VFIO_DEVICE_BIND_IOMMUFD >>> 0).toString(16)}`;
const DEV_CDEVS = MAKE_DEV_CDEVS.map((p) => `"${p}"`).join(', ');

/** the resource functions: need the fd table, the IOAS and device tables and scratch (RUNTIME_C declares them) */
export const RUNTIME_RES_C = String.raw`/* the i-th (modulo) live fd of that kind; 1000 (never open: EBADF) when there is none */
UNUSED static int fd_of(int kind, unsigned i)
{
	int list[MAXFDS], n = 0, k;
	for (k = 0; k < ntfd; k++)
		if (kind == K_ANY || tkind[k] == kind) list[n++] = tfd[k];
	return n ? list[i % n] : 1000;
}

/*
 * a resource-typed fd argument (the harness's FdRef.mk, Harness.makeResources): with no live fd of
 * that kind, make one first: open("/dev/iommu") (the path in the scratch buffer, as the harness
 * writes it), and for a fault fd IOMMU_FAULT_QUEUE_ALLOC (struct iommu_fault_alloc, 16 bytes, flags 0,
 * in the scratch buffer) on the first /dev/iommu fd, made first when there is none
 */
UNUSED static void make_fd(int kind)
{
	int k;
	long rc;
	for (k = 0; k < ntfd; k++)
		if (tkind[k] == kind) return;
	if (kind == K_IOMMUFD) {
		strcpy(scratch, "/dev/iommu");
		rc = open(scratch, O_RDWR);
		if (rc >= 0) track(rc, K_IOMMUFD);
		return;
	}
	if (kind != K_FAULT) return;
	make_fd(K_IOMMUFD);
	for (k = 0; k < ntfd && tkind[k] != K_IOMMUFD; k++)
		;
	if (k == ntfd) return;
	memset(scratch, 0, 16);
	*(uint32_t *)scratch = 16;
	rc = ioctl(tfd[k], ${FAULT_ALLOC}u /* IOMMU_FAULT_QUEUE_ALLOC */, scratch);
	if (rc == 0) track(*(uint32_t *)(scratch + 12), K_FAULT); /* out_fault_fd */
}

/* whether fd is a tracked /dev/iommu fd */
UNUSED static int is_iommufd(int fd)
{
	int k;
	for (k = 0; k < ntfd; k++)
		if (tfd[k] == fd) return tkind[k] == K_IOMMUFD;
	return 0;
}

/* IOAS id on /dev/iommu fd fd (IOMMU_IOAS_ALLOC's out_ioas_id), kept in ascending order per open file */
UNUSED static void track_ioas(int fd, unsigned id)
{
	int i, j, f = file_of(fd);
	if (!is_iommufd(fd) || nio == MAXFDS) return;
	for (i = 0; i < nio && (iofd[i] != f || (unsigned)ioid[i] < id); i++)
		;
	for (j = nio; j > i; j--) { iofd[j] = iofd[j - 1]; ioid[j] = ioid[j - 1]; }
	iofd[i] = f; ioid[i] = (int)id; nio++;
}

/* IOMMU_DESTROY of id on fd: an IOAS of its no longer */
UNUSED static void untrack_ioas(int fd, unsigned id)
{
	int i, f = file_of(fd);
	for (i = 0; i < nio; i++)
		if (iofd[i] == f && f != 0 && (unsigned)ioid[i] == id) {
			memmove(&iofd[i], &iofd[i + 1], (nio - i - 1) * sizeof iofd[0]);
			memmove(&ioid[i], &ioid[i + 1], (nio - i - 1) * sizeof ioid[0]);
			nio--;
			return;
		}
}

/* the i-th (modulo) IOAS id of fd's context, 0 when it has none (the harness's value() of { ioas }) */
UNUSED static unsigned ioas_of(int fd, unsigned i)
{
	int list[MAXFDS], n = 0, k, f = file_of(fd);
	for (k = 0; k < nio; k++)
		if (f != 0 && iofd[k] == f) list[n++] = ioid[k];
	return n ? (unsigned)list[i % n] : 0;
}

/*
 * a resource-typed IOAS id (Harness.makeIoas): when /dev/iommu fd fd's context has no IOAS,
 * IOMMU_IOAS_ALLOC (struct iommu_ioas_alloc, 12 bytes, flags 0, in the scratch buffer) on it first
 */
UNUSED static void make_ioas(int fd)
{
	int k, f = file_of(fd);
	if (!is_iommufd(fd)) return;
	for (k = 0; k < nio; k++)
		if (iofd[k] == f) return;
	memset(scratch, 0, 12);
	*(uint32_t *)scratch = 12;
	if (ioctl(fd, ${IOAS_ALLOC}u /* IOMMU_IOAS_ALLOC */, scratch) == 0) track_ioas(fd, *(uint32_t *)(scratch + 8)); /* out_ioas_id */
}

/* VFIO_DEVICE_BIND_IOMMUFD of cdev fd dfd to /dev/iommu fd ifd gave device id id, kept in ascending order per open file of ifd (a dup of ifd names the same context) */
UNUSED static void track_dev(int ifd, int dfd, unsigned id)
{
	int i, j, f = file_of(ifd);
	if (!is_iommufd(ifd) || ndv == MAXFDS) return;
	for (i = 0; i < ndv && (dvi[i] != f || (unsigned)dvid[i] < id); i++)
		;
	for (j = ndv; j > i; j--) { dvi[j] = dvi[j - 1]; dvd[j] = dvd[j - 1]; dvid[j] = dvid[j - 1]; }
	dvi[i] = f; dvd[i] = file_of(dfd); dvid[i] = (int)id; ndv++;
}

/* the i-th (modulo) device id bound to fd's context, 0 when it has none (the harness's value() of { dev }) */
UNUSED static unsigned dev_of(int fd, unsigned i)
{
	int list[MAXFDS], n = 0, k, f = file_of(fd);
	for (k = 0; k < ndv; k++)
		if (f != 0 && dvi[k] == f) list[n++] = dvid[k];
	return n ? (unsigned)list[i % n] : 0;
}

/*
 * a resource-typed device id (Harness.makeDev): when /dev/iommu fd fd's context has no bound
 * device, each cdev in turn: open (the path in the scratch buffer, as the harness writes it),
 * VFIO_DEVICE_BIND_IOMMUFD (struct vfio_device_bind_iommufd, 16 bytes, flags 0, in the scratch
 * buffer) with fd, close when the bind failed, until one binds
 */
UNUSED static void bind_free(int fd);
UNUSED static void make_dev(int fd)
{
	int k, f = file_of(fd);
	if (!is_iommufd(fd)) return;
	for (k = 0; k < ndv; k++)
		if (dvi[k] == f) return;
	bind_free(fd);
}

/* each cdev in turn: open, VFIO_DEVICE_BIND_IOMMUFD with /dev/iommu fd fd, close when the bind failed, until one binds (the harness's bindFreeCdev) */
UNUSED static void bind_free(int fd)
{
	static const char *const paths[] = { ${DEV_CDEVS} };
	unsigned k;
	int dfd;
	for (k = 0; k < sizeof paths / sizeof paths[0]; k++) {
		strcpy(scratch, paths[k]);
		dfd = open(scratch, O_RDWR);
		if (dfd < 0) continue;
		track(dfd, K_DEVICE);
		memset(scratch, 0, 16);
		*(uint32_t *)scratch = 16;
		*(int32_t *)(scratch + 8) = fd;
		if (ioctl(dfd, ${BIND}u /* VFIO_DEVICE_BIND_IOMMUFD */, scratch) == 0) {
			track_dev(fd, dfd, *(uint32_t *)(scratch + 12)); /* out_devid */
			return;
		}
		if (close(dfd) == 0) untrack(dfd);
	}
}

/*
 * the /dev/iommu fd whose context a call on fd works in (the harness's ctxFdOf): fd itself for a
 * /dev/iommu fd, for a cdev fd bound to one's context (track_dev) the lowest fd on that /dev/iommu
 * open file (the BIND's fd or a dup of it); -1 else
 */
UNUSED static int ctx_fd(int fd)
{
	int k, j, f = file_of(fd);
	if (is_iommufd(fd)) return fd;
	for (k = 0; f != 0 && k < ndv; k++)
		if (dvd[k] == f)
			for (j = 0; j < ntfd; j++)
				if (tfile[j] == dvi[k]) return tfd[j];
	return -1;
}

/*
 * whether id is a paging HWPT of /dev/iommu fd fd's context: IOMMU_HWPT_GET_DIRTY_BITMAP (the 48-byte
 * struct on the stack, length 0) is -ENOENT for any other id (hw_pagetable.c
 * iommufd_hwpt_get_dirty_bitmap -> iommufd_get_hwpt_paging) and fails after that lookup for a HWPT's
 * (-EOVERFLOW: io_pagetable.c iommufd_check_iova_range), reading and changing nothing
 */
UNUSED static int is_hwpt(int fd, unsigned id)
{
	uint32_t b[12];
	memset(b, 0, sizeof b);
	b[0] = 48;
	b[1] = id;
	return ioctl(fd, ${DIRTY_BITMAP}u /* IOMMU_HWPT_GET_DIRTY_BITMAP */, b) == 0 || errno != ENOENT;
}

/*
 * the i-th (modulo) paging HWPT id, ascending, of fd's context, 0 when it has none (the harness's
 * value() of { hwpt }): the context's ids 1..${HWPT_ID_MAX} probed (is_hwpt), as ATTACH's auto domains go
 * with their last device without a call of the program's that names them
 */
UNUSED static unsigned hwpt_of(int fd, unsigned i)
{
	unsigned list[${HWPT_ID_MAX}], id;
	int n = 0;
	if (!is_iommufd(fd)) return 0;
	for (id = 1; id <= ${HWPT_ID_MAX}; id++)
		if (is_hwpt(fd, id)) list[n++] = id;
	return n ? list[i % n] : 0;
}

/*
 * a resource-typed HWPT id (Harness.makeHwpt): when /dev/iommu fd fd's context has no paging HWPT,
 * a device bound when it has none (make_dev), a fresh IOAS (IOMMU_IOAS_ALLOC, as make_ioas) and
 * IOMMU_HWPT_ALLOC (struct iommu_hwpt_alloc, 48 bytes, flags 0, in the scratch buffer) of the
 * context's first device on it
 */
UNUSED static void make_hwpt(int fd)
{
	unsigned ioas;
	if (!is_iommufd(fd) || hwpt_of(fd, 0) != 0) return;
	make_dev(fd);
	memset(scratch, 0, 12);
	*(uint32_t *)scratch = 12;
	if (ioctl(fd, ${IOAS_ALLOC}u /* IOMMU_IOAS_ALLOC */, scratch) != 0) return;
	ioas = *(uint32_t *)(scratch + 8); /* out_ioas_id */
	track_ioas(fd, ioas);
	memset(scratch, 0, 48);
	*(uint32_t *)scratch = 48;
	*(uint32_t *)(scratch + 8) = dev_of(fd, 0);
	*(uint32_t *)(scratch + 12) = ioas;
	ioctl(fd, ${HWPT_ALLOC}u /* IOMMU_HWPT_ALLOC */, scratch);
}

/* the i-th (modulo), in fd order, cdev fd bound to a /dev/iommu fd's context; 1000 when none (the harness's FdRef { k: 'device', mk }) */
UNUSED static int bound_fd(unsigned i)
{
	int list[MAXFDS], n = 0, k;
	for (k = 0; k < ntfd; k++)
		if (tkind[k] == K_DEVICE && ctx_fd(tfd[k]) >= 0) list[n++] = tfd[k];
	return n ? list[i % n] : 1000;
}

/*
 * a resource-typed device fd (Harness.makeBoundDev): with no bound cdev fd, /dev/iommu opened when
 * there is none (make_fd), then a free cdev bound to the first /dev/iommu fd (bind_free)
 */
UNUSED static void make_bound_dev(void)
{
	int k;
	if (bound_fd(0) != 1000) return;
	make_fd(K_IOMMUFD);
	for (k = 0; k < ntfd && tkind[k] != K_IOMMUFD; k++)
		;
	if (k < ntfd) bind_free(tfd[k]);
}

`;
