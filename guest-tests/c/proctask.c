/*
 * procfs's thread entries and /proc/<pid>/exe's d_path (fs/proc/base.c proc_task_lookup,
 * proc_task_readdir, tid_base_stuff, proc_pid_lookup; fs/proc/thread_self.c; proc_exe_link):
 * /proc/self/task with one thread and with a second one (pthread_create: clone with
 * CLONE_THREAD), task/<tid>/status of each (Pid, State), /proc/<tid> found though not listed,
 * /proc/thread-self (v3.17) from each thread, tids and pids from one pid space (a fork child
 * gets the number after the thread's tid, a later thread the number after the child's pid),
 * then /proc/self/exe of a copy of this program
 * in /tmp that renames and unlinks itself, and an execve of /proc/self/exe after that.
 * Usage: proctask (run as /bin/proctask from a rootfs, so that it can copy itself)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
	return e == ENOENT ? "ENOENT" : e == EACCES ? "EACCES" : e == ENOTDIR ? "ENOTDIR" : "other";
}

/* the names of a directory in readdir order, numbers given as "pid"/"tid" when they are */
static void list(const char *what, const char *path, int pid, int tid)
{
	char out[512] = "";
	struct dirent *e;
	DIR *d = opendir(path);
	if (d == NULL) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		if (n[0] == '.')
			continue;
		if (atoi(n) == pid && pid != 0)
			n = "pid";
		else if (atoi(n) == tid && tid != 0)
			n = "tid";
		else if (n[0] >= '0' && n[0] <= '9')
			continue; /* other processes */
		strcat(out, " ");
		strcat(out, n);
	}
	closedir(d);
	printf("%s:%s\n", what, out);
}

/* a line of a /proc status file */
static void status_line(const char *what, const char *path, const char *key, int pid, int tid)
{
	char buf[1024], *l;
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	buf[n] = 0;
	for (l = strtok(buf, "\n"); l != NULL; l = strtok(NULL, "\n")) {
		if (strncmp(l, key, strlen(key)) != 0 || l[strlen(key)] != ':')
			continue;
		int v = atoi(l + strlen(key) + 2);
		if (pid != 0 && v == pid)
			printf("%s: %s: pid\n", what, key);
		else if (tid != 0 && v == tid)
			printf("%s: %s: tid\n", what, key);
		else
			printf("%s: %s\n", what, l);
	}
}

/* a link's text (relative to the directory dfd), with the pid and tid written as "<pid>"/"<tid>" */
static void link_text_at(const char *what, int dfd, const char *path, int pid, int tid)
{
	char buf[256], want[64];
	ssize_t n = readlinkat(dfd, path, buf, sizeof(buf) - 1);
	if (n < 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	buf[n] = 0;
	snprintf(want, sizeof(want), "%d/task/%d", pid, tid);
	printf("%s: %s\n", what, strcmp(buf, want) != 0 ? buf : pid == tid ? "<pid>/task/<pid>" : "<pid>/task/<tid>");
}

#define link_text(what, path, pid, tid) link_text_at(what, AT_FDCWD, path, pid, tid)

static int pipefd[2];
static volatile int thread_tid;

static void *worker(void *arg)
{
	char c;
	(void)arg;
	thread_tid = syscall(SYS_gettid);
	link_text("thread: /proc/thread-self", "/proc/thread-self", getpid(), thread_tid);
	{
		int d = open("/proc", O_RDONLY | O_DIRECTORY);
		link_text_at("thread: readlinkat(/proc, thread-self)", d, "thread-self", getpid(), thread_tid);
		close(d);
	}
	status_line("thread: /proc/thread-self/status", "/proc/thread-self/status", "Pid", getpid(), thread_tid);
	__sync_synchronize();
	thread_tid = -thread_tid; /* published: now wait on the pipe */
	read(pipefd[0], &c, 1);
	return NULL;
}

/* the name of the first executable mapping in /proc/self/maps (the text segment, mapped from the image) */
static void text_map(const char *what)
{
	char line[256], *name = NULL;
	FILE *f = fopen("/proc/self/maps", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strlen(line) > 48 && strstr(line, " r-xp ") != NULL) {
			name = line + 49 + strspn(line + 49, " ");
			name[strcspn(name, "\n")] = 0;
			break;
		}
	}
	if (f != NULL)
		fclose(f);
	printf("%s: text mapped from %s\n", what, name != NULL ? name : "(none)");
}

