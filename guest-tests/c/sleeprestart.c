/*
 * nanosleep(2) and clock_nanosleep(2) restart through the thread's restart_block
 * (kernel/hrtimer.c, v6.12 kernel/time/hrtimer.c: hrtimer_nanosleep / do_nanosleep /
 * hrtimer_nanosleep_restart; kernel/signal.c sys_restart_syscall; kernel-model/exec/
 * signal-restart.ts, time.ts). A worker thread sleeps 300 ms and is signalled at 100 ms:
 * - an ignored URG (the main thread blocks it, so it is queued and the worker takes it): no
 *   handler, the sleep restarts as restart_syscall and ends at the first expiry, 300 ms in all,
 *   with the time left (about 200 ms) written to rem at the interruption (raw nanosleep);
 *   restart_syscall(2) after it sleeps until the same past expiry: 0 at once;
 * - a USR1 whose handler has SA_RESTART: EINTR at 100 ms with about 200 ms in rem, and
 *   restart_syscall(2) after it is EINTR (sigreturn reset the restart_block); a read-only rem:
 *   EFAULT;
 * - clock_nanosleep with TIMER_ABSTIME: -ERESTARTNOHAND, restarted as itself to the same end
 *   (300 ms) without a handler, EINTR with one;
 * - a plain nanosleep after a restarted one, then restart_syscall(2): 3.14 leaves the old block
 *   (0 at once), v6.12's nanosleep reset it (EINTR);
 * - poll and select woken by a write that the main thread drains before they run, then
 *   signalled: presented again, they find no fd ready and the signal pending (do_poll /
 *   do_select check signal_pending before they sleep): EINTR at once with a handler, the time left
 *   without one (poll through restart_syscall, select as itself with the timeval written back);
 * - clock_nanosleep's clock checks: MONOTONIC_RAW and THREAD_CPUTIME EOPNOTSUPP, 10 EINVAL, the
 *   caller's own thread CPU clock EINVAL.
 * glibc 2.36's nanosleep is clock_nanosleep_time64, on 3.14 (ENOSYS) clock_nanosleep with its own
 * rem, copied out on EINTR only. Output is deterministic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* the 32-bit struct timespec of ARM's nanosleep (162) and clock_nanosleep (265) */
struct ts32 {
	int32_t sec, nsec;
};

static volatile int handled;
static const struct ts32 ro_rem = { 7, 7 };

static long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *err(long r)
{
	return r >= 0 ? "ok" : errno == EINTR ? "EINTR" : errno == EFAULT ? "EFAULT" : errno == EINVAL ? "EINVAL" : errno == EOPNOTSUPP ? "EOPNOTSUPP" : "?";
}

static const char *code(int e)
{
	return e == 0 ? "0" : e == EINTR ? "EINTR" : "?";
}

static const char *waited(long dt, long want)
{
	return dt >= want && dt < want + 50 ? "as asked" : "other";
}

static const char *left(long sec, long nsec)
{
	long ms = sec * 1000L + nsec / 1000000L;
	return ms >= 150 && ms <= 200 ? "about 200 ms" : sec == 7 && nsec == 7 ? "untouched" : "other";
}

static void on_usr1(int s)
{
	(void)s;
	handled++;
}

enum mode { RAW, RAW_RO, LIBC, ABS, RESET, POLL, SELECT };

static int p[2];

