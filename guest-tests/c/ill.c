/* Executes an undefined instruction: the emulator must end it with SIGILL (status 132). */
#include <stdio.h>

int main(void)
{
	puts("about to execute udf");
	fflush(stdout);
	__builtin_trap();
	return 0;
}
