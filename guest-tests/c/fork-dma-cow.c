/*
 * fork and a DMA-pinned buffer: which frame does the device read after the parent writes the
 * buffer while a fork child still maps it? (capability `forkPinnedPages`, docs/PROFILES.md.)
 * Usage: fork-dma-cow /dev/vfio/<group> <device> [dontfork|childfirst|pinafter]
 *
 * A 3-page anonymous buffer: page 0 holds pattern A, page 1 zeros, page 2 the PL330's channel
 * program (copy page 0's IOVA to page 1's IOVA), all written before MAP_DMA (READ|WRITE, plus
 * the 2014 EXEC flag when the kernel takes it: the PL330 fetches its program from DMA memory).
 * With "dontfork" the buffer is madvise(MADV_DONTFORK)ed first. Then fork: the child only
 * blocks reading a pipe and keeps its mapping; the parent writes pattern B over page 0 with
 * ordinary CPU stores, starts the channel through the debug instruction registers, waits for
 * the completion interrupt (select() on the eventfd) and prints what page 1 holds:
 *   "dma saw: old" - pattern A: the device read the frame the child kept (Linux 3.14: fork
 *                    shared the pinned page copy-on-write and the parent's write got a copy);
 *   "dma saw: new" - pattern B: the parent's page is still the pinned one (v6.12 copies a
 *                    pinned page for the child at fork, commit 70e806e4e645; or DONTFORK).
 * With "childfirst" the child writes pattern C over page 0 first (the parent waits for it on a
 * second pipe): in 3.14 the child is then the writer that gets a copy, the parent is left the
 * pinned frame's last mapper and writes it in place (reuse_swap_page): "dma saw: new" in both
 * eras, and the child's page 0 is C.
 * With "pinafter" the fork comes first and MAP_DMA after it, in the parent, in two parts: page
 * 0 for the device to read only (no VFIO_DMA_MAP_FLAG_WRITE: get_user_pages without
 * FOLL_WRITE), pages 1-2 READ|WRITE. In 3.14 the read-only pin takes the frame parent and child
 * still share copy-on-write and the parent's stores then get a copy ("dma saw: old", the other
 * get_user_pages-after-fork problem; the write pin of pages 1-2 broke their sharing first); in
 * v6.12 the read-only pin unshares the page first (FAULT_FLAG_UNSHARE, commit a7f226604170):
 * "dma saw: new".
 * Then it releases the child, which prints what its own pages 0 and 1 hold, waits for it and
 * cleans up. Exit status 0 whatever the device read; 1 on a set-up failure.
 *
 * The VFIO steps are those of pl330-vfio-test.c and pl330-vfio-test-mainline.c; the kernel is
 * told apart at run time: MAP_DMA with EXEC first, and without it when that is -EINVAL (today
 * bit 2 is VFIO_DMA_MAP_FLAG_VADDR); region offsets used as given (64-bit off_t).
 */
#define _FILE_OFFSET_BITS 64 /* mainline region offsets are index << 40 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vfio.h>

#ifndef VFIO_DMA_MAP_FLAG_EXEC
#define VFIO_DMA_MAP_FLAG_EXEC 4 /* 2014 RFC patch 02 (today's VFIO_DMA_MAP_FLAG_VADDR) */
#endif

/* PL330 registers (ARM DDI 0424D 3.3) */
#include "pl330-regs.h"

#define PAGE 4096
#define PAGES 3
#define WORDS (PAGE / 4)
#define PAT_A 0xaaaa0000u
#define PAT_B 0xbbbb0000u
#define PAT_C 0xcccc0000u
#define IRQ_TIMEOUT_MS 1000

static volatile uint8_t *regs;
static uint32_t rd(unsigned off) { return *(volatile uint32_t *)(regs + off); }
static void wr(unsigned off, uint32_t v) { *(volatile uint32_t *)(regs + off) = v; }

/* ---- PL330 program (pl330-vfio-test.c's encoder, one page: 16 bursts of 16 x 16 bytes) ---- */
static uint8_t prog[64];
static int plen;
static void emit(uint8_t b) { prog[plen++] = b; }
static void mov(int rd_, uint32_t imm)
{
	emit(0xbc); emit(rd_);
	emit(imm & 0xff); emit((imm >> 8) & 0xff); emit((imm >> 16) & 0xff); emit(imm >> 24);
}

static void build_program(uint32_t src, uint32_t dst)
{
	int start, i;
	plen = 0;
	/* CCR: 16-byte beats, bursts of 16, incrementing source and destination, privileged (as the original's helper) */
	mov(1, (4u << 1) | (4u << 15) | (15u << 4) | (15u << 18) | 1u | (1u << 14) | (2u << 8) | (2u << 22));
	mov(0, src);
	mov(2, dst);
	emit(0x20); emit(PAGE / 256 - 1); /* DMALP lc0, 16 */
	start = plen;
	emit(0x04); emit(0x12); emit(0x08); emit(0x13); /* DMALD, DMARMB, DMAST, DMAWMB */
	i = plen - start; /* the backward jump: from the DMALPEND to the loop body */
	emit(0x38); emit(i); /* DMALPEND lc0 */
	emit(0x34); emit(0 << 3); /* DMASEV 0 */
	emit(0x00);               /* DMAEND */
}

