/*
 * clock_gettime over every clock id (raw syscall, 32-bit timespec) and time(): which clocks
 * carry the wall-clock epoch, which count from boot, which are refused with EINVAL.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

struct ts32 { long sec; long nsec; };

int main(void)
{
	int ids[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1000, -2 /* CPUCLOCK_SCHED, per thread, self */, -1 /* CPUCLOCK_WHICH 3: invalid */ };
	for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct ts32 ts = { -1, -1 };
		long r = syscall(SYS_clock_gettime, ids[i], &ts);
		if (r < 0)
			printf("clock %d: errno %d\n", ids[i], errno);
		else
			printf("clock %d: %s\n", ids[i], ts.sec >= 1399939200 ? "epoch" : "boot");
	}
	time_t now = time(NULL);
	printf("time() %s\n", now >= 1399939200 ? "epoch" : "zero");
	return 0;
}
