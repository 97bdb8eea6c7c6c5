import { GuestTrap } from '../../../emulator/cpu/stub.js';

/** runs `f` (a user access through the model) and names the signal its GuestTrap raised; 'none' without one (test support) */
export function trap(f: () => void): string {
  try {
    f();
  } catch (e) {
    if (e instanceof GuestTrap) return e.signal;
    throw e;
  }
  return 'none';
}
