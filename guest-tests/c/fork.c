/*
 * Processes on the Unicorn backend: fork copies memory and fds, getppid, a child that execs
 * another program (/bin/hello from the run's exec file system), exit statuses and signals
 * seen through wait4/waitpid/waitid, WNOHANG, ECHILD, execve errors (ENOENT, ENOEXEC), a child
 * renaming itself (prctl PR_SET_NAME, cut to 15 bytes) without renaming its parent, and
 * MAP_SHARED anonymous memory staying shared across fork (a page touched before the fork, one
 * the child touches first, an atomic add of both) while a private page is the child's copy, and
 * a compare-and-swap as the first store to a page shared copy-on-write.
 * Output is deterministic (no pid is printed, only relations between pids).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int global = 1;

static void report(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: status 0x%x\n", what, st);
}

int main(void)
{
	int fds[2];
	pid_t me = getpid();
	setvbuf(stdout, NULL, _IONBF, 0);
	if (pipe(fds) != 0)
		return 1;

	/* 1: memory is copied, the pipe is shared, getppid is the parent; the child renames itself */
	char name0[16] = { 0 }, name1[16] = { 0 };
	prctl(PR_GET_NAME, name0);
	pid_t c = fork();
	if (c == 0) {
		char msg[80], kid[16] = { 0 };
		global = 42;
		int set = prctl(PR_SET_NAME, "kid-with-a-long-name");
		prctl(PR_GET_NAME, kid);
		int n = snprintf(msg, sizeof msg, "ppid-ok %d global %d name %d %s", getppid() == me, global, set, kid);
		write(fds[1], msg, n);
		_exit(3);
	}
	char buf[64] = { 0 };
	int n = read(fds[0], buf, sizeof buf - 1);
	printf("child said: %.*s\n", n, buf);
	int st = 0;
	pid_t w = waitpid(c, &st, 0);
	prctl(PR_GET_NAME, name1);
	printf("waitpid same pid %d, parent global %d, parent name kept %d\n", w == c, global, strcmp(name0, name1) == 0 && name0[0] != 0);
	report("child 1", st);

	/* 2: the child execs another program */
	c = fork();
	if (c == 0) {
		char *argv[] = { "hello", "x", NULL };
		char *envp[] = { "A=1", NULL };
		execve("/bin/hello", argv, envp);
		_exit(100 + errno);
	}
	w = wait4(-1, &st, 0, NULL);
	printf("wait4 any %d\n", w == c);
	report("exec hello", st);

	/* 3: a child killed by a signal; WNOHANG while it waits on a pipe; waitid */
	int go[2];
	if (pipe(go) != 0)
		return 1;
	c = fork();
	if (c == 0) {
		char ch;
		read(go[0], &ch, 1);
		kill(getpid(), SIGTERM);
		for (;;)
			;
	}
	w = waitpid(c, &st, WNOHANG);
	printf("WNOHANG %d\n", w);
	write(go[1], "x", 1);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int r = waitid(P_PID, c, &si, WEXITED);
	printf("waitid %d signo %d code %d pid %d status %d\n", r, si.si_signo, si.si_code == CLD_KILLED, si.si_pid == c, si.si_status);

	/* 4: execve errors come back to the caller */
	char *noargs[] = { "x", NULL };
	r = execve("/bin/nonexistent", noargs, NULL);
	printf("execve missing %d %s\n", r, errno == ENOENT ? "ENOENT" : strerror(errno));
	r = execve("/etc/not-elf", noargs, NULL);
	printf("execve not-elf %d %s\n", r, errno == ENOEXEC ? "ENOEXEC" : strerror(errno));

	/* 5: no child left */
	w = wait(&st);
	printf("wait none %d %s\n", w, errno == ECHILD ? "ECHILD" : strerror(errno));

	/* 6: MAP_SHARED anonymous memory is one set of pages for parent and child (a shmem object),
	 * a private page is copied; the child's atomic adds (LDREX/STREX) land in the parent's view */
	volatile int *sh = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	volatile int *pv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || pv == MAP_FAILED)
		return 1;
	sh[0] = 1;
	pv[0] = 1;
	c = fork();
	if (c == 0) {
		int saw = sh[0];
		sh[0] = 2;
		sh[1024] = 3; /* page 1: untouched before the fork */
		pv[0] = 9;
		for (int i = 0; i < 5; i++)
			__sync_fetch_and_add(&sh[1], 10);
		_exit(saw);
	}
	__sync_fetch_and_add(&sh[1], 1);
	/* a compare-and-swap as the first store to a private page the fork shares copy-on-write
	 * (3.14): it must see the old 0 and store 1 once */
	int old = __sync_val_compare_and_swap(&pv[1], 0, 1);
	waitpid(c, &st, 0);
	printf("shared anon: child saw %d, parent sees %d %d add %d, private %d\n", WEXITSTATUS(st), sh[0], sh[1024], sh[1], pv[0]);
	printf("cas on a copy-on-write page: old %d new %d\n", old, pv[1]);
	return 0;
}
