/**
 * C reproducers for fuzz findings (issue 22): a finding's program (Call[] with symbolic fds,
 * pointers and offsets) becomes a standalone C program that uses only <linux/vfio.h> and libc,
 * builds with guest-tests/c/build.sh (static armhf) and runs under `run --cpu unicorn --elf`
 * or on a real board with that kernel.
 *
 * Shape of the emitted program (docs/FUZZING.md, "C reproducers"):
 * - main() is a coordinator that makes no call itself: each call runs in a worker process, the
 *   process of the harness's slot that makes it (P0 root with CAP_IPC_LOCK, P1 root without it,
 *   P2 uid 1000: the worker takes the slot's credentials with setrlimit, capset and setuid). The
 *   coordinator sends each call's number down the worker's command pipe and waits for its reply,
 *   or for its death: a kernel Oops kills the calling process (arch/arm/kernel/traps.c oops_end ->
 *   make_task_dead(SIGSEGV)), and the coordinator, every worker's parent, reports it. A `fork`
 *   call is a clone with CLONE_PARENT in the worker (the child takes the other slot); an `exit`
 *   ends the worker, and the slot's next call gets a fresh one (emit-c-runtime.ts).
 * - the coordinator binds the device to the VFIO driver by sysfs writes when it is not bound yet
 *   (what the fuzz harness's administrator does); each worker maps the areas the harness's process has
 *   (scratch buffer, the read-only pages mapped where its third page was, the DMA area), then makes the calls.
 *   fds are resolved as the harness resolves them: the i-th (modulo) live fd of that kind.
 * - after the faulting call it checks what shows the finding: the errno, the leaked bytes
 *   (GET_REGION_INFO's struct, a read compared with the mmap'd registers), a DMA probe with
 *   the PL330 for the DMA isolation findings, a process's VmLck in /proc/self/status (locked_vm),
 *   or (Oops) the worker's death inside that call (oops:exit, an Oops of the end-of-run exit: a
 *   worker's death as it exits after the last call).
 * - last line: "REPRODUCED <sig>: <evidence>" (exit 1, as `fuzz --replay` exits 1 when the
 *   finding reproduces), "NOT REPRODUCED <sig>: <why>" (exit 0), or "UNCHECKED <sig>: ..."
 *   (exit 3) for invariants a user program cannot observe (pinned-page counts, the
 *   reference model's state); 2 when the program could not start or a worker could not take
 *   its slot.
 *
 * The TypeScript harness is the reference: the emitter replays the program in it (a fresh
 * System, as `fuzz --replay` does) for the signature, its message and every call's result,
 * which the program prints next to its own results ("model: ...").
 */
import { NPROC } from './arb.js';
import { loadBaseline, matchBaseline } from './baseline.js';
import { runProgram } from './engine.js';
import { DEFAULT_SUPPRESSIONS, DEVICE, FUZZ_BOARD, Harness, type Finding, type StepRecord } from './harness.js';
import { MAIN_C, RUNTIME_C } from './emit-c-runtime.js';
import { callC, cmt, cstr, expectC, type Ctx } from './emit-c-calls.js';
import { checkHelpers } from './emit-c-checks.js';

export { dmaTarget } from './emit-c-checks.js';
import { formatCall, type Call } from './program.js';

const PAGE = 4096;

export interface EmitInput {
  profile: string;
  program: readonly Call[];
  /** the signature the finding file names (the replay's own signature is used when they differ) */
  sig?: string;
  /** where it came from (a finding file's path), for the header comment */
  source?: string;
  /** why it is known: the baseline's reason (the review citation), for the header comment */
  why?: string;
  /** the file's message: where the model gives no finding (another profile), the check of `sig` uses it (the DMA probe's IOVA) */
  message?: string;
  /** the file's `suppressed` list: the replay suppresses these too */
  suppressed?: readonly string[];
}

