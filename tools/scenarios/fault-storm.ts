/**
 * fault-storm (docs/SCENARIOS.md): a user program that makes its VFIO-owned PL330 fault over
 * and over (a DMA load from an IOVA nobody mapped, restarted after each fault), then waits
 * for a DMA's completion interrupt.
 *
 * 2014 (capabilities smmuContextFaultMode 'stall', smmuUnhandledFaultReturn 'irq-none'):
 * every fault stalls in the SMMU until arm_smmu_context_fault writes RESUME_TERMINATE and
 * returns IRQ_NONE; after 100,000 takes of the context fault line with more than 99,900
 * unhandled, note_interrupt disables it ("irq N: nobody cared"). The next fault stalls and
 * nothing resumes it: the DMA never ends, the program blocks for its interrupt forever and
 * the machine goes idle; the run reports the hang (hang.ts). Mainline: faults terminate,
 * the handler returns IRQ_HANDLED, every iteration ends with the PL330's data_read_err.
 */
import { dbgInst0, dbgInst1, dmaGo, memToMemProgram } from '../../guest-tests/lib/pl330-prog.js';
import { Libc } from '../../guest-tests/lib/libc.js';
import { setIrqTrigger } from '../../guest-tests/lib/vfio.js';
import { parseProfile } from '../../kernel-model/profile.js';
import {
  MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE, VFIO_DEVICE_GET_REGION_INFO, VFIO_DMA_MAP_FLAG_EXEC,
  VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_SET_CONTAINER, VFIO_IOMMU_MAP_DMA, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU, timespec, vfio_iommu_type1_dma_map, vfio_region_info, type GuestProgram, type Sys, type SysCall,
} from '../../kernel-model/uapi/index.js';
import { pl330ProgramAbi, type Outcome } from './expected.js';
import { diagnoseHang } from './hang.js';
import { PL330_DEVICE } from './pl330.js';
import { registerScenario, type Scenario, type ScenarioOptions, type ScenarioResult } from './registry.js';
import { System } from '../system/system.js';
import { adminBind, finishResult, runThreads, splitLines } from './runner.js';

/** an IOVA nobody maps */
const UNMAPPED_IOVA = 0x0100_0000;
/** faulting DMAs: past note_interrupt's 100,000-take window */
export const FAULT_STORM_ITERATIONS = 100_050;
/** polls (one every POLL_NS) before the program stops polling and waits for the interrupt */
const POLLS = 50;
const POLL_NS = 4_000;
const CSR = (n: number): number => 0x100 + 8 * n;
const DBGSTATUS = 0xd00;
const DBGCMD = 0xd04;
const DBGINST0 = 0xd08;
const DBGINST1 = 0xd0c;

interface StormOptions {
  groupPath: string;
  abi: '2014' | 'mainline';
  iterations: number;
  report: (faulted: number) => void;
}

function* stormProgram(sys: Sys, o: StormOptions): GuestProgram {
  const libc = new Libc(sys);
  if ((yield* libc.init(64 * 1024)) < 0) return 1;
  const m = sys.mem;
  const container = yield* sys.open('/dev/vfio/vfio', O_RDWR);
  const group = yield* sys.open(o.groupPath, O_RDWR);
  const pfd = libc.malloc(4);
  m.write32(pfd, container);
  if ((yield* sys.ioctl(group, VFIO_GROUP_SET_CONTAINER, pfd)) !== 0 || (yield* sys.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)) !== 0) {
    yield* libc.puts('container set-up failed');
    return 1;
  }
  // one page for the DMA program and its destination, at IOVA 0
  const page = yield* libc.mmapAnon(4096);
  const map = libc.malloc(vfio_iommu_type1_dma_map.minsz);
  m.write32(map + vfio_iommu_type1_dma_map.argsz, vfio_iommu_type1_dma_map.minsz);
  m.write32(map + vfio_iommu_type1_dma_map.flags, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | (o.abi === '2014' ? VFIO_DMA_MAP_FLAG_EXEC : 0));
  libc.write64(map + vfio_iommu_type1_dma_map.vaddr, page >>> 0);
  libc.write64(map + vfio_iommu_type1_dma_map.iova, 0);
  libc.write64(map + vfio_iommu_type1_dma_map.size, 4096);
  if ((yield* sys.ioctl(container, VFIO_IOMMU_MAP_DMA, map)) !== 0) {
    yield* libc.puts('Could not map DMA memory');
    return 1;
  }
  const device = yield* sys.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, libc.cstring(PL330_DEVICE));
  const reg = libc.malloc(vfio_region_info.minsz);
  m.write32(reg, vfio_region_info.minsz);
  m.write32(reg + vfio_region_info.index, 0);
  if (device < 0 || (yield* sys.ioctl(device, VFIO_DEVICE_GET_REGION_INFO, reg)) !== 0) {
    yield* libc.puts('no device or region');
    return 1;
  }
  const base = yield* sys.mmap(0, libc.read64(reg + vfio_region_info.size), PROT_READ | PROT_WRITE, MAP_SHARED, device, libc.read64(reg + vfio_region_info.offset));
  if (base < 0) {
    yield* libc.puts('mmap failed');
    return 1;
  }
  const regAddr = (off: number): number => (base + off) >>> 0;
  // channel 0's completion interrupt (DMASEV 0) on a blocking eventfd
  const irqfd = yield* sys.eventfd(0, 0);
  if ((yield* setIrqTrigger(sys, libc, device, 0, irqfd)) !== 0) {
    yield* libc.puts('SET_IRQS failed');
    return 1;
  }
  // the DMA program: copy 256 bytes from the unmapped IOVA to IOVA 0x800, signal event 0
  const prog = memToMemProgram({ src: UNMAPPED_IOVA, dst: 0x800, size: 256, burstBytes: 16, burstLen: 16, event: 0 });
  m.writeBytes(page, Uint8Array.from(prog.bytes));
  const go = dmaGo(0, 0, true);
  const kill = [0x01];
  const ts = libc.malloc(timespec.size);
  m.write32(ts + timespec.tv_sec, 0);
  m.write32(ts + timespec.tv_nsec, POLL_NS);
  const tsShort = libc.malloc(timespec.size);
  m.write32(tsShort + timespec.tv_sec, 0);
  m.write32(tsShort + timespec.tv_nsec, 100);
  // an instruction through the debug interface, once it is idle (DBGSTATUS, TRM 3.4)
  const debug = function* (insn: readonly number[], thread: number | 'manager'): SysCall<void> {
    while ((m.read32(regAddr(DBGSTATUS)) & 1) !== 0) yield* sys.nanosleep(tsShort, 0);
    m.write32(regAddr(DBGINST0), dbgInst0(insn, thread));
    m.write32(regAddr(DBGINST1), dbgInst1(insn));
    m.write32(regAddr(DBGCMD), 0);
  };
  yield* libc.puts(`making the DMA fault ${o.iterations} times (load from IOVA 0x${UNMAPPED_IOVA.toString(16)})`);
  let faulted = 0;
  for (let i = 0; i < o.iterations; i++) {
    yield* debug(go, 'manager');
    let state = 0;
    for (let p = 0; p < POLLS; p++) {
      yield* sys.nanosleep(ts, 0);
      state = m.read32(regAddr(CSR(0))) & 0xf;
      if (state === 0xf || state === 0) break; // faulting, or stopped (completed)
    }
    if (state !== 0xf) {
      o.report(faulted);
      yield* libc.puts(`DMA ${i}: channel 0 state 0x${state.toString(16)} after ${POLLS} polls: waiting for its interrupt`);
      const buf = libc.malloc(8);
      yield* sys.read(irqfd, buf, 8);
      yield* libc.puts('interrupt');
      return 0;
    }
    faulted++;
    yield* debug(kill, 0);
  }
  o.report(faulted);
  yield* libc.puts(`${faulted} DMAs faulted and were killed`);
  return 0;
}

