/* Programs a device page with real ARM loads/stores: the test maps a device at DEV_VA. Also leaves a
 * marker in RAM whose physical copy the test reads back (zero copy: guest memory is board RAM). */
#include <stdio.h>
#include <stdint.h>

#define DEV_VA 0x50000000u

volatile uint32_t marker[4] = { 0 };

int main(void)
{
	volatile uint32_t *dev = (volatile uint32_t *)DEV_VA;
	marker[0] = 0xfeedc0de;
	marker[1] = 0x12345678;
	dev[1] = 0xabcd0001;          /* word store */
	((volatile uint16_t *)dev)[4] = 0x55aa; /* halfword store at +8 */
	uint32_t id = dev[0];         /* word load */
	printf("marker %p id %08x\n", (void *)marker, (unsigned)id);
	return 0;
}
