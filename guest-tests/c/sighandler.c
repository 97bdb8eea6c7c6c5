/*
 * Signal handlers for faults on the Unicorn backend: a SIGSEGV handler gets the faulting
 * instruction's PC, the registers from before it, si_code/si_addr and the frame's trap_no,
 * error_code (the FSR) and fault_address; a handler that fixes the mapping and returns runs the
 * instruction again (inside a Thumb IT block too: the IT state is part of the frame); SIGILL
 * goes to its handler at the undefined instruction; a blocked SIGSEGV is forced to its default
 * action. Output is deterministic (addresses only as offsets).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "sig-frame.h"

#define PAGE 4096

static char *fix_page; /* the page the fixing handler makes readable and writable */

static void fix_and_return(int sig, siginfo_t *si, void *ucp)
{
	record(sig, si, ucp);
	handled++;
	mprotect(fix_page, PAGE, PROT_READ | PROT_WRITE);
}

/* the third instruction loads through r0; r1 and r2 are set before it */
__attribute__((naked, noinline)) static int load3(__attribute__((unused)) volatile int *p)
{
	__asm__ volatile("movs r1, #1\n\tmovs r2, #2\n\tldr r0, [r0]\n\tbx lr\n");
}

/* the second instruction stores r1 through r0; r1 changes after it */
__attribute__((naked, noinline)) static void store2(__attribute__((unused)) volatile int *p)
{
	__asm__ volatile("movs r1, #7\n\tstr r1, [r0]\n\tmovs r1, #9\n\tbx lr\n");
}

/* ITE EQ with Z set: the load runs, the MOVNE must not (it would add 5) */
__attribute__((naked, noinline)) static int it_probe(__attribute__((unused)) volatile int *p)
{
	__asm__ volatile("movs r2, #0\n\tcmp r2, #0\n\tite eq\n\tldreq r0, [r0]\n\tmovne r2, #5\n\tadds r0, r0, r2\n\tbx lr\n");
}

__attribute__((naked, noinline)) static void undefined(void)
{
	__asm__ volatile("udf #7\n\tbx lr\n");
}

int main(void)
{
	char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int st, v;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (p == MAP_FAILED)
		return 1;
	munmap(p + PAGE, PAGE);       /* a hole */
	mprotect(p, PAGE, PROT_READ); /* a read-only page */
	handle(SIGSEGV, jump_out);
	handle(SIGILL, jump_out);

	/* 1: a load from the hole, the third instruction of load3 */
	if (!sigsetjmp(env, 1))
		load3((volatile int *)(p + PAGE + 8));
	printf("load: sig %d code %d addr +%ld pc +%ld r1 %ld r2 %ld trap %d fsr 0x%x fault_address +%ld\n", got, code,
	       (long)(addr - (uintptr_t)p), (long)(pc - fn(load3)), (long)r1, (long)r2, trap, fsr, (long)(faddr - (uintptr_t)p));

	/* 2: a store to the read-only page, the second instruction of store2: r1 is still 7 */
	if (!sigsetjmp(env, 1))
		store2((volatile int *)(p + 16));
	printf("store: sig %d code %d addr +%ld pc +%ld r1 %ld trap %d fsr 0x%x\n", got, code, (long)(addr - (uintptr_t)p),
	       (long)(pc - fn(store2)), (long)r1, trap, fsr);

	/* 3: a handler that makes the page writable and returns: the store runs again and succeeds */
	handle(SIGSEGV, fix_and_return);
	fix_page = p;
	store2((volatile int *)(p + 16));
	printf("retried store: handled %d, the word %d\n", handled, *(volatile int *)(p + 16));

	/* 4: the same inside an IT block: the load is retried under the IT state it faulted in */
	fix_page = p + 2 * PAGE;
	*(volatile int *)(p + 2 * PAGE) = 40;
	mprotect(p + 2 * PAGE, PAGE, PROT_NONE);
	v = it_probe((volatile int *)(p + 2 * PAGE));
	printf("it block: handled %d, pc +%ld, result %d\n", handled, (long)(pc - fn(it_probe)), v);

	/* 5: SIGILL at the undefined instruction */
	if (!sigsetjmp(env, 1))
		undefined();
	printf("undefined: sig %d code %d at +%ld trap %d\n", got, code, (long)(addr - fn(undefined)), trap);

	/* 6: a blocked SIGSEGV is forced to its default action */
	if (fork() == 0) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGSEGV);
		sigprocmask(SIG_BLOCK, &s, NULL);
		handle(SIGSEGV, jump_out);
		(void)*(volatile int *)(p + PAGE);
		_exit(0);
	}
	wait(&st);
	printf("blocked: child %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exited", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return 0;
}
