/* build.sh: dynamic */
/*
 * A dynamically linked program (built by build.sh without -static: a PIE whose PT_INTERP is
 * /lib/ld-linux-armhf.so.3, needing libc.so.6), run with the host's cross C library as the
 * guest's /lib (tools/unicorn/run.ts crossLibc): the kernel maps the program at ELF_ET_DYN_BASE
 * and the loader where mmap puts it (AT_BASE), the loader maps libc.so.6 and relocates, and
 * main prints where it runs; then it execve's itself through /proc/self/exe with the argument
 * "again" (the execve path loads the program and the loader again) and the new image prints the
 * same (tools/unicorn/hello-dyn.test.ts, both eras).
 */
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *again = argc > 1 ? argv[1] : "first";
	printf("hello from a dynamically linked program (%s)\n", again);
	printf("AT_BASE 0x%lx, main in the page at 0x%lx\n", getauxval(AT_BASE), (unsigned long)&main & ~0xfffUL);
	if (argc > 1)
		return 0;
	fflush(stdout);
	char *nargv[] = { "hello-dyn", "again", NULL };
	char *envp[] = { NULL };
	execve("/proc/self/exe", nargv, envp);
	perror("execve");
	return 1;
}
