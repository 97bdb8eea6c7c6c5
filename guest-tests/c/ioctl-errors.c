/*
 * ioctl error paths through the kernel model's VFIO code: each line prints the call and
 * what it returned (-errno), so a test can check the kernel's answers for bad input from
 * a real ARM binary: unknown ioctl, bad fd, bad user pointer (EFAULT from copy_from_user),
 * argsz below minsz, an unknown extension, a group that does not exist, and an unknown
 * syscall number (-ENOSYS, counted in the run summary). Usage: ioctl-errors [/dev/vfio/<group>]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define VFIO_GET_API_VERSION 0x3b64
#define VFIO_CHECK_EXTENSION 0x3b65
#define VFIO_IOMMU_GET_INFO 0x3b70
#define VFIO_IOMMU_MAP_DMA 0x3b71
#define VFIO_GROUP_GET_STATUS 0x3b67

static void report(const char *what, int r)
{
	printf("%s = %d\n", what, r < 0 ? -errno : r);
}

int main(int argc, char **argv)
{
	int c = open("/dev/vfio/vfio", O_RDWR);
	int g = open(argc > 1 ? argv[1] : "/dev/vfio/0", O_RDWR);
	uint32_t small[2] = { 4, 0 };
	printf("open /dev/vfio/vfio = %d\n", c);
	report("GET_API_VERSION", ioctl(c, VFIO_GET_API_VERSION));
	report("CHECK_EXTENSION(77)", ioctl(c, VFIO_CHECK_EXTENSION, 77));
	report("unknown ioctl", ioctl(c, 0x3b99));
	report("bad fd", ioctl(1000, VFIO_GET_API_VERSION));
	report("MAP_DMA no iommu", ioctl(c, VFIO_IOMMU_MAP_DMA, small));
	report("GET_INFO no iommu", ioctl(c, VFIO_IOMMU_GET_INFO, small));
	printf("open group = %d\n", g);
	report("GROUP_GET_STATUS bad pointer", ioctl(g, VFIO_GROUP_GET_STATUS, (void *)16));
	report("GROUP_GET_STATUS argsz 4", ioctl(g, VFIO_GROUP_GET_STATUS, small));
	report("GET_API_VERSION on a group", ioctl(g, VFIO_GET_API_VERSION));
	report("syscall 0x1234", syscall(0x1234));
	report("open /dev/vfio/4242", open("/dev/vfio/4242", O_RDWR));
	report("close bad fd", close(1000));
	return 0;
}
