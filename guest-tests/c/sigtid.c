/*
 * Signals addressed by thread id (kernel/signal.c do_tkill, do_send_specific, kill_pid_info):
 * tgkill and tkill (SI_TKILL, si_pid, si_uid) to one thread, whose handler runs in that thread
 * only, held for that thread while it blocks the signal (no other thread takes it), a thread
 * asleep in read() woken alone (EINTR); kill() of a non-leader tid signals the thread group;
 * the errors in do_tkill's order (EINVAL for ids <= 0, ESRCH for a wrong tgid before a bad
 * signal's EINVAL), signal 0 as an existence probe, ESRCH once a thread is joined; a fatal
 * signal tgkill'd to a thread that blocks it kills the process only when that thread unblocks
 * it (tools/unicorn/sigtid.test.ts, both eras).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int got_count, got_code, got_pid, got_uid;
static volatile char order[8];
static volatile int order_n;
static volatile pid_t got_tid;
static volatile pid_t tid_a, tid_b, tid_d;
static volatile int stop_a, ready_b, phase_b, done_b, ready_d, d_ret, d_err, d_tid_ok;
static int pipefd[2];

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_tid = syscall(SYS_gettid);
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_uid = si->si_uid;
	got_count++;
	if (order_n < 7)
		order[order_n++] = sig == SIGUSR1 ? '1' : '2';
}

static long tgkill_(int tgid, int tid, int sig) { return syscall(SYS_tgkill, tgid, tid, sig); }
static long tkill_(int tid, int sig) { return syscall(SYS_tkill, tid, sig); }

static const char *res(long r)
{
	static char b[4][16];
	static int i;
	if (r == 0)
		return "0";
	if (errno == ESRCH)
		return "ESRCH";
	if (errno == EINVAL)
		return "EINVAL";
	if (errno == ENOSYS)
		return "ENOSYS";
	i = (i + 1) % 4;
	snprintf(b[i], sizeof b[i], "%ld/%d", r, errno);
	return b[i];
}

static void wait_count(int n)
{
	for (int i = 0; i < 100000 && got_count < n; i++)
		sched_yield();
}

static void *thread_a(void *arg)
{
	(void)arg;
	tid_a = syscall(SYS_gettid);
	while (!stop_a)
		sched_yield();
	return NULL;
}

static void *thread_b(void *arg)
{
	sigset_t s;
	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	tid_b = syscall(SYS_gettid);
	ready_b = 1;
	while (phase_b < 2)
		sched_yield();
	/* the SIGUSR1 tgkill'd to this thread is taken here, at the unblock */
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	done_b = 1;
	return NULL;
}

static volatile int ready_e, phase_e, done_e;
static volatile pid_t tid_e;

static void *thread_e(void *arg)
{
	sigset_t s;
	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	tid_e = syscall(SYS_gettid);
	ready_e = 1;
	while (!phase_e)
		sched_yield();
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	done_e = 1;
	return NULL;
}

static volatile int ready_f, phase_f, done_f;
static volatile pid_t tid_f;

static void *thread_f(void *arg)
{
	sigset_t s;
	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	tid_f = syscall(SYS_gettid);
	ready_f = 1;
	while (!phase_f)
		sched_yield();
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	done_f = 1;
	return NULL;
}

static void *thread_d(void *arg)
{
	char c;
	(void)arg;
	tid_d = syscall(SYS_gettid);
	ready_d = 1;
	d_ret = read(pipefd[0], &c, 1);
	d_err = errno;
	d_tid_ok = got_tid == tid_d;
	return NULL;
}

static void *thread_c(void *arg)
{
	sigset_t s;
	volatile int *go = arg;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	tid_a = syscall(SYS_gettid);
	go[0] = 1;
	while (!go[1])
		sched_yield();
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	return NULL;
}

