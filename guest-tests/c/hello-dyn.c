/* build.sh: dynamic */
/*
 * A dynamically linked program (built by build.sh without -static: a PIE whose PT_INTERP is
 * /lib/ld-linux-armhf.so.3, needing libc.so.6), run with the host's cross C library as the
 * guest's /lib (tools/unicorn/run.ts crossLibc): the kernel maps the program at ELF_ET_DYN_BASE
 * and the loader where mmap puts it (AT_BASE), the loader maps libc.so.6 and relocates, and
 * main prints where it runs (tools/unicorn/hello-dyn.test.ts, both eras).
 */
#include <stdio.h>
#include <sys/auxv.h>

int main(void)
{
	printf("hello from a dynamically linked program\n");
	printf("AT_BASE 0x%lx, main in the page at 0x%lx\n", getauxval(AT_BASE), (unsigned long)&main & ~0xfffUL);
	return 0;
}
