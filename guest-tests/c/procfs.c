/*
 * procfs seen by a VFIO user (fs/proc/base.c, fd.c, self.c, task_mmu.c): open the container,
 * the device's group and the device like pl330-vfio-test.c, list /proc/self/fd with the
 * readlink of each, mmap region 0 and print its /proc/self/maps line, close everything and
 * check the fds are gone. Usage: procfs <device> (e.g. 2c0a0000.dma, already bound to VFIO)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define VFIO_SET_IOMMU 0x3b66
#define VFIO_GROUP_SET_CONTAINER 0x3b68
#define VFIO_GROUP_GET_DEVICE_FD 0x3b6a
#define VFIO_DEVICE_GET_REGION_INFO 0x3b6c
#define VFIO_TYPE1_IOMMU 1

struct region_info {
	unsigned int argsz, flags, index, cap_offset;
	unsigned long long size, offset;
};

/* the open fds as /proc/self/fd lists them (without the listing's own), each with its link */
static int list_fds(const char *tag)
{
	char path[300], link[256];
	struct dirent *e;
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL) {
		printf("%s: opendir failed\n", tag);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		ssize_t r;
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		r = readlink(path, link, sizeof(link) - 1);
		link[r < 0 ? 0 : r] = 0;
		printf("%s: fd %s -> %s\n", tag, e->d_name, link);
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "2c0a0000.dma";
	/* re-executed through /proc/self/exe: comm is the name given to execve, "exe" */
	if (argc > 1 && strcmp(argv[1], "--comm") == 0) {
		char st[64] = "";
		int fd = open("/proc/self/status", O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, st, sizeof(st) - 1);
		st[n < 0 ? 0 : n] = 0;
		*strchrnul(st, '\n') = 0;
		printf("comm: %s\n", st);
		return 0;
	}
	char path[128], link[128], self[32], line[256];
	struct region_info reg;
	int container, group, device, efd, before, after;
	ssize_t r;
	void *regs;
	FILE *maps;

	r = readlink("/proc/self", self, sizeof(self) - 1);
	self[r < 0 ? 0 : r] = 0;
	printf("/proc/self -> %s (getpid %s)\n", self, atoi(self) == getpid() ? "same" : "differs");
	before = list_fds("before");
	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/iommu_group", dev);
	r = readlink(path, link, sizeof(link) - 1);
	if (r < 0) {
		snprintf(path, sizeof(path), "/sys/bus/amba/devices/%s/iommu_group", dev);
		r = readlink(path, link, sizeof(link) - 1);
	}
	if (r < 0) {
		printf("no iommu_group for %s\n", dev);
		return 2;
	}
	link[r] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open(path, O_RDWR);
	if (container < 0 || group < 0 || ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) || ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)) {
		printf("container/group setup failed\n");
		return 3;
	}
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, dev);
	efd = eventfd(0, 0);
	if (device < 0 || efd < 0) {
		printf("device %d eventfd %d\n", device, efd);
		return 4;
	}
	list_fds("open");
	/* /proc/<pid>/exe is the same link as /proc/self/exe; /proc/self/cwd follows chdir */
	{
		char exe[128], exe2[128], cwd[64];
		ssize_t n1 = readlink("/proc/self/exe", exe, sizeof(exe) - 1), n2;
		exe[n1 < 0 ? 0 : n1] = 0;
		snprintf(path, sizeof(path), "/proc/%d/exe", getpid());
		n2 = readlink(path, exe2, sizeof(exe2) - 1);
		exe2[n2 < 0 ? 0 : n2] = 0;
		printf("exe: %s (/proc/<pid>/exe %s)\n", exe, n1 > 0 && strcmp(exe, exe2) == 0 ? "same" : "differs");
		if (chdir("/tmp") == 0) {
			n1 = readlink("/proc/self/cwd", cwd, sizeof(cwd) - 1);
			cwd[n1 < 0 ? 0 : n1] = 0;
			printf("cwd: %s\n", cwd);
			chdir("/");
		}
	}
	/* comm after execve of /proc/self/exe: kbasename of the name given (setup_new_exec) */
	{
		pid_t c;
		fflush(stdout);
		c = fork();
		if (c == 0) {
			execl("/proc/self/exe", "procfs", "--comm", (char *)NULL);
			_exit(127);
		}
		waitpid(c, NULL, 0);
	}
	/* a zombie keeps /proc/<pid> (no fds, no exe) until wait4 reaps it */
	{
		siginfo_t si;
		struct stat st;
		DIR *d;
		struct dirent *e;
		int n = 0;
		pid_t c = fork();
		if (c == 0)
			_exit(7);
		memset(&si, 0, sizeof(si));
		waitid(P_PID, c, &si, WEXITED | WNOWAIT);
		snprintf(path, sizeof(path), "/proc/%d", c);
		printf("zombie: /proc/<pid> %s", stat(path, &st) == 0 ? "present" : "absent");
		snprintf(path, sizeof(path), "/proc/%d/fd", c);
		d = opendir(path);
		while (d && (e = readdir(d)) != NULL)
			n += e->d_name[0] != '.';
		if (d)
			closedir(d);
		snprintf(path, sizeof(path), "/proc/%d/exe", c);
		printf(", fds %d, exe %s", n, readlink(path, link, sizeof(link)) < 0 && errno == ENOENT ? "ENOENT" : "readable");
		waitpid(c, NULL, 0);
		snprintf(path, sizeof(path), "/proc/%d", c);
		printf("; reaped: /proc/<pid> %s\n", stat(path, &st) == 0 ? "present" : "absent");
	}
	/* fdinfo of the eventfd: the lines differ per era */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", efd);
	maps = fopen(path, "r");
	while (maps && fgets(line, sizeof(line), maps))
		printf("fdinfo: %s", line);
	if (maps)
		fclose(maps);
	memset(&reg, 0, sizeof(reg));
	reg.argsz = sizeof(reg);
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg)) {
		printf("region info failed\n");
		return 5;
	}
	regs = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, device, reg.offset);
	if (regs == MAP_FAILED) {
		printf("mmap failed\n");
		return 6;
	}
	maps = fopen("/proc/self/maps", "r");
	snprintf(path, sizeof(path), "%08lx-", (unsigned long)regs);
	while (maps != NULL && fgets(line, sizeof(line), maps) != NULL)
		if (strncmp(line, path, strlen(path)) == 0)
			printf("maps: %s", line + 18); /* without the addresses, which the layout decides */
	if (maps != NULL)
		fclose(maps);
	munmap(regs, 4096);
	close(efd);
	close(device);
	close(group);
	close(container);
	after = list_fds("after");
	printf("fds before %d after %d: %s\n", before, after, before == after ? "no leak" : "LEAK");
	return before == after ? 0 : 1;
}
