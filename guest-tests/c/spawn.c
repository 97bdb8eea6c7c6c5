/*
 * Benchmark program: N rounds of fork + execve("/proc/self/exe", "spawn 0") + waitpid
 * (tools/unicorn/bench.ts: the fork+exec+wait round trip). "spawn 0" exits at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	for (int i = 0; i < n; i++) {
		pid_t c = fork();
		if (c == 0) {
			char *args[] = { "spawn", "0", NULL };
			execv("/proc/self/exe", args);
			_exit(127);
		}
		int st;
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("round %d failed: status 0x%x\n", i, st);
			return 1;
		}
	}
	return 0;
}
