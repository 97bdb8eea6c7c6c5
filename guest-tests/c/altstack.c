/*
 * sigaltstack on the Unicorn backend: the setting read back, its errors (a stack below
 * MINSIGSTKSZ, bad flags, a change while on it), a SA_ONSTACK handler running on the alternate
 * stack (SS_ONSTACK seen from inside), recovery from a thread's stack overflow (its guard page:
 * only a handler on the thread's own alternate stack can run), SS_AUTODISARM (v6.12:
 * the handler finds the stack disarmed; 3.14: EINVAL), a fork child keeping the setting and an
 * execve dropping it. Output is deterministic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#define ALT (64 * 1024)

static sigjmp_buf env;
static char *alt;
static volatile int on_alt, inner_flags, inner_set;

static const char *err(int r) { return r == 0 ? "0" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : errno == EPERM ? "EPERM" : strerror(errno); }

static char *thread_alt;
static sigjmp_buf thread_env;
static __thread int in_thread;

static void handler(int sig)
{
	char local;
	stack_t now, ss = { .ss_sp = alt, .ss_size = ALT, .ss_flags = 0 };
	char *base = in_thread ? thread_alt : alt;
	(void)sig;
	on_alt = &local > base && &local < base + ALT;
	sigaltstack(NULL, &now);
	inner_flags = now.ss_flags;
	inner_set = sigaltstack(&ss, NULL) == 0 ? 0 : errno;
	siglongjmp(in_thread ? thread_env : env, 1);
}

static int depth(int n)
{
	volatile char pad[1024];
	pad[0] = (char)n;
	if (n < 0) /* never: the recursion ends in the guard page */
		return 0;
	return depth(n + 1) + pad[0];
}

/* a thread with a 64 KiB stack overflows it into its guard page */
static void *overflow(void *arg)
{
	stack_t ss = { .ss_sp = thread_alt, .ss_size = ALT, .ss_flags = 0 };
	(void)arg;
	in_thread = 1;
	sigaltstack(&ss, NULL);
	if (!sigsetjmp(thread_env, 1))
		depth(0);
	return NULL;
}

static void show(const char *what)
{
	stack_t s;
	sigaltstack(NULL, &s);
	printf("%s: flags 0x%x size %u at the buffer %d\n", what, (unsigned)s.ss_flags, (unsigned)s.ss_size, s.ss_sp == alt);
}

int main(int argc, __attribute__((unused)) char **argv)
{
	struct sigaction sa;
	stack_t ss;
	int st;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1) {
		stack_t s;
		sigaltstack(NULL, &s);
		printf("after execve: flags 0x%x size %u\n", (unsigned)s.ss_flags, (unsigned)s.ss_size);
		return 0;
	}
	alt = mmap(NULL, ALT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	show("at start");
	ss.ss_sp = alt;
	ss.ss_size = 1024;
	ss.ss_flags = 0;
	printf("too small %s\n", err(sigaltstack(&ss, NULL)));
	ss.ss_size = ALT;
	ss.ss_flags = 4;
	printf("bad flags %s\n", err(sigaltstack(&ss, NULL)));
	ss.ss_flags = 0;
	printf("set %s\n", err(sigaltstack(&ss, NULL)));
	show("set");

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	/* a handler on the alternate stack: SS_ONSTACK inside, and no change allowed there */
	if (!sigsetjmp(env, 1))
		raise(SIGUSR1);
	printf("usr1: on the alternate stack %d, flags inside 0x%x, set inside %s\n", on_alt, (unsigned)inner_flags, inner_set == EPERM ? "EPERM" : inner_set ? "?" : "0");

	/* a thread's stack overflow: the SIGSEGV handler can run only on the thread's alternate stack */
	{
		pthread_t th;
		pthread_attr_t at;
		on_alt = 0;
		thread_alt = mmap(NULL, ALT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 64 * 1024);
		pthread_create(&th, &at, overflow, NULL);
		pthread_join(th, NULL);
		printf("thread overflow: recovered on its alternate stack %d\n", on_alt);
	}
	show("after the handlers");

	/* SS_AUTODISARM */
	ss.ss_flags = SS_AUTODISARM;
	int r = sigaltstack(&ss, NULL);
	printf("autodisarm %s\n", err(r));
	if (r == 0) {
		show("armed");
		if (!sigsetjmp(env, 1))
			raise(SIGUSR1);
		printf("usr1: on the alternate stack %d, flags inside 0x%x\n", on_alt, (unsigned)inner_flags);
		show("after siglongjmp");
		ss.ss_flags = 0;
		sigaltstack(&ss, NULL);
	}

	/* a fork child keeps the setting; an execve drops it */
	if (fork() == 0) {
		show("fork child");
		execl("/proc/self/exe", "altstack", "exec", (char *)NULL);
		_exit(1);
	}
	wait(&st);
	return 0;
}
