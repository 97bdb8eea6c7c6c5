/*
 * Real-time signals and the signal queue (kernel/signal.c __send_signal, __sigqueue_alloc,
 * collect_signal, next_signal, complete_signal, do_sigtimedwait, do_rt_sigqueueinfo,
 * do_rt_tgsigqueueinfo): one entry per send with its siginfo (SI_QUEUE, si_value, si_pid,
 * si_uid), standard signals before real-time ones and the lowest first, sigwaitinfo and
 * sigtimedwait (the queued siginfo, EAGAIN at the timeout, EINTR for another signal),
 * RLIMIT_SIGPENDING (sigqueue EAGAIN, kill not), SigQ in /proc/self/status, the si_code rule of
 * rt_sigqueueinfo / rt_tgsigqueueinfo, how much of the siginfo they read (3.14 all 128 bytes;
 * v6.12 32, the rest only for an si_code it does not know, -E2BIG unless zero), which thread
 * complete_signal wakes for a process-directed signal, and tgkill to a leader that has exited
 * while its group runs (tools/unicorn/sigrt.test.ts, both eras).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NREC 16
static volatile int rec_sig[NREC], rec_code[NREC], rec_val[NREC], rec_pid[NREC];
static volatile pid_t rec_tid[NREC];
static volatile int nrec;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (nrec < NREC) {
		rec_sig[nrec] = sig;
		rec_code[nrec] = si->si_code;
		rec_val[nrec] = si->si_value.sival_int;
		rec_pid[nrec] = si->si_pid;
		rec_tid[nrec] = syscall(SYS_gettid);
		nrec++;
	}
}

/* a call's result with its errno kept: -errno on failure */
#define E(call) ({ long r_ = (call); r_ < 0 ? -(long)errno : r_; })

/* a result from E(): the number, or the errno's name */
static const char *res(long r)
{
	static char b[8][24];
	static int i;
	if (r >= 0) {
		i = (i + 1) % 8;
		snprintf(b[i], sizeof b[i], "%ld", r);
		return b[i];
	}
	switch (-r) {
	case EAGAIN: return "EAGAIN";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EINTR: return "EINTR";
	case ESRCH: return "ESRCH";
	case EFAULT: return "EFAULT";
	case E2BIG: return "E2BIG";
	}
	i = (i + 1) % 8;
	snprintf(b[i], sizeof b[i], "errno %ld", -r);
	return b[i];
}

/* the SigQ line's value ("n/limit") */
static const char *sigq(void)
{
	static char out[64];
	char buf[2048];
	int fd = open("/proc/self/status", O_RDONLY);
	int n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	strcpy(out, "none");
	if (n <= 0)
		return out;
	buf[n] = 0;
	char *p = strstr(buf, "SigQ:\t");
	if (p) {
		p += 6;
		char *e = strchr(p, '\n');
		if (e)
			*e = 0;
		snprintf(out, sizeof out, "%s", p);
	}
	return out;
}

static long qinfo(pid_t pid, int sig, int code, int val)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = sig;
	si.si_code = code;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = val;
	return syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
}

/*
 * rt_sigqueueinfo(self, SIGWINCH) (ignored by default: nothing is queued) with a siginfo at `at`:
 * signo, errno 0, `code`, pid, uid in its first 32 bytes (the 32-bit kernel_siginfo) and, with
 * `tail` >= 0, the other 96 bytes zero but byte 100 = `tail` (`tail` < 0: left alone)
 */
static long qtail(unsigned char *at, int code, int tail)
{
	int w[8] = { SIGWINCH, 0, code, getpid(), getuid(), 0, 0, 0 };
	memcpy(at, w, sizeof w);
	if (tail >= 0) {
		memset(at + 32, 0, 96);
		at[100] = tail;
	}
	return E(syscall(SYS_rt_sigqueueinfo, getpid(), SIGWINCH, at));
}

static long tgqinfo(pid_t tgid, pid_t tid, int sig, int code)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = sig;
	si.si_code = code;
	si.si_pid = getpid();
	return syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, &si);
}

