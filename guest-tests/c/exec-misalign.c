/*
 * execve of an ELF whose PT_LOAD p_offset and p_vaddr differ modulo the page size. The program
 * writes two hand-made static ARM ELF files to /tmp: one whose segment is congruent (it runs
 * mov r0, #42; mov r7, #1 (exit); svc 0) and the same with the segment's p_offset moved by 4.
 * fs/binfmt_elf.c elf_map asks vm_mmap for file offset p_offset - ELF_PAGEOFFSET(p_vaddr):
 * not page aligned, -EINVAL, after the point of no return (the old image is gone), so the
 * child never returns from execve and dies: 3.14 by SIGKILL (load_elf_binary's send_sig), v6.12
 * by SIGSEGV (bprm_execve's force_fatal_sig). Its comm, set before the segments are mapped, is
 * the new file's name. (tools/unicorn/exec-misalign.test.ts, both eras.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elf-file.h"

#define VADDR 0x10000u
#define CODE 84u /* after the ELF header (52) and one program header (32) */

static void put16(uint8_t *b, unsigned o, uint16_t v) { memcpy(b + o, &v, 2); }
static void put32(uint8_t *b, unsigned o, uint32_t v) { memcpy(b + o, &v, 4); }

/* a static ARM ET_EXEC of one R+X PT_LOAD at VADDR; its p_offset is `off` (0: congruent) */
static int write_elf(const char *path, uint32_t off)
{
	uint8_t b[128];
	memset(b, 0, sizeof b);
	memcpy(b, "\177ELF", 4);
	b[4] = 1; /* ELFCLASS32 */
	b[5] = 1; /* little-endian */
	b[6] = 1; /* EV_CURRENT */
	put16(b, 16, 2);  /* ET_EXEC */
	put16(b, 18, 40); /* EM_ARM */
	put32(b, 20, 1);
	put32(b, 24, VADDR + CODE); /* e_entry: ARM state */
	put32(b, 28, 52);           /* e_phoff */
	put32(b, 36, 0x05000400);   /* EABI5, hard float */
	put16(b, 40, 52);
	put16(b, 42, 32);
	put16(b, 44, 1);
	put16(b, 46, 40);
	put32(b, 52, 1);           /* PT_LOAD */
	put32(b, 56, off);         /* p_offset */
	put32(b, 60, VADDR);       /* p_vaddr */
	put32(b, 64, VADDR);       /* p_paddr */
	put32(b, 68, CODE + 12);   /* p_filesz */
	put32(b, 72, CODE + 12);   /* p_memsz */
	put32(b, 76, 5);           /* PF_R | PF_X */
	put32(b, 80, 0x1000);      /* p_align */
	put32(b, CODE, 0xe3a0002a);     /* mov r0, #42 */
	put32(b, CODE + 4, 0xe3a07001); /* mov r7, #1 (exit) */
	put32(b, CODE + 8, 0xef000000); /* svc 0 */
	return write_image(path, b, sizeof b, 0755);
}

/* fork, execve `path` in the child; the child's comm while a zombie, and its wait status */
static void run(const char *label, const char *path)
{
	pid_t c = fork();
	if (c == 0) {
		char *argv[] = { (char *)path, NULL };
		char *envp[] = { NULL };
		execve(path, argv, envp);
		printf("%s: execve returned errno %d\n", label, errno);
		_exit(99);
	}
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	char p[64], comm[32] = "?";
	snprintf(p, sizeof p, "/proc/%d/comm", (int)c);
	int fd = open(p, O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, comm, sizeof comm - 1);
		comm[n > 0 ? n - 1 : 0] = 0;
		close(fd);
	}
	int st = 0;
	waitpid(c, &st, 0);
	if (WIFEXITED(st))
		printf("%s: comm %s, exited %d\n", label, comm, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: comm %s, killed by signal %d%s\n", label, comm, WTERMSIG(st), WCOREDUMP(st) ? " (core)" : "");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (write_elf("/tmp/good", 0) != 0 || write_elf("/tmp/bad", 4) != 0) {
		printf("cannot write the ELF files\n");
		return 1;
	}
	run("congruent", "/tmp/good");
	run("p_offset 4, p_vaddr 0x10000", "/tmp/bad");
	/* an ELF that is not one at all fails before the point of no return: execve returns */
	pid_t c = fork();
	if (c == 0) {
		int fd = open("/tmp/bad", O_WRONLY);
		write(fd, "XELF", 4);
		close(fd);
		char *argv[] = { "/tmp/bad", NULL };
		char *envp[] = { NULL };
		int r = execve("/tmp/bad", argv, envp);
		printf("not an ELF: execve %d errno %s\n", r, errno == ENOEXEC ? "ENOEXEC" : "other");
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	return 0;
}
