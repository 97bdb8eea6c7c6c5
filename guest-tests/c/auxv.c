/*
 * The auxiliary vector execve leaves on the initial stack (fs/binfmt_elf.c create_elf_tables;
 * kernel-model/exec/auxv.ts, emulator/cpu/unicorn/elf.ts buildInitialStack): the program walks
 * the pairs after envp's NULL and prints each key and value in order, the values that depend on
 * the image or the stack as relations: AT_PHDR from __ehdr_start, AT_PHNUM and AT_ENTRY against
 * the ELF header, AT_RANDOM, AT_EXECFN and AT_PLATFORM from argv[0]'s address (the strings'
 * places follow from argv and envp alone: no stack randomisation in the model), the platform
 * and file name strings; then the pair count, the bytes from AT_NULL's end to AT_RANDOM (the
 * padding STACK_ROUND leaves), argc's alignment, and whether getauxval agrees with the walk for each key.
 * A forked child setuid(1000)s and execve's the program through /proc/self/exe ("child"): the
 * new image prints AT_UID, AT_EUID, AT_GID, AT_EGID and AT_SECURE (the exec'ing task's
 * credentials; AT_SECURE 0: no set-user-ID file). tools/unicorn/auxv.test.ts, both eras.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

extern const Elf32_Ehdr __ehdr_start;

static const char *name(unsigned long k)
{
	switch (k) {
	case AT_PHDR: return "AT_PHDR";
	case AT_PHENT: return "AT_PHENT";
	case AT_PHNUM: return "AT_PHNUM";
	case AT_PAGESZ: return "AT_PAGESZ";
	case AT_BASE: return "AT_BASE";
	case AT_FLAGS: return "AT_FLAGS";
	case AT_ENTRY: return "AT_ENTRY";
	case AT_UID: return "AT_UID";
	case AT_EUID: return "AT_EUID";
	case AT_GID: return "AT_GID";
	case AT_EGID: return "AT_EGID";
	case AT_PLATFORM: return "AT_PLATFORM";
	case AT_HWCAP: return "AT_HWCAP";
	case AT_CLKTCK: return "AT_CLKTCK";
	case AT_SECURE: return "AT_SECURE";
	case AT_RANDOM: return "AT_RANDOM";
	case AT_HWCAP2: return "AT_HWCAP2";
	case 27: return "AT_RSEQ_FEATURE_SIZE";
	case 28: return "AT_RSEQ_ALIGN";
	case AT_EXECFN: return "AT_EXECFN";
	case AT_SYSINFO_EHDR: return "AT_SYSINFO_EHDR";
	default: return "?";
	}
}

static unsigned long *vector(char **envp)
{
	while (*envp != NULL)
		envp++;
	return (unsigned long *)(envp + 1);
}

int main(int argc, char **argv, char **envp)
{
	unsigned long *aux = vector(envp), *a, rnd = 0;
	uintptr_t a0 = (uintptr_t)argv[0];
	int n = 0, agree = 1;
	pid_t pid;
	int st = 0;

	if (argc >= 2 && strcmp(argv[1], "child") == 0) {
		for (a = aux; a[0] != AT_NULL; a += 2)
			if (a[0] == AT_UID || a[0] == AT_EUID || a[0] == AT_GID || a[0] == AT_EGID || a[0] == AT_SECURE)
				printf("child %s %lu\n", name(a[0]), a[1]);
		printf("child getuid %d geteuid %d\n", (int)getuid(), (int)geteuid());
		return 0;
	}
	for (a = aux; a[0] != AT_NULL; a += 2, n++) {
		unsigned long k = a[0], v = a[1];
		printf("%s (%lu) = ", name(k), k);
		if (k == AT_PHDR)
			printf("ehdr+%lu\n", v - (unsigned long)(uintptr_t)&__ehdr_start);
		else if (k == AT_PHNUM)
			printf("%s\n", v == __ehdr_start.e_phnum ? "e_phnum" : "other");
		else if (k == AT_ENTRY)
			printf("%s\n", v == __ehdr_start.e_entry ? "e_entry" : "other");
		else if (k == AT_RANDOM || k == AT_EXECFN || k == AT_PLATFORM)
			printf("argv0%+ld%s%s%s\n", (long)(v - a0), k == AT_RANDOM ? "" : " '",
			       k == AT_RANDOM ? "" : (const char *)v, k == AT_RANDOM ? "" : "'");
		else if (k == AT_HWCAP || k == AT_HWCAP2)
			printf("0x%lx\n", v);
		else
			printf("%lu\n", v);
		if (k == AT_RANDOM)
			rnd = v;
		errno = 0;
		if (getauxval(k) != v || errno != 0)
			agree = 0;
	}
	printf("pairs %d, AT_NULL end to AT_RANDOM %lu, argc's address mod 16: %lu\n", n,
	       rnd - (unsigned long)(uintptr_t)(a + 2), (unsigned long)((uintptr_t)(argv - 1) % 16));
	errno = 0;
	rnd = getauxval(27);
	printf("getauxval agrees %d, getauxval(AT_RSEQ_FEATURE_SIZE) %s\n", agree, errno == ENOENT ? "ENOENT" : rnd == 28 ? "28" : "other");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *const cargv[] = { "auxv", "child", NULL };
		if (setuid(1000) != 0)
			printf("setuid errno %d\n", errno);
		execve("/proc/self/exe", cargv, envp);
		printf("execve errno %d\n", errno);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	printf("child status 0x%x\n", st);
	return 0;
}
