/*
 * Signals to a zombie: a child that has exited and is not yet reaped (waitid WNOWAIT). kill,
 * sigqueue (rt_sigqueueinfo) and tgkill answer 0: the task stays hashed with its sighand until
 * release_task. Whether the signal is queued is prepare_signal's choice (kernel/signal.c): 3.14
 * queues it ("nothing to do" once SIGNAL_GROUP_EXIT is set, then sig_ignored), v6.12 drops it
 * once the flag is set, which do_exit's synchronize_group_exit does at every process exit, a last
 * thread leaving by exit(2) too (kernel/exit.c, v6.1). A queued entry is charged to the zombie's
 * user (SigQ, here root's, as every process's) and freed by __exit_signal at the reap
 * (release_task), as are the signals pending at the exit. A SIGKILL from kill() or tgkill() has
 * an entry of its own in 3.14 only. When every thread leaves by exit(2), the leader first, 3.14's
 * wait reports the leader's code and v6.12's the last thread's (group_exit_code).
 * (tools/unicorn/sigzombie.test.ts, both eras.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* a call's result: the number, or -errno */
#define E(call) ({ long r_ = (call); r_ < 0 ? -(long)errno : r_; })

static const char *res(long r)
{
	static char b[8][24];
	static int i;
	i = (i + 1) % 8;
	if (r >= 0)
		snprintf(b[i], sizeof b[i], "%ld", r);
	else if (r == -ESRCH)
		snprintf(b[i], sizeof b[i], "ESRCH");
	else
		snprintf(b[i], sizeof b[i], "errno%ld", -r);
	return b[i];
}

/* the first number of the SigQ line of /proc/<pid>/status (pid 0: self), -1 if none */
static int sigq(pid_t pid)
{
	char path[64], buf[2048];
	if (pid == 0)
		snprintf(path, sizeof path, "/proc/self/status");
	else
		snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strstr(buf, "SigQ:\t");
	return p == NULL ? -1 : atoi(p + 6);
}

/* wait until `pid` has exited without reaping it */
static void wait_zombie(pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT) != 0 || si.si_pid != pid)
		printf("waitid WNOWAIT failed\n");
}

/*
 * a child that waits in read() on a new pipe until it is killed (or the write end `p[1]`, kept by
 * the parent, is closed); -1 if the pipe or the fork fails
 */
static pid_t fork_parked(int p[2])
{
	if (pipe(p) != 0)
		return -1;
	pid_t c = fork();
	if (c == 0) {
		char b;
		close(p[1]);
		read(p[0], &b, 1);
		_exit(0);
	}
	close(p[0]);
	return c;
}

