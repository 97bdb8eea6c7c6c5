/*
 * Many pages on the Unicorn backend (tools/unicorn/proc.test.ts). "heap": 16 MiB of malloc'd
 * memory touched in order (demand faults whose pages continue a run are merged into it, so the
 * mirror stays a few Unicorn regions). "scatter": 64 MiB touched backwards, one page in two (no
 * page continues another's run): the mirror runs out of regions (REGION_LIMIT, Unicorn 2.0's
 * limit), and the process gets a SIGSEGV that says so, where Unicorn would abort the host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "scatter") == 0) {
		size_t n = 64u << 20;
		char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		for (size_t i = n; i >= 8192; i -= 8192)
			p[i - 8192] = 1;
		printf("scatter: touched\n");
		return 0;
	}
	size_t n = 16u << 20;
	unsigned char *p = malloc(n);
	unsigned sum = 0;
	if (p == NULL)
		return 1;
	for (size_t i = 0; i < n; i += 4096)
		p[i] = (unsigned char)(i >> 12);
	for (size_t i = 0; i < n; i += 4096)
		sum += p[i];
	printf("heap: %zu pages, sum %u\n", n / 4096, sum);
	return 0;
}
