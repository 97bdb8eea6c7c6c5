/*
 * The syscalls one era's kernel has and the other lacks, and the scheduler calls of a one-CPU
 * board (kernel-model/exec/syscall-era.ts, sched-calls.ts, rseq.ts, clone3.ts): each number
 * 3.14 lacks called by syscall() (3.14: ENOSYS; v6.12: the call's answer), pselect6_time64's
 * and ppoll_time64's timeouts, access/faccessat2's checks, clone's flag checks (raw 120), then
 * sched_getaffinity and getcpu, glibc's rseq registration (__rseq_size, the area's cpu_id,
 * sched_getcpu) and rseq's errors, membarrier, clone3 (its argument checks, a fork-like child,
 * CLONE_CLEAR_SIGHAND, a thread made by clone3 itself) and a pthread (glibc 2.36 makes it with
 * clone on ARM: there is no clone3 wrapper for ARM in that glibc).
 * tools/unicorn/eracalls.test.ts runs it in both eras.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <linux/futex.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <sys/select.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern const unsigned int __rseq_size;
extern const ptrdiff_t __rseq_offset;

#define RSEQ_SIG 0xe7f5def3u
#define CLONE_CLEAR_SIGHAND_HI 1u /* 1ULL << 32 */

struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

struct kts64 {
	int64_t sec;
	int32_t nsec, pad;
};

/* the answer as text: the errno's name, else the number (several per printf: a ring of buffers) */
static const char *res(long r)
{
	static char buf[16][24];
	static unsigned n;
	if (r < 0) return strerrorname_np(errno);
	char *b = buf[n++ % 16];
	snprintf(b, sizeof buf[0], "%ld", r);
	return b;
}

/* the calls whose order matters are made before the printf that shows them (argument order is unspecified) */

/* the calls 3.14's table lacks, with arguments whose v6.12 answer is fixed */
static void era_numbers(void)
{
	char buf[256];
	struct kts64 ts = { 0, 1000, 0 };
	uint64_t set = 0;
	int word = 0;
	printf("renameat2 382: %s\n", res(syscall(382, AT_FDCWD, "/tmp/none", AT_FDCWD, "/tmp/x", 0)));
	printf("getrandom 384: %s\n", res(syscall(384, buf, 0, 0)));
	printf("membarrier 389: %s\n", res(syscall(389, 0, 0, 0)));
	printf("statx 397: %s\n", res(syscall(397, AT_FDCWD, "/", 0, 0x7ff, buf)));
	printf("rseq 398 (NULL): %s\n", res(syscall(398, NULL, 32, 0, RSEQ_SIG)));
	printf("clock_gettime64 403: %s\n", res(syscall(403, CLOCK_MONOTONIC, &ts)));
	ts.sec = 0;
	ts.nsec = 1000;
	printf("clock_nanosleep_time64 407: %s\n", res(syscall(407, CLOCK_MONOTONIC, 0, &ts, NULL)));
	/* v6.12: no fds, a 1 us timeout: 0 (time64_checks below) */
	printf("pselect6_time64 413: %s\n", res(syscall(413, 0, NULL, NULL, NULL, &ts, NULL)));
	printf("ppoll_time64 414: %s\n", res(syscall(414, NULL, 0, &ts, NULL, 8)));
	ts.sec = 0;
	ts.nsec = 0;
	printf("rt_sigtimedwait_time64 421: %s\n", res(syscall(421, &set, NULL, &ts, 8)));
	printf("futex_time64 422: %s\n", res(syscall(422, &word, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0)));
	printf("clone3 435 (size 0): %s\n", res(syscall(435, NULL, 0)));
	printf("faccessat2 439: %s\n", res(syscall(439, AT_FDCWD, "/", F_OK, 0)));
	printf("fchmodat2 452: %s\n", res(syscall(452, AT_FDCWD, "/tmp/none", 0600, 0)));
}

/*
 * pselect6_time64 and ppoll_time64 (struct __kernel_timespec): a readable pipe, an empty one
 * with a 1 ms timeout, the timeout's checks (tv_nsec 1e9, tv_sec -1: EINVAL), the padding word
 * above tv_nsec (dropped on 32-bit: get_timespec64), a bad pointer (EFAULT)
 */
