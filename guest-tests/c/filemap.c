/*
 * mmap of regular files on the Unicorn backend (kernel-model/process/filemap.ts): a /tmp
 * (tmpfs) file mapped MAP_SHARED (stores seen by read() and by another mapping, pwrite() seen
 * through the mappings, a fork child's store seen by the parent) and MAP_PRIVATE (the file's
 * bytes until the page is written, then the mapping's own copy); the partial last page reads
 * zero past the end; a page wholly past the end is SIGBUS (BUS_ADRERR, si_addr the address),
 * also after ftruncate shrank the file; do_mmap's EACCES/EINVAL; mprotect of a read-only
 * shared mapping EACCES; msync; /proc/self/maps naming the file with its inode and offset;
 * then the read-only rootfs: the program's own file, O_RDWR EROFS, MAP_SHARED+PROT_WRITE
 * EACCES, a private mapping reading the ELF magic. Run as /bin/filemap from a rootfs.
 * Output is deterministic (addresses only as offsets).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define SIZE 6000

static sigjmp_buf env;
static volatile int got, code;
static volatile uintptr_t addr;

static void onbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got = sig;
	code = si->si_code;
	addr = (uintptr_t)si->si_addr;
	siglongjmp(env, 1);
}

static const char *err(long r) { return r >= 0 ? "0" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : errno == EACCES ? "EACCES" : errno == EROFS ? "EROFS" : strerror(errno); }

/* a load at p: its byte, or the signal it got */
static void probe(const char *what, volatile unsigned char *p, uintptr_t base)
{
	got = 0;
	if (sigsetjmp(env, 1) == 0) {
		unsigned v = *p;
		printf("%s: %u\n", what, v);
	} else {
		printf("%s: signal %d code %d at +%lu\n", what, got, code, (unsigned long)(addr - base));
	}
}

/* the /proc/self/maps lines naming `name`, from the permissions on (addresses vary) */
static void maps(const char *name, ino_t ino)
{
	char line[256];
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		char *nm = strchr(line, '/');
		if (nm == NULL || strncmp(nm, name, strlen(name)) != 0)
			continue;
		unsigned long lo, hi, off, in;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s %lx %*s %lu", &lo, &hi, perms, &off, &in) != 5)
			continue;
		printf("maps: %lu pages %s offset %lx inode %s %s", (hi - lo) / PAGE, perms, off, in == (unsigned long)ino ? "=st_ino" : "other", nm);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	static unsigned char buf[SIZE];
	struct sigaction sa;
	struct stat st;
	int fd, ro, wo, s;
	unsigned char *sh, *sh2, *pv, *b;
	pid_t c;

	(void)argc;
	setvbuf(stdout, NULL, _IONBF, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);

	for (int i = 0; i < SIZE; i++)
		buf[i] = (unsigned char)(i * 7);
	fd = open("/tmp/f", O_CREAT | O_RDWR, 0644);
	if (fd < 0 || write(fd, buf, SIZE) != SIZE)
		return 1;
	fstat(fd, &st);

	printf("-- MAP_SHARED\n");
	sh = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	sh2 = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
	if (sh == MAP_FAILED || sh2 == MAP_FAILED)
		return 2;
	printf("byte 3: %u, byte 4106 through the second mapping: %u\n", sh[3], sh2[10]);
	sh[PAGE + 10] = 0xab;
	pread(fd, buf, 1, PAGE + 10);
	printf("store 0xab: second mapping %#x, pread %#x\n", sh2[10], buf[0]);
	buf[0] = 0x5a;
	pwrite(fd, buf, 1, 20);
	printf("pwrite 0x5a at 20: mapping %#x\n", sh[20]);
	printf("past the end in the last page: byte 5999 %u, 6000 %u, 8191 %u\n", sh[5999], sh[6000], sh[2 * PAGE - 1]);
	c = fork();
	if (c == 0) {
		sh[100] = 0xcd;
		_exit(0);
	}
	waitpid(c, &s, 0);
	printf("a fork child's store: %#x\n", sh[100]);
	printf("msync MS_SYNC: %s, MS_ASYNC|MS_SYNC: %s, unaligned: %s\n", err(msync(sh, PAGE, MS_SYNC)), err(msync(sh, PAGE, MS_ASYNC | MS_SYNC)), err(msync(sh + 1, PAGE, MS_SYNC)));

	printf("-- MAP_PRIVATE\n");
	pv = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (pv == MAP_FAILED)
		return 3;
	printf("byte 1: %u\n", pv[1]);
	sh[1] = 0x11;
	printf("after a shared store of 0x11: %#x\n", pv[1]);
	pv[2] = 0x22;
	/* the file's byte 2 (stores of both mappings in one block: filemap-tb.c) */
	pread(fd, buf, 1, 2);
	sh[1] = 0x33;
	printf("after its own store to the page: byte 1 %#x, byte 2 %#x, the file's byte 2 %u, byte 1 %#x\n", pv[1], pv[2], buf[0], sh[1]);
	buf[0] = 0x44;
	pwrite(fd, buf, 1, PAGE + 1);
	printf("the page not written sees pwrite: %#x\n", pv[PAGE + 1]);
	c = fork();
	if (c == 0) {
		pv[3] = 0x77;
		_exit(pv[2] == 0x22 ? 0 : 1);
	}
	waitpid(c, &s, 0);
	printf("a fork child: saw its copy %s, its store stays its own: %u\n", WIFEXITED(s) && WEXITSTATUS(s) == 0 ? "yes" : "no", pv[3]);

	printf("-- checks\n");
	ro = open("/tmp/f", O_RDONLY);
	wo = open("/tmp/f", O_WRONLY);
	printf("O_WRONLY: %s\n", err((long)mmap(NULL, PAGE, PROT_READ, MAP_SHARED, wo, 0)));
	printf("O_RDONLY MAP_SHARED PROT_WRITE: %s\n", err((long)mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0)));
	printf("offset 100: %s\n", err((long)mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 100)));
	b = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	printf("O_RDONLY MAP_SHARED PROT_READ: %s, mprotect writable: %s\n", b == MAP_FAILED ? "failed" : "ok", err(mprotect(b, PAGE, PROT_READ | PROT_WRITE)));
	maps("/tmp/f", st.st_ino);

	printf("-- SIGBUS\n");
	probe("page 1 (partial)", sh + PAGE + 100, (uintptr_t)sh);
	b = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	probe("page 2 of 3 (past the end)", b + 2 * PAGE + 8, (uintptr_t)b);
	printf("ftruncate 40: %s\n", err(ftruncate(fd, 40)));
	probe("byte 39", sh + 39, (uintptr_t)sh);
	probe("byte 50", sh + 50, (uintptr_t)sh);
	probe("page 1 now", sh + PAGE + 4, (uintptr_t)sh);
	probe("the private copy of page 0 (byte 2)", pv + 2, (uintptr_t)pv);
	probe("the private page 1", pv + PAGE, (uintptr_t)pv);

	printf("-- rootfs\n");
	printf("open O_RDWR: %s\n", err(open(argv[0], O_RDWR)));
	ro = open(argv[0], O_RDONLY);
	fstat(ro, &st);
	printf("MAP_SHARED PROT_WRITE: %s\n", err((long)mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0)));
	b = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, PAGE);
	sh = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	if (b == MAP_FAILED || sh == MAP_FAILED)
		return 4;
	b[0] = 'x';
	printf("magic %c%c%c, private store %c\n", sh[1], sh[2], sh[3], b[0]);
	maps(argv[0], st.st_ino);
	return 0;
}
