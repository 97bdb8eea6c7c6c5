/*
 * SIGBUS from a device's bus error on the Unicorn backend: the PL330's registers mmapped from
 * vfio (region 0, as procfs.c does), where a byte access is answered with SLVERR
 * (arch/arm/mm/fault.c do_DataAbort -> arm_notify_die; docs/UNICORN.md "Fault signals to
 * handlers"). A byte load is a synchronous external abort: the handler gets si_code 0, si_addr,
 * trap_no 0, error_code the FSR 0x1008 and the frame's PC on the load with the registers from
 * before it; fault_address is the thread's last SIGSEGV address (thread.address, which the
 * SIGBUS path leaves). A byte store is an asynchronous ("imprecise") one: BUS_OBJERR, FSR
 * 0x1c06, the frame after the store (its base writeback done); a handler that returns goes on
 * after it. A handler that returns from the load's SIGBUS runs the load again (here on the
 * anonymous page it put there). Blocked and ignored SIGBUS are forced to the default action
 * (fork children), and at the end the program dies of one without a handler (status 135).
 * Usage: sigbus <device> (bound to VFIO). Output is deterministic (addresses as offsets).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <ucontext.h>
#include <unistd.h>

#include "sig-frame.h"

#define PAGE 4096
#define VFIO_SET_IOMMU 0x3b66
#define VFIO_GROUP_SET_CONTAINER 0x3b68
#define VFIO_GROUP_GET_DEVICE_FD 0x3b6a
#define VFIO_DEVICE_GET_REGION_INFO 0x3b6c
#define VFIO_TYPE1_IOMMU 1
/* the PL330's peripheral id 0 (ARM DDI 0424D 3.3): read-only, 32-bit accesses only */
#define PERIPH_ID_0 0xfe0

struct region_info {
	unsigned int argsz, flags, index, cap_offset;
	unsigned long long size, offset;
};

static char *regs; /* the PL330's register page */
static int device = -1;
static struct region_info reg;

static int map_regs(void)
{
	regs = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, device, reg.offset);
	return regs == MAP_FAILED ? 5 : 0;
}

/* returns, but jumps out at the third call (a store that ran again would fault again) */
static void count_and_return(int sig, siginfo_t *si, void *ucp)
{
	record(sig, si, ucp);
	if (++handled >= 3)
		siglongjmp(env, 1);
}

/* puts an anonymous page with 0x5a at the faulting offset where the registers were, and returns */
static void replace_and_return(int sig, siginfo_t *si, void *ucp)
{
	record(sig, si, ucp);
	handled++;
	if (mmap(regs, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == regs)
		regs[PERIPH_ID_0] = 0x5a;
}

/* the third instruction loads a byte through r0; r1 and r2 are set before it */
__attribute__((naked, noinline)) static int load_byte(__attribute__((unused)) volatile char *p)
{
	__asm__ volatile("movs r1, #1\n\tmovs r2, #2\n\tldrb r0, [r0]\n\tbx lr\n");
}

/* the second instruction stores a byte through r0, post-indexed (r0 + 1 after it); returns 9 */
__attribute__((naked, noinline)) static int store_byte(__attribute__((unused)) volatile char *p)
{
	__asm__ volatile("movs r1, #7\n\tstrb r1, [r0], #1\n\tmovs r1, #9\n\tmov r0, r1\n\tbx lr\n");
}

__attribute__((naked, noinline)) static void segv_load(__attribute__((unused)) volatile int *p)
{
	__asm__ volatile("ldr r0, [r0]\n\tbx lr\n");
}

static int open_regs(const char *dev)
{
	char path[128], link[128];
	int container, group;
	ssize_t r;

	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/iommu_group", dev);
	r = readlink(path, link, sizeof(link) - 1);
	if (r < 0) {
		snprintf(path, sizeof(path), "/sys/bus/amba/devices/%s/iommu_group", dev);
		r = readlink(path, link, sizeof(link) - 1);
	}
	if (r < 0)
		return 2;
	link[r] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open(path, O_RDWR);
	if (container < 0 || group < 0 || ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) || ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))
		return 3;
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, dev);
	memset(&reg, 0, sizeof(reg));
	reg.argsz = sizeof(reg);
	if (device < 0 || ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return 4;
	return map_regs();
}

