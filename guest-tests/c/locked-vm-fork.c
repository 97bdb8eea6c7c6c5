/*
 * Whose locked_vm vfio_iommu_type1 uncharges when another process unmaps: the parent maps 16
 * pages into a TYPE1 container, forks, and the child (which shares the container fd) unmaps
 * them. Each process then prints the VmLck line of its own /proc/self/status. 3.14's
 * vfio_lock_acct takes current->mm: the child goes below zero (an unsigned long: 4294967232 kB
 * on this 32-bit kernel) and the parent keeps 64 kB. Mainline uncharges the mapping's mm: both
 * read 0 kB (docs/VFIO.md, `type1LockAcct`). Usage: locked-vm-fork [/dev/vfio/<group>]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vfio.h>

#define PAGE 4096
#define PAGES 16

static int report(const char *who, const char *what, int r)
{
	printf("%s: %s = %d\n", who, what, r < 0 ? -errno : r);
	return r;
}

/* the value of the VmLck line of /proc/self/status */
static void vmlck(const char *who)
{
	char buf[1024], *p, *nl;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0) {
		printf("%s: /proc/self/status = %d\n", who, -errno);
		return;
	}
	buf[n] = 0;
	p = strstr(buf, "VmLck:");
	if (!p) {
		printf("%s: no VmLck line\n", who);
		return;
	}
	p += strlen("VmLck:");
	while (*p == ' ' || *p == '\t')
		p++;
	nl = strchr(p, '\n');
	if (nl)
		*nl = 0;
	printf("%s: VmLck %s\n", who, p);
}

int main(int argc, char **argv)
{
	int c = open("/dev/vfio/vfio", O_RDWR);
	int g = open(argc > 1 ? argv[1] : "/dev/vfio/0", O_RDWR);
	uint8_t *buf = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_iommu_type1_dma_map map;
	struct vfio_iommu_type1_dma_unmap unmap;
	int st = 0;
	pid_t pid;

	memset(buf, 1, PAGES * PAGE);
	report("parent", "SET_CONTAINER", ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	report("parent", "SET_IOMMU(TYPE1)", ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	memset(&map, 0, sizeof(map));
	map.argsz = sizeof(map);
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)buf;
	map.iova = 0;
	map.size = PAGES * PAGE;
	report("parent", "MAP_DMA 16 pages", ioctl(c, VFIO_IOMMU_MAP_DMA, &map));
	vmlck("parent");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		memset(&unmap, 0, sizeof(unmap));
		unmap.argsz = sizeof(unmap);
		unmap.iova = 0;
		unmap.size = PAGES * PAGE;
		report("child", "UNMAP_DMA 16 pages", ioctl(c, VFIO_IOMMU_UNMAP_DMA, &unmap));
		vmlck("child");
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("parent: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	vmlck("parent");
	return 0;
}
