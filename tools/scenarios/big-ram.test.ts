import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_BOARD, loadBoardSource } from '../../emulator/machine.js';
import { runPl330 } from './pl330.js';

/**
 * The default board with 4 GiB of RAM at 0x80000000 (up to 0x1_7fff_ffff: LPAE physical
 * addresses above 4 GiB), written with two address and two size cells at the root: every
 * root-level `reg` pair <base size> becomes <0 base 0 size>, the memory node <0 0x80000000 1 0>.
 */
function fourGiBBoard(): string {
  const src = loadBoardSource(DEFAULT_BOARD).text;
  const root = src.replace(/^(\t#address-cells = )<1>;\n(\t#size-cells = )<1>;/m, '$1<2>;\n$2<2>;');
  expect(root).not.toBe(src);
  // root children's reg (two tabs deep, possibly continued on the next lines)
  const out = root.replace(/^\t\treg = [^;]*;/gm, (stmt) => {
    if (/0x80000000 0x[0-9a-f]+>/.test(stmt) && !/0x80000000 0x1000>/.test(stmt)) return '\t\treg = <0x0 0x80000000 0x1 0x00000000>;';
    return stmt.replace(/<(0x[0-9a-f]+) (0x[0-9a-f]+)>/g, '<0x0 $1 0x0 $2>');
  });
  expect(out).toContain('<0x0 0x80000000 0x1 0x00000000>');
  return out;
}

describe('a board with 4 GiB of RAM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-arm-emu-4g-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('boots and runs pl330-vfio-test with the outcome and virtual time of the default board; untouched RAM costs nothing', () => {
    const file = join(dir, 'vexpress-vfio-4g.dts');
    writeFileSync(file, fourGiBBoard());
    const big = runPl330({ profile: 'rfc-v4', board: file, seed: 1 });
    const ref = runPl330({ profile: 'rfc-v4', board: DEFAULT_BOARD, seed: 1 });
    expect(big.passed).toBe(true);
    expect(big.outcome).toBe(ref.outcome);
    expect(big.virtualTimeNs).toBe(ref.virtualTimeNs);
    expect(big.dmaBytes).toBe(ref.dmaBytes);
    const ram = big.system.machine.ram;
    expect(ram.length).toBe(1);
    expect(ram[0]!.base).toBe(0x80000000);
    expect(ram[0]!.size).toBe(2 ** 32);
    expect(big.system.kernel.mm.pages.nrPages).toBe(2 ** 20);
    // the top of RAM, above 4 GiB, is RAM (reads zeros, takes a write)
    const bus = big.system.machine.bus;
    expect(bus.read(0x17ffffff0, 4, 0)).toBe(0);
    expect(bus.write(0x17ffffff0, 4, 0x1234, 0)).toBe(0);
    expect(bus.read(0x17ffffff0, 4, 0)).toBe(0x1234);
    // a few MiB touched, not gigabytes; per-page records only for the pages in use
    expect(ram[0]!.bytesAllocated).toBeLessThan(16 * 1024 * 1024);
    expect(big.system.kernel.mm.pages.recordPages).toBeLessThan(2 ** 14);
  });
});