static void *worker2(void *arg)
{
	(void)arg;
	thread_tid = syscall(SYS_gettid);
	return NULL;
}

static void copy(const char *from, const char *to, mode_t mode)
{
	static char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		write(out, buf, n);
	close(in);
	close(out);
	chmod(to, mode);
}

int main(int argc, char **argv)
{
	char path[128], buf[256];
	int pid = getpid(), tid, child, i;
	pthread_t th;
	struct stat st;
	ssize_t n;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "reexec") == 0) {
		n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		buf[n < 0 ? 0 : n] = 0;
		printf("reexec: runs, exe %s\n", buf);
		status_line("reexec", "/proc/self/status", "Name", 0, 0);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "copy") == 0) {
		/* the copy in /tmp: its exe follows the rename, then shows " (deleted)" */
		n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		buf[n < 0 ? 0 : n] = 0;
		printf("copy: exe %s\n", buf);
		rename("/tmp/pt", "/tmp/pt2");
		n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		buf[n < 0 ? 0 : n] = 0;
		printf("copy: renamed, exe %s\n", buf);
		text_map("copy: renamed");
		snprintf(path, sizeof(path), "/proc/%d/task/%d/exe", pid, pid);
		n = readlink(path, buf, sizeof(buf) - 1);
		buf[n < 0 ? 0 : n] = 0;
		printf("copy: renamed, task/<pid>/exe %s\n", buf);
		/* fork copies mm->exe_file: the child's follows the same name */
		if (fork() == 0) {
			n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
			buf[n < 0 ? 0 : n] = 0;
			printf("copy: renamed, a fork child's exe %s\n", buf);
			_exit(0);
		}
		wait(NULL);
		unlink("/tmp/pt2");
		n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		buf[n < 0 ? 0 : n] = 0;
		printf("copy: unlinked, exe %s\n", buf);
		text_map("copy: unlinked");
		printf("copy: stat /tmp/pt2 %s\n", stat("/tmp/pt2", &st) == 0 ? "ok" : ename(errno));
		/* let the parent run this unlinked file through our /proc/<pid>/exe, then run it ourselves */
		if (argc > 3) {
			char c;
			write(atoi(argv[2]), "u", 1);
			read(atoi(argv[3]), &c, 1);
		}
		execl("/proc/self/exe", "proctask", "reexec", (char *)NULL);
		printf("copy: execve of /proc/self/exe: %s\n", ename(errno));
		return 1;
	}

	printf("-- one thread\n");
	list("/proc/self", "/proc/self", pid, 0);
	list("/proc/self/task", "/proc/self/task", pid, 0);
	snprintf(path, sizeof(path), "/proc/self/task/%d", pid);
	list("task/<pid>", path, pid, 0);
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", pid);
	status_line("task/<pid>/status", path, "Pid", pid, 0);
	status_line("task/<pid>/status", path, "State", pid, 0);
	link_text("/proc/thread-self", "/proc/thread-self", pid, pid);
	list("/proc", "/proc", pid, 0);

	printf("-- two threads\n");
	pipe(pipefd);
	pthread_create(&th, NULL, worker, NULL);
	while (thread_tid >= 0)
		sched_yield();
	tid = -thread_tid;
	printf("thread tid %s the pid\n", tid != pid ? "differs from" : "is");
	list("/proc/self/task", "/proc/self/task", pid, tid);
	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	list("task/<tid>", path, pid, tid);
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	status_line("task/<tid>/status", path, "Tgid", pid, tid);
	status_line("task/<tid>/status", path, "Pid", pid, tid);
	/* the thread blocks in read: sleeping, once it got there */
	for (i = 0; i < 100; i++) {
		char s[1024];
		int fd = open(path, O_RDONLY);
		n = read(fd, s, sizeof(s) - 1);
		close(fd);
		s[n < 0 ? 0 : n] = 0;
		if (strstr(s, "State:\tS (sleeping)") != NULL)
			break;
		sched_yield();
	}
	status_line("task/<tid>/status", path, "State", pid, tid);
	snprintf(path, sizeof(path), "/proc/self/task/%d/exe", tid);
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = 0;
	printf("task/<tid>/exe: %s\n", buf);
	/* /proc/<tid>: found (proc_pid_lookup takes any task), not listed (only tgids are) */
	snprintf(path, sizeof(path), "/proc/%d", tid);
	printf("stat /proc/<tid>: %s\n", stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? "a directory" : ename(errno));
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	status_line("/proc/<tid>/status", path, "Pid", pid, tid);
	status_line("/proc/<tid>/status", path, "Tgid", pid, tid);
	list("/proc", "/proc", pid, tid);
	/*
	 * one pid space (kernel/pid.c alloc_pid for every task copy_process makes): nothing else
	 * allocated since the clone, so a fork child gets the next number after the thread's tid,
	 * and /proc/<tid> (seen from that child too) is still the thread, not another process
	 */
	{
		int ws;
		pid_t c = fork();
		if (c == 0) {
			printf("fork child: pid %s\n", getpid() == tid + 1 ? "is the tid + 1" : "is not the tid + 1");
			snprintf(path, sizeof(path), "/proc/%d/status", tid);
			status_line("fork child: /proc/<tid>/status", path, "Tgid", pid, tid);
			_exit(0);
		}
		waitpid(c, &ws, 0);
		child = c;
	}
	write(pipefd[1], "x", 1);
	pthread_join(th, NULL);
	printf("-- joined\n");
	list("/proc/self/task", "/proc/self/task", pid, tid);
	snprintf(path, sizeof(path), "/proc/%d", tid);
	printf("stat /proc/<tid>: %s\n", stat(path, &st) == 0 ? "found" : ename(errno));
	/* a second thread: the number after the fork child's pid (the ended thread's tid is not reused) */
	thread_tid = 0;
	pthread_create(&th, NULL, worker2, NULL);
	pthread_join(th, NULL);
	printf("second thread: tid %s\n", thread_tid == child + 1 ? "is the fork child's pid + 1" : "is not the fork child's pid + 1");

	printf("-- exe of a copy in /tmp\n");
	copy(argv[0], "/tmp/pt", 0755);
	{
		int c2p[2], p2c[2], ws;
		char a[16], b[16], x;
		pid_t c, g;
		pipe(c2p);
		pipe(p2c);
		snprintf(a, sizeof(a), "%d", c2p[1]);
		snprintf(b, sizeof(b), "%d", p2c[0]);
		c = fork();
		if (c == 0) {
			execl("/tmp/pt", "/tmp/pt", "copy", a, b, (char *)NULL);
			_exit(127);
		}
		/* the copy unlinked itself: another process's /proc/<pid>/exe still reaches the file */
		read(c2p[0], &x, 1);
		g = fork();
		if (g == 0) {
			snprintf(path, sizeof(path), "/proc/%d/exe", c);
			execl(path, "proctask", "reexec", (char *)NULL);
			printf("execve of /proc/<copy>/exe: %s\n", ename(errno));
			_exit(127);
		}
		waitpid(g, &ws, 0);
		printf("execve of /proc/<copy>/exe exited %d\n", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
		write(p2c[1], "x", 1);
		waitpid(c, &ws, 0);
		printf("copy exited %d\n", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
	}
	return 0;
}
