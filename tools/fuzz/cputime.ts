// Host-side measurement for fuzz --jobs (tools/fuzz/worker.ts, cli.ts) and the fuzz-jobs benchmark.
import { readFileSync } from 'node:fs';

/**
 * Two clock-tick fields of a proc(5) stat file summed, in ms (ticks of 10 ms), or null where
 * the file cannot be read (not Linux). `first` is the proc(5) field number (14 utime, 16 cutime).
 */
function statTicksMs(path: string, first: number): number | null {
  try {
    const s = readFileSync(path, 'latin1');
    // the fields after the command name, which may hold spaces: f[0] is field 3 (state)
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[first - 3]) + Number(f[first - 2]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

/**
 * CPU time of the calling thread in ms (Linux: /proc/thread-self/stat utime + stime), or null
 * elsewhere. process.cpuUsage() counts every thread of the process, so it cannot tell one
 * worker's CPU from another's. Host-side measurement only.
 */
export function threadCpuMs(): number | null {
  return statTicksMs('/proc/thread-self/stat', 14);
}

/**
 * CPU time (ms) of this process's finished and waited-for descendants (proc(5) fields 16-17,
 * cutime + cstime: a child's own children count once it waited for them, as the fuzz CLI's
 * relay does for its jobs), or null elsewhere. Host-side measurement only.
 */
export function childrenCpuMs(): number | null {
  return statTicksMs('/proc/self/stat', 16);
}
