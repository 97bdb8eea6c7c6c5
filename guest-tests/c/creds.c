/*
 * The fuzzer's three credentials, given by a C program to processes that one coordinator
 * waits for. The coordinator (main) forks P0; P0 (root with every capability) makes P1 and P2
 * with clone(CLONE_PARENT), so that all three are the coordinator's children
 * (kernel/fork.c copy_process: real_parent = current->real_parent) and P0 itself cannot wait
 * for its siblings. P1 is root without CAP_IPC_LOCK in its effective set (capset; it stays
 * permitted) under RLIMIT_MEMLOCK 64 KiB (prlimit): a VFIO MAP_DMA of 32 pages fails with
 * ENOMEM, 16 pages fit, and with CAP_IPC_LOCK taken back 16 more pass the limit. P2 is uid 1000
 * (setuid from root clears its permitted and effective sets: security/commoncap.c
 * cap_emulate_setxuid) and can take neither root, a capability nor a higher hard limit back. Each process prints
 * its lines with its name; the coordinator prints the exit status of each child it reaps.
 * Usage: creds [/dev/vfio/<group>]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/vfio.h>

#define PAGE 4096
#define IPC_LOCK (1u << CAP_IPC_LOCK)

static const char *group_path;
static pid_t coordinator;

static int ret(long r)
{
	return r < 0 ? -errno : (int)r;
}

/* a result as "0", "16" or "-EPERM" (four at a time per printf) */
static const char *show(int r)
{
	static char b[4][24];
	static int i;
	char *p = b[i++ & 3];

	if (r < 0)
		snprintf(p, sizeof(b[0]), "-%s", strerrorname_np(-r));
	else
		snprintf(p, sizeof(b[0]), "%d", r);
	return p;
}

/* the value of a line of /proc/self/status ("" if absent) */
static const char *status(const char *key, char *out, size_t n)
{
	char buf[2048], *p, *nl;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	out[0] = 0;
	if (len < 0)
		return out;
	buf[len] = 0;
	p = strstr(buf, key);
	if (!p)
		return out;
	p += strlen(key) + 1;
	nl = strchr(p, '\n');
	if (nl)
		*nl = 0;
	snprintf(out, n, "%s", p);
	return out;
}

static void print_status(const char *who)
{
	char prm[32], eff[32], bnd[32];

	printf("%s: CapPrm %s CapEff %s CapBnd %s\n", who, status("CapPrm:", prm, sizeof(prm)),
	       status("CapEff:", eff, sizeof(eff)), status("CapBnd:", bnd, sizeof(bnd)));
}

static int capget_self(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return ret(syscall(SYS_capget, &h, d));
}

/* capset with the effective words `e0`, `e1`, the permitted and inheritable sets kept */
static int capset_eff(uint32_t e0, uint32_t e1)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int r = capget_self(d);

	if (r)
		return r;
	d[0].effective = e0;
	d[1].effective = e1;
	return ret(syscall(SYS_capset, &h, d));
}

static int map_dma(int c, void *va, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map;

	memset(&map, 0, sizeof(map));
	map.argsz = sizeof(map);
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)va;
	map.iova = iova;
	map.size = size;
	return ret(ioctl(c, VFIO_IOMMU_MAP_DMA, &map));
}

/*
 * check_kill_permission from root: a uid-1000 child may be signalled with CAP_KILL in the
 * effective set (kill_ok_by_cred), not without it (-EPERM, signal 0 too); `d` the caller's sets
 */
