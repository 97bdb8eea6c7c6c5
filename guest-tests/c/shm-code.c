/*
 * Instructions another process writes into an executable MAP_SHARED|MAP_ANONYMOUS page (a
 * shmem object both map after a fork), followed by its cacheflush (0xf0002,
 * __builtin___clear_cache): the Cortex-A15's instruction cache is physically indexed and
 * tagged and ARMv7 SMP broadcasts its maintenance by address (arch/arm/mm/cache-v7.S
 * v7_coherent_user_range), so the lines of that frame go for every mapping of it and the
 * parent, which ran the old code, runs the new. Also with the parent's mapping made
 * read+exec only and the child's read+write only (no exec of its own).
 * (tools/unicorn/shm-code.test.ts, both eras; the file-page version is filemap-tb.c.)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

/* Thumb code: movs r0, #imm ; bx lr */
static void code(unsigned char *p, unsigned char imm)
{
	p[0] = imm;
	p[1] = 0x20;
	p[2] = 0x70;
	p[3] = 0x47;
}

/* a fork child stores `imm` at x (after setting its own protection to `prot`) and cacheflushes */
static void child_writes(unsigned char *x, unsigned char imm, int prot)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (prot != 0 && mprotect(x, PAGE, prot) != 0)
			_exit(1);
		code(x, imm);
		__builtin___clear_cache((char *)x, (char *)x + 4);
		_exit(0);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	if (st != 0)
		printf("child status %d\n", st);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	unsigned char *x = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (x == MAP_FAILED)
		return 1;
	int (*f)(void) = (int (*)(void))(uintptr_t)(x + 1); /* Thumb */
	code(x, 1);
	__builtin___clear_cache((char *)x, (char *)x + 4);
	printf("code: %d\n", f());
	code(x, 2);
	__builtin___clear_cache((char *)x, (char *)x + 4);
	printf("own store and cacheflush: %d\n", f());
	child_writes(x, 3, 0);
	printf("a child's store and cacheflush: %d\n", f());
	if (mprotect(x, PAGE, PROT_READ | PROT_EXEC) != 0)
		return 2;
	printf("read+exec: %d\n", f());
	child_writes(x, 4, PROT_READ | PROT_WRITE);
	printf("a child's store through a mapping without exec, cacheflush: %d\n", f());
	/* a second child's store, the first child still mapping the page: both children's */
	child_writes(x, 5, PROT_READ | PROT_WRITE | PROT_EXEC);
	printf("again: %d\n", f());
	return 0;
}
