/*
 * /proc/<pid>/status's signal lines (fs/proc/array.c task_sig): "Threads:", "SigQ:", then SigPnd
 * (the thread's own pending set), ShdPnd (the process's), SigBlk, SigIgn and SigCgt, each 16 hex
 * digits with signal n at bit n - 1, in that order in 3.14 and v6.12. Signals 1-31 only are
 * printed for SigCgt and SigIgn here: the C library may own handlers for signals 32 and up.
 * (tools/unicorn/sigstatus.test.ts, both eras.)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[4096];

static void load(const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = 0;
}

/* the text of line `name` ("" if absent) */
static const char *line(const char *name)
{
	static char out[8][64];
	static int k;
	k = (k + 1) % 8;
	out[k][0] = 0;
	char key[32];
	snprintf(key, sizeof key, "\n%s:\t", name);
	char *p = strstr(buf, key);
	if (p == NULL)
		return out[k];
	p += strlen(key);
	size_t n = strcspn(p, "\n");
	snprintf(out[k], sizeof out[k], "%.*s", (int)n, p);
	return out[k];
}

/* a mask line's signals 1-31 */
static unsigned long low(const char *name)
{
	return (unsigned long)(strtoull(line(name), NULL, 16) & 0x7fffffffULL);
}

/* the names of the signal lines, in the order they appear after Threads */
static void order(void)
{
	static const char *names[] = { "Threads", "SigQ", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh" };
	char *prev = NULL;
	int ok = 1;
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
		char key[32];
		snprintf(key, sizeof key, "\n%s:\t", names[i]);
		char *p = strstr(buf, key);
		if (p == NULL || (prev != NULL && p < prev))
			ok = 0;
		/* each directly after the one before */
		if (p != NULL && prev != NULL && strchr(prev + 1, '\n') != p)
			ok = 0;
		prev = p;
	}
	printf("order Threads SigQ SigPnd ShdPnd SigBlk SigIgn SigCgt CapInh: %s\n", ok ? "yes" : "no");
}

static void on_sig(int sig)
{
	(void)sig;
}

static void *idle(void *arg)
{
	pause();
	return arg;
}

int main(void)
{
	load("/proc/self/status");
	order();
	printf("start: SigPnd %s ShdPnd %s SigBlk %s SigIgn %08lx SigCgt %08lx\n", line("SigPnd"), line("ShdPnd"),
	       line("SigBlk"), low("SigIgn"), low("SigCgt"));

	/* SIGUSR1 (10) blocked and sent to the process; SIGUSR2 (12) blocked and sent to this thread */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR1);
	syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR2);
	/* SIGPIPE (13) ignored, a handler for SIGINT (2) */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_sig);
	load("/proc/self/status");
	printf("set: SigPnd %s ShdPnd %s SigBlk %s SigIgn %08lx SigCgt %08lx\n", line("SigPnd"), line("ShdPnd"),
	       line("SigBlk"), low("SigIgn"), low("SigCgt"));

	/* a second thread: Threads 2; its own status shows its own (empty) pending set */
	pthread_t th;
	pthread_create(&th, NULL, idle, NULL);
	usleep(1000);
	load("/proc/self/status");
	printf("two threads: Threads %s\n", line("Threads"));

	/* a zombie child that had SIGUSR1 blocked and pending and SIGPIPE ignored */
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	load(path);
	printf("zombie: Threads %s SigPnd %s ShdPnd %s SigBlk %s SigIgn %08lx SigCgt %08lx\n", line("Threads"),
	       line("SigPnd"), line("ShdPnd"), line("SigBlk"), low("SigIgn"), low("SigCgt"));
	waitpid(pid, NULL, 0);
	return 0;
}
