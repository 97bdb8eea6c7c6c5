/* CPU-bound loop for the instruction-rate benchmark; prints a checksum so the work is not optimised away. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1000000u;
	unsigned x = 1;
	for (unsigned i = 0; i < n; i++)
		x = x * 1664525u + 1013904223u + (x >> 7);
	printf("loop %u %08x\n", n, x);
	return 0;
}
