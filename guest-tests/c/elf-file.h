/*
 * Writing the hand-made ELF images of the exec tests (exec-elf.c, exec-misalign.c, exec-dyn.c)
 * to a file. Include after <fcntl.h>, <sys/types.h> and <unistd.h>.
 */
#ifndef ELF_FILE_H
#define ELF_FILE_H

/* `n` bytes of `img` as the whole of `path` (created with `mode` if new): 0, or -1 */
static inline int write_image(const char *path, const void *img, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	int ok = write(fd, img, n) == (ssize_t)n;
	close(fd);
	return ok ? 0 : -1;
}

#endif
