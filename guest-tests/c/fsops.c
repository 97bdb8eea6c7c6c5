/*
 * Names and inodes on the tmpfs at /tmp, and the answers of the other mounts: rename,
 * renameat2 (NOREPLACE, EXCHANGE, WHITEOUT), link/linkat (AT_EMPTY_PATH as root and as another
 * user), symlink/readlink and symbolic links in path lookup (ELOOP, O_NOFOLLOW, trailing
 * slashes, the nesting the eras differ on), chmod/fchmod/fchmodat/fchmodat2, truncate and
 * ftruncate (the 32-bit length the eras differ on, holes, EFBIG), umask across fork, and the
 * mode bits held against a non-root process. Usage: fsops. One line per check: "what: answer"
 * with errno names.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NR_renameat2 382
#define NR_fchmodat2 452
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#define RENAME_WHITEOUT 4
#endif
#define ARM_O_LARGEFILE 0400000

static void st(const char *what, const char *path, int follow)
{
	struct stat s;
	if ((follow ? stat(path, &s) : lstat(path, &s)) < 0) { printf("%s: %s\n", what, ename(errno)); return; }
	printf("%s: %s 0%o nlink %u size %lld uid %u\n", what,
	       S_ISDIR(s.st_mode) ? "dir" : S_ISLNK(s.st_mode) ? "link" : S_ISCHR(s.st_mode) ? "chr" : "reg",
	       (unsigned)(s.st_mode & 07777), (unsigned)s.st_nlink, (long long)s.st_size, (unsigned)s.st_uid);
}

static void umask_and_chmod(void)
{
	int fd, pid, status;
	printf("-- umask, chmod\n");
	printf("umask(027) old: 0%o\n", (unsigned)umask(027));
	fd = open("/tmp/m", O_CREAT | O_WRONLY, 0666);
	close(fd);
	st("file 0666 under 027", "/tmp/m", 1);
	mkdir("/tmp/md", 0777);
	st("dir 0777 under 027", "/tmp/md", 1);
	printf("umask(077) old: 0%o\n", (unsigned)umask(077));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fd = open("/tmp/mchild", O_CREAT | O_WRONLY, 0666);
		_exit(fd < 0 ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	st("child's file (umask inherited)", "/tmp/mchild", 1);
	printf("umask(022) old: 0%o\n", (unsigned)umask(022));
	CHK("chmod 04711", chmod("/tmp/m", 04711));
	st("after chmod", "/tmp/m", 1);
	fd = open("/tmp/m", O_RDONLY);
	CHK("fchmod 0600", fchmod(fd, 0600));
	close(fd);
	st("after fchmod", "/tmp/m", 1);
	CHK("fchmodat 0644", fchmodat(AT_FDCWD, "/tmp/m", 0644, 0));
	CHK("chmod missing", chmod("/tmp/none", 0600));
	CHK("chmod /proc/self/status", chmod("/proc/self/status", 0600));
	symlink("m", "/tmp/ml");
	CHK("fchmodat2 NOFOLLOW on a link", syscall(NR_fchmodat2, AT_FDCWD, "/tmp/ml", 0600, AT_SYMLINK_NOFOLLOW));
	CHK("fchmodat2 follow", syscall(NR_fchmodat2, AT_FDCWD, "/tmp/ml", 0640, 0));
	CHK("fchmodat2 bad flags", syscall(NR_fchmodat2, AT_FDCWD, "/tmp/ml", 0640, 1));
	st("after fchmodat2", "/tmp/m", 1);
}

static void links(void)
{
	int fd;
	char p[64];
	printf("-- link\n");
	put("/tmp/a", "AAA");
	CHK("link a b", link("/tmp/a", "/tmp/b"));
	st("a", "/tmp/a", 1);
	CHK("unlink a", unlink("/tmp/a"));
	st("b", "/tmp/b", 1);
	show("b reads", "/tmp/b");
	CHK("link onto existing", link("/tmp/b", "/tmp/m"));
	CHK("link a directory", link("/tmp/md", "/tmp/mdl"));
	CHK("link across mounts", link("/tmp/b", "/dev/b"));
	CHK("link in sysfs", link("/sys/bus/platform/uevent", "/sys/bus/platform/u2"));
	CHK("linkat bad flags", linkat(AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/c", 0x1));
	symlink("b", "/tmp/bl");
	CHK("linkat a link itself", linkat(AT_FDCWD, "/tmp/bl", AT_FDCWD, "/tmp/bl2", 0));
	st("bl2", "/tmp/bl2", 0);
	CHK("linkat AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "/tmp/bl", AT_FDCWD, "/tmp/b3", AT_SYMLINK_FOLLOW));
	st("b after 3 names", "/tmp/b", 1);
	fd = open("/tmp/b", O_RDONLY);
	CHK("linkat AT_EMPTY_PATH as root", linkat(fd, "", AT_FDCWD, "/tmp/b4", AT_EMPTY_PATH));
	unlink("/tmp/b"); unlink("/tmp/b3"); unlink("/tmp/b4"); unlink("/tmp/bl2");
	CHK("linkat AT_EMPTY_PATH, last name gone", linkat(fd, "", AT_FDCWD, "/tmp/b5", AT_EMPTY_PATH));
	close(fd);
	snprintf(p, sizeof(p), "/tmp/tmpdir");
	mkdir(p, 0777);
	CHK("unlink a dir", unlink(p));
}

static void symlinks(void)
{
	char b[64], n[32], t[32];
	int fd, i, r;
	printf("-- symlink\n");
	CHK("symlink", symlink("target", "/tmp/s"));
	r = readlink("/tmp/s", b, sizeof(b));
	printf("readlink: %d '%.*s'\n", r, r > 0 ? r : 0, b);
	CHK("readlink a file", readlink("/tmp/m", b, sizeof(b)));
	st("lstat s", "/tmp/s", 0);
	st("stat s (dangling)", "/tmp/s", 1);
	fd = open("/tmp/s", O_CREAT | O_WRONLY, 0644);
	CHK("O_CREAT through the dangling link", fd);
	write(fd, "T", 1);
	close(fd);
	show("target reads", "/tmp/target");
	CHK("O_NOFOLLOW", open("/tmp/s", O_RDONLY | O_NOFOLLOW));
	CHK("O_CREAT|O_EXCL on the link", open("/tmp/s", O_CREAT | O_EXCL | O_WRONLY, 0644));
	CHK("symlink onto existing", symlink("x", "/tmp/s"));
	CHK("symlink empty target", symlink("", "/tmp/s0"));
	CHK("symlink in procfs", symlink("x", "/proc/s"));
	CHK("symlink in sysfs", symlink("x", "/sys/s"));
	symlink("/tmp/loop2", "/tmp/loop1");
	symlink("loop1", "/tmp/loop2");
	st("loop", "/tmp/loop1", 1);
	/* a chain of 40 links resolves, 41 do not */
	put("/tmp/c0", "end");
	for (i = 1; i <= 41; i++) {
		snprintf(n, sizeof(n), "/tmp/c%d", i);
		snprintf(t, sizeof(t), "c%d", i - 1);
		symlink(t, n);
	}
	show("chain of 40", "/tmp/c40");
	show("chain of 41", "/tmp/c41");
	/* links in the middle of a path, each one's target through the one before: nested */
	mkdir("/tmp/n0", 0755);
	put("/tmp/n0/f", "nested");
	for (i = 1; i <= 10; i++) {
		snprintf(n, sizeof(n), "/tmp/n%d", i);
		snprintf(t, sizeof(t), "n%d/.", i - 1);
		symlink(t, n);
	}
	show("nested 8", "/tmp/n8/f");
	show("nested 9", "/tmp/n9/f");
	mkdir("/tmp/sd", 0755);
	symlink("sd", "/tmp/sdl");
	st("lstat link-to-dir/", "/tmp/sdl/", 0);
	st("lstat file/", "/tmp/m/", 0);
	symlink("../tmp/./sd/../m", "/tmp/rel");
	st("relative target with ..", "/tmp/rel", 1);
}