static void time64_checks(void)
{
	int p[2], q[2];
	struct kts64 ts = { 0, 0, 0 };
	fd_set rs;
	struct pollfd pf;
	if (pipe(p) != 0 || pipe(q) != 0 || write(p[1], "x", 1) != 1) return;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	FD_SET(q[0], &rs);
	long r = syscall(413, q[0] + 1, &rs, NULL, NULL, &ts, NULL);
	printf("pselect6_time64: readable %s, p %d q %d", res(r), FD_ISSET(p[0], &rs) != 0, FD_ISSET(q[0], &rs) != 0);
	FD_ZERO(&rs);
	FD_SET(q[0], &rs);
	ts.nsec = 1000000;
	r = syscall(413, q[0] + 1, &rs, NULL, NULL, &ts, NULL);
	printf(", empty 1 ms %s", res(r));
	ts.nsec = 1000000000;
	r = syscall(413, 0, NULL, NULL, NULL, &ts, NULL);
	printf(", nsec 1e9 %s", res(r));
	ts.sec = -1;
	ts.nsec = 0;
	r = syscall(413, 0, NULL, NULL, NULL, &ts, NULL);
	printf(", sec -1 %s", res(r));
	ts.sec = 0;
	ts.pad = -1;
	r = syscall(413, 0, NULL, NULL, NULL, &ts, NULL);
	printf(", padding %s", res(r));
	r = syscall(413, 0, NULL, NULL, NULL, (void *)16, NULL);
	printf(", bad pointer %s\n", res(r));
	ts.pad = 0;
	pf.fd = p[0];
	pf.events = POLLIN;
	pf.revents = 0;
	r = syscall(414, &pf, 1, &ts, NULL, 8);
	printf("ppoll_time64: readable %s revents %d", res(r), pf.revents);
	pf.fd = q[0];
	pf.revents = 0;
	ts.nsec = 1000000;
	r = syscall(414, &pf, 1, &ts, NULL, 8);
	printf(", empty 1 ms %s revents %d", res(r), pf.revents);
	ts.nsec = 1000000000;
	r = syscall(414, &pf, 1, &ts, NULL, 8);
	printf(", nsec 1e9 %s", res(r));
	ts.sec = -1;
	ts.nsec = 0;
	r = syscall(414, &pf, 1, &ts, NULL, 8);
	printf(", sec -1 %s", res(r));
	ts.sec = 0;
	ts.pad = -1;
	r = syscall(414, &pf, 1, &ts, NULL, 8);
	printf(", padding %s", res(r));
	r = syscall(414, &pf, 1, (void *)16, NULL, 8);
	printf(", bad pointer %s\n", res(r));
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/*
 * access's mode check and override creds (both eras) and faccessat2's flags (v6.12): a mode
 * bit above X_OK, an unknown flag, a dangling link with and without AT_SYMLINK_NOFOLLOW, ""
 * with and without AT_EMPTY_PATH (a directory fd, a pipe), and a root process without
 * CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH in its effective set on a mode-000 file: access checks
 * the permitted set (override creds), AT_EACCESS the effective one
 */
struct cap_hdr { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

/* a result kept with its errno (-errno), for several results shown by one printf */
static long sv(long r)
{
	return r < 0 ? -errno : r;
}

static const char *rs(long r)
{
	static char buf[8][24];
	static unsigned n;
	if (r < 0) return strerrorname_np((int)-r);
	char *b = buf[n++ % 8];
	snprintf(b, sizeof buf[0], "%ld", r);
	return b;
}

static void access_checks(void)
{
	int d = open("/tmp", O_RDONLY | O_DIRECTORY), p[2];
	long r1, r2, r3, r4;
	if (d < 0 || pipe(p) != 0 || symlink("/tmp/no-such-target", "/tmp/dangle") != 0) return;
	r1 = sv(syscall(SYS_access, "/", 8));
	r2 = sv(syscall(334, AT_FDCWD, "/", 8));
	printf("access mode 8: %s, faccessat mode 8: %s\n", rs(r1), rs(r2));
	r1 = sv(syscall(439, AT_FDCWD, "/", R_OK, 0x8000));
	r2 = sv(syscall(439, AT_FDCWD, "/", 8, 0));
	r3 = sv(syscall(439, AT_FDCWD, "/tmp/dangle", F_OK, 0));
	r4 = sv(syscall(439, AT_FDCWD, "/tmp/dangle", F_OK, AT_SYMLINK_NOFOLLOW));
	printf("faccessat2: flag 0x8000 %s, mode 8 %s, dangling link %s, NOFOLLOW %s", rs(r1), rs(r2), rs(r3), rs(r4));
	r1 = sv(syscall(439, d, "", R_OK | W_OK | X_OK, 0));
	r2 = sv(syscall(439, d, "", R_OK | W_OK | X_OK, AT_EMPTY_PATH));
	r3 = sv(syscall(439, p[0], "", R_OK, AT_EMPTY_PATH));
	r4 = sv(syscall(439, 99, "", R_OK, AT_EMPTY_PATH));
	printf(", \"\" %s, EMPTY_PATH dir %s pipe %s fd 99 %s\n", rs(r1), rs(r2), rs(r3), rs(r4));
	close(p[0]);
	close(p[1]);
	close(d);
	unlink("/tmp/dangle");
	int f = open("/tmp/mode000", O_CREAT | O_WRONLY, 0);
	if (f < 0) return;
	close(f);
	struct cap_hdr h = { 0x20080522, 0 };
	struct cap_data c[2], c2[2];
	if (syscall(SYS_capget, &h, c) != 0)
		return;
	memcpy(c2, c, sizeof c);
	c2[0].effective &= ~((1u << 1) | (1u << 2)); /* CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH */
	r1 = sv(syscall(SYS_capset, &h, c2));
	r2 = sv(syscall(SYS_access, "/tmp/mode000", R_OK));
	r3 = sv(syscall(439, AT_FDCWD, "/tmp/mode000", R_OK, 0));
	r4 = sv(syscall(439, AT_FDCWD, "/tmp/mode000", R_OK, AT_EACCESS));
	long r5 = sv(open("/tmp/mode000", O_RDONLY));
	syscall(SYS_capset, &h, c);
	long r6 = sv(syscall(439, AT_FDCWD, "/tmp/mode000", R_OK, AT_EACCESS));
	printf("mode 000 without DAC caps (capset %s): access %s, faccessat2 %s, AT_EACCESS %s, open %s; caps back: AT_EACCESS %s\n",
	       rs(r1), rs(r2), rs(r3), rs(r4), rs(r5), rs(r6));
	if (r5 >= 0) close(r5);
	unlink("/tmp/mode000");
}

/*
 * copy_process's flag checks for plain clone (120), raw: a refused combination answers EINVAL;
 * one the era's kernel takes makes a child that exits 3 at once (reaped here)
 */
static const char *clone_try(unsigned long flags)
{
	static char buf[8][24];
	static unsigned n;
	int ptid = 0, st = 0;
	long r = sv(syscall(120, flags, 0, &ptid, 0, 0));
	if (r == 0) _exit(3);
	if (r < 0) return strerrorname_np((int)-r);
	char *b = buf[n++ % 8];
	snprintf(b, sizeof buf[0], "child %d", waitpid((pid_t)r, &st, 0) == r && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return b;
}

static void clone_flag_checks(void)
{
	const char *a = clone_try(CLONE_VM | CLONE_THREAD);
	const char *b = clone_try(CLONE_SIGHAND | SIGCHLD);
	const char *c = clone_try(CLONE_NEWNS | CLONE_FS | SIGCHLD);
	const char *d = clone_try(CLONE_NEWUSER | CLONE_FS | SIGCHLD);
	printf("clone: THREAD without SIGHAND %s, SIGHAND without VM %s, NEWNS|FS %s, NEWUSER|FS %s\n", a, b, c, d);
	a = clone_try(CLONE_VM | CLONE_SIGHAND | CLONE_NEWPID | SIGCHLD);
	b = clone_try(CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_NEWPID);
	c = clone_try(0x1000 /* CLONE_PIDFD */ | 0x400000 /* CLONE_DETACHED */ | SIGCHLD);
	d = clone_try(0x1000 /* CLONE_PIDFD */ | CLONE_PARENT_SETTID | SIGCHLD);
	const char *e = clone_try(SIGCHLD);
	printf("clone: SIGHAND|NEWPID %s, THREAD|NEWPID %s, PIDFD|DETACHED %s, PIDFD|PARENT_SETTID %s, SIGCHLD %s\n", a, b, c, d, e);
}

static void affinity(void)
{
	unsigned char m[128];
	cpu_set_t cs;
	long r;
	memset(m, 0xee, sizeof m);
	r = syscall(SYS_sched_getaffinity, 0, sizeof m, m);
	printf("sched_getaffinity(0, 128): %s, bytes %02x %02x %02x %02x, next %02x\n", res(r), m[0], m[1], m[2], m[3], m[4]);
	printf("sched_getaffinity len 0: %s, len 6: %s, len 2^29: %s\n", res(syscall(SYS_sched_getaffinity, 0, 0, m)),
	       res(syscall(SYS_sched_getaffinity, 0, 6, m)), res(syscall(SYS_sched_getaffinity, 0, 1u << 29, m)));
	printf("sched_getaffinity len 4: %s, own pid: %s, pid 99999: %s, pid -1: %s, bad pointer: %s\n",
	       res(syscall(SYS_sched_getaffinity, 0, 4, m)), res(syscall(SYS_sched_getaffinity, getpid(), 4, m)),
	       res(syscall(SYS_sched_getaffinity, 99999, 4, m)), res(syscall(SYS_sched_getaffinity, -1, 4, m)),
	       res(syscall(SYS_sched_getaffinity, 0, 4, (void *)16)));
	r = sched_getaffinity(0, sizeof cs, &cs);
	printf("glibc sched_getaffinity: %ld, CPU_COUNT %d, CPU 0 %d\n", r, CPU_COUNT(&cs), CPU_ISSET(0, &cs) ? 1 : 0);
	unsigned cpu = 7, node = 7;
	r = syscall(SYS_getcpu, &cpu, &node, NULL);
	printf("getcpu: %s cpu %u node %u, NULLs: %s, bad pointer: %s\n", res(r), cpu, node, res(syscall(SYS_getcpu, NULL, NULL, NULL)),
	       res(syscall(SYS_getcpu, (void *)16, &node, NULL)));
}

struct rseq_area {
	uint32_t cpu_id_start, cpu_id;
	uint64_t rseq_cs;
	uint32_t flags, node_id, mm_cid;
} __attribute__((aligned(32)));

static struct rseq_area *glibc_area(void)
{
	return (struct rseq_area *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

static void *rseq_thread(void *arg)
{
	(void)arg;
	struct rseq_area *a = glibc_area();
	printf("pthread: cpu_id %d, sched_getcpu %d, rseq again: %s\n", (int)a->cpu_id, sched_getcpu(),
	       res(syscall(SYS_rseq, a, 32, 0, RSEQ_SIG)));
	return NULL;
}

static struct rseq_area mine[2];

static void rseq_checks(void)
{
	struct rseq_area *g = glibc_area();
	struct rseq_area *m = &mine[0];
	printf("__rseq_size %u, cpu_id %d, cpu_id_start %u, sched_getcpu %d\n", __rseq_size, (int)g->cpu_id, g->cpu_id_start, sched_getcpu());
	/* glibc's registration: the same again EBUSY, another address EINVAL, another signature EPERM */
	printf("rseq same: %s, other area: %s, other sig: %s, flags 2: %s\n", res(syscall(SYS_rseq, g, 32, 0, RSEQ_SIG)),
	       res(syscall(SYS_rseq, m, 32, 0, RSEQ_SIG)), res(syscall(SYS_rseq, g, 32, 0, 0x1234)), res(syscall(SYS_rseq, g, 32, 2, RSEQ_SIG)));
	printf("unregister: other area %s, len 64 %s, sig %s, flags 3 %s\n", res(syscall(SYS_rseq, m, 32, 1, RSEQ_SIG)),
	       res(syscall(SYS_rseq, g, 64, 1, RSEQ_SIG)), res(syscall(SYS_rseq, g, 32, 1, 0x1234)), res(syscall(SYS_rseq, g, 32, 3, RSEQ_SIG)));
	const char *u = res(syscall(SYS_rseq, g, 32, 1, RSEQ_SIG));
	printf("unregister: %s, cpu_id %d, cpu_id_start %u\n", u, (int)g->cpu_id, g->cpu_id_start);
	u = res(syscall(SYS_rseq, g, 32, 1, RSEQ_SIG));
	printf("unregister again: %s, sched_getcpu %d\n", u, sched_getcpu());
	/* a registration of its own: the checks of alignment, length and range, then the fields written */
	m->cpu_id = 0x5555;
	m->cpu_id_start = 0x5555;
	m->node_id = 0x5555;
	m->mm_cid = 0x5555;
	printf("register: misaligned %s, len 16 %s, kernel address %s\n", res(syscall(SYS_rseq, (char *)m + 4, 32, 0, RSEQ_SIG)),
	       res(syscall(SYS_rseq, m, 16, 0, RSEQ_SIG)), res(syscall(SYS_rseq, (void *)0xffffffe0u, 32, 0, RSEQ_SIG)));
	long r = syscall(SYS_rseq, m, 32, 0, RSEQ_SIG);
	printf("register mine: %s, cpu_id_start %x cpu_id %x node_id %x mm_cid %x\n", res(r), m->cpu_id_start, m->cpu_id, m->node_id, m->mm_cid);
	pid_t c = fork();
	if (c == 0) {
		/* rseq_fork: a fork child keeps the registration */
		printf("fork child: rseq mine %s\n", res(syscall(SYS_rseq, m, 32, 0, RSEQ_SIG)));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	const char *glibc_while_mine = res(syscall(SYS_rseq, g, 32, 0, RSEQ_SIG));
	u = res(syscall(SYS_rseq, m, 32, 1, RSEQ_SIG));
	const char *again = res(syscall(SYS_rseq, g, 32, 0, RSEQ_SIG));
	printf("glibc's while mine is registered: %s; unregister mine: %s; glibc's again: %s, cpu_id %d, mine's cpu_id %d\n", glibc_while_mine, u,
	       again, (int)g->cpu_id, (int)m->cpu_id);
	pthread_t th;
	pthread_create(&th, NULL, rseq_thread, NULL);
	pthread_join(th, NULL);
}

/*
 * long rseq_cs_run(uint32_t *rseq_cs, struct rseq_cs_desc *cs, pid_t pid, int sig): a critical
 * section whose kill(pid, sig) has the handler run at the svc's return, inside the section:
 * 0 when it commits, 1 when the kernel aborted it to rseq_cs_abort (after the signature word)
 */
__asm__(".text\n.align 2\n.global rseq_cs_run\n.type rseq_cs_run, %function\n.arm\n"
	"rseq_cs_run:\n"
	"	push {r4, r7, lr}\n"
	"	mov r4, r0\n"
	"	str r1, [r4]\n"
	".global rseq_cs_start\n"
	"rseq_cs_start:\n"
	"	mov r0, r2\n"
	"	mov r1, r3\n"
	"	movw r7, #37\n"
	"	svc 0\n"
	"	mov r0, #0\n"
	".global rseq_cs_post_commit\n"
	"rseq_cs_post_commit:\n"
	"	b 2f\n"
	"	.word 0xe7f5def3\n"
	".global rseq_cs_abort\n"
	"rseq_cs_abort:\n"
	"	mov r0, #1\n"
	"2:	mov r1, #0\n"
	"	str r1, [r4]\n"
	"	pop {r4, r7, pc}\n"
	".size rseq_cs_run, .-rseq_cs_run\n.thumb\n");
long rseq_cs_run(volatile uint64_t *, void *, pid_t, int);
extern char rseq_cs_start[], rseq_cs_post_commit[], rseq_cs_abort[];

struct rseq_cs_desc {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
} __attribute__((aligned(32)));

static volatile int usr1_count;
static void count_usr1(int s)
{
	(void)s;
	usr1_count++;
}

static void rseq_abort_checks(void)
{
	static struct rseq_cs_desc cs;
	struct rseq_area *g = glibc_area();
	cs.start_ip = (uintptr_t)rseq_cs_start;
	cs.post_commit_offset = (uintptr_t)rseq_cs_post_commit - (uintptr_t)rseq_cs_start;
	cs.abort_ip = (uintptr_t)rseq_cs_abort;
	signal(SIGUSR1, count_usr1);
	long quiet = rseq_cs_run(&g->rseq_cs, &cs, getpid(), 0);
	long sig = rseq_cs_run(&g->rseq_cs, &cs, getpid(), SIGUSR1);
	printf("rseq critical section: no signal %s, a signal inside %s (handler ran %d), rseq_cs after %d\n", quiet ? "aborted" : "committed",
	       sig ? "aborted" : "committed", usr1_count, g->rseq_cs != 0);
	/* a registration whose signature is not the word before abort_ip: force_sigsegv */
	pid_t c = fork();
	if (c == 0) {
		syscall(SYS_rseq, g, 32, 1, RSEQ_SIG);
		syscall(SYS_rseq, &mine[1], 32, 0, 0x12345678);
		rseq_cs_run(&mine[1].rseq_cs, &cs, getpid(), SIGUSR1);
		_exit(0);
	}
	int st = 0;
	waitpid(c, &st, 0);
	printf("rseq bad signature: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void membarrier_checks(void)
{
	printf("membarrier: QUERY %s, GLOBAL %s, GLOBAL_EXPEDITED %s, bad cmd %s, flags %s\n", res(syscall(SYS_membarrier, 0, 0, 0)),
	       res(syscall(SYS_membarrier, 1, 0, 0)), res(syscall(SYS_membarrier, 2, 0, 0)), res(syscall(SYS_membarrier, 1024, 0, 0)),
	       res(syscall(SYS_membarrier, 8, 1, 0)));
	printf("membarrier: PRIVATE_EXPEDITED unregistered %s, RSEQ with FLAG_CPU %s, RSEQ flags 2 %s\n", res(syscall(SYS_membarrier, 8, 0, 0)),
	       res(syscall(SYS_membarrier, 128, 1, 0)), res(syscall(SYS_membarrier, 128, 2, 0)));
	const char *r1 = res(syscall(SYS_membarrier, 16, 0, 0));
	const char *r2 = res(syscall(SYS_membarrier, 16, 0, 0));
	const char *r3 = res(syscall(SYS_membarrier, 8, 0, 0));
	const char *r4 = res(syscall(SYS_membarrier, 256, 0, 0));
	const char *r5 = res(syscall(SYS_membarrier, 128, 1, 0));
	const char *r6 = res(syscall(SYS_membarrier, 512, 0, 0));
	printf("membarrier: REGISTER_PRIVATE_EXPEDITED %s twice %s, PRIVATE_EXPEDITED %s, REGISTER_RSEQ %s, RSEQ with FLAG_CPU %s, GET_REGISTRATIONS %s\n",
	       r1, r2, r3, r4, r5, r6);
	pid_t c = fork();
	if (c == 0) {
		printf("fork child: GET_REGISTRATIONS %s, PRIVATE_EXPEDITED %s\n", res(syscall(SYS_membarrier, 512, 0, 0)), res(syscall(SYS_membarrier, 8, 0, 0)));
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

/* long raw_clone3(struct clone_args *, size_t, void (*fn)(void)): fn runs on the child's stack, then exit(0) */
__asm__(".text\n.align 2\n.global raw_clone3\n.type raw_clone3, %function\n.arm\n"
	"raw_clone3:\n"
	"	push {r4, r7, lr}\n"
	"	mov r4, r2\n"
	"	movw r7, #435\n"
	"	svc 0\n"
	"	cmp r0, #0\n"
	"	popne {r4, r7, pc}\n"
	"	blx r4\n"
	"	mov r0, #0\n"
	"	mov r7, #1\n"
	"	svc 0\n"
	".size raw_clone3, .-raw_clone3\n.thumb\n");
long raw_clone3(struct clone_args *, size_t, void (*)(void));

static volatile long thread_tid;
static volatile uintptr_t thread_sp;
static void clone3_thread_fn(void)
{
	volatile int local = 0;
	thread_sp = (uintptr_t)&local;
	thread_tid = syscall(SYS_gettid);
}

static void on_usr1(int s)
{
	(void)s;
}

static void clone3_checks(void)
{
	struct clone_args ca;
	unsigned char big[96];
	static unsigned char stack[65536] __attribute__((aligned(16)));
	const uintptr_t lo = (uintptr_t)stack, hi = lo + sizeof stack;
	memset(&ca, 0, sizeof ca);
	memset(big, 0, sizeof big);
	big[90] = 1;
	printf("clone3: size 4097 %s, size 63 %s, NULL %s, nonzero tail %s\n", res(syscall(SYS_clone3, &ca, 4097)), res(syscall(SYS_clone3, &ca, 63)),
	       res(syscall(SYS_clone3, NULL, 64)), res(syscall(SYS_clone3, big, 96)));
	ca.exit_signal = 65;
	printf("clone3: exit_signal 65 %s", res(syscall(SYS_clone3, &ca, 64)));
	ca.exit_signal = SIGCHLD;
	ca.flags = SIGCHLD;
	printf(", CSIGNAL in flags %s", res(syscall(SYS_clone3, &ca, 64)));
	ca.flags = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD;
	printf(", thread with exit_signal %s", res(syscall(SYS_clone3, &ca, 64)));
	ca.flags = 0;
	ca.stack = (uintptr_t)stack;
	printf(", stack without size %s", res(syscall(SYS_clone3, &ca, 64)));
	ca.stack = 0;
	ca.stack_size = 4096;
	printf(", size without stack %s", res(syscall(SYS_clone3, &ca, 64)));
	ca.stack_size = 0;
	ca.flags = (uint64_t)CLONE_CLEAR_SIGHAND_HI << 32 | CLONE_SIGHAND | CLONE_VM;
	printf(", SIGHAND|CLEAR_SIGHAND %s", res(syscall(SYS_clone3, &ca, 64)));
	ca.flags = (uint64_t)4 << 32;
	printf(", unknown flag %s\n", res(syscall(SYS_clone3, &ca, 64)));

	/* a fork-like child: PARENT_SETTID, SIGCHLD; the handlers cleared with CLONE_CLEAR_SIGHAND */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGUSR2, SIG_IGN);
	pid_t ptid = 0;
	for (int clear = 0; clear < 2; clear++) {
		memset(&ca, 0, sizeof ca);
		ca.flags = CLONE_PARENT_SETTID | (clear ? (uint64_t)CLONE_CLEAR_SIGHAND_HI << 32 : 0);
		ca.parent_tid = (uintptr_t)&ptid;
		ca.exit_signal = SIGCHLD;
		long r = syscall(SYS_clone3, &ca, sizeof ca);
		const char *what = r > 0 ? "pid" : res(r);
		if (r == 0) {
			struct sigaction o1, o2;
			sigaction(SIGUSR1, NULL, &o1);
			sigaction(SIGUSR2, NULL, &o2);
			printf("clone3 child%s: SIGUSR1 %s, SIGUSR2 %s\n", clear ? " (CLEAR_SIGHAND)" : "", o1.sa_handler == SIG_DFL ? "default" : "handler",
			       o2.sa_handler == SIG_IGN ? "ignored" : "other");
			_exit(7);
		}
		int st = 0;
		pid_t w = waitpid(r, &st, 0);
		printf("clone3 fork: %s, parent_tid ok %d, waitpid ok %d, status %d\n", what, ptid == r, w == r, WEXITSTATUS(st));
	}

	/* a thread made by clone3 itself: the child runs on the given stack; CHILD_CLEARTID wakes the join */
	static volatile int ctid;
	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	ca.parent_tid = (uintptr_t)&ctid;
	ca.child_tid = (uintptr_t)&ctid;
	ca.stack = (uintptr_t)stack;
	ca.stack_size = sizeof stack;
	long tid = raw_clone3(&ca, sizeof ca, clone3_thread_fn);
	int v;
	while ((v = ctid) != 0) syscall(SYS_futex, &ctid, FUTEX_WAIT_PRIVATE, v, NULL);
	/* clone3_stack_valid: the child starts at stack + stack_size (the stack grows down) */
	printf("clone3 thread: %s, ran with its own tid %d, on the given stack's top half %d\n", tid > 0 ? "tid" : strerrorname_np((int)-tid),
	       tid > 0 && thread_tid == tid, thread_sp > lo + sizeof stack / 2 && thread_sp < hi);
}

static void *plain_thread(void *arg)
{
	return arg;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	era_numbers();
	time64_checks();
	access_checks();
	clone_flag_checks();
	affinity();
	rseq_checks();
	rseq_abort_checks();
	membarrier_checks();
	clone3_checks();
	pthread_t th;
	void *ret = NULL;
	printf("pthread_create: %d", pthread_create(&th, NULL, plain_thread, (void *)42));
	pthread_join(th, &ret);
	printf(", joined %ld\n", (long)ret);
	return 0;
}
