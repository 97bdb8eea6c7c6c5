/*
 * execve of hand-made static ARM ELF files that load_elf_binary (fs/binfmt_elf.c) refuses, before
 * or after the point of no return. Each file is written to /tmp and executed by a forked child;
 * the parent prints the errno execve returned, the exit status or the signal its wait reports.
 * The image: one PT_LOAD R+X at 0x12000 from file offset 0x2000 (mov r0, #42; mov r7, #1 (exit);
 * svc 0), then each case changes one thing:
 *   (no file) a name of 4096 bytes       -ENAMETOOLONG (getname)
 *   (no file) /nope with argv at 8       -ENOENT (the open comes before argv is read)
 *   e_entry 0x12002                      -ENOEXEC (arch/arm/kernel/elf.c elf_check_arch)
 *   an argv string of 128 KiB            -E2BIG (MAX_ARG_STRLEN with the NUL; one byte less runs)
 *   2000 argv strings of 64 bytes,       3.14 runs (get_arg_page: ARG_MAX, 32 pages of strings);
 *   RLIMIT_STACK 256 KiB                 v6.12 -E2BIG (bprm_stack_limits: ARG_MAX less 4 bytes
 *                                        a pointer); 1920 run in both
 *   e_phentsize 40                       -ENOEXEC (both eras)
 *   a PT_INTERP naming /nope             -ENOENT (open_exec of the interpreter, both eras)
 *   e_phnum 200                          3.14 runs (up to 2048 headers); v6.12 -ENOEXEC
 *                                        (load_elf_phdrs: at most ELF_MIN_ALIGN bytes)
 *   EI_OSABI 65 (ELFOSABI_ARM_FDPIC)     3.14 runs; v6.12 -ENOEXEC (elf_check_fdpic)
 *   e_phoff past the end of the file     3.14 -EIO (kernel_read short); v6.12 -ENOEXEC
 *   p_filesz past the end of the file    runs: no check before or after (the pages past the end
 *                                        would give SIGBUS when touched)
 *   a writable segment whose bss starts  SIGSEGV in both: padzero's clear_user faults on a page
 *   in a page past the end of the file   past the end of the file (SIGBUS inside clear_user);
 *                                        3.14 send_sig(SIGSEGV), v6.12 elf_load -EFAULT
 *   p_filesz > p_memsz                   after the point of no return: 3.14 SIGKILL
 *                                        (send_sig), v6.12 SIGSEGV (bprm_execve)
 *   a read-only segment with bss         3.14 SIGSEGV (padzero's clear_user faults on the
 *                                        read-only page: send_sig(SIGSEGV)); v6.12 runs (elf_load
 *                                        ignores the fault for a segment without PROT_WRITE)
 *   e_entry at TASK_SIZE (0xbf000000)    SIGSEGV in both (3.14 force_sig, v6.12 bprm_execve)
 *   p_vaddr at TASK_SIZE                 3.14 SIGKILL, v6.12 SIGSEGV
 *   no PT_LOAD at all                    runs with nothing mapped: SIGSEGV at the entry point
 * (tools/unicorn/exec-elf.test.ts, both eras.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elf-file.h"

#define CODE 0x2000u
#define VADDR 0x12000u
#define SIZE (CODE + 12u)

struct spec {
	uint32_t entry, phoff, p_type, p_vaddr, p_filesz, p_memsz, p_flags;
	uint16_t phentsize, phnum;
	int interp; /* a second program header: PT_INTERP "/nope" */
	uint8_t osabi;
};

static uint8_t img[SIZE];

static void put16(unsigned o, uint16_t v) { memcpy(img + o, &v, 2); }
static void put32(unsigned o, uint32_t v) { memcpy(img + o, &v, 4); }

static struct spec good(void)
{
	struct spec s = { VADDR, 52, 1, VADDR, 12, 12, 5, 32, 1, 0, 0 };
	return s;
}

static int write_elf(const char *path, const struct spec *s)
{
	memset(img, 0, sizeof img);
	memcpy(img, "\177ELF", 4);
	img[4] = 1; /* ELFCLASS32 */
	img[5] = 1; /* little-endian */
	img[6] = 1; /* EV_CURRENT */
	img[7] = s->osabi;
	put16(16, 2);  /* ET_EXEC */
	put16(18, 40); /* EM_ARM */
	put32(20, 1);
	put32(24, s->entry);
	put32(28, s->phoff);
	put32(36, 0x05000400); /* EABI5, hard float */
	put16(40, 52);
	put16(42, s->phentsize);
	put16(44, s->phnum);
	put32(52, s->p_type);
	put32(56, CODE);
	put32(60, s->p_vaddr);
	put32(64, s->p_vaddr);
	put32(68, s->p_filesz);
	put32(72, s->p_memsz);
	put32(76, s->p_flags);
	put32(80, 0x1000);
	if (s->interp) {
		put32(84, 3); /* PT_INTERP */
		put32(88, 0x1f00);
		put32(100, 6);
		memcpy(img + 0x1f00, "/nope", 6);
	}
	put32(CODE, 0xe3a0002a);     /* mov r0, #42 */
	put32(CODE + 4, 0xe3a07001); /* mov r7, #1 (exit) */
	put32(CODE + 8, 0xef000000); /* svc 0 */
	return write_image(path, img, sizeof img, 0755);
}


