/*
 * Plain poll(2)'s restart through the thread's restart_block (fs/select.c sys_poll /
 * do_restart_poll, kernel/signal.c sys_restart_syscall; both eras; kernel-model/exec/
 * signal-restart.ts). restart_syscall(2) before any restart: EINTR (do_no_restart_syscall). A
 * thread asleep in poll for 300 ms, woken at 100 ms by an ignored URG (the main thread blocks
 * it, so it is queued and the poller takes it): no handler, the call restarts and waits only
 * for the time left, 300 ms in all; restart_syscall(2) then polls again until the same (past)
 * end: 0 at once. The same woken at 100 ms by a USR1 whose handler has SA_RESTART: EINTR at
 * 100 ms (-ERESTART_RESTARTBLOCK is never restarted after a handler), and restart_syscall(2)
 * after it is EINTR (sigreturn reset the restart_block). Output is deterministic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int p[2];
static volatile int handled;

static long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *err(long r)
{
	return r >= 0 ? "ok" : errno == EINTR ? "EINTR" : "?";
}

static const char *waited(long dt, long want)
{
	return dt >= want && dt < want + 50 ? "as asked" : "other";
}

static void on_usr1(int s)
{
	(void)s;
	handled++;
}

static void *poller(void *arg)
{
	long want = (long)arg;
	sigset_t urg;
	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	pthread_sigmask(SIG_UNBLOCK, &urg, NULL);
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	long t0 = ms_now();
	int r = poll(&pfd, 1, 300);
	long dt = ms_now() - t0;
	printf("poll 300 ms, signal at 100 ms: %d %s, handler %d, waited %ld ms: %s\n", r, err(r), handled, want, waited(dt, want));
	t0 = ms_now();
	long rr = syscall(SYS_restart_syscall);
	dt = ms_now() - t0;
	printf("restart_syscall after it: %ld %s, waited %s\n", rr, err(rr), dt < 50 ? "none" : "some");
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	long r = syscall(SYS_restart_syscall);
	printf("restart_syscall first: %ld %s\n", r, err(r));
	if (pipe(p) != 0)
		return 2;
	sigset_t urg;
	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	pthread_sigmask(SIG_BLOCK, &urg, NULL);
	struct timespec ms100 = { 0, 100000000 };

	pthread_t th;
	if (pthread_create(&th, NULL, poller, (void *)300L) != 0)
		return 2;
	nanosleep(&ms100, NULL);
	kill(getpid(), SIGURG);
	pthread_join(th, NULL);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	if (pthread_create(&th, NULL, poller, (void *)100L) != 0)
		return 2;
	nanosleep(&ms100, NULL);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	return 0;
}
