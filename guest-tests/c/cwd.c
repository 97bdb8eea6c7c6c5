/*
 * The cwd as a directory and the names of open files, as Linux keeps them (fs->pwd and
 * f_path hold dentries; d_path computes their text): a renamed cwd, an rmdir'd cwd, relative
 * names under a directory the caller can no longer search, /proc/self/fd of renamed and
 * unlinked files; then execve's checks on a copy of this program in /tmp (the x bits, root's
 * too, search permission, a directory, ENOEXEC) and, given a bound device, exec of its VFIO
 * group node made executable while it is open (3.14: the group's open answers EBUSY; v6.12:
 * EACCES before any open). Usage: cwd [device]; run as /bin/cwd from a rootfs holding it.
 * One line per check: "what: answer" with errno names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void cwd(const char *what)
{
	char b[256];
	if (syscall(183, b, sizeof(b)) < 0) printf("%s: %s\n", what, ename(errno));
	else printf("%s: %s\n", what, b);
}

static void link_of(const char *what, const char *path)
{
	char b[256];
	ssize_t n = readlink(path, b, sizeof(b) - 1);
	if (n < 0) { printf("%s: %s\n", what, ename(errno)); return; }
	b[n] = 0;
	printf("%s: %s\n", what, b);
}

static void fd_link(const char *what, int fd)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	link_of(what, p);
}

/* execve in a child (uid `uid`): the errno it fails with, or "ran" with the child's status */
static void try_exec(const char *what, const char *path, int uid)
{
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)path, "child", NULL };
		if (uid != 0 && setuid(uid) < 0) _exit(99);
		execve(path, argv, NULL);
		printf("%s: %s\n", what, ename(errno));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
}

static void copy(const char *from, const char *to, mode_t mode)
{
	static char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0) write(out, buf, n);
	close(in);
	close(out);
	chmod(to, mode);
}

int main(int argc, char **argv)
{
	struct stat s, t;
	int fd, fd2;
	char b[64];

	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		cwd("exec'd copy runs, cwd");
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);

	printf("-- a renamed cwd\n");
	CHK("mkdir /tmp/a", mkdir("/tmp/a", 0755));
	CHK("chdir /tmp/a", chdir("/tmp/a"));
	put("x", "in a");
	CHK("rename /tmp/a /tmp/b", rename("/tmp/a", "/tmp/b"));
	show("x from the cwd", "x");
	cwd("getcwd");
	link_of("/proc/self/cwd", "/proc/self/cwd");
	CHK("mkdir sub", mkdir("sub", 0755));
	CHK("stat /tmp/b/sub", stat("/tmp/b/sub", &s));

	printf("-- open files renamed and unlinked\n");
	fd = open("f", O_RDWR | O_CREAT, 0644);
	write(fd, "data", 4);
	fd_link("fd of f", fd);
	CHK("rename f g", rename("f", "g"));
	fd_link("after rename", fd);
	CHK("unlink g", unlink("g"));
	fd_link("after unlink", fd);
	fstat(fd, &s);
	printf("fstat after unlink: nlink %u size %lld\n", (unsigned)s.st_nlink, (long long)s.st_size);
	snprintf(b, sizeof(b), "/proc/self/fd/%d", fd);
	fd2 = open(b, O_RDONLY);
	fstat(fd2, &t);
	printf("open /proc/self/fd/N of it: %s, same inode %s\n", fd2 >= 0 ? "ok" : ename(errno), s.st_ino == t.st_ino ? "yes" : "no");
	fd_link("the new fd", fd2);
	close(fd2);
	close(fd);
	CHK("chdir /", chdir("/"));
	fd = open("/tmp/b/sub", O_RDONLY | O_DIRECTORY);
	CHK("rename /tmp/b /tmp/c", rename("/tmp/b", "/tmp/c"));
	fd_link("directory fd after rename", fd);
	CHK("openat(dirfd, \"y\", O_CREAT)", openat(fd, "y", O_CREAT | O_WRONLY, 0644) >= 0 ? 0 : -1);
	CHK("stat /tmp/c/sub/y", stat("/tmp/c/sub/y", &s));
	close(fd);

	printf("-- an rmdir'd cwd\n");
	CHK("mkdir /tmp/d", mkdir("/tmp/d", 0755));
	CHK("chdir /tmp/d", chdir("/tmp/d"));
	CHK("rmdir /tmp/d", rmdir("/tmp/d"));
	cwd("getcwd");
	link_of("/proc/self/cwd", "/proc/self/cwd");
	CHK("open n O_CREAT", open("n", O_CREAT | O_WRONLY, 0644));
	CHK("mkdir m", mkdir("m", 0755));
	CHK("stat .", stat(".", &s));
	printf(". nlink %u\n", (unsigned)s.st_nlink);
	stat("..", &s);
	stat("/tmp", &t);
	printf(".. is /tmp: %s\n", s.st_ino == t.st_ino ? "yes" : "no");
	CHK("chdir ..", chdir(".."));
	cwd("getcwd");

	printf("-- relative names below a directory that is no longer searchable\n");
	mkdir("/tmp/p", 0755);
	mkdir("/tmp/p/q", 0777);
	put("/tmp/p/q/f", "in q");
	if (fork() == 0) {
		chdir("/tmp/p/q");
		chmod("/tmp/p", 0700);
		setuid(1000);
		show("uid 1000: f from the cwd", "f");
		show("uid 1000: /tmp/p/q/f", "/tmp/p/q/f");
		show("uid 1000: ../q/f", "../q/f");
		cwd("uid 1000: getcwd");
		_exit(0);
	}
	wait(NULL);

	printf("-- execve\n");
	copy(argv[0], "/tmp/prog", 0644);
	try_exec("exec 0644 as root", "/tmp/prog", 0);
	chmod("/tmp/prog", 0744);
	try_exec("exec 0744 as uid 1000", "/tmp/prog", 1000);
	try_exec("exec 0744 as root", "/tmp/prog", 0);
	chmod("/tmp/prog", 0755);
	mkdir("/tmp/bin", 0700);
	copy(argv[0], "/tmp/bin/prog", 0755);
	try_exec("exec in a 0700 dir as uid 1000", "/tmp/bin/prog", 1000);
	try_exec("exec a directory", "/tmp/bin", 0);
	try_exec("exec below a file", "/tmp/prog/x", 0);
	try_exec("exec a missing file", "/tmp/nope", 0);
	put("/tmp/text", "not a program\n");
	chmod("/tmp/text", 0755);
	try_exec("exec a text file", "/tmp/text", 0);
	CHK("chdir /tmp", chdir("/tmp"));
	try_exec("exec prog relative", "prog", 1000);

	if (argc > 1) {
		/* the device's VFIO group node, opened, then given an x bit */
		char link[256], path[300];
		ssize_t n;
		snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/iommu_group", argv[1]);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0) {
			snprintf(path, sizeof(path), "/sys/bus/amba/devices/%s/iommu_group", argv[1]);
			n = readlink(path, link, sizeof(link) - 1);
		}
		if (n < 0) { printf("no iommu_group\n"); return 1; }
		link[n] = 0;
		snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
		fd = open(path, O_RDWR);
		printf("group open: %s\n", fd >= 0 ? "ok" : ename(errno));
		CHK("chmod group 0755", chmod(path, 0755));
		try_exec("exec the open group node", path, 0);
		close(fd);
	}
	return 0;
}