struct job {
	enum mode mode;
	long want;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	sigset_t urg;
	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	pthread_sigmask(SIG_UNBLOCK, &urg, NULL);
	long t0 = ms_now(), dt, r;
	if (j->mode == RAW || j->mode == RAW_RO || j->mode == RESET) {
		struct ts32 req = { 0, 300000000 }, rem = { 7, 7 };
		r = syscall(SYS_nanosleep, &req, j->mode == RAW_RO ? (struct ts32 *)&ro_rem : &rem);
		dt = ms_now() - t0;
		printf("nanosleep(2) 300 ms%s, signal at 100 ms: %ld %s, handler %d, waited %ld ms: %s, rem %s\n", j->mode == RAW_RO ? ", read-only rem" : "", r, err(r), handled, j->want, waited(dt, j->want), left(rem.sec, rem.nsec));
	} else if (j->mode == LIBC) {
		struct timespec req = { 0, 300000000 }, rem = { 7, 7 };
		r = nanosleep(&req, &rem);
		dt = ms_now() - t0;
		printf("libc nanosleep 300 ms, signal at 100 ms: %ld %s, handler %d, waited %ld ms: %s, rem %s\n", r, err(r), handled, j->want, waited(dt, j->want), r < 0 ? left(rem.tv_sec, rem.tv_nsec) : "-");
	} else if (j->mode == POLL) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		r = poll(&pfd, 1, 300);
		dt = ms_now() - t0;
		printf("poll 300 ms, woken by a write drained at once, signal then: %ld %s, handler %d, waited %ld ms: %s\n", r, err(r), handled, j->want, waited(dt, j->want));
	} else if (j->mode == SELECT) {
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(p[0], &rd);
		struct timeval tv = { 0, 300000 };
		r = select(p[0] + 1, &rd, NULL, NULL, &tv);
		dt = ms_now() - t0;
		printf("select 300 ms, woken by a write drained at once, signal then: %ld %s, handler %d, waited %ld ms: %s\n", r, err(r), handled, j->want, waited(dt, j->want));
	} else {
		struct timespec end;
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_nsec += 300000000;
		if (end.tv_nsec >= 1000000000) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000;
		}
		int e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL);
		dt = ms_now() - t0;
		printf("clock_nanosleep TIMER_ABSTIME +300 ms, signal at 100 ms: %s, handler %d, waited %ld ms: %s\n", code(e), handled, j->want, waited(dt, j->want));
	}
	if (j->mode == RESET) {
		struct ts32 ms10 = { 0, 10000000 };
		syscall(SYS_nanosleep, &ms10, NULL);
	}
	if (j->mode != ABS && j->mode != SELECT) {
		t0 = ms_now();
		long rr = syscall(SYS_restart_syscall);
		dt = ms_now() - t0;
		printf("restart_syscall after it%s: %ld %s, waited %s\n", j->mode == RESET ? " and a 10 ms nanosleep" : "", rr, err(rr), dt < 50 ? "none" : "some");
	}
	return NULL;
}

/* the worker for `j`, signalled at 100 ms by an ignored URG (process-directed) or a USR1 to it */
static void run(enum mode mode, int handler)
{
	struct job j = { mode, handler ? 100 : 300 };
	struct ts32 ms100 = { 0, 100000000 };
	pthread_t th;
	handled = 0;
	if (pthread_create(&th, NULL, worker, &j) != 0)
		return;
	syscall(SYS_nanosleep, &ms100, NULL);
	if (mode == POLL || mode == SELECT) {
		/* the worker woken (runnable, its call to be presented again), the fd drained before it runs, then the signal */
		char c = 'x';
		if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
			return;
	}
	if (handler)
		pthread_kill(th, SIGUSR1);
	else
		kill(getpid(), SIGURG);
	pthread_join(th, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	long r = syscall(SYS_restart_syscall);
	printf("restart_syscall first: %ld %s\n", r, err(r));
	sigset_t urg;
	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	pthread_sigmask(SIG_BLOCK, &urg, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	run(RAW, 0);
	run(RAW, 1);
	run(RAW_RO, 1);
	run(LIBC, 0);
	run(LIBC, 1);
	run(ABS, 0);
	run(ABS, 1);
	run(RESET, 0);
	if (pipe(p) != 0)
		return 2;
	run(POLL, 1);
	run(POLL, 0);
	run(SELECT, 1);
	run(SELECT, 0);

	struct ts32 ms1 = { 0, 1000000 };
	static const struct { int id; const char *name; } clocks[] = {
		{ CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW" }, { CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID" },
		{ CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID" }, { CLOCK_BOOTTIME, "BOOTTIME" }, { 10, "10" },
		{ -2 /* MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED) */, "own thread CPU clock" },
	};
	for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		r = syscall(SYS_clock_nanosleep, clocks[i].id, 0, &ms1, NULL);
		printf("clock_nanosleep(%s, 1 ms): %ld %s\n", clocks[i].name, r, err(r));
	}
	return 0;
}
