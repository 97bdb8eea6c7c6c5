/* Smallest useful guest program: prints through stdio (glibc start-up, TLS, brk) and exits 0. */
#include <stdio.h>

int main(int argc, char **argv)
{
	printf("hello from %s (argc=%d)\n", argc > 0 ? argv[0] : "?", argc);
	return 0;
}