export interface EmitResult {
  /** the C source */
  c: string;
  /** the signature the TypeScript harness gives for the program (what the C program checks), or null when it runs clean */
  sig: string | null;
  /** the harness's finding (message, step), or null */
  finding: Finding | null;
  /** how the program shows the finding: 'oops' | 'region-info' | 'read-oracle' | 'errno' | 'return' | 'dma-probe' | 'unchecked' */
  check: CheckKind;
  /** the harness's transcript of the replay (each call's line and result: what the program prints next to its own) */
  transcript: StepRecord[];
}

export type CheckKind = 'oops' | 'region-info' | 'read-oracle' | 'errno' | 'return' | 'dma-probe' | 'ownership' | 'locked-vm' | 'unchecked';

export class EmitError extends Error {}

/** the signatures ignored while replaying for the emitter: the default suppressions and the finding file's `suppressed` list, except the finding's own */
function replayIgnore(sig: string | undefined, suppressed: readonly string[] = []): Set<string> {
  return new Set([...DEFAULT_SUPPRESSIONS, ...suppressed].filter((s) => s !== sig));
}

/** Which check a signature gets. */
export function checkKind(sig: string): CheckKind {
  if (sig.startsWith('oops:')) return 'oops';
  if (sig === 'region-info-leak') return 'region-info';
  if (sig === 'rw-offset-mismatch') return 'read-oracle';
  if (sig.startsWith('bad-errno:')) return 'errno';
  if (sig.startsWith('bad-return:')) return 'return';
  if (sig === 'dma-unmapped' || sig === 'dma-readable-without-read-flag' || sig === 'dma-missing' || sig === 'dma-wrong-page' || sig === 'dma-stale-page') return 'dma-probe';
  if (sig === 'ownership') return 'ownership';
  if (sig === 'locked-vm' || sig === 'leak-locked-vm') return 'locked-vm';
  return 'unchecked';
}

/**
 * Whether a transcript result is the death of the calling process: a kernel Oops ("killed by
 * kernel Oops: ...") or a user fault the harness's process took in the call (a load or store
 * through a mapping: GuestTrap's reason, kernel-model/process/mm.ts, "write not permitted by the
 * mapping's protection (r--)", "bus error on device mapping ..."), which kills it with SIGSEGV or
 * SIGBUS as it kills the worker; not a number, an errno, a raw exit or a host exception.
 */
export function killedIn(ret: string): boolean {
  return ret !== '' && ret !== 'exception' && !ret.startsWith('exit(') && !/^-?\d+$/.test(ret) && !/^-[A-Z][A-Z0-9]*$/.test(ret) && !ret.startsWith('host exception');
}

interface PlanStep {
  act: 'A_CALL' | 'A_COORD' | 'A_FORK';
  slot: number;
  inc: number;
  into: number;
  newInc: number;
  /** 0: the process goes on; 1: the model's process was killed in the call; 2: it exited (a raw exit) */
  modelEnd: 0 | 1 | 2;
}

interface Plan {
  steps: PlanStep[];
  /** how many processes ever hold a slot (incarnations) */
  nInc: number;
  forkInc: Map<Call, number>;
  checkSlot: number;
  checkInc: number;
  endCheck: boolean;
}

/**
 * Which process makes each call, as the harness replaced them: a slot's first call gets a fresh
 * process (the coordinator forks it), and so does its first call after an exit, after the
 * model's process died in a call (an Oops, a raw exit) or after a fork into it failed; a fork
 * into another slot makes the child that slot's process. The check runs in the process of the
 * slot the finding names (locked_vm: the process whose counter is wrong) or of the faulting call.
 */
