/**
 * What a scenario needs from the board beyond what the device models check while the board
 * is assembled: enough RAM left after the kernel model's own reservation for the pages the
 * run will pin. Checked after boot, before any program runs, so a too-small board is a board
 * error naming its memory node (file:line:col, exit 2) rather than a guest process dying of
 * SIGBUS halfway through the administrator's set-up.
 */
import { getProp } from '../../emulator/dt/access.js';
import { scanPlatform } from '../../emulator/board/assemble.js';
import { DtsError } from '../../emulator/dt/types.js';
import { BoardError } from '../../emulator/machine.js';
import { KERNEL_RESERVED_BYTES } from '../../kernel-model/kernel.js';
import type { System } from '../system/system.js';

const PAGE = 4096;
/** the administrator's shell, the guest's libc heap, page tables, its DMA program page */
export const RUN_OVERHEAD_BYTES = 512 * 1024;

const mib = (b: number): string => (b < 1024 * 1024 ? `${Math.floor(b / 1024)} KiB` : `${(b / (1024 * 1024)).toFixed(b % (1024 * 1024) === 0 ? 0 : 1)} MiB`);

/** RAM a pl330 run with buffers of `size` bytes pins: source and destination, plus overhead */
export function ramNeededFor(size: number): number {
  return 2 * Math.ceil(size / PAGE) * PAGE + RUN_OVERHEAD_BYTES;
}

export function checkRamFor(sys: System, size: number, scenario: string): void {
  const free = sys.kernel.mm.pages.nrFree * PAGE;
  const need = ramNeededFor(size);
  if (free >= need) return;
  const mem = scanPlatform(sys.machine.tree).memory[0];
  const ramSize = sys.kernel.mm.pages.ramSize;
  const msg = `board RAM is too small for ${scenario} with ${size}-byte buffers: ${mib(free)} free after boot (the kernel model keeps ${mib(KERNEL_RESERVED_BYTES)}), the run needs ${mib(need)} (2 x the buffer size + ${mib(RUN_OVERHEAD_BYTES)}); give the memory node at least ${mib(Math.ceil((ramSize + need - free) / (1024 * 1024)) * 1024 * 1024)}`;
  const reg = mem === undefined ? null : getProp(mem, 'reg');
  if (reg !== null) throw new DtsError(reg.loc, msg);
  throw new BoardError(`${sys.machine.file}: ${msg}`);
}