static uint32_t dbginst0(const uint8_t *insn) { return ((uint32_t)insn[0] << 16) | ((uint32_t)insn[1] << 24); /* manager thread */ }
static uint32_t dbginst1(const uint8_t *insn) { return insn[2] | (insn[3] << 8) | (insn[4] << 16) | ((uint32_t)insn[5] << 24); }

/* "A" / "B" / "C": every word of the page is pattern A / B / C; "zero"; "mixed" otherwise */
static const char *classify(const uint32_t *p)
{
	int a = 1, b = 1, c = 1, z = 1, i;
	for (i = 0; i < WORDS; i++) {
		a &= p[i] == PAT_A + i;
		b &= p[i] == PAT_B + i;
		c &= p[i] == PAT_C + i;
		z &= p[i] == 0;
	}
	return a ? "A" : b ? "B" : c ? "C" : z ? "zero" : "mixed";
}

/* MAP_DMA of [vaddr, vaddr + size) at iova: with the 2014 EXEC flag first, without it when the
 * kernel says -EINVAL; returns the flags taken, or 0 on failure */
static uint32_t map_dma(int container, void *vaddr, uint32_t iova, uint32_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	map.vaddr = (uintptr_t)vaddr;
	map.iova = iova;
	map.size = size;
	map.flags = flags | VFIO_DMA_MAP_FLAG_EXEC;
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map) == 0)
		return map.flags;
	if (errno != EINVAL)
		return 0;
	map.flags = flags;
	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) == 0 ? map.flags : 0;
}

static const char *flag_names(uint32_t f)
{
	return f == 7 ? "READ|WRITE|EXEC" : f == 3 ? "READ|WRITE" : f == 5 ? "READ|EXEC" : f == 1 ? "READ" : "?";
}

