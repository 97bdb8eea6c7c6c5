/*
 * Signals on the Unicorn backend: sigaction handlers (with SA_SIGINFO and without), the
 * sigreturn path restoring registers and the mask, sigprocmask holding a signal pending,
 * alarm() + SIGALRM interrupting pause(), SIGCHLD to the parent, kill of a child (default
 * action: terminate), a one-shot handler (SA_RESETHAND), SIG_IGN. Output is deterministic.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_usr2, got_alrm, got_chld, info_ok;

static void on_usr1(int sig) { got_usr1 += sig == SIGUSR1; }
static void on_alrm(int sig) { got_alrm += sig == SIGALRM; }
static void on_usr2(int sig) { got_usr2 += sig == SIGUSR2; }
static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_chld++;
	info_ok = sig == SIGCHLD && si != NULL && si->si_signo == SIGCHLD;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);

	/* 1: a handler runs at syscall return; locals and the result survive sigreturn */
	volatile double f = 1.5;
	int r = kill(getpid(), SIGUSR1);
	printf("kill %d usr1 %d f %.1f\n", r, got_usr1, f * 2);

	/* 2: blocked: pending until unblocked */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	raise(SIGUSR1);
	printf("blocked usr1 %d\n", got_usr1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("unblocked usr1 %d\n", got_usr1);

	/* 3: alarm interrupts pause */
	sa.sa_handler = on_alrm;
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	r = pause();
	printf("pause %d %s alrm %d\n", r, errno == EINTR ? "EINTR" : strerror(errno), got_alrm);

	/* 4: SIGCHLD with SA_SIGINFO when a child exits; kill of a child */
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	int st;
	waitpid(c, &st, 0);
	printf("chld %d info %d\n", got_chld, info_ok);
	c = fork();
	if (c == 0) {
		for (;;)
			;
	}
	kill(c, SIGTERM);
	waitpid(c, &st, 0);
	printf("killed child: signaled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));

	/* 5: SA_RESETHAND: the handler runs (from the action as it was), then the action reads
	 * back as SIG_DFL with its flags kept (kernel/signal.c get_signal resets sa_handler only) */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	struct sigaction cur;
	sigaction(SIGUSR2, NULL, &cur);
	printf("resethand usr2 %d dfl %d flag %d\n", got_usr2, cur.sa_handler == SIG_DFL, (cur.sa_flags & SA_RESETHAND) != 0);

	/* 6: SIG_IGN drops the signal */
	signal(SIGUSR2, SIG_IGN);
	raise(SIGUSR2);
	printf("ignored usr2 survived\n");
	/* 7: default action ends the process */
	raise(SIGHUP);
	printf("not reached\n");
	return 0;
}
