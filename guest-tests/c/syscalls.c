/* Syscall round-trip benchmark: many cheap syscalls (getpid) through the bridge. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 10000u;
	long s = 0;
	for (unsigned i = 0; i < n; i++)
		s += syscall(SYS_getpid);
	printf("syscalls %u %ld\n", n, s);
	return 0;
}
