/*
 * Deep stacks and fork with a big heap on the Unicorn backend (tools/unicorn/deepstack.test.ts).
 * "stack": recursion that touches 7 MiB of the 8 MiB stack, one 4 KiB frame per call: the
 * stack's pages take the frames just below the ones before them (kernel-model/exec/space.ts
 * allocFor), so the mirror merges them into runs (before, each page was a Unicorn region and
 * about 3.7 MiB reached the region limit). "fork": 4 MiB of heap touched in 64 KiB chunks in a
 * scattered order (a run per chunk), then a fork child reads a word of every chunk and rewrites
 * four chunks: the pages shared copy-on-write are mirrored as the CPU touches them (engine.ts
 * cowTouched; before, all of them at the fork, past the limit, and the child died by SIGSEGV).
 * Output is deterministic.
 */
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

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "stack") == 0) {
		unsigned kib = argc > 2 ? (unsigned)atoi(argv[2]) : 7168;
		unsigned sum = recurse(kib / 4);
		printf("stack: %u KiB, sum %u\n", kib, sum);
		return 0;
	}
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
