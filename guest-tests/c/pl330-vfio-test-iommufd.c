/*
 * pl330-vfio-test through the VFIO device cdev and iommufd (the `mainline` profile), written
 * for this project; same steps and messages as guest-tests/pl330-vfio-test/iommufd.ts. No
 * container and no group: the device's cdev is found in sysfs (the one entry of
 * /sys/bus/amba/devices/<device>/vfio-dev, or the platform bus's), opened, bound to an
 * iommufd (VFIO_DEVICE_BIND_IOMMUFD), attached to a new IOAS (IOMMU_IOAS_ALLOC,
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT), and the three pages are mapped into the IOAS at fixed IOVAs
 * (IOMMU_IOAS_MAP). From the device info on, the program is pl330-vfio-test-mainline.c's.
 * Usage: pl330-vfio-test-iommufd <device>
 */
#define _FILE_OFFSET_BITS 64 /* region offsets are index << 40 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <unistd.h>

/* VFIO uapi (include/uapi/linux/vfio.h, v6.12): _IO(';', 100 + n) */
#define VFIO_DEVICE_GET_INFO 0x3b6b
#define VFIO_DEVICE_GET_REGION_INFO 0x3b6c
#define VFIO_DEVICE_GET_IRQ_INFO 0x3b6d
#define VFIO_DEVICE_SET_IRQS 0x3b6e
#define VFIO_DEVICE_BIND_IOMMUFD 0x3b76
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT 0x3b77
#define VFIO_DEVICE_FLAGS_PLATFORM (1 << 2)
#define VFIO_DEVICE_FLAGS_AMBA (1 << 3)
#define VFIO_IRQ_SET_DATA_NONE 1
#define VFIO_IRQ_SET_DATA_EVENTFD 4
#define VFIO_IRQ_SET_ACTION_UNMASK 16
#define VFIO_IRQ_SET_ACTION_TRIGGER 32

/* iommufd uapi (include/uapi/linux/iommufd.h, v6.12): _IO(';', 0x80 + n) */
#define IOMMU_IOAS_ALLOC 0x3b81
#define IOMMU_IOAS_MAP 0x3b85
#define IOMMU_IOAS_MAP_FIXED_IOVA (1 << 0)
#define IOMMU_IOAS_MAP_WRITEABLE (1 << 1)
#define IOMMU_IOAS_MAP_READABLE (1 << 2)

struct vfio_device_bind_iommufd { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; };
struct vfio_device_attach_iommufd_pt { uint32_t argsz, flags, pt_id; };
struct iommu_ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct iommu_ioas_map { uint32_t size, flags, ioas_id, __reserved; uint64_t user_va, length, iova; };

struct vfio_device_info { uint32_t argsz, flags, num_regions, num_irqs; };
struct vfio_region_info { uint32_t argsz, flags, index, resv; uint64_t size, offset; };
struct vfio_irq_info { uint32_t argsz, flags, index, count; };
struct vfio_irq_set { uint32_t argsz, flags, index, start, count; int32_t data[1]; };

/* PL330 registers (ARM DDI 0424D 3.3) */
#include "pl330-regs.h"
#define CR0 0xe00
#define CRD 0xe14

#define SIZE 4096
#define IRQ_TIMEOUT_MS 1000

static volatile uint8_t *regs;
static uint32_t rd(unsigned off) { return *(volatile uint32_t *)(regs + off); }
static void wr(unsigned off, uint32_t v) { *(volatile uint32_t *)(regs + off) = v; }

/* guest-tests/lib/libc.ts Rand */
static uint32_t rand_state;
static void rand_seed(uint32_t seed) { rand_state = (seed ^ 0x5deece66u) ? (seed ^ 0x5deece66u) : 1; }
static uint32_t rand_next(void)
{
	uint32_t x = rand_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rand_state = x;
	return x & 0x7fffffff;
}

/* ---- PL330 program encoder ---- */
static uint8_t prog[256];
static int plen;
static void emit(uint8_t b) { prog[plen++] = b; }
static void mov(int rd_, uint32_t imm)
{
	emit(0xbc); emit(rd_);
	emit(imm & 0xff); emit((imm >> 8) & 0xff); emit((imm >> 16) & 0xff); emit(imm >> 24);
}
static void lp(int lc, int it) { emit(0x20 | (lc << 1)); emit((it - 1) & 0xff); }
static void lpend(int lc, int start) { int j = plen - start; emit(0x28 | (1 << 4) | (lc << 2)); emit(j & 0xff); }
static void body(void) { emit(0x04); emit(0x12); emit(0x08); emit(0x13); }
static void loops(int inner, int outer)
{
	int os = -1, is;
	if (outer > 1) { lp(1, outer); os = plen; }
	lp(0, inner);
	is = plen;
	body();
	lpend(0, is);
	if (outer > 1) lpend(1, os);
}