/* a fork child that touches the registers with a byte load after `setup`; prints how it ended */
static void child(const char *what, void (*setup)(void))
{
	int st;
	if (fork() == 0) {
		setup();
		(void)*(volatile char *)(regs + PERIPH_ID_0);
		_exit(0);
	}
	wait(&st);
	printf("%s: child %s %d\n", what, WIFSIGNALED(st) ? "killed by signal" : "exited", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void block_it(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGBUS);
	sigprocmask(SIG_BLOCK, &s, NULL);
	handle(SIGBUS, jump_out);
}

static void ignore_it(void)
{
	signal(SIGBUS, SIG_IGN);
}

int main(int argc, char **argv)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int rc, v;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (p == MAP_FAILED)
		return 1;
	rc = open_regs(argc > 1 ? argv[1] : "2c0a0000.dma");
	if (rc != 0) {
		printf("no register mapping (%d)\n", rc);
		return rc;
	}
	printf("word read: periph id 0 0x%x\n", (unsigned)*(volatile uint32_t *)(regs + PERIPH_ID_0));
	munmap(p + PAGE, PAGE); /* a hole */
	handle(SIGSEGV, jump_out);
	handle(SIGBUS, jump_out);

	/* 0: a SIGSEGV first: it sets the thread's fault address, which the SIGBUS frames keep */
	if (!sigsetjmp(env, 1))
		segv_load((volatile int *)(p + PAGE + 8));
	printf("segv: sig %d fault_address +%ld\n", got, (long)(faddr - (uintptr_t)p));

	/* 1: a byte load from the registers: synchronous, at the load, registers from before it */
	if (!sigsetjmp(env, 1))
		load_byte(regs + PERIPH_ID_0);
	printf("load: sig %d code %d addr +%ld pc +%ld r0 at addr %d r1 %ld r2 %ld trap %d fsr 0x%x fault_address +%ld\n", got, code,
	       (long)(addr - (uintptr_t)regs), (long)(pc - fn(load_byte)), r0 == addr, (long)r1, (long)r2, trap, fsr,
	       (long)(faddr - (uintptr_t)p));

	/* 2: a byte store: asynchronous, after the store (post-index writeback done, r1 still 7) */
	if (!sigsetjmp(env, 1))
		store_byte(regs + PERIPH_ID_0);
	printf("store: sig %d code %d addr +%ld pc +%ld r0 +%ld r1 %ld trap %d fsr 0x%x\n", got, code, (long)(addr - (uintptr_t)regs),
	       (long)(pc - fn(store_byte)), (long)(r0 - (uintptr_t)regs), (long)r1, trap, fsr);

	/* 3: a handler that returns from the store's SIGBUS: the function goes on after the store */
	handle(SIGBUS, count_and_return);
	v = sigsetjmp(env, 1) ? -1 : store_byte(regs + PERIPH_ID_0);
	printf("returning store handler: handled %d, returned %d\n", handled, v);

	/* 4: blocked and ignored SIGBUS are forced to the default action */
	child("blocked", block_it);
	child("ignored", ignore_it);

	/* 5: a handler that returns from the load's SIGBUS: the load runs again */
	handled = 0;
	handle(SIGBUS, replace_and_return);
	v = load_byte(regs + PERIPH_ID_0);
	printf("retried load: handled %d, read 0x%x\n", handled, (unsigned)v);

	/* 6: no handler: the default action ends the process (status 135) */
	munmap(regs, PAGE);
	if (map_regs() != 0)
		return 6;
	signal(SIGBUS, SIG_DFL);
	printf("default action next\n");
	load_byte(regs + PERIPH_ID_0);
	printf("not reached\n");
	return 0;
}
