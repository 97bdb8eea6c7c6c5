/* Dereferences NULL: the emulator must end it with SIGSEGV (status 139) and report address 0x0 and the PC. */
#include <stdio.h>

int deref(volatile int *p);

int main(void)
{
	puts("about to dereference NULL");
	fflush(stdout);
	return deref((volatile int *)0);
}

__attribute__((noinline)) int deref(volatile int *p)
{
	return *p + 1;
}