/* CCR as the original helper built it (source settings fall through to the destination) */
static uint32_t ccr_like_original(int burst_bytes, int burst_len)
{
	uint32_t size = 0, prot = 2, ccr = 0;
	while ((1 << size) < burst_bytes) size++;
	ccr |= (size << 1) | (size << 15);
	ccr |= ((uint32_t)(burst_len - 1) << 4) | ((uint32_t)(burst_len - 1) << 18);
	ccr |= 1 | (1 << 14);
	ccr |= (prot << 8) | (prot << 22);
	return ccr;
}

static void build_program(uint32_t src, uint32_t dst, int size)
{
	int bursts = size / 256;
	plen = 0;
	mov(1, ccr_like_original(16, 16));
	mov(0, src);
	mov(2, dst);
	while (bursts >= 65536) { loops(256, 256); bursts -= 65536; }
	if (bursts >= 256) { int o = bursts / 256; loops(256, o); bursts -= o * 256; }
	if (bursts > 0) loops(bursts, 0);
	emit(0x34); emit(0 << 3); /* DMASEV 0 */
	emit(0x00);               /* DMAEND */
}

static uint32_t u32at(int i) { return prog[i] | (prog[i + 1] << 8) | (prog[i + 2] << 16) | ((uint32_t)prog[i + 3] << 24); }

/* the original helper's DEBUG output while it generated the program */
static void print_debug(int size)
{
	int bursts = size / 256, i = 0, announced = 0;
	while (i < plen) {
		uint8_t b = prog[i];
		if (b == 0xbc) { printf("debug: DMAMOV %x %x\n", prog[i + 1], u32at(i + 2)); i += 6; continue; }
		if (!announced && (b & 0xfd) == 0x20) {
			announced = 1;
			printf("debug: set up loops:\n");
			printf("debug:     burst_cnt:%d\n", bursts);
			printf("debug:     full_loop_cnt:%d\n", bursts / 65536);
			printf("debug:     remaining_burst:%d\n", bursts % 65536);
		}
		if ((b & 0xfd) == 0x20) {
			int lc = (b >> 1) & 1;
			printf("debug: DMALP LOOP_CNT_%d_REG, count: %d\n", lc, prog[i + 1] + 1);
			printf("debug:         %s_loop_off:%d, cnt: %d\n", lc ? "outer" : "inner", i + 2, prog[i + 1] + 1);
			i += 2;
			continue;
		}
		if ((b & 0xf0) == 0x30 && (b & 0x0c) != 0x04 && b != 0x34 && b != 0x35 && b != 0x36 && b != 0x30 && b != 0x31 && b != 0x32) {
			int lc = (b >> 2) & 1;
			printf("debug:         %s_loop_end:%d, backjmp: %d\n", lc ? "outer" : "inner", i + 2, prog[i + 1]);
			i += 2;
			continue;
		}
		if (b == 0x34) { printf("debug: DMASEV event: %d\n", prog[i + 1] >> 3); i += 2; continue; }
		if (b == 0x00) { printf("debug: DMAEND\n"); i += 1; continue; }
		i += 1;
	}
}

static uint32_t dbginst0(const uint8_t *insn, int channel /* -1: manager */)
{
	uint32_t v = ((uint32_t)insn[0] << 16) | ((uint32_t)insn[1] << 24);
	if (channel >= 0) v |= 1 | ((uint32_t)(channel & 7) << 8);
	return v;
}
static uint32_t dbginst1(const uint8_t *insn) { return insn[2] | (insn[3] << 8) | (insn[4] << 16) | ((uint32_t)insn[5] << 24); }

/* ---- the IRQ thread: select() on the eventfd ---- */
static int irqfd;
static volatile int irq_seen;
static void *irq_thread(void *arg)
{
	fd_set set;
	struct timeval tv;
	uint64_t n;
	(void)arg;
	FD_ZERO(&set);
	FD_SET(irqfd, &set);
	tv.tv_sec = IRQ_TIMEOUT_MS / 1000;
	tv.tv_usec = (IRQ_TIMEOUT_MS % 1000) * 1000;
	if (select(irqfd + 1, &set, NULL, NULL, &tv) > 0) {
		printf("TRIGGER!\n");
		if (read(irqfd, &n, 8) == 8) irq_seen = 1;
	}
	return NULL;
}

static void stop_thread(int id, int channels)
{
	uint32_t state = id == 8 ? rd(DSR) & 0xf : rd(CSR(id)) & 0xf;
	uint8_t kill[6] = { 0x01, 0, 0, 0, 0, 0 };
	if (state == 0 || state == 8 || state == 9) {
		printf("thread %d already stopped\n", id);
		return;
	}
	if (id < channels) {
		wr(INTEN, rd(INTEN) & ~(1u << id));
		printf("closing event %d for thread %d", id, id);
	}
	wr(DBGINST0, dbginst0(kill, id == 8 ? -1 : id));
	wr(DBGINST1, 0);
	wr(DBGCMD, 0);
}

