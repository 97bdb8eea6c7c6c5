/*
 * Signals interrupting sleeping calls (arch/arm/kernel/signal.c do_signal, include/linux/errno.h
 * restart codes): SIGALRM's handler runs while the program sleeps in read() of an empty pipe,
 * poll() and select(). Without SA_RESTART read fails with EINTR; with SA_RESTART it restarts
 * (here the handler writes a byte, so the restarted read returns it); poll and select fail with
 * EINTR even with SA_RESTART (-ERESTARTNOHAND). Output is deterministic.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;
static int wfd = -1;

static void on_alrm(int sig)
{
	alarms += sig == SIGALRM;
	if (wfd >= 0) {
		char c = 'h';
		(void)!write(wfd, &c, 1);
	}
}

static void handler(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alrm;
	sa.sa_flags = flags;
	sigaction(SIGALRM, &sa, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2];
	char buf[8];
	if (pipe(p) != 0)
		return 1;

	handler(0);
	alarm(1);
	ssize_t n = read(p[0], buf, sizeof buf);
	printf("read without SA_RESTART: %zd %s, alarms %d\n", n, n < 0 && errno == EINTR ? "EINTR" : "?", alarms);

	handler(SA_RESTART);
	wfd = p[1];
	alarm(1);
	n = read(p[0], buf, sizeof buf);
	printf("read with SA_RESTART: %zd '%c', alarms %d\n", n, n == 1 ? buf[0] : '?', alarms);
	wfd = -1;

	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	alarm(1);
	int r = poll(&pfd, 1, -1);
	printf("poll with SA_RESTART: %d %s, alarms %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "?", alarms);

	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	alarm(1);
	r = select(p[0] + 1, &rs, NULL, NULL, NULL);
	printf("select with SA_RESTART: %d %s, alarms %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "?", alarms);
	return 0;
}
