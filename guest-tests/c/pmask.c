/*
 * pselect6 and ppoll wait with the signal mask they are given (fs/select.c; kernel/signal.c
 * set_user_sigmask in v6.12): a signal the caller blocks but the call's mask lets through ends
 * the wait with EINTR, its handler runs with the call's mask (plus the signal) and its frame
 * holds the caller's mask, which is back after the call. A ready fd wins over such a signal,
 * which stays pending; a signal both masks block lets the timeout expire; an ignored signal
 * restarts the call (no EINTR). The size and fault checks in their order: the argument pack,
 * the timeout, the sigset size, the sigset. Then the time left each call writes back into its
 * timeout (fs/select.c poll_select_copy_remaining / poll_select_finish): after a signal, an expiry,
 * a ready fd; select(2)'s timeval too; none for a zero timeout; a read-only timeout makes the call
 * unrestartable (EINTR even for an ignored signal) and, in 3.14's pselect6 only, restores the
 * caller's mask before the delivery (the handler does not run, the signal stays pending); a
 * thread asleep so, woken by an ignored signal, returns EINTR with its own mask back.
 * Output is deterministic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int hits, in_usr1, in_hup, frame_usr1, frame_usr2, frame_hup;

static void on_sig(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	sigset_t now;
	(void)si;
	hits++;
	sigprocmask(SIG_BLOCK, NULL, &now);
	in_usr1 = sigismember(&now, sig);
	in_hup = sigismember(&now, SIGHUP);
	frame_usr1 = sigismember(&uc->uc_sigmask, sig);
	frame_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
	frame_hup = sigismember(&uc->uc_sigmask, SIGHUP);
}

static const char *err(long r)
{
	if (r >= 0)
		return "ok";
	return errno == EINTR ? "EINTR" : errno == EINVAL ? "EINVAL" : errno == EFAULT ? "EFAULT" : "?";
}

static void report(const char *what, long r, int sig)
{
	sigset_t after, pend;
	sigprocmask(SIG_BLOCK, NULL, &after);
	sigpending(&pend);
	printf("%s: %ld %s, handler %d (mask in it: sig %d hup %d; frame: sig %d usr2 %d hup %d), after: blocked sig %d usr2 %d hup %d, pending %d\n",
	       what, r, err(r), hits, in_usr1, in_hup, frame_usr1, frame_usr2, frame_hup,
	       sigismember(&after, sig), sigismember(&after, SIGUSR2), sigismember(&after, SIGHUP), sigismember(&pend, sig));
	hits = in_usr1 = in_hup = frame_usr1 = frame_usr2 = frame_hup = 0;
}

/* the raw calls (glibc's wrappers try the _time64 numbers first) */
static long raw_ppoll(struct pollfd *fds, unsigned n, const struct timespec *ts, const void *mask, long size)
{
	return syscall(SYS_ppoll, fds, n, ts, mask, size);
}

static long raw_pselect(int n, fd_set *in, const struct timespec *ts, const void *pack)
{
	return syscall(SYS_pselect6, n, in, NULL, NULL, ts, pack);
}

/* the time left in a timeout, in ms rounded to 10 ms (virtual time: the calls' own cost is below that) */
static long left_ms(long sec, long nsec)
{
	return (sec * 1000 + (nsec + 5000000) / 1000000) / 10 * 10;
}

static void time_left(const char *what, const struct timespec *ts)
{
	printf("%s: left %ld ms\n", what, left_ms(ts->tv_sec, ts->tv_nsec));
}

/* a thread asleep in ppoll with a read-only timeout, woken by a URG its call's mask lets through */
static struct pollfd thread_pr;
static const struct timespec *thread_ts;

