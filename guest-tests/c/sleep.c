/* Blocks in nanosleep: the thread must park and resume at the right virtual time. */
#include <stdio.h>
#include <time.h>

int main(void)
{
	struct timespec t0, t1, d = { .tv_sec = 0, .tv_nsec = 2500000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long dt = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("slept %lld ns\n", dt);
	return dt >= 2500000 ? 0 : 1;
}
