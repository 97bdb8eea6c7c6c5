/*
 * execve of hand-made ET_DYN images and of images with an interpreter (fs/binfmt_elf.c
 * load_elf_binary, load_elf_interp). Each file is written to /tmp and executed by a forked child
 * whose stdout is a pipe; the code that runs first (the image's, or the interpreter's when there
 * is one) writes to it the address it runs at, what brk(0) answers and its initial stack (argc,
 * argv, envp, auxv), then exits 42. The parent prints, from that, the code's address (its first
 * instruction's), the program break, AT_PHDR, AT_ENTRY and AT_BASE, or the errno execve returned,
 * or the signal the child's wait reports. The model has no ASLR (randomisation off):
 *   static PIE (ET_DYN, no PT_INTERP)  3.14 at ELF_ET_DYN_BASE (0x2a000000); v6.12 where mmap
 *                                      puts it (load_bias 0: the model's mmap base 0x40000000),
 *                                      a p_align of 64 KiB aligning that address
 *   ET_EXEC + ET_DYN interpreter       the interpreter where mmap puts it, AT_BASE its address,
 *                                      AT_ENTRY the program's, the code run the interpreter's
 *   ET_DYN + interpreter               the program at ELF_ET_DYN_BASE (3.14 0x2a000000; v6.12
 *                                      0x400000, aligned down to its largest p_align), the interpreter
 *                                      in the mmap area
 *   an interpreter that is no ELF      ELIBBAD; without an x bit EACCES; a directory EACCES
 *   an interpreter of e_type ET_REL    after the point of no return: SIGSEGV (load_elf_interp)
 *   an interpreter with e_phentsize 40 3.14 SIGSEGV (load_elf_interp reads its headers after the
 *                                      point of no return); v6.12 ELIBBAD (load_elf_phdrs before)
 *   an interpreter open for writing    3.14 ETXTBSY (open_exec's deny_write_access); v6.12 runs
 *                                      (2a010c412853 removed it, v6.11); closed: runs; after the
 *                                      runs (the children gone) it opens for writing again
 * (tools/unicorn/exec-dyn.test.ts, both eras.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elf-file.h"

#define CODE 0x1000u
#define NCODE 14u
#define SIZE (CODE + 4u * NCODE)

static const uint32_t code[NCODE] = {
	0xe1a0400f, /* mov r4, pc (the address of this instruction + 8) */
	0xe3a00000, /* mov r0, #0 */
	0xe3a0702d, /* mov r7, #45 (brk) */
	0xef000000, /* svc 0 */
	0xe52d0004, /* push {r0} */
	0xe52d4004, /* push {r4} */
	0xe3a00001, /* mov r0, #1 */
	0xe1a0100d, /* mov r1, sp */
	0xe3a020a0, /* mov r2, #160 (the two words, argc, argv, envp, auxv) */
	0xe3a07004, /* mov r7, #4 (write) */
	0xef000000, /* svc 0 */
	0xe3a0002a, /* mov r0, #42 */
	0xe3a07001, /* mov r7, #1 (exit) */
	0xef000000, /* svc 0 */
};

struct spec {
	uint16_t type;      /* ET_EXEC 2, ET_DYN 3, ET_REL 1 */
	uint32_t vaddr;     /* the one PT_LOAD's p_vaddr (file offset 0, the whole file) */
	uint32_t align;     /* its p_align */
	uint16_t phentsize; /* 32 */
	const char *interp; /* a PT_INTERP naming this, or NULL */
};

static uint8_t img[SIZE];

static void put16(unsigned o, uint16_t v) { memcpy(img + o, &v, 2); }
static void put32(unsigned o, uint32_t v) { memcpy(img + o, &v, 4); }

static int write_elf(const char *path, const struct spec *s, mode_t mode)
{
	memset(img, 0, sizeof img);
	memcpy(img, "\177ELF", 4);
	img[4] = 1; /* ELFCLASS32 */
	img[5] = 1; /* little-endian */
	img[6] = 1; /* EV_CURRENT */
	put16(16, s->type);
	put16(18, 40); /* EM_ARM */
	put32(20, 1);
	put32(24, s->vaddr + CODE);
	put32(28, 52);
	put32(36, 0x05000400); /* EABI5, hard float */
	put16(40, 52);
	put16(42, s->phentsize);
	put16(44, s->interp != NULL ? 2 : 1);
	put32(52, 1); /* PT_LOAD */
	put32(56, 0);
	put32(60, s->vaddr);
	put32(64, s->vaddr);
	put32(68, SIZE);
	put32(72, SIZE);
	put32(76, 5); /* R+X */
	put32(80, s->align);
	if (s->interp != NULL) {
		size_t n = strlen(s->interp) + 1;
		put32(84, 3); /* PT_INTERP */
		put32(88, 0x200);
		put32(100, n);
		memcpy(img + 0x200, s->interp, n);
	}
	memcpy(img + CODE, code, sizeof code);
	unlink(path); /* a new file: its mode is `mode` */
	return write_image(path, img, sizeof img, mode);
}


