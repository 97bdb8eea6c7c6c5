/*
 * Autoreap: a parent whose SIGCHLD action is SIG_IGN, or carries SA_NOCLDWAIT, leaves no zombie:
 * kernel/signal.c do_notify_parent returns autoreap and kernel/exit.c exit_notify releases the
 * child at once (release_task), so /proc/<child> is gone (ENOENT) and the parent's waitpid,
 * asleep until then, finds no child left: ECHILD. SIG_IGN sends no SIGCHLD; SA_NOCLDWAIT with
 * a handler still sends it, and the handler runs after waitpid has returned (do_wait scans its
 * children again before it looks at signal_pending). The default action leaves a zombie for
 * waitpid. Both eras alike.
 * (tools/unicorn/sigautoreap.test.ts, both eras.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int chld;
static void on_chld(int sig)
{
	(void)sig;
	chld++;
}

/* "0" if /proc/<pid>/status opens, else the errno's name */
static const char *proc_of(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		close(fd);
		return "0";
	}
	return errno == ENOENT ? "ENOENT" : "other";
}

/* waitpid's result as text, into `b` (read errno at once) */
static const char *wait_res(char *b, size_t n, pid_t pid, long r, int st)
{
	if (r == pid)
		snprintf(b, n, "pid status %d", WEXITSTATUS(st));
	else if (r < 0 && errno == ECHILD)
		snprintf(b, n, "ECHILD");
	else
		snprintf(b, n, "%ld errno %d", r, errno);
	return b;
}

/* a child that sleeps a little (the parent is asleep in waitpid by then) and exits with 3 */
static pid_t child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		usleep(2000);
		_exit(3);
	}
	return pid;
}

static void set_chld(void (*h)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigaction(SIGCHLD, &sa, NULL);
}

static void autoreaped(const char *what)
{
	char w1[48], w2[48];
	chld = 0;
	int st = -1;
	pid_t pid = child();
	wait_res(w1, sizeof w1, pid, waitpid(pid, &st, 0), st);
	const char *p1 = proc_of(pid);
	/* a second child, waited for with -1 */
	pid_t pid2 = child();
	wait_res(w2, sizeof w2, pid2, waitpid(-1, &st, 0), st);
	const char *p2 = proc_of(pid2);
	/* a third, not waited for: its pipe's end closes at its exit; a moment later no /proc entry */
	int fds[2];
	char w3[48], c;
	pipe(fds);
	pid_t pid3 = fork();
	if (pid3 == 0) {
		close(fds[0]);
		_exit(3);
	}
	close(fds[1]);
	read(fds[0], &c, 1);
	close(fds[0]);
	usleep(5000);
	const char *p3 = proc_of(pid3);
	wait_res(w3, sizeof w3, pid3, waitpid(pid3, &st, WNOHANG), st);
	printf("%s: waitpid %s, /proc %s; waitpid(-1) %s, /proc %s; unwaited /proc %s, WNOHANG %s; SIGCHLD %d\n", what,
	       w1, p1, w2, p2, p3, w3, chld);
}

int main(void)
{
	set_chld(SIG_IGN, 0);
	autoreaped("SIG_IGN");
	set_chld(on_chld, SA_NOCLDWAIT);
	autoreaped("SA_NOCLDWAIT handler");
	set_chld(SIG_DFL, SA_NOCLDWAIT);
	autoreaped("SA_NOCLDWAIT default");

	/* the default action: a zombie until waitpid */
	set_chld(SIG_DFL, 0);
	pid_t pid = child();
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	const char *before = proc_of(pid);
	int st = -1;
	char w[48];
	wait_res(w, sizeof w, pid, waitpid(pid, &st, 0), st);
	printf("default: zombie /proc %s; waitpid %s, /proc %s\n", before, w, proc_of(pid));

	/*
	 * a handler without SA_RESTART, asleep in waitpid: do_wait, woken, scans again before it
	 * looks for a pending signal, so it reaps the zombie; the handler runs after
	 */
	set_chld(on_chld, 0);
	chld = 0;
	pid = child();
	wait_res(w, sizeof w, pid, waitpid(pid, &st, 0), st);
	printf("handler: waitpid %s, SIGCHLD %d\n", w, chld);
	return 0;
}
