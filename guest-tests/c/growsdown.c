/*
 * MAP_GROWSDOWN mappings (mm/mmap.c do_mmap: VM_GROWSDOWN for private anonymous memory only,
 * EINVAL otherwise; kernel-model/syscall/syscalls.ts sysMmap, process/stack-grow.ts): one grows
 * on the CPU's faults below it as [stack] does, its /proc/self/maps line following (3.14 hides
 * its guard page); in fork children whose end the parent sees in the wait status, a mapping
 * right below it: 3.14's guard page (SIGBUS at the lowest page) against v6.12's stack_guard_gap
 * (the lowest page written, SIGSEGV a page below); brk up to a page under it (both eras keep a
 * page free above the heap; v6.12 also the 1 MiB gap below a VM_GROWSDOWN VMA, vm_start_gap).
 * mprotect's PROT_GROWSDOWN / PROT_GROWSUP (mm/mprotect.c) on such a mapping and a plain one.
 * Output is deterministic.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL
#define AT 0x70000000UL

/* the start of the /proc/self/maps line ending at `end` (0: none) */
static unsigned long maps_start(unsigned long end)
{
	char buf[8192];
	int fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned long s, e;
		if (sscanf(l, "%lx-%lx", &s, &e) == 2 && e == end)
			return s;
	}
	return 0;
}

static void *growsdown(unsigned long at, unsigned long len)
{
	return mmap((void *)at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
}

/* a child writes each address in turn, recording the last it reached; the parent prints how it ended */
static void child_writes(const char *what, volatile unsigned long *last, const unsigned long *addrs, int n)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < n; i++) {
			*(volatile unsigned char *)addrs[i] = 1;
			*last = addrs[i];
		}
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	if (*last)
		printf("%s: %s %d, last written %ld KiB under base\n", what, WIFSIGNALED(st) ? "signal" : "exit",
		       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), (long)(AT - *last) / 1024);
	else
		printf("%s: %s %d, nothing written\n", what, WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	*last = 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	volatile unsigned long *last = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (last == MAP_FAILED)
		return 1;

	/* only private anonymous memory */
	int fd = open("/tmp/gd", O_RDWR | O_CREAT, 0600);
	void *f = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, fd, 0);
	printf("file: %s\n", f == MAP_FAILED ? (errno == EINVAL ? "EINVAL" : "?") : "mapped");
	void *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	printf("shared: %s\n", s == MAP_FAILED ? (errno == EINVAL ? "EINVAL" : "?") : "mapped");

	/* 4 pages at AT, nothing below: a write 3 pages under it grows it */
	if (growsdown(AT, 4 * PAGE) == MAP_FAILED)
		return 2;
	printf("mapped: maps line starts %ld KiB under base\n", (long)(AT - maps_start(AT + 4 * PAGE)) / 1024);
	*(volatile unsigned char *)(AT - 3 * PAGE + 100) = 7;
	printf("after a write 3 pages under it: maps line starts %ld KiB under base, reads %d\n", (long)(AT - maps_start(AT + 4 * PAGE)) / 1024,
	       *(volatile unsigned char *)(AT - 3 * PAGE + 100));
	munmap((void *)(AT - 64 * PAGE), 68 * PAGE);

	/* a mapping right below (a page under AT): the lowest page, then the page under it */
	if (growsdown(AT, 4 * PAGE) == MAP_FAILED || mmap((void *)(AT - PAGE), PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return 3;
	unsigned long low[] = { AT + PAGE, AT };
	child_writes("mapping right below, its lowest page", last, low, 2);
	munmap((void *)(AT - PAGE), 5 * PAGE);
	/* a mapping 16 pages below: v6.12 grows not at all (the 1 MiB gap), 3.14 down to it */
	if (growsdown(AT, 4 * PAGE) == MAP_FAILED || mmap((void *)(AT - 17 * PAGE), PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return 4;
	unsigned long deep[16];
	for (int i = 0; i < 16; i++)
		deep[i] = AT - (unsigned long)(i + 1) * PAGE;
	child_writes("mapping 16 pages below, down to it", last, deep, 16);
	munmap((void *)(AT - 17 * PAGE), 21 * PAGE);

	/* mprotect's PROT_GROWSDOWN / PROT_GROWSUP (mm/mprotect.c): PROT_GROWSDOWN takes the change
	 * down to the VMA's start (a hole under it skipped), ENOMEM wholly under it, EINVAL on a VMA
	 * that does not grow down; PROT_GROWSUP EINVAL on ARM (ENOMEM at an unmapped address);
	 * both at once EINVAL before anything else */
	if (growsdown(AT, 4 * PAGE) == MAP_FAILED)
		return 6;
	long m = mprotect((void *)(AT + 2 * PAGE), PAGE, PROT_READ | PROT_GROWSDOWN);
	printf("mprotect PROT_GROWSDOWN at its third page: %s\n", m == 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : "?");
	unsigned long ro[] = { AT + 3 * PAGE, AT + PAGE };
	child_writes("its top page, then its second", last, ro, 2);
	m = mprotect((void *)(AT - 2 * PAGE), 3 * PAGE, PROT_READ | PROT_WRITE | PROT_GROWSDOWN);
	printf("mprotect PROT_GROWSDOWN from a hole under it: %s\n", m == 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : "?");
	m = mprotect((void *)(AT - 2 * PAGE), PAGE, PROT_READ | PROT_GROWSDOWN);
	printf("mprotect PROT_GROWSDOWN wholly under it: %s\n", m == 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : "?");
	m = mprotect((void *)AT, PAGE, PROT_READ | PROT_GROWSUP);
	printf("mprotect PROT_GROWSUP in it: %s\n", m == 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : "?");
	m = mprotect((void *)(AT - 2 * PAGE), PAGE, PROT_READ | PROT_GROWSUP);
	printf("mprotect PROT_GROWSUP unmapped: %s\n", m == 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : "?");
	m = mprotect((void *)(AT - 2 * PAGE), PAGE, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP);
	printf("mprotect both, unmapped: %s\n", m == 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : "?");
	munmap((void *)AT, 4 * PAGE);
	void *plain = mmap((void *)AT, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	m = plain == MAP_FAILED ? 1 : mprotect(plain, PAGE, PROT_READ | PROT_GROWSDOWN);
	printf("mprotect PROT_GROWSDOWN, plain mapping: %s\n", m == 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : "?");
	munmap((void *)AT, PAGE);

	/* brk towards a MAP_GROWSDOWN mapping two pages above the heap's end */
	unsigned long cur = syscall(SYS_brk, 0);
	unsigned long top = (cur + PAGE - 1) & ~(PAGE - 1);
	if (growsdown(top + 2 * PAGE, 4 * PAGE) == MAP_FAILED)
		return 5;
	printf("brk a page under it: %s\n", (unsigned long)syscall(SYS_brk, top + PAGE) == top + PAGE ? "ok" : "refused");
	printf("brk right under it: %s\n", (unsigned long)syscall(SYS_brk, top + 2 * PAGE) == top + 2 * PAGE ? "ok" : "refused");
	return 0;
}
