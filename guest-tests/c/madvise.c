/*
 * Memory calls on the Unicorn backend: mprotect and munmap as the CPU sees them (a write to a
 * read-only page and a load from an unmapped one, each tried in a fork child, which SIGSEGV
 * ends), madvise(MADV_DONTNEED) (a private page reads zero
 * afterwards, a MAP_SHARED anonymous page keeps its data, also for a fork child that reads it
 * after the parent's zap; an unaligned start EINVAL, a range with a hole ENOMEM after zapping
 * the mapped part), and MADV_DONTFORK leaving a mapping out of the child; then the advice
 * the eras differ on (madvise_behavior_valid): advice the kernel does not know is EINVAL, v6.12's
 * MADV_FREE keeps data it never reclaims, MADV_WIPEONFORK gives a fork child the range zeroed,
 * MADV_POPULATE_WRITE faults pages in (all three EINVAL in 3.14), MADV_REMOVE zeroes a shared
 * anonymous page (EINVAL on private memory; on a read-only shared mapping EACCES in 3.14, which
 * asks VM_WRITE, done in v6.12, which asks VM_MAYWRITE).
 * Output is deterministic (addresses only as offsets).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

/* include/uapi/asm-generic/mman-common.h (an older libc may lack them) */
#ifndef MADV_FREE
#define MADV_FREE 8
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* the access in a fork child: "ok", or how the child ended (a fault is fatal: no handler) */
static const char *probe(volatile uint32_t *a, int write)
{
	static char buf[32];
	int st = 0;
	pid_t c = fork();
	if (c == 0) {
		if (write)
			*a = 1;
		else
			(void)*a;
		_exit(0);
	}
	waitpid(c, &st, 0);
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 0 ? "ok" : "exit?";
	snprintf(buf, sizeof buf, "%s", WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "signal?");
	return buf;
}

static const char *err(int r) { return r == 0 ? "0" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : errno == EACCES ? "EACCES" : strerror(errno); }

int main(void)
{
	volatile uint32_t *p, *s;
	int st = 0, r;
	pid_t c;

	setvbuf(stdout, NULL, _IONBF, 0);

	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || s == MAP_FAILED)
		return 1;
	for (int i = 0; i < 4; i++)
		p[i * 1024] = 0x100 + i;
	s[0] = 0x200;

	/* 1: mprotect read-only, then a store: SIGSEGV at that address */
	r = mprotect((void *)(p + 1024), PAGE, PROT_READ);
	printf("mprotect %s\n", err(r));
	printf("store to the read-only page: %s", probe(p + 1024 + 3, 1));
	printf(", load: %s; it holds 0x%x\n", probe(p + 1024, 0), p[1024]);

	/* 2: MADV_DONTNEED */
	r = madvise((void *)(p + 2048), PAGE, MADV_DONTNEED);
	printf("dontneed page 2 %s: 0x%x, page 0 0x%x\n", err(r), p[2048], p[0]);
	r = madvise((void *)s, PAGE, MADV_DONTNEED);
	printf("dontneed shared %s: 0x%x\n", err(r), s[0]);
	r = madvise((void *)(p + 1), PAGE, MADV_DONTNEED);
	printf("dontneed unaligned %s\n", err(r));
	p[3 * 1024] = 0x333;
	r = munmap((void *)(p + 2048), PAGE);
	printf("munmap page 2 %s\n", err(r));
	r = madvise((void *)(p + 1024), 3 * PAGE, MADV_DONTNEED);
	printf("dontneed over the hole %s: page 3 0x%x\n", err(r), p[3 * 1024]);
	printf("load from the hole: %s\n", probe(p + 2048, 0));

	/* 3: fork: the shared page is one page for both; a DONTFORK page is not in the child */
	s[0] = 0x300;
	p[0] = 0x400;
	r = madvise((void *)p, PAGE, MADV_DONTFORK);
	printf("dontfork page 0 %s\n", err(r));
	c = fork();
	if (c == 0) {
		int ok = s[0] == 0x300;
		s[0] = 0x301;
		printf("child: saw the shared page %d; its page 0 load: %s\n", ok, probe(p, 0));
		_exit(0);
	}
	waitpid(c, &st, 0);
	printf("parent: child exit %d; sees its shared store 0x%x, keeps page 0 0x%x\n", WEXITSTATUS(st), s[0], p[0]);

	/* 4: the advice the eras differ on */
	printf("mergeable (no CONFIG_KSM) %s, advice 99 %s\n", err(madvise((void *)p, PAGE, MADV_MERGEABLE)), err(madvise((void *)p, PAGE, 99)));
	r = madvise((void *)p, PAGE, MADV_FREE);
	printf("free %s: 0x%x\n", err(r), p[0]);
	p[3 * 1024] = 0x500;
	r = madvise((void *)(p + 3 * 1024), PAGE, MADV_WIPEONFORK);
	c = fork();
	if (c == 0)
		_exit(p[3 * 1024] == 0x500 ? 1 : p[3 * 1024] == 0 ? 2 : 3);
	waitpid(c, &st, 0);
	printf("wipeonfork %s: the child read %s, the parent 0x%x\n", err(r), WEXITSTATUS(st) == 1 ? "its copy" : WEXITSTATUS(st) == 2 ? "zero" : "?", p[3 * 1024]);
	printf("populate_write %s, on the read-only page %s\n", err(madvise((void *)(p + 3 * 1024), PAGE, MADV_POPULATE_WRITE)), err(madvise((void *)(p + 1024), PAGE, MADV_POPULATE_WRITE)));
	printf("remove private %s\n", err(madvise((void *)p, PAGE, MADV_REMOVE)));
	r = madvise((void *)s, PAGE, MADV_REMOVE);
	printf("remove shared %s: 0x%x\n", err(r), s[0]);
	s[0] = 0x600;
	mprotect((void *)s, PAGE, PROT_READ);
	r = madvise((void *)s, PAGE, MADV_REMOVE);
	printf("remove read-only shared %s: 0x%x\n", err(r), s[0]);
	return 0;
}
