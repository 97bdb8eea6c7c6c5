/*
 * The memory character devices (drivers/char/mem.c, random.c) and getrandom from C, usage:
 * chardev. /dev/null, zero, full, random, urandom: stat (type, mode, st_rdev), read, write,
 * lseek, a read that faults part way, mmap of /dev/zero (MAP_PRIVATE, MAP_SHARED across a
 * fork); getrandom through syscall(2) (ENOSYS in 3.14; flags, a fault part way in v6.12).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define NR_getrandom 384

static const char *err(long r)
{
	static char b[32];
	if (r >= 0) {
		snprintf(b, sizeof(b), "%ld", r);
		return b;
	}
	switch (errno) {
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOSYS: return "ENOSYS";
	case ENODEV: return "ENODEV";
	case EACCES: return "EACCES";
	case ENOTTY: return "ENOTTY";
	}
	snprintf(b, sizeof(b), "errno %d", errno);
	return b;
}

/* two pages then an inaccessible one (PROT_NONE: later mmaps cannot land in it): returns the first */
static char *two_pages_then_hole(void)
{
	char *p = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(p + 2 * 4096, 4096, PROT_NONE);
	return p;
}

int main(void)
{
	static const char *names[] = { "null", "zero", "full", "random", "urandom" };
	char path[32], buf[64];
	struct stat st;
	int i, fd, nonzero;
	long r;
	char *h = two_pages_then_hole();

	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/dev/%s", names[i]);
		r = stat(path, &st);
		printf("stat %s: %s %s 0%o rdev %u:%u\n", path, err(r), S_ISCHR(st.st_mode) ? "chr" : "other", st.st_mode & 07777,
		       major(st.st_rdev), minor(st.st_rdev));
	}

	fd = open("/dev/null", O_RDWR);
	printf("-- null\nread: %s\n", err(read(fd, buf, sizeof(buf))));
	printf("write: %s\n", err(write(fd, "hello", 5)));
	printf("write from a hole: %s\n", err(write(fd, h + 2 * 4096, 100)));
	printf("lseek 100 SEEK_SET: %s\n", err(lseek(fd, 100, SEEK_SET)));
	printf("lseek -5 SEEK_END: %s\n", err(lseek(fd, -5, SEEK_END)));
	printf("mmap: %s\n", mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? err(-1) : "ok");
	close(fd);

	fd = open("/dev/zero", O_RDWR);
	memset(buf, 'x', sizeof(buf));
	r = read(fd, buf, 16);
	printf("-- zero\nread 16: %s, buf[0] %d buf[15] %d buf[16] '%c'\n", err(r), buf[0], buf[15], buf[16]);
	memset(h, 'x', 2 * 4096);
	printf("read 3 pages from page 0 + 100: %s\n", err(read(fd, h + 100, 3 * 4096)));
	printf("last byte before the hole: %d\n", h[2 * 4096 - 1]);
	printf("read 4096 from page 1 + 100: %s\n", err(read(fd, h + 4096 + 100, 4096)));
	printf("write: %s\n", err(write(fd, buf, 10)));
	printf("lseek 4096 SEEK_SET: %s\n", err(lseek(fd, 4096, SEEK_SET)));
	{
		int *priv = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		int *shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		int ro = open("/dev/zero", O_RDONLY);
		pid_t pid;
		printf("mmap private %s, shared %s: %d %d\n", priv == MAP_FAILED ? "failed" : "ok", shared == MAP_FAILED ? "failed" : "ok", priv[10], shared[10]);
		priv[0] = 1;
		shared[0] = 1;
		pid = fork();
		if (pid == 0) {
			priv[0] = 2;
			shared[0] = 2;
			_exit(0);
		}
		waitpid(pid, 0, 0);
		printf("after the child's stores: private %d shared %d\n", priv[0], shared[0]);
		printf("MAP_SHARED|PROT_WRITE of a read-only fd: %s\n", mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED ? err(-1) : "ok");
		close(ro);
	}
	close(fd);

	fd = open("/dev/full", O_RDWR);
	memset(buf, 'x', sizeof(buf));
	r = read(fd, buf, 8);
	printf("-- full\nread 8: %s, buf[7] %d\n", err(r), buf[7]);
	printf("write: %s\n", err(write(fd, "a", 1)));
	printf("lseek 3 SEEK_CUR: %s\n", err(lseek(fd, 3, SEEK_CUR)));
	close(fd);

	for (i = 3; i < 5; i++) {
		snprintf(path, sizeof(path), "/dev/%s", names[i]);
		fd = open(path, O_RDWR);
		printf("-- %s\n", names[i]);
		memset(buf, 0, sizeof(buf));
		r = read(fd, buf, sizeof(buf));
		for (nonzero = 0; nonzero < (int)sizeof(buf) && buf[nonzero] == 0; nonzero++)
			;
		printf("read 64: %s, %s\n", err(r), nonzero < (int)sizeof(buf) ? "not all zero" : "all zero");
		printf("read 4096: %s\n", err(read(fd, h, 4096)));
		printf("read across the hole (100 + 100): %s\n", err(read(fd, h + 2 * 4096 - 100, 200)));
		printf("write 7: %s\n", err(write(fd, "entropy", 7)));
		printf("write across the hole: %s\n", err(write(fd, h + 2 * 4096 - 100, 200)));
		printf("lseek 50 SEEK_SET: %s\n", err(lseek(fd, 50, SEEK_SET)));
		close(fd);
	}

	printf("-- getrandom\n");
	printf("16 bytes: %s\n", err(syscall(NR_getrandom, buf, 16, 0)));
	printf("GRND_NONBLOCK: %s\n", err(syscall(NR_getrandom, buf, 16, 1)));
	printf("GRND_RANDOM: %s\n", err(syscall(NR_getrandom, buf, 16, 2)));
	printf("GRND_INSECURE: %s\n", err(syscall(NR_getrandom, buf, 16, 4)));
	printf("GRND_INSECURE|GRND_RANDOM: %s\n", err(syscall(NR_getrandom, buf, 16, 6)));
	printf("flag 8: %s\n", err(syscall(NR_getrandom, buf, 16, 8)));
	printf("0 bytes: %s\n", err(syscall(NR_getrandom, buf, 0, 0)));
	printf("across the hole (40 + 60): %s\n", err(syscall(NR_getrandom, h + 2 * 4096 - 40, 100, 0)));
	printf("in the hole: %s\n", err(syscall(NR_getrandom, h + 2 * 4096, 100, 0)));
	return 0;
}
