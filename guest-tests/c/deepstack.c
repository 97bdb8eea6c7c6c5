/*
 * Deep stacks and fork with a big heap on the Unicorn backend (tools/unicorn/deepstack.test.ts).
 * "stack": recursion that touches 7 MiB of the 8 MiB stack, one 4 KiB frame per call: the
 * stack's pages take the frames just below the ones before them (kernel-model/exec/space.ts
 * allocFor), so the mirror merges them into runs (before, each page was a Unicorn region and
 * about 3.7 MiB reached the region limit). "fork": 4 MiB of heap touched in 64 KiB chunks in a
 * scattered order (a run per chunk), then a fork child reads a word of every chunk and rewrites
 * four chunks: the pages shared copy-on-write are mirrored as the CPU touches them (engine.ts
 * cowTouched; before, all of them at the fork, past the limit, and the child died by SIGSEGV).
 * "cowread": 16 MiB of heap touched in 64 KiB chunks in a scattered order, then a fork child
 * reads a word of every page (the first half in order, the second half chunk by chunk in a
 * scattered order), writes the first 1 MiB in order and one page of 32 scattered chunks, and
 * checks what it reads back; the parent then reads its whole heap back. In 3.14 every page is
 * still shared copy-on-write when read: the mirror merges the shared pages into runs and a
 * write splits off its page only (engine.ts cowWrite, cow-runs.ts); before, each shared page
 * read was a region of its own and both processes died past the region limit.
 * "thread": the same recursion on a thread's 8 MiB stack (pthread_create: glibc's stack is an
 * anonymous private mapping, MAP_STACK): its pages take the frames below the ones before them
 * too (allocFor: any anonymous private mapping's page just below a present one).
 * Output is deterministic.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define CHUNK (64 * 1024)
#define NCHUNK 64

/* one call per page of stack, touched downwards (its top byte first), as a stack grows */
__attribute__((noinline)) static unsigned recurse(unsigned depth)
{
	volatile unsigned char frame[PAGE - 64];
	frame[sizeof(frame) - 1] = (unsigned char)(depth >> 8);
	frame[0] = (unsigned char)depth;
	if (depth == 0)
		return frame[0];
	return recurse(depth - 1) + frame[0] + frame[sizeof(frame) - 1];
}

/* the value page p of chunk c holds */
static unsigned char val(unsigned c, unsigned p)
{
	return (unsigned char)(c * 16 + p + 1);
}

#define BIG_PAGES 4096 /* 16 MiB */
#define BIG_CHUNKS (BIG_PAGES / 16)

/* the word page p of the big heap holds at offset 0, before the fork */
static unsigned word(unsigned p)
{
	return p * 2654435761u + 1;
}

static int cowread(void)
{
	unsigned *heap = malloc(BIG_PAGES * PAGE);
	if (heap == NULL)
		return 1;
	const unsigned w = PAGE / sizeof(unsigned);
	/* chunk i * 37 mod 256, each chunk's pages in order */
	for (unsigned i = 0; i < BIG_CHUNKS; i++) {
		unsigned c = (i * 37) % BIG_CHUNKS;
		for (unsigned p = c * 16; p < c * 16 + 16; p++)
			heap[p * w] = word(p);
	}
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		unsigned bad = 0;
		for (unsigned p = 0; p < BIG_PAGES / 2; p++)
			bad += heap[p * w] != word(p);
		for (unsigned i = 0; i < BIG_CHUNKS / 2; i++) {
			unsigned c = BIG_CHUNKS / 2 + (i * 37) % (BIG_CHUNKS / 2);
			for (unsigned p = c * 16; p < c * 16 + 16; p++)
				bad += heap[p * w] != word(p);
		}
		/* the first 1 MiB in order, then page 5 of chunks 64 + 5 * i */
		for (unsigned p = 0; p < 256; p++)
			heap[p * w] = ~word(p);
		for (unsigned i = 0; i < 32; i++)
			heap[((64 + 5 * i) * 16 + 5) * w] = ~word((64 + 5 * i) * 16 + 5);
		for (unsigned p = 0; p < BIG_PAGES; p++) {
			int written = p < 256 || (p % 16 == 5 && p / 16 >= 64 && (p / 16 - 64) % 5 == 0 && (p / 16 - 64) / 5 < 32);
			bad += heap[p * w] != (written ? ~word(p) : word(p));
		}
		_exit(bad == 0 ? 0 : 3);
	}
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return 4;
	unsigned bad = 0;
	for (unsigned p = 0; p < BIG_PAGES; p++)
		bad += heap[p * w] != word(p);
	printf("cowread: %u KiB of heap, child %s %d, parent's heap %s\n", BIG_PAGES * PAGE / 1024,
	       WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), bad == 0 ? "intact" : "changed");
	return 0;
}

static void *thread_main(void *arg)
{
	unsigned kib = *(unsigned *)arg;
	*(unsigned *)arg = recurse(kib / 4);
	return NULL;
}

static int on_thread(unsigned kib)
{
	pthread_attr_t attr;
	pthread_t th;
	unsigned v = kib;
	pthread_attr_init(&attr);
	if (pthread_attr_setstacksize(&attr, 8u << 20) != 0 || pthread_create(&th, &attr, thread_main, &v) != 0)
		return 1;
	pthread_join(th, NULL);
	printf("thread: %u KiB, sum %u\n", kib, v);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "stack") == 0) {
		unsigned kib = argc > 2 ? (unsigned)atoi(argv[2]) : 7168;
		unsigned sum = recurse(kib / 4);
		printf("stack: %u KiB, sum %u\n", kib, sum);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "thread") == 0)
		return on_thread(argc > 2 ? (unsigned)atoi(argv[2]) : 7168);
	if (argc > 1 && strcmp(argv[1], "cowread") == 0)
		return cowread();
	unsigned char *heap = malloc(NCHUNK * CHUNK);
	if (heap == NULL)
		return 1;
	/* chunk i * 37 mod 64: every chunk once, neighbours far apart in time */
	for (unsigned i = 0; i < NCHUNK; i++) {
		unsigned c = (i * 37) % NCHUNK;
		for (unsigned p = 0; p < CHUNK / PAGE; p++)
			heap[c * CHUNK + p * PAGE] = val(c, p);
	}
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		unsigned bad = 0;
		for (unsigned c = 0; c < NCHUNK; c++)
			bad += heap[c * CHUNK + 5 * PAGE] != val(c, 5);
		for (unsigned c = 0; c < 4; c++)
			for (unsigned p = 0; p < CHUNK / PAGE; p++)
				heap[c * CHUNK + p * PAGE] = (unsigned char)(val(c, p) + 1);
		for (unsigned c = 0; c < 4; c++)
			for (unsigned p = 0; p < CHUNK / PAGE; p++)
				bad += heap[c * CHUNK + p * PAGE] != (unsigned char)(val(c, p) + 1);
		_exit(bad == 0 ? 0 : 3);
	}
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return 4;
	unsigned bad = 0;
	for (unsigned c = 0; c < 4; c++)
		bad += heap[c * CHUNK + 7 * PAGE] != val(c, 7);
	printf("fork: %u KiB of heap, child %s %d, parent's chunks %s\n", NCHUNK * CHUNK / 1024,
	       WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), bad == 0 ? "intact" : "changed");
	return 0;
}
