/*
 * What the fault-signal tests (sighandler.c, sigbus.c) read from a handler's arguments: the
 * siginfo (si_code, si_addr) and the ARM sigcontext of the frame (arch/arm/include/uapi/asm/
 * sigcontext.h: arm_pc, trap_no, error_code = the FSR, fault_address, r0-r2), recorded into
 * globals by record(); jump_out() records and leaves the handler by siglongjmp to `env`.
 * Include after <setjmp.h>, <signal.h>, <stdint.h>, <string.h> and <ucontext.h>.
 */
#ifndef SIG_FRAME_H
#define SIG_FRAME_H

static sigjmp_buf env;
static volatile int got, code, trap, handled;
static volatile uintptr_t addr, pc, faddr, r0, r1, r2;
static volatile unsigned fsr;

static inline void record(int sig, siginfo_t *si, void *ucp)
{
	ucontext_t *uc = ucp;
	got = sig;
	code = si->si_code;
	addr = (uintptr_t)si->si_addr;
	pc = uc->uc_mcontext.arm_pc;
	trap = uc->uc_mcontext.trap_no;
	fsr = uc->uc_mcontext.error_code;
	faddr = uc->uc_mcontext.fault_address;
	r0 = uc->uc_mcontext.arm_r0;
	r1 = uc->uc_mcontext.arm_r1;
	r2 = uc->uc_mcontext.arm_r2;
}

static inline void jump_out(int sig, siginfo_t *si, void *ucp)
{
	record(sig, si, ucp);
	siglongjmp(env, 1);
}

/* a Thumb function's address without its interworking bit, to compare with a frame's PC */
static inline uintptr_t fn(const void *f) { return (uintptr_t)f & ~(uintptr_t)1; }

/* install h for sig with SA_SIGINFO */
static inline void handle(int sig, void (*h)(int, siginfo_t *, void *))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, NULL);
}

#endif