static void renames(void)
{
	int fd, fd2, d;
	struct stat s;
	char b[16];
	printf("-- rename\n");
	put("/tmp/r1", "one");
	put("/tmp/r2", "two");
	fd = open("/tmp/r1", O_RDONLY);
	fd2 = open("/tmp/r2", O_RDONLY);
	CHK("rename r1 over r2", rename("/tmp/r1", "/tmp/r2"));
	show("r2 reads", "/tmp/r2");
	st("r1", "/tmp/r1", 1);
	b[read(fd, b, 8)] = 0;
	printf("fd of the renamed file: '%s'\n", b);
	b[read(fd2, b, 8)] = 0;
	printf("fd of the replaced file: '%s'\n", b);
	fstat(fd2, &s);
	printf("replaced nlink %u\n", (unsigned)s.st_nlink);
	close(fd); close(fd2);
	link("/tmp/r2", "/tmp/r2b");
	CHK("rename onto its own other name", rename("/tmp/r2", "/tmp/r2b"));
	st("both names kept", "/tmp/r2", 1);
	mkdir("/tmp/d1", 0755);
	mkdir("/tmp/d1/sub", 0755);
	mkdir("/tmp/d2", 0755);
	put("/tmp/d2/f", "x");
	CHK("dir into its own subtree", rename("/tmp/d1", "/tmp/d1/sub/d"));
	CHK("dir over a non-empty dir", rename("/tmp/d1", "/tmp/d2"));
	CHK("dir over a file", rename("/tmp/d1", "/tmp/r2"));
	CHK("file over a dir", rename("/tmp/r2", "/tmp/d1"));
	CHK("a dir onto its ancestor", rename("/tmp/d1/sub", "/tmp/d1"));
	CHK("missing source", rename("/tmp/none", "/tmp/x"));
	CHK("across mounts", rename("/tmp/r2", "/dev/r2"));
	CHK("in procfs", rename("/proc/interrupts", "/proc/x"));
	CHK("in sysfs", rename("/sys/bus/platform/uevent", "/sys/bus/platform/u2"));
	CHK("file with a trailing slash", rename("/tmp/r2/", "/tmp/r3"));
	d = open("/tmp/d1", O_RDONLY | O_DIRECTORY);
	CHK("dir over an empty dir", rename("/tmp/d1", "/tmp/d3"));
	st("d3", "/tmp/d3", 1);
	st("tmp nlink", "/tmp", 1);
	CHK("openat through the moved dir's fd", fstatat(d, "sub", &s, 0));
	close(d);
	CHK("renameat2 NOREPLACE", syscall(NR_renameat2, AT_FDCWD, "/tmp/r2", AT_FDCWD, "/tmp/d2/f", RENAME_NOREPLACE));
	CHK("renameat2 EXCHANGE", syscall(NR_renameat2, AT_FDCWD, "/tmp/r2", AT_FDCWD, "/tmp/d2/f", RENAME_EXCHANGE));
	show("r2 after exchange", "/tmp/r2");
	CHK("renameat2 WHITEOUT", syscall(NR_renameat2, AT_FDCWD, "/tmp/r2b", AT_FDCWD, "/tmp/r4", RENAME_WHITEOUT));
	st("whiteout", "/tmp/r2b", 1);
	CHK("open a whiteout", open("/tmp/r2b", O_RDONLY));
	CHK("renameat2 bad flags", syscall(NR_renameat2, AT_FDCWD, "/tmp/r4", AT_FDCWD, "/tmp/r5", 8));
	CHK("renameat2 EXCHANGE|NOREPLACE", syscall(NR_renameat2, AT_FDCWD, "/tmp/r4", AT_FDCWD, "/tmp/r5", 3));
}