static void handle(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO;
	/* every signal blocked in the handler: one handler at a time, in dequeue order */
	sigfillset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void print_recs(const char *what, pid_t me)
{
	printf("%s:", what);
	for (int i = 0; i < nrec; i++)
		printf(" %d/%d/%d/%s", rec_sig[i], rec_code[i], rec_val[i],
		       rec_pid[i] == me ? "me" : rec_pid[i] == 0 ? "0" : "other");
	printf("\n");
	nrec = 0;
}

static void block(int how, int a, int b, int c, int d)
{
	sigset_t s;
	sigemptyset(&s);
	if (a) sigaddset(&s, a);
	if (b) sigaddset(&s, b);
	if (c) sigaddset(&s, c);
	if (d) sigaddset(&s, d);
	sigprocmask(how, &s, NULL);
}

/* ---- complete_signal: which thread a process-directed signal wakes ---- */
static int pipefd[2];
static volatile pid_t tid_c, tid_b;
static volatile int c_ret, c_err, b_go, b_done;

static void *sleeper(void *arg)
{
	char ch;
	(void)arg;
	tid_c = syscall(SYS_gettid);
	c_ret = read(pipefd[0], &ch, 1);
	c_err = errno;
	return NULL;
}

static void *sender(void *arg)
{
	(void)arg;
	tid_b = syscall(SYS_gettid);
	while (!b_go)
		sched_yield();
	kill(getpid(), SIGUSR1);
	for (int i = 0; i < 200; i++)
		sched_yield();
	b_done = 1;
	return NULL;
}

/* ---- tgkill to an exited leader whose group runs (in a child) ---- */
static volatile int t_count;
static void on_usr1_count(int sig) { (void)sig; t_count++; }

static void *survivor(void *arg)
{
	pid_t me = getpid();
	(void)arg;
	for (int i = 0; i < 500; i++)
		sched_yield(); /* the leader has called pthread_exit by now */
	const char *q0 = sigq();
	char q0s[32];
	snprintf(q0s, sizeof q0s, "%s", q0);
	long r1 = E(syscall(SYS_tgkill, me, me, SIGUSR1));
	for (int i = 0; i < 100; i++)
		sched_yield();
	int after = t_count;
	const char *q1 = sigq();
	char q1s[32];
	snprintf(q1s, sizeof q1s, "%s", q1);
	long r2 = E(syscall(SYS_tgkill, me, me, SIGKILL));
	for (int i = 0; i < 100; i++)
		sched_yield();
	long r3 = E(kill(me, SIGUSR1));
	for (int i = 0; i < 100; i++)
		sched_yield();
	printf("zombie leader: SigQ %s, tgkill SIGUSR1 %s taken %d, SigQ %s, tgkill SIGKILL %s survived, kill %s taken %d\n",
	       q0s, res(r1), after, q1s, res(r2), res(r3), t_count);
	fflush(stdout);
	_exit(3);
}

static void leader_child(void)
{
	pthread_t t;
	signal(SIGUSR1, on_usr1_count);
	signal(SIGUSR2, on_usr1_count);
	pthread_create(&t, NULL, survivor, NULL);
	/* a signal left on the leader's own list when it exits stays queued (charged) while the group runs */
	block(SIG_BLOCK, SIGUSR2, 0, 0, 0);
	syscall(SYS_tgkill, getpid(), getpid(), SIGUSR2);
	pthread_exit(NULL);
}

static void *q_from_thread(void *arg)
{
	long *out = arg;
	*out = E(qinfo(getpid(), 0, SI_USER, 0));
	return NULL;
}

static volatile int late_go;
static void *late_sender(void *arg)
{
	(void)arg;
	while (!late_go)
		sched_yield();
	for (int i = 0; i < 50; i++)
		sched_yield();
	union sigval v = { .sival_int = 99 };
	sigqueue(getpid(), SIGRTMIN + 3, v);
	return NULL;
}

static void *usr2_sender(void *arg)
{
	(void)arg;
	while (!late_go)
		sched_yield();
	for (int i = 0; i < 50; i++)
		sched_yield();
	kill(getpid(), SIGUSR2);
	return NULL;
}

/* 7: a raw clone(CLONE_THREAD) thread reads its own mask (glibc's pthread_create sets it itself) */
static volatile int clone_usr2 = -1;

static int clone_thread_fn(void *arg)
{
	uint64_t cur = 0;
	(void)arg;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8);
	clone_usr2 = (int)((cur >> (SIGUSR2 - 1)) & 1);
	return 0;
}

