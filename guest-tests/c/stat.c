/*
 * stat, lstat, fstat, fstatat and statx (through glibc) over sysfs, devtmpfs and anonymous
 * files: file types, the iommu_group link, errors. Usage: stat <device> (e.g. 2c0a0000.dma)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <unistd.h>

static const char *type(mode_t m)
{
	return S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" : S_ISCHR(m) ? "chr" : S_ISREG(m) ? "reg" : S_ISFIFO(m) ? "fifo" : "other";
}

int main(int argc, char **argv)
{
	char path[256], link[256];
	struct stat st;
	struct statx sx;
	int p[2], d, r;
	const char *dev = argc > 1 ? argv[1] : "2c0a0000.dma";

	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/iommu_group", dev);
	r = stat(path, &st);
	printf("stat iommu_group %d %s\n", r, type(st.st_mode));
	r = lstat(path, &st);
	printf("lstat iommu_group %d %s size %lld\n", r, type(st.st_mode), (long long)st.st_size);
	r = readlink(path, link, sizeof(link) - 1);
	link[r > 0 ? r : 0] = 0;
	printf("readlink %s\n", strstr(link, "iommu_groups/") ? "iommu_groups/<n>" : link);
	r = stat("/dev/vfio/vfio", &st);
	printf("stat /dev/vfio/vfio %d %s 0%o\n", r, type(st.st_mode), st.st_mode & 0777);
	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s", dev);
	d = open(path, O_RDONLY | O_DIRECTORY);
	r = fstatat(d, "uevent", &st, 0);
	printf("fstatat uevent %d %s size %lld\n", r, type(st.st_mode), (long long)st.st_size);
	r = fstat(d, &st);
	printf("fstat dir %d %s\n", r, type(st.st_mode));
	r = statx(AT_FDCWD, "/sys", 0, STATX_BASIC_STATS, &sx);
	printf("statx /sys %d %s\n", r, type(sx.stx_mode));
	pipe(p);
	fstat(p[0], &st);
	printf("fstat pipe %s\n", type(st.st_mode));
	fstat(eventfd(0, 0), &st);
	printf("fstat eventfd %s 0%o\n", type(st.st_mode), st.st_mode & 0777);
	fstat(1, &st);
	printf("fstat stdout %s\n", type(st.st_mode));
	r = stat("/nonexistent", &st);
	printf("stat missing %d %s\n", r, errno == ENOENT ? "ENOENT" : "?");
	r = fstat(99, &st);
	printf("fstat bad %d %s\n", r, errno == EBADF ? "EBADF" : "?");
	/* cwd: chdir, getcwd, relative open/readlink/stat, access */
	r = chdir("/sys/bus/platform/devices");
	printf("chdir %d cwd %s\n", r, getcwd(path, sizeof(path)) ? path : "?");
	snprintf(path, sizeof(path), "%s/uevent", dev);
	d = open(path, O_RDONLY);
	r = read(d, link, sizeof(link) - 1);
	printf("relative open %s\n", d >= 0 && r > 0 ? "ok" : "failed");
	snprintf(path, sizeof(path), "%s/iommu_group", dev);
	r = readlink(path, link, sizeof(link) - 1);
	printf("relative readlink %s\n", r > 0 ? "ok" : "failed");
	r = stat(dev, &st);
	printf("relative stat %d %s\n", r, type(st.st_mode));
	r = chdir(dev);
	printf("chdir link %d cwd %s\n", r, getcwd(path, sizeof(path)) ? (strncmp(path, "/sys/devices/", 13) == 0 ? "/sys/devices/..." : path) : "?");
	r = chdir("..");
	printf("chdir .. %d\n", r);
	r = chdir("/dev/vfio/vfio");
	printf("chdir chr %d %s\n", r, errno == ENOTDIR ? "ENOTDIR" : "?");
	printf("access %d %d\n", access("/dev/vfio/vfio", R_OK | W_OK), access("/nonexistent", F_OK));
	return 0;
}