/*
 * write the image, fork, execve it in the child with `argv` (NULL: just its name) and, when
 * `stack` is not 0, that RLIMIT_STACK; what the parent sees
 */
static void run_argv(const char *label, const struct spec *s, char **argv, rlim_t stack)
{
	if (write_elf("/tmp/img", s) != 0) {
		printf("%s: cannot write the file\n", label);
		return;
	}
	int p[2];
	if (pipe(p) != 0)
		return;
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		char *name[] = { "/tmp/img", NULL };
		struct rlimit rl = { stack, stack };
		if (stack != 0 && setrlimit(RLIMIT_STACK, &rl) != 0)
			printf("%s: setrlimit errno %d\n", label, errno);
		char *envp[] = { NULL };
		execve("/tmp/img", argv != NULL ? argv : name, envp);
		int e = errno;
		write(p[1], &e, sizeof e);
		_exit(99);
	}
	close(p[1]);
	int e = 0;
	int n = read(p[0], &e, sizeof e);
	close(p[0]);
	int st = 0;
	waitpid(c, &st, 0);
	if (n == (int)sizeof e)
		printf("%s: execve errno %s\n", label, strerrorname_np(e));
	else if (WIFEXITED(st))
		printf("%s: exited %d\n", label, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: killed by signal %d%s\n", label, WTERMSIG(st), WCOREDUMP(st) ? " (core)" : "");
}

static void run(const char *label, const struct spec *s)
{
	run_argv(label, s, NULL, 0);
}

/* argv: "/tmp/img" and `n` strings of `len` bytes (their NULs not counted); free_argv frees it */
static char **big_argv(int n, size_t len)
{
	char **v = calloc(n + 2, sizeof *v);
	char *b = malloc((size_t)n * (len + 1));
	if (v == NULL || b == NULL)
		return NULL;
	memset(b, 'a', (size_t)n * (len + 1));
	v[0] = "/tmp/img";
	for (int i = 0; i < n; i++) {
		v[i + 1] = b + (size_t)i * (len + 1);
		v[i + 1][len] = 0;
	}
	return v;
}

static void free_argv(char **v)
{
	if (v != NULL)
		free(v[1]);
	free(v);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	/* getname: no NUL within PATH_MAX, -ENAMETOOLONG; the file is opened before argv is read */
	static char longname[4097];
	memset(longname, 'a', 4096);
	longname[0] = '/';
	char *noenv[] = { NULL };
	execve(longname, noenv, noenv);
	printf("path of 4096 bytes: execve errno %s\n", strerrorname_np(errno));
	execve("/nope", (char **)8, noenv);
	printf("missing file, bad argv: execve errno %s\n", strerrorname_np(errno));
	struct spec s = good();
	run("good", &s);
	s = good(), s.entry = VADDR + 2;
	run("e_entry not word aligned", &s);
	s = good(), s.phentsize = 40;
	run("e_phentsize 40", &s);
	s = good(), s.phnum = 2, s.interp = 1;
	run("PT_INTERP /nope", &s);
	s = good(), s.phnum = 200;
	run("e_phnum 200", &s);
	s = good(), s.osabi = 65;
	run("EI_OSABI ARM FDPIC", &s);
	s = good(), s.phoff = 0x3000;
	run("e_phoff past the end", &s);
	/* fs/exec.c copy_strings: one string of MAX_ARG_STRLEN (128 KiB) with its NUL fits, one byte more -E2BIG */
	s = good();
	char **v = big_argv(1, 131071);
	run_argv("argv string of 131071 bytes", &s, v, 0);
	free_argv(v);
	v = big_argv(1, 131072);
	run_argv("argv string of 131072 bytes", &s, v, 0);
	free_argv(v);
	/*
	 * RLIMIT_STACK 256 KiB: a quarter is below ARG_MAX, so the strings get ARG_MAX (128 KiB) in
	 * both eras; 2000 strings of 64 bytes with their NULs fit 3.14's 32 pages, not v6.12's
	 * 128 KiB less 4 bytes a pointer (1920 do)
	 */
	v = big_argv(2000, 63);
	run_argv("2000 argv strings of 64 bytes", &s, v, 256 << 10);
	free_argv(v);
	v = big_argv(1920, 63);
	run_argv("1920 argv strings of 64 bytes", &s, v, 256 << 10);
	free_argv(v);
	s = good(), s.p_filesz = s.p_memsz = 0x3000;
	run("p_filesz past the end of the file", &s);
	s = good(), s.p_flags = 7, s.p_filesz = 0x1800, s.p_memsz = 0x2000;
	run("writable segment, bss past the end of the file", &s);
	s = good(), s.p_memsz = 8;
	run("p_filesz > p_memsz", &s);
	s = good(), s.p_memsz = 0x2000;
	run("read-only segment with bss", &s);
	s = good(), s.entry = 0xbf000000u;
	run("e_entry at TASK_SIZE", &s);
	s = good(), s.p_vaddr = 0xbf000000u;
	run("p_vaddr at TASK_SIZE", &s);
	s = good(), s.p_type = 0;
	run("no PT_LOAD", &s);
	return 0;
}
