/*
 * What execve gives a program for an empty argv or a NULL envp, and where AT_EXECFN points
 * (fs/exec.c do_execve_common (3.14) / do_execveat_common (v6.12), fs/binfmt_elf.c
 * create_elf_tables, fs/binfmt_script.c load_script). A forked child re-executes this program
 * through /proc/self/exe, which then prints argc, its argv, how many environment strings it
 * got, getauxval(AT_EXECFN) and whether the strings lie in the kernel's order (argv's below
 * envp's below the file name):
 * First the program's own argv[0] and AT_EXECFN (the board runs it from /bin/exec-argv). Then:
 *   argv NULL, envp NULL            3.14 argc 0; v6.12 argc 1, argv[0] "" (dcd46d897adb, v5.18);
 *                                   no environment (count() of NULL is 0); AT_EXECFN the name
 *   argv {NULL}, envp {NULL}        the same
 *   argv {x, report}, envp NULL     argv as given, no environment, AT_EXECFN the name, not "x"
 *   argv {y, report}, envp {A, B}   the strings' order: argv, envp, then the name
 *   a "#!/proc/self/exe report"     argv [interpreter, "report", script] in both eras (v6.12's
 *   script, argv NULL               "" is dropped by remove_arg_zero); AT_EXECFN the script's name
 * (tools/unicorn/exec-argv.test.ts, both eras.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

extern char **environ;

static int report(int argc, char **argv)
{
	const char *fn = (const char *)getauxval(AT_EXECFN);
	int envc = 0, i, order = 1;
	while (environ[envc] != NULL)
		envc++;
	printf("  argc %d argv [", argc);
	for (i = 0; i < argc; i++)
		printf("%s'%s'", i ? " " : "", argv[i]);
	printf("] envc %d execfn '%s'", envc, fn ? fn : "(none)");
	/* ascending: argv strings, envp strings, the file name */
	for (i = 1; i < argc; i++)
		if (argv[i] < argv[i - 1])
			order = 0;
	for (i = 1; i < envc; i++)
		if (environ[i] < environ[i - 1])
			order = 0;
	if (argc > 0 && envc > 0 && environ[0] < argv[argc - 1])
		order = 0;
	if (argc > 0 && fn != NULL && fn < argv[argc - 1])
		order = 0;
	if (envc > 0 && fn != NULL && fn < environ[envc - 1])
		order = 0;
	printf(" order %s\n", order ? "good" : "bad");
	return 0;
}

static void run(const char *what, const char *path, char *const *argv, char *const *envp)
{
	int st = 0;
	pid_t pid;
	printf("%s:\n", what);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execve(path, argv, envp);
		printf("  execve errno %s\n", ename(errno));
		fflush(stdout);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("  status 0x%x\n", st);
}

int main(int argc, char **argv)
{
	static char *const none[] = { NULL };
	static char *const x[] = { "x", "report", NULL };
	static char *const y[] = { "y", "report", NULL };
	static char *const ab[] = { "A=1", "B=22", NULL };
	if (argc == 0 || argv[0][0] == 0 || (argc >= 2 && strcmp(argv[1], "report") == 0))
		return report(argc, argv);
	/* the board's first program: AT_EXECFN is the path it was executed from */
	printf("first: argv[0] '%s' execfn '%s'\n", argv[0], (const char *)getauxval(AT_EXECFN));
	run("argv NULL, envp NULL", "/proc/self/exe", NULL, NULL);
	run("argv {NULL}, envp {NULL}", "/proc/self/exe", none, none);
	run("argv {x, report}, envp NULL", "/proc/self/exe", x, NULL);
	run("argv {y, report}, envp {A=1, B=22}", "/proc/self/exe", y, ab);
	put("/tmp/argv.sh", "#!/proc/self/exe report\n");
	chmod("/tmp/argv.sh", 0755);
	run("script, argv NULL, envp NULL", "/tmp/argv.sh", NULL, NULL);
	return 0;
}
