/**
 * dev_err_ratelimited's state (include/linux/ratelimit.h, lib/ratelimit.c ___ratelimit of
 * Linux 3.14): per call site DEFAULT_RATELIMIT_INTERVAL (5 * HZ) and DEFAULT_RATELIMIT_BURST
 * (10). The first call of an interval starts it (begin = jiffies); up to `burst` messages
 * print in it, the others are counted as missed; the first call after the interval has
 * passed prints "<func>: N callbacks suppressed" (KERN_WARNING) when some were missed and
 * starts a new interval. Used by arm_smmu_context_fault's "Unhandled context fault".
 *
 * The reset differs: 3.14 sets rs->begin = 0, so the call that ends an interval is counted in
 * no interval and the next call (`if (!rs->begin) rs->begin = jiffies`) starts the new one;
 * mainline (v6.12 lib/ratelimit.c) sets rs->begin = jiffies at once (`beginAtReset`).
 */
import type { KernelLog } from '../base/klog.js';
import { HZ, jiffiesAt } from '../irq/spurious.js';

export class Ratelimit {
  private begin = 0;
  private started = false;
  private printed = 0;
  private missed = 0;

  constructor(
    private readonly func: string,
    /** 'zero' (3.14: begin = 0, the next call starts the interval) or 'jiffies' (mainline) */
    private readonly beginAtReset: 'zero' | 'jiffies' = 'jiffies',
    private readonly interval = 5 * HZ,
    private readonly burst = 10,
  ) {}

  /** ___ratelimit: true when the message may print now */
  allow(log: KernelLog, nowNs: number): boolean {
    const j = jiffiesAt(nowNs);
    if (!this.started) {
      this.begin = j;
      this.started = true;
    }
    // time_is_before_jiffies(begin + interval)
    if (j > this.begin + this.interval) {
      if (this.missed > 0) log.warn('', `${this.func}: ${this.missed} callbacks suppressed`);
      this.started = this.beginAtReset === 'jiffies';
      this.begin = j;
      this.printed = 0;
      this.missed = 0;
    }
    if (this.printed < this.burst) {
      this.printed++;
      return true;
    }
    this.missed++;
    return false;
  }
}
