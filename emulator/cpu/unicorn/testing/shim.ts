import type { Prng } from '../../../prng.js';
import {
  CLOCK_REALTIME, decodeIovecs, decodeTimespec, encodeRlimit64, encodeTimespec, encodeUtsname, ERRNO, MAP_ANONYMOUS,
  MAP_FIXED, NR, readCString, RLIM_INFINITY, TIMER_ABSTIME, toReg,
} from '../abi.js';
import { UC_ARM_REG_C13_C0_3 } from '../native.js';
import { BLOCK, type SyscallBridge, type SyscallResult, type UnicornThread } from '../thread.js';
import type { TestProcess } from './process.js';

/**
 * A minimal Linux ARM EABI syscall layer for the backend's own tests: enough for a
 * statically linked glibc program to start, print, sleep and exit. The kernel model's
 * syscall layer replaces it (same SyscallBridge interface, same abi.ts translation).
 */
export const REALTIME_EPOCH_NS = 1_400_000_000 * 1e9; // May 2014, fixed: determinism

export class TestShim implements SyscallBridge {
  readonly stdout: number[] = [];
  readonly stderr: number[] = [];
  /** syscall numbers served with -ENOSYS, with counts (run summary) */
  readonly unknown = new Map<number, number>();
  readonly counts = new Map<number, number>();
  private sleeping = new Map<UnicornThread, number>();
  exitStatus: number | null = null;
  /** completed sleeps: virtual time of the call, its deadline, and when the thread resumed */
  readonly sleeps: { start: number; deadline: number; resumed: number }[] = [];
  private sleepStart = new Map<UnicornThread, number>();

  constructor(readonly proc: TestProcess, readonly prng: Prng, readonly pid = 100, readonly exe = '/bin/prog') {}

  get out(): string {
    return new TextDecoder().decode(Uint8Array.from(this.stdout));
  }

