/**
 * The reproducers' runtime (emit-c-runtime.ts), its iommufd resource part: how a reproducer resolves
 * and makes what the harness's resource-typed refs name (FdRef.mk, Values { ioas }, { dev }): the
 * i-th fd of a kind, make_fd, the IOAS ids and bound devices per /dev/iommu context (track_ioas,
 * make_ioas, track_dev, make_dev, bind_free), ctx_fd, bound_fd, make_bound_dev. Split from
 * emit-c-runtime.ts (pure move: the emitted C is the same).
 */

import { IOMMU_FAULT_QUEUE_ALLOC, IOMMU_IOAS_ALLOC } from '../../kernel-model/iommu/iommufd/uapi.js';
import { CDEV_REQS, MAKE_DEV_CDEVS } from './program-iommufd.js';

const FAULT_ALLOC = `0x${(IOMMU_FAULT_QUEUE_ALLOC >>> 0).toString(16)}`;
const IOAS_ALLOC = `0x${(IOMMU_IOAS_ALLOC >>> 0).toString(16)}`;
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

/* IOAS id on /dev/iommu fd fd (IOMMU_IOAS_ALLOC's out_ioas_id), kept in ascending order */
UNUSED static void track_ioas(int fd, unsigned id)
{
	int i, j;
	if (!is_iommufd(fd) || nio == MAXFDS) return;
	for (i = 0; i < nio && (iofd[i] != fd || (unsigned)ioid[i] < id); i++)
		;
	for (j = nio; j > i; j--) { iofd[j] = iofd[j - 1]; ioid[j] = ioid[j - 1]; }
	iofd[i] = fd; ioid[i] = (int)id; nio++;
}

/* IOMMU_DESTROY of id on fd: an IOAS of its no longer */
UNUSED static void untrack_ioas(int fd, unsigned id)
{
	int i;
	for (i = 0; i < nio; i++)
		if (iofd[i] == fd && (unsigned)ioid[i] == id) {
			memmove(&iofd[i], &iofd[i + 1], (nio - i - 1) * sizeof iofd[0]);
			memmove(&ioid[i], &ioid[i + 1], (nio - i - 1) * sizeof ioid[0]);
			nio--;
			return;
		}
}

/* the i-th (modulo) IOAS id of fd's context, 0 when it has none (the harness's value() of { ioas }) */
UNUSED static unsigned ioas_of(int fd, unsigned i)
{
	int list[MAXFDS], n = 0, k;
	for (k = 0; k < nio; k++)
		if (iofd[k] == fd) list[n++] = ioid[k];
	return n ? (unsigned)list[i % n] : 0;
}

/*
 * a resource-typed IOAS id (Harness.makeIoas): when /dev/iommu fd fd's context has no IOAS,
 * IOMMU_IOAS_ALLOC (struct iommu_ioas_alloc, 12 bytes, flags 0, in the scratch buffer) on it first
 */
UNUSED static void make_ioas(int fd)
{
	int k;
	if (!is_iommufd(fd)) return;
	for (k = 0; k < nio; k++)
		if (iofd[k] == fd) return;
	memset(scratch, 0, 12);
	*(uint32_t *)scratch = 12;
	if (ioctl(fd, ${IOAS_ALLOC}u /* IOMMU_IOAS_ALLOC */, scratch) == 0) track_ioas(fd, *(uint32_t *)(scratch + 8)); /* out_ioas_id */
}

/* VFIO_DEVICE_BIND_IOMMUFD of cdev fd dfd to /dev/iommu fd ifd gave device id id, kept in ascending order per ifd */
UNUSED static void track_dev(int ifd, int dfd, unsigned id)
{
	int i, j;
	if (!is_iommufd(ifd) || ndv == MAXFDS) return;
	for (i = 0; i < ndv && (dvi[i] != ifd || (unsigned)dvid[i] < id); i++)
		;
	for (j = ndv; j > i; j--) { dvi[j] = dvi[j - 1]; dvd[j] = dvd[j - 1]; dvid[j] = dvid[j - 1]; }
	dvi[i] = ifd; dvd[i] = dfd; dvid[i] = (int)id; ndv++;
}

/* the i-th (modulo) device id bound to fd's context, 0 when it has none (the harness's value() of { dev }) */
UNUSED static unsigned dev_of(int fd, unsigned i)
{
	int list[MAXFDS], n = 0, k;
	for (k = 0; k < ndv; k++)
		if (dvi[k] == fd) list[n++] = dvid[k];
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
	int k;
	if (!is_iommufd(fd)) return;
	for (k = 0; k < ndv; k++)
		if (dvi[k] == fd) return;
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
 * /dev/iommu fd, for a cdev fd bound to one's context (track_dev) that /dev/iommu fd; -1 else
 */
UNUSED static int ctx_fd(int fd)
{
	int k;
	if (is_iommufd(fd)) return fd;
	for (k = 0; k < ndv; k++)
		if (dvd[k] == fd) return dvi[k];
	return -1;
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
