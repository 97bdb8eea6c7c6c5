/*
 * task->comm and /proc/<pid>/root from C (fs/proc/base.c comm_show, comm_write,
 * proc_root_link, proc_exe_link; fs/proc/array.c's Name: line; kernel/sys.c PR_SET_NAME and
 * PR_GET_NAME; fs/exec.c's comm from kbasename(bprm->filename)): the comm after exec, prctl
 * and writes of /proc/self/comm (15 bytes, the newline kept, status escaping it), a fork
 * child's copy and its refused write of its parent's comm (-EINVAL; a uid-1000 child: EACCES
 * at the open), a pthread's own comm (clone copies the creator's; its prctl and a write of
 * task/<tid>/comm rename it alone; /proc/thread-self/comm in v3.17+), /proc/self/root, a
 * zombie's cwd/root/exe (found, readlink ENOENT), then an execve through a long-named symbolic
 * link (comm: the link's base name cut to 15; exe: the file); last, proc_fd_access_allowed's
 * ptrace_may_access before those links: another uid, a process made non-dumpable by setuid or
 * PR_SET_DUMPABLE, a zombie, and root without CAP_SYS_PTRACE in its effective set (the eras
 * differ on the last two).
 * Usage: proccomm (run as /bin/proccomm from a rootfs)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

/* a file's text with newlines shown as "|" (the comm's own newline visible) */
static void text(const char *what, const char *path)
{
	char b[64];
	int fd = open(path, O_RDONLY), n, i;
	if (fd < 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n < 0) {
		printf("%s: read %s\n", what, ename(errno));
		return;
	}
	for (i = 0; i < n; i++)
		if (b[i] == '\n')
			b[i] = '|';
	b[n] = 0;
	printf("%s: '%s'\n", what, b);
}

