/*
 * One-line checks for the file-system tests (cwd.c, fsops.c): CHK prints "what: answer", the
 * call's result or its errno's name; put() writes a small file, show() prints one's text.
 * Include after <errno.h>, <fcntl.h>, <stdio.h>, <string.h> and <unistd.h>.
 */
#ifndef CHECK_H
#define CHECK_H

static inline const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	case ENXIO: return "ENXIO";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ELOOP: return "ELOOP";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOEXEC: return "ENOEXEC";
	case ERANGE: return "ERANGE";
	case ESPIPE: return "ESPIPE";
	case ENODEV: return "ENODEV";
	default: return "E?";
	}
}

/* one check: the call's answer, or its errno's name */
#define CHK(what, expr) do { errno = 0; long r_ = (long)(expr); \
	if (r_ < 0) printf("%s: %s\n", what, ename(errno)); else printf("%s: %ld\n", what, r_); } while (0)

static inline void put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write(fd, s, strlen(s));
	close(fd);
}

static inline void show(const char *what, const char *path)
{
	char b[64];
	int fd = open(path, O_RDONLY), n;
	if (fd < 0) { printf("%s: %s\n", what, ename(errno)); return; }
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	b[n > 0 ? n : 0] = 0;
	printf("%s: '%s'\n", what, b);
}

#endif