static char clone_stack[16384] __attribute__((aligned(16)));

int main(void)
{
	pid_t me = getpid();
	int r1 = SIGRTMIN + 1, r2 = SIGRTMIN + 2, r3 = SIGRTMIN + 3;
	union sigval v;
	siginfo_t si;
	struct timespec zero = { 0, 0 }, ten_ms = { 0, 10000000 }, one_s = { 1, 0 };
	long r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("SIGRTMIN %d SIGRTMAX %d\n", SIGRTMIN, SIGRTMAX);

	/* 1: queued once per send, standard signals first, then the lowest real-time one */
	handle(SIGUSR1);
	handle(r1);
	handle(r2);
	block(SIG_BLOCK, SIGUSR1, r1, r2, 0);
	v.sival_int = 1; sigqueue(me, r2, v);
	v.sival_int = 2; sigqueue(me, r1, v);
	v.sival_int = 3; sigqueue(me, r2, v);
	kill(me, SIGUSR1);
	kill(me, SIGUSR1); /* merged: SIGUSR1 is pending already */
	v.sival_int = 4; sigqueue(me, r1, v);
	sigset_t pend;
	sigpending(&pend);
	printf("queued: SigQ %s pending usr1 %d rt1 %d rt2 %d rt3 %d\n", sigq(), sigismember(&pend, SIGUSR1),
	       sigismember(&pend, r1), sigismember(&pend, r2), sigismember(&pend, r3));
	block(SIG_UNBLOCK, SIGUSR1, r1, r2, 0);
	print_recs("delivered", me);
	printf("after: SigQ %s\n", sigq());

	/* 2: sigwaitinfo / sigtimedwait */
	sigset_t w;
	sigemptyset(&w);
	sigaddset(&w, r3);
	block(SIG_BLOCK, r3, 0, 0, 0);
	v.sival_int = 77;
	sigqueue(me, r3, v);
	r = E(sigwaitinfo(&w, &si));
	printf("sigwaitinfo %s code %d value %d pid-ok %d uid %d\n", res(r), si.si_code, si.si_value.sival_int,
	       si.si_pid == me, si.si_uid);
	kill(me, r3);
	r = E(sigtimedwait(&w, &si, &zero));
	printf("kill rt: sigtimedwait %s code %d pid-ok %d\n", res(r), si.si_code, si.si_pid == me);
	r = E(sigtimedwait(&w, &si, &zero));
	printf("empty, zero timeout: %s\n", res(r));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = E(sigtimedwait(&w, &si, &ten_ms));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long waited = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
	printf("empty, 10ms: %s waited>=10ms %d\n", res(r), waited >= 10000000L);
	pthread_t lt;
	late_go = 0;
	pthread_create(&lt, NULL, late_sender, NULL);
	late_go = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = E(sigtimedwait(&w, &si, &one_s));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
	pthread_join(lt, NULL);
	printf("woken by a thread's sigqueue: %s value %d before the timeout %d\n", res(r), si.si_value.sival_int,
	       waited < 500000000L);
	handle(SIGUSR2);
	late_go = 0;
	pthread_create(&lt, NULL, usr2_sender, NULL);
	late_go = 1;
	r = E(sigtimedwait(&w, &si, &one_s));
	pthread_join(lt, NULL);
	printf("another signal: sigtimedwait %s, handler %d\n", res(r), nrec == 1 && rec_sig[0] == SIGUSR2);
	nrec = 0;
	sigset_t bad;
	r = E(syscall(SYS_rt_sigtimedwait, &w, NULL, &zero, 4));
	printf("sigsetsize 4: %s\n", res(r));
	struct timespec inval = { 0, 1000000000 };
	r = E(sigtimedwait(&w, &si, &inval));
	(void)bad;
	printf("tv_nsec 1e9: %s\n", res(r));

	/* 3: RLIMIT_SIGPENDING */
	struct rlimit lim = { 2, 2 };
	setrlimit(RLIMIT_SIGPENDING, &lim);
	int r4 = SIGRTMIN + 4, r5 = SIGRTMIN + 5;
	block(SIG_BLOCK, SIGUSR1, SIGUSR2, r4, r5);
	v.sival_int = 1;
	long a1 = E(sigqueue(me, r4, v));
	v.sival_int = 2;
	long a2 = E(sigqueue(me, r4, v));
	printf("limit 2: sigqueue %s %s SigQ %s\n", res(a1), res(a2), sigq());
	v.sival_int = 3;
	long a3 = E(sigqueue(me, r4, v));
	long a4 = E(syscall(SYS_tgkill, me, syscall(SYS_gettid), r5));
	long a5 = E(kill(me, r5));
	long a6 = E(kill(me, SIGUSR1));
	v.sival_int = 5;
	long a7 = E(sigqueue(me, SIGUSR2, v));
	printf("over: sigqueue %s tgkill %s kill %s, standard: kill %s sigqueue %s, SigQ %s\n", res(a3), res(a4), res(a5),
	       res(a6), res(a7), sigq());
	sigset_t all4;
	sigemptyset(&all4);
	sigaddset(&all4, SIGUSR1);
	sigaddset(&all4, SIGUSR2);
	sigaddset(&all4, r4);
	sigaddset(&all4, r5);
	printf("drained:");
	for (int i = 0; i < 6; i++) {
		memset(&si, 0, sizeof si);
		r = E(sigtimedwait(&all4, &si, &zero));
		if (r < 0) {
			printf(" %s", res(r));
			break;
		}
		printf(" %ld/%d/%d/%s", r, si.si_code, si.si_value.sival_int,
		       si.si_pid == me ? "me" : si.si_pid == 0 ? "0" : "other");
	}
	printf(", SigQ %s\n", sigq());
	lim.rlim_cur = lim.rlim_max = RLIM_INFINITY;
	setrlimit(RLIMIT_SIGPENDING, &lim);
	block(SIG_UNBLOCK, SIGUSR1, SIGUSR2, r4, r5);

	/* 4: the si_code rule of rt_sigqueueinfo / rt_tgsigqueueinfo */
	pid_t child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	long p1 = E(qinfo(me, 0, SI_USER, 0));
	long p2 = E(qinfo(me, 0, SI_TKILL, 0));
	long p3 = E(qinfo(child, 0, SI_USER, 0));
	long p4 = E(qinfo(child, 0, SI_TKILL, 0));
	long p5 = E(qinfo(child, 0, SI_QUEUE, 0));
	long p6 = E(qinfo(child, 0, 1, 0)); /* SI_KERNEL-like positive code */
	long p7 = E(qinfo(-1, 0, SI_QUEUE, 0));
	long p8 = E(qinfo(me, 65, SI_QUEUE, 0));
	long p9 = E(syscall(SYS_rt_sigqueueinfo, me, 0, (void *)8));
	printf("rt_sigqueueinfo: self SI_USER %s SI_TKILL %s, child SI_USER %s SI_TKILL %s SI_QUEUE %s code 1 %s, pid -1 %s, sig 65 %s, fault %s\n",
	       res(p1), res(p2), res(p3), res(p4), res(p5), res(p6), res(p7), res(p8), res(p9));
	long tq[2];
	pthread_t qt;
	pthread_create(&qt, NULL, q_from_thread, tq);
	pthread_join(qt, NULL);
	printf("from a non-leader thread to its own pid, SI_USER: %s\n", res(tq[0]));
	long g1 = E(tgqinfo(me, syscall(SYS_gettid), 0, SI_USER));
	long g2 = E(tgqinfo(child, child, 0, SI_USER));
	long g3 = E(tgqinfo(child, child, 0, SI_QUEUE));
	long g4 = E(tgqinfo(0, child, 0, SI_QUEUE));
	long g5 = E(syscall(SYS_rt_tgsigqueueinfo, 0, 0, 0, (void *)8));
	long g6 = E(tgqinfo(me, child, 0, SI_QUEUE));
	printf("rt_tgsigqueueinfo: self %s, child SI_USER %s SI_QUEUE %s, tgid 0 %s, fault before EINVAL %s, wrong tgid %s\n",
	       res(g1), res(g2), res(g3), res(g4), res(g5), res(g6));
	/*
	 * the siginfo past its first 32 bytes: 3.14 copies all 128; v6.12 reads the rest only for an
	 * si_code known_siginfo_layout does not know (-100 for SIGWINCH; SI_QUEUE is known), -E2BIG
	 * unless it is zero; `hole`: the siginfo's last 32 bytes of a page before a PROT_NONE one
	 */
	unsigned char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(pg + 4096, 4096, PROT_NONE);
	unsigned char *hole = pg + 4096 - 32;
	long q1 = qtail(pg, SI_QUEUE, 1), q2 = qtail(pg, -100, 0), q3 = qtail(pg, -100, 1);
	long q4 = qtail(hole, SI_QUEUE, -1), q5 = qtail(hole, -100, -1);
	printf("siginfo tail: known+tail %s, unknown+zero %s, unknown+tail %s; 32 bytes before a hole: known %s, unknown %s\n",
	       res(q1), res(q2), res(q3), res(q4), res(q5));
	munmap(pg, 8192);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* rt_tgsigqueueinfo delivers its siginfo to the thread */
	handle(r1);
	block(SIG_BLOCK, r1, 0, 0, 0);
	{
		siginfo_t q;
		memset(&q, 0, sizeof q);
		q.si_code = SI_QUEUE;
		q.si_pid = me;
		q.si_value.sival_int = 1234;
		syscall(SYS_rt_tgsigqueueinfo, me, syscall(SYS_gettid), r1, &q);
	}
	block(SIG_UNBLOCK, r1, 0, 0, 0);
	print_recs("rt_tgsigqueueinfo delivered", me);

	/* 5: complete_signal: the thread a process-directed signal wakes */
	pipe(pipefd);
	handle(SIGUSR1);
	pthread_t c, b;
	pthread_create(&c, NULL, sleeper, NULL);
	while (tid_c == 0)
		sched_yield();
	for (int i = 0; i < 50; i++)
		sched_yield(); /* C is asleep in read */
	pthread_create(&b, NULL, sender, NULL);
	while (tid_b == 0)
		sched_yield();
	block(SIG_BLOCK, SIGUSR1, 0, 0, 0); /* the main thread does not want it */
	b_go = 1;
	pthread_join(c, NULL);
	pthread_join(b, NULL);
	printf("main blocks: handler in C %d (in B %d), C's read %d %s\n", nrec == 1 && rec_tid[0] == tid_c,
	       nrec == 1 && rec_tid[0] == tid_b, c_ret, c_ret < 0 && c_err == EINTR ? "EINTR" : "?");
	nrec = 0;
	block(SIG_UNBLOCK, SIGUSR1, 0, 0, 0);
	b_go = 0;
	b_done = 0;
	tid_b = 0;
	pthread_create(&b, NULL, sender, NULL);
	while (tid_b == 0)
		sched_yield();
	b_go = 1;
	char ch;
	long rd = E(read(pipefd[0], &ch, 1));
	pthread_join(b, NULL);
	printf("main wants it: handler in main %d, main's read %s\n", nrec == 1 && rec_tid[0] == syscall(SYS_gettid),
	       res(rd));
	nrec = 0;

	/* 6: tgkill to a leader that has exited while its group runs */
	pid_t lc = fork();
	if (lc == 0)
		leader_child();
	int st;
	waitpid(lc, &st, 0);
	printf("leader child: exited %d status %d\n", WIFEXITED(st), WEXITSTATUS(st));

	/* 7 */
	block(SIG_BLOCK, SIGUSR2, 0, 0, 0);
	long ct = clone(clone_thread_fn, clone_stack + sizeof clone_stack,
			CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, NULL);
	while (ct > 0 && clone_usr2 < 0)
		sched_yield();
	printf("raw clone thread: %s, the creator's SIGUSR2 block kept %d\n", ct > 0 ? "ok" : "failed", clone_usr2);
	block(SIG_UNBLOCK, SIGUSR2, 0, 0, 0);
	printf("end: SigQ %s\n", sigq());
	return 0;
}