/* reap `pid`: its wait status */
static int reap(pid_t pid)
{
	int st = -1;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

/* the second thread of case 7: leaves by exit(2) with 7 once the leader has left by exit(2) with 5 */
static void *late_exit(void *arg)
{
	(void)arg;
	for (int i = 0; i < 300; i++)
		sched_yield();
	syscall(SYS_exit, 7);
	return NULL;
}

static long queue_rt(pid_t pid, int sig, int v)
{
	union sigval sv = { .sival_int = v };
	return E(sigqueue(pid, sig, sv));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("start: SigQ %d\n", sigq(0));

	/* 1. a signal pending at the exit: the child queues a blocked SIGRTMIN to itself */
	pid_t c = fork();
	if (c == 0) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGRTMIN);
		sigprocmask(SIG_BLOCK, &s, NULL);
		queue_rt(getpid(), SIGRTMIN, 1);
		_exit(0);
	}
	wait_zombie(c);
	int q1 = sigq(0), qz = sigq(c);
	int st = reap(c);
	printf("pending at exit: SigQ %d, the zombie's SigQ %d; reaped status %d, SigQ %d\n", q1, qz, st, sigq(0));

	/* 2. a zombie after exit_group (_exit): sigqueue, kill, tgkill */
	c = fork();
	if (c == 0)
		_exit(3);
	wait_zombie(c);
	long r1 = queue_rt(c, SIGRTMIN, 2);
	long r2 = E(kill(c, SIGUSR1));
	long r3 = E(syscall(SYS_tgkill, c, c, SIGRTMIN + 1));
	long r4 = E(kill(c, 0));
	q1 = sigq(0);
	qz = sigq(c);
	st = reap(c);
	printf("exit_group zombie: sigqueue %s kill %s tgkill %s probe %s, SigQ %d (zombie's %d); reaped %d, SigQ %d, kill %s\n",
	       res(r1), res(r2), res(r3), res(r4), q1, qz, WEXITSTATUS(st), sigq(0), res(E(kill(c, SIGUSR1))));

	/*
	 * 3. a zombie whose only thread left by exit(2): 3.14 never sets SIGNAL_GROUP_EXIT for it and
	 * queues; v6.12's synchronize_group_exit set it at the exit and the signals are dropped
	 */
	c = fork();
	if (c == 0)
		syscall(SYS_exit, 4);
	wait_zombie(c);
	r1 = queue_rt(c, SIGRTMIN, 3);
	r2 = E(kill(c, SIGUSR1));
	q1 = sigq(0);
	st = reap(c);
	printf("exit(2) zombie: sigqueue %s kill %s, SigQ %d; reaped %d, SigQ %d\n", res(r1), res(r2), q1, WEXITSTATUS(st), sigq(0));

	/* 4. a zombie killed by SIGTERM: the SIGTERM's own entry stays on shared_pending */
	int p[2];
	c = fork_parked(p);
	if (c < 0)
		return 1;
	r1 = E(kill(c, SIGTERM));
	wait_zombie(c);
	int q0 = sigq(0);
	r2 = queue_rt(c, SIGRTMIN, 5);
	q1 = sigq(0);
	st = reap(c);
	close(p[1]);
	printf("killed zombie: kill %s, SigQ %d, sigqueue %s, SigQ %d; reaped signal %d, SigQ %d\n", res(r1), q0, res(r2), q1,
	       WIFSIGNALED(st) ? WTERMSIG(st) : -1, sigq(0));

	/*
	 * 5. a zombie killed by SIGKILL from kill(): 3.14's __send_signal queues an entry for it (only
	 * SEND_SIG_FORCED skips one), counted until the reap; v6.12 allocates none for SIGKILL
	 */
	c = fork_parked(p);
	if (c < 0)
		return 1;
	r1 = E(kill(c, SIGKILL));
	wait_zombie(c);
	q0 = sigq(0);
	int qk = sigq(c);
	st = reap(c);
	close(p[1]);
	printf("SIGKILLed zombie: kill %s, SigQ %d (zombie's %d); reaped signal %d, SigQ %d\n", res(r1), q0, qk,
	       WIFSIGNALED(st) ? WTERMSIG(st) : -1, sigq(0));

	/*
	 * 6. tgkill(SIGKILL) to the leader of a zombie after exit_group: 3.14's prepare_signal has
	 * nothing to do after SIGNAL_GROUP_EXIT and lets it through, so __send_signal queues an entry
	 * on the leader's own list (SI_TKILL, not SEND_SIG_FORCED); v6.12 drops it
	 */
	c = fork();
	if (c == 0)
		_exit(6);
	wait_zombie(c);
	r1 = E(syscall(SYS_tgkill, c, c, SIGKILL));
	q0 = sigq(0);
	qk = sigq(c);
	st = reap(c);
	printf("tgkill SIGKILL to an exit_group zombie: %s, SigQ %d (zombie's %d); reaped %d, SigQ %d\n", res(r1), q0, qk,
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1, sigq(0));

	/*
	 * 7. every thread leaves by exit(2), the leader first (5), then the other (7): 3.14 sets no
	 * SIGNAL_GROUP_EXIT, so the zombie queues and wait_task_zombie reports the leader's exit_code;
	 * v6.12's synchronize_group_exit sets the flag with the last thread's code: dropped, 7
	 */
	c = fork();
	if (c == 0) {
		pthread_t th;
		if (pthread_create(&th, NULL, late_exit, NULL) != 0)
			_exit(99);
		syscall(SYS_exit, 5);
	}
	wait_zombie(c);
	r1 = queue_rt(c, SIGRTMIN, 7);
	q1 = sigq(0);
	st = reap(c);
	printf("leader's exit(2) then the last thread's: sigqueue %s, SigQ %d; reaped %d, SigQ %d\n", res(r1), q1,
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1, sigq(0));
	return 0;
}