/* the device's cdev: the vfioN entry of <sysfs device>/vfio-dev */
static int find_cdev(const char *device, char *out, size_t n)
{
	static const char *buses[] = { "amba", "platform" };
	unsigned b;
	for (b = 0; b < 2; b++) {
		char dir[256];
		DIR *d;
		struct dirent *e;
		snprintf(dir, sizeof(dir), "/sys/bus/%s/devices/%s/vfio-dev", buses[b], device);
		d = opendir(dir);
		if (!d)
			continue;
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, "vfio", 4) == 0) {
				snprintf(out, n, "/dev/vfio/devices/%s", e->d_name);
				closedir(d);
				return 0;
			}
		}
		closedir(d);
	}
	return -1;
}

int main(int argc, char **argv)
{
	int iommufd, device, i, bad = 0, chan = 0, channels, unmask_ret = 0;
	struct vfio_device_bind_iommufd bind = { sizeof(bind), 0, 0, 0 };
	struct vfio_device_attach_iommufd_pt attach = { sizeof(attach), 0, 0 };
	struct iommu_ioas_alloc alloc = { sizeof(alloc), 0, 0 };
	struct vfio_device_info di = { sizeof(di), 0, 0, 0 };
	struct vfio_region_info reg = { sizeof(reg), 0, 0, 0, 0, 0 };
	struct vfio_irq_info irq = { sizeof(irq), 0, 0, 0 };
	char setbuf_[sizeof(struct vfio_irq_set) + 4];
	struct vfio_irq_set *set = (struct vfio_irq_set *)setbuf_;
	uint32_t *area[3];
	uint32_t iova[3] = { 0, SIZE, 2 * SIZE };
	char cdev[300];
	pthread_t th;
	uint64_t ev;

	if (argc < 2) {
		fprintf(stderr, "usage: %s <device>\n", argv[0]);
		return 2;
	}
	/* 1. the iommufd */
	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0) {
		printf("Could not open /dev/iommu (%d)\n", -errno);
		return 1;
	}
	/* 2. the device's cdev, through sysfs */
	if (find_cdev(argv[1], cdev, sizeof(cdev))) {
		printf("No VFIO device cdev under /sys/bus/*/devices/%s/vfio-dev\n", argv[1]);
		return 1;
	}
	device = open(cdev, O_RDWR);
	if (device < 0) {
		printf("Could not open %s (%d)\n", cdev, -errno);
		return 1;
	}
	/* 3. bind, IOAS, attach */
	bind.iommufd = iommufd;
	if (ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		printf("VFIO_DEVICE_BIND_IOMMUFD failed (%d)\n", -errno);
		return 1;
	}
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc)) {
		printf("IOMMU_IOAS_ALLOC failed (%d)\n", -errno);
		return 1;
	}
	attach.pt_id = alloc.out_ioas_id;
	if (ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		printf("VFIO_DEVICE_ATTACH_IOMMUFD_PT failed (%d)\n", -errno);
		return 1;
	}
	printf("=== VFIO device %s: fd %d, devid %u, IOAS %u, HWPT %u ===\n", cdev, device, bind.out_devid, alloc.out_ioas_id, attach.pt_id);
	/* 4. three pages at IOVA 0, SIZE, 2 * SIZE */
	for (i = 0; i < 3; i++) {
		struct iommu_ioas_map map;
		memset(&map, 0, sizeof(map));
		map.size = sizeof(map);
		map.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
		map.ioas_id = alloc.out_ioas_id;
		area[i] = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		map.user_va = (uintptr_t)area[i];
		map.length = SIZE;
		map.iova = iova[i];
		if (ioctl(iommufd, IOMMU_IOAS_MAP, &map)) {
			printf("IOMMU_IOAS_MAP of 0x%x bytes at IOVA 0x%x failed (%d)\n", SIZE, iova[i], -errno);
			return 1;
		}
	}
	/* 6. */
	if (ioctl(device, VFIO_DEVICE_GET_INFO, &di)) {
		printf("Could not get VFIO device\n");
		return 1;
	}
	{
		/* an AMBA device (listed in /sys/bus/amba/devices) must come with VFIO_DEVICE_FLAGS_AMBA */
		char path[256], link[256];
		int amba;
		snprintf(path, sizeof(path), "/sys/bus/amba/devices/%s", argv[1]);
		amba = readlink(path, link, sizeof(link) - 1) >= 0;
		printf("Device flags=0x%x (%s device)\n", di.flags, amba ? "AMBA" : "platform");
		if (!(di.flags & (amba ? VFIO_DEVICE_FLAGS_AMBA : VFIO_DEVICE_FLAGS_PLATFORM))) {
			printf("Device is not reported as %s device\n", amba ? "an AMBA" : "a platform");
			return 1;
		}
	}
	printf("Device has %u region(s):\n", di.num_regions);
	/* 7. */
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg)) {
		printf("Couldn't get region %u info\n", reg.index);
		return 1;
	}
	printf("- Region 0: size=0x%llx offset=0x%llx flags=0x%x\n", (unsigned long long)reg.size, (unsigned long long)reg.offset, reg.flags);
	regs = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED, device, reg.offset);
	if (regs != MAP_FAILED)
		printf("  - Successful MMAP to address %p\n", (void *)regs);
	/* 8. */
	if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &irq)) {
		printf("Couldn't get IRQ %u info\n", irq.index);
		return 1;
	}
	printf("- IRQ 0: range of %u, flags=0x%x\n", irq.count, irq.flags);
	irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (irqfd < 0)
		return 1;
	set->argsz = sizeof(setbuf_);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = 0;
	set->start = 0;
	set->count = 1;
	set->data[0] = irqfd;
	if (ioctl(device, VFIO_DEVICE_SET_IRQS, set)) {
		printf("Failure in vfio_irqfd_init for IRQ 0\n");
		return 1;
	}
	/* 9. */
	(void)rd(CRD);
	channels = ((rd(CR0) >> 4) & 7) + 1;
	printf("device init, num channel: %d\n", channels);
	if (read(irqfd, &ev, 8) != -1 || errno != EAGAIN) {
		printf("IRQ 0 shouldn't trigger yet.\n");
		return 1;
	}
	/* 10. */
	rand_seed(1);
	for (i = 0; i < SIZE / 4; i++)
		area[0][i] = rand_next();
	printf("source value: 0x%x\n", area[0][0]);
	printf("destination value: 0x%x\n", area[1][0]);
	printf("start thread\n");
	pthread_create(&th, NULL, irq_thread, NULL);
	printf("allocated thread %d\n", chan);
	printf("channel %d allocated\n", chan);
	build_program(iova[0], iova[1], SIZE);
	print_debug(SIZE);
	memcpy(area[2], prog, plen);
	/* 11. */
	if ((rd(DBGSTATUS) & 1) == 0) {
		uint8_t go[6] = { 0xa0 | 2, chan & 7, iova[2] & 0xff, (iova[2] >> 8) & 0xff, (iova[2] >> 16) & 0xff, iova[2] >> 24 };
		wr(INTEN, rd(INTEN) | (1u << chan));
		wr(DBGINST0, dbginst0(go, -1));
		wr(DBGINST1, dbginst1(go));
		wr(DBGCMD, 0);
	}
	/* 12. */
	pthread_join(th, NULL);
	if (!irq_seen) {
		printf("no interrupt within %d ms: channel %d state 0x%x, fault status 0x%x, fault type 0x%x\n", IRQ_TIMEOUT_MS, chan,
		       rd(CSR(chan)) & 0xf, rd(FSRC), rd(FTR(chan)));
		bad = -1;
	} else {
		if (rd(INTEN) & 1)
			wr(INTCLR, 1);
		/* the line was automasked by the kernel's handler: unmask it now that the event is cleared */
		set->argsz = sizeof(struct vfio_irq_set) - 4;
		set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK;
		set->index = 0;
		set->start = 0;
		set->count = 1;
		unmask_ret = ioctl(device, VFIO_DEVICE_SET_IRQS, set);
		if (unmask_ret)
			printf("Failure in UNMASK for IRQ 0\n");
		printf("done!\n");
		printf("the message is: transfer completed\n");
		/* 13. */
		for (i = 0; i < SIZE / 4; i++) {
			if (area[0][i] != area[1][i]) {
				bad++;
				printf("test failed! - %d - 0x%x - 0x%x\n", i, area[0][i], area[1][i]);
			}
		}
	}
	stop_thread(8, channels);
	for (i = 0; i < channels; i++)
		stop_thread(i, channels);
	printf("source value: 0x%x\n", area[0][0]);
	printf("destination value: 0x%x\n", area[1][0]);
	/* 14. */
	set->argsz = sizeof(struct vfio_irq_set) - 4;
	set->index = 0;
	set->start = 0;
	set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->count = 0;
	if (ioctl(device, VFIO_DEVICE_SET_IRQS, set)) {
		printf("Failure in vfio_irqfd_clean for IRQ 0\n");
		return 1;
	}
	close(irqfd);
	return bad || unmask_ret ? 1 : 0;
}
