/**
 * The fixed C text of the reproducers tools/fuzz/emit-c.ts emits: the runtime every program has
 * (the fd table the harness resolves fds with, the work areas, sysfs helpers, the call printer),
 * the processes (a coordinator and one worker per process slot: docs/FUZZING.md, "C reproducers")
 * and the coordinator's main(). The emitter puts, between RUNTIME_C and MAIN_C, the per-program
 * parts: bind_devices, check_finding, do_call (the calls a worker makes), coord_call (the calls
 * the coordinator makes: run, exit), the plan table and the macros MAIN_C reads (NSTEPS, OOPS_AT,
 * AT_EXIT, END_CHECK, CHECK_SLOT, CHECK_INC; NSLOTS and NINC before RUNTIME_C).
 */

import { ARM_NR as N } from '../../kernel-model/exec/arm-nr.js';
import { NR as UNR } from '../../kernel-model/uapi/constants.js';
import { RUNTIME_RES_C } from './emit-c-runtime-res.js';

/** the runtime: needs SIG, PAGE, MAXFDS, MAXMAPS, NSLOTS, NINC */
export const RUNTIME_C = String.raw`#define UNUSED __attribute__((unused))
static char *scratch, *ro_area, *dma_area;
enum { K_ANY, K_CONTAINER, K_GROUP, K_DEVICE, K_EVENTFD, K_IOMMUFD, K_FAULT };
/* the fds this program holds, their kind, (group fds) their IOMMU group and their open file, ascending (the harness resolves "the i-th live fd of a kind"); an open
 * file is a number: open and the fd-returning ioctls give a new one, dup/dup2/dup3/F_DUPFD (raw_fds) the old fd's, and a fork child keeps its parent's (a copy of this memory) */
static int tfd[MAXFDS], tkind[MAXFDS], tgrp[MAXFDS], tfile[MAXFDS], ntfd, nfiles;
static void *maps[MAXMAPS];
static size_t maplen[MAXMAPS];
static int nmaps;
static int report_fd = -1;
/* the IOAS ids IOMMU_IOAS_ALLOC gave on each /dev/iommu open file and DESTROY did not take back, ascending per file (the harness reads its context's IOAS ids: Value { ioas, mk }) */
static int iofd[MAXFDS], ioid[MAXFDS], nio;
/* the fd of the call whose { ioas }, { dev }, { hwpt } values are being written (make_ioas, ioas_of, ...) */
static int ioas_fd UNUSED = -1;
/* the devices bound to each /dev/iommu open file's context: that file, the device's (cdev) open file, out_devid, ascending per file (the harness reads its context's device ids: Value { dev, mk }) */
static int dvi[MAXFDS], dvd[MAXFDS], dvid[MAXFDS], ndv;

static long ret(long r) { return r == -1 ? -errno : r; }

/* fd, its kind, (group fds) the IOMMU group N of the /dev/vfio/N it opened, else -1, and its open file (0: a new one) */
UNUSED static void track_file(long fd, int kind, int grp, int file)
{
	int i, j;
	if (file == 0) file = ++nfiles;
	for (i = 0; i < ntfd && tfd[i] < fd; i++)
		;
	if (i < ntfd && tfd[i] == fd) { tkind[i] = kind; tgrp[i] = grp; tfile[i] = file; return; }
	if (ntfd == MAXFDS) return;
	for (j = ntfd; j > i; j--) { tfd[j] = tfd[j - 1]; tkind[j] = tkind[j - 1]; tgrp[j] = tgrp[j - 1]; tfile[j] = tfile[j - 1]; }
	tfd[i] = (int)fd; tkind[i] = kind; tgrp[i] = grp; tfile[i] = file; ntfd++;
}

UNUSED static void track_in(long fd, int kind, int grp) { track_file(fd, kind, grp, 0); }

UNUSED static void track(long fd, int kind) { track_in(fd, kind, -1); }

/* a group fd: the group number is the path's last component (the ownership check asks it by number) */
UNUSED static void track_group(long fd, const char *path)
{
	const char *n = strrchr(path, '/');
	track_in(fd, K_GROUP, atoi(n ? n + 1 : path));
}

/* the open file of fd, 0 when it is not tracked */
UNUSED static int file_of(int fd)
{
	int k;
	for (k = 0; k < ntfd; k++)
		if (tfd[k] == fd) return tfile[k];
	return 0;
}

/* whether a tracked fd holds open file f */
UNUSED static int file_of_any(int f)
{
	int k;
	for (k = 0; k < ntfd; k++)
		if (tfile[k] == f) return 1;
	return 0;
}

UNUSED static void untrack(int fd)
{
	int i, f = file_of(fd);
	for (i = 0; i < ntfd; i++)
		if (tfd[i] == fd) {
			memmove(&tfd[i], &tfd[i + 1], (ntfd - i - 1) * sizeof tfd[0]);
			memmove(&tkind[i], &tkind[i + 1], (ntfd - i - 1) * sizeof tkind[0]);
			memmove(&tgrp[i], &tgrp[i + 1], (ntfd - i - 1) * sizeof tgrp[0]);
			memmove(&tfile[i], &tfile[i + 1], (ntfd - i - 1) * sizeof tfile[0]);
			ntfd--;
			break;
		}
	/* the file lives on while another fd (a dup) holds it */
	if (f == 0 || file_of_any(f)) return;
	/* the context went with its last fd: its IOAS ids too */
	for (i = 0; i < nio;)
		if (iofd[i] == f) {
			memmove(&iofd[i], &iofd[i + 1], (nio - i - 1) * sizeof iofd[0]);
			memmove(&ioid[i], &ioid[i + 1], (nio - i - 1) * sizeof ioid[0]);
			nio--;
		} else i++;
	/* a closed cdev unbinds its device; a closed /dev/iommu file names its context no longer */
	for (i = 0; i < ndv;)
		if (dvi[i] == f || dvd[i] == f) {
			memmove(&dvi[i], &dvi[i + 1], (ndv - i - 1) * sizeof dvi[0]);
			memmove(&dvd[i], &dvd[i + 1], (ndv - i - 1) * sizeof dvd[0]);
			memmove(&dvid[i], &dvid[i + 1], (ndv - i - 1) * sizeof dvid[0]);
			ndv--;
		} else i++;
}

/* the new fd nfd of a successful dup of old (dup, dup2, dup3, fcntl F_DUPFD): the same open file, kind and group; what nfd held before is closed */
UNUSED static void track_dup(int old, long nfd)
{
	int k;
	if (nfd == old) return;
	untrack((int)nfd);
	for (k = 0; k < ntfd; k++)
		if (tfd[k] == old) { track_file(nfd, tkind[k], tgrp[k], tfile[k]); return; }
}

/*
 * a raw syscall's effect on the fd table (the harness reads the process's own): close (6), dup (41),
 * dup2 (63), dup3 (358), fcntl/fcntl64 (55/221) with F_DUPFD (0) or F_DUPFD_CLOEXEC (1030) (ARM EABI
 * numbers: kernel-model/exec/arm-nr.ts; fs/file.c, fs/fcntl.c); eventfd (351) and eventfd2 (356), which
 * succeed with any count (fs/eventfd.c do_eventfd: flags other than EFD_SEMAPHORE | EFD_CLOEXEC |
 * EFD_NONBLOCK are -EINVAL), give an eventfd as the eventfd call does. Other fds a raw call makes are not tracked
 */
UNUSED static void raw_fds(long nr, uint32_t a0, uint32_t a1, long rc)
{
	if (rc < 0) return;
	if (nr == ${N.close}) untrack((int)a0);
	else if (nr == ${N.dup} || nr == ${N.dup2} || nr == ${N.dup3} || ((nr == ${N.fcntl} || nr == ${N.fcntl64}) && (a1 == 0 || a1 == 1030))) track_dup((int)a0, rc);
	else if (nr == ${UNR.eventfd} || nr == ${UNR.eventfd2}) track(rc, K_EVENTFD);
}

${RUNTIME_RES_C}/* the base name of the sysfs link /sys/bus/BUS/devices/DEV/NAME (its driver, its iommu_group) into out; -1 when there is none */
UNUSED static int sysfs_link(const char *bus, const char *dev, const char *name, char *out, int size)
{
	char p[300], l[256], *b;
	ssize_t n;
	snprintf(p, sizeof p, "/sys/bus/%s/devices/%s/%s", bus, dev, name);
	n = readlink(p, l, sizeof l - 1);
	if (n <= 0) return -1;
	l[n] = 0;
	b = strrchr(l, '/');
	snprintf(out, size, "%s", b ? b + 1 : l);
	return 0;
}

/* echo value > path: 0 or -errno */
UNUSED static long echo(const char *path, const char *value)
{
	char buf[4200];
	int fd = open(path, O_WRONLY);
	long r;
	if (fd < 0) return -errno;
	snprintf(buf, sizeof buf, "%s\n", value);
	r = ret(write(fd, buf, strlen(buf)));
	close(fd);
	return r < 0 ? r : 0;
}

/* what an exit releases, without exiting (the end-of-run check of a leak reads the process's
 * counters afterwards): close every fd the program made and unmap every mapping it made */
static void exit_like(void)
{
	while (ntfd) { close(tfd[ntfd - 1]); ntfd--; }
	while (nmaps) { munmap(maps[nmaps - 1], maplen[nmaps - 1]); nmaps--; }
}

/* the harness's process, mapped in its order: a scratch buffer of 3 pages whose third is unmapped at once,
 * then 2 read-only pages (the model's mmap puts them in that hole, right after the 2 scratch pages: a tail
 * pointer's bytes past the scratch buffer read the zeroed read-only page and cannot be written; a kernel
 * whose mmap places them elsewhere leaves the hole unmapped, and such reads fault), then the DMA area */
static int setup_areas(void)
{
	scratch = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch != MAP_FAILED) munmap(scratch + 2 * PAGE, PAGE);
	ro_area = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dma_area = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED || ro_area == MAP_FAILED || dma_area == MAP_FAILED) { printf("could not map the work areas: %s\n", strerror(errno)); return -1; }
	return 0;
}

/* The harness's process has no open file (no stdio): move stdout and the reply pipe to fds 200 and 201
 * and close 0-2, so that the fds the calls get, and raw fd numbers, are the same as in the model
 * (the command pipes are at CMD_FD0 and up). (glibc's stdout is an assignable variable.) */
static void clear_fds(void)
{
	int out = dup2(1, 200), rep = dup2(report_fd, 201);
	FILE *f;
	if (out < 0 || rep < 0) _exit(2);
	close(0); close(1); close(2);
	if (report_fd != rep) close(report_fd);
	report_fd = rep;
	f = fdopen(out, "w");
	if (!f) _exit(2);
	setvbuf(f, NULL, _IONBF, 0);
	stdout = f;
}

static void errname(long rc, char *out, size_t len)
{
	if (rc < 0) snprintf(out, len, "-1 (errno %ld, %s)", -rc, strerrorname_np((int)-rc) ? strerrorname_np((int)-rc) : "?");
	else snprintf(out, len, "%ld", rc);
}

UNUSED static void show(int i, long rc, int as_model, const char *model)
{
	char r[96];
	errname(rc, r, sizeof r);
	printf("call %d = %s%s%s\n", i, r, as_model ? "" : "   <- differs from the model: ", as_model ? "" : model);
}

UNUSED static void hexdump(const uint8_t *b, int n, char *out)
{
	int i;
	for (i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = 0;
}

/* ---- processes. The harness has process slots (P0 root with CAP_IPC_LOCK, P1 root without it,
 * P2 uid 1000) and a call runs in its slot's process; fork, exit and an Oops replace a slot's
 * process. Here main() is a coordinator that makes no call itself: it sends each call's number
 * down the command pipe of the process that makes it (a worker) and waits for its reply on one
 * reply pipe, or for its death (waitpid: a kernel Oops kills the caller, arch/arm/kernel/traps.c
 * oops_end). Every worker is the coordinator's child: the coordinator forks a fresh slot's
 * process, and a fork call is a clone with CLONE_PARENT. Each process that ever holds a slot (an
 * incarnation, numbered by the emitter) has its command pipe at CMD_FD0 + its number, in every
 * worker: a fork child takes its own from its parent. */
enum { C_CALL = 1, C_CHECK, C_EXIT_LIKE, C_EXIT };
enum { R_READY = 1, R_DONE, R_CHECK };
struct msg { int32_t inc, kind, arg; };
#define CMD_FD0 210

static const char *group_path;
static int cmd_fd = -1, my_slot = -1, my_inc = -1, became, became_status;
static long last_rc;
static long do_call(int i);
static int check_finding(long rc);

/* include/uapi/linux/capability.h, spelled out (the program includes no kernel header but <linux/vfio.h>) */
struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };
#define CAP_VERSION_3 0x20080522u
#define CAP_IPC_LOCK_BIT 14
#ifndef CLONE_PARENT
#define CLONE_PARENT 0x00008000
#endif

/* slot s's credentials (the harness's slotProcess): RLIMIT_MEMLOCK 64 KiB (3.14's default,
 * MLOCK_LIMIT) for all; P0 root with CAP_IPC_LOCK; P1 root without it in its effective set (it
 * stays permitted, so that a fork of P1 into P0 can take it back: kernel/capability.c capset);
 * P2 uid 1000 (a setuid from root clears the capability sets: security/commoncap.c
 * cap_emulate_setxuid). 0, or -errno */
static int set_creds(int slot)
{
	struct rlimit rl = { 64 * 1024, 64 * 1024 };
	struct cap_header h = { CAP_VERSION_3, 0 };
	struct cap_data d[2];
	if (slot == 2 && getuid() == 1000) return 0;
	if (getuid() != 0) return -EPERM; /* uid 1000 cannot be root again: the emitter refuses such a fork */
	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0) return -errno;
	if (slot == 2) return setuid(1000) == 0 ? 0 : -errno;
	if (syscall(SYS_capget, &h, d) != 0) return -errno;
	if (slot == 1) d[0].effective &= ~(1u << CAP_IPC_LOCK_BIT);
	else d[0].effective |= d[0].permitted & (1u << CAP_IPC_LOCK_BIT);
	h.version = CAP_VERSION_3;
	h.pid = 0;
	return syscall(SYS_capset, &h, d) == 0 ? 0 : -errno;
}

static void reply(int kind, long v)
{
	struct msg m = { my_inc, kind, (int32_t)v };
	if (write(report_fd, &m, sizeof m) != sizeof m) _exit(2);
}

/* fork of this process into slot slot as incarnation inc (the harness's fork: the child has a
 * copy of the memory and the fd table, and the slot's credentials). CLONE_PARENT makes the
 * coordinator the child's parent too (kernel/fork.c copy_process), so that it can wait for it.
 * The parent gets the child's pid (or -errno); the child gets 0, with became set. */
UNUSED static long fork_into(int slot, int inc)
{
	long pid = ret(syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0));
	if (pid != 0) return pid;
	my_slot = slot;
	my_inc = inc;
	cmd_fd = CMD_FD0 + inc;
	became = 1;
	became_status = set_creds(slot) == 0 ? 0 : 2;
	return 0;
}

/* a worker: the calls, the check and the exit the coordinator asks for, one at a time */
static void worker_loop(void)
{
	struct msg m;
	for (;;) {
		if (read(cmd_fd, &m, sizeof m) != sizeof m) _exit(0);
		switch (m.kind) {
		case C_CALL:
			last_rc = do_call(m.arg);
			if (became) {
				/* a fork child, in its first moment */
				became = 0;
				reply(R_READY, became_status);
				if (became_status) _exit(2);
			} else
				reply(R_DONE, last_rc);
			break;
		case C_CHECK:
			reply(R_CHECK, check_finding(last_rc));
			break;
		case C_EXIT_LIKE:
			exit_like();
			reply(R_DONE, 0);
			break;
		default:
			_exit(0);
		}
	}
}

/* ---- the coordinator */
static int cmd_w[NINC], reply_r = -1, slot_inc[NSLOTS];
static pid_t wpid[NINC];
static int dead_status;
static struct msg stash[8];
static int nstash;

/* the reply pipe and every incarnation's command pipe (its read end at CMD_FD0 + n); 0 or -1 */
static int coord_init(void)
{
	int p[2], k;
	signal(SIGPIPE, SIG_IGN);
	for (k = 0; k < NSLOTS; k++) slot_inc[k] = -1;
	if (pipe(p) != 0) return -1;
	reply_r = p[0];
	report_fd = p[1];
	for (k = 0; k < NINC; k++) {
		if (pipe(p) != 0 || dup2(p[0], CMD_FD0 + k) != CMD_FD0 + k) return -1;
		close(p[0]);
		cmd_w[k] = p[1];
	}
	return 0;
}

static void send_cmd(int inc, int kind, int arg)
{
	struct msg m = { inc, kind, arg };
	if (write(cmd_w[inc], &m, sizeof m) != sizeof m) { /* it died: await sees it */ }
}

/* 0: incarnation inc replied kind (its value in *v); 1: it died first (its wait status in dead_status) */
static int await(int inc, int kind, long *v)
{
	struct pollfd p;
	struct msg m;
	int k, st;
	for (;;) {
		for (k = 0; k < nstash; k++)
			if (stash[k].inc == inc && stash[k].kind == kind) { *v = stash[k].arg; stash[k] = stash[--nstash]; return 0; }
		p.fd = reply_r; p.events = POLLIN; p.revents = 0;
		if (poll(&p, 1, 10) > 0) {
			if (read(reply_r, &m, sizeof m) != sizeof m) continue;
			if (m.inc == inc && m.kind == kind) { *v = m.arg; return 0; }
			if (nstash < 8) stash[nstash++] = m; /* a fork child's READY before its parent's reply */
			continue;
		}
		if (wpid[inc] > 0 && waitpid(wpid[inc], &st, WNOHANG) == wpid[inc]) { wpid[inc] = 0; dead_status = st; return 1; }
	}
}

/* a fresh process in the slot (the harness's newSlot): credentials, work areas, no fd but the pipes */
static void worker_main(int slot, int inc)
{
	int k;
	for (k = 0; k < NINC; k++) close(cmd_w[k]);
	close(reply_r);
	my_slot = slot;
	my_inc = inc;
	cmd_fd = CMD_FD0 + inc;
	if (set_creds(slot) != 0) { printf("P%d: cannot take the slot's credentials: %s\n", slot, strerror(errno)); reply(R_READY, 2); _exit(2); }
	if (setup_areas() != 0) { reply(R_READY, 2); _exit(2); }
	clear_fds();
	reply(R_READY, 0);
	worker_loop();
	_exit(0);
}

/* the slot's process exits; its wait status, or -1 when the slot has none */
static int end_slot(int slot)
{
	int inc = slot_inc[slot], st = 0;
	if (inc < 0) return -1;
	slot_inc[slot] = -1;
	if (wpid[inc] <= 0) return -1;
	send_cmd(inc, C_EXIT, 0);
	if (waitpid(wpid[inc], &st, 0) != wpid[inc]) st = 0;
	wpid[inc] = 0;
	return st;
}

/* incarnation inc holds the slot: a process the coordinator forks when it does not yet; 0 or -1 */
static int ensure(int slot, int inc)
{
	pid_t pid;
	long v;
	if (slot_inc[slot] == inc && wpid[inc] > 0) return 0;
	end_slot(slot);
	pid = fork();
	if (pid < 0) return -1;
	if (pid == 0) worker_main(slot, inc);
	wpid[inc] = pid;
	slot_inc[slot] = inc;
	return await(inc, R_READY, &v) != 0 || v != 0 ? -1 : 0;
}

/* the verdict is out: every process exits, in slot order */
static int finish(int code)
{
	int s;
	for (s = 0; s < NSLOTS; s++) end_slot(s);
	return code;
}

static int not_set_up(int slot)
{
	printf("NOT REPRODUCED %s: the process of P%d could not set up\n", SIG, slot);
	return finish(2);
}
`;