/* the value of auxv entry `key` in the words the child wrote after its argc (argv, envp, auxv) */
static uint32_t aux(const uint32_t *w, int n, uint32_t key)
{
	int i = 0;
	while (i < n && w[i] != 0) /* argv */
		i++;
	i++;
	while (i < n && w[i] != 0) /* envp */
		i++;
	for (i++; i + 1 < n && w[i] != 0; i += 2)
		if (w[i] == key)
			return w[i + 1];
	return 0xffffffffu;
}

/* fork, execve `path` in the child with its stdout a pipe; what the parent sees */
static void run(const char *label, const char *path)
{
	int p[2], e2[2];
	if (pipe(p) != 0 || pipe(e2) != 0)
		return;
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		close(e2[0]);
		dup2(p[1], 1);
		char *argv[] = { (char *)path, NULL };
		char *envp[] = { NULL };
		execve(path, argv, envp);
		int e = errno;
		write(e2[1], &e, sizeof e);
		_exit(99);
	}
	close(p[1]);
	close(e2[1]);
	uint32_t w[64];
	int n = 0, r;
	while (n < (int)sizeof w && (r = read(p[0], (char *)w + n, sizeof w - n)) > 0)
		n += r;
	close(p[0]);
	int e = 0;
	int en = read(e2[0], &e, sizeof e);
	close(e2[0]);
	int st = 0;
	waitpid(c, &st, 0);
	if (en == (int)sizeof e) {
		printf("%s: execve errno %s\n", label, strerrorname_np(e));
		return;
	}
	if (n >= 12) {
		int words = n / 4;
		uint32_t argc = w[2];
		const uint32_t *v = w + 3;
		int left = words - 3;
		(void)argc;
		printf("%s: code at 0x%x brk 0x%x AT_PHDR 0x%x AT_ENTRY 0x%x AT_BASE 0x%x, ", label, w[0] - 8, w[1],
		       aux(v, left, 3), aux(v, left, 9), aux(v, left, 7));
	} else {
		printf("%s: ", label);
	}
	if (WIFEXITED(st))
		printf("exited %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("killed by signal %d\n", WTERMSIG(st));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct spec pie = { 3, 0, 0x1000, 32, NULL };
	struct spec exec = { 2, 0x10000, 0x1000, 32, "/tmp/ld" };
	struct spec ld = { 3, 0, 0x1000, 32, NULL };
	write_elf("/tmp/pie", &pie, 0755);
	run("static PIE", "/tmp/pie");
	pie.align = 0x10000;
	write_elf("/tmp/pie", &pie, 0755);
	run("static PIE, p_align 64 KiB", "/tmp/pie");
	write_elf("/tmp/ld", &ld, 0755);
	write_elf("/tmp/prog", &exec, 0755);
	run("ET_EXEC with an interpreter", "/tmp/prog");
	struct spec dyn = { 3, 0, 0x1000, 32, "/tmp/ld" };
	write_elf("/tmp/prog", &dyn, 0755);
	run("ET_DYN with an interpreter", "/tmp/prog");
	dyn.align = 0x10000;
	write_elf("/tmp/prog", &dyn, 0755);
	run("ET_DYN with an interpreter, p_align 64 KiB", "/tmp/prog");
	/* the interpreter's checks */
	unlink("/tmp/ld");
	int fd = open("/tmp/ld", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	for (int i = 0; i < 8; i++)
		write(fd, "#not an ELF file, just text of some length\n", 43);
	close(fd);
	run("interpreter not ELF", "/tmp/prog");
	write_elf("/tmp/ld", &ld, 0644);
	run("interpreter without an x bit", "/tmp/prog");
	dyn.interp = "/tmp";
	write_elf("/tmp/prog", &dyn, 0755);
	run("interpreter a directory", "/tmp/prog");
	dyn.interp = "/tmp/ld";
	write_elf("/tmp/prog", &dyn, 0755);
	ld.type = 1;
	write_elf("/tmp/ld", &ld, 0755);
	run("interpreter ET_REL", "/tmp/prog");
	ld.type = 3, ld.phentsize = 40;
	write_elf("/tmp/ld", &ld, 0755);
	run("interpreter e_phentsize 40", "/tmp/prog");
	/* an interpreter open for writing (deny_write_access), then writable again after the run */
	ld.phentsize = 32;
	write_elf("/tmp/ld", &ld, 0755);
	write_elf("/tmp/prog", &exec, 0755);
	fd = open("/tmp/ld", O_WRONLY);
	run("interpreter open for writing", "/tmp/prog");
	close(fd);
	run("interpreter no longer open for writing", "/tmp/prog");
	fd = open("/tmp/ld", O_WRONLY);
	printf("interpreter opened for writing after the runs: %s\n", fd >= 0 ? "yes" : strerrorname_np(errno));
	close(fd);
	return 0;
}
