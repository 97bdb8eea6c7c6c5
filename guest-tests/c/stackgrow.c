/*
 * The [stack] VMA grows on faults below it (arch/arm/mm/fault.c -> expand_stack, mm/mmap.c;
 * kernel-model/process/stack-grow.ts): its /proc/self/maps line before and after touching deep
 * stack, a kernel write (read()) below it, and, in fork children whose end the parent sees in
 * the wait status: an overflow past a lowered RLIMIT_STACK, and an overflow towards a mapping
 * below the stack (an accessible one and a PROT_NONE one): 3.14's guard page (SIGBUS at the
 * page above the mapping) against v6.12's 1 MiB stack_guard_gap (SIGSEGV). Children record the
 * lowest address they wrote in a shared page. Output is deterministic.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL

static volatile uintptr_t *lowest;

/* one call per page of stack, its top byte then its bottom byte written, as a stack grows */
__attribute__((noinline)) static unsigned recurse(unsigned depth)
{
	volatile unsigned char frame[PAGE - 64];
	frame[sizeof(frame) - 1] = (unsigned char)depth;
	*lowest = (uintptr_t)&frame[sizeof(frame) - 1];
	frame[0] = (unsigned char)depth;
	*lowest = (uintptr_t)&frame[0];
	if (depth == 0)
		return frame[0];
	return recurse(depth - 1) + frame[0] + frame[sizeof(frame) - 1];
}

/* the [stack] line of /proc/self/maps */
static int stack_vma(unsigned long *start, unsigned long *end)
{
	char buf[8192];
	int fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = 0, r;
	while (n < (ssize_t)sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		if (strstr(l, "[stack]") && sscanf(l, "%lx-%lx", start, end) == 2)
			return 0;
		if (nl)
			*nl = '\n';
	}
	return -1;
}

/* a kernel write far below the stack (copy_to_user faults there and grows it) */
__attribute__((noinline)) static long read_below(int fd)
{
	volatile char big[512 * 1024];
	long r = read(fd, (char *)big, 8);
	return r == 8 && big[0] == 'k' && big[7] == 'w' ? r : -1;
}

static void report(const char *what, pid_t pid, uintptr_t base)
{
	int st = 0;
	waitpid(pid, &st, 0);
	long kib = ((long)(*lowest & ~(PAGE - 1)) - (long)base) / 1024;
	printf("%s: %s %d, lowest page written - base = %ld KiB\n", what, WIFSIGNALED(st) ? "signal" : "exit",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), kib);
}

/* a child that maps a page (prot) 2 MiB under its [stack] line and recurses into it */
static void towards_mapping(const char *what, int prot)
{
	unsigned long s, e;
	stack_vma(&s, &e);
	uintptr_t m = (s - (2UL << 20)) & ~(PAGE - 1);
	pid_t pid = fork();
	if (pid == 0) {
		if (mmap((void *)m, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != (void *)m)
			_exit(3);
		recurse(1u << 20);
		_exit(0);
	}
	report(what, pid, m + PAGE);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : "";
	setvbuf(stdout, NULL, _IONBF, 0);
	lowest = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long s0, e0, s1, e1;
	if (stack_vma(&s0, &e0) != 0)
		return 1;
	printf("before: [stack] %lu bytes, end 0x%lx\n", e0 - s0, e0);
	/* first, while the stack is small (a fork child's writes to pages it shares copy-on-write
	 * in 3.14 each take a Unicorn region). RLIMIT_STACK lowered to 256 KiB in a child: the
	 * overflow is SIGSEGV at 256 KiB under the stack's end */
	pid_t pid = -1;
	if (!*only || *only == 'r') pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 256 * 1024, RLIM_INFINITY };
		if (setrlimit(RLIMIT_STACK, &rl) != 0)
			_exit(2);
		recurse(1u << 20);
		_exit(0);
	}
	if (pid > 0) report("rlimit 256 KiB", pid, e0 - 256 * 1024);
	/* raised to 6 MiB: SIGSEGV at 6 MiB */
	if (!*only || *only == 's') pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 6 << 20, RLIM_INFINITY };
		setrlimit(RLIMIT_STACK, &rl);
		recurse(1u << 20);
		_exit(0);
	}
	if (pid > 0 && (!*only || *only == 's')) report("rlimit 6 MiB", pid, e0 - (6 << 20));

	if (!*only || *only == 'm') towards_mapping("mapping below", PROT_READ | PROT_WRITE);
	if (!*only || *only == 'n') towards_mapping("PROT_NONE mapping below", PROT_NONE);
	int p[2];
	if (pipe(p) != 0)
		return 1;
	(void)!write(p[1], "kerneltw", 8);
	long r = read_below(p[0]);
	stack_vma(&s1, &e1);
	printf("read into 512 KiB below: %ld, grew %d\n", r, s1 < s0);
	recurse(1024); /* 4 MiB */
	uintptr_t low = *lowest & ~(PAGE - 1);
	unsigned long s2, e2;
	stack_vma(&s2, &e2);
	printf("after 4 MiB: end same %d, start - lowest page written = %ld, grew %d\n", e2 == e0, (long)s2 - (long)low, s2 < s1);
	return 0;
}