int main(int argc, char **argv)
{
	int container, group, device, irqfd, pfd[2], cfd[2], i, dontfork, childfirst, pinafter, st = 0;
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_region_info reg = { .argsz = sizeof(reg), .index = 0 };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	char setbuf_[sizeof(struct vfio_irq_set) + 4];
	struct vfio_irq_set *set = (struct vfio_irq_set *)setbuf_;
	uint32_t *buf, *page0, *page1, f0, f12;
	const uint32_t iova = 0;
	const char *what;
	struct timeval tv = { IRQ_TIMEOUT_MS / 1000, (IRQ_TIMEOUT_MS % 1000) * 1000 };
	fd_set rs;
	uint64_t ev;
	pid_t pid;
	char c;

	if (argc < 3) {
		fprintf(stderr, "usage: %s /dev/vfio/<group> <device> [dontfork|childfirst|pinafter]\n", argv[0]);
		return 2;
	}
	dontfork = argc > 3 && strcmp(argv[3], "dontfork") == 0;
	childfirst = argc > 3 && strcmp(argv[3], "childfirst") == 0;
	pinafter = argc > 3 && strcmp(argv[3], "pinafter") == 0;

	/* container, group, type1 (pl330-vfio-test.c steps 1-3) */
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open(argv[1], O_RDWR);
	if (container < 0 || group < 0 || ioctl(group, VFIO_GROUP_GET_STATUS, &gs) || !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		printf("setup: group %s not usable (errno %d)\n", argv[1], errno);
		return 1;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) || ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)) {
		printf("setup: container set-up failed (errno %d)\n", errno);
		return 1;
	}

	/* the buffer: page 0 pattern A, page 1 zeros, page 2 the channel program */
	buf = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		printf("setup: mmap failed (errno %d)\n", errno);
		return 1;
	}
	if (dontfork && madvise(buf, PAGES * PAGE, MADV_DONTFORK)) {
		printf("setup: madvise(MADV_DONTFORK) failed (errno %d)\n", errno);
		return 1;
	}
	page0 = buf;
	page1 = buf + WORDS;
	for (i = 0; i < WORDS; i++) {
		page0[i] = PAT_A + i;
		page1[i] = 0;
	}
	build_program(iova, iova + PAGE);
	memcpy(buf + 2 * WORDS, prog, plen);

	/* MAP_DMA: the 2014 kernel needs EXEC for the program fetch; today's rejects bit 2 with READ|WRITE */
	if (!pinafter) {
		f0 = map_dma(container, buf, iova, PAGES * PAGE, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
		if (!f0) {
			printf("setup: MAP_DMA failed (errno %d)\n", errno);
			return 1;
		}
		printf("MAP_DMA %d pages at iova 0x%x: flags 0x%x (%s)\n", PAGES, iova, f0, flag_names(f0));
	}

	/* the device: its registers and its interrupt on an eventfd */
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
	if (device < 0 || ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg)) {
		printf("setup: device %s (errno %d)\n", argv[2], errno);
		return 1;
	}
	regs = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED, device, reg.offset);
	if (regs == MAP_FAILED) {
		printf("setup: register mmap failed (errno %d)\n", errno);
		return 1;
	}
	irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	set->argsz = sizeof(setbuf_);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = 0;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &irqfd, 4);
	if (irqfd < 0 || ioctl(device, VFIO_DEVICE_SET_IRQS, set)) {
		printf("setup: SET_IRQS eventfd failed (errno %d)\n", errno);
		return 1;
	}

	/* fork: the child keeps its mapping and waits on the pipe */
	if (pipe(pfd) || pipe(cfd)) {
		printf("setup: pipe failed (errno %d)\n", errno);
		return 1;
	}
	printf("mode: %s\n", dontfork ? "dontfork" : childfirst ? "childfirst" : pinafter ? "pinafter" : "fork");
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("setup: fork failed (errno %d)\n", errno);
		return 1;
	}
	if (pid == 0) {
		close(pfd[1]);
		close(cfd[0]);
		if (childfirst) {
			/* the child writes first: in 3.14 its first store gets it a copy */
			for (i = 0; i < WORDS; i++)
				page0[i] = PAT_C + i;
		}
		/* tell the parent to go on */
		c = 1;
		if (write(cfd[1], &c, 1) != 1)
			_exit(1);
		close(cfd[1]);
		while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
			;
		if (dontfork)
			printf("child: buffer not inherited\n");
		else
			printf("child: page 0 %s, page 1 %s\n", classify(page0), classify(page1));
		fflush(stdout);
		_exit(0);
	}
	close(pfd[0]);
	close(cfd[1]);
	while (read(cfd[0], &c, 1) < 0 && errno == EINTR)
		;
	close(cfd[0]);

	if (pinafter) {
		/* after the fork: page 0 for the device to read only, pages 1-2 read/write */
		f0 = map_dma(container, buf, iova, PAGE, VFIO_DMA_MAP_FLAG_READ);
		f12 = f0 ? map_dma(container, buf + WORDS, iova + PAGE, 2 * PAGE, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) : 0;
		if (!f0 || !f12) {
			printf("setup: MAP_DMA after the fork failed (errno %d)\n", errno);
			return 1;
		}
		printf("MAP_DMA after the fork: page 0 flags 0x%x (%s), pages 1-2 flags 0x%x (%s)\n", f0, flag_names(f0), f12, flag_names(f12));
	}

	/* the parent writes pattern B over page 0: plain CPU stores (in 3.14 the first one breaks the sharing) */
	for (i = 0; i < WORDS; i++)
		page0[i] = PAT_B + i;
	printf("parent: page 0 %s\n", classify(page0));

	/* DMAGO channel 0 at page 2's IOVA, through the debug instruction registers (manager thread) */
	if (rd(DBGSTATUS) & 1) {
		printf("setup: debug interface busy\n");
		return 1;
	}
	{
		uint32_t pc = iova + 2 * PAGE;
		uint8_t go[6] = { 0xa0 | 2, 0, pc & 0xff, (pc >> 8) & 0xff, (pc >> 16) & 0xff, pc >> 24 };
		wr(INTEN, rd(INTEN) | 1);
		wr(DBGINST0, dbginst0(go));
		wr(DBGINST1, dbginst1(go));
		wr(DBGCMD, 0);
	}
	FD_ZERO(&rs);
	FD_SET(irqfd, &rs);
	if (select(irqfd + 1, &rs, NULL, NULL, &tv) <= 0 || read(irqfd, &ev, 8) != 8) {
		printf("setup: no interrupt within %d ms: channel 0 state 0x%x, fault status 0x%x, fault type 0x%x\n", IRQ_TIMEOUT_MS,
		       rd(CSR(0)) & 0xf, rd(FSRC), rd(FTR(0)));
		return 1;
	}
	wr(INTCLR, 1);

	what = classify(page1);
	printf("parent: page 1 %s after the DMA\n", what);
	printf("dma saw: %s\n", strcmp(what, "A") == 0 ? "old" : strcmp(what, "B") == 0 ? "new" : what);
	fflush(stdout);

	/* release the child, reap it, clean up */
	close(pfd[1]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("setup: child status 0x%x\n", st);
		return 1;
	}
	set->argsz = sizeof(struct vfio_irq_set);
	set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->count = 0;
	unmap.iova = iova;
	unmap.size = PAGES * PAGE;
	if (ioctl(device, VFIO_DEVICE_SET_IRQS, set) || ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) || unmap.size != PAGES * PAGE) {
		printf("setup: clean-up failed (errno %d)\n", errno);
		return 1;
	}
	munmap((void *)regs, reg.size);
	munmap(buf, PAGES * PAGE);
	close(irqfd);
	close(device);
	close(group);
	close(container);
	printf("done\n");
	return 0;
}
