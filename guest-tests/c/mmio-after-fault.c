/* A store that faults (to a read-only page), then a device store in the same basic block: the
 * process dies of the first (SIGSEGV), and the device must never see the second. The test maps a
 * device at DEV_VA (emulator/cpu/unicorn/unicorn.test.ts). */
#include <stdint.h>
#include <sys/mman.h>

#define DEV_VA 0x50000000u

int main(void)
{
	volatile uint32_t *dev = (volatile uint32_t *)DEV_VA;
	volatile uint32_t *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		return 1;
	(void)ro[0];         /* the page is present (read-only) */
	ro[1] = 2;           /* SIGSEGV */
	dev[1] = 0xabcd0001; /* must not reach the device */
	dev[2] = ro[1];
	return 0;
}
