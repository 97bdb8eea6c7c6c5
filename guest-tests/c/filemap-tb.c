/*
 * Stores to one page of a /tmp (tmpfs) file through several mappings of it in one straight-line
 * run of code, no system call between (one Unicorn translation block: docs/UNICORN.md "Regular
 * files"): a MAP_PRIVATE mapping's first store gives it its own copy (do_wp_page /
 * wp_page_copy, mm/memory.c), made before the store, so a MAP_SHARED store after it reaches
 * the file and is not seen by the private copy, the shared mapping never sees the private
 * store, and two private mappings each keep their own store. Then executable file pages
 * rewritten by pwrite() and by a store through a MAP_SHARED mapping, run after
 * __builtin___clear_cache (the cacheflush call, 0xf0002), by pwrite() alone (3.14's
 * flush_dcache_page flushes the instruction cache of a mapped page cache page), and by a fork
 * child's store through its MAP_SHARED mapping and its cacheflush of that range: the new
 * instructions run.
 * Output is deterministic.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

/* one basic block: no branch, no call, no system call */
__attribute__((noinline)) static void one_block(volatile unsigned char *pv, volatile unsigned char *sh, volatile unsigned char *pv2, unsigned char *out)
{
	pv[2] = 0x22;   /* the private mapping's first store: its copy */
	out[0] = sh[2]; /* the file's byte, not the private store */
	sh[1] = 0x33;   /* a shared store after it: the file's */
	out[1] = pv[1]; /* the private copy, made before the shared store */
	out[2] = pv[2];
	pv2[3] = 0x66;  /* a second private mapping's first store */
	pv[3] = 0x55;
	out[3] = pv2[3];
	out[4] = sh[3];
	sh[4] = 0x77;   /* seen by pv2's copy? no: made at its first store, before */
	out[5] = pv2[4];
}

/* the other order: the shared store first, then the private one, then a shared load */
__attribute__((noinline)) static void shared_first(volatile unsigned char *pv, volatile unsigned char *sh, unsigned char *out)
{
	sh[10] = 0xa1;
	pv[11] = 0xb2;
	sh[11] = 0xc3;
	out[0] = pv[10];
	out[1] = pv[11];
	out[2] = sh[11];
}

/* 64-bit accesses (VFP vldr / vstr: one 8-byte access each) in one block: a store, then loads */
__attribute__((noinline)) static void wide(volatile unsigned char *pv, uint64_t v, uint64_t *out)
{
	uint64_t a, b;
	__asm__ volatile("vstr %P2, [%3, #24]\n\tvldr %P0, [%3, #24]\n\tvldr %P1, [%3, #16]"
			 : "=&w"(a), "=&w"(b)
			 : "w"(v), "r"(pv)
			 : "memory");
	out[0] = a;
	out[1] = b;
}

static uint64_t load64(volatile unsigned char *p)
{
	uint64_t a;
	__asm__ volatile("vldr %P0, [%1]" : "=w"(a) : "r"(p) : "memory");
	return a;
}

/* Thumb code: movs r0, #imm ; bx lr */
static void code(unsigned char *p, unsigned char imm)
{
	p[0] = imm;
	p[1] = 0x20;
	p[2] = 0x70;
	p[3] = 0x47;
}

int main(void)
{
	unsigned char out[8], b[8], page[PAGE];
	int fd = open("/tmp/tb", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 1;
	for (int i = 0; i < PAGE; i++)
		page[i] = (unsigned char)i;
	if (write(fd, page, PAGE) != PAGE)
		return 2;
	unsigned char *sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unsigned char *pv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	unsigned char *pv2 = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (sh == MAP_FAILED || pv == MAP_FAILED || pv2 == MAP_FAILED)
		return 3;
	/* every mapping has the page in its page tables before the block (read faults) */
	printf("before: %u %u %u\n", sh[1], pv[1], pv2[1]);
	one_block(pv, sh, pv2, out);
	pread(fd, b, 5, 0);
	printf("one block: shared load after the private store %#x, private byte 1 %#x, byte 2 %#x\n", out[0], out[1], out[2]);
	printf("second private mapping: its store %#x, shared byte 3 %#x, its byte 4 %#x\n", out[3], out[4], out[5]);
	printf("after: file bytes 1-4 %#x %#x %#x %#x, private 1-3 %#x %#x %#x, second private 3-4 %#x %#x\n", b[1], b[2], b[3], b[4], pv[1], pv[2], pv[3], pv2[3], pv2[4]);

	unsigned char *pv3 = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (pv3 == MAP_FAILED)
		return 4;
	printf("before: %u\n", pv3[10]);
	shared_first(pv3, sh, out);
	pread(fd, b, 2, 10);
	printf("shared first: private 10 %#x, 11 %#x, shared 11 %#x; file 10-11 %#x %#x; private now %#x %#x\n", out[0], out[1], out[2], b[0], b[1], pv3[10], pv3[11]);

	unsigned char *pv4 = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	uint64_t w[2];
	if (pv4 == MAP_FAILED)
		return 8;
	printf("64-bit load before a store: %#llx\n", (unsigned long long)load64(pv4 + 16));
	wide(pv4, 0x8877665544332211ULL, w);
	printf("64-bit store and loads: %#llx %#llx, the file's %#llx\n", (unsigned long long)w[0], (unsigned long long)w[1], (unsigned long long)load64(sh + 24));

	/* executable file pages rewritten while mapped */
	int cfd = open("/tmp/code", O_RDWR | O_CREAT | O_TRUNC, 0700);
	if (cfd < 0)
		return 5;
	code(page, 1);
	if (write(cfd, page, PAGE) != PAGE)
		return 6;
	unsigned char *x = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, cfd, 0);
	unsigned char *xw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
	if (x == MAP_FAILED || xw == MAP_FAILED)
		return 7;
	int (*f)(void) = (int (*)(void))(uintptr_t)(x + 1); /* Thumb */
	printf("code: %d\n", f());
	code(b, 2);
	pwrite(cfd, b, 4, 0);
	__builtin___clear_cache((char *)x, (char *)x + 4);
	printf("after pwrite: %d\n", f());
	code(xw, 3);
	__builtin___clear_cache((char *)x, (char *)x + 4);
	printf("after a shared store: %d\n", f());
	code(b, 4);
	pwrite(cfd, b, 4, 0);
	printf("after pwrite, no cacheflush: %d\n", f());
	pid_t pid = fork();
	if (pid == 0) {
		/* the child's store through its MAP_SHARED mapping, then the cacheflush of that range */
		code(xw, 5);
		__builtin___clear_cache((char *)xw, (char *)xw + 4);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("after a child's store and cacheflush: %d\n", f());
	return 0;
}
