/*
 * Dirty page tracking of today's vfio_iommu_type1 (VFIO_IOMMU_DIRTY_PAGES) from a real ARM
 * binary built against <linux/vfio.h>: a TYPE1v2 container with two mappings, 32 pages at
 * IOVA 0 and 1 page right after them, tracking started, then GET_BITMAP of the 33 pages into
 * an 8-byte bitmap followed by 8 canary bytes. Prints each answer, the 16 bytes, and the
 * struct layout the ARM ABI gives the uapi (struct vfio_bitmap: 24 bytes, its pointer at 16).
 * On a 64-bit kernel the 16 bytes read ffffffff01000000 aaaaaaaaaaaaaaaa; the kernel model of
 * this 32-bit kernel writes the second mapping's bit at byte 8 (docs/VFIO.md, "Dirty page
 * tracking"). Usage: dirty-bitmap [/dev/vfio/<group>]
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

#define PAGE 4096

static int report(const char *what, int r)
{
	printf("%s = %d\n", what, r < 0 ? -errno : r);
	return r;
}

int main(int argc, char **argv)
{
	int c = open("/dev/vfio/vfio", O_RDWR);
	int g = open(argc > 1 ? argv[1] : "/dev/vfio/0", O_RDWR);
	uint8_t *buf = mmap(NULL, 33 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_iommu_type1_dma_map map;
	struct vfio_iommu_type1_dirty_bitmap head;
	struct vfio_iommu_type1_dirty_bitmap_get get;
	uint64_t words[2] = { 0, 0xaaaaaaaaaaaaaaaaull };
	uint64_t raw[(sizeof(head) + sizeof(get) + 7) / 8];
	const uint8_t *b = (const uint8_t *)words;
	int i;

	printf("sizeof vfio_bitmap %u data at %u, sizeof dirty_bitmap_get %u\n", (unsigned)sizeof(struct vfio_bitmap),
	       (unsigned)offsetof(struct vfio_bitmap, data), (unsigned)sizeof(get));
	memset(buf, 1, 33 * PAGE);
	report("SET_CONTAINER", ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	report("SET_IOMMU(TYPE1v2)", ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	memset(&map, 0, sizeof(map));
	map.argsz = sizeof(map);
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)buf;
	map.iova = 0;
	map.size = 32 * PAGE;
	report("MAP_DMA 32 pages at 0", ioctl(c, VFIO_IOMMU_MAP_DMA, &map));
	map.vaddr += 32 * PAGE;
	map.iova = 32 * PAGE;
	map.size = PAGE;
	report("MAP_DMA 1 page at 32", ioctl(c, VFIO_IOMMU_MAP_DMA, &map));

	head.argsz = sizeof(head);
	head.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
	report("DIRTY_PAGES START", ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &head));
	head.argsz = sizeof(head) + sizeof(get);
	head.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	get.iova = 0;
	get.size = 33 * PAGE;
	get.bitmap.pgsize = PAGE;
	get.bitmap.size = 8;
	get.bitmap.data = &words[0];
	memcpy(raw, &head, sizeof(head));
	memcpy((uint8_t *)raw + sizeof(head), &get, sizeof(get));
	report("DIRTY_PAGES GET_BITMAP 33 pages", ioctl(c, VFIO_IOMMU_DIRTY_PAGES, raw));
	printf("bitmap ");
	for (i = 0; i < 8; i++)
		printf("%02x", b[i]);
	printf(" then ");
	for (i = 8; i < 16; i++)
		printf("%02x", b[i]);
	printf("\n");
	head.argsz = sizeof(head);
	head.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	report("DIRTY_PAGES STOP", ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &head));
	return 0;
}
