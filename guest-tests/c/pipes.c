/*
 * pipe2, dup, dup2, dup3, fcntl: data through a pipe, stdout redirected into a pipe and back,
 * close-on-exec and O_NONBLOCK flags, EOF, EPIPE, and a reader thread blocked on an empty pipe
 * woken by a writer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int pfd[2];
static char got[64];

static void *reader(void *arg)
{
	(void)arg;
	ssize_t n = read(pfd[0], got, sizeof(got) - 1); /* blocks: the pipe is empty */
	if (n > 0)
		got[n] = 0;
	return NULL;
}

int main(void)
{
	int p[2], q[2], saved, r;
	char buf[64];
	pthread_t th;

	if (pipe2(p, O_CLOEXEC) != 0)
		return 1;
	printf("pipe2 cloexec: %d %d fd %d\n", fcntl(p[0], F_GETFD), fcntl(p[1], F_GETFD), p[0]);
	printf("write %zd\n", write(p[1], "hello", 5));
	r = read(p[0], buf, sizeof(buf));
	printf("read %d %.*s\n", r, r, buf);

	/* O_NONBLOCK through fcntl: an empty pipe reads EAGAIN */
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	r = read(p[0], buf, sizeof(buf));
	printf("nonblock read %d %s flags 0x%x\n", r, r < 0 && errno == EAGAIN ? "EAGAIN" : "?", fcntl(p[0], F_GETFL));

	/* stdout into a pipe with dup2, then back */
	fflush(stdout);
	saved = dup(1);
	pipe(q);
	dup2(q[1], 1);
	write(1, "via stdout", 10);
	dup2(saved, 1);
	r = read(q[0], buf, sizeof(buf));
	printf("redirected %d %.*s saved-cloexec %d\n", r, r, buf, fcntl(saved, F_GETFD));

	/* dup3 with O_CLOEXEC, F_DUPFD_CLOEXEC at or above 20, dup3 onto itself */
	printf("dup3 %d cloexec %d\n", dup3(q[0], 10, O_CLOEXEC), fcntl(10, F_GETFD));
	r = fcntl(q[0], F_DUPFD_CLOEXEC, 20);
	printf("F_DUPFD_CLOEXEC %d cloexec %d\n", r, fcntl(r, F_GETFD));
	printf("dup3 same %d %s dup2 same %d\n", dup3(10, 10, 0), errno == EINVAL ? "EINVAL" : "?", dup2(10, 10));

	/* EOF once every write end is closed (q[1] and its dup 1 -> restored) */
	close(q[1]);
	printf("eof %zd\n", read(10, buf, sizeof(buf)));

	/* EPIPE when no reader is left */
	close(q[0]);
	close(10);
	close(r);
	pipe(q);
	close(q[0]);
	r = write(q[1], "x", 1);
	printf("epipe %d %s\n", r, r < 0 && errno == EPIPE ? "EPIPE" : "?");

	/* a reader thread asleep on an empty pipe is woken by the write */
	pipe(pfd);
	pthread_create(&th, NULL, reader, NULL);
	usleep(1000);
	write(pfd[1], "wake", 4);
	pthread_join(th, NULL);
	printf("thread read %s\n", got);
	printf("bad fd %d %s\n", dup2(99, 5), errno == EBADF ? "EBADF" : "?");
	return 0;
}