/* the Name: line of a status file */
static void name_line(const char *what, const char *path)
{
	char b[512];
	int fd = open(path, O_RDONLY), n;
	char *l, *e;
	if (fd < 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	b[n > 0 ? n : 0] = 0;
	l = strstr(b, "Name:\t");
	if (l == NULL) {
		printf("%s: no Name\n", what);
		return;
	}
	e = strchr(l, '\n');
	if (e)
		*e = 0;
	printf("%s: %s\n", what, l + 6);
}

static void getname(const char *what)
{
	char n[17];
	memset(n, 'X', sizeof(n));
	n[16] = 0;
	if (prctl(PR_GET_NAME, n) != 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	for (int i = 0; i < 16 && n[i]; i++)
		if (n[i] == '\n')
			n[i] = '|';
	printf("%s: '%s'\n", what, n);
}

/* write(2) of a text to a path: the answer, or open's error */
static void put_text(const char *what, const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0) {
		printf("%s: open %s\n", what, ename(errno));
		return;
	}
	CHK(what, write(fd, s, strlen(s)));
	close(fd);
}

static void link_of(const char *what, const char *path)
{
	char b[128];
	ssize_t n = readlink(path, b, sizeof(b) - 1);
	if (n < 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	b[n] = 0;
	printf("%s: %s\n", what, b);
}

/* capset: the effective set without CAP_SYS_PTRACE (19), the permitted set kept */
static void drop_ptrace_effective(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	syscall(SYS_capget, &h, d);
	d[0].effective &= ~(1u << 19);
	CHK("capset without CAP_SYS_PTRACE", syscall(SYS_capset, &h, d));
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;
static pid_t worker_tid;

static void wait_stage(int s)
{
	pthread_mutex_lock(&mu);
	while (stage < s)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void set_stage(int s)
{
	pthread_mutex_lock(&mu);
	stage = s;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void *sub(void *arg)
{
	(void)arg;
	getname("subthread: PR_GET_NAME");
	return NULL;
}

static void *worker(void *arg)
{
	char path[64];
	pthread_t st;
	pid_t c;
	(void)arg;
	worker_tid = syscall(SYS_gettid);
	/* clone copied the creator's comm */
	getname("thread: PR_GET_NAME at start");
	prctl(PR_SET_NAME, "worker");
	getname("thread: after its PR_SET_NAME");
	/* a thread it creates, and a child it forks, start with its comm (not the leader's) */
	pthread_create(&st, NULL, sub, NULL);
	pthread_join(st, NULL);
	fflush(stdout);
	c = fork();
	if (c == 0) {
		text("thread's fork child: /proc/self/comm", "/proc/self/comm");
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	text("thread: /proc/thread-self/comm", "/proc/thread-self/comm");
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", worker_tid);
	text("thread: task/<tid>/comm", path);
	set_stage(1);
	wait_stage(2);
	/* the main thread renamed it through task/<tid>/comm */
	getname("thread: PR_GET_NAME after main's write");
	set_stage(3);
	return NULL;
}

int main(int argc, char **argv)
{
	char path[96];
	pid_t c;
	int st;

	if (argc > 1 && strcmp(argv[1], "dumpable") == 0) {
		CHK("exec'd by the non-dumpable one: PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "reexec") == 0) {
		text("reexec: /proc/self/comm", "/proc/self/comm");
		link_of("reexec: exe", "/proc/self/exe");
		return 0;
	}
	printf("-- exec and prctl\n");
	text("/proc/self/comm", "/proc/self/comm");
	name_line("status Name", "/proc/self/status");
	getname("PR_GET_NAME");
	CHK("PR_SET_NAME of 20 bytes", prctl(PR_SET_NAME, "a-twenty-byte-name!!"));
	text("/proc/self/comm", "/proc/self/comm");
	getname("PR_GET_NAME");
	printf("-- writes of /proc/self/comm\n");
	put_text("write 'viawrite\\n'", "/proc/self/comm", "viawrite\n");
	text("/proc/self/comm", "/proc/self/comm");
	name_line("status Name", "/proc/self/status");
	getname("PR_GET_NAME");
	put_text("write 26 bytes", "/proc/self/comm", "abcdefghijklmnopqrstuvwxyz");
	text("/proc/self/comm", "/proc/self/comm");
	put_text("write 'back\\\\slash'", "/proc/self/comm", "back\\slash");
	name_line("status Name", "/proc/self/status");
	/* the position stays where it was: a read on the same fd starts at 0 */
	{
		char b[32];
		int fd = open("/proc/self/comm", O_RDWR), n;
		write(fd, "rw", 2);
		n = read(fd, b, sizeof(b) - 1);
		b[n > 0 ? n - 1 : 0] = 0;
		printf("O_RDWR: write then read: '%s'\n", b);
		close(fd);
	}
	prctl(PR_SET_NAME, "parent");
	printf("-- fork\n");
	fflush(stdout);
	c = fork();
	if (c == 0) {
		snprintf(path, sizeof(path), "/proc/%d/comm", getppid());
		text("child: /proc/self/comm", "/proc/self/comm");
		/* root opens it; comm_write refuses another thread group */
		put_text("child: write the parent's comm", path, "hijack");
		put_text("child: write its own", "/proc/self/comm", "child");
		fflush(stdout);
		if (fork() == 0) {
			setuid(1000);
			put_text("uid 1000: write the parent's comm", path, "x");
			text("uid 1000: read the parent's comm", path);
			fflush(stdout);
			_exit(0);
		}
		wait(NULL);
		_exit(0);
	}
	waitpid(c, &st, 0);
	text("parent: /proc/self/comm", "/proc/self/comm");
	printf("-- a thread\n");
	fflush(stdout);
	{
		pthread_t th;
		pthread_create(&th, NULL, worker, NULL);
		wait_stage(1);
		text("main: /proc/self/comm", "/proc/self/comm");
		getname("main: PR_GET_NAME");
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", worker_tid);
		text("main: task/<tid>/comm", path);
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", worker_tid);
		name_line("main: task/<tid>/status Name", path);
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", worker_tid);
		put_text("main: write task/<tid>/comm", path, "w2");
		fflush(stdout);
		set_stage(2);
		wait_stage(3);
		pthread_join(th, NULL);
		text("main: after the join, /proc/self/comm", "/proc/self/comm");
	}
	printf("-- root\n");
	link_of("/proc/self/root", "/proc/self/root");
	{
		struct stat s1, s2;
		printf("/proc/self/root/tmp is /tmp: %s\n", stat("/proc/self/root/tmp", &s1) == 0 && stat("/tmp", &s2) == 0 && s1.st_ino == s2.st_ino ? "yes" : "no");
	}
	printf("-- a zombie\n");
	fflush(stdout);
	c = fork();
	if (c == 0)
		_exit(3);
	{
		siginfo_t si;
		const char *links[] = { "cwd", "root", "exe" };
		waitid(P_PID, c, &si, WEXITED | WNOWAIT);
		for (int i = 0; i < 3; i++) {
			struct stat s;
			char what[32];
			snprintf(path, sizeof(path), "/proc/%d/%s", c, links[i]);
			printf("zombie %s: lstat %s", links[i], lstat(path, &s) == 0 && S_ISLNK(s.st_mode) ? "a link" : ename(errno));
			printf(", stat %s", stat(path, &s) == 0 ? "ok" : ename(errno));
			snprintf(what, sizeof(what), ", readlink");
			fflush(stdout);
			link_of(what, path);
		}
		snprintf(path, sizeof(path), "/proc/%d/comm", c);
		text("zombie comm", path);
		waitpid(c, NULL, 0);
		text("reaped comm", path);
	}
	printf("-- execve through a long-named link\n");
	fflush(stdout);
	CHK("symlink", symlink("/bin/proccomm", "/tmp/a-very-long-program-name"));
	fflush(stdout);
	c = fork();
	if (c == 0) {
		execl("/tmp/a-very-long-program-name", "x", "reexec", (char *)NULL);
		_exit(127);
	}
	waitpid(c, &st, 0);
	printf("reexec exited %d\n", WEXITSTATUS(st));
	printf("-- ptrace_may_access\n");
	fflush(stdout);
	{
		pid_t parent = getpid();
		c = fork();
		if (c == 0) {
			char pp[64];
			pid_t g;
			siginfo_t si;
			snprintf(pp, sizeof(pp), "/proc/%d/exe", parent);
			setuid(1000);
			/* another uid (root's process): refused before proc_exe_link */
			link_of("uid 1000: root's exe", pp);
			link_of("uid 1000: its own exe", "/proc/self/exe");
			/* commit_creds made it non-dumpable */
			CHK("uid 1000: PR_GET_DUMPABLE after setuid", prctl(PR_GET_DUMPABLE));
			fflush(stdout);
			g = fork();
			if (g == 0) {
				snprintf(pp, sizeof(pp), "/proc/%d/cwd", getppid());
				link_of("its child (uid 1000): the non-dumpable parent's cwd", pp);
				/* dup_mm copied mm->flags */
				CHK("its child: PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
				fflush(stdout);
				/* execve makes it SUID_DUMP_USER again (the euid is the uid) */
				execl("/bin/proccomm", "proccomm", "dumpable", (char *)NULL);
				_exit(127);
			}
			waitpid(g, NULL, 0);
			CHK("uid 1000: PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2));
			CHK("uid 1000: PR_SET_DUMPABLE 1", prctl(PR_SET_DUMPABLE, 1));
			fflush(stdout);
			g = fork();
			if (g == 0) {
				snprintf(pp, sizeof(pp), "/proc/%d/cwd", getppid());
				link_of("its child: the dumpable parent's cwd", pp);
				fflush(stdout);
				_exit(0);
			}
			waitpid(g, NULL, 0);
			/* a zombie of the same uid: 3.14 has no mm to call dumpable */
			g = fork();
			if (g == 0)
				_exit(0);
			waitid(P_PID, g, &si, WEXITED | WNOWAIT);
			snprintf(pp, sizeof(pp), "/proc/%d/exe", g);
			link_of("uid 1000: its zombie child's exe", pp);
			waitpid(g, NULL, 0);
			fflush(stdout);
			_exit(0);
		}
		waitpid(c, NULL, 0);
		c = fork();
		if (c == 0) {
			char pp[64];
			snprintf(pp, sizeof(pp), "/proc/%d/exe", parent);
			drop_ptrace_effective();
			/* the parent's permitted set within this one's permitted (3.14) / effective (v6.12) set? */
			link_of("root without CAP_SYS_PTRACE effective: the parent's exe", pp);
			fflush(stdout);
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	return 0;
}
