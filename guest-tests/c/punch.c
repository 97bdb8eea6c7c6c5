/*
 * fallocate(2) on tmpfs and MADV_REMOVE on a shared file mapping (kernel-model/exec/fallocate.ts,
 * kernel-model/vfs/tmpfs.ts shmem_fallocate, kernel-model/process/madvise.ts): mode 0 grows the
 * size, KEEP_SIZE does not; a fallocated page is a hole to SEEK_DATA until written; PUNCH_HOLE
 * zeroes a range seen by read() and through a MAP_SHARED mapping, a MAP_PRIVATE copy made before
 * stays, SEEK_HOLE finds the punched pages; vfs_fallocate's errors; MADV_REMOVE through a
 * shared mapping, EACCES through a private one. Both eras answer alike, except a mode tmpfs lacks
 * on a read-only fd or a pipe (capability fallocateModes).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

#define PAGE 4096

static unsigned char buf[4 * PAGE];

static long size_of(int fd)
{
	struct stat st;
	fstat(fd, &st);
	return (long)st.st_size;
}

int main(void)
{
	int fd, ro, p[2];
	unsigned char *sh, *pv;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("-- allocate\n");
	fd = open("/tmp/a", O_CREAT | O_RDWR, 0644);
	CHK("fallocate 0, 100+5000", fallocate(fd, 0, 100, 5000));
	printf("size %ld\n", size_of(fd));
	CHK("fallocate KEEP_SIZE at 3 pages", fallocate(fd, FALLOC_FL_KEEP_SIZE, 3 * PAGE, PAGE));
	printf("size %ld\n", size_of(fd));
	CHK("SEEK_DATA 0 (fallocated, unwritten)", lseek(fd, 0, SEEK_DATA));
	CHK("pwrite at 4100", pwrite(fd, "x", 1, 4100));
	CHK("SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
	CHK("fallocate 2^44 (past s_maxbytes)", fallocate(fd, 0, 1LL << 44, 1));
	CHK("fallocate 64 MiB (the mount is full)", fallocate(fd, 0, 0, 64 << 20));
	printf("size %ld\n", size_of(fd));

	printf("-- punch\n");
	memset(buf, 0x5a, sizeof buf);
	fd = open("/tmp/p", O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
		return 1;
	sh = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pv = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (sh == MAP_FAILED || pv == MAP_FAILED)
		return 1;
	pv[PAGE] = 0x44; /* a private copy of page 1 */
	printf("shared byte %d, private page 2 byte %d\n", sh[PAGE + 5], pv[2 * PAGE]);
	CHK("PUNCH_HOLE|KEEP_SIZE 4086+4116", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE - 10, PAGE + 20));
	printf("size %ld\n", size_of(fd));
	memset(buf, 1, sizeof buf);
	pread(fd, buf, sizeof buf, 0);
	printf("read: 4085 %d, 4086 %d, 4196 %d, 8201 %d, 8202 %d\n", buf[PAGE - 11], buf[PAGE - 10], buf[PAGE + 100], buf[2 * PAGE + 9], buf[2 * PAGE + 10]);
	CHK("SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
	CHK("SEEK_DATA 4096", lseek(fd, PAGE, SEEK_DATA));
	printf("shared: 4085 %d, 4086 %d, 4196 %d, 8201 %d\n", sh[PAGE - 11], sh[PAGE - 10], sh[PAGE + 100], sh[2 * PAGE + 9]);
	printf("private: copied page 1 %d, page 2 byte 9 %d\n", pv[PAGE], pv[2 * PAGE + 9]);
	CHK("PUNCH_HOLE without KEEP_SIZE", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 1));
	CHK("ZERO_RANGE", fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 1));
	CHK("len 0", fallocate(fd, 0, 0, 0));
	CHK("offset -1", fallocate(fd, 0, -1, 1));
	ro = open("/tmp/p", O_RDONLY);
	CHK("O_RDONLY", fallocate(ro, 0, 0, 1));
	CHK("fd 99", fallocate(99, 0, 0, 1));
	CHK("ZERO_RANGE on O_RDONLY", fallocate(ro, FALLOC_FL_ZERO_RANGE, 0, 1));
	if (pipe(p) != 0)
		return 1;
	CHK("pipe", fallocate(p[1], 0, 0, 1));
	CHK("ZERO_RANGE on a pipe", fallocate(p[1], FALLOC_FL_ZERO_RANGE, 0, 1));
	CHK("eventfd", fallocate(eventfd(0, 0), 0, 0, 1));

	printf("-- MADV_REMOVE\n");
	CHK("madvise REMOVE page 3 (shared)", madvise(sh + 3 * PAGE, PAGE, MADV_REMOVE));
	CHK("SEEK_HOLE 8192", lseek(fd, 2 * PAGE, SEEK_HOLE));
	pread(fd, buf, 1, 3 * PAGE + 7);
	printf("read 12295 %d, shared %d\n", buf[0], sh[3 * PAGE + 7]);
	CHK("madvise REMOVE (private)", madvise(pv, PAGE, MADV_REMOVE));
	munmap(sh, 4 * PAGE);
	sh = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	CHK("madvise REMOVE (read-only file)", madvise(sh, PAGE, MADV_REMOVE));
	return 0;
}