static void kill_child_checks(struct __user_cap_data_struct d[2])
{
	int pfd[2], st, r[4];
	char ch;
	pid_t k;

	if (pipe(pfd) != 0)
		return;
	k = fork();
	if (k == 0) {
		setuid(1000);
		write(pfd[1], "r", 1);
		for (;;)
			pause();
	}
	read(pfd[0], &ch, 1);
	/* one call at a time: the order of a printf's arguments is unspecified */
	r[0] = ret(kill(k, 0));
	r[1] = capset_eff(d[0].effective & ~(1u << CAP_KILL), d[1].effective);
	r[2] = ret(kill(k, 0));
	r[3] = ret(kill(k, SIGKILL));
	printf("P1: kill(uid-1000 child, 0) = %s, capset without CAP_KILL = %s, kill(child, 0) = %s, SIGKILL = %s\n",
	       show(r[0]), show(r[1]), show(r[2]), show(r[3]));
	r[0] = capset_eff(d[0].effective, d[1].effective);
	r[1] = ret(kill(k, SIGKILL));
	waitpid(k, &st, 0);
	printf("P1: CAP_KILL back = %s, SIGKILL = %s, child killed by %d\n", show(r[0]), show(r[1]), WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int p1_main(void)
{
	struct rlimit rl = { 64 * 1024, 64 * 1024 }, old;
	struct __user_cap_data_struct d[2];
	char lck[32];
	int r;
	int c, g;
	uint8_t *buf;

	printf("P1: parent is the coordinator %d\n", getppid() == coordinator);
	r = ret(prlimit(0, RLIMIT_MEMLOCK, &rl, &old));
	printf("P1: prlimit(MEMLOCK, 64 KiB) = %s, was %lu/%lu\n", show(r), (unsigned long)old.rlim_cur, (unsigned long)old.rlim_max);
	capget_self(d);
	printf("P1: capset without CAP_IPC_LOCK = %s\n", show(capset_eff(d[0].effective & ~IPC_LOCK, d[1].effective)));
	print_status("P1");
	c = open("/dev/vfio/vfio", O_RDWR);
	g = open(group_path, O_RDWR);
	printf("P1: SET_CONTAINER = %s\n", show(ret(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c))));
	printf("P1: SET_IOMMU(TYPE1) = %s\n", show(ret(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))));
	buf = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 1, 32 * PAGE);
	printf("P1: MAP_DMA 32 pages = %s\n", show(map_dma(c, buf, 0, 32 * PAGE)));
	printf("P1: MAP_DMA 16 pages = %s\n", show(map_dma(c, buf, 0, 16 * PAGE)));
	printf("P1: capset with CAP_IPC_LOCK = %s\n", show(capset_eff(d[0].effective, d[1].effective)));
	printf("P1: MAP_DMA 16 more pages = %s\n", show(map_dma(c, buf + 16 * PAGE, 0x100000, 16 * PAGE)));
	printf("P1: VmLck %s\n", status("VmLck:", lck, sizeof(lck)));
	kill_child_checks(d);
	return 11;
}

static int p2_main(void)
{
	struct rlimit rl = { 64 * 1024, 64 * 1024 }, big = { 64 * 1024, 128 * 1024 };
	struct __user_cap_data_struct d[2];
	uid_t r, e, s;

	printf("P2: parent is the coordinator %d\n", getppid() == coordinator);
	printf("P2: setrlimit(MEMLOCK, 64 KiB) = %s\n", show(ret(setrlimit(RLIMIT_MEMLOCK, &rl))));
	printf("P2: setuid(1000) = %s\n", show(ret(setuid(1000))));
	getresuid(&r, &e, &s);
	printf("P2: uids %u %u %u\n", r, e, s);
	capget_self(d);
	printf("P2: capget effective %08x%08x permitted %08x%08x\n", d[1].effective, d[0].effective, d[1].permitted, d[0].permitted);
	print_status("P2");
	/* check_kill_permission: another user's process -EPERM (signal 0 too), SIGCONT within the
	 * session, its own process; kill(-1) skips what it may not signal and answers 0 */
	printf("P2: kill(coordinator, 0) = %s, SIGUSR1 = %s, SIGCONT = %s, kill(self, 0) = %s\n", show(ret(kill(coordinator, 0))),
	       show(ret(kill(coordinator, SIGUSR1))), show(ret(kill(coordinator, SIGCONT))), show(ret(kill(getpid(), 0))));
	printf("P2: kill(-1, SIGTERM) = %s, tgkill(coordinator, coordinator, 0) = %s\n", show(ret(kill(-1, SIGTERM))),
	       show(ret(syscall(SYS_tgkill, coordinator, coordinator, 0))));
	printf("P2: capset with CAP_IPC_LOCK = %s\n", show(capset_eff(IPC_LOCK, 0)));
	printf("P2: setuid(0) = %s\n", show(ret(setuid(0))));
	printf("P2: setrlimit(MEMLOCK, hard 128 KiB) = %s\n", show(ret(setrlimit(RLIMIT_MEMLOCK, &big))));
	return 12;
}

static void p0_main(void)
{
	long pid;
	int st;

	print_status("P0");
	pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(p1_main());
	pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(p2_main());
	printf("P0: waitpid(-1) = %s\n", show(ret(waitpid(-1, &st, WNOHANG))));
	_exit(10);
}

int main(int argc, char **argv)
{
	int st, n = 0;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	group_path = argc > 1 ? argv[1] : "/dev/vfio/0";
	coordinator = getpid();
	if (fork() == 0)
		p0_main();
	while ((pid = waitpid(-1, &st, 0)) > 0) {
		n++;
		printf("coordinator: reaped status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	printf("coordinator: %d children, then %s\n", n, errno == ECHILD ? "ECHILD" : "?");
	return 0;
}