/* a child whose thread blocks SIGTERM: tgkill'd SIGTERM waits for that thread alone */
static void fatal_child(void)
{
	static volatile int go[2];
	pthread_t c;
	pthread_create(&c, NULL, thread_c, (void *)go);
	while (!go[0])
		sched_yield();
	long r = tgkill_(getpid(), tid_a, SIGTERM);
	for (int i = 0; i < 50; i++)
		sched_yield();
	printf("child: tgkill SIGTERM to the blocking thread %s, survived\n", res(r));
	fflush(stdout);
	go[1] = 1;
	for (int i = 0; i < 100000; i++)
		sched_yield();
	_exit(7);
}

int main(void)
{
	struct sigaction sa = { 0 };
	pthread_t a, b, d;
	pid_t me = getpid();
	int n;

	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);

	/* 1: tgkill and tkill to thread A: its handler runs in A, with SI_TKILL */
	pthread_create(&a, NULL, thread_a, NULL);
	while (tid_a == 0)
		sched_yield();
	long r = tgkill_(me, tid_a, SIGUSR1);
	wait_count(1);
	printf("tgkill A %s: count %d in A %d code %d pid-ok %d uid %d\n", res(r), got_count, got_tid == tid_a,
	       got_code, got_pid == me, got_uid);
	r = tkill_(tid_a, SIGUSR1);
	wait_count(2);
	printf("tkill A %s: count %d in A %d code %d pid-ok %d\n", res(r), got_count, got_tid == tid_a, got_code,
	       got_pid == me);

	/* 2: errors in do_tkill's order, signal 0 */
	printf("tgkill tid 0 %s, tid -1 %s, tgid 0 %s, tgid -1 %s\n", res(tgkill_(me, 0, SIGUSR1)),
	       res(tgkill_(me, -1, SIGUSR1)), res(tgkill_(0, tid_a, SIGUSR1)), res(tgkill_(-1, tid_a, SIGUSR1)));
	printf("tgkill wrong tgid %s, wrong tgid bad sig %s, bad sig %s, no such tid %s\n",
	       res(tgkill_(tid_a, tid_a, SIGUSR1)), res(tgkill_(tid_a, tid_a, 100)), res(tgkill_(me, tid_a, 100)),
	       res(tgkill_(me, 99999, 0)));
	printf("tkill tid 0 %s, tid -5 %s, bad sig %s, no such tid bad sig %s\n", res(tkill_(0, SIGUSR1)),
	       res(tkill_(-5, SIGUSR1)), res(tkill_(tid_a, 65)), res(tkill_(99999, 100)));
	n = got_count;
	printf("sig 0: tgkill %s tkill %s kill %s, leader: tgkill %s; count unchanged %d\n", res(tgkill_(me, tid_a, 0)),
	       res(tkill_(tid_a, 0)), res(kill(tid_a, 0)), res(tgkill_(me, me, 0)), got_count == n);
	stop_a = 1;
	pthread_join(a, NULL);
	printf("joined A: tkill %s tgkill %s kill %s\n", res(tkill_(tid_a, 0)), res(tgkill_(me, tid_a, 0)),
	       res(kill(tid_a, 0)));
	printf("kill no such pid bad sig %s, bad sig %s\n", res(kill(99999, 100)), res(kill(me, 100)));

	/* 3: B blocks SIGUSR1: a tgkill'd one waits for B (main does not take it); kill(B's tid) goes to the group */
	pthread_create(&b, NULL, thread_b, NULL);
	while (!ready_b)
		sched_yield();
	n = got_count;
	r = tgkill_(me, tid_b, SIGUSR1);
	for (int i = 0; i < 50; i++)
		sched_yield();
	printf("tgkill B (blocking) %s: taken %d\n", res(r), got_count - n);
	r = kill(tid_b, SIGUSR1);
	wait_count(n + 1);
	printf("kill B's tid %s: taken %d in main %d code %d pid-ok %d\n", res(r), got_count - n, got_tid == me,
	       got_code, got_pid == me);
	phase_b = 2;
	while (!done_b)
		sched_yield();
	printf("B unblocked: taken %d in B %d code %d\n", got_count - n, got_tid == tid_b, got_code);
	pthread_join(b, NULL);

	/*
	 * 3b: E's own SIGUSR2 before the process's SIGUSR1 (dequeue_signal: the thread's set first);
	 * each handler masks the other signal, so the first dequeued runs to its end first (not
	 * nested under the second, as the return-to-user loop would stack them)
	 */
	{
		pthread_t e;
		sigset_t s1;
		long r1, r2;
		sigaddset(&sa.sa_mask, SIGUSR1);
		sigaddset(&sa.sa_mask, SIGUSR2);
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGUSR2, &sa, NULL);
		sigemptyset(&s1);
		sigaddset(&s1, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &s1, NULL);
		pthread_create(&e, NULL, thread_e, NULL);
		while (!ready_e)
			sched_yield();
		order_n = 0;
		r2 = kill(me, SIGUSR1);
		r1 = tgkill_(me, tid_e, SIGUSR2);
		phase_e = 1;
		while (!done_e)
			sched_yield();
		pthread_join(e, NULL);
		pthread_sigmask(SIG_UNBLOCK, &s1, NULL);
		order[order_n] = 0;
		printf("E unblocks both: kill %s tgkill %s, taken in order %s\n", res(r2), res(r1), (const char *)order);
	}

	/* 3c: SIG_IGN set while F holds a tgkill'd SIGUSR1 discards it (do_sigaction flushes each thread's set) */
	{
		pthread_t f;
		struct sigaction ign = { 0 };
		ign.sa_handler = SIG_IGN;
		pthread_create(&f, NULL, thread_f, NULL);
		while (!ready_f)
			sched_yield();
		n = got_count;
		r = tgkill_(me, tid_f, SIGUSR1);
		sigaction(SIGUSR1, &ign, NULL);
		sigaction(SIGUSR1, &sa, NULL);
		phase_f = 1;
		while (!done_f)
			sched_yield();
		pthread_join(f, NULL);
		printf("F's pending SIGUSR1 after SIG_IGN %s: taken %d\n", res(r), got_count - n);
	}

	/* 4: D asleep in read(): tgkill wakes D alone, read fails EINTR (no SA_RESTART) */
	pipe(pipefd);
	pthread_create(&d, NULL, thread_d, NULL);
	while (!ready_d)
		sched_yield();
	for (int i = 0; i < 20; i++)
		sched_yield();
	r = tgkill_(me, tid_d, SIGUSR1);
	pthread_join(d, NULL);
	printf("tgkill D in read %s: read %d %s, handler in D %d\n", res(r), d_ret, d_err == EINTR ? "EINTR" : "?",
	       d_tid_ok);

	/* 5: a fatal signal for one thread that blocks it */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0)
		fatal_child();
	int st = 0;
	waitpid(c, &st, 0);
	printf("child: signaled %d sig %d\n", WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));

	/* 6: a zombie is still a task until it is reaped: kill and tgkill answer 0 and change nothing */
	{
		int zp[2];
		char ch;
		long k0, k9, t0;
		struct rlimit rl;
		pipe(zp);
		c = fork();
		if (c == 0) {
			close(zp[0]);
			_exit(7);
		}
		close(zp[1]);
		read(zp[0], &ch, 1); /* end of file: the child has exited (its fds closed) */
		k0 = kill(c, 0);
		k9 = kill(c, SIGKILL);
		t0 = tgkill_(c, c, 0);
		printf("zombie: kill 0 %s, SIGKILL %s, tgkill 0 %s", res(k0), res(k9), res(t0));
		rl.rlim_cur = 0;
		k0 = prlimit(c, RLIMIT_NOFILE, NULL, &rl);
		printf(", prlimit %s nofile %lu", res(k0), (unsigned long)rl.rlim_cur);
		waitpid(c, &st, 0);
		k0 = kill(c, 0);
		t0 = prlimit(c, RLIMIT_NOFILE, NULL, &rl);
		printf("; reaped: exited %d status %d, kill 0 %s, prlimit %s\n", WIFEXITED(st), WEXITSTATUS(st), res(k0), res(t0));
	}
	return 0;
}
