// Host-side measurement for fuzz --jobs (tools/fuzz/worker.ts, cli.ts) and the fuzz-jobs benchmark.
import { readFileSync } from 'node:fs';

/**
 * CPU time of the calling thread in ms (Linux: /proc/thread-self/stat utime + stime, in
 * clock ticks of 10 ms), or null elsewhere. process.cpuUsage() counts every thread of the
 * process, so it cannot tell one worker's CPU from another's. Host-side measurement only.
 */
export function threadCpuMs(): number | null {
  try {
    const s = readFileSync('/proc/thread-self/stat', 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 of proc(5) are utime and stime; f[0] is field 3 (state)
    const ticks = Number(f[11]) + Number(f[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}