function planProcesses(calls: readonly Call[], transcript: readonly StepRecord[], target: Finding | null, check: CheckKind): Plan {
  const cur = Array.from({ length: NPROC }, () => -1);
  let next = 0;
  const forkInc = new Map<Call, number>();
  const steps = calls.map((c, i): PlanStep => {
    if (!('p' in c)) return { act: 'A_COORD', slot: 0, inc: 0, into: 0, newInc: 0, modelEnd: 0 };
    const p = c.p % NPROC;
    if (c.op === 'exit') {
      cur[p] = -1;
      return { act: 'A_COORD', slot: p, inc: 0, into: 0, newInc: 0, modelEnd: 0 };
    }
    if (cur[p]! < 0) cur[p] = next++;
    const ret = transcript[i]?.ret ?? '';
    const modelEnd = ret.startsWith('exit(') ? 2 : killedIn(ret) ? 1 : 0;
    const st: PlanStep = { act: 'A_CALL', slot: p, inc: cur[p]!, into: 0, newInc: 0, modelEnd };
    if (c.op === 'fork' && c.into % NPROC !== p) {
      const q = c.into % NPROC;
      st.act = 'A_FORK';
      st.into = q;
      st.newInc = next++;
      forkInc.set(c, st.newInc);
      // a failed fork (the model's -ENOMEM) leaves the slot to a fresh process
      cur[q] = /^-/.test(ret) ? -1 : st.newInc;
    }
    if (modelEnd) cur[p] = -1;
    return st;
  });
  const last = calls[calls.length - 1];
  // the slot the message names (fuzzN.M): whose counter is wrong, whose page left the pinned one
  const named = (check === 'locked-vm' || target?.sig === 'dma-stale-page') && target ? /^fuzz(\d+)\./.exec(target.message) : null;
  const checkSlot = named ? Number(named[1]) % NPROC : last && 'p' in last ? last.p % NPROC : 0;
  if (cur[checkSlot]! < 0) cur[checkSlot] = next++;
  return { steps, nInc: Math.max(next, 1), forkInc, checkSlot, checkInc: cur[checkSlot]!, endCheck: check === 'locked-vm' && target?.sig === 'leak-locked-vm' };
}