static void truncates(void)
{
	int fd, r, i, nz = 0;
	char b[64];
	printf("-- truncate\n");
	put("/tmp/t", "0123456789");
	fd = open("/tmp/t", O_RDWR);
	CHK("ftruncate64 to 10000", ftruncate64(fd, 10000));
	st("grown", "/tmp/t", 1);
	lseek(fd, 9990, SEEK_SET);
	r = read(fd, b, sizeof(b));
	for (i = 0; i < r; i++) nz += b[i] != 0;
	printf("read past the old end: %d bytes, %d not zero\n", r, nz);
	CHK("SEEK_HOLE from 0", lseek(fd, 0, SEEK_HOLE));
	CHK("SEEK_DATA in the hole", lseek(fd, 5000, SEEK_DATA));
	CHK("truncate to 3", truncate("/tmp/t", 3));
	show("shrunk", "/tmp/t");
	CHK("truncate negative", truncate("/tmp/t", -1));
	CHK("ftruncate64 negative", ftruncate64(fd, -1));
	CHK("ftruncate64 2^43", ftruncate64(fd, 1LL << 43));
	CHK("ftruncate64 2^44", ftruncate64(fd, 1LL << 44));
	CHK("ftruncate64 64 MiB (a hole, no ENOSPC)", ftruncate64(fd, 64 << 20));
	lseek(fd, 5 << 20, SEEK_SET);
	CHK("write past the mount's capacity", write(fd, "x", 1));
	ftruncate64(fd, 3);
	close(fd);
	CHK("truncate a dir", truncate("/tmp/d3", 0));
	CHK("truncate a char device", truncate("/dev/vfio/vfio", 0));
	CHK("truncate a sysfs attribute", truncate("/sys/bus/platform/drivers_probe", 0));
	CHK("truncate missing", truncate("/tmp/none", 0));
	fd = open("/tmp/t", O_RDONLY);
	CHK("ftruncate read-only fd", ftruncate64(fd, 0));
	close(fd);
	fd = open("/tmp/d3", O_RDONLY | O_DIRECTORY);
	CHK("ftruncate a dir fd", ftruncate64(fd, 0));
	close(fd);
	CHK("ftruncate bad fd", ftruncate64(99, 0));
	/* the 32-bit ftruncate with -1, without and with O_LARGEFILE */
	fd = syscall(SYS_openat, AT_FDCWD, "/tmp/t", O_RDWR);
	CHK("ftruncate(-1), no O_LARGEFILE", syscall(SYS_ftruncate, fd, -1L));
	close(fd);
	fd = syscall(SYS_openat, AT_FDCWD, "/tmp/t", O_RDWR | ARM_O_LARGEFILE);
	CHK("ftruncate(-1), O_LARGEFILE", syscall(SYS_ftruncate, fd, -1L));
	close(fd);
	st("after", "/tmp/t", 1);
}