static void *ppoll_thread(void *arg)
{
	sigset_t hup, now;
	(void)arg;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	long r = raw_ppoll(&thread_pr, 1, thread_ts, &hup, 8);
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("thread ppoll read-only timeout, URG from another thread: %ld %s, after: blocked urg %d usr2 %d hup %d\n", r, err(r),
	       sigismember(&now, SIGURG), sigismember(&now, SIGUSR2), sigismember(&now, SIGHUP));
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	/* the caller blocks USR1, USR2, ALRM, URG; the calls' mask blocks USR2 and HUP */
	sigset_t caller, call;
	sigemptyset(&caller);
	sigaddset(&caller, SIGUSR1);
	sigaddset(&caller, SIGUSR2);
	sigaddset(&caller, SIGALRM);
	sigaddset(&caller, SIGURG);
	sigprocmask(SIG_SETMASK, &caller, NULL);
	sigemptyset(&call);
	sigaddset(&call, SIGUSR2);
	sigaddset(&call, SIGHUP);

	int p[2];
	if (pipe(p) != 0)
		return 1;
	struct pollfd pr = { .fd = p[0], .events = POLLIN };
	struct timespec sec = { 1, 0 }, ms100 = { 0, 100000000 }, zero = { 0, 0 };
	fd_set in;
	struct { const void *p; size_t size; } pack = { &call, 8 };

	/* a pending USR1 the call's mask lets through: EINTR at once, even with SA_RESTART */
	raise(SIGUSR1);
	report("ppoll pending", ppoll(&pr, 1, &sec, &call), SIGUSR1);
	raise(SIGUSR1);
	FD_ZERO(&in);
	FD_SET(p[0], &in);
	report("pselect pending", pselect(p[0] + 1, &in, NULL, NULL, &sec, &call), SIGUSR1);
	raise(SIGUSR1);
	report("ppoll pending, zero timeout", raw_ppoll(&pr, 1, &zero, &call, 8), SIGUSR1);
	raise(SIGUSR1);
	FD_ZERO(&in);
	FD_SET(p[0], &in);
	report("pselect6 raw pending", raw_pselect(p[0] + 1, &in, &sec, &pack), SIGUSR1);

	/* asleep: SIGALRM (blocked by the caller) wakes it */
	alarm(1);
	report("ppoll asleep, SIGALRM", raw_ppoll(&pr, 1, NULL, &call, 8), SIGALRM);
	alarm(1);
	FD_ZERO(&in);
	FD_SET(p[0], &in);
	report("pselect asleep, SIGALRM", raw_pselect(p[0] + 1, &in, NULL, &pack), SIGALRM);

	/* a ready fd wins: the signal stays pending, blocked again after the call */
	(void)!write(p[1], "x", 1);
	raise(SIGUSR1);
	report("ppoll ready fd", raw_ppoll(&pr, 1, &sec, &call, 8), SIGUSR1);
	FD_ZERO(&in);
	FD_SET(p[0], &in);
	report("pselect ready fd", raw_pselect(p[0] + 1, &in, &sec, &pack), SIGUSR1);
	char c;
	(void)!read(p[0], &c, 1);
	/* without a mask the pending USR1 stays blocked: the timeout expires */
	report("ppoll no mask", raw_ppoll(&pr, 1, &ms100, NULL, 8), SIGUSR1);
	/* the caller's own mask as the call's: the same */
	report("ppoll caller's mask", raw_ppoll(&pr, 1, &ms100, &caller, 8), SIGUSR1);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	report("unblocked", 0, SIGUSR1);

	/* SIGUSR2: blocked by both masks, the timeout expires and it stays pending */
	raise(SIGUSR2);
	report("ppoll both block USR2", raw_ppoll(&pr, 1, &ms100, &call, 8), SIGUSR2);
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	int got = 0;
	sigwait(&usr2, &got);

	/* SIGURG (default: ignored) pending, let through: no handler, the call restarts and times out */
	raise(SIGURG);
	report("ppoll ignored URG", raw_ppoll(&pr, 1, &ms100, &call, 8), SIGURG);

	/* checks and their order */
	report("ppoll size 4", raw_ppoll(&pr, 1, &zero, &call, 4), SIGUSR1);
	report("ppoll size 16", raw_ppoll(&pr, 1, &zero, &call, 16), SIGUSR1);
	report("ppoll bad mask", raw_ppoll(&pr, 1, &zero, (void *)16, 8), SIGUSR1);
	report("ppoll bad timeout before size", raw_ppoll(&pr, 1, (void *)16, &call, 4), SIGUSR1);
	struct timespec bad = { 0, 1000000000 };
	report("ppoll invalid timeout before size", raw_ppoll(&pr, 1, &bad, &call, 4), SIGUSR1);
	struct { const void *p; size_t size; } pack4 = { &call, 4 }, packbad = { (void *)16, 8 };
	report("pselect6 size 4", raw_pselect(1, NULL, &zero, &pack4), SIGUSR1);
	report("pselect6 bad mask", raw_pselect(1, NULL, &zero, &packbad), SIGUSR1);
	report("pselect6 bad pack before timeout", raw_pselect(1, NULL, &bad, (void *)16), SIGUSR1);
	report("pselect6 invalid timeout before size", raw_pselect(1, NULL, &bad, &pack4), SIGUSR1);
	/* a NULL sigset with any size: no mask, no check */
	struct { const void *p; size_t size; } packnull = { NULL, 3 };
	report("pselect6 NULL mask size 3", raw_pselect(1, NULL, &zero, &packnull), SIGUSR1);
	report("ppoll NULL mask size 3", raw_ppoll(&pr, 1, &zero, NULL, 3), SIGUSR1);

	/* the time left, written back: a signal 1 s into a 3 s wait leaves 2 s */
	struct timespec t3 = { 3, 0 };
	alarm(1);
	report("ppoll 3 s, SIGALRM at 1 s", raw_ppoll(&pr, 1, &t3, &call, 8), SIGALRM);
	time_left("ppoll 3 s, SIGALRM at 1 s", &t3);
	t3.tv_sec = 3;
	t3.tv_nsec = 0;
	alarm(1);
	FD_ZERO(&in);
	FD_SET(p[0], &in);
	report("pselect6 3 s, SIGALRM at 1 s", raw_pselect(p[0] + 1, &in, &t3, &pack), SIGALRM);
	time_left("pselect6 3 s, SIGALRM at 1 s", &t3);
	/* select(2)'s timeval (no mask: SIGALRM unblocked around it) */
	sigset_t alrm;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	struct timeval tv3 = { 3, 0 };
	FD_ZERO(&in);
	FD_SET(p[0], &in);
	alarm(1);
	sigprocmask(SIG_UNBLOCK, &alrm, NULL);
	long r = syscall(SYS__newselect, p[0] + 1, &in, NULL, NULL, &tv3);
	sigprocmask(SIG_BLOCK, &alrm, NULL);
	printf("select 3 s, SIGALRM at 1 s: %ld %s, handler %d, left %ld ms\n", r, err(r), hits, left_ms(tv3.tv_sec, tv3.tv_usec * 1000));
	hits = in_usr1 = in_hup = frame_usr1 = frame_usr2 = frame_hup = 0;
	/* an expiry leaves zero; a ready fd leaves (almost) all of it */
	struct timespec ms50 = { 0, 50000000 }, t5 = { 5, 0 };
	report("ppoll 50 ms expires", raw_ppoll(&pr, 1, &ms50, &call, 8), SIGUSR1);
	time_left("ppoll 50 ms expires", &ms50);
	(void)!write(p[1], "x", 1);
	FD_ZERO(&in);
	FD_SET(p[0], &in);
	report("pselect6 5 s, ready fd", raw_pselect(p[0] + 1, &in, &t5, &pack), SIGUSR1);
	time_left("pselect6 5 s, ready fd", &t5);
	(void)!read(p[0], &c, 1);

	/* read-only timeouts: a zero one is not written (an ignored URG restarts the call); a
	 * non-zero one cannot be, so the call cannot restart: EINTR */
	struct timespec *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		return 1;
	ro[0] = zero;
	ro[1] = sec;
	mprotect(ro, 4096, PROT_READ);
	raise(SIGURG);
	report("ppoll read-only zero timeout, ignored URG", raw_ppoll(&pr, 1, &ro[0], &call, 8), SIGURG);
	raise(SIGURG);
	report("ppoll read-only timeout, ignored URG", raw_ppoll(&pr, 1, &ro[1], &call, 8), SIGURG);
	raise(SIGURG);
	FD_ZERO(&in);
	FD_SET(p[0], &in);
	report("pselect6 read-only timeout, ignored URG", raw_pselect(p[0] + 1, &in, &ro[1], &pack), SIGURG);
	/* (3.14: the caller's mask came back before the delivery, URG is still pending: taken here) */
	sigset_t urg, pend;
	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	sigpending(&pend);
	if (sigismember(&pend, SIGURG))
		sigwait(&urg, &got);
	/* and a handled USR1 the call's mask lets through: 3.14's pselect6 restores the caller's mask
	 * before the delivery (USR1 stays pending, no handler); its ppoll and v6.12 deliver it */
	raise(SIGUSR1);
	report("ppoll read-only timeout, USR1", raw_ppoll(&pr, 1, &ro[1], &call, 8), SIGUSR1);
	raise(SIGUSR1);
	FD_ZERO(&in);
	FD_SET(p[0], &in);
	report("pselect6 read-only timeout, USR1", raw_pselect(p[0] + 1, &in, &ro[1], &pack), SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	report("unblocked after", 0, SIGUSR1);

	/* the same asleep in a thread, the (ignored) URG sent to the process while it sleeps: no
	 * handler runs, the call returns EINTR all the same and the caller's mask comes back */
	thread_pr = pr;
	thread_ts = &ro[1];
	pthread_t th;
	if (pthread_create(&th, NULL, ppoll_thread, NULL) != 0)
		return 2;
	struct timespec ms10 = { 0, 10000000 };
	nanosleep(&ms10, NULL);
	kill(getpid(), SIGURG);
	pthread_join(th, NULL);
	return 0;
}
