export * from './constants.js';
export * from './structs.js';
export type * from './sys.js';
export { PREEMPT, GuestTrap, type GuestProgram } from '../../emulator/cpu/stub.js';
export * from './iommufd.js';