  syscall(t: UnicornThread, nr: number, a: Uint32Array): SyscallResult {
    this.counts.set(nr, (this.counts.get(nr) ?? 0) + 1);
    const e = t.engine;
    const E = ERRNO;
    const err = (n: number): number => toReg(-n);
    switch (nr) {
      case NR.exit:
      case NR.exit_group:
        this.exitStatus = a[0]! & 0xff;
        t.exit(a[0]!);
        return 0;
      case NR.write: {
        const fd = a[0]!;
        const len = a[2]!;
        if (fd !== 1 && fd !== 2) return err(E.EBADF);
        const buf = new Uint8Array(len);
        if (!e.read(a[1]!, buf)) return err(E.EFAULT);
        (fd === 1 ? this.stdout : this.stderr).push(...buf);
        return len;
      }
      case NR.writev: {
        const fd = a[0]!;
        if (fd !== 1 && fd !== 2) return err(E.EBADF);
        const cnt = a[2]!;
        if (cnt > 1024) return err(E.EINVAL);
        const iovb = new Uint8Array(cnt * 8);
        if (!e.read(a[1]!, iovb)) return err(E.EFAULT);
        let total = 0;
        for (const v of decodeIovecs(iovb, cnt)) {
          const buf = new Uint8Array(v.len);
          if (!e.read(v.base, buf)) return err(E.EFAULT);
          (fd === 1 ? this.stdout : this.stderr).push(...buf);
          total += v.len;
        }
        return total;
      }
      case NR.brk:
        return this.proc.setBrk(a[0]!);
      case NR.mmap2: {
        const [addr, len, prot, flags] = [a[0]!, a[1]!, a[2]!, a[3]!];
        if ((flags & MAP_ANONYMOUS) === 0) return err(E.ENODEV);
        if (len === 0) return err(E.EINVAL);
        const va = this.proc.mmapAnon(len, prot, (flags & MAP_FIXED) !== 0 ? addr : null);
        return va === null ? err(E.ENOMEM) : va;
      }
      case NR.munmap:
        this.proc.unmap(a[0]!, a[1]!);
        t.invalidateCode();
        return 0;
      case NR.mprotect:
        t.invalidateCode();
        return this.proc.protect(a[0]!, a[1]!, a[2]!) ? 0 : err(E.ENOMEM);
      case NR.madvise:
      case NR.rt_sigprocmask:
      case NR.rt_sigaction:
      case NR.set_robust_list:
      case NR.ARM_cacheflush:
        return 0;
      case NR.ARM_set_tls:
        e.setReg(UC_ARM_REG_C13_C0_3, a[0]!);
        return 0;
      case NR.set_tid_address:
      case NR.gettid:
        return t.tid;
      case NR.getpid:
        return this.pid;
      case NR.uname: {
        const ok = e.write(a[0]!, encodeUtsname({ sysname: 'Linux', nodename: 'vfio-arm-emu', release: '3.17.0', version: '#1 SMP', machine: 'armv7l', domainname: '(none)' }));
        return ok ? 0 : err(E.EFAULT);
      }
      case NR.getrandom: {
        const buf = new Uint8Array(a[1]!);
        this.prng.fill(buf);
        return e.write(a[0]!, buf) ? buf.length : err(E.EFAULT);
      }
      case NR.prlimit64: {
        if (a[3] !== 0) {
          const lim = a[1] === 3 /* RLIMIT_STACK */ ? encodeRlimit64(8n << 20n, RLIM_INFINITY) : encodeRlimit64(RLIM_INFINITY, RLIM_INFINITY);
          if (!e.write(a[3]!, lim)) return err(E.EFAULT);
        }
        return 0;
      }
      case NR.ugetrlimit: {
        const b = new Uint8Array(8);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, a[0] === 3 ? 8 << 20 : 0xffffffff, true);
        dv.setUint32(4, 0xffffffff, true);
        return e.write(a[1]!, b) ? 0 : err(E.EFAULT);
      }
      case NR.readlink:
      case NR.readlinkat: {
        const pathArg = nr === NR.readlink ? a[0]! : a[1]!;
        const buf = nr === NR.readlink ? a[1]! : a[2]!;
        const size = nr === NR.readlink ? a[2]! : a[3]!;
        const path = readCString(e, pathArg);
        if (path === null) return err(E.EFAULT);
        if (path !== '/proc/self/exe') return err(E.ENOENT);
        const b = new TextEncoder().encode(this.exe).subarray(0, size);
        return e.write(buf, b) ? b.length : err(E.EFAULT);
      }
      case NR.tgkill:
      case NR.kill: {
        const sig = nr === NR.tgkill ? a[2]! : a[1]!;
        if (sig === 0) return 0;
        // default actions only (the shim has no signal handlers): terminate
        t.exitSignal(sig);
        return 0;
      }
      case NR.ioctl:
        return err(E.ENOTTY);
      case NR.clock_gettime:
      case NR.clock_gettime64: {
        const now = t.nowNs() + (a[0] === CLOCK_REALTIME ? REALTIME_EPOCH_NS : 0);
        return e.write(a[1]!, encodeTimespec(now, nr === NR.clock_gettime64)) ? 0 : err(E.EFAULT);
      }
      case NR.nanosleep:
      case NR.clock_nanosleep:
      case NR.clock_nanosleep_time64: {
        // Blocking syscall: park the thread until the deadline; when it is re-presented after
        // the wake-up it completes with 0.
        const pending = this.sleeping.get(t);
        if (pending !== undefined) {
          if (t.nowNs() < pending) {
            t.currentCpu!.block(t, pending);
            return BLOCK;
          }
          this.sleeping.delete(t);
          this.sleeps.push({ start: this.sleepStart.get(t)!, deadline: pending, resumed: t.nowNs() });
          return 0;
        }
        const time64 = nr === NR.clock_nanosleep_time64;
        const reqPtr = nr === NR.nanosleep ? a[0]! : a[2]!;
        const abs = nr !== NR.nanosleep && (a[1]! & TIMER_ABSTIME) !== 0;
        const b = new Uint8Array(time64 ? 16 : 8);
        if (!e.read(reqPtr, b)) return err(E.EFAULT);
        const d = decodeTimespec(b, time64);
        if (d === null) return err(E.EINVAL);
        const clockOff = nr !== NR.nanosleep && a[0] === CLOCK_REALTIME ? REALTIME_EPOCH_NS : 0;
        const deadline = abs ? d - clockOff : t.nowNs() + d;
        this.sleeping.set(t, deadline);
        this.sleepStart.set(t, t.nowNs());
        t.currentCpu!.block(t, deadline);
        return BLOCK;
      }
      case NR.rseq:
      case NR.statx:
      case NR.fstat64:
      case NR.fstatat64:
      default:
        if (nr !== NR.rseq && nr !== NR.statx && nr !== NR.fstat64 && nr !== NR.fstatat64) this.unknown.set(nr, (this.unknown.get(nr) ?? 0) + 1);
        return err(E.ENOSYS);
    }
  }
}