/** Emit the C reproducer of a finding program. Throws EmitError for programs it cannot express. */
export function emitC(input: EmitInput): EmitResult {
  const { profile, program } = input;
  // a fork of P2 (uid 1000) into P0 or P1 gives the child root's credentials in the harness; a
  // process of uid 1000 cannot take them back (kernel/sys.c setuid, kernel/capability.c capset)
  const up = program.findIndex((c) => c.op === 'fork' && c.p % NPROC === 2 && c.into % NPROC !== 2);
  if (up >= 0) throw new EmitError(`call ${up} forks P2 (uid 1000) into P${(program[up] as { into: number }).into % NPROC}: a process of uid 1000 cannot take root's credentials, so no C program can reproduce it`);
  // the reference: replay in the TypeScript harness (a fresh System), call by call
  const { finding, harness: h } = runProgram(profile, program, { ignore: replayIgnore(input.sig, input.suppressed), transcript: true });
  const transcript: StepRecord[] = h.transcript;
  const sig = finding?.sig ?? null;
  // a program the model runs clean (e.g. a finding of rfc-v4 emitted for mainline) still gets the
  // check of the file's signature, which then prints NOT REPRODUCED where the kernel is right
  // (oops:exit is the end-of-run exit: its step is past the last call, as Harness.finish reports it)
  const target: Finding | null = finding ?? (input.sig ? { sig: input.sig, message: input.message ?? '', step: input.sig === 'oops:exit' ? program.length : program.length - 1 } : null);
  const check: CheckKind = target === null ? 'unchecked' : checkKind(target.sig);
  const step = target && target.step >= 0 && target.step < program.length ? target.step : program.length - 1;
  // an Oops of the end-of-run exit (Harness.finish: the exit-time release of the process's
  // files, signature oops:exit): the program makes every call, then exits, and that is the faulting step
  const atExit = check === 'oops' && target !== null && target.step >= program.length && program.length > 0;
  const calls = program.slice(0, step + 1);
  const caps = h.sys.profile.caps;
  const bit2 = caps.dmaMapBit2 === 'exec' ? 'VFIO_DMA_MAP_FLAG_EXEC' : caps.dmaMapBit2 === 'vaddr' ? 'VFIO_DMA_MAP_FLAG_VADDR' : '0x4 /* not a flag in this profile */';
  const plan = planProcesses(calls, transcript, target, check);
  const ctx: Ctx = { h, bit2, lines: [], forkInc: plan.forkInc };
  const bindVfioBind = caps.vfioPlatform && caps.bindMechanism === 'vfio_bind';

  const L: string[] = [];
  const targetSig = target?.sig ?? 'none';
  // ---- header comment
  L.push('/*');
  L.push(` * Reproducer of the fuzz finding "${targetSig}" on profile ${profile}`.replace(/\*\//g, '* /'));
  L.push(' * (generated by `vfio-arm-emu fuzz --replay FILE --emit-c`: tools/fuzz/emit-c.ts; docs/FUZZING.md).');
  if (input.source) L.push(` * From: ${input.source.replace(/\*\//g, '* /')}`);
  if (input.why) L.push(` * Known finding: ${input.why.replace(/\*\//g, '* /')}`);
  if (input.sig && sig === null) L.push(` * The model of ${profile} runs this program clean: the program checks for "${input.sig}" all the same (expect NOT REPRODUCED).`);
  else if (input.sig && sig !== input.sig) L.push(` * The file names "${input.sig}", but its program gives "${sig}" in the model: this program checks the latter.`);
  if (finding) L.push(` * The model's report: ${finding.message.replace(/\*\//g, '* /')}`);
  L.push(' *');
  L.push(' * Build: guest-tests/c/build.sh (arm-linux-gnueabihf-gcc -static). Run: ./repro [/dev/vfio/<group>]');
  L.push(` * (under the emulator, on the fuzzer's board: vfio-arm-emu run --cpu unicorn --elf repro --profile ${profile} --board ${FUZZ_BOARD}).`);
  L.push(' * Prints one verdict line: "REPRODUCED <sig>: ..." (exit 1), "NOT REPRODUCED <sig>: ..." (exit 0),');
  L.push(' * "UNCHECKED <sig>: ..." (exit 3: an invariant no user program can observe); exit 2: could not start.');
  L.push(' * main() makes no call: each call runs in a worker process, the process of the fuzz harness\'s slot');
  L.push(' * that makes it (P0 root with CAP_IPC_LOCK, P1 root without it, P2 uid 1000). A kernel Oops kills the');
  L.push(' * process that made the call (arch/arm/kernel/traps.c oops_end), and main() reports it; the Oops itself');
  L.push(' * is in the kernel log.');
  if (targetSig.startsWith('oops:bug:')) {
    L.push(' * A kernel BUG(): Linux kills the caller and goes on (tainted), so main() prints the verdict; the');
    L.push(' * emulator stops the machine after such a BUG (tools/system/system.ts), so there the run ends with');
    L.push(' * "the machine stopped the run: kernel BUG: ..." and the BUG report in the kernel log instead.');
  }
  L.push(' */');
  L.push('#define _GNU_SOURCE');
  L.push('#define _FILE_OFFSET_BITS 64');
  L.push('#include <linux/vfio.h>');
  L.push('/* the calls pass bad pointers and sizes on purpose */');
  L.push('#pragma GCC diagnostic ignored "-Wpragmas"\n#pragma GCC diagnostic ignored "-Wnonnull"\n#pragma GCC diagnostic ignored "-Wstringop-overflow"\n#pragma GCC diagnostic ignored "-Wstringop-overread"\n#pragma GCC diagnostic ignored "-Warray-bounds"');
  L.push('#include <errno.h>\n#include <fcntl.h>\n#include <poll.h>\n#include <signal.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <sched.h>\n#include <time.h>\n#include <sys/eventfd.h>\n#include <sys/ioctl.h>\n#include <sys/mman.h>\n#include <sys/resource.h>\n#include <sys/syscall.h>\n#include <sys/wait.h>\n#include <unistd.h>');
  L.push('');
  L.push('/* Constants of the 2014 RFC series "VFIO support for platform devices" that today\'s header');
  L.push(' * lacks or gives another meaning (bit 2 of the MAP_DMA flags is VFIO_DMA_MAP_FLAG_VADDR since v5.12). */');
  L.push('#ifndef VFIO_DMA_MAP_FLAG_EXEC\n#define VFIO_DMA_MAP_FLAG_EXEC (1 << 2) /* RFC patch 02: executable by the device */\n#endif');
  L.push('#ifndef VFIO_DMA_MAP_FLAG_VADDR\n#define VFIO_DMA_MAP_FLAG_VADDR (1 << 2)\n#endif');
  L.push('#ifndef VFIO_DEVICE_FLAGS_PLATFORM\n#define VFIO_DEVICE_FLAGS_PLATFORM (1 << 2) /* RFC patch 05: vfio-platform device */\n#endif');
  L.push('#ifndef VFIO_DMA_UNMAP_FLAG_ALL\n#define VFIO_DMA_UNMAP_FLAG_ALL (1 << 1)\n#endif');
  L.push('#ifndef VFIO_DMA_UNMAP_FLAG_VADDR\n#define VFIO_DMA_UNMAP_FLAG_VADDR (1 << 2)\n#endif');
  L.push('');
  L.push(`#define SIG ${cstr(targetSig)}`);
  L.push(`#define DEVICE ${cstr(DEVICE)}`);
  L.push(`#define PAGE ${PAGE}`);
  L.push(`static const char *group_path_default = ${cstr(`/dev/vfio/${h.group}`)}; /* the device's IOMMU group (argv[1] replaces it) */`);
  L.push('#define MAXFDS 256\n#define MAXMAPS 64');
  L.push(`#define NSLOTS ${NPROC} ${cmt('the harness\'s process slots: P0 root with CAP_IPC_LOCK, P1 root without it, P2 uid 1000')}`);
  L.push(`#define NINC ${plan.nInc} ${cmt('the processes that ever hold a slot: one command pipe each')}`);
  L.push('');
  L.push(RUNTIME_C);
  // ---- binding
  L.push('/* the administrator\'s binding, by sysfs writes (as the fuzz harness does): each device the harness');
  L.push(' * binds to VFIO, only when it exists and is not bound to the VFIO driver yet */');
  L.push('static void bind_device(const char *bus, const char *dev, const char *vfio)\n{\n\tchar p[300], name[256], *drv;');
  L.push('\tsnprintf(p, sizeof p, "/sys/bus/%s/devices/%s", bus, dev);');
  L.push('\tif (access(p, F_OK) != 0) return; /* not on this board */');
  L.push('\tdrv = sysfs_link(bus, dev, "driver", name, sizeof name) == 0 ? name : NULL;');
  L.push('\tif (drv && strcmp(drv, vfio) == 0) return;');
  if (bindVfioBind) {
    L.push('\t/* 2014 series (patch 04): unbind the current driver, then vfio-platform\'s vfio_bind file */');
    L.push('\tif (drv) { snprintf(p, sizeof p, "/sys/bus/platform/drivers/%s/unbind", drv); echo(p, dev); }');
    L.push('\techo("/sys/bus/platform/drivers/vfio-platform/vfio_bind", dev);');
  } else {
    L.push('\t/* mainline: driver_override, unbind, drivers_probe (Documentation/driver-api/vfio.rst; Documentation/ABI/testing/sysfs-bus-platform and sysfs-bus-amba: driver_override) */');
    L.push('\tsnprintf(p, sizeof p, "/sys/bus/%s/devices/%s/driver_override", bus, dev);');
    L.push('\techo(p, vfio);');
    L.push('\tif (drv) { snprintf(p, sizeof p, "/sys/bus/%s/drivers/%s/unbind", bus, drv); echo(p, dev); }');
    L.push('\tsnprintf(p, sizeof p, "/sys/bus/%s/drivers_probe", bus);');
    L.push('\techo(p, dev);');
  }
  L.push('}');
  L.push('');
  L.push('static void bind_devices(void)\n{');
  for (const d of h.devices) {
    const b = h.sys.kernel.driverCore.findDeviceOnAnyBus(d.name)?.bus.name ?? 'platform';
    L.push(`\tbind_device(${cstr(b)}, ${cstr(d.name)}, ${cstr(b === 'amba' ? 'vfio-amba' : 'vfio-platform')}); ${cmt(`IOMMU group ${d.group}`)}`);
  }
  // the harness's iommufd.allow_unsafe_interrupts (Harness set-up): VFIO_DEVICE_BIND_IOMMUFD is
  // -EPERM without it on this board (iommufd_device_bind: no isolated MSI)
  if (h.sys.iommufd) L.push('\techo("/sys/module/iommufd/parameters/allow_unsafe_interrupts", "1"); /* as the harness: BIND_IOMMUFD needs it here */');
  L.push('}');
  L.push('');
  // ---- check helpers for the signature
  L.push(checkHelpers(check, h, calls, target, transcript));
  // ---- the calls: a worker's (do_call) and the coordinator's (coord_call: run, exit)
  const doCall: string[] = ['/* the calls a worker makes, each printed with the model\'s result */', 'static long do_call(int i)\n{\n\tlong rc = 0;\n\tswitch (i) {'];
  const coordCall: string[] = ['/* the calls the coordinator makes: the passing of time, and a process\'s exit */', 'static void coord_call(int i)\n{\n\tlong rc = 0;\n\tswitch (i) {'];
  calls.forEach((c, i) => {
    const out = plan.steps[i]!.act === 'A_COORD' ? coordCall : doCall;
    out.push(`\t/* call ${i}: ${formatCall(c).replace(/\*\//g, '* /').replace(/\/\*/g, '/ *')} */`);
    out.push(`\tcase ${i}:`);
    out.push('\t{');
    callC(c, ctx, out);
    out.push('\t}');
    const exp = transcript[i] ? expectC(transcript[i]!.ret) : null;
    const model = transcript[i]?.ret ?? '?';
    out.push(`\t\tshow(${i}, rc, ${exp ? exp.cond : 1}, ${cstr(model.length > 120 ? model.slice(0, 117) + '...' : model)});`);
    out.push('\t\tbreak;');
  });
  for (const out of [doCall, coordCall]) out.push('\tdefault:\n\t\tbreak;\n\t}\n\t(void)rc;\n\treturn' + (out === doCall ? ' rc;' : ';') + '\n}\n');
  L.push(...doCall, ...coordCall);
  // ---- the plan and the verdict's parameters
  L.push('/* the plan: for each call, the slot whose process makes it and that process\'s number (its incarnation);');
  L.push(' * A_COORD: the coordinator makes it; A_FORK: the child is `new_inc` in slot `into`; model_end: the');
  L.push(' * model\'s process ended in the call (1 killed, 2 exited: the slot gets a fresh process after) */');
  L.push('enum { A_CALL, A_COORD, A_FORK };');
  L.push('static const struct plan { int8_t act, slot, inc, into, new_inc, model_end; } plan[] = {');
  plan.steps.forEach((p, i) => L.push(`\t{ ${p.act}, ${p.slot}, ${p.inc}, ${p.into}, ${p.newInc}, ${p.modelEnd} }, ${cmt(`call ${i}`)}`));
  if (plan.steps.length === 0) L.push('\t{ A_COORD, 0, 0, 0, 0, 0 }');
  L.push('};');
  L.push(`#define NSTEPS ${calls.length}`);
  L.push(`#define OOPS_AT ${check === 'oops' && !atExit ? step : -1} ${cmt('the call a kernel Oops kills its caller in, for an Oops finding')}`);
  L.push(`#define AT_EXIT ${atExit ? 1 : 0} ${cmt('an Oops of the end-of-run exit')}`);
  L.push(`#define END_CHECK ${plan.endCheck ? 1 : 0} ${cmt('the check after every process released what it holds')}`);
  L.push(`#define CHECK_SLOT ${plan.checkSlot} ${cmt('the slot whose process makes the check')}`);
  L.push(`#define CHECK_INC ${plan.checkInc}`);
  L.push(MAIN_C);
  return { c: L.join('\n') + '\n', sig, finding, check, transcript };
}

/** Emit the C reproducer of a finding (file or campaign report), naming the committed baseline's reason when the signature is known. */
export function emitFinding(f: { profile: string; sig: string; message?: string; program: readonly Call[]; suppressed?: readonly string[] }, source?: string): EmitResult {
  const why = matchBaseline(loadBaseline(), f.profile, [f.sig]).known.get(f.sig)?.why;
  return emitC({ profile: f.profile, program: f.program, sig: f.sig, source, why, message: f.message, suppressed: f.suppressed });
}
