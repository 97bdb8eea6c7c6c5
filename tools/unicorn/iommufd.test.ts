/**
 * Issue 23: the C port of the cdev + iommufd program (guest-tests/c/pl330-vfio-test-iommufd.c)
 * on the Unicorn backend under mainline: one interrupt, equal buffers, the TypeScript
 * scenario's lines (pl330-vfio-test-iommufd), every VFIO/iommufd ioctl successful.
 */
import { describe, expect, it } from 'vitest';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runPl330Iommufd } from '../scenarios/cdev.js';
import { runPl330IommufdUnicorn } from './run.js';

const skip = shouldSkipUnicornTests();
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);
/** the region mmap's address depends on the process layout */
const normalise = (ls: string[]): string[] => ls.map((l) => l.replace(/^( {2}- Successful MMAP to address )0x[0-9a-f]+$/, '$1<addr>'));

describe.skipIf(skip)('C pl330-vfio-test-iommufd on the Unicorn backend', () => {
  it('passes under mainline: the cdev found in sysfs, bound, attached to an IOAS, one interrupt, destination equals source', () => {
    const r = runPl330IommufdUnicorn({ profile: 'mainline', keepTrace: true });
    expect(r.exitStatus).toBe(0);
    expect(r.interrupts).toBe(1);
    expect(r.passed).toBe(true);
    expect(r.bind?.transcript).toEqual([
      'echo vfio-amba > /sys/bus/amba/devices/2c0a0000.dma/driver_override: ok',
      'echo 2c0a0000.dma > /sys/bus/amba/drivers/dma-pl330/unbind: ok',
      'echo 2c0a0000.dma > /sys/bus/amba/drivers_probe: ok',
      'echo 1 > /sys/module/iommufd/parameters/allow_unsafe_interrupts: ok',
    ]);
    const c = lines(r.stdout);
    expect(c[0]).toBe('=== VFIO device /dev/vfio/devices/vfio0: fd 4, devid 1, IOAS 2, HWPT 3 ===');
    const src = c.at(-2)!.split(': ')[1];
    expect(c.at(-1)).toBe(`destination value: ${src}`);
    // the TypeScript program prints the same lines (its output starts after the admin transcript)
    const ts = runPl330Iommufd({ profile: 'mainline', board: 'vexpress-vfio', seed: 1, name: 'pl330-vfio-test-iommufd', expected: 'pass' });
    expect(normalise(c)).toEqual(normalise(ts.output.filter((l) => !l.startsWith('# '))));
    // every ioctl succeeded: VFIO (';' 0x3b, nr < 0x80) and iommufd (nr >= 0x80)
    const io: Array<{ req: number; ret: number }> = [];
    for (const line of r.traceJsonLines!().split('\n')) {
      if (!line.includes('"syscall"')) continue;
      const e = JSON.parse(line) as { f?: Record<string, unknown> };
      const f = e.f ?? (e as Record<string, unknown>);
      if (Number(f['nr']) !== 54 || typeof f['ret'] !== 'number' || ((Number(f['a1']) >>> 8) & 0xff) !== 0x3b) continue;
      io.push({ req: Number(f['a1']) >>> 0, ret: f['ret'] });
    }
    expect(io.filter((x) => x.ret < 0)).toEqual([]);
    // BIND_IOMMUFD, IOAS_ALLOC, ATTACH_IOMMUFD_PT, three IOAS_MAPs
    expect(io.slice(0, 6).map((x) => x.req)).toEqual([0x3b76, 0x3b81, 0x3b77, 0x3b85, 0x3b85, 0x3b85]);
    expect(r.unknownSyscalls).toEqual({});
  });
});