static void as_user(void)
{
	int pid, status, fd, fd0;
	printf("-- uid 1000\n");
	put("/tmp/rootfile", "secret");
	chmod("/tmp/rootfile", 0600);
	fd0 = open("/tmp/rootfile", O_RDONLY);
	/* search permission on the way (fs/namei.c may_lookup): a 0700 and a 0711 root directory */
	mkdir("/tmp/priv", 0700);
	put("/tmp/priv/f", "x");
	mkdir("/tmp/xonly", 0711);
	put("/tmp/xonly/f", "x");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* an fd opened before setuid: another cred */
		setuid(1000);
		CHK("open root's 0600 file", open("/tmp/rootfile", O_RDONLY));
		CHK("chmod root's file", chmod("/tmp/rootfile", 0666));
		CHK("unlink root's file in sticky /tmp", unlink("/tmp/rootfile"));
		CHK("rename root's file in sticky /tmp", rename("/tmp/rootfile", "/tmp/mine"));
		CHK("mkdir in root's 0755 dir", mkdir("/tmp/d3/x", 0755));
		fd = open("/tmp/own", O_CREAT | O_RDWR, 0600);
		CHK("create own file", fd >= 0 ? 0 : -1);
		st("own", "/tmp/own", 1);
		CHK("chmod own file", chmod("/tmp/own", 0640));
		CHK("linkat AT_EMPTY_PATH, own fd", linkat(fd, "", AT_FDCWD, "/tmp/own2", AT_EMPTY_PATH));
		CHK("linkat AT_EMPTY_PATH, fd from before setuid", linkat(fd0, "", AT_FDCWD, "/tmp/own3", AT_EMPTY_PATH));
		CHK("access W_OK root's file", access("/tmp/rootfile", W_OK));
		CHK("truncate root's file", truncate("/tmp/rootfile", 0));
		{
			struct stat sb;
			CHK("open through a 0700 dir", open("/tmp/priv/f", O_RDONLY));
			CHK("open a missing name in a 0700 dir", open("/tmp/priv/nope", O_RDONLY));
			CHK("stat through a 0700 dir", stat("/tmp/priv/f", &sb));
			CHK("create in a 0700 dir", open("/tmp/priv/new", O_CREAT | O_RDWR, 0600));
			CHK("unlink in a 0700 dir", unlink("/tmp/priv/f"));
			CHK("chdir into a 0700 dir", chdir("/tmp/priv"));
			CHK("a file in the middle of the path", open("/tmp/rootfile/x", O_RDONLY));
			fd = open("/tmp/xonly/f", O_RDONLY);
			CHK("open through a 0711 dir", fd >= 0 ? 0 : -1);
			close(fd);
			CHK("missing name in a 0711 dir", open("/tmp/xonly/nope", O_RDONLY));
			CHK("list a 0711 dir", open("/tmp/xonly", O_RDONLY | O_DIRECTORY));
		}
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	close(fd0);
	printf("child status %d\n", status);
}

int main(void)
{
	umask_and_chmod();
	links();
	symlinks();
	renames();
	truncates();
	as_user();
	return 0;
}