/** 2014 stall mode with IRQ_NONE for unhandled faults: the hang; otherwise every DMA faults */
export function expectedFaultStorm(caps: ReturnType<typeof parseProfile>['caps']): Outcome {
  return caps.smmuContextFaultMode === 'stall' && caps.smmuUnhandledFaultReturn === 'irq-none' ? 'hang:stalled-dma' : 'pass';
}

export function runFaultStorm(o: ScenarioOptions, iterations = FAULT_STORM_ITERATIONS): ScenarioResult & { faulted: number } {
  const profile = parseProfile(o.profile);
  // traced for the digest, events kept only on request (100,050 faults make millions of events)
  const sys = new System({ profile: o.profile, board: o.board, seed: o.seed, trace: { enabled: o.trace?.enabled ?? true, keep: o.trace?.keep ?? false }, accel: o.accel, onMachine: o.onMachine });
  const admin = adminBind(sys, PL330_DEVICE);
  const output: string[] = [...admin.output];
  let faulted = -1;
  const opts: StormOptions = { groupPath: admin.result?.groupPath ?? '/dev/vfio/0', abi: pl330ProgramAbi(profile), iterations, report: (n) => { faulted = n; } };
  const { proc, thread } = sys.spawn('fault-storm', (s) => stormProgram(s, opts), { stdio: true });
  const run = runThreads(sys, [thread]);
  output.push(...splitLines(proc.stdout));
  const hang = diagnoseHang(sys, run, [thread]);
  if (hang) output.push(`[machine hung: ${hang.message}]`);
  else if (run.reason === 'stopped' && run.detail) output.push(`[machine stopped: ${run.detail}]`);
  const exitStatus = thread.exit?.status ?? null;
  let outcome: Outcome;
  if (hang && hang.stalled.length > 0 && hang.disabledIrqs.length > 0) outcome = 'hang:stalled-dma';
  else if (exitStatus === 0 && faulted === iterations) outcome = 'pass';
  else if (exitStatus === null) outcome = 'timeout';
  else outcome = 'fail:exit-status';
  const res = finishResult(
    sys,
    { scenario: 'fault-storm', profile: profile.name, board: sys.machine.file, seed: o.seed, expected: expectedFaultStorm(profile.caps), outcome, output, exitStatus, device: PL330_DEVICE },
    run,
  );
  if (hang) res.faults.push({ t: run.now, source: 'machine', kind: 'hang', detail: hang.message });
  return { ...res, faulted };
}

const faultStorm: Scenario = {
  name: 'fault-storm',
  description: 'a program makes its PL330 fault 100,050 times: 2014 stall mode gets the SMMU fault line disabled ("nobody cared") and the next DMA hangs; mainline survives',
  profiles: ['rfc-v4', 'mainline'],
  accepts: [],
  // 100,050 DMA faults: about 15 s of host time per profile
  timeoutMs: 300_000,
  run: (o) => runFaultStorm(o),
};

registerScenario(faultStorm);
