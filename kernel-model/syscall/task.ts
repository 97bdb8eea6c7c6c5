import type { GuestThread, WaitQueue } from '../../emulator/cpu/cpu.js';
import type { AddressSpace } from '../process/mm.js';
import type { Process } from '../process/process.js';
import type { PollTable, Task } from '../vfs/file.js';
import type { TimeLeft } from './select-time.js';

/**
 * The kernel context of one thread, reused across its syscalls (no allocation per call):
 * the wait queues it sleeps on and the deadline of a restarted blocking syscall.
 */
export class ThreadTask implements Task, PollTable {
  readonly queues: WaitQueue[] = [];
  /** absolute deadline of the blocking syscall in progress (null: none) */
  deadline: number | null = null;
  /** true while a blocked syscall is being re-executed after a wake */
  restarting = false;
  /**
   * select / pselect6 / ppoll in progress: the timeout to write the time left into at its end
   * (select-time.ts), kept across its restarts; set at the call's first presentation, taken at
   * its end (or when a signal ends its sleep)
   */
  timeLeft: TimeLeft | null = null;
  /**
   * signal_pending(current) for the presentation of poll / select / nanosleep in progress (set by
   * the caller that models signals, kernel-model/exec; never by the stub CPU's programs): their
   * wait gives up after its scan instead of sleeping (wait.ts)
   */
  signalPending = false;
  constructor(
    readonly proc: Process,
    readonly thread: GuestThread | null,
  ) {}
  get mm(): AddressSpace {
    return this.proc.mm;
  }
  get canBlock(): boolean {
    return this.thread !== null;
  }
  sleepOn(wq: WaitQueue): void {
    if (this.thread === null) return;
    wq.add(this.thread);
    this.queues.push(wq);
  }
  wait(wq: WaitQueue): void {
    this.sleepOn(wq);
  }
  unqueue(): void {
    const qs = this.queues;
    if (qs.length === 0) return; // the common case: nothing queued (no length store per syscall)
    if (this.thread !== null) for (let i = 0; i < qs.length; i++) qs[i]!.remove(this.thread);
    qs.length = 0;
  }
  finish(): void {
    this.unqueue();
    this.deadline = null;
    this.restarting = false;
    this.signalPending = false;
  }
}