/** main(): needs the plan (struct plan, A_COORD, A_FORK), coord_call and the verdict macros */
export const MAIN_C = String.raw`
/* the coordinator: each call in its slot's process, then the check of the finding */
int main(int argc, char **argv)
{
	const struct plan *s;
	int i, st;
	long v;
	setvbuf(stdout, NULL, _IONBF, 0);
	group_path = argc > 1 ? argv[1] : group_path_default;
	bind_devices();
	if (coord_init() != 0) { printf("NOT REPRODUCED %s: pipe: %s\n", SIG, strerror(errno)); return 2; }
	for (i = 0; i < NSTEPS; i++) {
		s = &plan[i];
		if (s->act == A_COORD) { coord_call(i); continue; }
		if (s->act == A_FORK && s->into != s->slot) end_slot(s->into);
		if (ensure(s->slot, s->inc) != 0) return not_set_up(s->slot);
		send_cmd(s->inc, C_CALL, i);
		if (await(s->inc, R_DONE, &v) != 0) {
			/* the process died inside call i */
			slot_inc[s->slot] = -1;
			st = dead_status;
			if (i == OOPS_AT && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) {
				printf("REPRODUCED %s: the process was killed (signal %d) inside call %d: the kernel Oopsed (see the kernel log)\n", SIG, WTERMSIG(st), i);
				return finish(1);
			}
			if (s->model_end == 1 && WIFSIGNALED(st)) { printf("call %d = killed by signal %d, as the model's process was\n", i, WTERMSIG(st)); continue; }
			if (s->model_end == 2 && WIFEXITED(st)) { printf("call %d = exit(%d)\n", i, WEXITSTATUS(st)); continue; }
			if (WIFSIGNALED(st)) printf("NOT REPRODUCED %s: the process was killed by signal %d in call %d\n", SIG, WTERMSIG(st), i);
			else printf("NOT REPRODUCED %s: the process exited with status %d in call %d\n", SIG, WEXITSTATUS(st), i);
			return finish(0);
		}
		if (s->act == A_FORK && v > 0) {
			wpid[s->new_inc] = (pid_t)v;
			slot_inc[s->into] = s->new_inc;
			if (await(s->new_inc, R_READY, &v) != 0 || v != 0) return not_set_up(s->into);
		}
		if (s->model_end != 0) {
			printf("call %d: the model's process ended in this call, this one did not   <- differs from the model\n", i);
			end_slot(s->slot);
		}
	}
#if AT_EXIT
	/* the end of the run (Harness.finish): the processes exit in slot order; the kernel releases their files */
	for (i = 0; i < NSLOTS; i++) {
		if (slot_inc[i] < 0) continue;
		st = end_slot(i);
		if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) {
			printf("REPRODUCED %s: the process of P%d was killed (signal %d) while exiting, after its last call: the kernel Oopsed in the exit-time release of its files (see the kernel log)\n", SIG, i, WTERMSIG(st));
			return finish(1);
		}
	}
	printf("NOT REPRODUCED %s: every process made its calls and exited\n", SIG);
	return finish(0);
#else
#if END_CHECK
	/* the end of the run (Harness.finish): every process releases what it holds, in slot order, and the check reads the counters after */
	for (i = 0; i < NSLOTS; i++) {
		if (slot_inc[i] < 0) continue;
		send_cmd(slot_inc[i], C_EXIT_LIKE, 0);
		if (await(slot_inc[i], R_DONE, &v) != 0) { printf("NOT REPRODUCED %s: the process of P%d died releasing its files (wait status 0x%x)\n", SIG, i, dead_status); slot_inc[i] = -1; return finish(0); }
	}
#endif
	if (ensure(CHECK_SLOT, CHECK_INC) != 0) return not_set_up(CHECK_SLOT);
	send_cmd(CHECK_INC, C_CHECK, 0);
	if (await(CHECK_INC, R_CHECK, &v) != 0) { slot_inc[CHECK_SLOT] = -1; printf("NOT REPRODUCED %s: the process died in the check (wait status 0x%x)\n", SIG, dead_status); return finish(0); }
	switch (v) {
	case 1: printf("REPRODUCED %s\n", SIG); return finish(1);
	case 3: printf("UNCHECKED %s: the calls ran; the finding is not observable from here\n", SIG); return finish(3);
	case 2: printf("NOT REPRODUCED %s: the program could not set up\n", SIG); return finish(2);
	default: printf("NOT REPRODUCED %s\n", SIG); return finish(0);
	}
#endif
}
`;
